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
from PIL import Image, ImageChops

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


@pytest.mark.parametrize("extension", ["emf", "wmf"])
def test_a_document_with_a_windows_drawing_is_refused_with_advice_to_send_a_pdf(extension):
    original = s.docx_with_drawing(extension)
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        drawing = archive.read(f"word/media/image2.{extension}")
    assert f"C:\\Users\\{s.AUTHOR}\\".encode("utf-16-le") in drawing  # what `unzip -p` shows
    with pytest.raises(UploadRejected) as refused:
        clean_copy(original, DOCX, "drawing.docx")
    assert refused.value.msgid == scrub.DRAWING and refused.value.params["name"] == "drawing.docx"
    assert "PDF" in refused.value.msgid


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
    for broken in (b"not a jpeg", original[:20] + b"\x00" + original[20:]):  # never passed on as it is
        with pytest.raises(scrub.CannotClean):
            scrub.strip_jpeg_segments(broken)


# What an attacker review found kept: a picture inside a PDF whose filter is a list, a JPEG 2000
# or JBIG2 picture, a JPEG written inside the page, and private keys of the catalog and pages.
# Each is read back with poppler's pdfimages (pictures as stored) and exiftool, and with zlib
# and a regular expression over the raw bytes.


def pdf_picture_reading(data: bytes) -> str:
    return s.pdf_images_exif(data) + s.pdf_strings(data)


def assert_same_page(original: bytes, copy: bytes) -> None:
    drawn = s.pdf_page_pixels(original)
    assert ImageChops.invert(drawn).getbbox() == (36, 72, 69, 97)  # the picture is drawn...
    assert ImageChops.difference(drawn, s.pdf_page_pixels(copy)).getbbox() is None  # ...unchanged


@pytest.mark.parametrize(
    "filters",
    [["/DCTDecode"], ["/FlateDecode", "/DCTDecode"], ["/ASCIIHexDecode", "/FlateDecode", "/DCTDecode"]],
    ids=["array", "flate-then-jpeg", "hex-flate-then-jpeg"],
)
def test_a_jpeg_in_a_pdf_loses_its_exif_whatever_its_list_of_filters(filters):
    original = s.pdf_with_picture(s.exif_jpeg(), filters)
    assert set(s.canaries_in(s.pdf_images_exif(original))) == {s.AUTHOR, "39.9042", "116.4074"}
    copy = clean_copy(original, "application/pdf", "photo.pdf")
    assert s.canaries_in(pdf_picture_reading(copy)) == []
    (picture,) = s.pdf_pictures(copy)
    assert "GPS" not in s.exiftool(picture) and "Artist" not in s.exiftool(picture)
    assert_same_page(original, copy)


@pytest.mark.parametrize("codestream_only", [False, True], ids=["jp2-file", "bare-codestream"])
def test_a_jpeg_2000_picture_in_a_pdf_loses_its_xmp_exif_and_comment(codestream_only):
    original = s.pdf_with_picture(s.jpeg_2000(codestream_only), ["/JPXDecode"])
    found = set(s.canaries_in(pdf_picture_reading(original)))
    assert found == ({s.LOGIN} if codestream_only else {s.AUTHOR, s.LOGIN, "39.9042", "116.4074"})
    copy = clean_copy(original, "application/pdf", "scan.pdf")
    assert s.canaries_in(pdf_picture_reading(copy)) == []
    (picture,) = s.pdf_pictures(copy)
    assert Image.open(io.BytesIO(picture)).size == (32, 24)
    assert_same_page(original, copy)


def test_a_jbig2_picture_in_a_pdf_loses_its_comment_segment():
    original = s.pdf_with_picture(s.jbig2_with_comment(), ["/JBIG2Decode"], jbig2=True)
    assert s.LOGIN in s.pdf_strings(original)
    copy = clean_copy(original, "application/pdf", "scan.pdf")
    assert s.canaries_in(pdf_picture_reading(copy)) == []
    assert len(s.pdf_pictures(copy)) == 1
    assert_same_page(original, copy)


def test_a_jpeg_written_inside_a_pages_content_loses_its_exif():
    original = s.pdf_with_picture(s.exif_jpeg(), ["/DCTDecode"], inline=True)
    assert set(s.canaries_in(s.pdf_images_exif(original))) == {s.AUTHOR, "39.9042", "116.4074"}
    copy = clean_copy(original, "application/pdf", "inline.pdf")
    assert s.canaries_in(pdf_picture_reading(copy)) == []
    assert_same_page(original, copy)


@pytest.mark.parametrize("filters", [["/DCTDecode", "/FlateDecode"], ["/FlateDecode", "/ZipDecode"]])
def test_a_picture_whose_filters_the_cleaner_cannot_read_is_refused(filters):
    import pikepdf

    with pikepdf.open(io.BytesIO(s.pdf_with_picture(s.exif_jpeg(), ["/DCTDecode"]))) as document:
        image = document.pages[0].Resources.XObject.Im1
        image.Filter = pikepdf.Array([pikepdf.Name(f) for f in filters])
        output = io.BytesIO()
        document.save(output)
    with pytest.raises(UploadRejected) as refused:
        clean_copy(output.getvalue(), "application/pdf", "odd.pdf")
    assert refused.value.msgid == scrub.PDF_PICTURE and refused.value.params["name"] == "odd.pdf"


def test_private_keys_of_the_catalog_and_the_pages_are_not_in_the_pdfs_copy():
    import pikepdf

    original = s.pdf_with_private_keys()
    assert set(s.canaries_in(s.pdf_strings(original))) == {s.AUTHOR, s.COMPANY, s.LOGIN}
    copy = clean_copy(original, "application/pdf", "note.pdf")
    assert s.canaries_in(s.pdf_strings(copy) + s.poppler_reading(copy) + s.exiftool(copy)) == []
    assert "13812345678" not in s.pdf_strings(copy)
    assert "Construction at night, site 7" in s.pdf_text(copy)  # the page is still there
    with pikepdf.open(io.BytesIO(copy)) as pdf:
        assert set(pdf.Root.keys()) <= scrub._PDF_CATALOG_KEYS and "/Pages" in pdf.Root
        assert "/ReporterNote" not in pdf.pages[0].obj and "/PieceInfo" not in pdf.pages[0].obj


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


# Video streams are copied, not re-encoded, and a stream copy keeps the SEI messages inside the
# frames: user data such as a name and a phone number put there with ffmpeg's h264_metadata,
# and the encoder's settings string. Read back with grep of the raw bytes and ffprobe's frames.

UNREGISTERED_SEI = "User Data Unregistered SEI message"


def video_frames(data: bytes) -> int:
    return s.ffprobe_frames(data).count('"media_type": "video"')


def test_sei_user_data_put_into_an_h264_video_is_not_in_the_copy():
    original = s.h264_with_user_data()
    assert s.PHONE_TAG.encode() in original and b"x264 - core" in original
    assert UNREGISTERED_SEI in s.ffprobe_frames(original)
    copy = clean_copy(original, "video/mp4", "clip.mp4")
    assert s.PHONE_TAG.encode() not in copy and b"x264" not in copy
    assert b"ZhangJianguo" not in copy and b"13812345678" not in copy
    assert UNREGISTERED_SEI not in s.ffprobe_frames(copy)
    assert video_frames(copy) == video_frames(original) == 10  # every picture still there
    assert codecs(copy) == [b"h264", b"aac"]


def codecs(data: bytes) -> list[bytes]:
    command = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", "-"]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout.split()


def test_an_hevc_videos_copy_has_no_sei_in_its_frames_or_its_decoder_configuration():
    original = s.hevc_video()
    assert b"x265 (build" in original and UNREGISTERED_SEI in s.ffprobe_frames(original)
    copy = clean_copy(original, "video/mp4", "clip.mp4")
    assert b"x265" not in copy and UNREGISTERED_SEI not in s.ffprobe_frames(copy)
    assert video_frames(copy) == 10 and codecs(copy) == [b"hevc", b"aac"]  # copied, not re-encoded


def test_a_video_in_another_codec_is_re_encoded_without_its_user_data():
    original = s.mpeg4_with_user_data()
    assert s.PHONE_TAG.encode() in original
    copy = clean_copy(original, "video/quicktime", "clip.mov")
    assert s.PHONE_TAG.encode() not in copy and b"ZhangJianguo" not in copy
    assert detect_type(copy, "copy.mov") == "video/quicktime" and video_frames(copy) == 10
    assert codecs(original) == [b"mpeg4", b"aac"] and codecs(copy) == [b"h264", b"aac"]
    assert UNREGISTERED_SEI not in s.ffprobe_frames(copy) and b"x264 - core" not in copy
