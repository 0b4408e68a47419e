"""Supervision notices (提醒敦促函, 整改通知书, 约谈通知书, 交办函) as PDF, in the letter format
(信函格式) of GB/T 9704-2012 (党政机关公文格式), rendered only from the notice document
(``Notice.document``, the notice document contract, version 1: plain final Chinese text).

The layout (``templates/notice.html``), in the standard's terms:

* A4; 天头 37 mm, 订口 28 mm, 翻口 26 mm, 下白边 35 mm: a 156 × 225 mm 版心 of 22 lines × 28
  characters in 3号 (16 pt) 仿宋 (the line pitch is 225/22 mm; 16 pt is a little wider than
  156/28 mm, so the letters are set :data:`LETTER_SPACING_PT` closer and exactly 28 fill a line).
* 信函格式 (10.1): the 发文机关标志 (``issuer``) centred in red 小标宋, its top edge 30 mm from the
  top of the page, shrunk to one line when long (:func:`reports.pdf.masthead_pt`); 4 mm below it a
  red double rule, thick over thin, and 20 mm above the bottom edge of the first page a red double
  rule, thin over thick, both 170 mm long and centred; the 发文字号 flush right under the first
  rule, 7/8 of a 3号 character's height below it, on one line; no page number on the first page.
* 标题 2号 小标宋, centred, two lines below the 发文字号, broken into balanced lines
  (:func:`title_lines`); 主送机关 one blank line below it, flush left, with a full-width colon.
* 正文: paragraphs indented two characters; first-level headings (一、) in 黑体; the case table in
  仿宋 4号 with its header repeated on each page.
* 发文机关署名 and 成文日期 (7.3.5): without a seal, the signature one blank line below the body and
  two characters in from the right, the date on the next line starting two characters right of the
  signature (when the date is the longer, it ends two characters in and the signature moves left);
  with a seal, the date four characters in from the right, the signature centred over it and the
  seal (42 mm wide) over both, centred on them and a little above their middle, its top within a
  line of the body.
* 附注 (contact) on the line after the date, indented two characters, in parentheses.
* 版记 of the letter format: only 抄送, at the very bottom of the last page's 版心, in 4号 仿宋, one
  character in on both sides, continuation lines aligned after the colon; no 印发机关, no rules.
* 页码 (7.5): 4号 half-width 宋体 digits between em dashes (— 2 —), 7 mm below the 版心, one
  character in from the right on odd pages and from the left on even pages; none on the first.
"""

from __future__ import annotations

import base64
import io
import math
import os
import unicodedata

from reports.pdf import masthead_pt, render_pdf

MM_PER_PT = 25.4 / 72
TEXT_WIDTH_MM = 156.0
TEXT_HEIGHT_MM = 225.0
LINES_PER_PAGE = 22
CHARS_PER_LINE = 28
LINE_PITCH_MM = 10.227  # 225/22 = 10.2273, rounded down so that 22 lines fit in the 版心
BODY_PT = 16.0  # 3号
TITLE_PT = 22.0  # 2号
SMALL_PT = 14.0  # 4号: the case table, 抄送, page numbers
CHAR_MM = TEXT_WIDTH_MM / CHARS_PER_LINE  # one character of the grid (5.571 mm)
# 16 pt characters set this much closer fill a 156 mm line with exactly 28, the 28th character's
# right edge on the 版心's: 27 steps of (156 mm - 16 pt) / 27 = 15.785 pt. The steps come out
# quantised (measured: -0.22 pt gives 15.791 pt, -0.225 pt 15.787 pt), hence the 0.01 pt less.
LETTER_SPACING_PT = round((TEXT_WIDTH_MM / MM_PER_PT - BODY_PT) / (CHARS_PER_LINE - 1) - BODY_PT - 0.01, 3)
MASTHEAD_LARGEST_PT = 30.0
MASTHEAD_SPACING_EM = 0.06
SEAL_WIDTH_MM = 42.0
SEAL_RAISE_MM = 2.5  # the seal's centre above the middle of the signature and the date
RED = "#e60012"

# Characters a line may not start with, and may not end with (Chinese line-breaking rules).
_NO_LINE_START = "，。、；：？！）》」』”’〕】…—·%"
_NO_LINE_END = "（《「『“‘〔【"
# Preferred places to break a title (词意完整): after these, by how much (in ems of imbalance).
_GOOD_BREAK_AFTER = {"的": 3.0, "号": 1.5, "于": 1.5, "和": 1.0, "及": 1.0, "与": 1.0, "对": 1.0, "件": 1.5}


def _width_em(text: str) -> float:
    """The width of ``text`` in ems, by character class (full-width 1, half-width about 0.55)."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


def title_lines(title: str, max_em: float) -> list[str]:
    """``title`` broken into the fewest lines no wider than ``max_em`` ems, of balanced lengths
    (GB/T 9704 7.3.1: 排列对称, 长短适宜), never inside a run of letters and digits (a case
    number) nor against the line-breaking rules, preferring to break after 的/于/号…"""
    title = " ".join(title.split())
    total = _width_em(title)
    if total <= max_em or len(title) < 2:
        return [title] if title else []
    count = math.ceil(total / max_em)
    # Allowed break positions (a break at i: the line ends before title[i]).
    allowed = []
    for i in range(1, len(title)):
        before, after = title[i - 1], title[i]
        if before.isascii() and before.isalnum() and (after.isascii() and after.isalnum() or after == "号"):
            continue  # a case number, and the 号 after it, stay together
        if after in _NO_LINE_START or before in _NO_LINE_END:
            continue
        allowed.append(i)
    while True:
        lines, start = [], 0
        for n in range(count - 1, 0, -1):
            rest = _width_em(title[start:])
            target = rest / (n + 1)
            best = None
            for i in allowed:
                if i <= start:
                    continue
                width = _width_em(title[start:i])
                if width > max_em:
                    break
                score = abs(width - target) - _GOOD_BREAK_AFTER.get(title[i - 1], 0.0)
                if best is None or score < best[0]:
                    best = (score, i)
            if best is None:
                break
            lines.append(title[start : best[1]])
            start = best[1]
        lines.append(title[start:])
        if all(_width_em(line) <= max_em for line in lines) or count >= len(title):
            return lines
        count += 1


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _texts(values) -> list[str]:
    return [text for text in (_text(v) for v in (values or [])) if text]


_NUMERALS = "一二三四五六七八九十"


def _interview_sections(interview: dict) -> list[dict]:
    """The interview block's sections in the order an official 约谈通知书 gives them, numbered
    一、二、… (a section with nothing to say is left out)."""
    sections = []
    reasons = _texts(interview.get("reasons"))
    if reasons:
        sections.append({"heading": "约谈事由", "inline": "", "paragraphs": reasons, "cases": True})
    for key, heading in (("time", "约谈时间"), ("place", "约谈地点"), ("attendees", "参加人员")):
        value = _text(interview.get(key))
        if value:
            sections.append({"heading": heading, "inline": value, "paragraphs": [], "cases": False})
    materials = _texts(interview.get("materials"))
    if materials:
        last = len(materials) - 1
        items = [
            f"{n}.{item}" + ("" if item[-1] in "。；;.!！?？" else ("。" if n - 1 == last else "；"))
            for n, item in enumerate(materials, start=1)
        ]
        sections.append({"heading": "需携带材料", "inline": "", "paragraphs": items, "cases": False})
    for index, section in enumerate(sections):
        section["number"] = _NUMERALS[index] + "、"
    return sections


def _seal(seal_png: bytes | None) -> dict | None:
    """The seal image as a data URI with its printed size (42 mm wide, height by its aspect)."""
    if not seal_png:
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(seal_png)) as image:
            if image.format != "PNG":
                raise ValueError(f"the seal must be a PNG image, not {image.format}")
            width, height = image.size
    except OSError as error:
        raise ValueError(f"the seal is not a readable PNG image: {error}") from error
    # 42 mm across its longer side (check_seal keeps seals about as high as they are wide).
    width_mm = SEAL_WIDTH_MM * min(1.0, width / height)
    height_mm = width_mm * height / width
    return {
        "uri": "data:image/png;base64," + base64.b64encode(seal_png).decode("ascii"),
        "width_mm": round(width_mm, 3),
        "height_mm": round(height_mm, 3),
    }


def _line_pt(text: str, size: float = BODY_PT) -> float:
    """The printed width (pt) of a line of body text (full-width characters one grid step)."""
    return sum(
        (size if unicodedata.east_asian_width(ch) in "WF" else size * 0.5) + LETTER_SPACING_PT for ch in text
    )


def notice_context(document: dict, seal_png: bytes | None = None) -> dict:
    """What ``notice.html`` lays out, from the notice document (missing optional keys empty)."""
    issuer = _text(document.get("issuer"))
    signer = _text(document.get("signer")) or issuer
    date = _text(document.get("date"))
    contact = document.get("contact") or {}
    contact_parts = [
        f"{label}：{value}"
        for label, value in (("联系人", _text(contact.get("name"))), ("电话", _text(contact.get("phone"))))
        if value
    ]
    interview = document.get("interview") if document.get("kind") == "interview" else None
    sections = _interview_sections(interview) if isinstance(interview, dict) else []
    cases = [
        {"number": _text(c.get("number")), "title": _text(c.get("title")), "note": _text(c.get("note"))}
        for c in (document.get("cases") or [])
        if isinstance(c, dict)
    ]
    copy_to = _texts(document.get("copy_to"))
    seal = _seal(seal_png)
    pitch = LINE_PITCH_MM
    signoff = {"signer": signer, "date": date}
    if seal:
        # GB/T 9704 7.3.5.1: the date four characters in; the signature centred over it (moved left
        # when it would run past the 版心); the seal over both, a little above their middle.
        char_pt = CHAR_MM / MM_PER_PT
        half_room = 4 * char_pt + _line_pt(date) / 2
        signoff["signer_shift_pt"] = round(max(0.0, _line_pt(signer) / 2 - half_room), 2)
        seal_top = pitch - seal["height_mm"] / 2 - SEAL_RAISE_MM  # from the signature line's top
        signoff["seal_top_mm"] = round(seal_top, 3)
        # The seal's top 2 mm below the body's last line (within one line of it, 7.3.5.1), and
        # never less than one blank line between them.
        signoff["margin_top_mm"] = round(max(pitch, 2.0 - seal_top), 3)
        # The 附注 starts below the seal.
        seal_bottom = seal_top + seal["height_mm"]
        signoff["after_mm"] = round(max(0.0, seal_bottom - 2 * pitch), 3)
    title_max_em = TEXT_WIDTH_MM / (TITLE_PT * MM_PER_PT) - 0.8
    return {
        "kind": _text(document.get("kind")),
        "issuer": issuer,
        "masthead_pt": masthead_pt(issuer, MASTHEAD_LARGEST_PT, MASTHEAD_SPACING_EM),
        "masthead_spacing": MASTHEAD_SPACING_EM,
        "number": _text(document.get("number")),
        "title": _text(document.get("title")),
        "title_lines": title_lines(_text(document.get("title")), title_max_em),
        "addressee": _text(document.get("addressee")),
        "body": _texts(document.get("body")),
        "cases": cases,
        "case_notes": any(c["note"] for c in cases),
        "interview": sections,
        "closing": _texts(document.get("closing")),
        "signoff": signoff,
        "seal": seal,
        "contact": "，".join(contact_parts),
        "copy_to": "、".join(copy_to) + "。" if copy_to else "",
        "red": RED,
        "pitch_mm": pitch,
        "char_mm": round(CHAR_MM, 4),
        "letter_spacing_pt": LETTER_SPACING_PT,
    }


def render_notice_pdf(
    document: dict, seal_png: bytes | None = None, *, fonts_dir: str | os.PathLike | None = None
) -> bytes:
    """The notice as PDF bytes, from its document (the notice document contract, version 1;
    extra keys ignored) and the office's seal (PNG bytes) when it is issued sealed. ``fonts_dir``:
    the office fonts folder (default: the one :func:`reports.pdf.set_office_fonts_dir` set)."""
    return render_pdf("notice.html", notice_context(document, seal_png), fonts_dir=fonts_dir)
