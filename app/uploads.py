"""Files reporters attach to a case: checked by content, kept as evidence, shown to staff cleaned.

Pure Python + ``filetype`` + Pillow + ``app.scrub`` (no Flask, no database). A file is accepted
only when its *content* is one of the kinds in ``ACCEPTED``; the extension and the client's
Content-Type are never trusted. Each accepted file is written to the store the caller chooses
(app/storage.py: a local folder outside any web root, or a private bucket) with a generated name
only, in two steps:

* ``store_original`` (while the reporter waits: checks and one write): the original bytes,
  unchanged, as evidence (``stored_name``, with their SHA-256);
* ``make_staff_copy`` (later, in a job: the slow part): the copy staff open (``staff_name``,
  ``<token>.staff.<ext>``), with no hidden data at all. Pictures are re-encoded by Pillow with no
  metadata — EXIF (GPS, camera, times), XMP, ICC profile, comments, PNG text chunks — turned
  upright first; PDF, Office documents, recordings and videos are cleaned by ``app.scrub``.
  Reporters are often afraid of the officials they report: a photo's GPS tags or a document's
  author can lead to their door. A file that cannot be cleaned raises ``UploadRejected`` and
  has no staff copy.

Staff get files through ``open_for_staff``, which accepts generated staff names only, so a
path from a request can never reach another file, nor an original; ``open_original`` opens an
original (for those entitled to the reporter's identity) after checking its SHA-256.

HEIC is accepted only when a HEIF decoder is registered with Pillow (e.g. ``pillow_heif``)
before this module is imported; otherwise it is refused with advice to send a JPEG. Leaving
``image/heic`` out of ``ACCEPTED`` also lets iOS convert photos to JPEG itself when the form's
``accept`` attribute is built from ``ACCEPTED``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import struct
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype
from PIL import Image, ImageOps, ImageSequence

from app import scrub
from app.errors import Invalid, NotFound
from app.storage import LocalStore, Store, as_store
from app.workflow import N_

try:  # Pillow wheels ship littlecms; a build without it just drops the ICC profile
    from PIL import ImageCms
except ImportError:  # pragma: no cover
    ImageCms = None


class UploadRejected(Invalid):
    """An uploaded file is refused; the message names the file (``name``)."""


MB = 1024 * 1024
MAX_NAME_CHARS = 200
UNNAMED = "upload"  # original_name when the client sent no usable name

# Word .docx: refuse zip bombs (declared uncompressed size) and absurd archives.
MAX_UNZIP_RATIO = 50
MAX_UNZIPPED_BYTES = 200 * MB
MAX_ZIP_MEMBERS = 10_000

# Pictures: a JPEG up to MAX_IMAGE_PIXELS is decoded at a reduced scale for the staff copy
# when larger than MAX_DECODED_PIXELS (the original stays whole); other formats must fit
# MAX_DECODED_PIXELS, and an animation MAX_ANIMATION_PIXELS over all its frames.
MAX_IMAGE_PIXELS = 150_000_000
MAX_DECODED_PIXELS = 50_000_000
MAX_ANIMATION_PIXELS = 25_000_000
JPEG_QUALITY = 90

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OFFICE = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX, "ppt/presentation.xml": PPTX}


def _heif_format() -> str | None:
    """Pillow's format name for HEIC/HEIF if a decoder plugin is registered, else None."""
    return Image.registered_extensions().get(".heic")


ACCEPTED: dict[str, str] = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/webp": "image",
    **({"image/heic": "image"} if _heif_format() else {}),
    "audio/mpeg": "audio",
    "audio/mp4": "audio",
    "audio/aac": "audio",
    "audio/wav": "audio",
    "audio/amr": "audio",
    "audio/amr-wb": "audio",
    "audio/ogg": "audio",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/3gpp": "video",
    "application/pdf": "pdf",
    DOCX: "word",
    XLSX: "word",
    PPTX: "word",
}

# Content type -> extension of the generated names, then other extensions a reporter's file of
# that type may carry (download_name keeps those).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/png": ("png", "apng"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/heic": ("heic", "heif"),
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a", "mp4", "aac"),
    "audio/aac": ("aac",),
    "audio/wav": ("wav",),
    "audio/amr": ("amr",),
    "audio/amr-wb": ("awb", "amr"),
    "audio/ogg": ("ogg", "oga", "opus"),
    "video/mp4": ("mp4", "m4v", "m4a"),
    "video/quicktime": ("mov", "qt"),
    "video/3gpp": ("3gp", "3gpp", "3g2"),
    "application/pdf": ("pdf",),
    "application/msword": ("doc",),  # no longer accepted (_OLD_WORD); older files keep it
    DOCX: ("docx",),
    XLSX: ("xlsx",),
    PPTX: ("pptx",),
}

# Picture content type -> (Pillow format read, Pillow format written, staff content type).
_PICTURES: dict[str, tuple[str, str, str]] = {
    "image/jpeg": ("JPEG", "JPEG", "image/jpeg"),
    "image/png": ("PNG", "PNG", "image/png"),
    "image/gif": ("GIF", "GIF", "image/gif"),
    "image/webp": ("WEBP", "WEBP", "image/webp"),
    "image/heic": (_heif_format() or "HEIF", "JPEG", "image/jpeg"),
}

# What filetype detects -> our content type (ISO-BMFF, ZIP and OLE2 are recognised below).
_FILETYPE: dict[str, str] = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/apng": "image/png",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
    "audio/mpeg": "audio/mpeg",
    "audio/aac": "audio/aac",
    "audio/x-wav": "audio/wav",
    "audio/amr": "audio/amr",
    "audio/ogg": "audio/ogg",
    "application/pdf": "application/pdf",
}

# ISO base media (ftyp box) brands.
_HEIC_BRANDS = {"heic", "heix", "heim", "heis", "hevc", "hevx"}
_MP4_BRANDS = {"isom", "mp41", "mp42", "mp71", "avc1", "dash", "MSNV", "M4V ", "mmp4", "XAVC"} | {
    f"iso{n}" for n in range(2, 10)
}
_M4A_BRANDS = {"M4A ", "M4B "}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_WORD = "WordDocument".encode("utf-16-le")
_OLE_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # a password-protected .docx
_OLE_MACROS = "_VBA_PROJECT".encode("utf-16-le")

_EMPTY = N_("%(name)s: the file is empty.")
_TOO_LARGE = N_("%(name)s: the file is larger than %(limit)s MB.")
_NOT_ACCEPTED = N_(
    "%(name)s: this type of file is not accepted. Please send photos (JPEG, PNG, GIF, WebP), "
    "recordings (MP3, M4A, AAC, WAV, AMR, OGG), videos (MP4, MOV, 3GP), PDF, Word (.docx), "
    "Excel (.xlsx) or PowerPoint (.pptx) documents."
)
_OLD_WORD = N_(
    "%(name)s: old Word documents (.doc) cannot be cleaned of the author's name and other hidden "
    "data. Please save it as .docx or PDF and send it again."
)
_HEIC = N_(
    "%(name)s: HEIC photos cannot be opened here. Please send the photo as JPEG (on an iPhone: "
    "Settings › Camera › Formats › Most Compatible)."
)
_BAD_PICTURE = N_("%(name)s: this picture is damaged or cannot be read.")
_PICTURE_TOO_LARGE = N_("%(name)s: this picture is too large (at most %(limit)s million pixels).")
_BAD_DOCUMENT = N_("%(name)s: this Word document is damaged or protected by a password.")
_ZIP_BOMB = N_("%(name)s: this Word document unpacks to far too much data.")
_MACROS = N_(
    "%(name)s: Word documents with macros are not accepted. Please save it as an ordinary "
    "document (.docx) or as PDF."
)
_MISSING = N_("This file does not exist.")
_CHANGED = N_("The original file no longer matches its recorded SHA-256; it was not opened.")


@dataclass(frozen=True)
class StoredFile:
    stored_name: str  # generated name of the original (evidence)
    staff_name: str | None  # generated name of the copy staff see (None until it is made)
    original_name: str  # the reporter's file name, cleaned, for display only
    content_type: str  # of the original, detected from its content
    size: int  # of the original
    sha256: str  # hex SHA-256 of the original bytes


# --- names -----------------------------------------------------------------------------------


def clean_original_name(filename: str | None) -> str:
    """The reporter's file name for display: last path part only, no control or invisible
    format characters (e.g. right-to-left overrides), whitespace collapsed, at most
    MAX_NAME_CHARS characters (keeping the extension). Chinese and other letters are kept.
    Returns "" when nothing usable is left. Never use the result as a path."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)  # "C:photo.jpg", a drive-relative Windows path
    kept = []
    for char in name:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs"):
            kept.append(char)
    name = " ".join("".join(kept).split())
    if not name.strip("."):
        return ""
    if len(name) > MAX_NAME_CHARS:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and len(suffix) <= 10:
            name = stem[: MAX_NAME_CHARS - len(suffix) - 1].rstrip() + "." + suffix
        else:
            name = name[:MAX_NAME_CHARS]
    return name


_GENERATED = re.compile(r"(?P<token>[0-9a-f]{32})(?P<staff>\.staff)?\.(?P<ext>[0-9a-z]{2,5})")
_ORIGINAL_EXTENSIONS = {exts[0] for exts in EXTENSIONS.values()}


def is_generated_name(name: object) -> bool:
    """A name this module gives to an original or a staff copy (nothing else in the folder)."""
    return _is_original_name(name) or _is_staff_name(name)


def _is_original_name(name: object) -> bool:
    match = isinstance(name, str) and _GENERATED.fullmatch(name)
    return bool(match) and not match["staff"] and match["ext"] in _ORIGINAL_EXTENSIONS


def _is_staff_name(name: object) -> bool:
    """A generated name staff may open: a cleaned copy (``<token>.staff.<ext>``), never an
    original, which keeps its hidden data."""
    match = isinstance(name, str) and _GENERATED.fullmatch(name)
    return bool(match) and bool(match["staff"]) and match["ext"] in _ORIGINAL_EXTENSIONS


def _staff_type(content_type: str) -> str:
    picture = _PICTURES.get(content_type)
    return picture[2] if picture else content_type


def staff_content_type(stored: StoredFile) -> str:
    """Content type of the staff copy (a HEIC photo's copy is a JPEG)."""
    return _staff_type(stored.content_type)


def download_name(stored: StoredFile) -> str:
    """File name to offer staff (Content-Disposition) for the staff copy: the reporter's name,
    with the right extension appended when its own does not match the content — so a JPEG
    called "x.hta" downloads as "x.hta.jpg" and cannot be run by a double click."""
    content_type = staff_content_type(stored)
    name = stored.original_name or UNNAMED
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and suffix.lower() in EXTENSIONS[content_type]:
        return name
    if dot and stem and suffix.lower() in EXTENSIONS.get(stored.content_type, ()):
        name = stem  # photo.heic -> photo.jpg
    return f"{name}.{EXTENSIONS[content_type][0]}"


# --- detection -------------------------------------------------------------------------------


def _refuse(msgid: str, name: str, **params: object) -> UploadRejected:
    return UploadRejected(msgid, name=name or UNNAMED, **params)


def _ftyp_type(data: bytes) -> str | None:
    """Content type of an ISO base media file (MP4, MOV, 3GP, M4A, HEIC) from its ftyp box."""
    size = struct.unpack(">I", data[:4])[0]
    if size < 16 or size > 4096 or len(data) < size:
        return None
    major = data[8:12].decode("latin-1")
    compatible = {data[i : i + 4].decode("latin-1") for i in range(16, size - 3, 4)}
    brands = [major, *sorted(compatible)]  # the major brand decides when it is known
    for brand in brands:
        if brand in _HEIC_BRANDS or (brand in ("mif1", "msf1") and compatible & _HEIC_BRANDS):
            return "image/heic"
        if brand in ("avif", "avis", "mif1", "msf1"):
            return None  # AVIF or another HEIF image: not accepted
        if brand == "qt  ":
            return "video/quicktime"
        if brand in _M4A_BRANDS:
            return "audio/mp4"
        if brand.startswith("3g"):
            return "video/3gpp"
        if brand in _MP4_BRANDS:
            return "video/mp4"
    return None


def _check_word_ole(data: bytes, name: str) -> str:
    """A .doc (an OLE2 compound file holding a WordDocument stream) is refused: its author,
    company and revision authors sit in binary streams no tool here rewrites safely."""
    if _OLE_ENCRYPTED in data:
        raise _refuse(_BAD_DOCUMENT, name)
    if _OLE_WORD not in data:
        raise _refuse(_NOT_ACCEPTED, name)
    if _OLE_MACROS in data:
        raise _refuse(_MACROS, name)
    raise _refuse(_OLD_WORD, name)


def _check_docx(data: bytes, name: str) -> str:
    """A .docx, .xlsx or .pptx: a sound ZIP holding the main part of its kind, no macros, not
    a zip bomb. Every member is decompressed (bounded by the declared sizes, which are checked
    first) so that lying size fields or corrupt data fail their CRC check here."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = [member.filename for member in members]
            kinds = [OFFICE[main] for main in OFFICE if main in names]
            if len(kinds) != 1 or "[Content_Types].xml" not in names:
                raise _refuse(_NOT_ACCEPTED, name)
            if len(members) > MAX_ZIP_MEMBERS or len(set(names)) != len(names):
                raise _refuse(_BAD_DOCUMENT, name)
            declared = sum(member.file_size for member in members)
            if declared > MAX_UNZIP_RATIO * len(data) or declared > MAX_UNZIPPED_BYTES:
                raise _refuse(_ZIP_BOMB, name)
            if any(member.lower().endswith("vbaproject.bin") for member in names):
                raise _refuse(_MACROS, name)
            unpacked = 0
            for member in members:
                with archive.open(member) as stream:
                    while chunk := stream.read(MB):
                        unpacked += len(chunk)
                        if unpacked > declared:
                            raise _refuse(_ZIP_BOMB, name)
    except UploadRejected:
        raise
    except Exception as error:  # BadZipFile, zlib.error, RuntimeError (encrypted member)...
        raise _refuse(_BAD_DOCUMENT, name) from error
    return kinds[0]


def detect_type(data: bytes, filename: str) -> str:
    """The accepted content type of ``data``, found from its content only; ``filename`` only
    names the file in the message. Raises UploadRejected for anything else. Pictures are also
    decoded by ``store_upload``, which refuses those Pillow cannot read."""
    name = clean_original_name(filename)
    data = bytes(data)
    if not data:
        raise _refuse(_EMPTY, name)
    if data.startswith(_OLE2):
        return _check_word_ole(data, name)
    if data.startswith(b"PK"):
        return _check_docx(data, name)
    if data[4:8] == b"ftyp":
        content_type = _ftyp_type(data)
    elif data.startswith(b"#!AMR-WB\n"):
        content_type = "audio/amr-wb"
    else:
        kind = filetype.guess(data)
        content_type = _FILETYPE.get(kind.mime) if kind else None
    if content_type == "image/heic" and content_type not in ACCEPTED:
        raise _refuse(_HEIC, name)
    if content_type not in ACCEPTED:
        raise _refuse(_NOT_ACCEPTED, name)
    return content_type


# --- pictures --------------------------------------------------------------------------------


def _to_srgb(picture: Image.Image) -> Image.Image:
    """Apply the embedded ICC profile (e.g. an iPhone's Display P3) so colours stay right once
    the profile is dropped; keep the picture as it is if the profile cannot be used."""
    icc = picture.info.get("icc_profile")
    if not icc or ImageCms is None or picture.mode not in ("RGB", "RGBA", "CMYK"):
        return picture
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if picture.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(picture, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return picture


def _clean_frame(frame: Image.Image, write_format: str) -> Image.Image:
    """One frame upright, in sRGB, in a mode the format writes, as a new image that carries
    nothing but pixels (``info`` empty: no EXIF, XMP, ICC, comments, text chunks)."""
    picture = ImageOps.exif_transpose(frame)
    if picture.mode in ("P", "PA"):
        picture = picture.convert("RGBA" if picture.has_transparency_data else "RGB")
    picture = _to_srgb(picture)
    if write_format == "JPEG":
        mode = "L" if picture.mode in ("1", "L") else "RGB"
    elif (
        write_format == "PNG"
        and picture.mode in ("1", "L", "LA", "RGB", "RGBA", "I;16")
        and ("transparency" not in picture.info)
    ):
        mode = picture.mode
    else:
        mode = "RGBA" if picture.has_transparency_data else "RGB"
    if picture.mode != mode:
        picture = picture.convert(mode)
    clean = Image.new(mode, picture.size)
    clean.paste(picture)
    return clean


def _picture_size(image: Image.Image, content_type: str, name: str) -> tuple[int, int]:
    """(frames, pixels) of an opened picture, refused when too large to decode. Animations
    stay animated; a JPEG (or HEIC) keeps its primary picture only — the others are gain maps,
    depth maps or thumbnails."""
    read_format, write_format, _ = _PICTURES[content_type]
    width, height = image.size
    frames = getattr(image, "n_frames", 1) if write_format != "JPEG" else 1
    pixels = width * height
    limit = MAX_IMAGE_PIXELS if read_format == "JPEG" else MAX_DECODED_PIXELS
    if frames > 1:
        limit = MAX_ANIMATION_PIXELS
        pixels *= frames
    if not pixels or pixels > limit:
        raise _refuse(_PICTURE_TOO_LARGE, name, limit=limit // 1_000_000)
    return frames, pixels


def check_picture(data: bytes, content_type: str, name: str) -> None:
    """The quick check while the reporter waits: Pillow reads the header (not the pixels) and
    the picture's size is within the limits. Decoding happens in ``make_staff_copy``."""
    read_format = _PICTURES[content_type][0]
    try:
        with Image.open(io.BytesIO(data), formats=[read_format]) as image:
            _picture_size(image, content_type, name)
    except UploadRejected:
        raise
    except Image.DecompressionBombError as error:
        raise _refuse(_PICTURE_TOO_LARGE, name, limit=MAX_IMAGE_PIXELS // 1_000_000) from error
    except Exception as error:  # any decoder failure on untrusted data
        raise _refuse(_BAD_PICTURE, name) from error


def _staff_picture(data: bytes, content_type: str, name: str) -> bytes:
    """The staff copy of a picture: decoded by Pillow and re-encoded without any metadata."""
    read_format, write_format, _ = _PICTURES[content_type]
    try:
        with Image.open(io.BytesIO(data), formats=[read_format]) as image:
            width, height = image.size
            frames, pixels = _picture_size(image, content_type, name)
            params: dict[str, object] = {}
            if frames == 1:
                if pixels > MAX_DECODED_PIXELS:  # a huge JPEG: decode at 1/2, 1/4 or 1/8 scale
                    scale = next(s for s in (2, 4, 8) if pixels / (s * s) <= MAX_DECODED_PIXELS)
                    image.draft(image.mode, (-(-width // scale), -(-height // scale)))
                image.load()
                pictures = [_clean_frame(image, write_format)]
            else:
                pictures, durations = [], []
                for frame in ImageSequence.Iterator(image):
                    frame.load()
                    pictures.append(_clean_frame(frame, write_format))
                    durations.append(frame.info.get("duration", 100))
                params = {"save_all": True, "append_images": pictures[1:], "duration": durations}
                if image.info.get("loop") is not None:
                    params["loop"] = image.info["loop"]
            if write_format in ("JPEG", "WEBP"):
                params["quality"] = JPEG_QUALITY
            output = io.BytesIO()
            pictures[0].save(output, write_format, **params)
            return output.getvalue()
    except UploadRejected:
        raise
    except Image.DecompressionBombError as error:  # Pillow's own limit, above ours
        raise _refuse(_PICTURE_TOO_LARGE, name, limit=MAX_IMAGE_PIXELS // 1_000_000) from error
    except Exception as error:  # any decoder failure on untrusted data
        raise _refuse(_BAD_PICTURE, name) from error


# --- storage ---------------------------------------------------------------------------------
# Every file goes through a store (app/storage.py): a local folder, or a bucket of an S3-compatible
# object storage shared by several hosts. A directory given as a path is a local folder.

Where = Store | os.PathLike | str


def _write_atomic(where: Where, name: str, data: bytes) -> None:
    """Write ``name`` whole or not at all (locally: a temp file in the same directory, mode
    0o600 from mkstemp, fsynced, renamed over the final name, the directory fsynced)."""
    as_store(where).put(name, data)


def _megabytes(size: int) -> str:
    value = size / MB
    return f"{value:.1f}".removesuffix(".0") if value >= 0.1 else f"{value:.2g}"


def store_original(where: Where, filename: str, data: bytes, *, max_bytes: int) -> StoredFile:
    """Check one uploaded file (type by content; a picture's header and size) and write the
    original to ``where`` (a local folder is created, mode 0o700, if missing). This is all that
    happens while the reporter waits; ``staff_name`` is None until ``make_staff_copy`` has run.
    Nothing is written when the file is refused."""
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    name = clean_original_name(filename)
    data = bytes(data)
    if not data:
        raise _refuse(_EMPTY, name)
    if len(data) > max_bytes:
        raise _refuse(_TOO_LARGE, name, limit=_megabytes(max_bytes))
    content_type = detect_type(data, name)
    if content_type in _PICTURES:
        check_picture(data, content_type, name)
    stored_name = f"{uuid.uuid4().hex}.{EXTENSIONS[content_type][0]}"
    _write_atomic(where, stored_name, data)
    return StoredFile(
        stored_name=stored_name,
        staff_name=None,
        original_name=name or f"{UNNAMED}.{EXTENSIONS[content_type][0]}",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def staff_name_for(stored: StoredFile) -> str:
    """The generated name of the staff copy: the original's token, so that a second run of the
    cleaning (a retried job) writes the same file again instead of another one."""
    token = stored.stored_name.split(".", 1)[0]
    return f"{token}.staff.{EXTENSIONS[staff_content_type(stored)][0]}"


def _embedded_picture(data: bytes, part: str) -> bytes:
    """A picture inside an Office document, re-encoded in its own format without metadata."""
    kind = filetype.guess(data)
    content_type = _FILETYPE.get(kind.mime) if kind else None
    try:
        if content_type in _PICTURES and content_type != "image/heic":
            return _staff_picture(data, content_type, part)
        with Image.open(io.BytesIO(data), formats=["TIFF", "BMP"]) as image:
            image.load()
            clean = _clean_frame(image, "PNG")
            output = io.BytesIO()
            clean.save(output, image.format)
            return output.getvalue()
    except Exception as error:  # noqa: BLE001 - any failure: the document is refused
        raise scrub.CannotClean(scrub.EMBEDDED) from error


def clean_copy(data: bytes, content_type: str, name: str) -> bytes:
    """The staff copy's bytes: the file without any hidden data. Raises UploadRejected (with
    the reason) when the file cannot be cleaned."""
    try:
        if content_type in _PICTURES:
            return _staff_picture(data, content_type, name)
        if content_type == "application/pdf":
            return scrub.clean_pdf(data)
        if content_type in (DOCX, XLSX, PPTX):
            return scrub.clean_ooxml(data, _embedded_picture)
        if ACCEPTED.get(content_type) in ("audio", "video"):
            return scrub.clean_media(data, content_type)
    except scrub.CannotClean as refused:
        raise _refuse(refused.msgid, name, **refused.params) from refused
    raise _refuse(_NOT_ACCEPTED, name)


def make_staff_copy(where: Where, stored: StoredFile) -> str:
    """Read the original (checking its SHA-256), clean it and write the staff copy; return the
    copy's generated name. Raises UploadRejected when it cannot be cleaned (nothing written)."""
    data = _read_original(where, stored)
    copy = clean_copy(data, stored.content_type, stored.original_name)
    staff_name = staff_name_for(stored)
    _write_atomic(where, staff_name, copy)
    return staff_name


def store_upload(where: Where, filename: str, data: bytes, *, max_bytes: int) -> StoredFile:
    """Both steps at once (one-process tools and tests): the original and its staff copy.
    Nothing is left behind when the file is refused."""
    stored = store_original(where, filename, data, max_bytes=max_bytes)
    try:
        staff_name = make_staff_copy(where, stored)
    except BaseException:
        delete_stored(where, stored)
        raise
    return dataclasses.replace(stored, staff_name=staff_name)


def _read_original(where: Where, stored: StoredFile) -> bytes:
    if not _is_original_name(stored.stored_name):
        raise NotFound(_MISSING)
    try:
        data = as_store(where).get(stored.stored_name)
    except FileNotFoundError as error:
        raise NotFound(_MISSING) from error
    if hashlib.sha256(data).hexdigest() != stored.sha256:
        raise NotFound(_CHANGED)
    return data


def open_original(where: Where, stored: StoredFile) -> Path | BinaryIO:
    """An original (evidence: for those entitled to the reporter's identity only), after checking
    that its bytes still have the recorded SHA-256: the local path, or the checked bytes (at most
    one upload's size) from an object store, so what is served is what was checked."""
    store = as_store(where)
    data = _read_original(store, stored)
    if isinstance(store, LocalStore):
        return store.sendable(stored.stored_name)
    return io.BytesIO(data)


def open_for_staff(where: Where, stored: StoredFile | str) -> Path | BinaryIO:
    """The copy staff may see (a StoredFile, or its ``staff_name``): the local path, or a stream
    from the object store. Raises NotFound for anything but an existing generated staff name —
    a path, "../x", an unknown name, an original, or a copy not made yet."""
    name = stored.staff_name if isinstance(stored, StoredFile) else stored
    if not _is_staff_name(name):
        raise NotFound(_MISSING)
    try:
        return as_store(where).sendable(name)
    except FileNotFoundError as error:
        raise NotFound(_MISSING) from error


def delete_stored(where: Where, stored: StoredFile) -> None:
    """Remove the original and the staff copy (e.g. when filing the case failed after the files
    were written). Missing files are fine; names that are not generated names are left alone."""
    store = as_store(where)
    staff = stored.staff_name
    if staff is None and _is_original_name(stored.stored_name):
        staff = staff_name_for(stored)  # a copy being written when the filing failed
    for name, valid in ((stored.stored_name, _is_original_name), (staff, _is_staff_name)):
        if valid(name):
            store.delete(name)
