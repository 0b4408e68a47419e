"""Printable QR sheets for service windows: one A4 page per window, to cut out and post.

Each page shows a large QR code (segno, error correction level M, black on white, inlined as an SVG
``data:`` URI so nothing is fetched), the call to action, the URL in small print under the code,
the window, hall and department, and a dashed cut line. Everything is black on white, so sheets
stay legible on a black-and-white office printer.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno

from reports.pdf import render_pdf

CALL_TO_ACTION = "扫码反映营商环境问题 · 可匿名 · 全程保密"
QR_BORDER = 4  # quiet zone, in modules (the QR standard's minimum)
QR_SIZE_MM = 124  # printed width and height of the code, quiet zone included


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


def render_qr_sheet_pdf(windows: list[QrWindowData], title: str) -> bytes:
    """One A4 page per window, in the given order, as PDF bytes; ``title`` heads every sheet."""
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
        {"title": title, "sheets": sheets, "call_to_action": CALL_TO_ACTION, "qr_size_mm": QR_SIZE_MM},
    )
