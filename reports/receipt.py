"""受理回执 (投诉举报登记回执): the reporter's one-page proof of filing, as PDF.

The receipt carries the case number and the one-time query code, never the reporter's identity:
:class:`ReceiptData` has no field for a name, phone or company, and must not get one. Labels arrive
already translated (Chinese); the template's own text is Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.pdf import render_pdf


@dataclass(frozen=True)
class ReceiptData:
    """Everything a receipt shows, as plain strings (no ORM objects, no reporter identity)."""

    number: str  # 工单编号, e.g. YS20250312000123
    query_code: str  # the plain query code, shown this once only
    filed_at_local: str  # 登记时间 in local time, formatted, e.g. "2025年3月12日 14:35"
    case_type_label: str  # 事项类型: 投诉 / 举报 / …
    category_label: str  # 问题类别
    title: str  # 事项标题 (up to 200 characters)
    channel_label: str  # 受理渠道: 网站 / 窗口二维码 / 12345 转办 …
    window_label: str | None  # 受理窗口 (QR code filings), None otherwise
    deadline_note: str  # next steps and time limits; line breaks are kept
    tracking_url: str  # where to check progress with number + query code


def render_receipt_pdf(data: ReceiptData) -> bytes:
    """The one-page A4 receipt as PDF bytes."""
    return render_pdf("receipt.html", {"r": data})
