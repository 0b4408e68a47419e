"""Build cases in a given status through the real services (no shortcuts into the tables)."""

from __future__ import annotations

from datetime import datetime, timedelta

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
    region="清源省/石门市/长河县",
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


def case_in(session, actors, cats, depts, status: Status, *, now: datetime, lead="X102", co=(), **extra):
    """Return a case driven through the services to ``status`` (lead department ``lead``)."""
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
