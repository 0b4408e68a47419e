"""The reporter's side: public filing with attachments, receipts, tracking, messages, material,
the reporter's own rating, and the clerk's duplicate handling (link, merge)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from app import similarity
from app.enums import Channel, DeclineReason, EvaluationSource, Rating
from app.errors import DomainError, IllegalMove, Invalid, NotFound
from app.ids import as_id
from app.services import attachments, jurisdictions, visibility
from app.services import cases as svc
from app.services.actor import Actor
from app.services.notices import raise_notice
from app.services.protection import receipt_hash
from app.supervision import NoticeCause
from app.transaction import after_rollback
from app.uploads import delete_stored, detect_type, store_original
from app.workflow import N_, OPEN_STATUSES, Action, Role, Status
from models import (
    Attachment,
    Case,
    CaseEvent,
    CaseLink,
    CaseMessage,
    Reporter,
    ServiceWindow,
    TrackingAttempt,
    UsedChallenge,
)

REPORTER = Actor(None, "诉求人", frozenset({Role.REPORTER}))
MAX_MESSAGE = 5000
TRACKING_FAILURES_PER_HOUR = 10


class TooManyAttempts(DomainError):
    status = 429


def _upload_dir():
    return attachments.upload_store()  # app/storage.py: UPLOAD_DIR, or the bucket's uploads/


def check_files(files: list[tuple[str, bytes]]) -> None:
    """Refuse the whole filing if any file is unacceptable (before anything is saved)."""
    config = current_app.config
    if len(files) > config["UPLOAD_MAX_FILES"]:
        raise Invalid(N_("At most %(count)s files can be attached."), count=config["UPLOAD_MAX_FILES"])
    for name, data in files:
        if len(data) > config["UPLOAD_MAX_BYTES"]:
            raise Invalid(
                N_("%(name)s is larger than %(mb)s MB."),
                name=name,
                mb=config["UPLOAD_MAX_BYTES"] // (1024 * 1024),
            )
        detect_type(data, name)


def attach_files(
    case: Case,
    files: list[tuple[str, bytes]],
    *,
    now: datetime,
    reporter: Reporter | None = None,
    staff: Actor | None = None,
    purpose: str = "material",
    ref_id: int | None = None,
) -> list:
    """Store the originals under generated names and record them, pending: the staff copies
    without hidden data are made once the unit commits (app.services.attachments), so the
    reporter does not wait for them. Return what was written (so a failed transaction can
    remove it). Staff evidence says what it is for (``purpose``: "finding" or "rectification",
    ``ref_id``: that row's id)."""
    written, added = [], []
    session = object_session(case)
    if session is not None and files:  # a rolled-back filing leaves no file behind
        after_rollback(session, lambda: discard_files(written))
    try:
        for name, data in files:
            stored = store_original(
                _upload_dir(), name, data, max_bytes=current_app.config["UPLOAD_MAX_BYTES"]
            )
            written.append(stored)
            attachment = Attachment(
                reporter_id=reporter.id if reporter else None,
                uploaded_by_id=staff.id if staff else None,
                original_name=stored.original_name,
                stored_name=stored.stored_name,
                staff_name=None,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                uploaded_at=now,
                clean_state=attachments.PENDING,
                clean_attempts=0,
                purpose=purpose,
                ref_id=ref_id,
            )
            case.attachments.append(attachment)
            added.append(attachment)
    except Exception:
        discard_files(written)
        raise
    if session is not None:
        attachments.request_cleaning(session, added, now)
    return written


def discard_files(written: list) -> None:
    for stored in written:
        delete_stored(_upload_dir(), stored)


def use_challenge(session, challenge_id: str | None, now: datetime) -> None:
    """Spend a filing challenge; a missing, wrong or reused one is refused."""
    if not challenge_id or session.get(UsedChallenge, challenge_id) is not None:
        raise Invalid(N_("The answer to the check question is not correct; please try again."))
    session.add(UsedChallenge(id=challenge_id, used_at=now))


def file_case(
    session, *, now: datetime, data: dict, files: list[tuple[str, bytes]], actor: Actor = REPORTER
) -> tuple[Case, list]:
    """File a case from the public page, the QR code of a window or a connected system.

    Returns the case (with ``case.query_code`` for the receipt) and the files written, which the
    caller must discard if its commit fails: nothing a reporter submits is half-saved.
    """
    check_files(files)
    data = dict(data)
    if data.get("window_token"):
        window = (
            session.query(ServiceWindow).filter_by(token=str(data["window_token"]), active=True).one_or_none()
        )
        if window is None:
            raise Invalid(N_("This service window's code is no longer valid."))
        data.update(window_id=window.id, channel=Channel.QR)
        data["concerned_department_id"] = data.get("concerned_department_id") or window.department_id
    data["channel"] = data.get("channel") or Channel.WEB
    case = svc.create_case(session, actor=actor, now=now, data=data)
    written = attach_files(case, files, now=now, reporter=case.reporters[0])
    session.flush()
    return case, written


def confirm_receipt(session, number: str, code: str, *, now: datetime) -> Reporter:
    """Check that the reporter saved their code (the step after the receipt is shown); from
    then on the receipt page never shows the code again."""
    reporter = find_reporter(session, number, code)
    if reporter is None:
        raise Invalid(N_("The query code you typed does not match; check it and try again."))
    reporter.receipt_confirmed_at = reporter.receipt_confirmed_at or now
    session.flush()
    return reporter


def find_reporter(session, number: str | None, code: str | None) -> Reporter | None:
    number = (number or "").strip().upper()
    digest = receipt_hash(number, code or "")
    if not digest:
        return None
    return session.query(Reporter).filter_by(receipt_number=number, code_hash=digest).one_or_none()


def authenticate(session, *, number: str, code: str, client_digest: str, now: datetime) -> Reporter:
    """Open a case with its receipt. A wrong number and a wrong code answer the same way; every
    attempt is recorded and a client with too many recent failures is refused."""
    failures = (
        session.query(func.count(TrackingAttempt.id))
        .filter(
            TrackingAttempt.client_digest == client_digest,
            TrackingAttempt.success.is_(False),
            TrackingAttempt.at > now - timedelta(hours=1),
        )
        .scalar()
    )
    if failures >= TRACKING_FAILURES_PER_HOUR:
        raise TooManyAttempts(N_("Too many wrong attempts; please try again in an hour."))
    reporter = find_reporter(session, number, code)
    session.add(TrackingAttempt(at=now, client_digest=client_digest, success=reporter is not None))
    session.flush()
    if reporter is None:
        raise NotFound(N_("The case number or query code is not correct."))
    return reporter


def tracked_case(session, reporter_id: int | None, *, for_update: bool = False) -> tuple[Reporter, Case]:
    """The reporter a tracking session follows, and their case. ``for_update`` (every action
    of the reporter: a message, material, a rating) locks the case row first, as the staff's
    actions do (cases.get_case), so that two requests on one case, the reporter's or a
    staff member's, run one after the other; the reporter is read after the lock, fresh."""
    reporter_id = as_id(reporter_id)
    if reporter_id is None:
        raise NotFound(N_("The case number or query code is not correct."))
    if not for_update:
        reporter = session.get(Reporter, reporter_id)
        if reporter is None:
            raise NotFound(N_("The case number or query code is not correct."))
        return reporter, reporter.case
    case_id = session.execute(select(Reporter.case_id).where(Reporter.id == reporter_id)).scalar()
    for _ in range(3):  # a merge may move the reporter to another case before the lock
        if case_id is None:
            break
        case = session.execute(
            select(Case).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
        reporter = session.execute(
            select(Reporter).where(Reporter.id == reporter_id).execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if reporter is None or case is None:
            break
        if reporter.case_id == case.id:
            return reporter, case
        case_id = reporter.case_id
    raise NotFound(N_("The case number or query code is not correct."))


def public_timeline(case: Case) -> list[CaseEvent]:
    """The steps a reporter sees: only events with text meant for them (never internal notes),
    and never a reply the office refused as an improper request to close (not the answer)."""
    from app.services.cohandling import refused_reply_event_ids

    refused = refused_reply_event_ids(case)
    return [e for e in case.events if e.public_text and e.id not in refused]


def _message_text(body) -> str:
    return svc.clean_text(body, N_("Message"), limit=MAX_MESSAGE)


def reporter_message(session, case: Case, reporter: Reporter, *, now: datetime, body) -> CaseMessage:
    """A message from the reporter to the staff (anonymous reporters too)."""
    if case.status == Status.DECLINED and case.merged_into_id is None:
        raise IllegalMove(N_("This case was declined; file a new case if needed."))
    message = CaseMessage(
        from_reporter=True, reporter_id=reporter.id, author_name="诉求人", body=_message_text(body), at=now
    )
    case.messages.append(message)
    session.flush()
    return message


def messages_for(case: Case, reporter: Reporter) -> list[CaseMessage]:
    """What a reporter sees of the messages: the staff's and their own. After a merge the case
    has several reporters, and one reporter's message may say who they are."""
    return [m for m in case.messages if not m.from_reporter or m.reporter_id == reporter.id]


def may_message(case: Case, actor: Actor) -> bool:
    """Staff who may write to the reporter: the supervisor and the clerk of the case's own
    office (an upper office reads a lower one's case, it does not speak for it), the handling
    department."""
    if actor.roles & {Role.SUPERVISOR, Role.CLERK}:
        return jurisdictions.is_own(actor, case.jurisdiction)
    return Role.HANDLER in actor.roles and any(
        a.department_id == actor.department_id for a in case.active_assignments
    )


def staff_message(session, case_id: int, *, actor: Actor, now: datetime, body) -> CaseMessage:
    """A message from the staff to the reporter, shown on the tracking page."""
    case = svc.get_case(session, case_id, actor)
    if not may_message(case, actor):
        raise IllegalMove(N_("Only the handling department or the supervisor writes to the reporter."))
    message = CaseMessage(
        from_reporter=False, author_id=actor.id, author_name=actor.name, body=_message_text(body), at=now
    )
    case.messages.append(message)
    svc.mark_first_response(case, now)
    session.flush()
    return message


def add_material(
    session, case: Case, reporter: Reporter, *, now: datetime, text, files: list[tuple[str, bytes]]
) -> list:
    """The reporter adds material to an open case: text (kept as a message) and files."""
    if case.status not in OPEN_STATUSES:
        raise IllegalMove(N_("Material can only be added while the case is open."))
    if not files and not (text or "").strip():
        raise Invalid(N_("Add a text or at least one file."))
    check_files(files)
    if (text or "").strip():
        reporter_message(session, case, reporter, now=now, body=text)
    written = attach_files(case, files, now=now, reporter=reporter)
    case.events.append(
        CaseEvent(
            action="add_material",
            from_status=str(case.status),
            to_status=str(case.status),
            at=now,
            actor_name="诉求人",
            note=None,
            data={"files": len(files)},
            public_text=N_("You added material to your case."),
        )
    )
    from app.services import clocks  # builds on the cases module, as this one does

    clocks.resume_on_material(session, case, actor=REPORTER, now=now)  # the material it waited for
    session.flush()
    return written


def rated_latest_reply(case: Case, reporter: Reporter) -> bool:
    """Whether the reporter has rated the reply the case has now (every reply is rated: the
    one after a re-handling or an escalation too)."""
    return (
        reporter.rated_at is not None and case.replied_at is not None and reporter.rated_at >= case.replied_at
    )


def may_rate(case: Case, reporter: Reporter) -> bool:
    """A reporter rates each reply once: the reply that waits for evaluation, or — on a merged
    case that another reporter already rated — the reply they were all given."""
    if case.replied_at is None or rated_latest_reply(case, reporter):
        return False
    return case.status == Status.REPLIED or (
        case.status in (Status.EVALUATED, Status.UNSATISFIED, Status.CLOSED) and len(case.reporters) > 1
    )


def rate_case(session, case: Case, reporter: Reporter, *, now: datetime, rating, reason=None) -> Case:
    """The reporter rates the latest reply (满意/基本满意/不满意); the first rating of a reply
    drives the flow, and every rating stays in the case's history."""
    if rated_latest_reply(case, reporter):
        raise IllegalMove(N_("You have already rated this reply."))
    if not may_rate(case, reporter):
        raise IllegalMove(N_("The case can be rated once it has been replied to."))
    rating = svc.clean_enum(Rating, rating, N_("Rating"))
    reason = svc.clean_text(reason, N_("Reason"), required=rating == Rating.UNSATISFIED)
    if case.status == Status.REPLIED:
        svc.evaluate_case(
            session,
            case,
            actor=REPORTER,
            now=now,
            rating=rating,
            source=EvaluationSource.REPORTER,
            reason=reason,
        )
    else:  # a co-reporter of a merged case: their rating is recorded, the flow goes on
        case.events.append(
            CaseEvent(
                action="rate",
                from_status=str(case.status),
                to_status=str(case.status),
                at=now,
                actor_name=REPORTER.name,
                note=reason,
                data={"rating": str(rating), "source": "reporter"},
            )
        )
    reporter.rating, reporter.rating_reason, reporter.rated_at = rating, reason, now
    session.flush()
    return case


# --- duplicates ------------------------------------------------------------------------------


def _case_text(case: Case) -> similarity.CaseText:
    party = next((r.company_digest for r in case.reporters if r.company_digest), None)
    return similarity.CaseText(
        id=case.id,
        title=case.title,
        content=case.content,
        company=party,
        department_id=case.concerned_department_id,
        region=case.region,
    )


def similar_open_cases(
    session, case: Case, actor: Actor, *, limit: int = 5, window_days: int = 180
) -> list[tuple[Case, float]]:
    """Open cases that look like this one (same enterprise or department and similar text),
    among those the actor may see."""
    candidates = (
        session.query(Case)
        .filter(
            Case.id != case.id,
            visibility.visible_cases_clause(actor),
            Case.status.in_([s.value for s in OPEN_STATUSES]),
            Case.created_at > case.created_at - timedelta(days=window_days),
        )
        .order_by(Case.id.desc())
        .limit(2000)
        .all()
    )
    by_id = {c.id: c for c in candidates}
    ranked = similarity.find_similar(_case_text(case), [_case_text(c) for c in candidates], limit=limit)
    return [(by_id[case_id], score) for case_id, score in ranked]


def _other_case(session, number_or_id, actor: Actor) -> Case:
    text = str(number_or_id or "").strip().upper()
    query = session.query(Case).filter(visibility.visible_cases_clause(actor))
    other_id = as_id(text)
    other = (
        query.filter(Case.id == other_id).one_or_none()
        if other_id is not None
        else query.filter(Case.number == text).one_or_none()
    )
    if other is None:
        raise Invalid(N_("No case with this number."))
    return other


def merge_case(session, case: Case, *, actor: Actor, now: datetime, into_case, note=None) -> Case:
    """Merge a duplicate into the case it repeats: its reporters (each with their own receipt
    and rating), files and messages move over; the duplicate ends as declined (duplicate)."""
    main = _other_case(session, into_case, actor)
    if main.id == case.id or main.status not in OPEN_STATUSES:
        raise Invalid(N_("Merge into another case that is still open."))
    if main.jurisdiction_id != case.jurisdiction_id:
        # its reporters, files and messages would move to another office's case: that office
        # takes the duplicate over, or the two are linked
        raise Invalid(N_("Merge only into a case of the same office; link the two cases instead."))
    visibility.check_merge(session, case, main)  # no conflict of interest
    svc.move(
        session,
        case,
        Action.MERGE,
        actor,
        now,
        note=svc.clean_text(note, N_("Note"), required=False),
        public_text=N_(
            "Your case has been merged with another case about the same matter; "
            "follow it with your own receipt."
        ),
        data={"into": main.id},
        changes={
            "decline_reason": DeclineReason.DUPLICATE,
            "merged_into_id": main.id,
            "closed_at": now,
            "decline_note": main.number,
        },
    )
    svc.mark_first_response(case, now)
    with session.no_autoflush:  # re-parent, never orphan: a flush in between deletes them
        for collection in ("reporters", "attachments", "messages"):
            for item in list(getattr(case, collection)):
                item.case = main
    lead = main.lead_assignment
    if lead is not None and (lead.state == "dispatched" or lead.due_at < now):
        raise_notice(
            session,
            cause=NoticeCause.REPORTED_AGAIN,
            subject=f"merge:{case.id}",
            department_id=lead.department_id,
            cases=[main],
            now=now,
            details=f"工单{main.number}尚未办理，又收到同一事项的反映（{case.number}）。",
        )
    main.events.append(
        CaseEvent(
            action="merge_in",
            from_status=str(main.status),
            to_status=str(main.status),
            at=now,
            actor_id=actor.id,
            actor_name=actor.name,
            department_id=actor.department_id,
            note=case.number,
            data={"from": case.id},
        )
    )
    session.flush()
    return case


def link_cases(session, case_id: int, *, actor: Actor, now: datetime, other) -> CaseLink:
    """Link two cases about the same matter (both stay open)."""
    if Role.CLERK not in actor.roles:
        raise IllegalMove(N_("Only the intake clerk links cases."))
    case = svc.get_case(session, case_id, actor)
    if not jurisdictions.is_own(actor, case.jurisdiction):
        raise IllegalMove(N_("Only the clerk of the case's own office links it to another case."))
    target = _other_case(session, other, actor)
    if target.id == case.id:
        raise Invalid(N_("A case cannot be linked to itself."))
    low, high = sorted((case.id, target.id))
    link = session.query(CaseLink).filter_by(case_id=low, linked_case_id=high).one_or_none()
    if link is None:
        link = CaseLink(case_id=low, linked_case_id=high, created_at=now, created_by_id=actor.id)
        session.add(link)
        session.flush()
    return link


def linked_cases(session, case: Case, actor: Actor) -> list[Case]:
    """The cases linked to this one that the actor may see (a link never shows another
    department's case, nor a case about the actor's department)."""
    rows = (
        session.query(CaseLink)
        .filter((CaseLink.case_id == case.id) | (CaseLink.linked_case_id == case.id))
        .all()
    )
    ids = {r.case_id for r in rows} | {r.linked_case_id for r in rows}
    ids.discard(case.id)
    if not ids:
        return []
    return (
        session.query(Case)
        .filter(Case.id.in_(ids), visibility.visible_cases_clause(actor))
        .order_by(Case.id)
        .all()
    )
