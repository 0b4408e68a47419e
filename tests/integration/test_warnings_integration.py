"""Early warnings where leaders look: the dashboard (what were its hot spots), the monthly
bulletin's 预警处置情况 and the assessment's warnings received per department."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app import clock
from app.early_warning import PeriodKind, RuleType, SubjectKind, WarningState
from app.services import assessment as asm
from app.services import jurisdictions
from app.workflow import Status
from models import EarlyWarning, Jurisdiction, Setting, WarningModel
from reports import bulletin as doc
from reports.builders import assessment_data, bulletin_data, warning_summary
from tests.conftest import at, login
from tests.factories import case_in

NOV = asm.Period.month(2026, 11)
OFFICIAL = "张卫国"  # a name a reporter typed: never in the public bulletin


def _model(session, code: str, name: str, rule=RuleType.WINDOW_REPEATED) -> WarningModel:
    model = WarningModel(code=code, name=name, rule=rule, thresholds={}, period=PeriodKind.MONTH, active=True)
    session.add(model)
    session.flush()
    return model


def _warning(session, model, place: str, *, department=None, state=WarningState.OPEN, created, due, **extra):
    n = session.query(EarlyWarning).count()
    kind = extra.pop("subject_kind", SubjectKind.DEPARTMENT)
    warning = EarlyWarning(
        key=f"test:{model.id}:{n}",
        model_id=model.id,
        subject_kind=kind,
        subject_key=str(n),
        subject_label=extra.pop("label", department.name if department else "窗口"),
        department_id=department.id if department else None,
        jurisdiction_id=session.query(Jurisdiction).filter_by(code=place).one().id,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 12, 1),
        figures=extra.pop("figures", {"cases": 3}),
        state=state,
        created_at=created,
        due_at=due,
        **extra,
    )
    session.add(warning)
    session.flush()
    return warning


def test_dashboard_shows_the_open_warnings_of_the_readers_scope_only(app, session, depts):
    now = clock.utcnow()
    model = _model(session, "t_window", "同一窗口被反复投诉")
    other = _model(session, "t_unsigned", "派单超时未签收", RuleType.UNSIGNED_CASES)
    ch_late = _warning(
        session,
        model,
        "CH",
        department=depts["X102"],
        created=at("2026-11-03 09:00"),
        due=now - timedelta(days=1),
    )
    ch_due = _warning(
        session,
        other,
        "CH",
        department=depts["X103"],
        created=at("2026-11-04 09:00"),
        due=now + timedelta(days=3),
    )
    _warning(  # worked already: not open, counted as raised in the period only
        session,
        model,
        "CH",
        department=depts["X102"],
        state=WarningState.DISMISSED,
        created=at("2026-11-05 09:00"),
        due=now + timedelta(days=3),
    )
    xs = _warning(
        session,
        model,
        "XS",
        department=depts["X202"],
        created=at("2026-11-03 09:00"),
        due=now + timedelta(days=3),
    )
    session.commit()

    client = login(app.test_client(), "ch_leader")
    data = client.get("/dashboard/data?period=2026-11").get_json()
    warnings = data["warnings"]
    assert "hot_spots" not in data
    assert [t["id"] for t in warnings["top"]] == [ch_late.id, ch_due.id]  # due first; 西山县's not
    by_model = {m["model"]: m for m in warnings["models"]}
    assert by_model["同一窗口被反复投诉"] == {
        "model_id": model.id,
        "model": "同一窗口被反复投诉",
        "open": 1,
        "overdue": 1,
        "raised": 2,
    }
    assert by_model["派单超时未签收"]["open"] == 1 and by_model["派单超时未签收"]["overdue"] == 0
    assert (warnings["open"], warnings["overdue"], warnings["raised"]) == (2, 1, 3)
    top = warnings["top"][0]
    assert top["department"] == depts["X102"].name and top["figures"] == "cases：3" and top["overdue"]
    page = client.get("/dashboard/?period=2026-11").get_data(as_text=True)
    assert f'href="/warningview/show/{ch_late.id}"' in page
    assert f"/warningview/show/{xs.id}" not in page
    assert 'id="dashboard-hot-spots"' not in page

    province = login(app.test_client(), "leader").get("/dashboard/data?period=2026-11").get_json()
    assert {t["id"] for t in province["warnings"]["top"]} == {ch_late.id, ch_due.id, xs.id}


def _bulletin_warnings(session, depts):
    now = at("2026-12-01 09:00")
    window = _model(session, "t_window", "同一窗口被反复投诉")
    named = _model(session, "t_official", "同一工作人员被多次反映", RuleType.OFFICIAL_NAMED)
    created = at("2026-11-10 09:00")
    early, late = at("2026-11-20 09:00"), at("2026-12-05 09:00")
    for state in (WarningState.OPEN, WarningState.OPEN, WarningState.DISPATCHED, WarningState.NOTICE_ISSUED):
        _warning(session, window, "SM", department=depts["X102"], state=state, created=created, due=early)
    _warning(session, window, "SM", department=depts["X103"], created=created, due=late)  # open, not late
    _warning(
        session,
        named,
        "SM",
        department=depts["X202"],
        state=WarningState.DISMISSED,
        created=created,
        due=early,
        subject_kind=SubjectKind.OFFICIAL,
        label=f"{depts['X202'].name} {OFFICIAL}",
        figures={"cases": 2, "official": OFFICIAL},
    )
    _warning(
        session, window, "SM", department=depts["X102"], created=at("2026-10-10 09:00"), due=early
    )  # Oct
    _warning(session, window, "XS", department=depts["X202"], created=created, due=early)  # 北岭's
    return now


def test_bulletin_counts_the_months_warnings_by_model_and_state_without_names(session, depts):
    now = _bulletin_warnings(session, depts)
    city = session.query(Jurisdiction).filter_by(code="SM").one()
    summary = warning_summary(session, NOV, now, city)
    counts = {m.model: m for m in summary.models}
    assert counts["同一窗口被反复投诉"] == doc.WarningModelCount("同一窗口被反复投诉", 5, 1, 1, 0, 3, 2)
    assert counts["同一工作人员被多次反映"] == doc.WarningModelCount(
        "同一工作人员被多次反映", 1, 0, 0, 1, 0, 0
    )
    assert summary.total == doc.WarningModelCount("合计", 6, 1, 1, 1, 3, 2)
    assert summary.departments[0] == doc.Count(depts["X102"].name, 4)
    assert {(c.label, c.value) for c in summary.departments[1:]} == {
        (depts["X103"].name, 1),
        (depts["X202"].name, 1),  # the official's department, never the official
    }
    data = bulletin_data(session, NOV, [], date(2026, 12, 1), city, now=now)
    assert data.warnings == summary
    assert OFFICIAL not in repr(data)
    assert warning_summary(session, asm.Period.month(2026, 9), now, city) is None
    province = warning_summary(session, NOV, now, jurisdictions.root(session))
    assert province.total.raised == 7


def _pdf_text_and_png(pdf: bytes, tmp_path: Path, name: str, page: int | None = None) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    if page is not None and shutil.which("pdftoppm"):  # a picture of the page, to look at by hand
        out = Path("/tmp/integrate") if Path("/tmp/integrate").is_dir() else tmp_path
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", "-f", str(page), "-l", str(page), str(path), str(out / name)],
            check=True,
        )
    return text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_bulletin_pdf_prints_the_warning_section_and_no_official(session, depts, tmp_path):
    now = _bulletin_warnings(session, depts)
    city = session.query(Jurisdiction).filter_by(code="SM").one()
    data = bulletin_data(session, NOV, [], date(2026, 12, 1), city, now=now)
    pdf = doc.render_bulletin_pdf(data)
    text = _pdf_text_and_png(pdf, tmp_path, "bulletin", page=3)
    assert "（四）预警处置情况" in text and "表8" in text and "预警涉及较多的单位" in text
    assert "共生成预警 6 条" in text
    assert OFFICIAL not in text


def test_assessment_counts_warnings_received_and_deducts_when_set(
    app, session, actors, cats, depts, tmp_path
):
    case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-11-02 10:00"), lead="X102")
    model = _model(session, "t_window", "同一窗口被反复投诉")
    for created in ("2026-11-03 09:00", "2026-11-20 09:00"):
        _warning(
            session, model, "CH", department=depts["X102"], created=at(created), due=at("2026-11-30 09:00")
        )
    _warning(
        session,
        model,
        "CH",
        department=depts["X102"],
        created=at("2026-12-02 09:00"),
        due=at("2026-12-09 09:00"),
    )
    _warning(
        session,
        model,
        "CH",
        department=depts["X103"],
        created=at("2026-11-03 09:00"),
        due=at("2026-11-30 09:00"),
    )
    assert asm.warnings_received(session, NOV) == {depts["X102"].id: 2, depts["X103"].id: 1}
    (kpi,) = asm.department_kpis(session, NOV, [depts["X102"].id])
    assert kpi.warnings == 2

    assert asm.weights_from_settings(session)["warning"] == 0  # by default counted, not deducted
    plain = asm.rank([kpi], asm.weights_from_settings(session))[0]
    assert next(d for d in plain.breakdown.deductions if d.key == "warning").points == 0
    session.get(Setting, "assessment_deduction_warning_tenths").value = 15  # 1.5 points a warning
    session.flush()
    weights = asm.weights_from_settings(session)
    assert weights["warning"] == 1.5
    (ranked,) = asm.rank([kpi], weights)
    part = next(d for d in ranked.breakdown.deductions if d.key == "warning")
    assert (part.count, part.per, part.points) == (2, 1.5, 3.0)
    assert ranked.score == pytest.approx(plain.score - 3.0)

    sheet = load_workbook(__import__("io").BytesIO(asm.to_xlsx([ranked], weights)))["考核排名"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["收到预警"] == 2 and row["收到预警扣分"] == 3.0
    assert "收到预警每条扣 1.5 分" in asm.formulas(weights)["综合得分"]

    if shutil.which("pdftotext"):
        county = session.query(Jurisdiction).filter_by(code="CH").one()
        data = assessment_data(NOV, [ranked], weights, date(2026, 12, 1), county)
        assert [d.label for d in data.ranking[0].deductions][-1] == "收到预警"
        assert data.ranking[0].warnings == 2
        text = _pdf_text_and_png(doc.render_assessment_pdf(data), tmp_path, "assessment", page=2)
        assert "收到" in text and "预警" in text and "×1.5分" in text
