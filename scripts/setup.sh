#!/usr/bin/env bash
# Install everything the platform needs on a fresh Debian machine: system packages, the
# Python virtualenv with pinned packages, and the compiled translations. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
# PDF reports (reports/): WeasyPrint's Pango, fontconfig's fc-match (font lookup), the fonts the
# templates embed (宋体-like AR PL SungtiL GB, 黑体-like WenQuanYi Micro Hei, Liberation Serif for
# Latin and digits, DejaVu Sans Mono) and poppler-utils (pdffonts, pdftotext, pdfinfo) for the tests;
# chromium for the browser tests (tests/browser, driven by Playwright without a browser download).
# ffmpeg removes the location and other tags from the recordings and videos staff open (app/scrub.py);
# exiftool is the tests' independent reader of hidden data in every kind of file.
# Official documents (GB/T 9704): Noto Serif CJK SC Bold stands in for 小标宋 (fonts-noto-cjk); the
# 仿宋, 楷体 and 黑体 faces are the Fandol fonts, taken below from texlive-lang-chinese.
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-arphic-gbsn00lp fonts-wqy-microhei \
           fonts-liberation fonts-dejavu-core fonts-noto-cjk poppler-utils chromium ffmpeg \
           libimage-exiftool-perl; do
  # "install ok installed", not just known to dpkg (a removed package keeps "config-files")
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# FandolFang (a real simplified-Chinese 仿宋), FandolKai and FandolHei ship only inside Debian's
# texlive-lang-chinese, which would pull in all of TeX Live: the package is downloaded and just
# these font files are unpacked into /usr/local/share/fonts/fandol (GPL-3 with the font exception).
fandol=/usr/local/share/fonts/fandol
if [ ! -f "$fandol/FandolFang-Regular.otf" ]; then
  echo "installing the Fandol fonts from texlive-lang-chinese"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq texlive-lang-chinese 2>/dev/null \
     || { apt-get update -qq && apt-get download -qq texlive-lang-chinese; })
  mkdir -p "$fandol"
  dpkg-deb --fsys-tarfile "$tmp"/texlive-lang-chinese_*.deb \
    | tar -x -C "$tmp" --wildcards './usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/Fandol*.otf'
  cp "$tmp"/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/Fandol{Fang-Regular,Kai-Regular,Hei-Regular,Hei-Bold}.otf "$fandol/"
  rm -rf "$tmp"
  fc-cache -f "$fandol" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements-$(cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements-dev.txt
  rm -f .venv/.requirements-* && touch "$stamp"
fi
bash scripts/i18n.sh compile >/dev/null
