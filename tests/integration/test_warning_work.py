"""Working an early warning: the supervisor's office dispatches it as a case, issues a notice or
dismisses it with a reason, each once; its page, its queue, and the administrators' models."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.early_warning import PeriodKind, RuleType, SubjectKind, WarningState, warning_key
from app.enums import Channel
from app.errors import IllegalMove, Invalid, NotAllowed
from app.services import jurisdictions
from app.services import warning_work as work
from app.supervision import NoticeCause
from app.workflow import Status
from models import Assignment, Notice
from models.early_warning import EarlyWarning, WarningModel
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-11-02 10:00")  # a Monday
XSS = '<script>alert("x")</script>'


@pytest.fixture
def client(app):
    return app.test_client()


def a_model(session, rule=RuleType.UNSIGNED_CASES, code=None):
    model = session.query(WarningModel).filter_by(code=code or f"t_{rule}").one_or_none()
    if model is None:
        model = WarningModel(
            code=code or f"t_{rule}", name="工单签收不及时", rule=rule, thresholds={"cases": 3},
            period=PeriodKind.WEEK, active=True, handle_working_days=5,
        )  # fmt: skip
        session.add(model)
        session.flush()
    return model


def a_warning(session, depts, *, department="X102", label="长河县市场监管局", cases=(), figures=None):
    model = a_model(session)
    dept = depts[department] if department else None
    start = date(2026, 10, 26)
    warning = EarlyWarning(
        key=warning_key(model.id, SubjectKind.DEPARTMENT, label, start),
        model=model,
        subject_kind=SubjectKind.DEPARTMENT,
        subject_key=str(dept.id if dept else label),
        subject_label=label,
        department_id=dept.id if dept else None,
        jurisdiction_id=jurisdictions.root_id(session),
        period_start=start,
        period_end=start + timedelta(days=7),
        figures=figures if figures is not None else {"cases": 4, "case_ids": [c.id for c in cases]},
        created_at=NOW - timedelta(days=1),
        due_at=NOW + timedelta(days=6),
    )
    warning.cases.extend(cases)
    session.add(warning)
    session.flush()
    return warning


def test_dispatching_a_warning_makes_a_case_in_the_departments_queue(session, actors, depts):
    warning = a_warning(session, depts)
    case = work.dispatch_warning(
        session,
        warning,
        actor=actors["supervisor"],
        now=NOW,
        department_id=depts["X102"].id,
        note="请核查签收情况",
    )
    assert case.channel == Channel.WARNING and case.status == Status.DISPATCHED
    assert case.title.startswith("预警：工单签收不及时") and "请核查签收情况" in case.content
    [assignment] = session.query(Assignment).filter_by(case_id=case.id).all()
    assert assignment.department_id == depts["X102"].id and assignment.active
    assert warning.state == WarningState.DISPATCHED and warning.case_id == case.id
    assert case in warning.cases and warning.worked_by_id == actors["supervisor"].id
    assert [(e.action, e.from_state, e.to_state) for e in warning.events] == [
        ("dispatch", "open", "dispatched")
    ]
    with pytest.raises(IllegalMove):
        work.dispatch_warning(
            session, warning, actor=actors["supervisor"], now=NOW, department_id=depts["X102"].id
        )
    assert session.query(Assignment).filter_by(department_id=depts["X102"].id).count() == 1


def test_a_warning_needs_an_existing_department_to_be_dispatched(session, actors, depts):
    warning = a_warning(session, depts)
    for bad in (None, "", "99999", "abc"):
        with pytest.raises(Invalid):
            work.dispatch_warning(session, warning, actor=actors["supervisor"], now=NOW, department_id=bad)
    assert warning.state == WarningState.OPEN


def test_a_notice_is_raised_once_with_a_number_and_the_warnings_cases(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW - timedelta(days=3))
    warning = a_warning(session, depts, cases=[case])
    notice = work.issue_warning_notice(
        session, warning, actor=actors["supervisor"], now=NOW, kind="rectification", details="请限期整改。"
    )
    assert (
        notice.number and notice.cause == NoticeCause.WARNING_RECTIFICATION and notice.kind == "rectification"
    )
    assert notice.cases == [case] and notice.department_id == depts["X102"].id
    assert warning.notice_id == notice.id and warning.state == WarningState.NOTICE_ISSUED
    body = "".join(notice.document["body"]) + "".join(notice.document["closing"])
    assert "预警模型“工单签收不及时”" in body and "整改" in body
    assert notice.document["title"].endswith("整改通知书")
    with pytest.raises(IllegalMove):
        work.issue_warning_notice(
            session, warning, actor=actors["supervisor"], now=NOW, kind="reminder", details="再发一次。"
        )
    assert session.query(Notice).filter_by(cause=NoticeCause.WARNING_RECTIFICATION).count() == 1


def test_a_warning_without_a_department_cannot_get_a_notice(session, actors, depts):
    warning = a_warning(session, depts, department=None, label="某某企业")
    with pytest.raises(Invalid):
        work.issue_warning_notice(
            session, warning, actor=actors["supervisor"], now=NOW, kind="reminder", details="x"
        )
    with pytest.raises(Invalid):
        work.issue_warning_notice(
            session, a_warning(session, depts, label="另一单位"), actor=actors["supervisor"], now=NOW,
            kind="interview", details="x",
        )  # fmt: skip
    assert warning.state == WarningState.OPEN and session.query(Notice).count() == 0


@pytest.mark.parametrize("reason", [None, "", "   ", "太短了", "x" * 2001])
def test_dismissing_needs_a_reason_of_10_to_2000_characters(session, actors, depts, reason):
    warning = a_warning(session, depts)
    with pytest.raises(Invalid):
        work.dismiss_warning(session, warning, actor=actors["supervisor"], now=NOW, reason=reason)
    assert warning.state == WarningState.OPEN


def test_a_dismissed_warning_keeps_its_reason_and_cannot_be_worked_again(session, actors, depts):
    warning = a_warning(session, depts)
    work.dismiss_warning(
        session, warning, actor=actors["supervisor"], now=NOW, reason="经核实系节假日调休所致，非单位原因。"
    )
    assert warning.state == WarningState.DISMISSED and warning.reason.startswith("经核实")
    with pytest.raises(IllegalMove):
        work.dispatch_warning(
            session, warning, actor=actors["supervisor"], now=NOW, department_id=depts["X102"].id
        )


@pytest.mark.parametrize("who", ["handler", "leader", "clerk"])
def test_only_the_supervisors_office_works_a_warning(session, actors, depts, who):
    warning = a_warning(session, depts)
    with pytest.raises(NotAllowed):
        work.dismiss_warning(session, warning, actor=actors[who], now=NOW, reason="我认为这条预警不成立。")
    assert warning.state == WarningState.OPEN


def test_the_handler_cannot_see_or_act_the_leader_sees_but_cannot_act(session, client, actors, depts):
    warning = a_warning(session, depts)
    login(client, "handler")
    assert client.get(f"/warnings/show/{warning.id}").status_code in (302, 403, 404)
    response = client.post(f"/warnings/act/{warning.id}/dismiss", data={"reason": "我认为这条预警不成立。"})
    assert response.status_code in (302, 403)
    login(client, "leader")
    listing = client.get("/warnings/list/")
    assert listing.status_code == 200 and "长河县市场监管局" in listing.get_data(as_text=True)
    page = client.get(f"/warnings/show/{warning.id}").get_data(as_text=True)
    assert "form-dismiss" not in page
    for query in (
        "state=open",
        "_flt_0_state=open",
        f"_flt_0_model={warning.model_id}",
        f"_flt_0_department={depts['X102'].id}",
        "_oc_WarningView=due_at&_od_WarningView=desc",
    ):
        listed = client.get(f"/warnings/list/?{query}")
        assert listed.status_code == 200 and "长河县市场监管局" in listed.get_data(as_text=True), query
    assert "长河县市场监管局" not in client.get("/warnings/list/?state=worked").get_data(as_text=True)
    client.post(f"/warnings/act/{warning.id}/dismiss", data={"reason": "我认为这条预警不成立。"})
    session.expire_all()
    assert session.get(EarlyWarning, warning.id).state == WarningState.OPEN


def test_the_supervisor_works_a_warning_from_its_page_and_a_second_submit_is_refused(session, client, depts):
    warning = a_warning(session, depts)
    login(client, "supervisor")
    page = client.get(f"/warnings/show/{warning.id}").get_data(as_text=True)
    assert "form-dispatch" in page and "form-notice" in page and "form-dismiss" in page
    form = {"department_id": str(depts["X102"].id), "note": "请核查"}
    assert client.post(f"/warnings/act/{warning.id}/dispatch", data=form).status_code == 302
    again = client.post(f"/warnings/act/{warning.id}/dispatch", data=form, follow_redirects=True)
    assert again.status_code == 200
    session.expire_all()
    fresh = session.get(EarlyWarning, warning.id)
    assert fresh.state == WarningState.DISPATCHED and fresh.case_id is not None
    assert session.query(Assignment).filter_by(department_id=depts["X102"].id).count() == 1
    shown = again.get_data(as_text=True)
    assert f"/cases/show/{fresh.case_id}" in shown and "form-dispatch" not in shown
    assert "alert-danger" in shown  # the second submit is refused with its message


def test_a_bad_form_is_a_message_never_a_500(session, client, depts):
    warning = a_warning(session, depts)
    login(client, "supervisor")
    for action, data in (
        ("dispatch", {"department_id": "nope"}),
        ("notice", {"kind": "rectification", "details": ""}),
        ("dismiss", {"reason": "短"}),
    ):
        response = client.post(f"/warnings/act/{warning.id}/{action}", data=data)
        assert response.status_code == 302, action
    assert client.post("/warnings/act/999999/dismiss", data={"reason": "x" * 20}).status_code == 404


def test_typed_text_and_labels_are_escaped_on_the_page(session, client, actors, depts):
    warning = a_warning(session, depts, label=f"单位{XSS}", figures={"cases": XSS, "extra": [XSS]})
    work.dismiss_warning(
        session, warning, actor=actors["supervisor"], now=NOW, reason=f"理由足够长的说明 {XSS}"
    )
    login(client, "supervisor")
    page = client.get(f"/warnings/show/{warning.id}").get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;" in page
    listing = client.get("/warnings/list/").get_data(as_text=True)
    assert XSS not in listing


def test_warning_model_thresholds_out_of_bounds_are_refused_with_a_form_error(session, client):
    model = a_model(session, RuleType.QUICK_CLOSE, code="t_quick")
    login(client, "admin")
    assert client.get(f"/warningmodels/edit/{model.id}").status_code == 200
    form = {"name": "答复即申请办结", "period": "month", "handle_working_days": "5", "active": "y"}
    bad = client.post(
        f"/warningmodels/edit/{model.id}", data={**form, "threshold_minutes": "0", "threshold_cases": "3"}
    )
    assert bad.status_code == 200 and 'id="error-threshold_minutes"' in bad.get_data(as_text=True)
    text = client.post(
        f"/warningmodels/edit/{model.id}", data={**form, "threshold_minutes": "abc", "threshold_cases": "3"}
    )
    assert 'id="error-threshold_minutes"' in text.get_data(as_text=True)
    session.expire_all()
    assert session.get(WarningModel, model.id).thresholds == {"cases": 3}
    good = client.post(
        f"/warningmodels/edit/{model.id}", data={**form, "threshold_minutes": "20", "threshold_cases": "4"}
    )
    assert good.status_code == 302
    session.expire_all()
    saved = session.get(WarningModel, model.id)
    assert saved.thresholds == {"minutes": 20, "cases": 4} and saved.period == PeriodKind.MONTH
    login(client, "supervisor")
    assert client.get(f"/warningmodels/edit/{model.id}").status_code in (302, 403)


def test_the_notice_of_a_warning_is_issued_from_its_page_and_its_pdf_renders(session, client, depts):
    warning = a_warning(session, depts)
    login(client, "supervisor")
    form = {"kind": "reminder", "details": "请核查近期工单签收情况。"}
    assert client.post(f"/warnings/act/{warning.id}/notice", data=form).status_code == 302
    assert client.post(f"/warnings/act/{warning.id}/notice", data=form).status_code == 302
    session.expire_all()
    [notice] = session.query(Notice).filter_by(cause=NoticeCause.WARNING_REMINDER).all()
    assert session.get(EarlyWarning, warning.id).notice_id == notice.id
    pdf = client.get(f"/notices/act/{notice.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
