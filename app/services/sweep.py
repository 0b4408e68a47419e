"""The periodic sweep: finds in the database what has fallen due and acts once on each.

Each query uses an index on (state, deadline) and a 'done' column, so a sweep's cost grows
with the number of due items, not with the number of cases. Rows are locked with SKIP LOCKED
(PostgreSQL) and every effect has a unique key, so two sweeps at once cause no double effect.

The clocks watched: the acceptance decision, the first response to the reporter, the dispatch
of an accepted case, the initial verification result, a planned rectification, signing, and
handling (due soon, overdue, still overdue after the reminder). A handling clock that stands
(停表, ``Assignment.paused_at``) is neither due soon nor overdue until it runs again.
"""

from __future__ import annotations

import gc
import math
import random
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, true, update
from sqlalchemy.orm import joinedload, load_only, scoped_session
from sqlalchemy.orm.attributes import set_committed_value

from app.enums import AssignmentState, Grade, RectificationState
from app.services import notifications as outbox
from app.services.bulk import any_of, dialect_insert
from app.services.levels_rules import RulesCache
from app.services.notices import Draft, raise_notices
from app.supervision import NoticeCause, cause_key
from app.workflow import Role, Status
from models import Assignment, Case, Notification, Rectification, RevisitTask

RUNNING = (AssignmentState.DISPATCHED.value, AssignmentState.SIGNED.value)
BATCH = 1000
# What the reminders and notices of an assignment's rules read of its case (notice_documents:
# number, title, whether it is about a department); another column is read when first used.
CASE_FACTS = (
    Case.id,
    Case.number,
    Case.title,
    Case.jurisdiction_id,
    Case.due_at,
    Case.closed_at,
    Case.concerned_department_id,
)
# What the rules over cases read of them: their clocks and whom they tell (the text a reporter
# wrote stays in the database; another column is read when first used).
CASE_CLOCKS = (
    *CASE_FACTS,
    Case.status,
    Case.accept_due_at,
    Case.first_response_due_at,
    Case.dispatch_due_at,
    Case.verify_due_at,
    Case.lead_department_id,
    Case.replied_at,
)


def batches(session, query, lock=None):
    """Yield the due rows in locked batches (other sweeps skip them) until none is left.

    The ids come first, from the rule's small partial index (only rows not acted on yet), so
    the cost follows the due items, not the table. Each batch is then locked with its rule
    checked again: a row another sweep has just acted on no longer matches (``lock``: the part
    of the rule checked in the locking query, when the caller checks the rest itself)."""
    entity = query.column_descriptions[0]["entity"]
    ids = session.execute(query.with_only_columns(entity.id)).scalars().all()
    query = query if lock is None else lock
    if entity is Assignment:  # the case's few columns its reminders and notices state
        query = query.options(joinedload(Assignment.case, innerjoin=True).load_only(*CASE_FACTS))
    elif entity is Case:
        query = query.options(load_only(*CASE_CLOCKS))
    for start in range(0, len(ids), BATCH):
        rows = (
            session.execute(
                query.where(any_of(session, entity.id, ids[start : start + BATCH])).with_for_update(
                    of=entity, skip_locked=True
                )
            )
            .unique()
            .scalars()
            .all()
        )
        if rows:
            with outbox.buffered(session):  # one INSERT for the batch's notifications
                yield rows
            session.flush()


def _mark(session, rows, **done_at) -> None:
    """Record on the batch's rows that the sweep acted (one UPDATE), and on the loaded rows as
    the database now holds them (the UPDATE returns nothing to match them with)."""
    model = type(rows[0])
    session.execute(
        update(model)
        .where(any_of(session, model.id, [r.id for r in rows]))
        .values(**done_at)
        .execution_options(synchronize_session=False)
    )
    for row in rows:
        for name, value in done_at.items():
            set_committed_value(row, name, value)


def _params(case: Case, assignment: Assignment | None = None) -> dict:
    return {
        "number": case.number,
        "due": outbox.when(assignment.due_at if assignment else case.due_at),
        "sign_due": outbox.when(assignment.sign_due_at) if assignment else "",
    }


def _due_soon(rulebook: RulesCache, jurisdiction_id: int | None) -> timedelta:
    return timedelta(hours=rulebook.settings(jurisdiction_id)["due_soon_hours"])


def _grace(rulebook: RulesCache, jurisdiction_id: int | None) -> int:
    """Working days an overdue case may stay so after its reminder, in its jurisdiction."""
    return rulebook.settings(jurisdiction_id)["rectify_after_reminder_working_days"]


def _working_days_since(calendar, start: datetime, now: datetime) -> int:
    from app.clock import local_date

    return calendar.working_days_between(local_date(start), local_date(now))


@contextmanager
def _collecting_only_new_objects():
    """Let the garbage collector look only at the objects made during the block: a sweep makes
    tens of thousands (rows, notices, messages), enough to set off a full collection, which
    otherwise walks every object of the process too (a third of a 1000-item sweep's time).
    The older objects are collected as usual after the block. Within it, a collection waits
    for a hundred times as many new objects as usual: the backlog's first sweep otherwise ran
    1,800 collections over its own objects, which it holds to the end anyway (0.75 s of 5.5 s)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(thresholds[0] * 100, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def run_sweep(session, now: datetime) -> dict[str, int]:
    """Act on everything due at ``now``; return how many items each rule handled."""
    if isinstance(session, scoped_session):  # the session itself: the proxy looks up the app
        session = session()  # context on every use, 150,000 times in the backlog's first sweep
    with _collecting_only_new_objects():
        return _run_sweep(session, now)


def _run_sweep(session, now: datetime) -> dict[str, int]:
    # Each jurisdiction's settings and calendar, read once for the run (never per case); the
    # queries below use the loosest value of a setting, each row is then held to its own.
    rulebook = RulesCache(session, every=True)
    settings = rulebook.settings(None)  # the root's
    calendar = rulebook.calendar(None)
    session.info.pop("staff_by_role", None)
    shared = {"settings": settings, "calendar": calendar}
    done = dict.fromkeys(
        [
            "not_accepted",
            "first_response",
            "not_dispatched",
            "not_verified",
            "rectification_overdue",
            "unsigned",
            "due_soon",
            "overdue",
            "still_overdue",
            "unrated",
        ],
        0,
    )

    for batch in batches(
        session,
        select(Case).where(
            Case.status == Status.SUBMITTED.value, Case.accept_due_at < now, Case.accept_reminded_at.is_(None)
        ),
    ):
        for case in batch:
            outbox.to_supervisors(
                session,
                jurisdiction_id=case.jurisdiction_id,
                key=f"not_accepted:{case.id}",
                template="not_accepted",
                params={"number": case.number, "due": outbox.when(case.accept_due_at)},
                now=now,
                case_id=case.id,
            )
        _mark(session, batch, accept_reminded_at=now)
        done["not_accepted"] += len(batch)

    done.update(_other_clocks(session, now))

    for batch in batches(
        session,
        select(Assignment).where(
            Assignment.active == true(),
            Assignment.state == AssignmentState.DISPATCHED.value,
            Assignment.sign_due_at < now,
            Assignment.sign_reminded_at.is_(None),
        ),
    ):
        raise_notices(
            session,
            [
                Draft(
                    NoticeCause.UNSIGNED,
                    f"assignment:{a.id}",
                    a.department_id,
                    f"工单{a.case.number}已于{outbox.when(a.dispatched_at)}分办，"
                    f"未在{outbox.when(a.sign_due_at)}前签收。",
                    (a.case_id,),
                    a.case.jurisdiction_id,  # issued by the case's office, on its calendar
                )
                for a in batch
            ],
            now=now,
            rules=rulebook,  # each office's settings and calendar
        )
        _mark(session, batch, sign_reminded_at=now)
        done["unsigned"] += len(batch)

    # Each case due soon or overdue goes to the handlers' inbox; by e-mail they get one digest
    # per department and rule for this sweep, not one e-mail per case.
    digests: dict[tuple[str, int], list[str]] = {}
    warn = timedelta(hours=max(rulebook.values("due_soon_hours")))
    for batch in batches(
        session,
        select(Assignment).where(
            Assignment.active == true(),
            Assignment.state.in_(RUNNING),
            Assignment.paused_at.is_(None),
            Assignment.due_at >= now,
            Assignment.due_at < now + warn,
            Assignment.due_soon_notified_at.is_(None),
        ),
    ):
        batch = [a for a in batch if a.due_at < now + _due_soon(rulebook, a.case.jurisdiction_id)]
        if not batch:
            continue
        for a in batch:
            outbox.to_department(
                session,
                a.department_id,
                key=f"due_soon:{a.id}",
                template="due_soon",
                params=_params(a.case, a),
                now=now,
                case_id=a.case_id,
                by_email=False,
            )
            digests.setdefault(("due_soon_digest", a.department_id), []).append(a.case.number)
        _mark(session, batch, due_soon_notified_at=now)
        done["due_soon"] += len(batch)

    for batch in batches(
        session,
        select(Assignment).where(
            Assignment.active == true(),
            Assignment.state.in_(RUNNING),
            Assignment.paused_at.is_(None),
            Assignment.due_at < now,
            Assignment.overdue_reminded_at.is_(None),
        ),
    ):
        issued = {
            n.cause_key: n
            for n in raise_notices(
                session,
                [
                    Draft(
                        NoticeCause.OVERDUE,
                        f"assignment:{a.id}",
                        a.department_id,
                        f"工单{a.case.number}办理时限为{outbox.when(a.due_at)}，已逾期。",
                        (a.case_id,),
                        a.case.jurisdiction_id,
                    )
                    for a in batch
                ],
                now=now,
                announce=False,
                rules=rulebook,
            )
        }
        for a in batch:  # one message per case: it is overdue, and the notice it received
            notice = issued.get(cause_key(NoticeCause.OVERDUE, f"assignment:{a.id}"))
            params = _params(a.case, a)
            if notice:
                params.update(notice=notice.number, reply_due=outbox.when(notice.reply_due_at))
            outbox.to_department(
                session,
                a.department_id,
                key=f"overdue:{a.id}",
                template="overdue_notice" if notice else "overdue",
                params=params,
                now=now,
                case_id=a.case_id,
                by_email=False,
            )
            digests.setdefault(("overdue_digest", a.department_id), []).append(a.case.number)
        _mark(session, batch, overdue_reminded_at=now)
        done["overdue"] += len(batch)

    with outbox.buffered(session):
        for (template, department_id), numbers in digests.items():
            outbox.email_department_digest(
                session, department_id, template=template, numbers=numbers, now=now
            )

    grace = min(rulebook.values("rectify_after_reminder_working_days"))
    for batch in batches(
        session,
        select(Assignment).where(
            Assignment.active == true(),
            Assignment.state.in_(RUNNING),
            Assignment.paused_at.is_(None),
            Assignment.due_at < now,
            Assignment.overdue_reminded_at < now - timedelta(days=grace),
            Assignment.escalated_notice_at.is_(None),
        ),
    ):
        late = [
            a
            for a in batch
            if _working_days_since(rulebook.calendar(a.case.jurisdiction_id), a.overdue_reminded_at, now)
            >= _grace(rulebook, a.case.jurisdiction_id)
        ]
        if not late:
            continue
        raise_notices(
            session,
            [
                Draft(
                    NoticeCause.OVERDUE_AFTER_REMINDER,
                    f"assignment:{a.id}",
                    a.department_id,
                    f"工单{a.case.number}经提醒敦促后"
                    f"{_grace(rulebook, a.case.jurisdiction_id)}个工作日仍未办结。",
                    (a.case_id,),
                    a.case.jurisdiction_id,
                )
                for a in late
            ],
            now=now,
            rules=rulebook,
        )
        _mark(session, late, escalated_notice_at=now)
        done["still_overdue"] += len(late)

    wait = min(rulebook.values("revisit_after_working_days"))
    # Every reply is rated (the 100% rule): a reply after a re-handling or an escalation that
    # goes unrated gets a revisit call of its own ("unrated:2", "unrated:3"...).
    called_since_reply = exists().where(
        RevisitTask.case_id == Case.id,
        RevisitTask.reason.like("unrated%"),
        RevisitTask.created_at >= Case.replied_at,
    )
    unrated = select(Case).where(
        Case.status == Status.REPLIED.value, Case.replied_at < now - timedelta(days=wait)
    )
    # The locked batch is checked for a call since the reply in Python, from the calls the
    # batch's cases had (one query): as a NOT EXISTS in the locking query, the planner, whose
    # figures for revisit_task predate the calls this sweep adds, compared each case with every
    # call (a million comparisons per batch of the seeded backlog).
    for batch in batches(session, unrated.where(~called_since_reply), lock=unrated):
        calls = {  # per case: how many calls it had, the last one when
            case_id: (count, last)
            for case_id, count, last in session.execute(
                select(RevisitTask.case_id, func.count(), func.max(RevisitTask.created_at))
                .where(
                    any_of(session, RevisitTask.case_id, [c.id for c in batch]),
                    RevisitTask.reason.like("unrated%"),
                )
                .group_by(RevisitTask.case_id)
            )
        }
        due = [
            case
            for case in batch
            if (case.id not in calls or calls[case.id][1] < case.replied_at)
            and _working_days_since(rulebook.calendar(case.jurisdiction_id), case.replied_at, now)
            >= rulebook.settings(case.jurisdiction_id)["revisit_after_working_days"]
        ]
        if not due:
            continue
        earlier = {case_id: count for case_id, (count, _last) in calls.items()}
        reasons = [(c, f"unrated:{earlier[c.id] + 1}" if earlier.get(c.id) else "unrated") for c in due]
        add_revisits(session, reasons, now=now)
        done["unrated"] += len(due)

    from app.services.rewards import sweep_unpaid

    done["unpaid_rewards"] = sweep_unpaid(session, now, **shared)
    from app.services.attachments import sweep_pending

    done["uncleaned_files"] = sweep_pending(session, now)  # files whose cleaning job was lost
    session.flush()
    return done


def _other_clocks(session, now: datetime) -> dict[str, int]:
    """The clocks of the seeds besides acceptance, signing and handling, each reminded once:
    the first response to the reporter (24 hours, 000), the dispatch of an accepted case (20
    minutes, 002), the initial verification result (3 working days, 1 for a 12345 ticket;
    000, 004) and a planned rectification's deadline."""
    done = dict.fromkeys(["first_response", "not_dispatched", "not_verified", "rectification_overdue"], 0)
    for batch in batches(
        session,
        select(Case).where(
            Case.first_responded_at.is_(None),
            Case.first_response_reminded_at.is_(None),
            Case.first_response_due_at < now,
        ),
    ):
        for case in batch:
            told = {
                "key": f"first_response:{case.id}",
                "template": "first_response_late",
                "params": {"number": case.number, "due": outbox.when(case.first_response_due_at)},
                "now": now,
                "case_id": case.id,
                "jurisdiction_id": case.jurisdiction_id,
            }
            outbox.to_supervisors(session, **told)
            outbox.to_office(session, Role.CLERK, **told)
        _mark(session, batch, first_response_reminded_at=now)
        done["first_response"] += len(batch)

    for batch in batches(
        session,
        select(Case).where(
            Case.status == Status.ACCEPTED.value,
            Case.dispatch_reminded_at.is_(None),
            Case.dispatch_due_at < now,
            # A B-grade report waits for the office's verification before it can be dispatched.
            or_(Case.grade.is_(None), Case.grade != Grade.B.value, Case.finding.isnot(None)),
        ),
    ):
        for case in batch:
            outbox.to_office(
                session,
                Role.DISPATCHER,
                jurisdiction_id=case.jurisdiction_id,
                key=f"not_dispatched:{case.id}",
                template="not_dispatched",
                params={"number": case.number, "due": outbox.when(case.dispatch_due_at)},
                now=now,
                case_id=case.id,
            )
        _mark(session, batch, dispatch_reminded_at=now)
        done["not_dispatched"] += len(batch)

    for batch in batches(
        session,
        select(Case).where(
            Case.verified_at.is_(None),
            Case.verify_reminded_at.is_(None),
            Case.verify_due_at < now,
        ),
    ):
        for case in batch:
            told = {
                "key": f"not_verified:{case.id}",
                "template": "not_verified",
                "params": {"number": case.number, "due": outbox.when(case.verify_due_at)},
                "now": now,
                "case_id": case.id,
            }
            outbox.to_supervisors(session, jurisdiction_id=case.jurisdiction_id, **told)
            if case.lead_department_id is not None:
                outbox.to_department(session, case.lead_department_id, **told)
        _mark(session, batch, verify_reminded_at=now)
        done["not_verified"] += len(batch)

    for batch in batches(
        session,
        select(Rectification).where(
            Rectification.state == RectificationState.PLANNED.value,
            Rectification.overdue_reminded_at.is_(None),
            Rectification.due_at < now,
        ),
    ):
        numbers, offices = {}, {}
        for case_id, number, office in session.execute(
            select(Case.id, Case.number, Case.jurisdiction_id).where(
                any_of(session, Case.id, sorted({r.case_id for r in batch}))
            )
        ):
            numbers[case_id], offices[case_id] = number, office
        for rectification in batch:
            told = {
                "key": f"rectification_overdue:{rectification.id}:{rectification.send_backs}",
                "template": "rectification_overdue",
                "params": {
                    "number": numbers[rectification.case_id],
                    "due": outbox.when(rectification.due_at),
                },
                "now": now,
                "case_id": rectification.case_id,
            }
            outbox.to_supervisors(session, jurisdiction_id=offices[rectification.case_id], **told)
            if rectification.department_id is not None:
                outbox.to_department(session, rectification.department_id, **told)
        _mark(session, batch, overdue_reminded_at=now)
        done["rectification_overdue"] += len(batch)
    return done


def add_revisit(session, case: Case, *, reason: str, now: datetime) -> bool:
    """Create a revisit call task once per case and reason, and tell the supervisors; True if
    it was new."""
    return bool(add_revisits(session, [(case, reason)], now=now))


def add_revisits(session, calls: list[tuple[Case, str]], *, now: datetime) -> set[tuple[int, str]]:
    """Create the revisit call tasks (case, reason) not there yet in one INSERT, and tell the
    supervisors of each new one; return the (case id, reason) created. The pair is unique in
    the database, so two sweeps at once create each task, and tell of it, once."""
    if not calls:
        return set()
    session.flush()  # the ORM's pending revisit tasks first: the INSERT below sees them
    table = RevisitTask.__table__
    rows = [
        {
            "case_id": case.id,
            "reason": reason,
            "created_at": now,
            "due_at": now + timedelta(days=2),
            "attempts": 0,
        }
        for case, reason in calls
    ]
    # One statement for the batch, its rows as parameter sets (the driver sends them as one
    # multi-row INSERT): a VALUES clause of 2,500 values built and compiled for each batch cost
    # a second of the backlog's first sweep.
    created = set(
        session.execute(
            dialect_insert(session, table)
            .on_conflict_do_nothing(index_elements=["case_id", "reason"])
            .returning(table.c.case_id, table.c.reason),
            rows,
        ).tuples()
    )
    with outbox.buffered(session):
        for case, reason in calls:
            if (case.id, reason) not in created:
                continue
            if "revisits" in case.__dict__:  # a loaded list would not show the new call (viewonly)
                session.expire(case, ["revisits"])
            outbox.to_supervisors(
                session,
                jurisdiction_id=case.jurisdiction_id,
                key=f"revisit:{reason}:{case.id}",
                template="revisit",
                params={"number": case.number, "reason": reason},
                now=now,
                case_id=case.id,
            )
    return created


def sample_closed_cases(session, *, week_start: datetime, now: datetime, seed: int | None = None) -> int:
    """Sample at least the configured share of the cases closed in the week before
    ``week_start`` for a quality revisit, each jurisdiction's cases at its own share; running it
    again adds nothing."""
    rows = session.execute(
        select(Case.id, Case.jurisdiction_id)
        .where(
            Case.status == Status.CLOSED.value,
            Case.closed_at >= week_start - timedelta(days=7),
            Case.closed_at < week_start,
        )
        .order_by(Case.id)
    ).all()
    if not rows:
        return 0
    closed = [case_id for case_id, _ in rows]
    sampled = set(
        session.execute(
            select(RevisitTask.case_id).where(RevisitTask.reason == "sample", RevisitTask.case_id.in_(closed))
        ).scalars()
    )
    by_jurisdiction: dict[int, list[int]] = {}
    for case_id, jurisdiction_id in rows:
        by_jurisdiction.setdefault(jurisdiction_id, []).append(case_id)
    rulebook = RulesCache(session)
    rng = random.Random(seed if seed is not None else week_start.toordinal())
    chosen: list[int] = []
    for jurisdiction_id in sorted(by_jurisdiction):
        ids = by_jurisdiction[jurisdiction_id]
        target = math.ceil(len(ids) * rulebook.settings(jurisdiction_id)["sample_percent"] / 100)
        missing = target - len(sampled.intersection(ids))
        if missing > 0:
            chosen += rng.sample([c for c in ids if c not in sampled], missing)
    with outbox.buffered(session):
        for start in range(0, len(chosen), BATCH):
            cases = session.query(Case).filter(any_of(session, Case.id, chosen[start : start + BATCH])).all()
            add_revisits(session, [(case, "sample") for case in cases], now=now)
    session.flush()
    return len(chosen)


def pending_notifications(session, now: datetime, limit: int = 1000) -> list[int]:
    """Ids of outbox messages waiting for (another) delivery attempt."""
    return (
        session.execute(
            select(Notification.id)
            .where(Notification.status == "pending", Notification.next_attempt_at <= now)
            .order_by(Notification.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
