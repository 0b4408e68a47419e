"""Build cases in a given status through the real services (no shortcuts into the tables)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest

from app.services import cases as svc
from app.workflow import Action, Status


def file_case(
    session,
    actors,
    cats,
    *,
    now: datetime,
    case_type="complaint",
    category="GOV01",
    region="清源省",
    **extra,
):
    data = {
        "case_type": case_type,
        "channel": "phone_12345",
        "category_id": cats[category].id,
        "title": "审批超时",
        "content": "申请材料提交后迟迟没有结果。",
        "region": region,
        "reporter_name": "张三",
        "reporter_phone": "13900000000",
        **extra,
    }
    return svc.create_case(session, actor=actors["clerk"], now=now, data=data)


def case_in(
    session,
    actors,
    cats,
    depts,
    status: Status,
    *,
    now: datetime,
    lead="X102",
    co=(),
    finding="untrue",
    **extra,
):
    """Return a case driven through the services to ``status`` (lead department ``lead``).

    A complaint or report is verified once signed for (``finding``; None: not verified); a
    founded finding is rectified and re-checked before the reply. A B-grade report is first
    verified by the supervisor's office (``finding``, or unverifiable), then dispatched; an
    A-grade report must be given a discipline inspection lead (``lead="P02"``)."""
    case = file_case(session, actors, cats, now=now, **extra)
    step = iter(now + timedelta(minutes=5 * i) for i in range(1, 100))

    def do(action, actor, **params):
        svc.perform(session, case.id, action, actor=actor, now=next(step), **params)

    handler = handler_of(actors, lead)
    if status == Status.SUBMITTED:
        return case
    if status == Status.DECLINED:
        do(Action.DECLINE, actors["clerk"], reason="duplicate", note="重复件")
        return case
    do(Action.ACCEPT, actors["clerk"])
    if status == Status.ACCEPTED:
        return case
    if case.grade == "b":  # the supervisor's office verifies a B-grade report before dispatch
        do(
            Action.RECORD_FINDING,
            actors["supervisor"],
            result=finding or "unverifiable",
            facts="督办室初步核查。",
            summary="初步核查结果已出，已转办理单位。",
        )
    do(
        Action.DISPATCH,
        actors["dispatcher"],
        lead_department_id=depts[lead].id,
        co_department_ids=[depts[c].id for c in co],
    )
    if status == Status.DISPATCHED:
        return case
    if status == Status.RETURNED:
        do(Action.RETURN, handler, reason="不属于本单位职责")
        return case
    do(Action.SIGN, handler)
    if finding and case.case_type in ("complaint", "report"):
        do(
            Action.RECORD_FINDING,
            handler,
            result=finding,
            facts="经核查，情况如下。",
            summary="初步核查结果已出。",
        )
        if finding in ("true", "partly_true"):
            do(Action.PLAN_RECTIFICATION, handler, measures="限期整改", responsible="王科长", days=5)
            do(Action.REPORT_RECTIFICATION, handler, completion="已整改到位")
            do(Action.ACCEPT_RECTIFICATION, actors["supervisor"])
    if status == Status.HANDLING:
        return case
    do(Action.REPLY, handler, reply="已办结")
    if status == Status.REPLIED:
        return case
    rating = "unsatisfied" if status == Status.UNSATISFIED else "satisfied"
    do(
        Action.EVALUATE,
        actors["supervisor"],
        rating=rating,
        source="revisit_call",
        method="phone",
        reason="没解决" if rating == "unsatisfied" else None,
    )
    if status in (Status.UNSATISFIED, Status.EVALUATED):
        return case
    do(Action.CLOSE, actors["supervisor"])
    assert status == Status.CLOSED
    return case


HANDLER_OF = {
    "X102": "handler",
    "X103": "handler2",
    "C10": "handler3",
    "X201": "handler4",
    "C11": "handler5",
    "P02": "handler6",
    "C20": "handler7",
    "P00": "handler8",
}


def handler_of(actors, department_code: str):
    return actors[HANDLER_OF[department_code]]


# The region of each demo jurisdiction's own cases.
REGION_OF = {
    "qy": "清源省",
    "sm": "清源省/石门市",
    "bl": "清源省/北岭市",
    "ch": "清源省/石门市/长河县",
    "dc": "清源省/石门市/东城区",
    "xs": "清源省/北岭市/西山县",
}


def office_of(session, actors, code: str) -> dict:
    """``actors`` with the clerk, dispatcher, supervisor and leader of the jurisdiction ``code``
    (ch_clerk …) in place of the province's: the office that acts on that jurisdiction's cases."""
    from app.demo import actor_for

    if code == "qy":
        return dict(actors)
    return {
        **actors,
        **{
            role: actor_for(session, f"{code}_{role}")
            for role in ("clerk", "dispatcher", "supervisor", "leader")
        },
    }


@contextmanager
def refused(kind, words: str) -> Iterator[None]:
    """Expect a refusal whose message id says ``words`` (the message is shown translated)."""
    with pytest.raises(kind) as caught:
        yield
    assert words in caught.value.msgid, caught.value.msgid


@contextmanager
def statements_run(engine, keep=lambda statement: True) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block (those ``keep`` accepts)."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if keep(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- stored files, whatever the store (app/storage.py: local folders or an S3 bucket) ----------


def stored_names(app, area_name: str = "uploads") -> set[str]:
    """The names of the files in one area of the app's store, read through the storage API (so
    a test proves the same on local folders and on S3: ``python -m tests.integration.test_storage``)."""
    from app import storage

    return {entry.name for entry in storage.store_for(app.config, area_name).list()}


def stored_bytes(app, name: str, area_name: str = "uploads") -> bytes:
    """A stored file's bytes (FileNotFoundError if it is not there)."""
    from app import storage

    return storage.store_for(app.config, area_name).get(name)


def is_stored(app, name: str, area_name: str = "uploads") -> bool:
    from app import storage

    return storage.store_for(app.config, area_name).exists(name)


def store_bytes(app, name: str, data: bytes, area_name: str = "uploads") -> None:
    """Write (or overwrite) a stored file behind the platform's back, e.g. to alter evidence."""
    from app import storage

    storage.store_for(app.config, area_name).put(name, data)


def unstore(app, name: str, area_name: str = "uploads") -> None:
    """Remove a stored file behind the platform's back (e.g. a lost file)."""
    from app import storage

    storage.store_for(app.config, area_name).delete(name)
