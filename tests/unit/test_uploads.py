"""Reporters' attachments (app.uploads): accepted by content only, kept unchanged as evidence,
shown to staff only as a copy with no metadata (a photo's GPS tags can lead to a reporter's door).

``store`` is the filing step (checks and the original only); ``store.clean`` also makes the
staff copy, as the cleaning job does. Every sample file is built here at test time (the hidden
data of documents, recordings and videos: tests/unit/test_scrub.py)."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import wave
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from app import uploads
from app.errors import NotFound
from app.uploads import (
    ACCEPTED,
    DOCX,
    PPTX,
    XLSX,
    StoredFile,
    UploadRejected,
    delete_stored,
    detect_type,
    download_name,
    open_for_staff,
    open_original,
    staff_content_type,
    store_original,
    store_upload,
)

MAX = 5 * 1024 * 1024
GPS = 0x8825
ORIENTATION = 0x0112
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --- sample files -----------------------------------------------------------------------------


def picture(fmt: str, size=(40, 20), mode="RGB", **params) -> bytes:
    image = Image.new(mode, size, "red" if mode != "P" else 1)
    output = io.BytesIO()
    image.save(output, fmt, **params)
    return output.getvalue()


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    if orientation:
        exif[ORIENTATION] = orientation
    exif[GPS] = {
        1: "N",  # GPSLatitudeRef
        2: (39.0, 54.0, 15.0),  # GPSLatitude
        3: "E",
        4: (116.0, 23.0, 30.0),
    }
    return exif


def jpeg_with_gps(orientation: int | None = None, size=(40, 20)) -> bytes:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    return picture("JPEG", size, exif=gps_exif(orientation), icc_profile=srgb, comment=b"Zhang San", xmp=xmp)


def minimal_pdf() -> bytes:
    import pikepdf

    document = pikepdf.new()
    document.add_blank_page()
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return output.getvalue()


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    members = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
        b'package/2006/content-types"/>',
        "word/document.xml": "<w:document><w:body><w:p>举报材料</w:p></w:body></w:document>".encode(),
    }
    members.update(extra or {})
    return make_zip(members)


def ole2(*streams: str) -> bytes:
    header = OLE2 + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + bytes(512 - 32)
    directory = b"".join(name.encode("utf-16-le").ljust(64, b"\0") + bytes(64) for name in streams)
    return header + directory.ljust(512, b"\0")


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    box = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", len(box) + 8) + b"ftyp" + box + b"\0\0\0\x10mdat" + bytes(8)


def wav() -> bytes:
    output = io.BytesIO()
    with wave.open(output, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(bytes(1600))
    return output.getvalue()


ACCEPTED_SAMPLES = {
    "photo.jpg": (lambda: jpeg_with_gps(), "image/jpeg"),
    "screenshot.png": (lambda: picture("PNG"), "image/png"),
    "anim.gif": (lambda: picture("GIF", mode="P"), "image/gif"),
    "photo.webp": (lambda: picture("WEBP"), "image/webp"),
    "speech.mp3": (lambda: b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64, "audio/mpeg"),
    "memo.m4a": (lambda: ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
    "memo.aac": (lambda: b"\xff\xf1\x50\x80\x02\x1f\xfc" + bytes(64), "audio/aac"),
    "call.wav": (wav, "audio/wav"),
    "call.amr": (lambda: b"#!AMR\n" + b"\x3c" + bytes(31), "audio/amr"),
    "call-wb.amr": (lambda: b"#!AMR-WB\n" + b"\x04" + bytes(31), "audio/amr-wb"),
    "voice.ogg": (lambda: b"OggS\x00\x02" + bytes(64), "audio/ogg"),
    "video.mp4": (lambda: ftyp(b"mp42", b"mp42", b"isom"), "video/mp4"),
    "iphone.mov": (lambda: ftyp(b"qt  ", b"qt  "), "video/quicktime"),
    "old-phone.3gp": (lambda: ftyp(b"3gp4", b"3gp4"), "video/3gpp"),
    "licence.pdf": (minimal_pdf, "application/pdf"),
    "letter.docx": (docx, DOCX),
    "invoice.xlsx": (lambda: make_zip({"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>"}), XLSX),
    "slides.pptx": (
        lambda: make_zip({"[Content_Types].xml": b"<T/>", "ppt/presentation.xml": b"<p/>"}),
        PPTX,
    ),
}


@pytest.fixture
def store(tmp_path):
    directory = tmp_path / "uploads"

    def store(name: str, data: bytes, max_bytes: int = MAX) -> StoredFile:
        return store_original(directory, name, data, max_bytes=max_bytes)

    def clean(name: str, data: bytes, max_bytes: int = MAX) -> StoredFile:
        return store_upload(directory, name, data, max_bytes=max_bytes)

    store.directory = directory
    store.clean = clean
    return store


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*") if p.is_file()}


# --- accepted kinds ---------------------------------------------------------------------------


@pytest.mark.parametrize("filename", list(ACCEPTED_SAMPLES))
def test_each_accepted_kind_is_stored_unchanged_with_its_type_size_and_sha256(store, filename):
    build, content_type = ACCEPTED_SAMPLES[filename]
    data = build()
    stored = store(filename, data)

    assert stored.content_type == content_type
    assert content_type in ACCEPTED
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.original_name == filename
    original = store.directory / stored.stored_name
    assert original.read_bytes() == data
    assert stored.stored_name.endswith("." + uploads.EXTENSIONS[content_type][0])
    assert stored.stored_name[:32] not in filename
    assert stat.S_IMODE(original.stat().st_mode) == 0o600
    # Only the original is written while the reporter waits; staff have nothing to open yet.
    assert stored.staff_name is None
    assert {p.name for p in files_under(store.directory)} == {stored.stored_name}
    with pytest.raises(NotFound):
        open_for_staff(store.directory, stored)
    with pytest.raises(NotFound):
        open_for_staff(store.directory, stored.stored_name)
    assert open_original(store.directory, stored) == original


@pytest.mark.parametrize("filename", list(ACCEPTED_SAMPLES))
def test_truncated_samples_are_stored_or_refused_never_crash(store, filename):
    build, _ = ACCEPTED_SAMPLES[filename]
    data = build()
    for cut in sorted({1, 2, 3, 4, 8, 11, 12, 16, 24, 32, 64, len(data) // 2, len(data) - 1}):
        try:
            stored = store(filename, data[:cut])
        except UploadRejected:
            continue
        assert (store.directory / stored.stored_name).read_bytes() == data[:cut]


def test_detect_type_ignores_the_extension(store):
    assert detect_type(picture("PNG"), "photo.jpg") == "image/png"
    stored = store("photo.jpg", picture("PNG"))
    assert stored.content_type == "image/png"
    assert stored.stored_name.endswith(".png")


def test_accepted_kinds_are_the_five_short_kinds():
    assert set(ACCEPTED.values()) == {"image", "audio", "video", "pdf", "word"}


def test_an_old_word_document_is_refused_with_advice_to_send_docx_or_pdf(store):
    with pytest.raises(UploadRejected) as refused:
        store("letter.doc", ole2("Root Entry", "WordDocument", "1Table"))
    assert ".docx or PDF" in refused.value.msgid and refused.value.params["name"] == "letter.doc"
    assert "application/msword" not in ACCEPTED
    assert not files_under(store.directory.parent)


def test_an_original_whose_bytes_changed_is_not_opened(store):
    stored = store("licence.pdf", minimal_pdf())
    (store.directory / stored.stored_name).write_bytes(minimal_pdf() + b"% tampered")
    with pytest.raises(NotFound) as refused:
        open_original(store.directory, stored)
    assert "SHA-256" in refused.value.msgid


# --- pictures: the staff copy has no metadata --------------------------------------------------


def test_staff_copy_of_a_jpeg_has_no_exif_gps_icc_xmp_or_comment_while_the_original_keeps_them(store):
    data = jpeg_with_gps()
    stored = store.clean("现场照片.jpg", data)

    original = Image.open(store.directory / stored.stored_name)
    assert original.getexif().get_ifd(GPS)[2] == (39.0, 54.0, 15.0)
    assert original.info.get("icc_profile") and original.info.get("comment") == b"Zhang San"

    staff = Image.open(open_for_staff(store.directory, stored))
    assert staff.format == "JPEG"
    assert len(staff.getexif()) == 0
    assert not staff.getexif().get_ifd(GPS)
    for key in ("exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp"):
        assert key not in staff.info
    staff_bytes = (store.directory / stored.staff_name).read_bytes()
    assert b"Exif" not in staff_bytes and b"PhoneMaker" not in staff_bytes
    assert b"Zhang San" not in staff_bytes and b"xmpmeta" not in staff_bytes
    assert staff.getpixel((5, 5))[0] > 200  # still the red picture
    assert staff_content_type(stored) == "image/jpeg"


def test_staff_copy_is_turned_upright_from_the_exif_orientation(store):
    stored = store.clean("rotated.jpg", jpeg_with_gps(orientation=6, size=(40, 20)))  # 6: rotate 90° CW
    assert Image.open(store.directory / stored.stored_name).size == (40, 20)
    staff = Image.open(open_for_staff(store.directory, stored))
    assert staff.size == (20, 40)
    assert ORIENTATION not in staff.getexif()


def test_staff_copy_of_a_png_drops_text_exif_and_icc(store):
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Zhang San")
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = picture("PNG", mode="RGBA", pnginfo=text, exif=gps_exif(), icc_profile=srgb)
    stored = store.clean("chat.png", data)

    staff = Image.open(open_for_staff(store.directory, stored))
    assert staff.format == "PNG" and staff.mode == "RGBA"
    assert len(staff.getexif()) == 0
    assert not {"Author", "exif", "icc_profile"} & set(staff.info)
    assert b"Zhang San" not in (store.directory / stored.staff_name).read_bytes()


def test_animated_gif_keeps_its_frames_in_the_staff_copy(store):
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "green", "blue")]
    output = io.BytesIO()
    frames[0].save(
        output, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0, comment=b"Zhang San"
    )
    stored = store.clean("anim.gif", output.getvalue())
    staff = Image.open(open_for_staff(store.directory, stored))
    assert staff.n_frames == 3
    assert "comment" not in staff.info


def test_a_multi_picture_jpeg_gives_its_primary_picture(store):
    output = io.BytesIO()
    extra = Image.new("RGB", (20, 10), "blue")  # e.g. an HDR gain map
    Image.new("RGB", (40, 20), "red").save(output, "MPO", save_all=True, append_images=[extra])
    stored = store.clean("hdr.jpg", output.getvalue())
    staff = Image.open(open_for_staff(store.directory, stored))
    assert (staff.format, staff.size, getattr(staff, "n_frames", 1)) == ("JPEG", (40, 20), 1)


def test_a_picture_pillow_cannot_decode_is_refused(store):
    with pytest.raises(UploadRejected) as refused:
        store("broken.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"<script>alert(1)</script>" * 4)
    assert refused.value.params["name"] == "broken.jpg"
    assert not files_under(store.directory.parent)


def test_a_picture_too_large_to_decode_is_refused(store, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_DECODED_PIXELS", 100)
    with pytest.raises(UploadRejected, match="too large"):
        store("big.png", picture("PNG", size=(20, 20)))


def test_a_huge_jpeg_gets_a_reduced_staff_copy(store, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_DECODED_PIXELS", 200)
    stored = store.clean("big.jpg", picture("JPEG", size=(32, 16)))
    assert Image.open(open_for_staff(store.directory, stored)).size == (16, 8)


@pytest.mark.skipif("image/heic" in ACCEPTED, reason="a HEIF decoder is installed")
def test_heic_without_a_decoder_is_refused_with_advice():
    with pytest.raises(UploadRejected) as refused:
        detect_type(ftyp(b"heic", b"mif1", b"heic"), "IMG_0001.HEIC")
    assert "HEIC" in refused.value.msgid and refused.value.params["name"] == "IMG_0001.HEIC"


# --- refused files -----------------------------------------------------------------------------


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00" + bytes(52) + b"\x80\x00\x00\x00" + bytes(64) + b"PE\0\0" + bytes(64)


REFUSED = {
    "exe renamed photo.jpg": ("photo.jpg", exe),
    "html renamed .pdf": ("report.pdf", lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    "svg": (
        "drawing.svg",
        lambda: (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        ),
    ),
    "svg renamed .png": ("drawing.png", lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
    "plain zip renamed .docx": ("letter.docx", lambda: make_zip({"a.txt": b"hello"})),
    "OpenDocument renamed .docx": (
        "letter.docx",
        lambda: make_zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}),
    ),
    "two kinds of Office document in one": (
        "both.docx",
        lambda: make_zip(
            {"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>", "word/document.xml": b"<d/>"}
        ),
    ),
    "shell script": ("run.mp3", lambda: b"#!/bin/sh\nrm -rf /\n"),
    "ELF": ("video.mp4", lambda: b"\x7fELF\x02\x01\x01" + bytes(64)),
    "excel .xls (OLE2 without WordDocument)": ("sheet.doc", lambda: ole2("Root Entry", "Workbook")),
    "avif": ("photo.jpg", lambda: ftyp(b"avif", b"avif", b"mif1")),
    "text": ("notes.docx", lambda: "举报内容".encode()),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_other_content_is_refused_whatever_its_extension(store, case):
    filename, build = REFUSED[case]
    with pytest.raises(UploadRejected) as refused:
        store(filename, build())
    assert refused.value.params["name"] == filename
    assert "not accepted" in refused.value.msgid
    assert filename in str(refused.value)
    assert not files_under(store.directory.parent)


def test_a_zip_bomb_is_refused(store):
    bomb = docx({"word/media/image1.png": bytes(2 * 1024 * 1024)})  # ~2 MB of zeros in ~2 kB
    assert len(bomb) * uploads.MAX_UNZIP_RATIO < 2 * 1024 * 1024
    with pytest.raises(UploadRejected) as refused:
        store("bomb.docx", bomb)
    assert "too much data" in refused.value.msgid
    assert not files_under(store.directory.parent)


def test_a_docx_over_the_absolute_unzipped_limit_is_refused(store, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UNZIPPED_BYTES", 100)
    with pytest.raises(UploadRejected, match="too much data"):
        store("letter.docx", docx())


def test_a_docx_lying_about_its_sizes_is_refused(store):
    data = bytearray(docx({"word/media/big.bin": bytes(100_000)}))
    # Make the last member claim 100 bytes, in its local header and in the central directory.
    name = b"word/media/big.bin"
    local = data.index(b"PK\x03\x04", data.index(b"word/document.xml"))
    assert data[local + 30 : local + 30 + len(name)] == name
    struct.pack_into("<I", data, local + 22, 100)
    central = data.rindex(b"PK\x01\x02")
    assert data[central + 46 : central + 46 + len(name)] == name
    struct.pack_into("<I", data, central + 24, 100)
    with pytest.raises(UploadRejected) as refused:
        store("liar.docx", bytes(data))
    assert "damaged" in refused.value.msgid


def test_word_documents_with_macros_are_refused(store):
    with pytest.raises(UploadRejected, match="macros"):
        store("invoice.docx", docx({"word/vbaProject.bin": b"\xcc" * 100}))
    with pytest.raises(UploadRejected, match="macros"):
        store("invoice.doc", ole2("Root Entry", "WordDocument", "Macros", "_VBA_PROJECT"))


def test_a_password_protected_docx_is_refused(store):
    with pytest.raises(UploadRejected, match="password"):
        store("secret.docx", ole2("Root Entry", "EncryptionInfo", "EncryptedPackage"))


def test_an_empty_file_is_refused(store):
    with pytest.raises(UploadRejected) as refused:
        store("empty.jpg", b"")
    assert "empty" in refused.value.msgid
    with pytest.raises(UploadRejected):
        detect_type(b"", "empty.jpg")
    assert not files_under(store.directory.parent)


def test_a_file_over_the_limit_is_refused_with_the_limit_in_mb(store):
    data = picture("PNG")
    with pytest.raises(UploadRejected) as refused:
        store("photo.png", data + bytes(10 * 1024 * 1024), max_bytes=10 * 1024 * 1024)
    assert refused.value.params == {"name": "photo.png", "limit": "10"}
    assert "10 MB" in str(refused.value)
    assert store("photo.png", data, max_bytes=len(data)).size == len(data)


# --- names -------------------------------------------------------------------------------------


def test_a_chinese_file_name_is_kept(store):
    stored = store.clean("营业执照照片.jpg", jpeg_with_gps())
    assert stored.original_name == "营业执照照片.jpg"
    assert "营业" not in stored.stored_name + stored.staff_name
    assert download_name(stored) == "营业执照照片.jpg"


@pytest.mark.parametrize(
    "filename, expected",
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\x\\y.jpg", "y.jpg"),
        ("C:y.jpg", "y.jpg"),
        ("/tmp/../../x.jpg", "x.jpg"),
        ("a\x00b\nc\u202egpj.exe", "ab cgpj.exe"),  # NUL dropped, newline a space, RLO dropped
        ("..", "upload.png"),
        ("", "upload.png"),
    ],
)
def test_path_parts_and_control_characters_are_removed_and_nothing_is_written_outside(
    store, tmp_path, filename, expected
):
    stored = store.clean(filename, picture("PNG"))
    assert stored.original_name == expected
    assert files_under(tmp_path) == files_under(store.directory)
    assert {p.name for p in files_under(store.directory)} == {stored.stored_name, stored.staff_name}


def test_a_long_name_is_cut_to_200_characters_keeping_the_extension(store):
    stored = store("举" * 300 + ".jpg", jpeg_with_gps())
    assert len(stored.original_name) == 200 and stored.original_name.endswith("举.jpg")


def test_download_name_gets_the_real_extension_when_the_name_lies(store):
    assert download_name(store("x.hta", picture("PNG"))) == "x.hta.png"
    assert download_name(store("录音", wav())) == "录音.wav"
    assert download_name(store("通话.AMR", b"#!AMR\n" + bytes(32))) == "通话.AMR"


# --- storage -----------------------------------------------------------------------------------


def test_the_directory_is_created_and_no_temporary_file_is_left(store):
    assert not store.directory.exists()
    stored = store.clean("photo.jpg", jpeg_with_gps())
    assert store.directory.is_dir()
    assert sorted(os.listdir(store.directory)) == sorted([stored.stored_name, stored.staff_name])


def test_a_failed_write_leaves_nothing_behind(store, monkeypatch):
    real_write = uploads._write_atomic
    calls = []

    def failing_write(directory, name, data):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        real_write(directory, name, data)

    monkeypatch.setattr(uploads, "_write_atomic", failing_write)
    with pytest.raises(OSError, match="disk full"):
        store.clean("photo.jpg", jpeg_with_gps())
    assert len(calls) == 2
    assert os.listdir(store.directory) == []


def test_open_for_staff_refuses_anything_but_an_existing_generated_staff_name(store, tmp_path):
    photo = store.clean("photo.jpg", jpeg_with_gps())
    pdf = store.clean("licence.pdf", minimal_pdf())
    (tmp_path / "x").write_text("secret")
    assert open_for_staff(store.directory, photo.staff_name) == store.directory / photo.staff_name
    assert open_for_staff(str(store.directory), pdf.staff_name) == store.directory / pdf.staff_name
    refused = [
        pdf.stored_name,  # every original keeps its hidden data (a PDF's author...)
        "../x",
        "x",
        "",
        str(tmp_path / "x"),
        "/etc/passwd",
        f"../{photo.staff_name}",
        f"{photo.staff_name}/../../x",
        photo.stored_name,  # the original of a picture keeps its GPS tags
        "0" * 32 + ".pdf",  # well formed but unknown
        "0" * 32 + ".staff.jpg",
        photo.staff_name.upper(),
        photo.staff_name + "\x00",
        None,
    ]
    for name in refused:
        with pytest.raises(NotFound):
            open_for_staff(store.directory, name)


def test_delete_stored_removes_both_files(store):
    photo = store.clean("photo.jpg", jpeg_with_gps())
    pdf = store.clean("licence.pdf", minimal_pdf())
    delete_stored(store.directory, photo)
    assert {p.name for p in files_under(store.directory)} == {pdf.stored_name, pdf.staff_name}
    delete_stored(store.directory, photo)  # already gone: fine
    delete_stored(store.directory, pdf)
    assert not files_under(store.directory)
    with pytest.raises(NotFound):
        open_for_staff(store.directory, photo)


def test_delete_stored_never_touches_a_name_it_did_not_generate(store, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    forged = StoredFile("../victim.txt", "../victim.txt", "x", "application/pdf", 1, "0" * 64)
    delete_stored(store.directory, forged)
    assert victim.exists()
