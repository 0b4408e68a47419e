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


# --- second attack (issue 13): private data outside the catalog, Word's own traces ------------

NOTE = f"{s.AUTHOR} 13812345678 {s.LOGIN}"


def pdf_with_private_keys_everywhere() -> bytes:
    """The attacker's construction: a /ReporterNote in the trailer, an annotation, the form,
    the bookmarks, the viewer preferences and the mark information, a page label prefix with a
    name, and a picture whose /OPI names the original file on the author's computer."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    with pikepdf.open(io.BytesIO(s.pdf())) as pdf:
        note = String(NOTE)
        picture = pikepdf.Stream(pdf, s.jpeg())
        picture.Type, picture.Subtype, picture.Filter = Name.XObject, Name.Image, Name.DCTDecode
        picture.Width, picture.Height, picture.ColorSpace, picture.BitsPerComponent = (
            64,
            48,
            Name.DeviceRGB,
            8,
        )
        picture.ReporterNote = note
        picture.Name = Name(f"/{s.LOGIN}")
        path = String(f"C:\\Users\\{s.AUTHOR}\\Pictures\\IMG_13812345678.jpg")
        picture.OPI = Dictionary(
            {"/2.0": Dictionary(Type=Name.OPI, Version=2.0, F=path, Inks=Name.full_color)}
        )
        page = pdf.pages[0].obj
        page.Resources.XObject = Dictionary(Im0=pdf.make_indirect(picture))
        comment = Dictionary(Type=Name.Annot, Subtype=Name.Text, Rect=[10, 10, 20, 20], Contents=String("ok"))
        comment.ReporterNote = note
        page.Annots = Array([pdf.make_indirect(comment)])
        pdf.trailer.ReporterNote = note
        pdf.Root.AcroForm = Dictionary(Fields=Array([]), ReporterNote=note)
        pdf.Root.Outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=0, ReporterNote=note))
        pdf.Root.ViewerPreferences = Dictionary(ReporterNote=note)
        pdf.Root.MarkInfo = Dictionary(Marked=True, ReporterNote=note)
        pdf.Root.PageLabels = Dictionary(Nums=Array([0, Dictionary(S=Name.D, P=String(f"{s.AUTHOR}-"))]))
        output = io.BytesIO()
        pdf.save(output, compress_streams=False)
    return output.getvalue()


def test_private_keys_anywhere_in_a_pdf_and_a_pictures_original_path_are_not_in_the_copy():
    import pikepdf

    original = pdf_with_private_keys_everywhere()
    assert s.AUTHOR in s.pdf_strings(original) and "IMG_13812345678" in s.pdf_strings(original)
    copy = clean_copy(original, "application/pdf", "note.pdf")
    strings = s.pdf_strings(copy)
    assert s.canaries_in(strings) == [] and "13812345678" not in strings
    assert b"/ReporterNote" not in copy and b"/OPI" not in copy and s.LOGIN.encode() not in copy
    assert "Construction at night, site 7" in s.pdf_text(copy)
    with pikepdf.open(io.BytesIO(copy)) as pdf:
        assert set(pdf.trailer.keys()) <= {"/Size", "/Root", "/ID"}
        assert pdf.Root.MarkInfo.Marked and pdf.Root.PageLabels.Nums[1].S == "/D"  # kept, no prefix
        assert [str(a.Contents) for a in pdf.pages[0].obj.Annots] == ["ok"]


PICTURE_PATH = f"C:\\Users\\zhangjianguo\\Pictures\\{s.AUTHOR}_13812345678.png"
CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org'
    '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default '
    'Extension="png" ContentType="image/png"/><Default Extension="odttf" ContentType="application/vnd.'
    'openxmlformats-officedocument.obfuscatedFont"/><Override PartName="/word/document.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
NS = (
    f'xmlns:w="{s.W}" xmlns:r="{s.R}" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    ' xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
    ' xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
)


def rels(*relationships: tuple[str, str, str]) -> str:
    items = "".join(
        f'<Relationship Id="{i}" Type="{t}" Target="{target}"'
        + (' TargetMode="External"' if target.startswith("file:") else "")
        + "/>"
        for i, t, target in relationships
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{s.PKG_REL}">{items}</Relationships>'


def docx_parts(body: str, extra: dict[str, str | bytes]) -> bytes:
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document {NS}><w:body><w:p><w:r><w:t>{s.BODY}</w:t></w:r>'
    )
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as package:
        package.writestr("[Content_Types].xml", CT)
        package.writestr("word/document.xml", document + body + "</w:p></w:body></w:document>")
        for name, content in {
            "_rels/.rels": rels(("rId1", f"{s.REL}/officeDocument", "word/document.xml"))
        }.items():
            package.writestr(name, content)
        for name, content in extra.items():
            package.writestr(name, content)
    return output.getvalue()


def all_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return "\n".join(package.read(n).decode("utf-8", "replace") for n in package.namelist())


def test_a_docx_copy_has_no_picture_path_mail_merge_source_field_path_or_signature():
    cert = "MIIB" + base64_text(f"CN=Zhang Jianguo/emailAddress={s.LOGIN}@163.com")
    picture = (
        f'<w:r><w:drawing><wp:inline><wp:extent cx="9144" cy="9144"/><wp:docPr id="1" name="{PICTURE_PATH}"'
        f' descr="{PICTURE_PATH}" title="{s.AUTHOR}"/><a:graphic><a:graphicData uri="http://schemas.'
        'openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="0" name='
        f'"{PICTURE_PATH}" descr="{PICTURE_PATH}"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip '
        'r:embed="rId5"/></pic:blipFill><pic:spPr/></pic:pic></a:graphicData></a:graphic></wp:inline>'
        "</w:drawing></w:r>"
    )
    field = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> INCLUDEPICTURE '
        f'"C:\\\\Users\\\\{s.AUTHOR}\\\\Desktop\\\\</w:instrText></w:r><w:r><w:instrText>ID_13812345678.jpg" '
        '\\* MERGEFORMAT </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    source = f"C:\\Users\\{s.AUTHOR}\\Documents\\{s.COMPANY}13812345678.xlsx"
    settings = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:settings {NS}><w:mailMerge><w:mainDocumentType '
        'w:val="formLetters"/><w:connectString w:val="Provider=Microsoft.ACE.OLEDB.12.0;'
        f'Data Source={source}"/>'
        f'<w:query w:val="SELECT * FROM `{source}`"/><w:dataSource r:id="rId9"/></w:mailMerge></w:settings>'
    )
    signature = (
        '<?xml version="1.0" encoding="UTF-8"?><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><KeyInfo>'
        f"<X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo><Object><SignatureInfoV1 "
        f'xmlns="http://schemas.microsoft.com/office/2006/digsig"><SignatureText>{s.AUTHOR}</SignatureText>'
        "</SignatureInfoV1></Object></Signature>"
    )
    original = docx_parts(
        picture + field,
        {
            "word/media/image1.png": s.png(),
            "word/settings.xml": settings,
            "word/_rels/settings.xml.rels": rels(("rId9", f"{s.REL}/mailMergeSource", f"file:///{source}")),
            "word/_rels/document.xml.rels": rels(
                ("rId5", f"{s.REL}/image", "media/image1.png"), ("rId6", f"{s.REL}/settings", "settings.xml")
            ),
            "_xmlsignatures/origin.sigs": b"",
            "_xmlsignatures/_rels/origin.sigs.rels": rels(
                ("rId1", f"{s.PKG_REL}/digital-signature/signature", "sig1.xml")
            ),
            "_xmlsignatures/sig1.xml": signature,
        },
    )
    assert (
        s.AUTHOR in all_xml(original)
        and "_xmlsignatures/sig1.xml" in zipfile.ZipFile(io.BytesIO(original)).namelist()
    )
    copy = clean_copy(original, DOCX, "letter.docx")
    text = all_xml(copy)
    assert s.canaries_in(text) == [] and "13812345678" not in text and "Users" not in text
    assert "mailMerge" not in text and "Zhang" not in text and "digital-signature" not in text
    names = zipfile.ZipFile(io.BytesIO(copy)).namelist()
    assert not [n for n in names if n.startswith("_xmlsignatures/")]
    assert s.BODY in text and "word/media/image1.png" in names and 'r:embed="rId5"' in text  # picture kept
    assert "INCLUDEPICTURE" in text  # the field stays, without its path


def base64_text(value: str) -> str:
    import base64

    return base64.b64encode(value.encode()).decode()


def test_an_embedded_font_is_dropped_with_its_relationships():
    font = b"\x00\x01\x00\x00" + f"{s.AUTHOR} 13812345678 {s.LOGIN}".encode("utf-16-le") * 4
    table = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:fonts {NS}><w:font w:name="Calibri"><w:embedRegular '
        'r:id="rId1" w:fontKey="{00000000-0000-0000-0000-000000000000}"/></w:font></w:fonts>'
    )
    original = docx_parts(
        "",
        {
            "word/fontTable.xml": table,
            "word/_rels/fontTable.xml.rels": rels(("rId1", f"{s.REL}/font", "fonts/font1.odttf")),
            "word/fonts/font1.odttf": font,
        },
    )
    copy = clean_copy(original, DOCX, "letter.docx")
    names = zipfile.ZipFile(io.BytesIO(copy)).namelist()
    assert not [n for n in names if n.endswith(".odttf")] and font not in copy
    text = all_xml(copy)
    assert "font1.odttf" not in text and "embedRegular" not in text and 'w:name="Calibri"' in text
    assert s.LOGIN.encode("utf-16-le") not in copy and s.BODY in text


def test_h264_data_partitions_carrying_text_are_not_in_the_copy():
    with tempfile.TemporaryDirectory() as work:
        stream = Path(work) / "in.h264"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "1"]
            + [
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-bsf:v",
                "filter_units=remove_types=6",
                str(stream),
            ],
            check=True,
        )
        units = stream.read_bytes().split(b"\x00\x00\x00\x01")
        partition = b"\x02ZhangJianguo-13812345678\x80"  # NAL unit type 2: data partition A
        marked = b"".join(
            b"\x00\x00\x00\x01"
            + u
            + (b"\x00\x00\x00\x01" + partition if u and u[0] & 0x1F in (1, 5) else b"")
            for u in units
            if u
        )
        stream.write_bytes(marked)
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-r",
                "10",
                "-f",
                "h264",
                "-i",
                str(stream),
                "-c",
                "copy",
                str(Path(work) / "o.mp4"),
            ],
            check=True,
        )
        original = (Path(work) / "o.mp4").read_bytes()
    assert b"ZhangJianguo-13812345678" in original
    copy = clean_copy(original, "video/mp4", "clip.mp4")
    assert b"ZhangJianguo" not in copy and b"13812345678" not in copy
    assert video_frames(copy) == video_frames(original) > 0 and codecs(copy) == [b"h264"]
