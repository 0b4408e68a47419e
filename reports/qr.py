"""Printable QR sheets for service windows: one A4 poster per window, to cut out and post.

A citizen at the window reads it from a few steps away: the big line says what to do (扫码反映问题),
the line under it what it is for (营商环境投诉举报), then a large QR code (segno, error correction
level M, black on white, inlined as an SVG ``data:`` URI so nothing is fetched; 90 mm, quiet zone
included), what they can report in their own words (吃拿卡要、推诿扯皮、违规收费…), that they
may stay anonymous and their identity is protected, the platform's hotline when one is configured,
and the window, hall and department, with the URL in small print and a dashed cut line.
Everything is black on white, so sheets stay legible on a black-and-white office printer; the text
is the document's own Chinese, whatever the interface language.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno

from reports.pdf import render_pdf

HEADLINE = "扫码反映问题"
SUBHEADLINE = "营商环境投诉举报"
# What a business or a citizen meets at a window, in the words they use (seed 000's 吃拿卡要,
# 推诿扯皮, 违规收费 …); one sheet line each row.
WHAT_TO_REPORT = (
    ("吃拿卡要", "推诿扯皮", "违规收费"),
    ("办事拖延", "乱检查乱罚款", "政策不落实"),
)
PROTECTION = "可实名、可匿名，投诉举报人信息依法严格保密"
QR_BORDER = 4  # quiet zone, in modules (the QR standard's minimum)
QR_SIZE_MM = 90  # printed width and height of the code, quiet zone included


@dataclass(frozen=True)
class QrWindowData:
    """One service window's sheet, as plain strings."""

    name: str  # the window, e.g. "综合受理 3 号窗口"
    hall: str  # the hall it is in, e.g. "市民中心政务服务大厅"
    department: str  # the department that runs the window
    url: str  # what the code encodes: the filing page for this window


def make_qr(url: str) -> segno.QRCode:
    """A regular (never Micro) QR code for ``url`` with error correction level M, exactly."""
    return segno.make_qr(url, error="m", boost_error=False)


def qr_svg_data_uri(url: str) -> str:
    """The code as an SVG ``data:`` URI that scales to any CSS size (viewBox, no width/height)."""
    return make_qr(url).svg_data_uri(
        dark="#000", light="#fff", border=QR_BORDER, omitsize=True, xmldecl=False, nl=False
    )


def render_qr_sheet_pdf(windows: list[QrWindowData], hotline: str = "") -> bytes:
    """One A4 page per window, in the given order, as PDF bytes; ``hotline`` (the platform's
    phone number, "" for none) is printed on every sheet."""
    if not windows:
        raise ValueError("no windows to print")
    sheets = [
        {
            "name": w.name,
            "hall": w.hall,
            "department": w.department,
            "url": w.url,
            "qr": qr_svg_data_uri(w.url),
        }
        for w in windows
    ]
    return render_pdf(
        "qr_sheet.html",
        {
            "headline": HEADLINE,
            "subheadline": SUBHEADLINE,
            "what_to_report": WHAT_TO_REPORT,
            "protection": PROTECTION,
            "hotline": (hotline or "").strip(),
            "sheets": sheets,
            "qr_size_mm": QR_SIZE_MM,
        },
    )
