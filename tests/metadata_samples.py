"""Files with hidden data that names the reporter, built at test time (no sample file is shipped):
the canaries below sit where phones, Office and PDF tools put them, never in the visible content.

``hidden_text`` and the other readers are independent of the cleaning code (exiftool, poppler,
ffprobe, zipfile and zlib), so a test that finds no canary in a staff copy is not the cleaner
agreeing with itself."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

from PIL import Image

AUTHOR = "张建国"
COMPANY = "石门市恒达建材有限公司"
LOGIN = "zhangjg-canary"  # an account name / ASCII canary (PDF strings, paths, e-mail)
GPS = "+39.9042+116.4074/"
BODY = "举报材料正文：工地夜间施工。"  # visible content: must survive cleaning
CANARIES = (AUTHOR, COMPANY, LOGIN, "39.9042", "116.4074")


def tools_missing(*names: str) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


# --- pictures --------------------------------------------------------------------------------


def canary_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CanaryPhone"  # Make
    exif[0x013B] = LOGIN  # Artist
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (39.0, 54.0, 15.12), 3: "E", 4: (116.0, 24.0, 26.64)})
    return exif


def canary_xmp() -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>'
        f"{AUTHOR} {LOGIN}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def jpeg(size=(64, 48)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, "red").save(
        output, "JPEG", exif=canary_exif(), xmp=canary_xmp(), comment=LOGIN.encode()
    )
    return output.getvalue()


def png() -> bytes:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_itxt("Author", AUTHOR)
    text.add_text("Comment", LOGIN)
    text.add_itxt("XML:com.adobe.xmp", canary_xmp().decode())
    output = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(output, "PNG", pnginfo=text, exif=canary_exif())
    return output.getvalue()


def webp() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(output, "WEBP", exif=canary_exif(), xmp=canary_xmp())
    return output.getvalue()


# --- Office documents --------------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"


def _props() -> dict[str, str]:
    return {
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            "<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>举报</dc:title><dc:creator>{AUTHOR}</dc:creator><cp:lastModifiedBy>{LOGIN}</cp:lastModifiedBy>"
            '<dcterms:created xsi:type="dcterms:W3CDTF">2026-05-01T08:00:00Z</dcterms:created>'
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            f"<Template>Normal.dotm</Template><Company>{COMPANY}</Company><Manager>{AUTHOR}</Manager>"
            "<Application>Microsoft Office Word</Application></Properties>"
        ),
        "docProps/custom.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="联系人">'
            f"<vt:lpwstr>{AUTHOR} {LOGIN}@hengda.example</vt:lpwstr></property></Properties>"
        ),
    }


def _package(
    main_type: str, main_part: str, parts: dict[str, str | bytes], overrides: dict[str, str]
) -> bytes:
    types = {
        "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
        "/docProps/app.xml": "application/vnd.openxmlformats-officedocument.extended-properties+xml",
        "/docProps/custom.xml": "application/vnd.openxmlformats-officedocument.custom-properties+xml",
        f"/{main_part}": main_type,
        **overrides,
    }
    content_types = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="jpeg" ContentType="image/jpeg"/>'
        + "".join(f'<Override PartName="{k}" ContentType="{v}"/>' for k, v in types.items())
        + "</Types>"
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="{main_part}"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/>'
        f'<Relationship Id="rId4" Type="{REL}/custom-properties" Target="docProps/custom.xml"/>'
        '<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'thumbnail" Target="docProps/thumbnail.jpeg"/>'
        "</Relationships>"
    )
    members = {"[Content_Types].xml": content_types, "_rels/.rels": rels, **_props()}
    members["docProps/thumbnail.jpeg"] = jpeg()
    members.update(parts)
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.comment = LOGIN.encode()
        for name, content in members.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return output.getvalue()


def docx() -> bytes:
    w15 = "http://schemas.microsoft.com/office/word/2012/wordml"
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}" xmlns:r="{R}" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        f'xmlns:w15="{w15}" mc:Ignorable="w15"><w:body>'
        f'<w:p w:rsidR="00A1B2C3"><w:r><w:t>{BODY}</w:t></w:r></w:p>'
        f'<w:p><w:ins w:id="1" w:author="{AUTHOR}" w:date="2026-05-01T08:00:00Z">'
        "<w:r><w:t>补充内容</w:t></w:r></w:ins>"
        f'<w:del w:id="2" w:author="{LOGIN}" w:date="2026-05-01T08:01:00Z">'
        "<w:r><w:delText>删去</w:delText></w:r></w:del>"
        '<w:commentRangeStart w:id="0"/><w:r><w:t>有问题</w:t></w:r><w:commentRangeEnd w:id="0"/>'
        '<w:r><w:commentReference w:id="0"/></w:r></w:p>'
        '<w:p><w:r><w:drawing><a:blip xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'r:embed="rId9"/></w:drawing></w:r></w:p>'
        "</w:body></w:document>"
    )
    parts = {
        "word/document.xml": document,
        "word/_rels/document.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId7" Type="{REL}/comments" Target="comments.xml"/>'
            '<Relationship Id="rId8" Type="http://schemas.microsoft.com/office/2011/relationships/people" '
            'Target="people.xml"/>'
            f'<Relationship Id="rId9" Type="{REL}/image" Target="media/image1.jpeg"/>'
            f'<Relationship Id="rId10" Type="{REL}/settings" Target="settings.xml"/>'
            "</Relationships>"
        ),
        "word/comments.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments xmlns:w="{W}">'
            f'<w:comment w:id="0" w:author="{AUTHOR}" w:initials="ZJG" w:date="2026-05-01T08:00:00Z">'
            "<w:p><w:r><w:t>请核实</w:t></w:r></w:p></w:comment></w:comments>"
        ),
        "word/people.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w15:people xmlns:w15="{w15}">'
            f'<w15:person w15:author="{AUTHOR}"><w15:presenceInfo w15:providerId="AD" '
            f'w15:userId="S::{LOGIN}@hengda.example::1"/></w15:person></w15:people>'
        ),
        "word/settings.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings xmlns:w="{W}" xmlns:r="{R}">'
            '<w:attachedTemplate r:id="rId1"/><w:docVars><w:docVar w:name="owner" '
            f'w:val="{AUTHOR}"/></w:docVars><w:rsids><w:rsidRoot w:val="00A1B2C3"/></w:rsids></w:settings>'
        ),
        "word/_rels/settings.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Type="{REL}/attachedTemplate" '
            f'Target="file:///C:/Users/{LOGIN}/AppData/Roaming/Microsoft/Templates/Normal.dotm" '
            'TargetMode="External"/></Relationships>'
        ),
        "word/media/image1.jpeg": jpeg(),
    }
    wml = "application/vnd.openxmlformats-officedocument.wordprocessingml"
    return _package(
        f"{wml}.document.main+xml",
        "word/document.xml",
        parts,
        {"/word/comments.xml": f"{wml}.comments+xml", "/word/settings.xml": f"{wml}.settings+xml"},
    )


def xlsx() -> bytes:
    sml = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{sml}" xmlns:r="{R}" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac" mc:Ignorable="x15ac">'
        f'<fileSharing userName="{AUTHOR}"/>'
        '<mc:AlternateContent><mc:Choice Requires="x15">'
        f'<x15ac:absPath url="C:\\Users\\{LOGIN}\\Documents\\"/></mc:Choice></mc:AlternateContent>'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    parts = {
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{sml}"><sheetData>'
            f'<row r="1"><c r="A1" t="inlineStr"><is><t>{BODY}</t></is></c></row></sheetData></worksheet>'
        ),
        "xl/worksheets/_rels/sheet1.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId1" Type="{REL}/comments" Target="../comments1.xml"/></Relationships>'
        ),
        "xl/comments1.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><comments xmlns="{sml}">'
            f"<authors><author>{AUTHOR}</author></authors><commentList>"
            f'<comment ref="A1" authorId="0"><text><r><rPr><b/></rPr><t>{AUTHOR}:</t></r>'
            '<r><t xml:space="preserve">数字有误</t></r></text></comment></commentList></comments>'
        ),
        "xl/persons/person.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
            f'<person displayName="{AUTHOR}" id="{{1}}" userId="{LOGIN}@hengda.example" providerId="AD"/>'
            "</personList>"
        ),
        "xl/printerSettings/printerSettings1.bin": f"{LOGIN}-HP".encode("utf-16-le").ljust(64, b"\0")
        + bytes(100),
    }
    return _package(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "xl/workbook.xml",
        parts,
        {},
    )


def pptx() -> bytes:
    pml = "http://schemas.openxmlformats.org/presentationml/2006/main"
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    parts = {
        "ppt/presentation.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:presentation xmlns:p="{pml}" '
            f'xmlns:r="{R}"><p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst></p:presentation>'
        ),
        "ppt/_rels/presentation.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{PKG_REL}">'
            f'<Relationship Id="rId2" Type="{REL}/slide" Target="slides/slide1.xml"/>'
            f'<Relationship Id="rId3" Type="{REL}/commentAuthors" Target="commentAuthors.xml"/>'
            "</Relationships>"
        ),
        "ppt/slides/slide1.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:sld xmlns:p="{pml}" xmlns:a="{a}">'
            f"<p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{BODY}</a:t></a:r></a:p></p:txBody></p:sp>"
            "</p:spTree></p:cSld></p:sld>"
        ),
        "ppt/commentAuthors.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:cmAuthorLst xmlns:p="{pml}">'
            f'<p:cmAuthor id="0" name="{AUTHOR}" initials="ZJG" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>'
        ),
        "ppt/comments/comment1.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:cmLst xmlns:p="{pml}">'
            '<p:cm authorId="0" dt="2026-05-01T08:00:00" idx="1"><p:pos x="10" y="10"/>'
            "<p:text>请核实</p:text></p:cm></p:cmLst>"
        ),
    }
    return _package(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        "ppt/presentation.xml",
        parts,
        {},
    )


def unzipped_text(data: bytes) -> str:
    """Every member of a ZIP package as text (and the archive comment): what `unzip -p` shows."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        chunks = [archive.comment.decode("utf-8", "replace")]
        for name in archive.namelist():
            content = archive.read(name)
            chunks.append(content.decode("utf-8", "replace"))
            chunks.append(content.decode("utf-16-le", "replace"))
    return "\n".join(chunks)


def embedded_exif(data: bytes) -> str:
    """exiftool's reading of every picture inside a ZIP package."""
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if re.search(r"\.(jpe?g|png)$", name):
                out.append(exiftool(archive.read(name)))
    return "\n".join(out)


# --- PDF ---------------------------------------------------------------------------------------


def pdf() -> bytes:
    """A one-page PDF whose text is BODY-like ASCII, with an author everywhere PDF tools put one:
    document information, XMP (document and page), a comment's author, an attached file, a
    photo with GPS, and an object nothing refers to any more (an earlier revision)."""
    import pikepdf

    document = pikepdf.new()
    font = document.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    photo = jpeg((32, 24))
    image = pikepdf.Stream(document, photo)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = 32, 24, 8
    image.ColorSpace, image.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
    content = b"BT /F1 18 Tf 72 720 Td (Construction at night, site 7) Tj ET q 64 0 0 48 72 600 cm /Im1 Do Q"
    page = pikepdf.Page(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, 612, 792],
            Resources=pikepdf.Dictionary(
                Font=pikepdf.Dictionary(F1=font), XObject=pikepdf.Dictionary(Im1=image)
            ),
            Contents=document.make_stream(content),
        )
    )
    document.pages.append(page)
    page = document.pages[0]
    page.obj.Metadata = document.make_stream(
        canary_xmp(), Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML
    )
    note = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[72, 500, 92, 520],
        T=pikepdf.String(LOGIN),
        Contents=pikepdf.String("please check"),
        M=pikepdf.String("D:20260501080000+08'00'"),
    )
    page.obj.Annots = document.make_indirect(pikepdf.Array([document.make_indirect(note)]))
    attached = pikepdf.AttachedFileSpec(document, f"owner {LOGIN}".encode(), mime_type="text/plain")
    document.attachments["owner.txt"] = attached
    document.make_indirect(pikepdf.Dictionary(Author=pikepdf.String(LOGIN + "-old-revision")))
    document.docinfo["/Author"] = AUTHOR
    document.docinfo["/Creator"] = LOGIN
    document.docinfo["/Company"] = COMPANY
    with document.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [AUTHOR, LOGIN]
        meta["pdf:Producer"] = LOGIN
    output = io.BytesIO()
    document.save(output, compress_streams=False)
    return output.getvalue()


def pdf_raw_text(data: bytes) -> str:
    """The PDF's bytes with every Flate stream inflated (zlib only, not the cleaner's library)."""
    chunks = [data.decode("latin-1")]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(chunks)


def poppler_reading(data: bytes) -> str:
    """pdfinfo (document information), pdfinfo -meta (XMP), pdfdetach -list (attached files)."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "f.pdf"
        path.write_bytes(data)
        out = []
        for command in (["pdfinfo"], ["pdfinfo", "-meta"], ["pdfdetach", "-list"]):
            done = subprocess.run([*command, str(path)], capture_output=True, check=False)
            out.append(done.stdout.decode("utf-8", "replace"))
        return "\n".join(out)


def pdf_text(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "f.pdf"
        path.write_bytes(data)
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout.decode()


def pdf_images_exif(data: bytes) -> str:
    """exiftool's reading of every picture pdfimages extracts as it is stored (JPEG kept)."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "f.pdf"
        path.write_bytes(data)
        subprocess.run(["pdfimages", "-all", str(path), str(Path(work) / "img")], check=True)
        return "\n".join(exiftool(p.read_bytes()) for p in sorted(Path(work).glob("img*")))


# --- audio and video ---------------------------------------------------------------------------


def ffmpeg_file(kind: str) -> bytes:
    """A short recording or video made by ffmpeg with a location, an artist, a date and a
    device name in its tags (as a phone writes them)."""
    sources = {
        "mp4": (
            ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1"],
            ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
        ),
        "mov": (["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1"], ["-c:v", "mpeg4"]),
        "3gp": (["-f", "lavfi", "-i", "testsrc=size=176x144:rate=10:duration=1"], ["-c:v", "mpeg4"]),
    }
    audio = {
        "mp4": ["-c:a", "aac"],
        "mov": ["-c:a", "aac"],
        "3gp": ["-c:a", "aac", "-ar", "8000", "-ac", "1"],
        "m4a": ["-c:a", "aac"],
        "mp3": ["-c:a", "libmp3lame"],
        "wav": ["-c:a", "pcm_s16le"],
        "ogg": ["-c:a", "libvorbis"],
        "amr": ["-c:a", "libopencore_amrnb", "-ar", "8000", "-ac", "1"],
    }[kind]
    video_in, video_codec = sources.get(kind, ([], []))
    muxer = {"m4a": "ipod", "3gp": "3gp"}.get(kind, kind)
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / f"canary.{kind}"
        command = [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            *video_in,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            *video_codec,
            *audio,
            "-shortest",
            "-metadata",
            f"location={GPS}",
            "-metadata",
            f"artist={AUTHOR}",
            "-metadata",
            f"comment={LOGIN}",
            "-metadata",
            "creation_time=2026-05-01T08:00:00Z",
            "-metadata:s:0",
            f"handler_name={LOGIN}-phone",
            "-f",
            muxer,
            str(out),
        ]
        subprocess.run(command, check=True, capture_output=True)
        return out.read_bytes()


def ffprobe_tags(data: bytes) -> str:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "f"
        path.write_bytes(data)
        done = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json", str(path)],
            capture_output=True,
            check=True,
        )
        return json.dumps(json.loads(done.stdout), ensure_ascii=False)


# --- what an attacker review built (pictures in PDFs, video SEI, private keys, EMF) ------------

PHONE_TAG = "ZhangJianguo-13812345678"  # an ASCII name and phone number hidden in video data


def exif_jpeg(size=(32, 24), colour="red") -> bytes:
    """A JPEG whose EXIF exiftool wrote (as a photo tool does): Artist 张建国, GPS 39.9042 N,
    116.4074 E."""
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, "JPEG")
    return _exiftool_write(output.getvalue(), "jpg")


def _exiftool_write(data: bytes, extension: str, *extra: str) -> bytes:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / f"picture.{extension}"
        path.write_bytes(data)
        subprocess.run(
            ["exiftool", "-q", "-overwrite_original", f"-Artist={AUTHOR}", "-GPSLatitude=39.9042"]
            + ["-GPSLatitudeRef=N", "-GPSLongitude=116.4074", "-GPSLongitudeRef=E", *extra, str(path)],
            check=True,
        )
        return path.read_bytes()


def jpeg_2000(codestream_only: bool = False) -> bytes:
    """A JPEG 2000 picture (32 x 24, red) with a codestream comment (LOGIN); as a JP2 file it
    also has the XMP creator 张建国 and EXIF Artist and GPS boxes that exiftool writes."""
    output = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(output, "JPEG2000", comment=LOGIN.encode(), no_jp2=codestream_only)
    if codestream_only:
        return output.getvalue()
    return _exiftool_write(output.getvalue(), "jp2", f"-XMP-dc:Creator={AUTHOR}")


def _jbig2_segment(number: int, kind: int, data: bytes) -> bytes:
    # segment number, flags (type; page association in 1 byte), no referred-to segment,
    # page 1, data length (ITU T.88, 7.2)
    return number.to_bytes(4, "big") + bytes([kind, 0, 1]) + len(data).to_bytes(4, "big") + data


def jbig2_with_comment() -> bytes:
    """A JBIG2 picture as PDFs embed it (32 x 24, one black line), with a comment extension
    segment naming LOGIN between the page information and the picture."""
    picture = Image.new("1", (32, 24), 1)
    for x in range(4, 28):
        picture.putpixel((x, 12), 0)
    tiff = io.BytesIO()
    picture.save(tiff, "TIFF", compression="group4")  # MMR, as JBIG2 generic regions may be
    with Image.open(io.BytesIO(tiff.getvalue())) as read:
        offset, length = read.tag_v2[273][0], read.tag_v2[279][0]
    mmr = tiff.getvalue()[offset : offset + length]
    size = (32).to_bytes(4, "big") + (24).to_bytes(4, "big")
    page_info = size + bytes(8) + b"\x00" + b"\x00\x00"
    comment = (0x20000000).to_bytes(4, "big") + b"Author\x00" + LOGIN.encode() + b"\x00\x00"
    region = size + bytes(8) + b"\x00" + b"\x01" + mmr  # region info, MMR coding
    return _jbig2_segment(0, 48, page_info) + _jbig2_segment(1, 62, comment) + _jbig2_segment(2, 38, region)


def pdf_with_picture(
    picture: bytes, filters: list[str], *, jbig2: bool = False, inline: bool = False
) -> bytes:
    """A one-page PDF showing one picture whose stream is ``picture`` encoded with ``filters``
    (in the order a reader decodes them: [/FlateDecode /DCTDecode] is a JPEG deflated once
    more); ``inline`` writes it inside the page's content instead (BI ... ID ... EI)."""
    import pikepdf

    data = picture
    for name in reversed(filters[:-1]):
        data = {"/FlateDecode": zlib.compress, "/ASCIIHexDecode": lambda d: d.hex().encode() + b">"}[name](
            data
        )
    document = pikepdf.new()
    if inline:
        short = {"/DCTDecode": "/DCT", "/FlateDecode": "/Fl", "/ASCIIHexDecode": "/AHx"}
        names = " ".join(short[f] for f in filters)
        content = f"q 64 0 0 48 72 600 cm BI /W 32 /H 24 /BPC 8 /CS /RGB /F [{names}] ID ".encode()
        content += data + b" EI Q"
        resources = pikepdf.Dictionary()
    else:
        image = pikepdf.Stream(document, data)
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height = 32, 24
        image.Filter = pikepdf.Array([pikepdf.Name(f) for f in filters])
        if jbig2:
            image.BitsPerComponent, image.ColorSpace = 1, pikepdf.Name.DeviceGray
        else:
            image.BitsPerComponent, image.ColorSpace = 8, pikepdf.Name.DeviceRGB
        content = b"q 64 0 0 48 72 600 cm /Im1 Do Q"
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im1=image))
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 612, 792],
        Resources=resources,
        Contents=document.make_stream(content),
    )
    document.pages.append(pikepdf.Page(page))
    output = io.BytesIO()
    document.save(output, compress_streams=False)
    return output.getvalue()


def pdf_with_private_keys() -> bytes:
    """The sample PDF plus private data where PDF tools keep their own: a /ReporterNote in the
    document catalog and in the page, the page's /PieceInfo (an application's private data) and
    a font's XMP."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf())) as document:
        note = pikepdf.String(f"{AUTHOR} 13812345678 {COMPANY}")
        document.Root.ReporterNote = note
        page = document.pages[0].obj
        page.ReporterNote = pikepdf.String(LOGIN)
        page.PieceInfo = pikepdf.Dictionary(
            Illustrator=pikepdf.Dictionary(Private=pikepdf.String(f"{AUTHOR} {LOGIN}"))
        )
        page.Resources.Font.F1.Metadata = document.make_stream(canary_xmp())
        output = io.BytesIO()
        document.save(output, compress_streams=False)
    return output.getvalue()


def pdf_strings(data: bytes) -> str:
    """``pdf_raw_text`` and every hexadecimal string in it decoded (qpdf writes text that is not
    plain ASCII as <FEFF...>, UTF-16): zlib and a regular expression, not the cleaner's library."""
    raw = pdf_raw_text(data)
    chunks = [raw]
    for match in re.finditer(r"<([0-9A-Fa-f\s]+)>", raw):
        digits = re.sub(r"\s", "", match.group(1))
        if len(digits) % 2:
            digits += "0"
        value = bytes.fromhex(digits)
        chunks.append(
            value[2:].decode("utf-16-be", "replace") if value[:2] == b"\xfe\xff" else value.decode("latin-1")
        )
    return "\n".join(chunks)


def pdf_pictures(data: bytes) -> list[bytes]:
    """Every picture pdfimages extracts as it is stored (-j JPEG, -jp2, -jbig2 kept as they are)."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "f.pdf"
        path.write_bytes(data)
        subprocess.run(["pdfimages", "-all", str(path), str(Path(work) / "img")], check=True)
        return [p.read_bytes() for p in sorted(Path(work).glob("img*"))]


def pdf_page_pixels(data: bytes) -> Image.Image:
    """The first page as poppler draws it (36 dpi)."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "f.pdf"
        path.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", "36", "-png", "-f", "1", "-l", "1", str(path), str(Path(work) / "p")],
            check=True,
        )
        (page,) = Path(work).glob("p*.png")
        with Image.open(page) as image:
            return image.convert("RGB")


def docx_with_drawing(extension: str = "emf") -> bytes:
    """The sample .docx plus a drawing Word keeps as EMF (or WMF), whose description names the
    file it came from: C:\\Users\\张建国\\... in UTF-16, as Visio and pasted charts leave it."""
    path = f"C:\\Users\\{AUTHOR}\\Documents\\{LOGIN}\\现场图.vsdx\x00\x00"
    description = path.encode("utf-16-le")
    header = (1).to_bytes(4, "little") + (88 + len(description)).to_bytes(4, "little") + bytes(32)
    header += b" EMF" + (0x10000).to_bytes(4, "little") + bytes(12)
    header += (len(description) // 2).to_bytes(4, "little") + (88).to_bytes(4, "little") + bytes(28)
    drawing = header + description + (14).to_bytes(4, "little") + (20).to_bytes(4, "little") + bytes(12)
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx())) as source, zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr(f"word/media/image2.{extension}", drawing)
    return output.getvalue()


def h264_with_user_data() -> bytes:
    """The sample MP4 (H.264 by x264, which writes its settings in an SEI message) with SEI
    unregistered user data naming PHONE_TAG added by stream copy (ffmpeg's h264_metadata)."""
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "in.mp4").write_bytes(ffmpeg_file("mp4"))
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(Path(work) / "in.mp4"), "-c", "copy", "-bsf:v"]
            + [f"h264_metadata=sei_user_data=086f3693-b7b3-4f2c-9653-21492feee5b8+{PHONE_TAG}"]
            + [str(Path(work) / "out.mp4")],
            check=True,
        )
        return (Path(work) / "out.mp4").read_bytes()


def hevc_video() -> bytes:
    """An HEVC MP4 made by x265, which writes its settings in an SEI message kept in the
    decoder configuration (hvcC) as well."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "hevc.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1"]
            + ["-f", "lavfi", "-i", "sine=duration=1", "-c:v", "libx265", "-x265-params", "log-level=none"]
            + ["-tag:v", "hvc1", "-c:a", "aac", "-shortest", str(out)],
            check=True,
        )
        return out.read_bytes()


def mpeg4_with_user_data() -> bytes:
    """A MOV whose MPEG-4 part 2 video carries a user data field naming PHONE_TAG (as DivX and
    Xvid write theirs) in its header."""
    with tempfile.TemporaryDirectory() as work:
        raw = Path(work) / "v.m4v"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1"]
            + ["-c:v", "mpeg4", "-flags", "+bitexact", "-f", "m4v", str(raw)],
            check=True,
        )
        stream = raw.read_bytes()
        first_picture = stream.index(b"\x00\x00\x01\xb6")
        raw.write_bytes(
            stream[:first_picture] + b"\x00\x00\x01\xb2" + PHONE_TAG.encode() + stream[first_picture:]
        )
        out = Path(work) / "v.mov"
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-r",
                "10",
                "-f",
                "m4v",
                "-i",
                str(raw),
                "-f",
                "lavfi",
                "-i",
                "sine=duration=1",
            ]
            + ["-c:v", "copy", "-c:a", "aac", "-shortest", str(out)],
            check=True,
        )
        return out.read_bytes()


def ffprobe_frames(data: bytes) -> str:
    """What ffprobe decodes of each video frame, side data (e.g. SEI user data) included."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "f"
        path.write_bytes(data)
        done = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v", "-show_frames", "-of", "json", str(path)],
            capture_output=True,
            check=True,
        )
        return done.stdout.decode("utf-8", "replace")


# --- readers -------------------------------------------------------------------------------------


def exiftool(data: bytes) -> str:
    """Everything exiftool reads in a file, every group, duplicates too (-a -G1), as text;
    GPS positions as decimal degrees (-n), so 39°54'15.12" reads 39.9042."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "f"
        path.write_bytes(data)
        done = subprocess.run(
            ["exiftool", "-a", "-G1", "-ee", "-n", str(path)], capture_output=True, check=False
        )
        return done.stdout.decode("utf-8", "replace")


def canaries_in(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]
