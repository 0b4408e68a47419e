"""Typical cases and generated reports: redacted drafts, approval before publication, the
monthly bulletin and the assessment report (made in jobs), the public list."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from app.errors import Invalid, NotAllowed
from app.publication import TypicalState
from app.services import reports as report_services
from app.services import typical as typical_services
from app.services.actor import SYSTEM
from app.workflow import Status
from models import GeneratedReport
from reports import archive
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-10-12 10:00")
CANARY = {
    "reporter_name": "金丝雀庚辛",
    "reporter_phone": "13955556666",
    "reporter_company": "金丝雀庚辛科技有限公司",
}


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def closed_case_told_by_canary(session, actors, cats, depts):
    return case_in(
        session,
        actors,
        cats,
        depts,
        Status.CLOSED,
        now=NOW,
        **CANARY,
        content=f"我叫{CANARY['reporter_name']}，电话{CANARY['reporter_phone']}，"
        f"我公司{CANARY['reporter_company']}办理施工许可被要求缴纳无依据费用3000元。",
    )


def test_a_typical_case_is_drafted_redacted_and_published_only_when_approved(session, actors, cats, depts):
    case = closed_case_told_by_canary(session, actors, cats, depts)
    typical = typical_services.mark_typical(
        session, case.id, actor=actors["supervisor"], now=NOW, kind="warning"
    )
    for secret in CANARY.values():
        assert secret not in typical.summary
    assert "3000元" in typical.summary or "3000" in typical.summary
    with pytest.raises(NotAllowed):
        typical_services.decide(session, typical.id, actor=actors["supervisor"], now=NOW, approve=True)
    typical_services.edit_summary(
        session,
        typical.id,
        actor=actors["supervisor"],
        now=NOW,
        summary=typical.summary + "\n经督办已退还费用。",
        submit=True,
    )
    with pytest.raises(Invalid):
        typical_services.decide(session, typical.id, actor=actors["leader"], now=NOW, approve=False, note="")
    assert typical_services.published(session, "2026-10") == []
    typical_services.decide(session, typical.id, actor=actors["leader"], now=NOW, approve=True)
    assert typical.state == TypicalState.APPROVED
    assert typical_services.published(session, "2026-10") == [typical]


def generate(session, kind, period, actor):
    report = report_services.request_report(
        session, actor=actor, now=NOW + timedelta(days=25), kind=kind, period=period
    )
    session.commit()
    archive.start(session, report.id)  # no queue in tests: generated right away, as the job does
    session.expire_all()
    return session.get(GeneratedReport, report.id)


def test_the_monthly_bulletin_is_a_chinese_pdf_with_approved_cases_and_no_identity(
    app, session, actors, cats, depts
):
    approved = closed_case_told_by_canary(session, actors, cats, depts)
    pending = case_in(session, actors, cats, depts, Status.CLOSED, now=NOW, title="未批准的案例")
    for case, approve, summary in ((approved, True, "示范摘要甲"), (pending, False, "示范摘要乙")):
        t = typical_services.mark_typical(
            session, case.id, actor=actors["supervisor"], now=NOW, kind="exemplary"
        )
        typical_services.edit_summary(
            session, t.id, actor=actors["supervisor"], now=NOW, summary=summary, submit=True
        )
        if approve:
            typical_services.decide(session, t.id, actor=actors["leader"], now=NOW, approve=True)
    case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    session.commit()
    report = generate(session, "bulletin", "2026-10", actors["leader"])
    assert report.state == "done", report.error
    pdf = report_services.report_file(report, "pdf").read_bytes()
    text = pdf_text(pdf)
    assert "营商环境投诉举报办理情况通报" in text and "2026年10月" in text
    assert "示范摘要甲" in text and "示范摘要乙" not in text
    assert approved.number not in text and pending.number not in text  # public documents: no case numbers
    for secret in CANARY.values():
        assert secret not in text
    fonts = subprocess.run(
        ["pdffonts", str(report_services.report_file(report, "pdf"))], capture_output=True
    ).stdout.decode()
    assert "WenQuanYi" in fonts or "Sungti" in fonts or "AR PL" in fonts


def test_the_assessment_comes_as_pdf_csv_and_xlsx_with_the_same_figures(app, session, actors, cats, depts):
    from app.services import assessment as kpi
    from app.services import jurisdictions

    case_in(session, actors, cats, depts, Status.CLOSED, now=NOW, lead="P00")
    case_in(session, actors, cats, depts, Status.CLOSED, now=NOW, lead="X103")  # a county department
    session.commit()
    report = generate(session, "assessment", "2026-10", actors["supervisor"])
    assert report.state == "done", report.error
    csv_text = report_services.report_file(report, "csv").read_text(encoding="utf-8-sig")
    own = kpi.office_department_ids(session, jurisdictions.root(session))  # the province ranks its own
    ranked = kpi.rank(
        kpi.department_kpis(session, kpi.Period.month(2026, 10), own),
        kpi.weights_from_settings(session),
        kpi.min_cases_from_settings(session),  # one case: listed, not ranked (样本不足)
    )
    assert [r.kpi.code for r in ranked] == ["P00"]
    assert csv_text.splitlines() == kpi.to_csv(ranked).lstrip("\ufeff").splitlines()
    assert report_services.report_file(report, "xlsx").read_bytes().startswith(b"PK")
    assert "附录" in pdf_text(report_services.report_file(report, "pdf").read_bytes())


def test_only_published_bulletins_are_public(app, session, actors):
    report = generate(session, "bulletin", "2026-10", actors["leader"])
    client = app.test_client()
    assert f"/bulletins/{report.id}.pdf" not in client.get("/bulletins/").get_data(as_text=True)
    assert client.get(f"/bulletins/{report.id}.pdf").status_code == 404
    login(client, "leader")
    assert client.post(f"/reports/act/publish/{report.id}", data={}).status_code == 302
    client.post("/logout/")
    assert f"/bulletins/{report.id}.pdf" in client.get("/bulletins/").get_data(as_text=True)
    download = client.get(f"/bulletins/{report.id}.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


def test_the_monthly_job_makes_every_offices_bulletin_and_assessment_of_last_month(app, session):
    from jobs import tasks
    from models import Jurisdiction

    offices = {j.id for j in session.query(Jurisdiction).filter_by(active=True)}
    assert tasks.monthly_bulletin() == 2 * len(offices)
    session.expire_all()
    reports = session.query(GeneratedReport).all()
    assert {(r.jurisdiction_id, r.kind) for r in reports} == {
        (office, kind) for office in offices for kind in ("bulletin", "assessment")
    }
    assert all(r.state == "done" and r.requested_by_name == SYSTEM.name for r in reports)


def test_the_dashboard_shows_the_same_figures_as_the_csv_and_drills_down(app, session, actors, cats, depts):
    from app.services import assessment as kpi
    from app.services import jurisdictions

    late = case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-10-05 10:00"), lead="P00")
    case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-10-06 10:00"), lead="X103")
    session.commit()
    client = app.test_client()
    login(client, "leader")
    page = client.get("/dashboard/?period=2026-10")
    assert page.status_code == 200 and "echarts.min.js" in page.get_data(as_text=True)
    assert client.get("/static/vendor/echarts/echarts.min.js").status_code == 200
    data = client.get("/dashboard/data?period=2026-10").json
    own = kpi.office_department_ids(session, jurisdictions.root(session))  # the province ranks its own
    ranked = kpi.rank(
        kpi.department_kpis(session, kpi.Period.month(2026, 10), own),
        kpi.weights_from_settings(session),
        kpi.min_cases_from_settings(session),  # one case: listed, not ranked (样本不足)
    )
    csv_rows = kpi.to_csv(ranked).lstrip("\ufeff").splitlines()[1:]
    assert [row["department"] for row in data["ranking"]] == [r.kpi.name for r in ranked]
    assert [row["score"] for row in data["ranking"]] == [r.score for r in ranked] == [None]
    assert [row["rank"] for row in data["ranking"]] == [None]
    assert len(csv_rows) == len(data["ranking"])
    assert data["figures"]["closed"] == 2
    drill = client.get(
        f"/dashboard/drill?period=2026-10&department={depts['P00'].id}&metric=handled"
    ).get_data(as_text=True)
    assert late.number in drill
    login(client, "handler")
    assert client.get("/dashboard/").status_code == 403
