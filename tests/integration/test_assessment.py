"""Department assessment: a hand-made November 2026 with known answers for every KPI, the same
figures recomputed in plain Python from the ORM objects (and the event log), drill-down lists,
the score and its tie-breaks, period boundaries at Beijing midnight, and the CSV / XLSX exports."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from app.enums import FOUNDED, AssignmentRole, RectificationState
from app.services import assessment as asm
from app.services import cases as svc
from app.services.assessment import DepartmentKpi, Period, Rate
from app.services.notices import raise_notice
from app.supervision import NoticeCause
from app.workflow import Action, Status
from models import Assignment, Notice
from tests.conftest import at
from tests.factories import case_in, handler_of

NOV = Period.month(2026, 11)
DEC = Period.month(2026, 12)


def act(session, case, action, actor, when, **params):
    return svc.perform(session, case.id, action, actor=actor, now=when, **params)


def notice(session, cause, department, case, when):
    return raise_notice(
        session,
        cause=cause,
        subject=f"case:{case.id}:{when.isoformat()}",
        department_id=department.id,
        cases=[case] if case else [],
        now=when,
        details="测试",
    )


@pytest.fixture
def november(session, actors, cats, depts):
    """Four departments with known outcomes (see the expected figures in the tests below).
    ``finding="true"`` complaints are found true and their rectification accepted on re-check
    (tests.factories); the others are found untrue unless said otherwise."""
    h102, h103, sup = handler_of(actors, "X102"), handler_of(actors, "X103"), actors["supervisor"]
    c = {}
    # X102 -----------------------------------------------------------------------------------
    c["a1"] = case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-11-02 10:00"), finding="true")
    # a2: found partly true, replied ten hours after its deadline while its rectification is
    # still being carried out (not resolved), rated basically satisfied, not closed yet.
    c["a2"] = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-11-03 09:00"), finding=None)
    act(
        session,
        c["a2"],
        Action.RECORD_FINDING,
        h102,
        at("2026-11-03 12:00"),
        result="partly_true",
        facts="部分属实。",
        summary="经核查部分属实。",
    )
    act(
        session,
        c["a2"],
        Action.PLAN_RECTIFICATION,
        h102,
        at("2026-11-03 12:10"),
        measures="限期整改",
        responsible="赵科长",
        days=10,
    )
    due = c["a2"].lead_assignment.due_at
    act(session, c["a2"], Action.REPLY, h102, due + timedelta(hours=10), reply="已处理")
    act(
        session,
        c["a2"],
        Action.EVALUATE,
        sup,
        due + timedelta(hours=11),
        rating="basically_satisfied",
        source="revisit_call",
        method="phone",
    )
    # a3: unsatisfied, re-handled by X102 (signed late in the second round), then satisfied.
    c["a3"] = case_in(
        session, actors, cats, depts, Status.UNSATISFIED, now=at("2026-11-04 09:00"), finding="true"
    )
    act(session, c["a3"], Action.REHANDLE, sup, at("2026-11-05 09:00"), note="诉求合理，重办")
    act(session, c["a3"], Action.SIGN, h102, at("2026-11-05 12:00"))  # due 11:00
    act(session, c["a3"], Action.REPLY, h102, at("2026-11-06 10:00"), reply="已整改")
    act(
        session,
        c["a3"],
        Action.EVALUATE,
        sup,
        at("2026-11-06 11:00"),
        rating="satisfied",
        source="revisit_call",
        method="phone",
    )
    act(session, c["a3"], Action.CLOSE, sup, at("2026-11-06 12:00"))
    # a4: still being handled; X103 co-handles and signs late (dispatched 09:10, due 11:10).
    c["a4"] = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-11-09 09:00"), co=("X103",))
    act(session, c["a4"], Action.SIGN, h103, at("2026-11-09 12:00"))
    # e1: unsatisfied, escalated to the city (C10), which answers it: it counts for C10's round
    # (the last one) in the resolution rate; not a re-handling.
    c["e1"] = case_in(
        session, actors, cats, depts, Status.UNSATISFIED, now=at("2026-11-19 09:00"), finding="true"
    )
    act(session, c["e1"], Action.ESCALATE, sup, at("2026-11-20 10:00"), note="疑难复杂，提级办理")
    h10 = handler_of(actors, "C10")
    act(session, c["e1"], Action.SIGN, h10, at("2026-11-20 10:05"))
    act(session, c["e1"], Action.REPLY, h10, at("2026-11-20 11:00"), reply="市级已协调解决")
    act(
        session,
        c["e1"],
        Action.EVALUATE,
        sup,
        at("2026-11-20 11:30"),
        rating="satisfied",
        source="revisit_call",
        method="phone",
    )
    act(session, c["e1"], Action.CLOSE, sup, at("2026-11-20 12:00"))
    # X103 -----------------------------------------------------------------------------------
    # b1: returned unsigned by X103, re-dispatched to X102 which finishes it on time.
    c["b1"] = case_in(session, actors, cats, depts, Status.RETURNED, now=at("2026-11-10 09:00"), lead="X103")
    act(
        session,
        c["b1"],
        Action.DISPATCH,
        actors["dispatcher"],
        at("2026-11-10 10:00"),
        lead_department_id=depts["X102"].id,
    )
    act(session, c["b1"], Action.SIGN, h102, at("2026-11-10 10:05"))
    act(
        session,
        c["b1"],
        Action.RECORD_FINDING,
        h102,
        at("2026-11-10 10:30"),
        result="untrue",
        facts="反映不实。",
        summary="经核查不属实。",
    )
    act(session, c["b1"], Action.REPLY, h102, at("2026-11-10 11:00"), reply="已办理")
    act(session, c["b1"], Action.EVALUATE, sup, at("2026-11-10 11:30"), rating="satisfied", source="reporter")
    act(session, c["b1"], Action.CLOSE, sup, at("2026-11-10 12:00"))
    # b2: found partly true and rectified; unsatisfied, but the office finds the complaint
    # unreasonable and closes it: resolved (the rectification was accepted).
    c["b2"] = case_in(
        session,
        actors,
        cats,
        depts,
        Status.UNSATISFIED,
        now=at("2026-11-11 09:00"),
        lead="X103",
        finding="partly_true",
    )
    act(session, c["b2"], Action.CLOSE, sup, at("2026-11-12 09:00"), note="诉求不合理，不予重办")
    c["b3"] = case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-11-12 09:00"), lead="X103")
    # b4: dispatched in November, replied late in December, not rated yet.
    c["b4"] = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-11-13 09:00"), lead="X103")
    b4_due = c["b4"].lead_assignment.due_at
    act(session, c["b4"], Action.REPLY, h103, b4_due + timedelta(days=3), reply="已办理")
    # C11 and X201: everything perfect; C11 handles two cases, X201 one ----------------------
    for key, day, lead in (("c1", 16, "C11"), ("c2", 17, "C11"), ("d1", 18, "X201")):
        c[key] = case_in(
            session,
            actors,
            cats,
            depts,
            Status.CLOSED,
            now=at(f"2026-11-{day} 09:00"),
            lead=lead,
            finding="true",
        )
    # October: not in November's figures.
    c["old"] = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-10-28 09:00"))
    act(session, c["old"], Action.REPLY, h102, at("2026-11-03 09:00"), reply="已办理")
    # Notices ----------------------------------------------------------------------------------
    x102, x103 = depts["X102"], depts["X103"]
    notice(session, NoticeCause.UNSIGNED, x102, c["a3"], at("2026-11-05 11:30"))
    notice(session, NoticeCause.OVERDUE, x102, c["a2"], due + timedelta(minutes=1))
    notice(session, NoticeCause.OVERDUE_AFTER_REMINDER, x102, c["a2"], due + timedelta(hours=2))
    notice(session, NoticeCause.OVERDUE, x102, c["old"], at("2026-10-31 23:59"))  # October
    notice(session, NoticeCause.OVERDUE, x103, c["b4"], at("2026-11-30 23:50"))  # still November
    notice(session, NoticeCause.REPORTED_AGAIN, x103, c["b4"], at("2026-12-01 00:10"))  # December
    notice(session, NoticeCause.SUPERVISOR_DECISION, x103, c["b1"], at("2026-11-20 09:00"))
    session.commit()
    return {k: v.id for k, v in c.items()}


# --- the same figures in plain Python, from the objects and the event log ----------------------


def python_figures(session, period: Period) -> dict[str, dict[str, list[int]]]:
    """Per department code, metric → case ids (one per round or assignment), sorted."""
    figures: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for a in session.query(Assignment).order_by(Assignment.id):
        if not period.start <= a.dispatched_at < period.end:
            continue
        f, case = figures[a.department.code], a.case
        if a.signed_at is not None:
            f["signed"].append(case.id)
            f["signed_on_time" if a.signed_at <= a.sign_due_at else "signed_late"].append(case.id)
        if a.role != AssignmentRole.LEAD:
            continue
        f["handled"].append(case.id)
        later = [
            b.dispatched_at for b in case.assignments if b.role == AssignmentRole.LEAD and b.round > a.round
        ]
        next_at = min(later) if later else datetime.max
        mine = [e for e in case.events if a.dispatched_at <= e.at <= next_at]
        returned = any(e.action == "return" and e.department_id == a.department_id for e in mine)
        if returned:
            f["returned"].append(case.id)
        reply = next((e for e in mine if e.action == "reply" and e.department_id == a.department_id), None)
        if reply is None:
            if not returned:
                f["unfinished"].append(case.id)
            continue
        f["finished"].append(case.id)
        f["on_time" if reply.at <= a.due_at else "late"].append(case.id)
        rating = next(
            (
                e.data["rating"]
                for e in mine
                if e.action in ("evaluate", "record_revisit")
                and (e.data or {}).get("rating")
                and e.at >= reply.at
            ),
            None,
        )
        if rating is not None:
            f["rated"].append(case.id)
            f["satisfied" if rating in ("satisfied", "basically_satisfied") else "unsatisfied"].append(
                case.id
            )
        if later:
            if any(e.action == "rehandle" and e.at >= reply.at for e in mine):
                f["rehandled"].append(case.id)
        elif case.case_type in ("complaint", "report") and case.finding in FOUNDED:
            f["settled"].append(case.id)  # a founded problem, answered in its last round
            rectified = case.open_rectification is None and any(
                r.state == RectificationState.ACCEPTED for r in case.rectifications
            )
            f["resolved" if rectified else "unresolved"].append(case.id)
    kinds = {"reminder": "reminders", "rectification": "rectifications", "interview": "interviews"}
    for n in session.query(Notice):
        if period.start <= n.issued_at < period.end and n.department.code in figures:
            ids = figures[n.department.code][kinds[n.kind]]
            ids.extend(c.id for c in n.cases if c.id not in ids)
    for f in figures.values():
        for ids in f.values():
            ids.sort()
    return figures


def notices_of(session, period, code, kind):
    return sum(
        1
        for n in session.query(Notice)
        if period.start <= n.issued_at < period.end and n.department.code == code and n.kind == kind
    )


def by_code(kpis):
    return {k.code: k for k in kpis}


# --- known answers -----------------------------------------------------------------------------


def test_every_kpi_of_a_hand_made_month(session, november):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        kpis = asm.department_kpis(session, NOV, live=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 4  # set-based: rounds, signing, notices, warnings — whatever the size
    assert asm.department_kpis(session, NOV) == kpis  # and the rollup says the same
    assert [k.code for k in kpis] == ["C10", "C11", "X102", "X103", "X201"]
    k = by_code(kpis)

    x102 = k["X102"]  # rounds: a1, a2, a3 (twice: re-handled), a4, b1 (after X103 returned it), e1
    assert (x102.handled, x102.finished, x102.late) == (7, 6, 1)
    assert x102.on_time == Rate(5, 6)  # a2 replied late
    # Founded and answered in their last round: a1, a2, a3's second round (a3's first round and
    # e1 went on; b1 was found untrue); a2's rectification is still open: not resolved.
    assert x102.resolution == Rate(2, 3)
    assert x102.satisfaction == Rate(4, 6)  # a3's first reply and e1 unsatisfied
    assert x102.signing == Rate(6, 7)  # a3's second round signed an hour late
    assert x102.rehandle == Rate(1, 6)  # a3; e1 was escalated, not re-handled
    assert x102.returns == Rate(0, 7)
    assert (x102.reminders, x102.rectifications, x102.interviews) == (2, 1, 0)

    x103 = k["X103"]  # rounds: b1 (returned), b2, b3, b4 (replied late in December)
    assert (x103.handled, x103.finished, x103.late) == (4, 3, 1)
    assert x103.on_time == Rate(2, 3)
    assert x103.resolution == Rate(1, 1)  # b2 rectified (closed unsatisfied); b3, b4 found untrue
    assert x103.satisfaction == Rate(1, 2)  # b4 is not rated
    assert x103.signing == Rate(3, 4)  # the co-handling of a4 signed late; b1 never signed
    assert x103.rehandle == Rate(0, 3)
    assert x103.returns == Rate(1, 4)
    assert (x103.reminders, x103.rectifications, x103.interviews) == (1, 0, 1)

    for code, n in (("C10", 1), ("C11", 2), ("X201", 1)):
        perfect = k[code]
        assert (perfect.handled, perfect.finished, perfect.late) == (n, n, 0)
        for key in ("on_time", "resolution", "satisfaction", "signing"):
            assert perfect.rate(key) == Rate(n, n)
        assert perfect.rehandle == Rate(0, n) and perfect.returns == Rate(0, n)
        assert perfect.notices == 0

    assert x102.satisfaction.value == 4 / 6 and x102.satisfaction.percent == 66.67
    assert x103.on_time.percent == 66.67
    assert asm.department_kpis(session, NOV, [depts_id(session, "X103")]) == [x103]


def depts_id(session, code):
    from models import Department

    return session.query(Department).filter_by(code=code).one().id


def test_drilldown_lists_the_cases_behind_the_figures(session, november):
    ids = november
    x102, x103 = depts_id(session, "X102"), depts_id(session, "X103")

    def drill(department, metric):
        return asm.drilldown_case_ids(session, NOV, department, metric)

    assert drill(x102, "handled") == sorted(
        [ids["a1"], ids["a2"], ids["a3"], ids["a3"], ids["a4"], ids["b1"], ids["e1"]]
    )
    assert drill(x102, "late") == [ids["a2"]]
    assert drill(x102, "unfinished") == [ids["a4"]]
    assert drill(x102, "unsatisfied") == [ids["a3"], ids["e1"]]
    assert drill(x102, "unresolved") == [ids["a2"]]
    assert drill(x102, "rehandled") == [ids["a3"]]
    assert drill(x102, "settled") == sorted([ids["a1"], ids["a2"], ids["a3"]])
    assert drill(x102, "signed_late") == [ids["a3"]]
    assert drill(x102, "rectifications") == [ids["a2"]]
    assert drill(x102, "reminders") == sorted([ids["a2"], ids["a3"]])
    assert drill(x103, "returned") == [ids["b1"]]
    assert drill(x103, "unsatisfied") == [ids["b2"]]
    assert drill(x103, "resolved") == [ids["b2"]]
    assert drill(x103, "late") == [ids["b4"]]
    assert drill(x103, "signed_late") == [ids["a4"]]
    assert drill(x103, "interviews") == [ids["b1"]]
    assert drill(x103, "reminders") == [ids["b4"]]
    with pytest.raises(ValueError):
        drill(x102, "nonsense")


def test_sql_figures_agree_with_plain_python_case_by_case(session, november):
    for period in (NOV, DEC, Period.quarter(2026, 4), Period.year(2026), Period.month(2026, 10)):
        expected = python_figures(session, period)
        kpis = asm.department_kpis(session, period)
        assert {k.code for k in kpis} == {code for code, f in expected.items() if f["handled"]}
        for kpi in kpis:
            f = expected[kpi.code]
            for metric in asm.METRICS:
                if metric in ("reminders", "rectifications", "interviews"):
                    continue
                got = asm.drilldown_case_ids(session, period, kpi.department_id, metric)
                assert got == f[metric], (period.label, kpi.code, metric)
            for key, (numerator, denominator) in asm.RATE_METRICS.items():
                assert kpi.rate(key) == Rate(len(f[numerator]), len(f[denominator])), (kpi.code, key)
            assert (kpi.handled, kpi.finished) == (len(f["handled"]), len(f["finished"]))
            assert kpi.late == len(f["late"])
            for kind, attr in (
                ("reminder", "reminders"),
                ("rectification", "rectifications"),
                ("interview", "interviews"),
            ):
                assert getattr(kpi, attr) == notices_of(session, period, kpi.code, kind)
                got = asm.drilldown_case_ids(session, period, kpi.department_id, attr)
                assert got == f[attr], (period.label, kpi.code, attr)


def test_score_and_ranking_of_the_month(session, november):
    ranked = asm.rank(asm.department_kpis(session, NOV))
    # C11, C10 and X201 all score 100: C11 handled two cases, the other two are equal on every
    # criterion, share rank 2 and are listed by code; the next rank is 3 (dense).
    assert [(r.position, r.rank, r.code) for r in ranked] == [
        (1, 1, "C11"),
        (2, 2, "C10"),
        (3, 2, "X201"),
        (4, 3, "X102"),
        (5, 4, "X103"),
    ]
    scores = {r.code: r.score for r in ranked}
    assert scores["C11"] == scores["C10"] == scores["X201"] == 100.0
    # X102: 100 × (0.35×5/6 + 0.25×2/3 + 0.25×4/6 + 0.15×6/7) − 2×0.5 − 1×2
    assert scores["X102"] == pytest.approx(
        100 * (0.35 * 5 / 6 + 0.25 * 2 / 3 + 0.25 * 4 / 6 + 0.15 * 6 / 7) - 3
    )
    # X103: 100 × (0.35×2/3 + 0.25×1 + 0.25×0.5 + 0.15×0.75) − 0.5 (interviews deduct nothing)
    assert scores["X103"] == pytest.approx(72.083333 - 0.5, abs=1e-5)
    weights = {"interview": 5}
    assert {r.code: r.score for r in asm.rank(asm.department_kpis(session, NOV), weights)}[
        "X103"
    ] == pytest.approx(72.083333 - 5.5, abs=1e-5)


def test_the_resolution_rate_counts_founded_cases_whose_rectification_was_accepted(
    session, actors, cats, depts
):
    h201, sup = handler_of(actors, "X201"), actors["supervisor"]

    def made(day, status, **extra):
        return case_in(
            session, actors, cats, depts, status, now=at(f"2026-12-{day:02d} 09:00"), lead="X201", **extra
        )

    rectified = made(1, Status.CLOSED, finding="true")  # found true, rectified, closed
    untrue = made(2, Status.CLOSED, finding="untrue")  # nothing to rectify: not counted
    unverifiable = made(3, Status.CLOSED, finding="unverifiable")  # not counted
    consultation = made(4, Status.CLOSED, case_type="consultation")  # not verified: not counted
    in_hand = made(7, Status.HANDLING, finding="true")  # not answered yet: not counted
    # Found partly true and answered while its rectification waits for the re-check.
    answered = made(8, Status.HANDLING, finding=None, case_type="report", grade="c", category="FEE01")
    for action, actor, when, params in (
        (
            Action.RECORD_FINDING,
            h201,
            "2026-12-08 11:00",
            {"result": "partly_true", "facts": "部分属实。", "summary": "经核查部分属实。"},
        ),
        (
            Action.PLAN_RECTIFICATION,
            h201,
            "2026-12-08 11:10",
            {"measures": "退费", "responsible": "钱科长", "days": 5},
        ),
        (Action.REPORT_RECTIFICATION, h201, "2026-12-09 10:00", {"completion": "已退费"}),
        (Action.REPLY, h201, "2026-12-09 11:00", {"reply": "已核实，正在整改。"}),
        (Action.EVALUATE, sup, "2026-12-09 12:00", {"rating": "satisfied", "source": "reporter"}),
    ):
        act(session, answered, action, actor, at(when), **params)
    session.commit()
    x201 = depts["X201"].id

    def resolution():
        [kpi] = asm.department_kpis(session, DEC, [x201])
        return kpi.resolution, {
            m: asm.drilldown_case_ids(session, DEC, x201, m) for m in asm.RATE_METRICS["resolution"]
        }

    # A reply is not a solution: the answered case counts, unresolved, until its re-check.
    rate, cases = resolution()
    assert rate == Rate(1, 2)
    assert cases == {"resolved": [rectified.id], "settled": sorted([rectified.id, answered.id])}
    assert asm.drilldown_case_ids(session, DEC, x201, "unresolved") == [answered.id]
    assert not {untrue.id, unverifiable.id, consultation.id, in_hand.id} & set(cases["settled"])
    act(session, answered, Action.ACCEPT_RECTIFICATION, sup, at("2026-12-10 10:00"))
    session.commit()
    assert resolution()[0] == Rate(2, 2)
    # The appendix says so, in Chinese.
    text = asm.FORMULAS["问题解决率"]
    assert "属实" in text and "复核通过" in text and "不属实" in text and "咨询" in text


def test_a_rehandling_after_an_escalation_counts_for_the_higher_level_only(session, actors, cats, depts):
    sup, h11 = actors["supervisor"], handler_of(actors, "C11")
    case = case_in(
        session,
        actors,
        cats,
        depts,
        Status.UNSATISFIED,
        now=at("2026-11-02 10:00"),
        lead="X103",
        finding="true",
    )
    act(session, case, Action.ESCALATE, sup, at("2026-11-03 10:00"), note="提级")  # to C11
    act(session, case, Action.SIGN, h11, at("2026-11-03 10:30"))
    act(session, case, Action.REPLY, h11, at("2026-11-04 10:00"), reply="已答复")
    act(
        session,
        case,
        Action.EVALUATE,
        sup,
        at("2026-11-04 11:00"),
        rating="unsatisfied",
        source="revisit_call",
        method="phone",
        reason="仍未解决",
    )  # the second one: a rectification notice to C11
    act(session, case, Action.REHANDLE, sup, at("2026-11-05 10:00"), note="重办")
    act(session, case, Action.SIGN, h11, at("2026-11-05 10:30"))
    act(session, case, Action.REPLY, h11, at("2026-11-06 10:00"), reply="已解决")
    act(
        session,
        case,
        Action.EVALUATE,
        sup,
        at("2026-11-06 11:00"),
        rating="satisfied",
        source="revisit_call",
        method="phone",
    )
    act(session, case, Action.CLOSE, sup, at("2026-11-06 12:00"))
    session.commit()
    k = by_code(asm.department_kpis(session, NOV))
    # The founded, rectified case counts once for resolution: for the round that answered it last.
    assert (k["X103"].rehandle, k["X103"].resolution) == (Rate(0, 1), Rate(0, 0))
    assert (k["C11"].rehandle, k["C11"].resolution) == (Rate(1, 2), Rate(1, 1))
    assert k["C11"].satisfaction == Rate(1, 2) and k["C11"].rectifications == 1
    assert asm.drilldown_case_ids(session, NOV, depts["C11"].id, "rectifications") == [case.id]
    expected = python_figures(session, NOV)
    for kpi in k.values():
        for key, (numerator, denominator) in asm.RATE_METRICS.items():
            assert kpi.rate(key) == Rate(
                len(expected[kpi.code][numerator]), len(expected[kpi.code][denominator])
            )


# --- tie-breaks and the score rules, on made-up figures -------------------------------------------


def kpi(
    code,
    *,
    on_time=(1, 1),
    resolution=(1, 1),
    satisfaction=(1, 1),
    signing=(1, 1),
    handled=1,
    reminders=0,
    rectifications=0,
    interviews=0,
) -> DepartmentKpi:
    return DepartmentKpi(
        department_id=abs(hash(code)) % 10000,
        code=code,
        name=f"单位{code}",
        level="county",
        period=NOV,
        handled=handled,
        finished=on_time[1],
        on_time=Rate(*on_time),
        resolution=Rate(*resolution),
        satisfaction=Rate(*satisfaction),
        signing=Rate(*signing),
        rehandle=Rate(0, on_time[1]),
        returns=Rate(0, handled),
        reminders=reminders,
        rectifications=rectifications,
        interviews=interviews,
    )


def order(kpis, weights=None):
    return [(r.rank, r.code) for r in asm.rank(kpis, weights)]


def test_equal_scores_are_split_by_the_explicit_tie_breaks():
    halves = {"on_time": 0.5, "satisfaction": 0.5, "resolution": 0, "signing": 0}
    # Same score 75: the higher on-time rate wins, whatever the code.
    assert order([kpi("A", on_time=(1, 2)), kpi("B", satisfaction=(1, 2))], halves) == [(1, "B"), (2, "A")]
    # Same score and on-time rate: the higher satisfaction wins.
    other = {"on_time": 0.5, "resolution": 0.25, "satisfaction": 0.25, "signing": 0}
    assert order([kpi("A", satisfaction=(1, 2)), kpi("B", resolution=(1, 2))], other) == [(1, "B"), (2, "A")]
    # Same rates and no deductions: fewer notices win.
    free = {"reminder": 0, "rectification": 0}
    assert order([kpi("A", reminders=1), kpi("B")], free) == [(1, "B"), (2, "A")]
    # Then more cases handled.
    assert order([kpi("A", handled=2), kpi("B", handled=3)]) == [(1, "B"), (2, "A")]
    # Equal on everything: the code orders them, they share the rank, the next rank is dense.
    ranked = asm.rank([kpi("Z9"), kpi("A1", on_time=(0, 1)), kpi("B2"), kpi("A2")])
    assert [(r.position, r.rank, r.code) for r in ranked] == [
        (1, 1, "A2"),
        (2, 1, "B2"),
        (3, 1, "Z9"),
        (4, 2, "A1"),
    ]


def test_score_rules():
    assert asm.score(kpi("A")) == 100.0
    assert asm.score(kpi("A", reminders=2, rectifications=1)) == 97.0
    assert asm.score(kpi("A", rectifications=60)) == 0.0  # never below zero
    # Weights are normalised: doubling all of them changes nothing.
    doubled = {k: 2 * v for k, v in asm.DEFAULT_WEIGHTS.items() if k in asm.SCORED_RATES}
    mixed = kpi("A", on_time=(1, 2), satisfaction=(2, 3))
    assert asm.score(mixed, doubled) == pytest.approx(asm.score(mixed))
    # A rate without cases counts as the average given (rank passes the pooled rate), else full.
    empty = kpi("E", satisfaction=(0, 0))
    assert empty.satisfaction.value is None and empty.satisfaction.percent is None
    assert asm.score(empty) == 100.0
    assert asm.score(empty, averages={"satisfaction": 0.6}) == pytest.approx(100 - 25 * 0.4)
    ranked = asm.rank([empty, kpi("F", satisfaction=(1, 4)), kpi("G", satisfaction=(2, 4))])
    pooled = 3 / 8
    assert {r.code: r.score for r in ranked}["E"] == pytest.approx(100 - 25 * (1 - pooled))
    assert {r.code: r.satisfaction_scored for r in ranked}["E"] == pooled
    with pytest.raises(ValueError):
        asm.score(kpi("A"), {"unknown": 1})
    with pytest.raises(ValueError):
        asm.score(kpi("A"), {"on_time": 0, "resolution": 0, "satisfaction": 0, "signing": 0})


def test_weights_come_from_settings_when_an_administrator_sets_them(session):
    from models import Setting

    assert asm.weights_from_settings(session) == asm.DEFAULT_WEIGHTS  # the seeded defaults
    session.get(Setting, "assessment_weight_on_time").value = 50
    session.get(Setting, "assessment_deduction_reminder_tenths").value = 10
    session.flush()
    try:
        weights = asm.weights_from_settings(session)
        assert weights["on_time"] == 0.5 and weights["reminder"] == 1.0
        assert weights["satisfaction"] == asm.DEFAULT_WEIGHTS["satisfaction"]
    finally:
        session.rollback()


# --- periods -----------------------------------------------------------------------------------


def test_periods_cut_at_beijing_midnight():
    assert (NOV.start, NOV.end) == (datetime(2026, 10, 31, 16), datetime(2026, 11, 30, 16))
    assert NOV.label == "2026年11月"
    assert DEC.end == datetime(2026, 12, 31, 16)
    q4 = Period.quarter(2026, 4)
    assert (q4.start, q4.end, q4.label) == (
        datetime(2026, 9, 30, 16),
        datetime(2026, 12, 31, 16),
        "2026年第4季度",
    )
    assert Period.quarter(2026, 1).end == datetime(2026, 3, 31, 16)
    year = Period.year(2026)
    assert (year.start, year.end, year.label) == (
        datetime(2025, 12, 31, 16),
        datetime(2026, 12, 31, 16),
        "2026年度",
    )
    assert NOV.contains(at("2026-11-30 23:30")) and not NOV.contains(at("2026-12-01 00:00"))
    assert DEC.contains(at("2026-12-01 00:00")) and NOV.contains(at("2026-11-01 00:00"))
    for bad in ((2026, 0), (2026, 13)):
        with pytest.raises(ValueError):
            Period.month(*bad)
    with pytest.raises(ValueError):
        Period.quarter(2026, 5)


def test_a_case_dispatched_at_2330_on_the_last_day_belongs_to_that_month(session, actors, cats, depts):
    # Filed 23:20, accepted 23:25, dispatched 23:30 Beijing time on 30 November (15:30 UTC).
    late = case_in(session, actors, cats, depts, Status.DISPATCHED, now=at("2026-11-30 23:20"), lead="X201")
    # Filed 23:55, dispatched 00:05 on 1 December (still 30 November in UTC).
    after = case_in(session, actors, cats, depts, Status.DISPATCHED, now=at("2026-11-30 23:55"), lead="X201")
    x201 = depts["X201"]
    notice(session, NoticeCause.UNSIGNED, x201, late, at("2026-11-30 23:59"))
    notice(session, NoticeCause.UNSIGNED, x201, after, at("2026-12-01 00:00"))
    session.commit()
    assert late.assignments[0].dispatched_at == datetime(2026, 11, 30, 15, 30)
    assert after.assignments[0].dispatched_at.day == 30  # UTC

    [nov] = asm.department_kpis(session, NOV)
    [dec] = asm.department_kpis(session, DEC)
    assert (nov.handled, nov.reminders, dec.handled, dec.reminders) == (1, 1, 1, 1)
    assert asm.drilldown_case_ids(session, NOV, x201.id, "handled") == [late.id]
    assert asm.drilldown_case_ids(session, DEC, x201.id, "handled") == [after.id]
    assert asm.drilldown_case_ids(session, NOV, x201.id, "reminders") == [late.id]
    # Nothing finished: the rates have no denominator and are empty, not zero.
    assert nov.on_time == Rate(0, 0) and nov.on_time.value is None
    assert asm.department_kpis(session, Period.month(2027, 1)) == []
    row = next(csv.DictReader(io.StringIO(asm.to_csv(asm.rank([nov]))[1:])))
    assert row["按时办结率(%)"] == "" and row["承办件数"] == "1"


# --- exports -----------------------------------------------------------------------------------


def normalise(value):
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def test_csv_and_xlsx_carry_the_same_figures(session, november):
    ranked = asm.rank(asm.department_kpis(session, NOV))
    text = asm.to_csv(ranked)
    assert text.startswith("\ufeff") and text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == asm.HEADERS and "按时办结率(%)" in table[0] and "满意率(%)" in table[0]
    assert len(table) == 1 + len(ranked)
    rows = {row[1]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    x102 = rows["X102"]
    assert x102["名次"] == "3" and x102["单位名称"] == "长河县行政审批局"
    assert float(x102["综合得分"]) == 72.36
    assert (x102["承办件数"], x102["办结件数"], x102["按时办结件数"]) == ("7", "6", "5")
    assert float(x102["按时办结率(%)"]) == 83.33 and float(x102["问题解决率(%)"]) == 66.67
    assert (x102["查实件数"], x102["已解决件数"]) == ("3", "2")
    assert float(x102["满意率(%)"]) == 66.67 and float(x102["按时签收率(%)"]) == 85.71
    assert float(x102["重办率(%)"]) == 16.67 and float(x102["退单率(%)"]) == 0.0
    assert [row[1] for row in table[1:]] == ["C11", "C10", "X201", "X102", "X103"]
    assert (x102["提醒敦促函"], x102["整改通知书"], x102["考核期间"]) == ("2", "1", "2026年11月")
    assert float(rows["X103"]["按时办结率(%)"]) == 66.67 and rows["X103"]["约谈通知书"] == "1"

    workbook = load_workbook(io.BytesIO(asm.to_xlsx(ranked)))
    sheet = workbook["考核排名"]
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert list(cells[0]) == asm.HEADERS
    assert [[normalise(v) for v in row] for row in cells[1:]] == [
        [normalise(v) for v in row] for row in table[1:]
    ]
    notes = {row[0]: row[1] for row in workbook["指标说明"].iter_rows(min_row=2, values_only=True)}
    assert set(asm.FORMULAS) | {"计分公式"} == set(notes)
    assert "0.35" in notes["综合得分"] and "满意率" in notes
    assert notes["计分公式"] == asm.score_summary(asm.DEFAULT_WEIGHTS)


# --- the bulletin's 整改 facts --------------------------------------------------------------------


def test_the_bulletin_states_what_was_rectified_from_the_rectification_records(session, actors, cats, depts):
    from app.publication import TypicalKind
    from app.services import typical as typical_services
    from reports import builders

    h102, sup = handler_of(actors, "X102"), actors["supervisor"]
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-12-01 09:00"), finding=None)
    for action, actor, when, params in (
        (
            Action.RECORD_FINDING,
            h102,
            "12-01 11:00",
            {"result": "true", "facts": "属实。", "summary": "属实。"},
        ),
        (
            Action.PLAN_RECTIFICATION,
            h102,
            "12-01 11:10",
            {"measures": "由王建业科长牵头，向张三退还多收的费用", "responsible": "王建业", "days": 5},
        ),
        (
            Action.REPORT_RECTIFICATION,
            h102,
            "12-02 10:00",
            {"completion": "已退还全部费用，王建业已向张三（13900000000）当面致歉"},
        ),
        (Action.ACCEPT_RECTIFICATION, sup, "12-02 15:00", {}),
        (Action.REPLY, h102, "12-02 16:00", {"reply": "已退还费用。"}),
        (
            Action.EVALUATE,
            sup,
            "12-02 17:00",
            {"rating": "satisfied", "source": "revisit_call", "method": "phone"},
        ),
        (Action.CLOSE, sup, "12-02 18:00", {}),
    ):
        act(session, case, action, actor, at(f"2026-{when}"), **params)
    typical = typical_services.mark_typical(
        session, case.id, actor=sup, now=at("2026-12-03 09:00"), kind=TypicalKind.EXEMPLARY
    )
    # The draft says what was rectified as the records say it: measures and completion, redacted.
    paragraphs = typical_services.paragraphs(typical.summary)
    assert [p[:2] for p in paragraphs] == ["一、", "二、", "三、", "四、"]
    rectified = paragraphs[2]
    assert rectified.startswith("三、整改情况。经核查，反映问题属实。整改措施：由王某科长牵头")
    assert "完成情况：已退还全部费用" in rectified
    assert rectified.endswith("经清源省营商环境建设局复核，整改已到位。")  # the office that re-checked it
    for name in ("张三", "王建业", "13900000000"):
        assert name not in typical.summary
    typical_services.edit_summary(
        session, typical.id, actor=sup, now=at("2026-12-03 10:00"), summary=typical.summary, submit=True
    )
    typical_services.decide(
        session, typical.id, actor=actors["leader"], now=at("2026-12-03 11:00"), approve=True
    )
    data = builders.bulletin_data(session, DEC, [], at("2027-01-01 09:00").date())
    [item] = data.exemplary
    assert item.rectification == "经核查属实，已整改到位，清源省营商环境建设局于2026年12月2日复核通过。"
    assert (data.figures.founded, data.figures.rectified) == (1, 1)
