"""Open311 GeoReport v2 over the platform: services are the leaf categories, a service request
is a case filed through the intake service (app.services.reporting.file_case, as the REST API
files), and what a request shows is what the public tracking page shows, never an identity.

Reporter protection (DOMAIN.md): the platform has no public register of cases; the tracking
page opens one case to the holder of its receipt. So requests.{fmt} shows to everyone only the
cases nobody needs protecting in (``public_clause``: not a whistleblowing report, no confidential
reporter, not about a named official or department, not from an inspection problem, nor an
early warning), and of them only fixed facts: category, status, department, dates. Every text
a person typed (description, address, replies) is shown only to the connected system that
filed the case (its API key). A protected case is, to anyone else, the same 404 as a number that
does not exist, and is never counted or listed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from app import open311 as shapes
from app.enums import LABELS, CaseType, Channel
from app.errors import Invalid, NotFound
from app.services import reporting
from app.services.actor import Actor
from app.workflow import N_, OPEN_STATUSES, REPORTER_STATUS_LABELS, Status
from models import Case, CaseEvent, Category, Department, DispatchRule, Reporter

TOKEN_SALT = "open311-token"
TITLE_WORDS = 30  # characters of the description after the category name in a case's title
DEFAULT_CASE_TYPE = CaseType.COMPLAINT
MAX_IDS = 100
NUMBER_SHAPE = re.compile(r"[A-Z0-9]{1,20}")  # service_request_id values in one query
# lat/long: a plain decimal number (float() alone also reads "3_8", other scripts' digits, "nan")
DECIMAL_SHAPE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
CASE_TYPE_ATTRIBUTE = "case_type"
CONFIDENTIAL_ATTRIBUTE = "confidential"


# --- services ------------------------------------------------------------------------------


def _leaf_categories(session) -> list[Category]:
    rows = (
        session.query(Category)
        .options(joinedload(Category.parent))
        .filter(Category.active.is_(True))
        .order_by(Category.sort_order, Category.code)
        .all()
    )
    parents = {c.parent_id for c in rows if c.parent_id is not None}
    return [c for c in rows if c.id not in parents]


def _keywords(session) -> dict[int, str]:
    """The words the dispatch rules of each category route by (what a request is about)."""
    from app.dispatch import parse_keywords

    found: dict[int, list[str]] = {}
    for category_id, raw in session.execute(
        select(DispatchRule.category_id, DispatchRule.keywords).where(
            DispatchRule.active.is_(True), DispatchRule.category_id.isnot(None)
        )
    ):
        words = found.setdefault(category_id, [])
        words.extend(w for w in parse_keywords(raw) if w not in words)
    return {category_id: ",".join(words) for category_id, words in found.items()}


def list_services(session) -> list[dict]:
    """GET services: every active leaf category (its parent is the group)."""
    keywords = _keywords(session)
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.description or c.name,
            "metadata": True,  # the case type and confidentiality (service_definition)
            "type": "realtime",
            "keywords": keywords.get(c.id, ""),
            "group": c.parent.name if c.parent else "",
        }
        for c in _leaf_categories(session)
    ]


def _service(session, code: str) -> Category:
    category = next((c for c in _leaf_categories(session) if c.code == code), None)
    if category is None:
        raise NotFound(N_("There is no service with this code."))
    return category


def _attributes() -> list[dict]:
    """What every service asks besides the description: the kind of case (the platform's
    deadlines depend on it) and whether the reporter's identity is kept from the department."""
    return [
        {
            "variable": True,
            "code": CASE_TYPE_ATTRIBUTE,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": gettext("Complaint when not given."),
            "order": 1,
            "description": gettext("Case type"),
            "values": [{"key": str(t), "name": gettext(LABELS[t])} for t in CaseType],
        },
        {
            "variable": True,
            "code": CONFIDENTIAL_ATTRIBUTE,
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "",
            "order": 2,
            "description": gettext("Keep my identity from the handling department"),
            "values": [{"key": "true", "name": gettext("Yes")}, {"key": "false", "name": gettext("No")}],
        },
    ]


def service_definition(session, code: str) -> dict:
    """GET services/{code}: the service's attributes (a list, empty when it has none)."""
    category = _service(session, code)
    return {"service_code": category.code, "attributes": _attributes()}


# --- filing --------------------------------------------------------------------------------


def _float(form: Mapping, name: str, limit: float) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    value = float(raw) if DECIMAL_SHAPE.fullmatch(raw) else math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise Invalid(N_("%(field)s must be a number from -%(limit)s to %(limit)s."), field=name, limit=limit)
    return value


def _title(category: Category, description: str) -> str:
    words = " ".join(description.split())
    if len(words) > TITLE_WORDS:
        words = words[: TITLE_WORDS - 1] + "…"
    return f"{category.name}：{words}"


def _attribute(form: Mapping, code: str) -> str:
    return (form.get(f"attribute[{code}]") or "").strip()


def filing_data(session, form: Mapping) -> dict:
    """The intake data of a POST requests: the service is the category, the description the
    content, the place the location (coordinates in the content), the person the reporter
    (anonymous without a name or phone; an e-mail address is not kept: the intake has no
    field for one and the departments answer by phone)."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Invalid(N_("service_code is required."))
    try:
        category = _service(session, code)
    except NotFound:
        raise Invalid(N_("There is no service with this code.")) from None
    description = (form.get("description") or "").strip()
    if not description:
        raise Invalid(N_("description is required."))
    lat, lon = _float(form, "lat", 90), _float(form, "long", 180)
    if (lat is None) != (lon is None):
        raise Invalid(N_("Give both lat and long, or neither."))
    address = (form.get("address_string") or "").strip() or None
    content = description
    if lat is not None:
        content += "\n\n" + gettext("Location: %(lat)s, %(long)s", lat=f"{lat:.6f}", long=f"{lon:.6f}")
    case_type = _attribute(form, CASE_TYPE_ATTRIBUTE) or DEFAULT_CASE_TYPE
    if case_type not in set(CaseType):
        raise Invalid(N_("attribute[case_type] is not one of the values of the service definition."))
    confidential = _attribute(form, CONFIDENTIAL_ATTRIBUTE).lower()
    if confidential not in ("", "true", "false"):
        raise Invalid(N_("attribute[confidential] must be true or false."))
    first, last = (form.get("first_name") or "").strip(), (form.get("last_name") or "").strip()
    name = f"{last}{first}" if all(map(_is_cjk, last + first)) else " ".join(p for p in (first, last) if p)
    phone = (form.get("phone") or "").strip() or None
    return {
        "case_type": case_type,
        "channel": Channel.API,
        "category_id": category.id,
        "title": _title(category, description),
        "content": content,
        "location": address,
        "anonymous": not (name or phone),
        "confidential": confidential == "true",
        "reporter_name": name or None,
        "reporter_phone": phone,
    }


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def file_request(session, *, actor: Actor, now: datetime, form: Mapping) -> dict:
    """POST requests: file the case (synchronously) and answer its number, a token and, as the
    REST intake does, the reporter's query code (an extension field): the connected system
    passes the number and the code to the reporter, who follows the case with them on the
    public tracking page. This answer is the only one that ever holds the code (it is kept
    hashed; no GET shows it), with the address of that page (``tracking_url``: never the code
    in it, which a URL would leave in logs and histories)."""
    case, _ = reporting.file_case(session, actor=actor, now=now, data=filing_data(session, form), files=[])
    return {
        "service_request_id": case.number,
        "token": token_for(case.number),
        "service_notice": gettext(
            "Your case has been received. Keep the case number and the query code: with them "
            "you can follow the case on the public tracking page."
        ),
        "account_id": None,
        "query_code": case.query_code,
        "tracking_url": current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/track/",
    }


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def token_for(number: str) -> str:
    """A token for a filed request: the signed case number (never the internal id)."""
    return _serializer().dumps(number)


def request_for_token(session, token: str) -> dict:
    """GET tokens/{token}: the request a token of ours stands for (only its filer has it)."""
    try:
        number = _serializer().loads(token)
    except BadSignature:
        raise NotFound(N_("There is no request with this token.")) from None
    if not isinstance(number, str) or session.query(Case.id).filter(Case.number == number).first() is None:
        raise NotFound(N_("There is no request with this token."))
    return {"service_request_id": number, "token": token}


# --- reading -------------------------------------------------------------------------------


def public_clause():
    """The cases whose existence and fixed facts anyone may see: none that protects a reporter
    or names someone (a whistleblowing report or any graded one, a confidential reporter, an
    official or department concerned, a problem with an inspection), no early warning (the
    office's own work), no case merged into another."""
    return and_(
        Case.case_type != CaseType.REPORT,
        Case.grade.is_(None),
        or_(Case.concerned_official.is_(None), Case.concerned_official == ""),
        Case.concerned_department_id.is_(None),
        Case.inspection_id.is_(None),
        Case.channel != Channel.WARNING,
        Case.merged_into_id.is_(None),
        ~exists().where(Reporter.case_id == Case.id, Reporter.confidential.is_(True)),
    )


def _readable_clause(viewer: Actor | None):
    if viewer is None or viewer.id is None:
        return public_clause()
    return or_(public_clause(), Case.created_by_id == viewer.id)


def _is_number(text: str) -> bool:
    """Whether ``text`` has the shape of a case number (anything else is no case's)."""
    return NUMBER_SHAPE.fullmatch(text) is not None


def _expected(case: Case) -> datetime | None:
    """The working-day deadline: the handling one once set, before it the acceptance one."""
    if case.due_at is not None:
        return case.due_at
    return case.accept_due_at if case.status == Status.SUBMITTED else None


def _status_notes() -> dict[Status, str]:
    """The reporter's label of each status, translated once per answer."""
    return {status: gettext(label) for status, label in REPORTER_STATUS_LABELS.items()}


def describe(case: Case, viewer: Actor | None, status_notes: dict[Status, str] | None = None) -> dict:
    """One request as the spec shapes it. Its filer sees the texts of the tracking page
    (description, place, latest public note); everyone else only the fixed facts."""
    own = viewer is not None and viewer.id is not None and case.created_by_id == viewer.id
    timeline = reporting.public_timeline(case)
    latest = timeline[-1] if timeline else None
    if own and latest is not None:
        notes = gettext(latest.public_text)  # a fixed text's msgid, or the reply as typed
    else:
        notes = (status_notes or _status_notes()).get(case.status, "")
    category, lead = case.category, case.lead_department
    return {
        "service_request_id": case.number,
        "status": "open" if case.status in OPEN_STATUSES else "closed",
        "status_notes": notes,
        "service_name": category.name if category else None,
        "service_code": category.code if category else None,
        "description": case.content if own else None,
        "agency_responsible": lead.name if lead else None,
        "service_notice": None,
        "requested_datetime": shapes.iso(case.created_at),
        "updated_datetime": shapes.iso(latest.at if latest else case.created_at),
        "expected_datetime": shapes.iso(_expected(case)),
        "address": case.location if own else None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _query(session, viewer: Actor | None):
    """The readable cases with only the columns an answer shows (a list holds up to 1000 cases
    with their events: whole rows took most of its time at a million cases)."""
    columns = [
        Case.number,
        Case.status,
        Case.category_id,
        Case.lead_department_id,
        Case.created_at,
        Case.created_by_id,
        Case.due_at,
        Case.accept_due_at,
    ]
    if viewer is not None and viewer.id is not None:
        columns += [Case.content, Case.location]  # for its own cases
    return (
        session.query(Case)
        .options(
            load_only(*columns),
            joinedload(Case.category).load_only(Category.code, Category.name),
            joinedload(Case.lead_department).load_only(Department.name),
            selectinload(Case.events).load_only(
                CaseEvent.at, CaseEvent.public_text, CaseEvent.action, CaseEvent.data
            ),
        )
        .filter(_readable_clause(viewer))
    )


def get_request(session, number: str, *, viewer: Actor | None) -> dict:
    """GET requests/{id}: one request, if the viewer may know of it (else the same 404 as a
    number that does not exist)."""
    number = number.strip().upper()
    case = _query(session, viewer).filter(Case.number == number).one_or_none() if _is_number(number) else None
    if case is None:
        raise NotFound(N_("There is no request with this number."))
    return describe(case, viewer)


def _dates(args: Mapping, now: datetime) -> tuple[datetime, datetime]:
    try:
        start = shapes.parse_datetime(args["start_date"]) if args.get("start_date") else None
        end = shapes.parse_datetime(args["end_date"]) if args.get("end_date") else None
        if start is None and end is None:
            end = now
        if start is None:
            start = end - shapes.DEFAULT_SPAN
        if end is None:
            end = start + shapes.DEFAULT_SPAN
    except (ValueError, OverflowError):  # no date, or one whose 90 days (or UTC) leave the calendar
        raise Invalid(
            N_("start_date and end_date must be W3C dates such as 2026-12-01T00:00:00+08:00.")
        ) from None
    if start > end:
        raise Invalid(N_("start_date must be before end_date."))
    if end - start > shapes.DEFAULT_SPAN:
        raise Invalid(N_("start_date and end_date may not span more than 90 days."))
    return start, end


def find_requests(session, args: Mapping, *, viewer: Actor | None, now: datetime) -> list[dict]:
    """GET requests: the requests the viewer may know of, newest first, at most 1000. A list of
    service_request_id overrides the other filters; else service_code, status (open, closed)
    and the dates (requested_datetime, the last 90 days by default, never more than 90)."""
    query = _query(session, viewer)
    numbers = shapes.split_list(args.get("service_request_id"))
    if numbers:
        if len(numbers) > MAX_IDS:
            raise Invalid(N_("At most %(count)s service_request_id values at once."), count=MAX_IDS)
        query = query.filter(Case.number.in_([n.upper() for n in numbers if _is_number(n.upper())]))
    else:
        statuses = shapes.split_list(args.get("status"))
        if any(s not in ("open", "closed") for s in statuses):
            raise Invalid(N_("status must be open, closed or both."))
        start, end = _dates(args, now)
        query = query.filter(Case.created_at >= start, Case.created_at <= end)
        codes = shapes.split_list(args.get("service_code"))
        if codes:
            query = query.filter(Case.category_id.in_(select(Category.id).where(Category.code.in_(codes))))
        if set(statuses) == {"open"}:
            query = query.filter(Case.status.in_(sorted(OPEN_STATUSES)))
        elif set(statuses) == {"closed"}:
            query = query.filter(Case.status.not_in(sorted(OPEN_STATUSES)))
    cases = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(shapes.MAX_REQUESTS).all()
    notes = _status_notes()
    return [describe(case, viewer, notes) for case in cases]
