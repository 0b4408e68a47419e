"""Render a Jinja2 template from ``reports/templates/`` to PDF bytes with WeasyPrint.

Usable anywhere (RQ jobs, scripts, tests): a standalone Jinja2 environment, no Flask request or
application context. Templates receive plain data (dicts, dataclasses, strings), never ORM objects.

Fonts: WeasyPrint renders boxes (and only logs a ``.notdef`` warning) for text no font covers, so the
Chinese faces are looked up at run time (fontconfig, then the Debian paths) and embedded through
``@font-face`` with their absolute file paths; :class:`FontsMissing` is raised rather than printing
boxes. The faces come from Debian packages that ``scripts/setup.sh`` installs:

* body, 宋体-like serif: AR PL SungtiL GB (``fonts-arphic-gbsn00lp``, GB2312 coverage; Pango falls
  back per character to WenQuanYi for anything rarer);
* headings, 黑体-like sans: WenQuanYi Micro Hei (``fonts-wqy-microhei``, GBK and more);
* Latin letters and digits in body text: Liberation Serif (``fonts-liberation``, Times metrics, as
  Chinese official documents set them; the GB font's own Latin is fixed half-width);
* codes: DejaVu Sans Mono (``fonts-dejavu-core``).

Official documents (GB/T 9704: the notices) use four more roles, each a CSS custom property that
the stylesheets use as ``font-family: var(--fang)`` (a family list ending in the bundled face, so
a character the first face lacks still falls back):

* ``--xbs`` 小标宋 (masthead, title): Noto Serif CJK SC Bold (``fonts-noto-cjk``), always set with
  ``font-weight: 700``. It lives in a collection (``NotoSerifCJK-Bold.ttc``: JP, KR, SC, TC, HK)
  and an ``@font-face`` on a ``.ttc`` embeds its first face, the Japanese one (measured: the PDF's
  font program was ``NotoSerifCJKjp-Bold`` and Japanese glyph forms showed outside ``lang=zh``),
  so this face is named by its fontconfig family instead, which selects the SC face
  (``NotoSerifCJKsc-Bold``, embedded as ``Noto-Serif-CJK-SC-Bold``);
* ``--fang`` 仿宋 (body), ``--kai`` 楷体 (second-level headings), ``--hei`` 黑体 (first-level
  headings): FandolFang, FandolKai and FandolHei (taken from ``texlive-lang-chinese`` into
  ``/usr/local/share/fonts/fandol`` by ``scripts/setup.sh``).

The office fonts folder (``REPORT_FONTS_DIR``, given to :func:`set_office_fonts_dir` by the app
factory, or per render as ``fonts_dir``) is where an office puts its licensed faces (方正小标宋简体,
仿宋_GB2312, 楷体_GB2312, 黑体/SimHei). Every ``.ttf``/``.otf``/``.ttc`` there is read with
fontTools; a face whose family names contain 小标宋/XiaoBiaoSong/XBS, 仿宋/FangSong, 楷体/KaiTi or
黑体/SimHei takes that role instead of the bundled face (the first such file by name wins), under
its own family name, so the PDF's font list shows which face was used (:func:`role_faces`). A
collection's matching face that is not its first is copied out of it into a per-process folder
first (for the reason above).

Fetching: the URL fetcher (:func:`make_url_fetcher`, :func:`check_url`) loads only ``data:`` URIs
and files inside ``reports/static/``, the chosen fonts' directories or the office fonts folder;
any other ``file:`` URL and every network URL raise :class:`FetchRefused` (WeasyPrint then leaves
the resource out and logs a warning; nothing is fetched).

Timing (2 cores): a one-page receipt renders in ~0.12 s warm, ~0.6 s for the first render in a
process (font lookup, WeasyPrint start-up).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
BASE_CSS = TEMPLATES_DIR / "base.css"


class FontsMissing(RuntimeError):
    """A Chinese font the reports need is not installed (run ``scripts/setup.sh``)."""


class FetchRefused(ValueError):
    """A report tried to load a resource from outside the allowed places."""


@dataclass(frozen=True)
class FontFace:
    """One face the stylesheet may use: the CSS family name and where it is installed."""

    family: str  # fontconfig family name; also the @font-face name, so PDFs embed it by this name
    role: str  # "serif", "sans", "latin", "mono", or an official role "xbs", "fang", "kai", "hei"
    package: str  # the Debian package that ships it
    debian_paths: tuple[str, ...]  # where that package puts it (used when fc-match is unavailable)
    weight: int = 400  # the CSS font-weight the stylesheets ask it with
    # A face of a collection (.ttc) that is not its first: used by its fontconfig family name, no
    # @font-face (that would embed the collection's first face).
    by_family: bool = False
    style: str = ""  # a fontconfig style to ask for ("Regular": FandolHei-Bold claims weight 400 too)

    @property
    def fc_pattern(self) -> str:
        wanted = [f"weight={_FC_WEIGHTS[self.weight]}"] if self.weight != 400 else []
        wanted += [f"style={self.style}"] if self.style else []
        return ":".join([self.family, *wanted])


_FC_WEIGHTS = {400: 80, 700: 200}  # CSS font-weight -> fontconfig weight


FACES = (
    FontFace(
        "AR PL SungtiL GB",
        "serif",
        "fonts-arphic-gbsn00lp",
        ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",),
    ),
    FontFace(
        "WenQuanYi Micro Hei",
        "sans",
        "fonts-wqy-microhei",
        ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",),
    ),
    FontFace(
        "Liberation Serif",
        "latin",
        "fonts-liberation",
        ("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",),
    ),
    FontFace(
        "DejaVu Sans Mono",
        "mono",
        "fonts-dejavu-core",
        ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",),
    ),
    FontFace(
        "Noto Serif CJK SC",
        "xbs",
        "fonts-noto-cjk",
        ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",),
        weight=700,
        by_family=True,
    ),
    *(
        FontFace(
            f"Fandol{name}",
            role,
            "texlive-lang-chinese (scripts/setup.sh copies it)",
            (
                f"/usr/local/share/fonts/fandol/Fandol{name}-Regular.otf",
                f"/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/Fandol{name}-Regular.otf",
            ),
            style="Regular",
        )
        for name, role in (("Fang", "fang"), ("Kai", "kai"), ("Hei", "hei"))
    ),
)

# The official-document roles (GB/T 9704), what an office's own face for each is called (its family
# names contain one of these, case aside), and the bundled faces a role falls back to.
OFFICIAL_ROLES = {
    "xbs": ("小标宋", "xiaobiaosong", "xbs"),
    "fang": ("仿宋", "fangsong"),
    "kai": ("楷体", "kaiti"),
    "hei": ("黑体", "simhei"),
}
_FALLBACKS = {
    "xbs": ("Noto Serif CJK SC", "AR PL SungtiL GB", "WenQuanYi Micro Hei"),
    "fang": ("FandolFang", "AR PL SungtiL GB", "WenQuanYi Micro Hei"),
    "kai": ("FandolKai", "FandolFang", "AR PL SungtiL GB", "WenQuanYi Micro Hei"),
    "hei": ("FandolHei", "WenQuanYi Micro Hei"),
}
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")

_log = logging.getLogger(__name__)


def _fc_match(pattern: str) -> Path | None:
    """The face of ``pattern`` ("Family", regular, or "Family:weight=200") through fontconfig, or
    None (fc-match never fails: it falls back to another family, so the family it answers with is
    checked)."""
    if shutil.which("fc-match") is None:
        return None
    family, _, wanted = pattern.partition(":")
    try:
        out = subprocess.run(
            ["fc-match", "--format", "%{family}\t%{file}", f"{family}:{wanted or 'weight=80'}:slant=0"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    families, _, file = out.partition("\t")
    if family.casefold() not in {name.strip().casefold() for name in families.split(",")}:
        return None
    path = Path(file)
    return path if path.is_file() else None


@functools.cache
def font_files() -> dict[str, Path]:
    """Map each role ("serif", "sans", "latin", "mono") to its resolved font file.

    Raises :class:`FontsMissing` when a face is not installed. Cached for the process."""
    found, missing = {}, []
    for face in FACES:
        path = _fc_match(face.fc_pattern) or next(
            (Path(p) for p in face.debian_paths if Path(p).is_file()), None
        )
        if path is None:
            missing.append(face)
        else:
            found[face.role] = path.resolve()
    if missing:
        raise FontsMissing(
            "report fonts not installed: "
            + ", ".join(f"{face.family} (Debian package {face.package})" for face in missing)
            + "; run scripts/setup.sh"
        )
    return found


# --- the office fonts folder ------------------------------------------------------------------------

_office_fonts_dir: Path | None = None


def set_office_fonts_dir(folder: str | os.PathLike | None) -> None:
    """Where offices put their licensed faces (config ``REPORT_FONTS_DIR``; the app factory calls
    this). None: bundled faces only. A folder that does not exist yet simply holds no face."""
    global _office_fonts_dir
    _office_fonts_dir = Path(folder) if folder else None


@dataclass(frozen=True)
class RoleFace:
    """The face a document role is set in: its family name (the PDF embeds it under this name),
    the file loaded, and whether it is the office's own (from the fonts folder) or bundled."""

    role: str
    family: str
    path: Path
    office: bool
    weight: int = 400


def _css_string(text: str) -> str:
    """``text`` as a CSS string: quotes and backslashes escaped, control characters dropped (a
    family name comes from a file someone dropped in a folder)."""
    text = "".join(ch for ch in text if ch.isprintable())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _safe_family(name: str) -> str:
    """A family name fit to name the face in the stylesheet and in the PDF: WeasyPrint writes it
    into the PDF's font name unescaped, where a delimiter ("(", "/", "{", "#"…) corrupts the file
    (measured), so anything but letters, digits, spaces, "_", "-" and "." becomes "_"."""
    return "".join(ch if ch.isalnum() or ch in " _-." else "_" for ch in name).strip()


@functools.lru_cache(maxsize=256)
def _font_names(path: str, mtime_ns: int, size: int) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """(face index, preferred family name, all family names) of each face of a font file; ()
    when fontTools cannot read it. Cached by the file's modification time and size."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if Path(path).suffix.lower() == ".ttc":
            fonts = TTCollection(path, lazy=True).fonts
        else:
            fonts = [TTFont(path, lazy=True)]
        faces = []
        for index, font in enumerate(fonts):
            records = [r for r in font["name"].names if r.nameID in (1, 4, 16)]
            names = []
            for record in records:
                try:
                    names.append(record.toUnicode().strip())
                except UnicodeDecodeError:
                    continue
            english = [
                r.toUnicode().strip()
                for r in records
                if r.nameID in (16, 1) and r.platformID == 3 and r.langID == 0x409
            ]
            family = _safe_family((english or [n for n in names if n] or [""])[0])
            faces.append((index, family, tuple(dict.fromkeys(n for n in names if n))))
        return tuple(faces)
    except Exception as error:  # a damaged or unsupported file is left out, not fatal
        _log.warning("office font %s cannot be read: %s", path, error)
        return ()


def _role_of(names: tuple[str, ...]) -> str | None:
    for role, needles in OFFICIAL_ROLES.items():
        if any(needle in name.casefold() for name in names for needle in needles):
            return role
    return None


@functools.cache
def _extract_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ys-report-fonts-"))


def _single_face(source: Path, index: int) -> Path:
    """A collection's face ``index`` as a font file of its own (copied once per process)."""
    if index == 0:
        return source
    from fontTools.ttLib import TTFont

    stat = source.stat()
    key = hashlib.sha256(f"{source}\0{stat.st_mtime_ns}\0{stat.st_size}\0{index}".encode()).hexdigest()[:24]
    font = TTFont(str(source), fontNumber=index, lazy=True)
    target = _extract_dir() / f"{key}{'.otf' if 'CFF ' in font else '.ttf'}"
    if not target.is_file():
        font.save(str(target))
    return target


def _office_folder(fonts_dir) -> Path | None:
    folder = Path(fonts_dir) if fonts_dir else _office_fonts_dir
    return folder.resolve() if folder is not None and folder.is_dir() else None


def office_faces(fonts_dir: str | os.PathLike | None = None) -> dict[str, RoleFace]:
    """The office's own faces in the fonts folder, by the role their family names give them (the
    first file by name wins a role). Read afresh at each render: an office may add a file any time."""
    folder = _office_folder(fonts_dir)
    if folder is None:
        return {}
    found: dict[str, RoleFace] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        path = entry.resolve()
        if entry.suffix.lower() not in FONT_SUFFIXES or not path.is_file() or not path.is_relative_to(folder):
            continue
        stat = path.stat()
        for index, family, names in _font_names(str(path), stat.st_mtime_ns, stat.st_size):
            role = _role_of(names)
            if role and role not in found and family:
                found[role] = RoleFace(
                    role, family, _single_face(path, index), office=True, weight=700 if role == "xbs" else 400
                )
    return found


def role_faces(fonts_dir: str | os.PathLike | None = None) -> dict[str, RoleFace]:
    """The face each official role ("xbs", "fang", "kai", "hei") is set in: the office's own
    when its fonts folder has one, else the bundled face."""
    files = font_files()
    bundled = {
        face.role: RoleFace(face.role, face.family, files[face.role], office=False, weight=face.weight)
        for face in FACES
        if face.role in OFFICIAL_ROLES
    }
    return {**bundled, **office_faces(fonts_dir)}


def font_face_css(fonts_dir: str | os.PathLike | None = None) -> str:
    """``@font-face`` rules pointing at the installed files (absolute ``file:`` URLs) and the
    official roles' custom properties (``--xbs``, ``--fang``, ``--kai``, ``--hei``)."""
    files = font_files()
    rules = []
    for face in FACES:
        if face.by_family:
            continue
        url = files[face.role].as_uri()
        rules.append(f'@font-face {{ font-family: "{face.family}"; src: url("{url}"); }}')
    roles = role_faces(fonts_dir)
    for face in roles.values():
        if face.office:
            rules.append(
                f"@font-face {{ font-family: {_css_string(face.family)}; "
                f'src: url("{face.path.as_uri()}"); font-weight: {face.weight}; }}'
            )
    properties = []
    for role, fallbacks in _FALLBACKS.items():
        families = dict.fromkeys((roles[role].family, *fallbacks))
        properties.append(f"--{role}: {', '.join(_css_string(f) for f in families)}, serif;")
    rules.append(":root { " + " ".join(properties) + " }")
    return "\n".join(rules) + "\n"


def allowed_dirs(fonts_dir: str | os.PathLike | None = None) -> tuple[Path, ...]:
    """Directories whose files reports may load: ``reports/static/``, the fonts' directories and
    the office fonts folder (with the folder its collections' faces are copied out to)."""
    folders = {path.parent for path in font_files().values()}
    office = _office_folder(fonts_dir)
    if office is not None:
        folders.add(office)
        if _extract_dir.cache_info().currsize:
            folders.add(_extract_dir().resolve())
    return (STATIC_DIR.resolve(), *sorted(folders))


def check_url(url: str, fonts_dir: str | os.PathLike | None = None) -> str:
    """The URL to fetch for ``url`` (a ``file:`` URL comes back resolved, symlinks followed), or
    raise :class:`FetchRefused` unless it is a ``data:`` URI or a file in :func:`allowed_dirs`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return url
    if scheme == "file" and parts.netloc in ("", "localhost"):
        path = Path(unquote(parts.path)).resolve()
        if path.is_file() and any(path.is_relative_to(folder) for folder in allowed_dirs(fonts_dir)):
            return path.as_uri()
    shown = url if len(url) <= 200 else url[:200] + "…"
    raise FetchRefused(
        f"reports may not load {shown!r}: only data: URIs and files in "
        "reports/static/, the report font directories or the office fonts folder are allowed"
    )


def make_url_fetcher(fonts_dir: str | os.PathLike | None = None):
    """A WeasyPrint 70 URL fetcher (a ``URLFetcher``: the plain-function fetchers of older
    versions are no longer accepted) that goes through :func:`check_url` first. One per render:
    the base class keeps per-request state. A refused URL makes WeasyPrint log a warning and leave
    the resource out; nothing is fetched."""
    from weasyprint.urls import URLFetcher

    class ReportUrlFetcher(URLFetcher):
        def __init__(self):
            super().__init__(timeout=10, allowed_protocols={"data", "file"}, allow_redirects=False)

        def fetch(self, url, headers=None):
            return super().fetch(check_url(url, fonts_dir), headers)

    return ReportUrlFetcher()


_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# The width of the type area (A4 less the GB/T 9704 margins of base.css: 156 mm) in points.
TYPE_AREA_PT = 156 / 25.4 * 72


def masthead_pt(name: str, largest: float, spacing: float = 0.0) -> float:
    """The font size (pt) that sets an office's name on one line of a masthead: ``largest``
    for a short name, smaller for a long one (letters ``spacing`` em apart), never below 14 pt
    (a longer name wraps). Administrators name the offices: 长河县营商环境建设局 keeps the
    34 pt of the bulletin's masthead, 石门市东城区营商环境建设局 gets 29 pt."""
    fits = TYPE_AREA_PT / (max(len(name), 1) * (1 + spacing)) * 0.97
    return max(14.0, min(largest, int(fits * 2) / 2))


_env.globals["masthead_pt"] = masthead_pt


def cn_date(value) -> str:
    """A date as official documents write it: 2026年8月4日 (no leading zeros, GB/T 9704 7.3.5.3).
    Takes a date or a datetime (already in local time); None prints as an em dash."""
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value) -> str:
    """A local date and time as documents write it: 2026年8月4日9时30分 (minutes left out on the hour)."""
    if value is None:
        return "—"
    minutes = f"{value.minute}分" if value.minute else ""
    return f"{cn_date(value)}{value.hour}时{minutes}"


_env.filters["cn_date"] = cn_date
_env.filters["cn_datetime"] = cn_datetime


def _reject_orm(value, where: str, depth: int = 0) -> None:
    """Raise TypeError for SQLAlchemy-mapped objects anywhere in the (shallow) context."""
    if hasattr(value, "_sa_instance_state"):
        raise TypeError(f"{where} is an ORM object ({type(value).__name__}): pass plain data")
    if depth >= 4:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _reject_orm(item, f"{where}[{key!r}]", depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _reject_orm(item, f"{where}[{index}]", depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _reject_orm(getattr(value, field.name), f"{where}.{field.name}", depth + 1)


def render_html(template_name: str, context: dict) -> str:
    """The template rendered to HTML (autoescaped; a missing variable is an error)."""
    _reject_orm(context, "context")
    return _env.get_template(template_name).render(**context)


def render_pdf(template_name: str, context: dict, *, fonts_dir: str | os.PathLike | None = None) -> bytes:
    """Render ``reports/templates/<template_name>`` with ``context`` to PDF bytes (A4, base.css).
    ``fonts_dir``: the office fonts folder (default: the one :func:`set_office_fonts_dir` set)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_html(template_name, context)
    base_url = STATIC_DIR.as_uri() + "/"
    url_fetcher = make_url_fetcher(fonts_dir)
    font_config = FontConfiguration()
    stylesheets = [
        CSS(
            string=font_face_css(fonts_dir),
            base_url=base_url,
            url_fetcher=url_fetcher,
            font_config=font_config,
        ),
        CSS(
            string=BASE_CSS.read_text(encoding="utf-8"),
            base_url=base_url,
            url_fetcher=url_fetcher,
            font_config=font_config,
        ),
    ]
    document = HTML(string=html, base_url=base_url, url_fetcher=url_fetcher)
    try:
        return document.write_pdf(stylesheets=stylesheets, font_config=font_config)
    finally:
        # FontConfiguration copies every @font-face file (~11 MB here) into a temporary folder that
        # it removes only when garbage-collected; a long-lived worker would pile them up.
        folder = getattr(font_config, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
            font_config._folder = None
