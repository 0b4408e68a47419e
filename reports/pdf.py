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

Fetching: the URL fetcher (:func:`make_url_fetcher`, :func:`check_url`) loads only ``data:`` URIs
and files inside ``reports/static/`` or the chosen fonts' directories; any other ``file:`` URL and
every network URL raise :class:`FetchRefused` (WeasyPrint then leaves the resource out and logs a
warning; nothing is fetched).

Timing (2 cores): a one-page receipt renders in ~0.12 s warm, ~0.6 s for the first render in a
process (font lookup, WeasyPrint start-up).
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import subprocess
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
    role: str  # "serif", "sans", "latin" or "mono": what base.css uses it for
    package: str  # the Debian package that ships it
    debian_paths: tuple[str, ...]  # where that package puts it (used when fc-match is unavailable)


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
)


def _fc_match(family: str) -> Path | None:
    """The regular face of ``family`` through fontconfig, or None (fc-match never fails: it falls
    back to another family, so the family it answers with is checked)."""
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(
            ["fc-match", "--format", "%{family}\t%{file}", f"{family}:weight=80:slant=0"],
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
        path = _fc_match(face.family) or next((Path(p) for p in face.debian_paths if Path(p).is_file()), None)
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


def font_face_css() -> str:
    """``@font-face`` rules pointing at the installed files (absolute ``file:`` URLs)."""
    files = font_files()
    rules = []
    for face in FACES:
        url = files[face.role].as_uri()
        rules.append(f'@font-face {{ font-family: "{face.family}"; src: url("{url}"); }}')
    return "\n".join(rules) + "\n"


def allowed_dirs() -> tuple[Path, ...]:
    """Directories whose files reports may load: ``reports/static/`` and the fonts' directories."""
    return (STATIC_DIR.resolve(), *sorted({path.parent for path in font_files().values()}))


def check_url(url: str) -> str:
    """The URL to fetch for ``url`` (a ``file:`` URL comes back resolved, symlinks followed), or
    raise :class:`FetchRefused` unless it is a ``data:`` URI or a file in :func:`allowed_dirs`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "data":
        return url
    if scheme == "file" and parts.netloc in ("", "localhost"):
        path = Path(unquote(parts.path)).resolve()
        if path.is_file() and any(path.is_relative_to(folder) for folder in allowed_dirs()):
            return path.as_uri()
    shown = url if len(url) <= 200 else url[:200] + "…"
    raise FetchRefused(
        f"reports may not load {shown!r}: only data: URIs and files in "
        "reports/static/ or the report font directories are allowed"
    )


def make_url_fetcher():
    """A WeasyPrint 70 URL fetcher (a ``URLFetcher``: the plain-function fetchers of older
    versions are no longer accepted) that goes through :func:`check_url` first. One per render:
    the base class keeps per-request state. A refused URL makes WeasyPrint log a warning and leave
    the resource out; nothing is fetched."""
    from weasyprint.urls import URLFetcher

    class ReportUrlFetcher(URLFetcher):
        def __init__(self):
            super().__init__(timeout=10, allowed_protocols={"data", "file"}, allow_redirects=False)

        def fetch(self, url, headers=None):
            return super().fetch(check_url(url), headers)

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


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render ``reports/templates/<template_name>`` with ``context`` to PDF bytes (A4, base.css)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    html = render_html(template_name, context)
    base_url = STATIC_DIR.as_uri() + "/"
    url_fetcher = make_url_fetcher()
    font_config = FontConfiguration()
    stylesheets = [
        CSS(string=font_face_css(), base_url=base_url, url_fetcher=url_fetcher, font_config=font_config),
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
