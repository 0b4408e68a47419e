#!/usr/bin/env bash
# Translation catalogs: extract messages, update the zh/en catalogs, compile them to .mo.
#   scripts/i18n.sh extract   # code and templates → translations/messages.pot
#   scripts/i18n.sh update    # merge the .pot into translations/{zh,en} (keeps translations)
#   scripts/i18n.sh compile   # .po → .mo (the .mo files are git-ignored: run after checkout)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYBABEL="$ROOT/.venv/bin/pybabel"
[ -x "$PYBABEL" ] || PYBABEL="$(command -v pybabel)"
POT="${I18N_POT:-translations/messages.pot}"  # I18N_POT: extract elsewhere (the tests do)
LOCALES=(zh en)

extract() {
    mkdir -p "$(dirname "$POT")"
    # Scan the repo root; babel.cfg limits extraction to app/views/models/jobs/reports, and
    # --ignore-dirs keeps pybabel out of .venv (and other dot dirs), caches, var/ and tests/.
    "$PYBABEL" extract -F babel.cfg -k _l -k N_ -k lazy_gettext -k gettext -k _ \
        --ignore-dirs=".* ._ __pycache__ node_modules var tests" \
        --project=yingshang110 --sort-by-file --no-wrap -o "$POT" .
}

update() {
    [ -f "$POT" ] || extract
    for locale in "${LOCALES[@]}"; do
        local po="translations/$locale/LC_MESSAGES/messages.po"
        if [ -f "$po" ]; then
            "$PYBABEL" update -i "$POT" -d translations -l "$locale" --no-fuzzy-matching \
                --ignore-obsolete --no-wrap
        else
            "$PYBABEL" init -i "$POT" -d translations -l "$locale" --no-wrap
        fi
    done
}

compile() {
    # --use-fuzzy is deliberately absent; every catalog present is compiled.
    "$PYBABEL" compile -d translations -D messages --statistics
}

case "${1:-}" in
    extract) extract ;;
    update) update ;;
    compile) compile ;;
    all) extract; update; compile ;;
    *) echo "usage: $0 {extract|update|compile|all}" >&2; exit 2 ;;
esac
