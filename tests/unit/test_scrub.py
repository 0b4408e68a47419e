"""The copy staff open has none of the hidden data that names the reporter (issue 13, point 3).

Each test builds a file with canaries (author 张建国, company 石门市恒达建材有限公司, an account
name, the GPS position 39.9042, 116.4074) where phones, Office and PDF tools put them, checks
with an independent reader (exiftool, poppler's pdfinfo/pdfdetach/pdfimages, ffprobe, zipfile,
zlib) that the original carries them, then that the staff copy made by ``app.uploads.clean_copy``
carries none of them and still shows the content."""

from __future__ import annotations

import io
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from app import scrub
from app.uploads import DOCX, PPTX, XLSX, UploadRejected, clean_copy, detect_type
from tests import metadata_samples as s


def hidden_in_picture(data: bytes) -> list[str]:
    return s.canaries_in(s.exiftool(data) + data.decode("latin-1") + data.decode("utf-8", "replace"))


@pytest.mark.parametrize(
    "build, content_type",
    [(s.jpeg, "image/jpeg"), (s.png, "image/png"), (s.webp, "image/webp")],
    ids=["jpeg-exif-xmp-comment", "png-text-chunks-exif", "webp-exif-xmp"],
)
def test_a_pictures_copy_has_no_gps_author_or_text_chunks(build, content_type):
    original = build()
    assert set(hidden_in_picture(original)) >= {s.LOGIN, "39.9042", "116.4074"}
    copy = clean_copy(original, content_type, "photo")
    assert hidden_in_picture(copy) == []
    assert "GPS" not in s.exiftool(copy)
    assert Image.open(io.BytesIO(copy)).size == (64, 48)


# --- Office documents --------------------------------------------------------------------------


def office_reading(data: bytes) -> str:
    """What anyone can read: exiftool (document properties), every member unzipped (as `unzip
    -p` shows), exiftool of every picture inside."""
    return s.exiftool(data) + s.unzipped_text(data) + s.embedded_exif(data)


@pytest.mark.parametrize(
    "build, content_type", [(s.docx, DOCX), (s.xlsx, XLSX), (s.pptx, PPTX)], ids=["docx", "xlsx", "pptx"]
)
def test_an_office_documents_copy_has_no_author_company_commenter_or_photo_position(build, content_type):
    original = build()
    assert set(s.canaries_in(office_reading(original))) == set(s.CANARIES)
    copy = clean_copy(original, content_type, "document")
    found = office_reading(copy)
    assert s.canaries_in(found) == []
    assert s.BODY in s.unzipped_text(copy)  # the content the handler needs is still there
    assert detect_type(copy, "copy") == content_type  # still a sound document of its kind
    with zipfile.ZipFile(io.BytesIO(copy)) as archive:
        assert archive.comment == b""
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}  # no save time


def test_a_docx_copy_keeps_its_revisions_and_comments_without_their_authors():
    copy = clean_copy(s.docx(), DOCX, "letter.docx")
    with zipfile.ZipFile(io.BytesIO(copy)) as archive:
        document = archive.read("word/document.xml").decode()
        comments = archive.read("word/comments.xml").decode()
        settings = archive.read("word/settings.xml").decode()
        rels = archive.read("word/_rels/settings.xml.rels").decode()
        core = archive.read("docProps/core.xml").decode()
    assert "补充内容" in document and "<w:ins" in document and 'w:author=""' in document
    assert "w:date" not in document and "rsid" not in document
    assert "请核实" in comments and 'w:author=""' in comments and 'w:initials=""' in comments
    assert "attachedTemplate" not in settings and "docVars" not in settings and "rsids" not in settings
    assert "file:" not in rels and "Users" not in rels
    assert "creator" not in core and "lastModifiedBy" not in core
    # Namespace prefixes are kept exactly (Word refuses a file whose mc:Ignorable names a
    # prefix that is no longer declared).
    assert 'mc:Ignorable="w15"' in document and 'xmlns:w15="' in document


def test_an_office_document_with_an_embedded_object_that_cannot_be_cleaned_is_refused():
    data = s.docx()
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("word/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0" + s.AUTHOR.encode() * 10)
    with pytest.raises(UploadRejected) as refused:
        clean_copy(output.getvalue(), DOCX, "with-object.docx")
    assert refused.value.msgid == scrub.EMBEDDED and refused.value.params["name"] == "with-object.docx"


def test_an_office_document_inside_one_is_cleaned_too():
    data = s.docx()
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("word/embeddings/Microsoft_Excel_Worksheet.xlsx", s.xlsx())
    copy = clean_copy(output.getvalue(), DOCX, "nested.docx")
    with zipfile.ZipFile(io.BytesIO(copy)) as archive:
        inner = archive.read("word/embeddings/Microsoft_Excel_Worksheet.xlsx")
    assert s.canaries_in(office_reading(inner)) == []
    assert s.BODY in s.unzipped_text(inner)


def test_an_office_part_with_a_doctype_is_refused():
    data = s.docx()
    output = io.BytesIO()
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            content = bomb.encode() if info.filename == "word/comments.xml" else source.read(info)
            target.writestr(info, content)
    with pytest.raises(UploadRejected) as refused:
        clean_copy(output.getvalue(), DOCX, "entities.docx")
    assert refused.value.msgid == scrub.DAMAGED


# --- PDF -----------------------------------------------------------------------------------------


def pdf_reading(data: bytes) -> str:
    return s.poppler_reading(data) + s.exiftool(data) + s.pdf_raw_text(data) + s.pdf_images_exif(data)


def test_a_pdfs_copy_has_no_author_xmp_commenter_attachment_or_photo_position():
    original = s.pdf()
    assert set(s.canaries_in(pdf_reading(original))) == set(s.CANARIES)
    assert "owner.txt" in s.poppler_reading(original)
    copy = clean_copy(original, "application/pdf", "licence.pdf")
    assert s.canaries_in(pdf_reading(copy)) == []
    reading = s.poppler_reading(copy)
    assert "Author" not in reading and "owner.txt" not in reading and "<x:xmpmeta" not in reading
    assert "Construction at night, site 7" in s.pdf_text(copy)  # the text stays text
    assert s.pdf_images_exif(copy).count("Image Width") == 1  # the photo is still there


def test_a_pdfs_copy_keeps_its_links_and_the_comment_text():
    import pikepdf

    copy = clean_copy(s.pdf(), "application/pdf", "licence.pdf")
    with pikepdf.open(io.BytesIO(copy)) as pdf:
        (note,) = pdf.pages[0].Annots
        assert str(note.Contents) == "please check" and "/T" not in note


def test_a_password_protected_pdf_is_refused():
    import pikepdf

    document = pikepdf.new()
    document.add_blank_page()
    output = io.BytesIO()
    document.save(output, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    with pytest.raises(UploadRejected) as refused:
        clean_copy(output.getvalue(), "application/pdf", "secret.pdf")
    assert refused.value.msgid == scrub.PROTECTED


def test_a_damaged_pdf_is_refused():
    with pytest.raises(UploadRejected) as refused:
        clean_copy(b"%PDF-1.7\n" + b"\x00garbage" * 50, "application/pdf", "broken.pdf")
    assert refused.value.msgid == scrub.DAMAGED and refused.value.params["name"] == "broken.pdf"


def test_jpeg_segments_that_carry_metadata_are_dropped_and_the_picture_kept():
    original = s.jpeg()
    stripped = scrub.strip_jpeg_segments(original)
    assert hidden_in_picture(stripped) == [] and hidden_in_picture(original)
    assert Image.open(io.BytesIO(stripped)).size == (64, 48)
    assert stripped.endswith(original[original.index(b"\xff\xda") :])  # the scan data unchanged
    assert scrub.strip_jpeg_segments(b"not a jpeg") == b"not a jpeg"


# --- audio and video -----------------------------------------------------------------------------

MEDIA = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "3gp": "video/3gpp",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
}


def media_reading(data: bytes) -> str:
    return s.ffprobe_tags(data) + s.exiftool(data)


@pytest.mark.parametrize("kind", list(MEDIA))
def test_a_recordings_or_videos_copy_has_no_location_artist_date_or_device(kind):
    original = s.ffmpeg_file(kind)
    content_type = detect_type(original, f"clip.{kind}")
    assert content_type == MEDIA[kind]
    assert {s.AUTHOR, s.LOGIN} <= set(s.canaries_in(media_reading(original)))
    copy = clean_copy(original, content_type, f"clip.{kind}")
    assert s.canaries_in(media_reading(copy)) == []
    assert "2026" not in s.ffprobe_tags(copy)  # no capture date
    assert detect_type(copy, f"copy.{kind}") == content_type
    streams = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", "-"],
        input=copy,
        capture_output=True,
        check=True,
    ).stdout.split()
    assert streams == ([b"video", b"audio"] if MEDIA[kind].startswith("video") else [b"audio"])


def test_a_videos_cover_picture_is_not_in_the_copy():
    video = s.ffmpeg_file("mp4")
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "v.mp4").write_bytes(video)
        (Path(work) / "cover.jpg").write_bytes(s.jpeg())
        out = Path(work) / "with-cover.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(Path(work) / "v.mp4"), "-i", str(Path(work) / "cover.jpg")]
            + ["-map", "0", "-map", "1", "-c", "copy", "-disposition:v:1", "attached_pic", str(out)],
            check=True,
        )
        original = out.read_bytes()
    assert "39.9042" in s.exiftool(original) or s.LOGIN.encode() in original
    copy = clean_copy(original, "video/mp4", "with-cover.mp4")
    assert s.LOGIN.encode() not in copy and "39.9042" not in s.exiftool(copy)


def test_a_file_ffmpeg_cannot_read_is_refused():
    fake = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\0\0\0\x10mdat" + bytes(8)
    with pytest.raises(UploadRejected) as refused:
        clean_copy(fake, "video/mp4", "broken.mp4")
    assert refused.value.msgid == scrub.DAMAGED
