"""The enterprise registry (入企扫码): create, edit and import enterprises; the default list of
inspection bases and items.

An enterprise is identified on its QR code by ``token`` (never its credit code); its own code
carries ``confirm_token``. Both are random and unique. An import (CSV or XLSX, Chinese or
English headers) is one unit of work: a row with an error is skipped with its row number and
message, every other row is created or updated (by credit code).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.errors import DomainError, Invalid
from app.inspections import BasisKind, credit_code_is_valid
from app.services import jurisdictions
from app.services.actor import Actor
from app.workflow import N_
from models import Enterprise, InspectionItem

NAME_MAX = 200
REGION_MAX = 100
INDUSTRY_MAX = 100
CONTACT_MAX = 64
PHONE_RE = re.compile(r"^[0-9+\-() ]{5,20}$")
MAX_IMPORT_ROWS = 20_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024

FIELDS = ("name", "credit_code", "region", "industry", "contact_name", "contact_phone", "no_disturb")
REQUIRED_COLUMNS = ("name", "credit_code")
# A file's header → the field it fills (Chinese as the registries export them, or English).
HEADERS = {
    "企业名称": "name",
    "名称": "name",
    "name": "name",
    "统一社会信用代码": "credit_code",
    "信用代码": "credit_code",
    "credit_code": "credit_code",
    "所属地区": "region",
    "地区": "region",
    "region": "region",
    "行业": "industry",
    "所属行业": "industry",
    "industry": "industry",
    "联系人": "contact_name",
    "contact_name": "contact_name",
    "联系电话": "contact_phone",
    "contact_phone": "contact_phone",
    "无事不扰": "no_disturb",
    "no_disturb": "no_disturb",
}
_YES = {"是", "1", "y", "yes", "true", "√", "✓"}
_NO = {"否", "0", "n", "no", "false", ""}


def new_token() -> str:
    """An unguessable token for an enterprise's QR link (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)[:22]


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def normalize_credit_code(code) -> str:
    """The code as stored: stripped, upper case, inner spaces removed."""
    return re.sub(r"\s+", "", str(code or "")).upper()


def parse_flag(value) -> bool:
    """A yes/no cell (是/否, 1/0, yes/no, true/false); anything else is refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        value = str(int(value))
    text = str(value or "").strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise Invalid(N_("No disturbance: write 是 or 否 (or 1 or 0)."))


def check_credit_code(session, code: str, *, exclude_id: int | None = None) -> str:
    """Return the normalized code, or refuse it: missing, wrong checksum, or held by another."""
    code = normalize_credit_code(code)
    if not code:
        raise Invalid(N_("Unified social credit code: required."))
    if not credit_code_is_valid(code):
        raise Invalid(
            N_("Unified social credit code: not a valid code (18 characters with a correct check character).")
        )
    query = select(Enterprise.id).where(Enterprise.credit_code == code)
    if exclude_id is not None:
        query = query.where(Enterprise.id != exclude_id)
    if session.execute(query.limit(1)).first() is not None:
        raise Invalid(N_("Unified social credit code: another enterprise already has this code."))
    return code


def clean(data: dict) -> dict:
    """Check and normalize the fields an enterprise is made of (not the credit code's owner)."""
    name = _text(data, "name")
    if not name:
        raise Invalid(N_("Enterprise name: required."))
    if len(name) > NAME_MAX:
        raise Invalid(N_("Enterprise name: at most %(n)s characters."), n=NAME_MAX)
    code = normalize_credit_code(data.get("credit_code"))
    if not code:
        raise Invalid(N_("Unified social credit code: required."))
    if not credit_code_is_valid(code):
        raise Invalid(
            N_("Unified social credit code: not a valid code (18 characters with a correct check character).")
        )
    region = "/".join(p.strip() for p in _text(data, "region").split("/") if p.strip())
    if len(region) > REGION_MAX:
        raise Invalid(N_("Region: at most %(n)s characters."), n=REGION_MAX)
    industry = _text(data, "industry")
    if len(industry) > INDUSTRY_MAX:
        raise Invalid(N_("Industry: at most %(n)s characters."), n=INDUSTRY_MAX)
    contact_name = _text(data, "contact_name")
    if len(contact_name) > CONTACT_MAX:
        raise Invalid(N_("Contact person: at most %(n)s characters."), n=CONTACT_MAX)
    phone = _text(data, "contact_phone")
    if phone and not PHONE_RE.match(phone):
        raise Invalid(N_("Contact phone: digits only (a hyphen or a leading + may be used)."))
    return {
        "name": name,
        "credit_code": code,
        "region": region,
        "industry": industry,
        "contact_name": contact_name or None,
        "contact_phone": phone or None,
        "no_disturb": parse_flag(data.get("no_disturb")),
    }


def _apply(session, enterprise: Enterprise, values: dict, jurisdiction_cache: dict | None = None) -> None:
    for key, value in values.items():
        setattr(enterprise, key, value)
    if "region" not in values:
        return
    region = values["region"]
    if jurisdiction_cache is not None and region in jurisdiction_cache:
        enterprise.jurisdiction = jurisdiction_cache[region]
        return
    with session.no_autoflush:
        found = jurisdictions.for_region(session, region)
    if jurisdiction_cache is not None:
        jurisdiction_cache[region] = found
    enterprise.jurisdiction = found


def assign_tokens(enterprise: Enterprise) -> None:
    """Give an enterprise its two random codes (kept when it already has them)."""
    if not enterprise.token:
        enterprise.token = new_token()
    if not enterprise.confirm_token:
        enterprise.confirm_token = new_token()


def create_enterprise(session, *, actor: Actor | None, now: datetime, data: dict) -> Enterprise:
    """Add an enterprise to the registry."""
    values = clean(data)
    values["credit_code"] = check_credit_code(session, values["credit_code"])
    enterprise = Enterprise(created_at=now, active=bool(data.get("active", True)))
    _apply(session, enterprise, values)
    assign_tokens(enterprise)
    session.add(enterprise)
    session.flush()
    return enterprise


def update_enterprise(
    session, enterprise: Enterprise, *, actor: Actor | None, now: datetime, data: dict
) -> Enterprise:
    """Edit an enterprise (its codes stay: printed sheets keep working)."""
    values = clean({**{k: getattr(enterprise, k) for k in FIELDS}, **data})
    values["credit_code"] = check_credit_code(session, values["credit_code"], exclude_id=enterprise.id)
    _apply(session, enterprise, values)
    if "active" in data:
        enterprise.active = bool(data["active"])
    session.flush()
    return enterprise


def prepare_enterprise(session, enterprise: Enterprise, *, now: datetime) -> Enterprise:
    """Normalize an enterprise a generic form filled in (the administrator's screen), resolve
    its jurisdiction and give a new one its codes and creation time."""
    values = clean({k: getattr(enterprise, k) for k in FIELDS})
    _apply(session, enterprise, values)
    assign_tokens(enterprise)
    if enterprise.created_at is None:
        enterprise.created_at = now
    if enterprise.active is None:
        enterprise.active = True
    return enterprise


# --- import -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did: rows created and updated, and each refused row's number and message."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def saved(self) -> int:
        return self.created + self.updated


def _decode(content: bytes) -> str:
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise Invalid(
            N_("The file could not be read: save it as UTF-8 or GB18030 CSV, or as XLSX.")
        ) from None


def _csv_rows(content: bytes) -> list[list]:
    text = _decode(content)
    if "\x00" in text:
        raise Invalid(N_("The file could not be read: save it as UTF-8 or GB18030 CSV, or as XLSX."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error:
        raise Invalid(
            N_("The file could not be read: save it as UTF-8 or GB18030 CSV, or as XLSX.")
        ) from None


def _xlsx_rows(content: bytes) -> list[list]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise Invalid(N_("The file is not a valid XLSX workbook.")) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_IMPORT_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict]]:
    """The data rows of an uploaded file as (row number in the file, {field: text}); refuse a
    file that is not CSV/XLSX, empty, too big, too long or without the required columns."""
    if len(content) > MAX_IMPORT_BYTES:
        raise Invalid(N_("The file is larger than %(mb)s MB: split it into several files."), mb=5)
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        if not content.startswith(b"PK"):
            raise Invalid(N_("The file is not a valid XLSX workbook."))
        rows = _xlsx_rows(content)
    elif name.endswith((".csv", ".txt")):
        if content.startswith(b"PK") or content.startswith(b"\xd0\xcf\x11\xe0"):
            raise Invalid(N_("The file is not a CSV file: choose a .csv or .xlsx file."))
        rows = _csv_rows(content)
    else:
        raise Invalid(N_("Only CSV (.csv) and Excel (.xlsx) files can be imported."))
    rows = [[_cell(c) for c in row] for row in rows]
    numbered = [(i, row) for i, row in enumerate(rows, start=1) if any(row)]
    if not numbered:
        raise Invalid(N_("The file is empty."))
    header_no, header = numbered[0]
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        key = HEADERS.get(title.strip().lstrip("\ufeff").strip().lower()) or HEADERS.get(title.strip())
        if key and key not in columns.values():
            columns[index] = key
    missing = [c for c in REQUIRED_COLUMNS if c not in columns.values()]
    if missing:
        raise Invalid(
            N_("The header row lacks the columns 企业名称 (name) and 统一社会信用代码 (credit_code).")
        )
    data = numbered[1:]
    if not data:
        raise Invalid(N_("The file has a header row but no enterprises."))
    if len(data) > MAX_IMPORT_ROWS:
        raise Invalid(
            N_("The file has more than %(n)s rows: split it into several files."), n=MAX_IMPORT_ROWS
        )
    return [
        (number, {key: (row[index] if index < len(row) else "") for index, key in columns.items()})
        for number, row in data
    ]


def import_enterprises(
    session, *, actor: Actor | None, now: datetime, filename: str, content: bytes
) -> ImportResult:
    """Create or update (by credit code) the enterprises of a CSV or XLSX file; a bad row is
    reported with its row number and skipped whole, the others are saved."""
    rows = read_rows(filename, content)
    result = ImportResult()
    cleaned: list[tuple[int, dict, set[str]]] = []
    seen: dict[str, int] = {}
    for number, data in rows:
        try:
            values = clean(data)
        except DomainError as error:
            result.errors.append((number, error.message))
            continue
        first = seen.get(values["credit_code"])
        if first is not None:
            result.errors.append(
                (
                    number,
                    Invalid(N_("This credit code is already on row %(row)s of the file."), row=first).message,
                )
            )
            continue
        seen[values["credit_code"]] = number
        cleaned.append((number, values, set(data)))
    existing: dict[str, Enterprise] = {}
    codes = [v["credit_code"] for _, v, _ in cleaned]
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        for enterprise in session.execute(
            select(Enterprise).where(Enterprise.credit_code.in_(chunk))
        ).scalars():
            existing[enterprise.credit_code] = enterprise
    cache: dict = {}
    for _number, values, present in cleaned:
        enterprise = existing.get(values["credit_code"])
        if enterprise is None:
            enterprise = Enterprise(created_at=now, active=True)
            _apply(session, enterprise, values, cache)
            assign_tokens(enterprise)
            session.add(enterprise)
            result.created += 1
        else:  # a column the file does not have keeps what the registry holds
            _apply(session, enterprise, {k: v for k, v in values.items() if k in present}, cache)
            result.updated += 1
    session.flush()
    if actor is not None and result.saved:
        from app.services import audit

        audit.record(
            session,
            "enterprise_import",
            actor=actor,
            now=now,
            subject=(filename or "")[:100],
            details={"created": result.created, "updated": result.updated, "errors": len(result.errors)},
        )
    return result


# --- the administrator's list of bases and items --------------------------------------------

DEFAULT_BASES = ("双随机抽查任务", "投诉举报核查", "专项检查", "上级交办", "其他")
DEFAULT_ITEMS = ("消防安全", "食品安全", "安全生产", "环境保护", "特种设备", "价格收费", "证照经营")


def seed_inspection_items(session) -> None:
    """The default list of inspection bases and items (codes B01…, I01…; kept when present)."""
    have = set(session.execute(select(InspectionItem.code)).scalars())
    for kind, prefix, names in ((BasisKind.BASIS, "B", DEFAULT_BASES), (BasisKind.ITEM, "I", DEFAULT_ITEMS)):
        for order, name in enumerate(names, start=1):
            code = f"{prefix}{order:02d}"
            if code not in have:
                session.add(InspectionItem(kind=kind, code=code, name=name, sort_order=order, active=True))
    session.flush()
