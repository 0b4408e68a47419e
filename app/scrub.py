"""Cleaned copies of reporters' documents, recordings and videos: the hidden data is removed
with real tools, the content stays usable for the handler (pure: no Flask, no database).

A file's hidden data can lead to the reporter's door: a Word document's author, company and
revision authors, a PDF's /Author and XMP, a video's GPS position. Staff only ever open the copy
made here; the untouched original is kept apart as evidence (``app.uploads``). Each function
takes the original bytes and returns the copy, or raises ``CannotClean`` with the reason — the
file is then refused for staff rather than shown raw. An unexpected error (a tool missing or
killed) is raised as it is, so that the job retries.

* **PDF** — pikepdf (qpdf) rewrites the file from its live objects only (older revisions of an
  incrementally saved file and unreferenced objects are dropped): no document information
  dictionary, no XMP anywhere (document, pages, images, fonts), no private application data,
  no embedded files, no JavaScript or automatic actions; comments keep their text but lose their
  author and dates; digital signatures lose the signer; JPEG pictures inside lose their EXIF/XMP
  segments. Text, fonts, links, bookmarks and forms stay as they are. (mat2 was tried: by default
  it turns every page into a picture, and ``--lightweight`` keeps the text but drops links and
  bookmarks.)
* **Office documents** (.docx, .xlsx, .pptx) — rebuilt part by part with lxml: the core, extended
  and custom properties emptied (author, last modified by, company, manager, template, custom
  fields); authors, initials and user ids of comments, revisions, people and persons lists,
  commenter lists and shared-workbook users blanked, revision dates and revision-session ids
  removed; the absolute path of the saved file, the attached template and document variables
  removed; links to local files blanked; SharePoint custom XML emptied; printer names zeroed;
  every embedded picture re-encoded without metadata and every embedded Office document cleaned
  the same way. Any other embedded binary object is refused.
* **Audio and video** — ffmpeg copies the audio and video streams (no re-encoding) into a new
  file of the same kind without any global or per-stream metadata, chapters, cover pictures,
  data or subtitle tracks (e.g. the location and capture date of a phone video); ffprobe then
  checks that no tag is left but the technical ones.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from app.workflow import N_

MB = 1024 * 1024
TOOL_SECONDS = 600  # one ffmpeg/ffprobe run
MAX_NESTING = 2  # an Office document embedded in an Office document embedded in one


class CannotClean(Exception):
    """The file cannot be given to staff cleaned; ``msgid`` says why (with ``%(name)s``)."""

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


DAMAGED = N_("%(name)s: this file is damaged or cannot be read, so its hidden data cannot be removed.")
PROTECTED = N_("%(name)s: this document is protected by a password, so its hidden data cannot be removed.")
EMBEDDED = N_(
    "%(name)s: this document contains embedded objects whose hidden data cannot be removed. "
    "Please save it as PDF and send it again."
)


# --- PDF -------------------------------------------------------------------------------------

_PDF_ROOT_KEYS = ("/Metadata", "/PieceInfo", "/AF", "/SpiderInfo", "/Perms", "/OpenAction", "/AA", "/URI")
_PDF_ANY_KEYS = ("/Metadata", "/PieceInfo", "/LastModified", "/AF")
_PDF_ANNOT_KEYS = ("/T", "/M", "/CreationDate", "/NM", "/AA")
_PDF_SIGNATURE_KEYS = (
    "/Name",
    "/Location",
    "/ContactInfo",
    "/Reason",
    "/M",
    "/Contents",
    "/Cert",
    "/Prop_Build",
)


def strip_jpeg_segments(data: bytes) -> bytes:
    """A JPEG stream without its EXIF, XMP, Photoshop/IPTC and comment segments (APP1, APP3–13,
    APP15, COM); the JFIF, ICC and Adobe segments that decoding needs are kept. The picture data
    is copied unchanged. Anything that is not a well-formed JPEG header is returned as it is."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out, pos = bytearray(b"\xff\xd8"), 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return data
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            out += data[pos : pos + 2]
            pos += 2
            continue
        if marker == 0xDA:  # start of scan: the rest is picture data
            return bytes(out + data[pos:])
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return data
        segment = data[pos : pos + 2 + length]
        drop = marker == 0xFE or 0xE1 <= marker <= 0xEF and marker not in (0xE2, 0xEE)
        if marker == 0xE2 and not segment[4:16].startswith(b"ICC_PROFILE"):
            drop = True  # APP2 that is not a colour profile (e.g. FlashPix, MPF)
        if not drop:
            out += segment
        pos += 2 + length
    return data


def clean_pdf(data: bytes) -> bytes:
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as error:
        raise CannotClean(PROTECTED) from error
    except (pikepdf.PdfError, ValueError, OSError) as error:
        raise CannotClean(DAMAGED) from error
    with pdf:
        try:
            _scrub_pdf(pdf)
            output = io.BytesIO()
            pdf.save(output, encryption=False, deterministic_id=True, fix_metadata_version=False)
        except (pikepdf.PdfError, ValueError, OSError, RecursionError) as error:
            raise CannotClean(DAMAGED) from error
    cleaned = output.getvalue()
    _check_pdf(cleaned)
    return cleaned


def _scrub_pdf(pdf) -> None:
    import pikepdf

    trailer = pdf.trailer
    if "/Info" in trailer:
        del trailer["/Info"]
    root = pdf.Root
    for key in _PDF_ROOT_KEYS:
        if key in root:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key in ("/EmbeddedFiles", "/JavaScript"):
            if key in names:
                del names[key]

    def scrub(obj, depth=0) -> None:
        if depth > 50:
            return
        if isinstance(obj, pikepdf.Stream):
            _scrub_dictionary(obj)
            if obj.get("/Subtype") == "/Image" and obj.get("/Filter") == "/DCTDecode":
                raw = obj.read_raw_bytes()
                clean = strip_jpeg_segments(raw)
                if clean != raw:
                    obj.write(clean, filter=pikepdf.Name.DCTDecode, decode_parms=obj.get("/DecodeParms"))
            children = [value for _, value in obj.items()]
        elif isinstance(obj, pikepdf.Dictionary):
            _scrub_dictionary(obj)
            children = [value for _, value in obj.items()]
        elif isinstance(obj, pikepdf.Array):
            children = list(obj)
        else:
            return
        for value in children:  # direct objects only: indirect ones are visited on their own
            if isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
                scrub(value, depth + 1)

    for obj in pdf.objects:
        scrub(obj)
    for page in pdf.pages:
        scrub(page.obj)


def _scrub_dictionary(obj) -> None:
    for key in _PDF_ANY_KEYS:
        if key in obj:
            del obj[key]
    kind, subtype = obj.get("/Type"), obj.get("/Subtype")
    if kind == "/Annot" or subtype in ("/Text", "/Popup", "/FreeText", "/FileAttachment", "/Sound"):
        for key in _PDF_ANNOT_KEYS:
            if key in obj:
                del obj[key]
        if subtype in ("/FileAttachment", "/Sound"):  # a file or recording inside a comment
            for key in ("/FS", "/Sound"):
                if key in obj:
                    del obj[key]
    if kind in ("/Sig", "/DocTimeStamp") or "/ByteRange" in obj:
        for key in _PDF_SIGNATURE_KEYS:
            if key in obj:
                del obj[key]
    if "/JS" in obj and obj.get("/S") == "/JavaScript":
        del obj["/JS"]


def _check_pdf(cleaned: bytes) -> None:
    """Read the copy back: no document information and no XMP may be left."""
    import pikepdf

    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        if "/Info" in pdf.trailer:
            raise CannotClean(DAMAGED)
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream) and (
                "/Metadata" in obj or obj.get("/Type") == "/Metadata"
            ):
                raise CannotClean(DAMAGED)


# --- Office documents (Office Open XML) ------------------------------------------------------

# Attributes (by local name) that name or identify a person: blanked wherever they appear.
_PERSON_ATTRIBUTES = {
    "author",
    "initials",
    "userid",
    "providerid",
    "username",
    "lastmodifiedby",
    "refreshedby",
    "displayname",
    "creator",
}
# Elements whose "name" attribute is a person (commenters, shared-workbook users, people lists).
_PERSON_ELEMENTS = {"cmauthor", "author", "person", "userinfo"}
# Attributes removed: revision and comment dates, revision-session ids.
_DROPPED_ATTRIBUTES = {"date", "dateutc"}
# Elements removed: the saved file's path, the attached template, document variables, the
# revision-session list, the document's id, and presence (account) information.
_DROPPED_ELEMENTS = {"abspath", "attachedtemplate", "docvars", "rsids", "docid", "presenceinfo"}
_PICTURE_PARTS = re.compile(r"\.(?:jpe?g|png|gif|webp|tiff?|bmp)$", re.I)
_KEPT_BINARY_PARTS = re.compile(r"\.(?:emf|wmf|odttf|ttf|otf|fntdata|sigs|xlsb)$", re.I)
_MEDIA_PARTS = re.compile(r"\.(?:mp4|m4v|mov|m4a|mp3|wav)$", re.I)
_OFFICE_PARTS = re.compile(r"\.(?:docx|xlsx|pptx)$", re.I)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _parser():
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _namespace(name: str) -> str:
    return name[1:].split("}", 1)[0] if name.startswith("{") else ""


def clean_ooxml(data: bytes, clean_picture: Callable[[bytes, str], bytes], depth: int = 0) -> bytes:
    """A copy of a .docx/.xlsx/.pptx without its hidden data. ``clean_picture(data, part)``
    re-encodes an embedded picture without metadata (app.uploads gives Pillow's)."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise CannotClean(DAMAGED) from error
    output = io.BytesIO()
    with source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        try:
            parts = {info.filename: source.read(info) for info in source.infolist() if not info.is_dir()}
        except (zipfile.BadZipFile, RuntimeError, ValueError, OSError, EOFError) as error:
            raise CannotClean(DAMAGED) from error
        authors = _comment_authors(parts)
        for name, content in parts.items():
            cleaned = _clean_part(name, content, clean_picture, depth, authors)
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)  # no save time, no owner, no extras
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, cleaned)
        target.comment = b""
    return output.getvalue()


def _comment_authors(parts: dict[str, bytes]) -> set[str]:
    """Names in spreadsheet comment author lists (Excel also writes "Name:" into each comment)."""
    from lxml import etree

    names = set()
    for name, content in parts.items():
        if re.search(r"(?:^|/)comments\d*\.xml$", name, re.I) and b"<authors" in content:
            try:
                root = etree.fromstring(content, _parser())
            except etree.XMLSyntaxError:
                continue
            names |= {(e.text or "").strip() for e in root.iter() if _local(str(e.tag)) == "author"}
    return {n for n in names if n}


def _clean_part(name: str, content: bytes, clean_picture, depth: int, authors: set[str]) -> bytes:
    lower = name.lower()
    if lower.endswith((".xml", ".rels", ".vml")) or name == "[Content_Types].xml":
        return _clean_xml(name, content, authors)
    if _PICTURE_PARTS.search(name):
        return clean_picture(content, name)
    if _OFFICE_PARTS.search(name):
        if depth >= MAX_NESTING:
            raise CannotClean(EMBEDDED)
        return clean_ooxml(content, clean_picture, depth + 1)
    if _MEDIA_PARTS.search(name):
        kind = {"mov": "video/quicktime", "m4a": "audio/mp4", "mp3": "audio/mpeg", "wav": "audio/wav"}
        return clean_media(content, kind.get(lower.rsplit(".", 1)[-1], "video/mp4"))
    if re.search(r"printerSettings\d*\.bin$", name, re.I):
        return bytes(64) + content[64:]  # DEVMODE: the first 32 UTF-16 characters name the printer
    if _KEPT_BINARY_PARTS.search(name):
        return content
    raise CannotClean(EMBEDDED)


def _clean_xml(name: str, content: bytes, authors: set[str]) -> bytes:
    from lxml import etree

    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as error:
        raise CannotClean(DAMAGED) from error
    tree = root.getroottree()
    if tree.docinfo.doctype or b"<!ENTITY" in content:
        raise CannotClean(DAMAGED)
    namespace = _namespace(str(root.tag))
    local = _local(str(root.tag))
    if local == "coreproperties" or (
        local == "properties" and namespace.endswith(("extended-properties", "custom-properties"))
    ):
        return _empty_like(root)  # author, last modified by, company, manager, custom fields...
    if name.lower().startswith("customxml/") and re.search(r"item\d+\.xml$", name, re.I):
        return _empty_like(root)  # SharePoint and add-in data (often names and accounts)
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        tag = _local(element.tag)
        if tag in _DROPPED_ELEMENTS:
            _drop(element)
            continue
        for attribute in list(element.attrib):
            key = _local(attribute)
            if key.startswith("rsid") or key in _DROPPED_ATTRIBUTES:
                del element.attrib[attribute]
            elif key in _PERSON_ATTRIBUTES or (key == "name" and tag in _PERSON_ELEMENTS):
                element.attrib[attribute] = ""
        if tag == "author" and element.text and element.text.strip():
            element.text = ""  # a spreadsheet comment's author list
        if tag == "t" and element.text and authors and element.text.strip().rstrip(":：") in authors:
            element.text = ""  # "张建国:" that Excel writes at the start of a comment
        if tag == "relationship" and element.get("TargetMode") == "External":
            target = element.get("Target", "")
            if not re.match(r"(?i)(https?|mailto):", target):
                element.set("Target", "")  # file:///C:/Users/<name>/..., \\server\share
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _empty_like(root) -> bytes:
    from lxml import etree

    empty = etree.Element(root.tag, nsmap=root.nsmap)
    return etree.tostring(empty, xml_declaration=True, encoding="UTF-8", standalone=True)


def _drop(element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    parent.remove(element)
    # <mc:AlternateContent><mc:Choice><x15ac:absPath/></mc:Choice></mc:AlternateContent>
    if _local(str(parent.tag)) == "choice" and len(parent) == 0:
        holder = parent.getparent()
        if (
            holder is not None
            and _local(str(holder.tag)) == "alternatecontent"
            and holder.getparent() is not None
        ):
            holder.getparent().remove(holder)


# --- audio and video -------------------------------------------------------------------------

# Our content type -> ffmpeg muxer of the copy (the same kind of file as the original).
_MUXERS = {
    "audio/mpeg": "mp3",
    "audio/mp4": "ipod",
    "audio/aac": "adts",
    "audio/wav": "wav",
    "audio/amr": "amr",
    "audio/amr-wb": "amr",
    "audio/ogg": "ogg",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/3gpp": "3gp",
}
_MUXER_OPTIONS = {"mp3": ["-id3v2_version", "0", "-write_id3v1", "0", "-write_xing", "0"]}
# Tags ffprobe may still show on the copy: what the container itself needs, nothing personal.
TECHNICAL_TAGS = {
    "major_brand",
    "minor_version",
    "compatible_brands",
    "language",
    "handler_name",
    "vendor_id",
}
_HANDLERS = {"VideoHandler", "SoundHandler"}


class ToolMissing(RuntimeError):
    """ffmpeg/ffprobe is not installed (a setup error: the job fails and is retried)."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(f"{name} is not installed (Debian package ffmpeg)")
    return path


def clean_media(data: bytes, content_type: str) -> bytes:
    """A copy of a recording or video with its streams unchanged and no metadata at all."""
    muxer = _MUXERS[content_type]
    with tempfile.TemporaryDirectory(prefix="ys-clean-") as work:
        source, target = Path(work) / "original", Path(work) / "clean"
        source.write_bytes(data)
        command = [
            _tool("ffmpeg"),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            str(source),
            "-map",
            "0:V?",  # video streams but not attached pictures (cover art is a photo)
            "-map",
            "0:a?",
            "-dn",
            "-sn",
            "-c",
            "copy",
            "-map_metadata",
            "-1",
            "-map_chapters",
            "-1",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            *_MUXER_OPTIONS.get(muxer, []),
            "-f",
            muxer,
            str(target),
        ]
        done = subprocess.run(command, capture_output=True, timeout=TOOL_SECONDS, check=False)
        if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            raise CannotClean(DAMAGED)
        _check_media(target)
        return target.read_bytes()


def media_tags(path: Path | str) -> dict[str, str]:
    """Every tag ffprobe reads in a file (container and streams), "stream0:key" for streams."""
    done = subprocess.run(
        [
            _tool("ffprobe"),
            "-v",
            "error",
            "-show_entries",
            "format_tags:stream_tags:stream=index",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        timeout=TOOL_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise CannotClean(DAMAGED)
    found = json.loads(done.stdout or b"{}")
    tags = dict(found.get("format", {}).get("tags", {}))
    for stream in found.get("streams", []):
        for key, value in stream.get("tags", {}).items():
            tags[f"stream{stream.get('index', 0)}:{key}"] = value
    return tags


def _check_media(path: Path) -> None:
    """The copy may carry only technical tags (no location, date, device, name, title...)."""
    for key, value in media_tags(path).items():
        bare = key.split(":", 1)[-1]
        if bare not in TECHNICAL_TAGS or (bare == "handler_name" and value not in _HANDLERS):
            raise CannotClean(DAMAGED)


# --- helpers for callers -----------------------------------------------------------------------


def remove_quietly(path: Path | str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
