"""Revisit calls worked from a queue (002: at least 10% of closed cases sampled; every unrated
reply called): reached or not, the rating and notes. A revisit rating is the case's rating;
an unsatisfied one re-opens the path to re-handling.

Each call works the case's oldest open task (``RevisitTask``) and is one event (RECORD_REVISIT):

- not reached: the attempt is counted; after ``revisit_attempts`` unanswered calls (a setting,
  3) the task is given up as "unreachable". The case keeps its status.
- reached: the rating (and how the call was made) is recorded, notes are the reason of an
  unsatisfied one. On a replied case it is the evaluation of the reply (as ``evaluate_case``
  with source revisit_call: evaluated, or unsatisfied for the supervisor to decide); on an
  evaluated or closed case (a quality sample) it becomes the case's rating, and an unsatisfied
  one re-opens the case as unsatisfied (a closed one is no longer closed), so the supervisor
  decides on re-handling, escalation or closing again.
"""

from __future__ import annotations

from datetime import datetime

from app.enums import EvaluationSource, Rating, RevisitMethod, RevisitOutcome
from app.errors import Invalid
from app.services.actor import Actor
from app.services.settings import get_settings
from app.workflow import EVALUATION_TARGETS, N_, Action, Status
from models import Case, RevisitTask

UNREACHABLE = "unreachable"


def open_task(case: Case) -> RevisitTask | None:
    """The case's oldest open revisit call (the one a call works)."""
    waiting = [t for t in case.revisits if t.done_at is None]
    return min(waiting, key=lambda t: (t.created_at, t.id)) if waiting else None


def record_revisit(
    session, case: Case, *, actor: Actor, now: datetime, outcome, rating=None, method=None, notes=None
) -> Case:
    """Record one revisit call on the case's oldest open revisit task."""
    outcome = core.clean_enum(RevisitOutcome, outcome, N_("Call outcome"))
    if outcome == RevisitOutcome.NOT_REACHED:
        if rating not in (None, "") or method not in (None, ""):
            raise Invalid(N_("A rating is recorded only when the reporter was reached."))
        notes = core.clean_text(notes, N_("Call notes"), required=False)
    else:
        rating = core.clean_enum(Rating, rating, N_("Rating"))
        method = core.clean_enum(RevisitMethod, method, N_("How the revisit was made"))
        notes = core.clean_text(notes, N_("Call notes"), required=rating == Rating.UNSATISFIED)
    session.expire(case, ["revisits"])  # the queue may have gained a call since the case was read
    core._check(session, case, Action.RECORD_REVISIT, actor)  # refuse before reading the task
    task = open_task(case)
    attempt = (task.attempts or 0) + 1
    call = {"outcome": str(outcome), "task": task.reason, "attempt": attempt}
    if outcome == RevisitOutcome.NOT_REACHED:
        gave_up = attempt >= get_settings(session, case.jurisdiction)["revisit_attempts"]
        if gave_up:
            call["gave_up"] = True
        core.move(session, case, Action.RECORD_REVISIT, actor, now, target=case.status, note=notes, data=call)
        if gave_up:
            task.done_at, task.done_by_id, task.outcome = now, actor.id, UNREACHABLE
    else:
        if case.status == Status.REPLIED:  # the evaluation of the reply
            target, changes = EVALUATION_TARGETS[rating], None
        elif rating == Rating.UNSATISFIED:  # a sampled case re-opens for the supervisor's decision
            target, changes = Status.UNSATISFIED, {"closed_at": None}
        else:
            target, changes = case.status, None
        core.record_rating(
            session,
            case,
            Action.RECORD_REVISIT,
            actor,
            now,
            target=target,
            rating=rating,
            source=EvaluationSource.REVISIT_CALL,
            reason=notes,
            method=method,
            changes=changes,
            data=call,
        )
        task.done_at, task.done_by_id = now, actor.id
        task.rating, task.outcome = rating, f"{rating}:{method}"
        if target == Status.UNSATISFIED and changes:  # re-opened: the supervisors decide now
            from app.services import notifications as outbox

            outbox.to_supervisors(
                session,
                key=f"reopened_by_revisit:{task.id}",
                template="reopened_by_revisit",
                now=now,
                case_id=case.id,
                params={"number": case.number},
            )
    task.attempts, task.last_attempt_at, task.notes = attempt, now, notes
    task.reached = outcome == RevisitOutcome.REACHED
    session.flush()
    return case


# The case services build on this module (ACTION_SERVICES); imported last so that either module
# may be imported first.
from app.services import cases as core  # noqa: E402
