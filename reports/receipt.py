"""受理回执 (投诉举报登记回执): the reporter's one-page proof of filing, as PDF.

The receipt carries the case number and the one-time query code, never the reporter's identity:
:class:`ReceiptData` has no field for a name, phone or company, and must not get one. Labels arrive
already translated (Chinese); the template's own text is Chinese.

The title is the one thing on it the reporter typed. A receipt leaves the platform's protection (it
is printed, saved to a shared computer's downloads, photographed, handed to a lawyer or an
employer) and the number and query code already identify the case, so the title is printed only
as far as it helps the reporter recognise the matter: :func:`receipt_title` prints it with the
names, companies, numbers, codes and addresses removed (the same redaction as a publication), and
leaves it out altogether when the detector still finds personal data in what remains.
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
    title: str  # 事项标题 (up to 200 characters), as receipt_title gives it: never verbatim identity
    channel_label: str  # 受理渠道: 网站 / 窗口二维码 / 12345 转办 …
    window_label: str | None  # 受理窗口 (QR code filings), None otherwise
    deadline_note: str  # next steps and time limits; line breaks are kept
    tracking_url: str  # where to check progress with number + query code
    title_note: str | None = None  # why the title is shortened or left out (receipt_title)


TITLE_REDACTED = "已隐去个人信息"
TITLE_WITHHELD = "标题含个人信息，回执上不予显示"


def receipt_title(title: str, parties) -> tuple[str, str | None]:
    """(the title the receipt prints, a note or None): ``title`` without the personal data of
    ``parties`` (app.redaction.KnownParties of the case's reporters) nor any other the detector
    finds; "—" with a note when something would still be left."""
    from app.redaction import Found, find_identity, redact

    shown = redact(title or "", parties, warning=True)
    # the reporter's own receipt may say 我公司: only what identifies someone is withheld
    left = [f for f in find_identity(shown, parties) if f.kind not in (Found.SELF, Found.CASE_NUMBER)]
    if left:
        return "—", TITLE_WITHHELD
    return shown, (TITLE_REDACTED if shown != (title or "") else None)


def render_receipt_pdf(data: ReceiptData) -> bytes:
    """The one-page A4 receipt as PDF bytes."""
    return render_pdf("receipt.html", {"r": data})
