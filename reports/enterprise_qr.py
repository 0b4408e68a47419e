"""Printable QR sheets for enterprises (入企扫码): one A4 page per enterprise, in two parts.

The upper part is posted at the enterprise's entrance: its name and region, the line 执法人员入企
检查请扫码登记 and a large QR code to the officers' registration page (``/inspect/e/<token>``).
The lower part, below a dashed cut line, is the enterprise's own: 企业自用 请妥善保管, with a
smaller code to ``/enterprise/<confirm_token>``, through which the enterprise confirms and rates
the inspections and reports a problem; it is kept, never posted. The credit code is never
printed (the codes carry random tokens only). Codes come from reports.qr (segno, level M, SVG
``data:`` URIs); black on white, the document's own Chinese whatever the interface language.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.pdf import render_pdf
from reports.qr import qr_svg_data_uri

OFFICER_HEADLINE = "执法人员入企检查请扫码登记"
OFFICER_NOTE = "依法检查须两名以上执法人员出示执法证件，扫码登记检查依据、事项和人员"
OWN_HEADLINE = "企业自用 请妥善保管"
OWN_NOTE = "扫码确认检查情况、评价检查，发现多头检查、重复检查等问题可直接反映"
OWN_WARNING = "此码仅供本企业使用，请勿张贴或交给他人"
OFFICER_QR_MM = 80
OWN_QR_MM = 45


@dataclass(frozen=True)
class EnterpriseSheetData:
    """One enterprise's sheet, as plain strings (no credit code: it is never printed)."""

    name: str
    region: str
    inspect_url: str  # /inspect/e/<token>: the officers' registration page
    confirm_url: str  # /enterprise/<confirm_token>: the enterprise's own page


def inspect_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/inspect/e/{token}"


def confirm_url(base: str, confirm_token: str) -> str:
    return f"{base.rstrip('/')}/enterprise/{confirm_token}"


def render_enterprise_qr_pdf(enterprises: list[EnterpriseSheetData], hotline: str = "") -> bytes:
    """One A4 page per enterprise, in the given order, as PDF bytes."""
    if not enterprises:
        raise ValueError("no enterprises to print")
    sheets = [
        {
            "name": e.name,
            "region": e.region.replace("/", " "),
            "inspect_url": e.inspect_url,
            "confirm_url": e.confirm_url,
            "inspect_qr": qr_svg_data_uri(e.inspect_url),
            "confirm_qr": qr_svg_data_uri(e.confirm_url),
        }
        for e in enterprises
    ]
    return render_pdf(
        "enterprise_qr.html",
        {
            "officer_headline": OFFICER_HEADLINE,
            "officer_note": OFFICER_NOTE,
            "own_headline": OWN_HEADLINE,
            "own_note": OWN_NOTE,
            "own_warning": OWN_WARNING,
            "hotline": (hotline or "").strip(),
            "sheets": sheets,
            "officer_qr_mm": OFFICER_QR_MM,
            "own_qr_mm": OWN_QR_MM,
        },
    )
