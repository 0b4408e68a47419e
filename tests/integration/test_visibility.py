"""Cross-case leaks (issue 13, point 4): a case about a department never reaches that department
or any department under it, by any path.

The demo tree: 石门市营商环境建设局 C10 (handler3) has 长河县行政审批局 X102 (handler) under it.
Each test files a report accusing C10 (D) or X102 (D's child), carrying a canary in its title and
content, and tries one path by which it used to reach a handler of the accused department or of
a department under it: the links panel, similar cases, a merge, a notice (page and PDF), the
typical-case screens, the REST API, the lists and search, the dashboard's drill-down, dispatch.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Invalid
from app.services import cases as svc
from app.services import notices, reporting, visibility
from app.supervision import NoticeCause
from app.workflow import Action, Status
from models import Assignment, Case, Staff
from tests.conftest import api_token, at, login, visible_text
from tests.factories import case_in, file_case

NOW = at("2026-11-02 10:00")
CANARY = "恒达建材举报王科长索要好处费"
HANDLERS = {"C10": "handler3", "X102": "handler"}
# (department accused, handler who must not see it): D and D's child, for a report against D;
# the child itself for a report against the child.
ACCUSED_AND_VIEWER = [("C10", "C10"), ("C10", "X102"), ("X102", "X102")]


@pytest.fixture
def client(app):
    return app.test_client()


def report_against(
    session, actors, cats, depts, code: str, status=Status.SUBMITTED, lead="P02", grade="a", **extra
):
    """A named report accusing department ``code``, with the canary in its title and text (an
    A grade goes to discipline inspection, P02)."""
    return case_in(
        session,
        actors,
        cats,
        depts,
        status,
        now=NOW,
        lead=lead,
        case_type="report",
        category="INT01",
        grade=grade,
        title=f"{CANARY}（{code}）",
        content=f"{CANARY}，地点在三楼审批科。",
        concerned_department_id=depts[code].id,
        **extra,
    )


def handled_by(session, actors, cats, depts, code: str, status=Status.HANDLING):
    """An ordinary case the viewer's department handles (lead X102, C10 co-handling)."""
    co = [] if code == "X102" else ["C10"]
    return case_in(session, actors, cats, depts, status, now=NOW, lead="X102", co=co)


def force_assignment(session, case: Case, department) -> None:
    """An assignment written before dispatch refused departments under the accused one (a row
    the services no longer create): the rule must hold on such data too."""
    session.add(
        Assignment(
            case_id=case.id,
            department_id=department.id,
            role="co",
            round=1,
            state="signed",
            active=True,
            dispatched_at=NOW,
            sign_due_at=NOW + timedelta(hours=2),
            due_start_at=NOW,
            due_days=10,
            extension_days=0,
            due_at=NOW + timedelta(days=14),
        )
    )
    session.flush()


def staff(app, session, depts, username: str, role: str, code: str) -> Staff:
    """A staff account of ``role`` working in department ``code`` (password Demo@2026)."""
    from werkzeug.security import generate_password_hash

    sm = app.appbuilder.sm
    user = sm.find_user(username=username) or sm.add_user(
        username,
        "测试",
        role,
        f"{username}@test.example",
        sm.find_role(role),
        hashed_password=generate_password_hash("Demo@2026"),
    )
    user.department_id = depts[code].id
    session.flush()
    return user


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


# --- dispatch: the door by which a report reached the accused department's children -----------


@pytest.mark.parametrize("into", ["lead", "co", "rehandle"])
def test_a_report_against_a_department_is_never_sent_to_a_department_under_it(
    session, actors, cats, depts, into
):
    report = report_against(session, actors, cats, depts, "C10", status=Status.ACCEPTED)
    if into == "rehandle":
        report = report_against(session, actors, cats, depts, "C10", status=Status.UNSATISFIED, lead="P02")
    params = {
        "lead": dict(lead_department_id=depts["X102"].id),
        "co": dict(lead_department_id=depts["P02"].id, co_department_ids=[depts["X102"].id]),
        "rehandle": dict(note="重新办理", lead_department_id=depts["X102"].id),
    }[into]
    action, actor = (
        (Action.REHANDLE, actors["supervisor"])
        if into == "rehandle"
        else (Action.DISPATCH, actors["dispatcher"])
    )
    with pytest.raises(Invalid) as refused:
        svc.perform(session, report.id, action, actor=actor, now=NOW + timedelta(days=1), **params)
    assert "a department under it" in refused.value.msgid
    assert not any(a.department_id == depts["X102"].id for a in report.assignments)


def test_the_dispatch_proposal_never_names_a_department_under_the_accused_one(session, actors, cats, depts):
    # The rules send licensing matters of 长河县 to X102; a report against its parent C10 must not go there.
    report = case_in(
        session,
        actors,
        cats,
        depts,
        Status.ACCEPTED,
        now=NOW,
        case_type="report",
        grade="b",
        concerned_department_id=depts["C10"].id,
    )
    assert report.proposed_department_id not in {depts["C10"].id, depts["X102"].id}


def test_the_parent_of_the_accused_department_may_handle_the_report(session, actors, cats, depts):
    """The upper office oversees the one below: a report against X102 may go to C10."""
    report = report_against(
        session, actors, cats, depts, "X102", status=Status.DISPATCHED, lead="C10", grade="c"
    )
    assert report.lead_department_id == depts["C10"].id
    assert visibility.may_see(session, report, actors["handler3"])
    assert not visibility.may_see(session, report, actors["handler"])


# --- lists, search, case page and the REST API -------------------------------------------------


@pytest.mark.parametrize(("accused", "viewer"), ACCUSED_AND_VIEWER)
def test_a_report_never_reaches_the_accused_department_through_lists_search_page_or_api(
    session, client, actors, cats, depts, accused, viewer
):
    report = report_against(session, actors, cats, depts, accused, status=Status.HANDLING)
    force_assignment(session, report, depts[viewer])
    username = HANDLERS[viewer]
    login(client, username)
    for page in (
        "/cases/list/",
        "/cases/department/list/",
        f"/cases/list/?_flt_0_title={CANARY}",
        f"/cases/department/list/?_flt_0_title={CANARY}",
        "/",
        "/inbox/list/",  # its search form offers a choice of cases
        "/notices/list/",
    ):
        body = client.get(page).get_data(as_text=True)
        assert CANARY not in body and report.number not in body, page
    assert client.get(f"/cases/show/{report.id}").status_code == 404
    headers = {"Authorization": f"Bearer {api_token(client, username)}"}
    for url in (
        "/api/v1/case/?q=(page_size:100)",
        f"/api/v1/case/?q=(filters:!((col:number,opr:eq,value:'{report.number}')))",
        f"/api/v1/case/?q=(filters:!((col:lead_department_id,opr:rel_o_m,value:{report.lead_department_id})))",
        "/api/v1/case_event/?q=(page_size:100)",
        f"/api/v1/case_event/?q=(filters:!((col:case_id,opr:eq,value:{report.id})))",
        "/api/v1/case/_info",
        "/api/v1/case_event/_info",
    ):
        response = client.get(url, headers=headers)
        assert CANARY not in response.get_data(as_text=True) and report.number not in response.get_data(
            as_text=True
        ), url
    assert client.get(f"/api/v1/case/{report.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/case/{report.id}/actions", headers=headers).status_code == 404
    reply = client.post(f"/api/v1/case/{report.id}/actions/add_note", headers=headers, json={"note": "x"})
    assert reply.status_code == 404


def test_staff_of_the_platform_office_never_see_a_report_against_their_own_department(
    app, session, client, actors, cats, depts
):
    """The rule holds whatever the role: a supervisor working in C10 does not see a report
    accusing C10, while the province's supervisor does."""
    report = report_against(session, actors, cats, depts, "C10", status=Status.DISPATCHED)
    staff(app, session, depts, "supervisor_c10", "Supervisor", "C10")
    session.commit()
    login(client, "supervisor_c10")
    assert CANARY not in client.get("/cases/list/").get_data(as_text=True)
    assert client.get(f"/cases/show/{report.id}").status_code == 404
    login(client, "supervisor")
    assert client.get(f"/cases/show/{report.id}").status_code == 200


# --- the links panel and similar cases ---------------------------------------------------------


@pytest.mark.parametrize(("accused", "viewer"), ACCUSED_AND_VIEWER)
def test_the_linked_cases_panel_never_shows_a_report_against_the_viewers_department(
    session, client, actors, cats, depts, accused, viewer
):
    own = handled_by(session, actors, cats, depts, viewer)
    report = report_against(session, actors, cats, depts, accused, status=Status.DISPATCHED)
    reporting.link_cases(session, own.id, actor=actors["clerk"], now=NOW, other=report.number)
    login(client, HANDLERS[viewer])
    page = client.get(f"/cases/show/{own.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert CANARY not in text and report.number not in text
    login(client, "clerk")  # the clerk who linked them still sees the link
    assert report.number in client.get(f"/cases/show/{own.id}").get_data(as_text=True)


def test_the_linked_cases_panel_never_shows_another_departments_case(session, client, actors, cats, depts):
    own = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, lead="X102")
    other = case_in(
        session, actors, cats, depts, Status.HANDLING, now=NOW, lead="X103", title="另一部门的工单"
    )
    reporting.link_cases(session, own.id, actor=actors["clerk"], now=NOW, other=other.number)
    login(client, "handler")
    text = client.get(f"/cases/show/{own.id}").get_data(as_text=True)
    assert other.number not in text and "另一部门的工单" not in text


def test_similar_cases_never_include_a_report_against_the_readers_department(
    app, session, client, actors, cats, depts
):
    report = report_against(session, actors, cats, depts, "C10", status=Status.SUBMITTED)
    again = file_case(
        session,
        actors,
        cats,
        now=NOW + timedelta(hours=1),
        case_type="report",
        category="INT01",
        title=report.title,
        content=report.content,
        concerned_department_id=depts["C10"].id,
    )
    assert [c for c, _ in reporting.similar_open_cases(session, again, actors["clerk"])] == [report]
    for name in ("handler", "handler3"):
        assert reporting.similar_open_cases(session, again, actors[name]) == []
    # A clerk working in X102 (under C10) opens a case of the intake queue: no similar report shown.
    plain = file_case(
        session, actors, cats, now=NOW + timedelta(hours=2), title=report.title, content=report.content
    )
    staff(app, session, depts, "clerk_x102", "Clerk", "X102")
    session.commit()
    login(client, "clerk_x102")
    text = client.get(f"/cases/show/{plain.id}").get_data(as_text=True)
    assert report.number not in text and again.number not in text
    login(client, "clerk")
    assert report.number in client.get(f"/cases/show/{plain.id}").get_data(as_text=True)


# --- merges ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("accused", "viewer"), ACCUSED_AND_VIEWER)
def test_a_merge_that_would_show_a_report_to_the_accused_department_is_refused(
    session, client, actors, cats, depts, accused, viewer
):
    own = handled_by(session, actors, cats, depts, viewer)
    report = report_against(session, actors, cats, depts, accused, status=Status.SUBMITTED)
    login(client, "clerk")
    response = client.post(
        f"/cases/act/{report.id}/merge",
        data={"into_case": own.number, "note": "同一事项"},
        follow_redirects=True,
    )
    text = visible_text(response.get_data(as_text=True))
    assert "关联两件工单" in text or "Link the two cases" in text  # the refusal says what to do instead
    session.expire_all()
    assert session.get(Case, report.id).status == Status.SUBMITTED
    assert session.get(Case, report.id).merged_into_id is None
    login(client, HANDLERS[viewer])
    page = client.get(f"/cases/show/{own.id}").get_data(as_text=True)
    assert CANARY not in page and report.number not in page


def test_a_merge_into_a_case_about_the_same_department_works(session, client, actors, cats, depts):
    main = report_against(session, actors, cats, depts, "C10", status=Status.HANDLING, lead="P02")
    duplicate = report_against(session, actors, cats, depts, "X102", status=Status.SUBMITTED)
    login(client, "clerk")
    response = client.post(f"/cases/act/{duplicate.id}/merge", data={"into_case": main.number})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Case, duplicate.id).merged_into_id == main.id
    assert len(session.get(Case, main.id).reporters) == 2


def test_merging_a_case_about_nobody_into_any_open_case_still_works(session, client, actors, cats, depts):
    """The merge that used to crash (a flush between the status and its reason broke
    ck_case_declined_reason; re-parented reporters were deleted as orphans), in a request of
    its own as in production, into a case in each open status."""
    for status in (Status.SUBMITTED, Status.DISPATCHED, Status.HANDLING, Status.REPLIED):
        main = case_in(session, actors, cats, depts, status, now=NOW)
        duplicate = file_case(session, actors, cats, now=NOW + timedelta(hours=1), reporter_name="李四")
        reporting.staff_message(session, duplicate.id, actor=actors["clerk"], now=NOW, body="请补充材料")
        login(client, "clerk")
        response = client.post(
            f"/cases/act/{duplicate.id}/merge", data={"into_case": main.number, "note": "同一事项"}
        )
        assert response.status_code == 302, status
        session.expire_all()
        merged, kept = session.get(Case, duplicate.id), session.get(Case, main.id)
        assert merged.status == Status.DECLINED and merged.merged_into_id == main.id, status
        assert sorted(r.name for r in kept.reporters) == ["张三", "李四"], status
        assert [m.body for m in kept.messages] == ["请补充材料"], status
        assert kept.events[-1].action == "merge_in", status


# --- notices: page, PDF, interview ------------------------------------------------------------


@pytest.mark.parametrize(("accused", "viewer"), ACCUSED_AND_VIEWER)
def test_an_interview_notice_never_names_a_report_against_its_addressee(
    session, client, actors, cats, depts, accused, viewer
):
    report = report_against(session, actors, cats, depts, accused, status=Status.HANDLING)
    own = handled_by(session, actors, cats, depts, viewer)
    login(client, "supervisor")
    response = client.post(
        "/notices/act/interview",
        data={"department_id": depts[viewer].id, "case_ids": [report.id, own.id], "details": "约谈"},
        follow_redirects=True,
    )
    assert "约谈通知书不得列入" in response.get_data(as_text=True) or "never names" in response.get_data(
        as_text=True
    )
    with pytest.raises(Invalid):
        notices.issue_interview(
            session,
            actor=actors["supervisor"],
            now=NOW,
            department_id=depts[viewer].id,
            case_ids=[report.id],
            details="约谈",
        )


@pytest.mark.parametrize(("accused", "viewer"), ACCUSED_AND_VIEWER)
def test_a_notice_page_and_its_pdf_never_name_a_report_against_the_addressee(
    session, client, actors, cats, depts, accused, viewer
):
    """A notice raised before the rule (or by a path that forgot it) still never shows it."""
    report = report_against(session, actors, cats, depts, accused, status=Status.HANDLING)
    own = handled_by(session, actors, cats, depts, viewer)
    notice = notices.raise_notice(
        session,
        cause=NoticeCause.SUPERVISOR_DECISION,
        subject=f"leak-{report.id}",
        department_id=depts[viewer].id,
        cases=[report, own],
        details="约谈主要负责人",
        now=NOW,
        actor=actors["supervisor"],
    )
    login(client, HANDLERS[viewer])
    page = client.get(f"/notices/show/{notice.id}").get_data(as_text=True)
    assert own.number in page and report.number not in page and CANARY not in page
    pdf = client.get(f"/notices/act/{notice.id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.data)
    assert own.number in text and report.number not in text and CANARY not in text
    login(client, "supervisor")  # the office sees what it addressed, minus the conflicting case
    assert report.number not in client.get(f"/notices/show/{notice.id}").get_data(as_text=True)
    assert all(
        report not in cases for _, cases in notices.interview_candidates(session, actors["supervisor"])
    )


# --- typical cases, the dashboard's drill-down -------------------------------------------------


def test_typical_cases_and_the_drill_down_never_show_a_report_against_the_readers_department(
    app, session, client, actors, cats, depts
):
    from app.publication import TypicalKind
    from app.services import typical

    report = report_against(session, actors, cats, depts, "C10", status=Status.CLOSED)
    chosen = typical.mark_typical(
        session, report.id, actor=actors["supervisor"], now=NOW, kind=TypicalKind.WARNING
    )
    notices.raise_notice(
        session,
        cause=NoticeCause.SUPERVISOR_DECISION,
        subject=f"drill-{report.id}",
        department_id=depts["X102"].id,
        cases=[report],
        details="约谈",
        now=NOW,
        actor=actors["supervisor"],
    )
    staff(app, session, depts, "leader_x102", "Leader", "X102")
    session.commit()
    login(client, "leader_x102")
    assert report.number not in client.get("/typical/list/").get_data(as_text=True)
    assert client.get(f"/typical/show/{chosen.id}").status_code == 404
    drill = client.get(f"/dashboard/drill?period=2026-11&department={depts['X102'].id}&metric=interviews")
    assert drill.status_code == 200 and report.number not in drill.get_data(as_text=True)
    login(client, "leader")  # the province's leader sees both
    assert report.number in client.get("/typical/list/").get_data(as_text=True)
    drill = client.get(f"/dashboard/drill?period=2026-11&department={depts['X102'].id}&metric=interviews")
    assert report.number in drill.get_data(as_text=True)


def test_the_rule_is_one_clause_the_same_for_every_reader(session, actors, cats, depts):
    report = report_against(session, actors, cats, depts, "C10", status=Status.HANDLING)
    force_assignment(session, report, depts["X102"])
    seen = {
        name: bool(
            session.execute(
                select(Case.id).where(Case.id == report.id, visibility.visible_cases_clause(actors[name]))
            ).first()
        )
        for name in ("handler", "handler3", "handler6", "supervisor", "clerk", "leader", "admin")
    }
    # handler6 (P02) handles it; C10 and X102 are accused; the office (P00) sees all; admin has no department.
    assert seen == {
        "handler": False,
        "handler3": False,
        "handler6": True,
        "supervisor": True,
        "clerk": True,
        "leader": True,
        "admin": True,
    }
    assert visibility.department_subtree(session, depts["C10"].id) >= {depts["C10"].id, depts["X102"].id}
    assert depts["P00"].id in visibility.department_chain(session, depts["X102"].id)
