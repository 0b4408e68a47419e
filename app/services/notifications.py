"""The outbox: who is told what, written in the same transaction as the change that causes it.

Every notification has a key, so raising it twice adds nothing; delivery (jobs) marks it sent.
Payloads hold case numbers and dates only, never a reporter's identity; a reporter's phone is
stored encrypted as the address and read only by the delivery job.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache

from flask_babel import gettext
from sqlalchemy import select, update

from app import queue
from app.clock import to_local
from app.services.bulk import insert_rows
from app.transaction import after_commit
from app.workflow import N_, Role
from models import Case, InboxMessage, Jurisdiction, Notification, Staff

# template -> (subject, body); translated at delivery (Chinese by default).
TEMPLATES = {
    # A callback to a connected system (app.services.callbacks: its body is signed JSON; this
    # is how the outbox screen describes it).
    "case_callback": (
        N_("Case %(number)s: update for a connected system"),
        N_("Event %(event)s of case %(number)s (status %(status)s), signed and sent to the callback URL."),
    ),
    "case_accepted": (
        N_("Case %(number)s accepted"),
        N_("Your case %(number)s has been accepted and will be sent to the responsible department."),
    ),
    "case_dispatched": (
        N_("Case %(number)s sent to the department"),
        N_("Your case %(number)s is being handled by the responsible department; it is due by %(due)s."),
    ),
    "case_replied": (
        N_("Case %(number)s answered"),
        N_(
            "The department has answered your case %(number)s. Please read the "
            "reply and rate the result with your receipt."
        ),
    ),
    "case_verified": (
        N_("Case %(number)s: initial verification result"),
        N_("The initial verification result of your case %(number)s is ready; see it with your receipt."),
    ),
    # Rectification (整改) and its re-check (复核), the office's own answer, the 交办函.
    "rectification_reported": (
        N_("Rectification of case %(number)s reported completed"),
        N_(
            "%(department)s reports the rectification of case %(number)s completed; re-check it "
            "on the case page."
        ),
    ),
    "rectification_sent_back": (
        N_("Rectification of case %(number)s sent back"),
        N_("The rectification of case %(number)s was sent back after the re-check; complete it by %(due)s."),
    ),
    "rectification_accepted": (
        N_("Rectification of case %(number)s accepted"),
        N_("The rectification of case %(number)s has been accepted after the re-check."),
    ),
    "case_rectified": (
        N_("Case %(number)s: rectification completed"),
        N_("The rectification concerning your case %(number)s has been completed and re-checked."),
    ),
    "case_replied_by_office": (
        N_("Case %(number)s answered"),
        N_(
            "The supervisor's office has answered your case %(number)s. Please read the "
            "reply and rate the result with your receipt."
        ),
    ),
    "assignment_letter": (
        N_("Assignment letter %(notice)s: case %(number)s"),
        N_(
            "Assignment letter %(notice)s hands case %(number)s to your department: verify the "
            "problem, rectify what is found and answer by %(due)s."
        ),
    ),
    "case_reply_withdrawn": (
        N_("Case %(number)s is being handled further"),
        N_(
            "The supervisor's office did not accept the answer to your case %(number)s; the "
            "department is handling it further and will answer you again."
        ),
    ),
    "reopened_by_revisit": (
        N_("Case %(number)s re-opened by a revisit call"),
        N_(
            "The reporter of closed case %(number)s was unsatisfied on a revisit call; decide on "
            "re-handling, escalation or closing on the case page."
        ),
    ),
    "case_closed": (
        N_("Case %(number)s closed"),
        N_("Your case %(number)s has been closed. Thank you for your supervision."),
    ),
    "new_case": (
        N_("New case %(number)s for your department"),
        N_(
            "Case %(number)s has been sent to your department; sign for it by "
            "%(sign_due)s and handle it by %(due)s."
        ),
    ),
    "due_soon": (N_("Case %(number)s is due soon"), N_("Case %(number)s must be handled by %(due)s.")),
    "overdue": (N_("Case %(number)s is overdue"), N_("Case %(number)s was due by %(due)s and is overdue.")),
    "overdue_notice": (
        N_("Case %(number)s is overdue: %(notice)s"),
        N_(
            "Case %(number)s was due by %(due)s and is overdue. Reminder letter "
            "%(notice)s has been issued to your department; answer it by "
            "%(reply_due)s."
        ),
    ),
    "due_soon_digest": (
        N_("%(count)s cases of your department are due soon"),
        N_("Due soon: %(numbers)s. The details are in your inbox on the platform."),
    ),
    "overdue_digest": (
        N_("%(count)s cases of your department are overdue"),
        N_(
            "Overdue: %(numbers)s. A reminder letter has been issued for each; "
            "the details are in your inbox on the platform."
        ),
    ),
    "not_signed": (
        N_("Case %(number)s not signed for"),
        N_("Case %(number)s was to be signed for by %(sign_due)s."),
    ),
    "not_accepted": (
        N_("Case %(number)s not decided in time"),
        N_("Case %(number)s was to be accepted or declined by %(due)s."),
    ),
    "notice_issued": (
        N_("%(kind)s %(notice)s"),
        N_("%(kind)s %(notice)s has been issued to your department; answer it by %(reply_due)s."),
    ),
    "escalated": (
        N_("Case %(number)s escalated"),
        N_("Case %(number)s has been escalated to %(department)s as a difficult case."),
    ),
    # Extensions, returns, re-handling and escalation: who is concerned is told.
    "extension_requested": (
        N_("Extension requested for case %(number)s"),
        N_(
            "%(department)s asks for %(days)s more working days for case %(number)s, due by "
            "%(due)s; if approved it will be due by %(new_due)s. Decide on the case page."
        ),
    ),
    "extension_approved": (
        N_("Extension approved for case %(number)s"),
        N_(
            "The extension of %(days)s working days for case %(number)s has been approved: it "
            "is now due by %(due)s."
        ),
    ),
    "extension_refused": (
        N_("Extension refused for case %(number)s"),
        N_(
            "The extension of %(days)s working days for case %(number)s has been refused: it "
            "is still due by %(due)s."
        ),
    ),
    "case_extended": (
        N_("Case %(number)s extended"),
        N_("The handling period of your case %(number)s has been extended; it is now due by %(due)s."),
    ),
    "case_returned": (
        N_("Case %(number)s returned"),
        N_("%(department)s has returned case %(number)s as misrouted; it waits in the dispatch queue."),
    ),
    "rehandle": (
        N_("Case %(number)s to be handled again"),
        N_(
            "Case %(number)s is to be handled again (re-handling) after the reporter "
            "was not satisfied; sign for it by %(sign_due)s and handle it by %(due)s."
        ),
    ),
    "case_rehandled": (
        N_("Case %(number)s handled again"),
        N_("Your case %(number)s is being handled again by %(department)s; it is due by %(due)s."),
    ),
    "escalated_to": (
        N_("Case %(number)s escalated to your department"),
        N_(
            "Case %(number)s has been escalated to your department as a difficult "
            "case; sign for it by %(sign_due)s and handle it by %(due)s."
        ),
    ),
    "case_escalated": (
        N_("Case %(number)s escalated"),
        N_(
            "Your case %(number)s has been escalated to %(department)s at the "
            "next level up; it is due by %(due)s."
        ),
    ),
    "reward_approved": (
        N_("Reward for case %(number)s"),
        N_(
            "A reward has been approved for your report %(number)s. Open your case "
            "with its receipt to say how you want to be paid."
        ),
    ),
    "reward_unpaid": (
        N_("Reward for case %(number)s not paid"),
        N_("The reward for case %(number)s was to be paid by %(due)s."),
    ),
    "identity_requested": (
        N_("Request to see who filed case %(number)s"),
        N_(
            "%(requester)s asks to see who filed case %(number)s. Approve or refuse it in the "
            "queue of identity requests."
        ),
    ),
    "identity_request_approved": (
        N_("Request approved for case %(number)s"),
        N_("You may see who filed case %(number)s until %(until)s; every look is recorded."),
    ),
    "identity_request_refused": (
        N_("Request refused for case %(number)s"),
        N_("Your request to see who filed case %(number)s has been refused."),
    ),
    "revisit": (
        N_("Revisit case %(number)s"),
        N_("Call the reporter of case %(number)s for their evaluation (%(reason)s)."),
    ),
    # The clocks the sweep watches besides handling, and the stop of the clock (停表).
    "first_response_late": (
        N_("Case %(number)s: no first response to the reporter"),
        N_("The reporter of case %(number)s was to be given a first response by %(due)s."),
    ),
    "not_dispatched": (
        N_("Case %(number)s not dispatched in time"),
        N_(
            "Case %(number)s was accepted and was to be dispatched by %(due)s; it waits in the "
            "dispatch queue."
        ),
    ),
    "not_verified": (
        N_("Case %(number)s: initial verification result overdue"),
        N_("The reporter of case %(number)s was to be told the initial verification result by %(due)s."),
    ),
    "rectification_overdue": (
        N_("Case %(number)s: rectification overdue"),
        N_("The rectification of case %(number)s was to be completed by %(due)s."),
    ),
    "case_paused": (
        N_("Case %(number)s: material needed"),
        N_(
            "The department handling your case %(number)s needs material from you; its clock is "
            "paused until you add it with your receipt."
        ),
    ),
    "clock_resumed_on_material": (
        N_("Case %(number)s: the reporter sent material"),
        N_(
            "The reporter of case %(number)s has added material: the clock runs again after "
            "%(days)s working days paused; the case is now due by %(due)s."
        ),
    ),
    # Co-handling (004): parts returned or answered, disputes, replies refused.
    "part_returned": (
        N_("Case %(number)s: a co-handling part returned"),
        N_(
            "%(department)s has returned its co-handling part of case %(number)s with a reason; "
            "the lead department keeps the case and its deadline."
        ),
    ),
    "part_answered": (
        N_("Case %(number)s: a co-handling part answered"),
        N_("%(department)s has answered its co-handling part of case %(number)s; read it on the case page."),
    ),
    "dispute_raised": (
        N_("Case %(number)s: responsibility disputed"),
        N_(
            "%(department)s disputes who is responsible for case %(number)s. Name the lead "
            "department on the case page."
        ),
    ),
    "dispute_decided": (
        N_("Case %(number)s: the lead department is named"),
        N_("The office has decided the dispute over case %(number)s: %(department)s leads it."),
    ),
    # Across the levels of government (issue 15): 提级办理, 上收, 交办.
    "case_referred_up": (
        N_("Case %(number)s referred up to your office"),
        N_(
            "%(office)s has referred case %(number)s up to your office as a difficult case; it "
            "waits in your dispatch queue."
        ),
    ),
    "case_pulled_up": (
        N_("Case %(number)s taken over by your office"),
        N_("Your office has taken case %(number)s over from %(office)s; it waits in your office's queue."),
    ),
    "case_taken_over": (
        N_("Case %(number)s taken over by %(office)s"),
        N_("%(office)s has taken case %(number)s over; your office no longer handles it."),
    ),
    "case_sent_down": (
        N_("Case %(number)s sent down to your office"),
        N_(
            "%(office)s has sent case %(number)s down to your office: it is to be handled by "
            "%(due)s and waits in your dispatch queue."
        ),
    ),
    "case_withdrawn": (
        N_("Case %(number)s withdrawn from your department"),
        N_("Case %(number)s is now handled by %(office)s; your department's assignment is withdrawn."),
    ),
    "case_office_changed": (
        N_("Case %(number)s: handling office changed"),
        N_("Your case %(number)s is now handled by %(office)s."),
    ),
    "reply_refused": (
        N_("Case %(number)s: reply refused"),
        N_(
            "The supervisor's office has refused the reply to case %(number)s as an improper "
            "request to close (refusal %(count)s); handle it further and reply again."
        ),
    ),
}


@lru_cache(maxsize=65536)  # the sweep writes the same deadlines into thousands of messages
def when(moment: datetime | None) -> str:
    local = to_local(moment)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def add(
    session,
    *,
    key: str,
    channel: str,
    template: str,
    params: dict,
    now: datetime,
    user_id: int | None = None,
    address: str | None = None,
    case_id: int | None = None,
) -> int | None:
    """Put one notification in the outbox unless its key is already there; return its id
    (None if it was there, or if it waits in a ``buffered`` block)."""
    if template not in TEMPLATES:
        raise KeyError(template)
    row = {
        "key": key,
        "channel": channel,
        "template": template,
        "params": params,
        "user_id": user_id,
        "address": address,
        "case_id": case_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    buffer = session.info.get("outbox_buffer")
    if buffer is not None:
        buffer.setdefault(key, row)
        return None
    ids = _write(session, [row])
    return ids[0] if ids else None


def _write(session, rows: list[dict]) -> list[int]:
    """Insert the rows whose key is new (one multi-row statement); the new ids are handed to
    the workers after the commit."""
    table = Notification.__table__
    new_ids = (
        insert_rows(session, table, rows, skip_conflicts_on="key", returning=[table.c.id]).scalars().all()
    )
    if new_ids and queue.enabled():
        pending = session.info.setdefault("new_notifications", set())
        pending.update(new_ids)
        after_commit(session, lambda: _hand_to_workers(session), key="deliveries")
    return new_ids


def _hand_to_workers(session) -> None:
    """After the commit: the new messages go to the delivery jobs."""
    hand_to_workers(sorted(session.info.pop("new_notifications", ())))


def hand_to_workers(ids) -> int:
    """One delivery job per message; those Redis does not take, the next sweep retries. A
    message whose job still waits in the queue (busy workers) is not queued again: every sweep
    would otherwise add the same thousand jobs once a minute, and the reports behind them wait."""
    job_ids = {notification_id: f"deliver-{notification_id}" for notification_id in ids}
    waiting = queue.waiting(job_ids.values())
    return sum(
        queue.enqueue("deliver", notification_id, job_id=job_id, result_ttl=3600, failure_ttl=86400)
        for notification_id, job_id in job_ids.items()
        if job_id not in waiting
    )


@contextmanager
def buffered(session):
    """Collect the notifications added in the block and write them together at its end (the
    sweep tells hundreds of people at once). Nothing is written if the block fails."""
    if session.info.get("outbox_buffer") is not None:  # already inside a buffered block
        yield
        return
    session.info["outbox_buffer"] = rows = {}
    try:
        yield
    finally:
        session.info.pop("outbox_buffer", None)
    if rows:
        _write(session, list(rows.values()))


def staff_with_role(
    session, *, role: Role, department_id: int | None = None, jurisdiction_id: int | None = None
) -> list[Staff]:
    """Active users with a role (in a department, or of an office), as (id, e-mail). Read once
    per transaction for all departments and offices: the sweep writes to a hundred departments
    in one go. With ``jurisdiction_id``: the users of that jurisdiction's office, or, when it
    has nobody in the role, of the nearest office above it that has (a county without a
    custodian is served by the city's or the province's)."""
    cache = session.info.setdefault("staff_by_role", {})
    if role not in cache:
        query = (
            session.query(Staff.id, Staff.email, Staff.department_id, Staff.jurisdiction_id)
            .filter(Staff.active.is_(True), Staff.roles.any(name=role.value))
            .order_by(Staff.id)
        )
        everyone, by_department, by_office = [], {}, {}
        root = next(iter(_office_chains(session)[None]), None)
        for user_id, email, department, office in query:
            everyone.append((user_id, email))
            by_department.setdefault(department, []).append((user_id, email))
            by_office.setdefault(office if office is not None else root, []).append((user_id, email))
        cache[role] = (everyone, by_department, by_office)
    everyone, by_department, by_office = cache[role]
    if department_id is not None:
        return by_department.get(department_id, [])
    if jurisdiction_id is not None:
        chain = _office_chains(session, jurisdiction_id).get(jurisdiction_id, ())
        return next((by_office[j] for j in chain if j in by_office), [])
    return everyone


def _office_chains(session, jurisdiction_id: int | None = None) -> dict[int | None, tuple[int, ...]]:
    """Each jurisdiction's id with those above it, nearest first (None: the root's), read once
    per transaction like the staff (a table of a few hundred rows; read again when asked for
    a jurisdiction added since)."""
    cache = session.info.setdefault("staff_by_role", {})
    known = cache.get("office_chains")
    if known is None or (jurisdiction_id is not None and jurisdiction_id not in known):
        paths = session.execute(select(Jurisdiction.id, Jurisdiction.path)).all()
        chains = {
            j: tuple(int(part) for part in reversed(path.strip("/").split("/")) if part) or (j,)
            for j, path in paths
        }
        root = next((c[-1] for c in chains.values()), None)
        chains[None] = (root,) if root is not None else ()
        cache["office_chains"] = chains
    return cache["office_chains"]


def office_of_case(session, case_id: int | None) -> int | None:
    """The jurisdiction whose office holds a case (None when there is no case)."""
    if case_id is None:
        return None
    case = session.get(Case, case_id)  # in the session already for every caller
    return case.jurisdiction_id if case is not None else None


def to_staff(
    session,
    users,
    *,
    key: str,
    template: str,
    params: dict,
    now: datetime,
    case_id: int | None = None,
    by_email: bool = True,
) -> None:
    """In-app inbox and (unless ``by_email`` is false) e-mail for each user."""
    for user_id, email in users:
        add(
            session,
            key=f"{key}:inbox:{user_id}",
            channel="inbox",
            template=template,
            params=params,
            now=now,
            user_id=user_id,
            case_id=case_id,
        )
        if email and by_email:
            add(
                session,
                key=f"{key}:email:{user_id}",
                channel="email",
                template=template,
                params=params,
                now=now,
                user_id=user_id,
                address=email,
                case_id=case_id,
            )


def to_department(session, department_id: int, **kwargs) -> None:
    """Tell the handlers of a department."""
    to_staff(session, staff_with_role(session, role=Role.HANDLER, department_id=department_id), **kwargs)


def email_department_digest(
    session, department_id: int, *, template: str, numbers: list[str], now: datetime
) -> None:
    """One e-mail to each handler of a department listing the cases a sweep found (each case
    is also in their inbox), instead of one e-mail per case."""
    shown = "、".join(numbers[:100]) + ("……" if len(numbers) > 100 else "")
    digest = hashlib.sha256("|".join(sorted(numbers)).encode()).hexdigest()[:16]
    for user_id, email in staff_with_role(session, role=Role.HANDLER, department_id=department_id):
        if email:
            add(
                session,
                key=f"{template}:{department_id}:{digest}:email:{user_id}",
                channel="email",
                template=template,
                now=now,
                user_id=user_id,
                address=email,
                params={"count": len(numbers), "numbers": shown},
            )


def to_office(session, role: Role, *, jurisdiction_id: int | None = None, **kwargs) -> None:
    """Tell the staff with ``role`` of the office that holds the case (``case_id``), or of
    ``jurisdiction_id`` for a batch (the sweep knows it already); an office without anyone in
    the role is served by the nearest one above it. Never every office of the province: a
    county's case is the county's business (DOMAIN.md "Levels and jurisdictions")."""
    if jurisdiction_id is None:
        jurisdiction_id = office_of_case(session, kwargs.get("case_id"))
    if jurisdiction_id is None:  # nothing to go by: the root's office
        jurisdiction_id = next(iter(_office_chains(session)[None]), None)
    users = staff_with_role(session, role=role, jurisdiction_id=jurisdiction_id) if jurisdiction_id else []
    to_staff(session, users, **kwargs)


def to_supervisors(session, *, jurisdiction_id: int | None = None, **kwargs) -> None:
    """Tell the supervisors of the case's office (see ``to_office``)."""
    to_office(session, Role.SUPERVISOR, jurisdiction_id=jurisdiction_id, **kwargs)


def to_reporters(session, case: Case, *, template: str, now: datetime, step: str, **more: str) -> None:
    """Tell the named reporters who gave a phone number (SMS) at a key step of their case
    (``more``: further plain parameters of the template, never an identity)."""
    params = {"number": case.number, "due": when(case.due_at), **more}
    for reporter in case.reporters:
        if reporter.anonymous or not reporter.phone:
            continue
        add(
            session,
            key=f"{template}:{case.id}:{step}:reporter:{reporter.id}",
            channel="sms",
            template=template,
            params={**params, "number": reporter.receipt_number},
            now=now,
            address=reporter.phone,
            case_id=case.id,
        )


def mark_read(
    session, user_id: int | None, *, message_id: int | None = None, case_id: int | None = None
) -> int:
    """Mark a user's inbox messages read: one message they opened, or all those about a case
    they opened; return how many were unread (nothing is written when none was)."""
    if user_id is None or (message_id is None and case_id is None):
        return 0
    query = select(InboxMessage.id).where(InboxMessage.user_id == user_id, InboxMessage.read.is_(False))
    query = query.where(InboxMessage.id == message_id) if message_id is not None else query
    query = query.where(InboxMessage.case_id == case_id) if case_id is not None else query
    unread = session.execute(query).scalars().all()
    if unread:
        session.execute(
            update(InboxMessage)
            .where(InboxMessage.id.in_(unread))
            .values(read=True)
            .execution_options(synchronize_session="fetch")
        )
    return len(unread)


def render(notification: Notification) -> tuple[str, str]:
    """Subject and body in the platform's language, from the template and plain parameters."""
    subject, body = TEMPLATES[notification.template]
    params = {k: gettext(v) if k == "kind" else v for k, v in (notification.params or {}).items()}
    return gettext(subject, **params), gettext(body, **params)


Notification.renderer = staticmethod(render)
