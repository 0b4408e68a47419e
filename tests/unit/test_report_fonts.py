"""The faces official documents are set in: the bundled ones (the SC face of Noto Serif CJK for
小标宋, the Fandol faces for 仿宋, 楷体 and 黑体), and an office's own licensed faces dropped in its
fonts folder (REPORT_FONTS_DIR), which win over the bundled ones and are what the PDF embeds."""

from __future__ import annotations

import io

import pdfplumber
import pikepdf
import pytest
from fontTools.ttLib import TTCollection, TTFont

from reports import pdf as report_pdf
from reports.notice import render_notice_pdf
from reports.pdf import FetchRefused, check_url, role_faces

FANDOL = "/usr/local/share/fonts/fandol/"
DOCUMENT = {
    "version": 1,
    "kind": "interview",
    "issuer": "石门市营商环境建设局",
    "number": "石营商督〔2026〕31号",
    "title": "关于约谈石门市自然资源和规划局的通知书",
    "addressee": "石门市自然资源和规划局",
    "body": ["经研究，我局决定对你单位进行约谈。现将有关事项通知如下："],
    "interview": {
        "reasons": ["未经核实即申请办结。"],
        "time": "2026年8月6日9时30分",
        "place": "三楼会议室",
        "attendees": "主要负责人",
        "materials": [],
    },
    "signer": "石门市营商环境建设局",
    "date": "2026年8月4日",
}


def renamed(source: str, family: str, postscript: str) -> TTFont:
    """A copy of a font whose family (Windows names, English and Chinese) is ``family``."""
    font = TTFont(source)
    names = font["name"]
    names.names = [r for r in names.names if r.nameID not in (1, 4, 6, 16, 17)]
    for name_id in (1, 4):
        for lang in (0x409, 0x804):
            names.setName(family, name_id, 3, 1, lang)
    names.setName(postscript, 6, 3, 1, 0x409)
    return font


def printed(pdf: bytes, text: str) -> list[dict]:
    """The characters that print the first occurrence of ``text`` (pdfplumber chars)."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        chars = [c for page in document.pages for c in page.chars if c["text"].strip()]
    start = "".join(c["text"] for c in chars).index(text)
    return chars[start : start + len(text)]


def fonts_of(pdf: bytes, text: str) -> set[str]:
    """The font names (subset tag dropped) the first occurrence of ``text`` is printed in."""
    return {c["fontname"].split("+", 1)[-1] for c in printed(pdf, text)}


def embedded_programs(pdf: bytes) -> dict[str, str]:
    """Each embedded font's PDF name and the PostScript name in its own name table."""
    found = {}
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            for font in page.Resources.Font.values():
                descriptor = font.DescendantFonts[0].FontDescriptor
                data = (descriptor.get("/FontFile3") or descriptor.get("/FontFile2")).read_bytes()
                program = TTFont(io.BytesIO(data))
                found[str(font.BaseFont).split("+", 1)[-1]] = program["name"].getDebugName(6)
    return found


def test_without_office_fonts_the_bundled_faces_are_used_and_the_xiaobiaosong_is_the_sc_face(tmp_path):
    faces = role_faces(tmp_path)
    assert {role: face.family for role, face in faces.items()} == {
        "xbs": "Noto Serif CJK SC",
        "fang": "FandolFang",
        "kai": "FandolKai",
        "hei": "FandolHei",
    }
    assert not any(face.office for face in faces.values())
    pdf = render_notice_pdf(DOCUMENT, fonts_dir=tmp_path)
    programs = embedded_programs(pdf)
    # the collection holds JP, KR, SC, TC and HK faces: the simplified-Chinese one is embedded
    assert programs["Noto-Serif-CJK-SC-Bold"] == "NotoSerifCJKsc-Bold"
    assert fonts_of(pdf, "石门市营商环境建设局") >= {"Noto-Serif-CJK-SC-Bold"}
    assert fonts_of(pdf, "经研究，我局决定") == {"FandolFang"}


def test_an_office_fangsong_in_the_fonts_folder_wins_and_is_embedded(tmp_path):
    renamed(FANDOL + "FandolFang-Regular.otf", "仿宋_GB2312", "FangSong_GB2312").save(
        tmp_path / "simfang.otf"
    )
    (tmp_path / "notes.txt").write_text("not a font")
    (tmp_path / "broken.ttf").write_bytes(b"\x00\x01\x00\x00 not really a font")
    faces = role_faces(tmp_path)
    assert faces["fang"].family == "仿宋_GB2312" and faces["fang"].office
    assert faces["xbs"].family == "Noto Serif CJK SC"  # the other roles keep their bundled faces
    pdf = render_notice_pdf(DOCUMENT, fonts_dir=tmp_path)
    assert fonts_of(pdf, "经研究，我局决定") == {"仿宋_GB2312"}
    assert embedded_programs(pdf)["仿宋_GB2312"] == "FangSong_GB2312"
    # the folder set by the app factory counts the same way
    report_pdf.set_office_fonts_dir(tmp_path)
    try:
        assert fonts_of(render_notice_pdf(DOCUMENT), "经研究，我局决定") == {"仿宋_GB2312"}
    finally:
        report_pdf.set_office_fonts_dir(None)
    assert fonts_of(render_notice_pdf(DOCUMENT), "经研究，我局决定") == {"FandolFang"}


@pytest.mark.parametrize(
    ("family", "role"),
    [
        ("方正小标宋简体", "xbs"),
        ("FZXiaoBiaoSong-B05S", "xbs"),
        ("FZXBSJW", "xbs"),
        ("FangSong", "fang"),
        ("楷体_GB2312", "kai"),
        ("KaiTi", "kai"),
        ("黑体", "hei"),
        ("SimHei", "hei"),
    ],
)
def test_family_names_give_the_role(tmp_path, family, role):
    renamed(FANDOL + "FandolHei-Regular.otf", family, "OfficeFace").save(tmp_path / "office.otf")
    faces = role_faces(tmp_path)
    assert faces[role].family == family and faces[role].office
    assert [r for r, face in faces.items() if face.office] == [role]


def test_a_face_of_no_role_is_left_out(tmp_path):
    renamed(FANDOL + "FandolHei-Regular.otf", "Some Display Sans", "SomeDisplaySans").save(tmp_path / "x.otf")
    assert not any(face.office for face in role_faces(tmp_path).values())


def test_a_collections_matching_face_is_used_even_when_it_is_not_the_first(tmp_path):
    collection = TTCollection()
    collection.fonts = [
        renamed(FANDOL + "FandolKai-Regular.otf", "Other Face", "OtherFace"),
        renamed(FANDOL + "FandolHei-Regular.otf", "SimHei", "SimHei"),
    ]
    collection.save(str(tmp_path / "simhei.ttc"))
    faces = role_faces(tmp_path)
    assert faces["hei"].family == "SimHei"
    pdf = render_notice_pdf(DOCUMENT, fonts_dir=tmp_path)
    assert fonts_of(pdf, "一、约谈事由") == {"SimHei"}  # first-level headings are in 黑体
    assert embedded_programs(pdf)["SimHei"] == "SimHei"  # the second face, not "OtherFace"


def test_the_fetcher_allows_the_office_fonts_folder_and_nothing_else(tmp_path):
    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / "face.otf").write_bytes(b"OTTO")
    (folder / "escape.otf").symlink_to("/etc/passwd")
    assert check_url((folder / "face.otf").as_uri(), folder).startswith("file://")
    with pytest.raises(FetchRefused):
        check_url((folder / "escape.otf").as_uri(), folder)
    with pytest.raises(FetchRefused):
        check_url((folder / "face.otf").as_uri())  # not without the folder
    (tmp_path / "outside.otf").write_bytes(b"OTTO")
    with pytest.raises(FetchRefused):
        check_url((tmp_path / "outside.otf").as_uri(), folder)


def test_a_family_name_cannot_break_out_of_the_stylesheet_or_the_pdf(tmp_path):
    renamed(FANDOL + "FandolFang-Regular.otf", '仿宋"; } html { color: red } /x (y) #z', "Evil").save(
        tmp_path / "evil.otf"
    )
    family = role_faces(tmp_path)["fang"].family
    assert family == "仿宋__ _ html _ color_ red _ _x _y_ _z"
    pdf = render_notice_pdf(DOCUMENT, fonts_dir=tmp_path)
    assert fonts_of(pdf, "经研究，我局决定") == {family.replace(" ", "-")}
    body = printed(pdf, "经研究，我局决定")
    assert all(tuple(c["non_stroking_color"]) in ((0,), (0, 0, 0)) for c in body)  # not red
    assert report_pdf._css_string('a"b\\c') == '"a\\"b\\\\c"'
