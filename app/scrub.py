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
  dictionary, no XMP anywhere (document, pages, images, fonts), no private application data
  (/PieceInfo anywhere; the trailer, catalog, page tree, pages, pictures, annotations, form,
  bookmarks, viewer preferences and mark information keep only the keys the PDF 2.0
  specification lists: no picture's /OPI path or /Name, no page label prefix), no embedded
  files, no JavaScript or automatic actions; comments keep
  their text but lose their author and dates; digital signatures lose the signer. Every
  picture is examined whatever its list of filters (the outer ones are decoded): a JPEG loses
  its EXIF/XMP/comment segments and what follows its end, a JPEG 2000 its XML/UUID boxes and
  codestream comments, a JBIG2 its comment segments; a JPEG written inline in a content stream
  is first made a picture object; a picture in any other form is refused. Text, fonts, links,
  bookmarks and forms stay as they are. (mat2 was tried: by default
  it turns every page into a picture, and ``--lightweight`` keeps the text but drops links and
  bookmarks.)
* **Office documents** (.docx, .xlsx, .pptx) — rebuilt part by part with lxml: the core, extended
  and custom properties emptied (author, last modified by, company, manager, template, custom
  fields); authors, initials and user ids of comments, revisions, people and persons lists,
  commenter lists and shared-workbook users blanked, revision dates and revision-session ids
  removed; the absolute path of the saved file, the attached template and document variables
  removed; links to local files blanked; SharePoint custom XML emptied; printer names zeroed;
  pictures' names, descriptions and titles (Word writes the file's path there) blanked; the
  mail-merge data source and the path in INCLUDEPICTURE/INCLUDETEXT/LINK fields removed; digital
  signatures (the signer's certificate) and embedded fonts dropped with their relationships;
  every embedded picture re-encoded without metadata and every embedded Office document cleaned
  the same way. EMF/WMF drawings (which carry paths and user names, and which nothing here can
  redraw) and any other embedded binary object are refused: the reporter is asked for a PDF.
* **Audio and video** — ffmpeg copies the audio streams and H.264/HEVC video (no re-encoding)
  into a new file of the same kind without any global or per-stream metadata, chapters, cover
  pictures, data or subtitle tracks (e.g. the location and capture date of a phone video), and
  the video without its SEI messages (user data, the encoder's settings), H.264 data
  partitions or any NAL unit of another kind, in the frames and in the decoder configuration;
  video in another codec is
  re-encoded to H.264 the same way. ffprobe then checks that no tag is left but the technical
  ones, and the copy's NAL units are read back: only the kept kinds, and no SEI message of the
  original anywhere in the copy's bytes.
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

DRAWING = N_(
    "%(name)s: this document contains drawings in a Windows format (EMF or WMF, e.g. from Visio "
    "or a pasted chart) that may name the computer and the person who made them, and they cannot "
    "be removed here. Please save the document as PDF and send the PDF instead."
)


# --- PDF -------------------------------------------------------------------------------------

# PDF 2.0 (ISO 32000-2:2020) Table 29: the document catalog keys a copy keeps. Every other key
# is dropped: private application data (e.g. a /ReporterNote), and /Metadata (XMP), /PieceInfo,
# /AF (attached files), /SpiderInfo and /Threads (web capture, article authors), /Perms, /Legal
# and /DSS (signers' certificates), /OpenAction, /AA and /URI (actions), /Collection,
# /NeedsRendering (XFA) and /DPartRoot (document part metadata).
_PDF_CATALOG_KEYS = frozenset(
    (
        "/Type /Version /Extensions /Pages /PageLabels /Names /Dests /ViewerPreferences /PageLayout"
        " /PageMode /Outlines /AcroForm /StructTreeRoot /MarkInfo /Lang /OutputIntents /OCProperties"
        " /Requirements"
    ).split()
)
# Table 31 (page objects): kept; dropped are /LastModified, /Thumb (a picture of the page made
# by the author's tool), /B (article beads), /AA, /Metadata, /PieceInfo, /ID and /PZ (web
# capture), /SeparationInfo, /TemplateInstantiated, /PresSteps, /VP (measure and geographic
# viewports), /AF, /OutputIntents, /DPart and any private key.
_PDF_PAGE_KEYS = frozenset(
    (
        "/Type /Parent /Resources /MediaBox /CropBox /BleedBox /TrimBox /ArtBox /BoxColorInfo"
        " /Contents /Rotate /Group /Dur /Trans /Annots /StructParents /Tabs /UserUnit"
    ).split()
)
_PDF_PAGES_KEYS = frozenset("/Type /Parent /Kids /Count /Resources /MediaBox /CropBox /Rotate".split())
# Table 32 (name dictionary): named destinations, appearances, pages and templates are kept;
# /EmbeddedFiles, /JavaScript, /IDS and /URLS (web capture), /AlternatePresentations and
# /Renditions (slides and media files) and private trees are dropped.
_PDF_NAMES_KEYS = frozenset("/Dests /AP /Pages /Templates".split())
_PDF_ANY_KEYS = ("/Metadata", "/PieceInfo", "/LastModified", "/AF")
# Table 15 (file trailer): every other key (e.g. a private /ReporterNote) is dropped; /Info is.
_PDF_TRAILER_KEYS = frozenset("/Size /Prev /Root /Encrypt /ID".split())
# Table 87 (image dictionaries) and Table 5 (stream dictionaries): dropped are /OPI (the path of
# the high-resolution original on the author's computer), /Name (free, often the file's name),
# /ID, /Measure and /PtData (geographic points), /F (an outside file) and any private key.
_PDF_IMAGE_KEYS = frozenset(
    (
        "/Type /Subtype /Width /Height /ColorSpace /BitsPerComponent /Intent /ImageMask /Mask /Decode"
        " /Interpolate /Alternates /SMask /SMaskInData /StructParent /OC /Length /Filter /DecodeParms /DL"
    ).split()
)
# Tables 166-191 (annotations of every kind, and the field keys of a widget merged with its
# field): every other key is a private one and is dropped.
_PDF_ANNOT_SPEC_KEYS = frozenset(
    (
        "/Type /Subtype /Rect /Contents /P /NM /M /F /AP /AS /Border /C /StructParent /OC /AF /ca /CA"
        " /BM /Lang /T /Popup /RC /CreationDate /IRT /Subj /RT /IT /ExData /Open /Name /State"
        " /StateModel /A /Dest /H /PA /QuadPoints /BS /DA /Q /DS /CL /LE /RD /L /LL /LLE /Cap /LLO"
        " /CP /Measure /CO /IC /BE /Vertices /Path /Sy /InkList /Parent /FS /Sound /Movie /MK /AA"
        " /MN /LastModified /SV /FixedPrint /3DD /3DV /3DA /3DI /3DB /3DU /GEO /RO /OverlayText"
        " /Repeat /RichMediaSettings /RichMediaContent /FT /Kids /TU /TM /Ff /V /DV /RV /Opt /TI /I"
        " /MaxLen /Lock"
    ).split()
)
_PDF_ANNOT_SUBTYPES = frozenset(
    (
        "/Text /Link /FreeText /Line /Square /Circle /Polygon /PolyLine /Highlight /Underline /Squiggly"
        " /StrikeOut /Caret /Stamp /Ink /Popup /FileAttachment /Sound /Movie /Screen /Widget"
        " /PrinterMark /TrapNet /Watermark /3D /Redact /Projection /RichMedia"
    ).split()
)
# Table 224 (interactive form dictionary; /XFA, a whole XML form with its data, is dropped),
# Table 147 (viewer preferences), Table 353 (mark information), Tables 151/152 (outline
# dictionary and items) and Table 161 (page labels: the free /P prefix, e.g. a name, is dropped).
_PDF_ACROFORM_KEYS = frozenset("/Fields /NeedAppearances /SigFlags /CO /DR /DA /Q".split())
_PDF_VIEWER_KEYS = frozenset(
    (
        "/HideToolbar /HideMenubar /HideWindowUI /FitWindow /CenterWindow /DisplayDocTitle"
        " /NonFullScreenPageMode /Direction /ViewArea /ViewClip /PrintArea /PrintClip /PrintScaling"
        " /Duplex /PickTrayByPDFSize /PrintPageRange /NumCopies /Enforce"
    ).split()
)
_PDF_MARKINFO_KEYS = frozenset("/Marked /UserProperties /Suspects".split())
_PDF_OUTLINE_KEYS = frozenset(
    "/Type /Title /Parent /Prev /Next /First /Last /Count /Dest /A /SE /C /F".split()
)
_PDF_PAGE_LABEL_KEYS = frozenset("/Type /S /St".split())
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
# Stream filters whose data is only compressed bytes or pixels: nowhere to hide a name.
_PDF_PLAIN_FILTERS = frozenset(
    "/FlateDecode /LZWDecode /RunLengthDecode /ASCIIHexDecode /ASCII85Decode /CCITTFaxDecode".split()
)
# Filters whose data is a picture format with room for metadata: cleaned here, always last.
_PDF_PICTURE_FILTERS = frozenset(("/DCTDecode", "/JPXDecode", "/JBIG2Decode"))

PDF_PICTURE = N_(
    "%(name)s: this PDF contains a picture stored in a way whose hidden data cannot be removed. "
    "Please print it to a new PDF, or send the pictures as JPEG or PNG."
)


def _u16(data: bytes, pos: int) -> int:
    if pos + 2 > len(data):
        raise CannotClean(DAMAGED)
    return int.from_bytes(data[pos : pos + 2], "big")


def _u32(data: bytes, pos: int) -> int:
    if pos + 4 > len(data):
        raise CannotClean(DAMAGED)
    return int.from_bytes(data[pos : pos + 4], "big")


def strip_jpeg_segments(data: bytes) -> bytes:
    """A JPEG without its EXIF, XMP, Photoshop/IPTC, FlashPix/MPF and comment segments (APP1,
    APP2 but the ICC profile, APP3–13, APP15, COM, JPGn) wherever they are (before the first
    scan or between scans), without the JFIF thumbnail, and without anything after the end of
    the picture (a second picture of a multi-picture file, a phone's "motion photo" video).
    The JFIF header, ICC profile, Adobe colour segment and the picture data are kept unchanged.
    Raises ``CannotClean`` when the data is not a well-formed JPEG: it is never passed on."""
    if not data.startswith(b"\xff\xd8"):
        raise CannotClean(DAMAGED)
    out, pos, size = bytearray(b"\xff\xd8"), 2, len(data)
    while True:
        if pos + 2 > size or data[pos] != 0xFF:
            raise CannotClean(DAMAGED)
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of picture: whatever follows is dropped
            return bytes(out + b"\xff\xd9")
        if marker < 0xC0 or 0xD0 <= marker <= 0xD8:
            raise CannotClean(DAMAGED)  # no such marker outside the scan data
        length = _u16(data, pos + 2)
        if length < 2 or pos + 2 + length > size:
            raise CannotClean(DAMAGED)
        segment = data[pos : pos + 2 + length]
        pos += 2 + length
        if marker == 0xE0 and segment[4:9] == b"JFIF\x00" and length >= 16:
            out += b"\xff\xe0\x00\x10" + segment[4:16] + b"\x00\x00"  # without its thumbnail
        elif marker < 0xE0 or (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\x00") or marker == 0xEE:
            out += segment
        if marker == 0xDA:  # scan data, up to the next marker that is not a stuffed 0xFF or RSTn
            end = pos
            while True:
                end = data.find(b"\xff", end)
                if end < 0 or end + 1 >= size:  # cut short before its end marker
                    return bytes(out + data[pos:] + b"\xff\xd9")
                following = data[end + 1]
                if following == 0 or 0xD0 <= following <= 0xD7:
                    end += 2
                elif following == 0xFF:
                    end += 1
                else:
                    break
            out += data[pos:end]
            pos = end


# JPEG 2000 (ISO 15444-1): the boxes a JP2 picture needs; the header's children likewise.
_JP2_BOXES = frozenset((b"jP  ", b"ftyp", b"rreq", b"jp2h", b"jp2c"))
_JP2_HEADER_BOXES = frozenset((b"ihdr", b"bpcc", b"colr", b"pclr", b"cmap", b"cdef"))
# Codestream marker segments of the main header (SIZ, COD, COC, PLM, PPM, QCD, QCC, RGN, POC,
# CRG, CAP, CPF) and of tile-part headers (COD, COC, QCD, QCC, RGN, POC, PLT, PPT). COM (a
# comment) and TLM (tile-part lengths, no longer right once a tile-part comment is gone) are
# dropped; any other marker is refused.
_J2K_MAIN = frozenset((0x51, 0x52, 0x53, 0x57, 0x60, 0x5C, 0x5D, 0x5E, 0x5F, 0x63, 0x50, 0x59))
_J2K_TILE = frozenset((0x52, 0x53, 0x5C, 0x5D, 0x5E, 0x5F, 0x58, 0x61))
_J2K_DROPPED = frozenset((0x64, 0x55))


def _boxes(data: bytes):
    """(type, content) of each JPEG 2000 box in ``data``; raises on a malformed box."""
    pos = 0
    while pos < len(data):
        length, kind, header = _u32(data, pos), data[pos + 4 : pos + 8], 8
        if length == 1:
            length, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif length == 0:
            length = len(data) - pos
        if length < header or pos + length > len(data) or len(kind) < 4:
            raise CannotClean(DAMAGED)
        yield kind, data[pos + header : pos + length]
        pos += length


def _box(kind: bytes, content: bytes) -> bytes:
    return (len(content) + 8).to_bytes(4, "big") + kind + content


def strip_jpx_metadata(data: bytes) -> bytes:
    """A JPEG 2000 picture (JP2 file or bare codestream) without its metadata: XML and UUID
    boxes (XMP, EXIF, GeoJP2 positions), IPR, UUID-info, label and association boxes, capture
    resolution, and the codestream's comments. The coded picture is copied unchanged. Raises
    ``CannotClean`` when it is not a JPEG 2000 picture this can read (never passed on)."""
    if data.startswith(b"\xff\x4f\xff\x51"):
        return _strip_j2k(data)
    boxes = list(_boxes(data))
    if not boxes or boxes[0] != (b"jP  ", b"\r\n\x87\n"):
        raise CannotClean(PDF_PICTURE)
    out = bytearray()
    for kind, content in boxes:
        if kind == b"jp2h":
            content = b"".join(_box(k, c) for k, c in _boxes(content) if k in _JP2_HEADER_BOXES)
        elif kind == b"jp2c":
            content = _strip_j2k(content)
        if kind in _JP2_BOXES:
            out += _box(kind, content)
    if b"jp2c" not in {kind for kind, _ in boxes}:
        raise CannotClean(PDF_PICTURE)  # a picture in another file (fragment table)
    return bytes(out)


def _strip_j2k(data: bytes) -> bytes:
    if not data.startswith(b"\xff\x4f"):
        raise CannotClean(DAMAGED)

    def segments(pos: int, allowed, stop: int):
        kept = bytearray()
        while True:
            if pos + 2 > len(data) or data[pos] != 0xFF:
                raise CannotClean(DAMAGED)
            code = data[pos + 1]
            if code == stop:
                return kept, pos
            length = _u16(data, pos + 2)
            if code not in allowed | _J2K_DROPPED or length < 2 or pos + 2 + length > len(data):
                raise CannotClean(PDF_PICTURE if code not in allowed | _J2K_DROPPED else DAMAGED)
            if code in allowed:
                kept += data[pos : pos + 2 + length]
            pos += 2 + length

    main, pos = segments(2, _J2K_MAIN, 0x90)
    out = bytearray(b"\xff\x4f" + main)
    while data[pos : pos + 2] == b"\xff\x90":  # tile-parts: SOT, header, SOD, coded data
        if _u16(data, pos + 2) != 10:
            raise CannotClean(DAMAGED)
        length = _u32(data, pos + 6)
        end = pos + length if length else len(data) - 2
        if end > len(data) - 2 or end <= pos + 14 or (not length and not data.endswith(b"\xff\xd9")):
            raise CannotClean(DAMAGED)
        header, sod = segments(pos + 12, _J2K_TILE, 0x93)
        part = header + data[sod:end]
        new_length = (12 + len(part)) if length else 0
        out += data[pos : pos + 6] + new_length.to_bytes(4, "big") + data[pos + 10 : pos + 12] + part
        pos = end
    if data[pos : pos + 2] != b"\xff\xd9":
        raise CannotClean(DAMAGED)
    return bytes(out + b"\xff\xd9")  # EOC ends the codestream: what follows is dropped


# JBIG2 (ITU T.88) segment types a PDF picture may use; 62 (extension: comments) is dropped.
_JBIG2_TYPES = frozenset((0, 4, 6, 7, 16, 20, 22, 23, 36, 38, 39, 40, 42, 43, 48, 49, 50, 51, 52, 53))


def strip_jbig2_comments(data: bytes) -> bytes:
    """A JBIG2 stream (the PDF's embedded form: segments, no file header) without its
    extension segments (comments, any text); the other segments unchanged."""
    out, pos = bytearray(), 0
    while pos < len(data):
        start = pos
        number, flags = _u32(data, pos), data[pos + 4] if pos + 4 < len(data) else 0
        kind, pos = flags & 0x3F, pos + 5
        if pos >= len(data):
            raise CannotClean(DAMAGED)
        count = data[pos] >> 5
        if count == 7:
            count = _u32(data, pos) & 0x1FFFFFFF
            pos += 4 + (count + 8) // 8
        elif count > 4:
            raise CannotClean(DAMAGED)
        else:
            pos += 1
        pos += count * (1 if number <= 256 else 2 if number <= 65536 else 4)
        pos += 4 if flags & 0x40 else 1
        length = _u32(data, pos)
        pos += 4
        if length == 0xFFFFFFFF:
            raise CannotClean(PDF_PICTURE)  # length known only by decoding: not read here
        if pos + length > len(data):
            raise CannotClean(DAMAGED)
        pos += length
        if kind not in _JBIG2_TYPES | {62}:
            raise CannotClean(PDF_PICTURE)
        if kind != 62:
            out += data[start:pos]
    return bytes(out)


_PICTURE_CLEANERS = {
    "/DCTDecode": strip_jpeg_segments,
    "/JPXDecode": strip_jpx_metadata,
    "/JBIG2Decode": strip_jbig2_comments,
}


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


def _keep_only(obj, keys: frozenset[str]) -> None:
    for key in list(obj.keys()):
        if key not in keys:
            del obj[key]


def _scrub_pdf(pdf) -> None:
    import pikepdf

    _keep_only(pdf.trailer, _PDF_TRAILER_KEYS)
    root = pdf.Root
    _keep_only(root, _PDF_CATALOG_KEYS)
    for key, keys in (
        ("/AcroForm", _PDF_ACROFORM_KEYS),
        ("/ViewerPreferences", _PDF_VIEWER_KEYS),
        ("/MarkInfo", _PDF_MARKINFO_KEYS),
    ):
        if isinstance(root.get(key), pikepdf.Dictionary):
            _keep_only(root[key], keys)
    _scrub_outlines(root.get("/Outlines"), set())
    _scrub_page_labels(root.get("/PageLabels"), 0)
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        _keep_only(names, _PDF_NAMES_KEYS)
    _scrub_page_tree(root.get("/Pages"), set())
    for page in pdf.pages:
        _keep_only(page.obj, _PDF_PAGE_KEYS)
        page.externalize_inline_images(min_size=0)  # a JPEG written inline in the page
    for obj in list(pdf.objects):
        if isinstance(obj, pikepdf.Stream) and (obj.get("/Subtype") == "/Form" or "/PatternType" in obj):
            pikepdf.Page(obj).externalize_inline_images(min_size=0)
        elif isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type3":
            for _, glyph in obj.get("/CharProcs", pikepdf.Dictionary()).items():
                if isinstance(glyph, pikepdf.Stream):
                    _check_inline_images(glyph)  # a glyph drawn with a JPEG: refused

    def scrub(obj, depth=0) -> None:
        if depth > 50:
            return
        if isinstance(obj, pikepdf.Stream):
            _scrub_dictionary(obj)
            _clean_stream_picture(pdf, obj)
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

    for obj in list(pdf.objects):
        scrub(obj)
    for page in pdf.pages:
        scrub(page.obj)


def _scrub_outlines(node, seen: set) -> None:
    """The outline dictionary and every bookmark keep only their PDF 2.0 keys."""
    import pikepdf

    while isinstance(node, pikepdf.Dictionary) and node.objgen not in seen and len(seen) < 100_000:
        if node.is_indirect:
            seen.add(node.objgen)
        _keep_only(node, _PDF_OUTLINE_KEYS)
        _scrub_outlines(node.get("/First"), seen)
        node = node.get("/Next")


def _scrub_page_labels(node, depth: int) -> None:
    """Page labels keep their style and first number, not their free prefix (/P)."""
    import pikepdf

    if not isinstance(node, pikepdf.Dictionary) or depth > 50:
        return
    nums = node.get("/Nums")
    if isinstance(nums, pikepdf.Array):
        for label in list(nums)[1::2]:
            if isinstance(label, pikepdf.Dictionary):
                _keep_only(label, _PDF_PAGE_LABEL_KEYS)
    for kid in node.get("/Kids", []):
        _scrub_page_labels(kid, depth + 1)


def _scrub_page_tree(node, seen: set) -> None:
    import pikepdf

    if not isinstance(node, pikepdf.Dictionary) or node.get("/Type") != "/Pages" or node.objgen in seen:
        return
    seen.add(node.objgen)
    _keep_only(node, _PDF_PAGES_KEYS)
    for kid in node.get("/Kids", []):
        _scrub_page_tree(kid, seen)


def _stream_filters(obj) -> tuple[list, list]:
    """A stream's filters and their parameters, as two lists of the same length."""
    import pikepdf

    filters = obj.get("/Filter")
    filters = [] if filters is None else list(filters) if isinstance(filters, pikepdf.Array) else [filters]
    parms = obj.get("/DecodeParms")
    parms = list(parms) if isinstance(parms, pikepdf.Array) else [parms] * bool(filters)
    if len(parms) < len(filters):
        parms += [None] * (len(filters) - len(parms))
    return [str(f) for f in filters], parms[: len(filters)]


def _picture_data(pdf, obj, filters: list, parms: list) -> bytes:
    """The picture-format bytes of a stream whose last filter is a picture format: the filters
    before it (e.g. FlateDecode in [/FlateDecode /DCTDecode]) decoded."""
    import pikepdf

    if any(f not in _PDF_PLAIN_FILTERS for f in filters[:-1]):
        raise CannotClean(PDF_PICTURE)  # e.g. a picture format inside another one
    if len(filters) == 1:
        return obj.read_raw_bytes()
    outer = pikepdf.Stream(pdf, obj.read_raw_bytes())
    outer.Filter = pikepdf.Array([pikepdf.Name(f) for f in filters[:-1]])
    if any(p is not None for p in parms[:-1]):
        outer.DecodeParms = pikepdf.Array(parms[:-1])
    return outer.read_bytes()


def _clean_stream_picture(pdf, obj) -> None:
    """A stream holding a JPEG, JPEG 2000 or JBIG2 picture, whatever its filter list, is
    written back with its metadata removed (and without the filters around the picture)."""
    import pikepdf

    for key in ("/F", "/FFilter", "/FDecodeParms"):  # the data in an outside file (a path)
        if key in obj:
            del obj[key]
    filters, parms = _stream_filters(obj)
    unknown = [f for f in filters if f not in _PDF_PLAIN_FILTERS | _PDF_PICTURE_FILTERS]
    if unknown and (obj.get("/Subtype") == "/Image" or _PDF_PICTURE_FILTERS.intersection(filters)):
        raise CannotClean(PDF_PICTURE)  # a picture in a format not read here
    if not filters or filters[-1] not in _PDF_PICTURE_FILTERS:
        if _PDF_PICTURE_FILTERS.intersection(filters):
            raise CannotClean(PDF_PICTURE)  # a picture format that is not the last filter
        return
    kind = filters[-1]
    picture = _picture_data(pdf, obj, filters, parms)
    clean = _PICTURE_CLEANERS[kind](picture)
    last = parms[-1]
    if kind == "/JBIG2Decode" and isinstance(last, pikepdf.Dictionary):
        globals_ = last.get("/JBIG2Globals")
        if isinstance(globals_, pikepdf.Stream):
            shared = strip_jbig2_comments(globals_.read_bytes())
            if shared != globals_.read_bytes():
                globals_.write(shared)
    if clean != picture or len(filters) > 1:
        obj.write(clean, filter=pikepdf.Name(kind), decode_parms=last)


def _scrub_dictionary(obj) -> None:
    for key in _PDF_ANY_KEYS:
        if key in obj:
            del obj[key]
    kind, subtype = obj.get("/Type"), obj.get("/Subtype")
    if subtype == "/Image" and (kind in (None, "/XObject")):
        _keep_only(obj, _PDF_IMAGE_KEYS)
    if kind == "/Annot" or (subtype in _PDF_ANNOT_SUBTYPES and "/Rect" in obj):
        _keep_only(obj, _PDF_ANNOT_SPEC_KEYS)
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


_INLINE_IMAGE = re.compile(rb"(?:^|[\s\]\)>}])BI[\s/]")


def _check_pdf(cleaned: bytes) -> None:
    """Read the copy back: no document information, no XMP, no catalog or page key outside the
    lists above, every picture without metadata, no JPEG written inline in a content stream."""
    import pikepdf

    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        if set(pdf.trailer.keys()) - _PDF_TRAILER_KEYS or set(pdf.Root.keys()) - _PDF_CATALOG_KEYS:
            raise CannotClean(DAMAGED)
        if any(set(page.obj.keys()) - _PDF_PAGE_KEYS for page in pdf.pages):
            raise CannotClean(DAMAGED)
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream) and (
                "/Metadata" in obj or "/PieceInfo" in obj or obj.get("/Type") == "/Metadata"
            ):
                raise CannotClean(DAMAGED)
            if not isinstance(obj, pikepdf.Stream):
                continue
            if obj.get("/Subtype") == "/Image" and set(obj.keys()) - _PDF_IMAGE_KEYS:
                raise CannotClean(DAMAGED)
            filters, parms = _stream_filters(obj)
            if filters and filters[-1] in _PDF_PICTURE_FILTERS:
                picture = _picture_data(pdf, obj, filters, parms)
                if _PICTURE_CLEANERS[filters[-1]](picture) != picture:
                    raise CannotClean(DAMAGED)
                shared = parms[-1].get("/JBIG2Globals") if isinstance(parms[-1], pikepdf.Dictionary) else None
                if (
                    isinstance(shared, pikepdf.Stream)
                    and strip_jbig2_comments(shared.read_bytes()) != shared.read_bytes()
                ):
                    raise CannotClean(DAMAGED)
            elif obj.get("/Subtype") == "/Form" or "/PatternType" in obj:
                _check_inline_images(obj)
        for page in pdf.pages:
            contents = page.obj.get("/Contents")
            for stream in contents if isinstance(contents, pikepdf.Array) else [contents]:
                if isinstance(stream, pikepdf.Stream):
                    _check_inline_images(stream)


def _check_inline_images(stream) -> None:
    import pikepdf

    try:
        content = stream.read_bytes()
    except pikepdf.PdfError:
        return
    if not _INLINE_IMAGE.search(content):
        return
    for operands, operator in pikepdf.parse_content_stream(stream):
        if str(operator) == "INLINE IMAGE" and not set(operands[0].filters) <= _PDF_PLAIN_FILTERS:
            raise CannotClean(PDF_PICTURE)


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
_DROPPED_ELEMENTS = {
    "abspath",
    "attachedtemplate",
    "docvars",
    "rsids",
    "docid",
    "presenceinfo",
    "mailmerge",  # the mail-merge data source: its path, connection string and query
    # embedded fonts (the font parts are dropped: the reader's own fonts are used instead)
    "embedregular",
    "embedbold",
    "embeditalic",
    "embedbolditalic",
    "embeddedfontlst",
}
# Picture and shape properties whose name, description and title Word and PowerPoint fill
# with the picture's file path on the author's computer (C:\Users\<name>\Pictures\...).
_PATH_NAMED_ELEMENTS = {"cnvpr", "docpr"}
_PATH_NAMED_ATTRIBUTES = {"name", "descr", "title"}
# Field instructions that name a file: the path is blanked (the field's last result stays).
_FILE_FIELD = re.compile(r"(\s*(?:INCLUDEPICTURE|INCLUDETEXT|LINK|DDE|DDEAUTO|IMPORT)\b)", re.I)
# Parts dropped with every relationship to them: digital signatures (the signer's certificate,
# e-mail address and signature text) and embedded fonts (obfuscated font files, whose content
# nothing here can check).
_DROPPED_PARTS = re.compile(r"(?:^_xmlsignatures/|\.(?:odttf|ttf|otf|fntdata)$)", re.I)
_DROPPED_RELATIONSHIPS = re.compile(
    r"/(?:font|digital-signature/(?:origin|signature|certificate)|mailMergeSource|"
    r"mailMergeHeaderSource|recipientData)$"
)
_PICTURE_PARTS = re.compile(r"\.(?:jpe?g|png|gif|webp|tiff?|bmp)$", re.I)

# Windows metafiles (Visio drawings, pasted charts, an embedded object's preview) hold the
# paths, user and printer names of the machine that drew them, and nothing on this server can
# redraw them as a plain picture (no LibreOffice, no libwmf): the document is refused.
_DRAWING_PARTS = re.compile(r"\.(?:emf|wmf|emz|wmz)$", re.I)
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
            if _DROPPED_PARTS.search(name):
                continue
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
    if _DRAWING_PARTS.search(name):
        raise CannotClean(DRAWING)
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
    in_file_field = False
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        tag = _local(element.tag)
        if tag in _DROPPED_ELEMENTS:
            _drop(element)
            continue
        if tag == "relationship" and _DROPPED_RELATIONSHIPS.search(element.get("Type", "")):
            _drop(element)
            continue
        if tag == "override" and _DROPPED_PARTS.search(element.get("PartName", "").lstrip("/")):
            _drop(element)
            continue
        if tag == "fldchar":
            in_file_field = False
        elif tag == "instrtext" and element.text:
            if in_file_field:
                element.text = ""  # the rest of a path split over several runs
            elif match := _FILE_FIELD.match(element.text):
                element.text, in_file_field = match.group(1) + ' ""', True
        elif tag == "fldsimple":
            for attribute in element.attrib:
                if _local(attribute) == "instr" and (match := _FILE_FIELD.match(element.attrib[attribute])):
                    element.attrib[attribute] = match.group(1) + ' ""'
        if tag in _PATH_NAMED_ELEMENTS:
            for attribute in list(element.attrib):
                if _local(attribute) in _PATH_NAMED_ATTRIBUTES:
                    element.attrib[attribute] = ""
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
_OUR_ENCODER = "Lavc libx264"  # what ffmpeg names a stream it encoded (bitexact: no version)


class ToolMissing(RuntimeError):
    """ffmpeg/ffprobe is not installed (a setup error: the job fails and is retried)."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(f"{name} is not installed (Debian package ffmpeg)")
    return path


def clean_media(data: bytes, content_type: str) -> bytes:
    """A copy of a recording or video without metadata: the audio streams unchanged, H.264 and
    HEVC video copied without their SEI messages (encoder settings, user data), other video
    re-encoded to H.264 the same way; no tags, chapters, cover pictures, data or subtitles."""
    muxer = _MUXERS[content_type]
    with tempfile.TemporaryDirectory(prefix="ys-clean-") as work:
        source, target = Path(work) / "original", Path(work) / "clean"
        source.write_bytes(data)
        codecs = _video_codecs(source)
        video = []
        for index, codec in enumerate(codecs):
            if codec in _KEPT_NAL_UNITS:
                video += [f"-c:v:{index}", "copy"]
            else:  # MPEG-4 part 2, H.263, VP9, motion JPEG...: user data lives in each codec
                video += [f"-c:v:{index}", "libx264", f"-preset:v:{index}", "veryfast"]
                video += [f"-crf:v:{index}", "18", f"-pix_fmt:v:{index}", "yuv420p"]
                video += [f"-filter:v:{index}", "scale=trunc(iw/2)*2:trunc(ih/2)*2"]
                codec = "h264"
            video += [f"-bsf:v:{index}", f"filter_units=pass_types={_KEPT_NAL_UNITS[codec]}"]
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
            *video,
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
        if codecs:
            _rewrite_parameter_set_boxes(target)
        _check_media(target)
        if codecs:
            _check_video(target, source, codecs)
        return target.read_bytes()


# NAL unit types a video copy keeps. H.264 (ITU-T H.264 table 7-1): coded slices (1, 5; the
# data partitions 2-4, used by no phone or camera, can carry any bytes and are dropped),
# sequence and picture parameter sets (7, 8), access unit delimiters, end of sequence and of
# stream (9-11). HEVC (H.265 table 7-1): coded slices (0-9, 16-21), VPS, SPS, PPS (32-34),
# delimiters and ends (35-37). Dropped: SEI (H.264 6, HEVC 39 and 40: unregistered user data
# such as an encoder's settings string or a name put there on purpose, capture times, GPS of
# some cameras), filler data, and every extension, reserved or unspecified type.
_KEPT_NAL_UNITS = {"h264": "1|5|7-11", "hevc": "0-9|16-21|32-37"}


def _nal_type_set(spec: str) -> frozenset[int]:
    kept = set()
    for part in spec.split("|"):
        low, _, high = part.partition("-")
        kept.update(range(int(low), int(high or low) + 1))
    return frozenset(kept)


def _ffprobe(path: Path | str, entries: str) -> dict:
    """What ffprobe reads of ``entries`` in a file, as JSON; a file it cannot read is damaged."""
    done = subprocess.run(
        [_tool("ffprobe"), "-v", "error", "-show_entries", entries, "-of", "json", str(path)],
        capture_output=True,
        timeout=TOOL_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise CannotClean(DAMAGED)
    return json.loads(done.stdout or b"{}")


def _video_codecs(path: Path) -> list[str]:
    """The codec of each video stream that is not an attached picture, in the file's order."""
    streams = _ffprobe(path, "stream=codec_type,codec_name:stream_disposition=attached_pic").get(
        "streams", []
    )
    return [
        str(s.get("codec_name"))
        for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]


def _nal_units(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes cannot occur inside a unit)."""
    starts = [m.end() for m in re.finditer(b"\x00\x00\x01", stream)]
    ends = [position - 3 for position in starts[1:]] + [len(stream)]
    return [stream[start:end].rstrip(b"\x00") for start, end in zip(starts, ends, strict=True)]


def _nal_type(unit: bytes, codec: str) -> int:
    return (unit[0] & 0x1F) if codec == "h264" else (unit[0] >> 1) & 0x3F


def _annex_b(path: Path, index: int, codec: str) -> bytes:
    """Video stream ``index`` as an Annex B byte stream, with the parameter sets (and anything
    else) the container keeps outside the frames written in front of the first key frame."""
    done = subprocess.run(
        [_tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path)]
        + ["-map", f"0:V:{index}", "-c", "copy", "-f", codec, "-"],
        capture_output=True,
        timeout=TOOL_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise CannotClean(DAMAGED)
    return done.stdout


def _check_video(path: Path, original: Path, codecs: list[str]) -> None:
    """Every video stream of the copy is H.264 or HEVC made of the kept NAL unit types only,
    its first frame decodes, and no SEI message of the original (such as user data with a name
    and a phone number) is anywhere in the copy's bytes."""
    copied = _video_codecs(path)
    if len(copied) != len(codecs) or not set(copied) <= set(_KEPT_NAL_UNITS):
        raise CannotClean(DAMAGED)
    copy = path.read_bytes()
    for index, codec in enumerate(copied):
        kept = _nal_type_set(_KEPT_NAL_UNITS[codec])
        if any(
            _nal_type(unit, codec) not in kept for unit in _nal_units(_annex_b(path, index, codec)) if unit
        ):
            raise CannotClean(DAMAGED)
        if codecs[index] == codec:  # copied, not re-encoded: the original's dropped units
            sei = {6} if codec == "h264" else {39, 40}
            units = _nal_units(_annex_b(original, index, codec))
            dropped = {u for u in units if len(u) >= 8 and _nal_type(u, codec) in sei}
            if any(unit[1:] in copy for unit in sorted(dropped, key=len)[-64:]):
                raise CannotClean(DAMAGED)
    done = subprocess.run(
        [_tool("ffmpeg"), "-nostdin", "-v", "error", "-i", str(path)]
        + ["-map", "0:V:0", "-frames:v", "1", "-f", "null", "-"],
        capture_output=True,
        timeout=TOOL_SECONDS,
        check=False,
    )
    if done.returncode != 0 or done.stderr.strip():
        raise CannotClean(DAMAGED)


# ISO base media (MP4, MOV, 3GP) boxes on the way to a video's decoder configuration, and the
# size of the fields before the child boxes of each (stsd: entry count; sample entries: the
# visual sample entry's fields).
_BOX_PATH = {b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"stsd": 8}
_SAMPLE_ENTRIES = {b"avc1": 78, b"avc3": 78, b"hvc1": 78, b"hev1": 78}


def _rewrite_parameter_set_boxes(path: Path) -> None:
    """ffmpeg copies a video's decoder configuration (avcC, hvcC) as it is, and an HEVC one may
    hold SEI messages (x265 writes its settings there) which the NAL unit filter does not see:
    rewrite them with the parameter sets only. The movie box is at the end of ffmpeg's files
    (after the media data), so its size may change without moving any sample."""
    data = path.read_bytes()
    boxes, pos = [], 0
    while pos < len(data):
        size, kind, header = _u32(data, pos), data[pos + 4 : pos + 8], 8
        if size == 1:
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data):
            raise CannotClean(DAMAGED)
        boxes.append((kind, pos, header, size))
        pos += size
    kinds = [kind for kind, *_ in boxes]
    if kinds.count(b"moov") != 1 or (b"mdat" in kinds and kinds.index(b"moov") < kinds.index(b"mdat")):
        raise CannotClean(DAMAGED)
    _, start, header, size = boxes[kinds.index(b"moov")]
    moov = _box(b"moov", _rewrite_children(data[start + header : start + size]))
    path.write_bytes(data[:start] + moov + data[start + size :])


def _rewrite_children(content: bytes) -> bytes:
    out = bytearray()
    for kind, body in _boxes(content):
        if kind in _BOX_PATH:
            skip = _BOX_PATH[kind]
            body = body[:skip] + _rewrite_children(body[skip:])
        elif kind in _SAMPLE_ENTRIES:
            skip = _SAMPLE_ENTRIES[kind]
            body = body[:skip] + _rewrite_children(body[skip:])
        elif kind == b"avcC":
            body = _avc_configuration(body)
        elif kind == b"hvcC":
            body = _hevc_configuration(body)
        out += _box(kind, body)
    return bytes(out)


def _length_prefixed(data: bytes, pos: int, count: int) -> tuple[list[bytes], int]:
    units = []
    for _ in range(count):
        length = _u16(data, pos)
        if pos + 2 + length > len(data) or length == 0:
            raise CannotClean(DAMAGED)
        units.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return units, pos


def _avc_configuration(body: bytes) -> bytes:
    """avcC with its SPS and PPS only (no SPS extensions, nothing after the fields)."""
    if len(body) < 7:
        raise CannotClean(DAMAGED)
    sps, pos = _length_prefixed(body, 6, body[5] & 0x1F)
    if pos >= len(body):
        raise CannotClean(DAMAGED)
    pps, pos = _length_prefixed(body, pos + 1, body[pos])
    if any(_nal_type(u, "h264") != 7 for u in sps) or any(_nal_type(u, "h264") != 8 for u in pps):
        raise CannotClean(DAMAGED)
    out = bytearray(body[:5] + bytes([0xE0 | len(sps)]))
    for unit in sps:
        out += len(unit).to_bytes(2, "big") + unit
    out += bytes([len(pps)])
    for unit in pps:
        out += len(unit).to_bytes(2, "big") + unit
    if body[1] in (100, 110, 122, 144) and len(body) >= pos + 4:
        out += body[pos : pos + 3] + b"\x00"  # chroma format and bit depths; no SPS extension
    return bytes(out)


def _hevc_configuration(body: bytes) -> bytes:
    """hvcC with its VPS, SPS and PPS arrays only (no SEI arrays, nothing after them)."""
    if len(body) < 23:
        raise CannotClean(DAMAGED)
    arrays, pos = [], 23
    for _ in range(body[22]):
        if pos + 3 > len(body):
            raise CannotClean(DAMAGED)
        kind = body[pos] & 0x3F
        units, end = _length_prefixed(body, pos + 3, _u16(body, pos + 1))
        if kind in (32, 33, 34) and all(_nal_type(u, "hevc") == kind for u in units):
            arrays.append(body[pos:end])
        pos = end
    return body[:22] + bytes([len(arrays)]) + b"".join(arrays)


def media_tags(path: Path | str) -> dict[str, str]:
    """Every tag ffprobe reads in a file (container and streams), "stream0:key" for streams."""
    found = _ffprobe(path, "format_tags:stream_tags:stream=index")
    tags = dict(found.get("format", {}).get("tags", {}))
    for stream in found.get("streams", []):
        for key, value in stream.get("tags", {}).items():
            tags[f"stream{stream.get('index', 0)}:{key}"] = value
    return tags


def _check_media(path: Path) -> None:
    """The copy may carry only technical tags (no location, date, device, name, title...)."""
    for key, value in media_tags(path).items():
        bare = key.split(":", 1)[-1]
        if bare == "encoder" and value == _OUR_ENCODER:
            continue  # the video re-encoded here
        if bare not in TECHNICAL_TAGS or (bare == "handler_name" and value not in _HANDLERS):
            raise CannotClean(DAMAGED)


# --- helpers for callers -----------------------------------------------------------------------


def remove_quietly(path: Path | str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
