"""The assessment report can be checked by its reader: every printed score is the printed formula
applied to the printed parts (rates as numerator/denominator, weights, notices × points); a
department with too few cases is listed as 样本不足 after the ranked ones, never ranked; the
minimum comes from the settings; the CSV says the same."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pdfplumber
import pytest

from app.services import assessment as asm
from app.services import jurisdictions
from models import Setting
from reports import builders
from reports.bulletin import render_assessment_pdf
from tests.integration.test_assessment import NOV, kpi, november  # noqa: F401 - the fixture

ROOT_ISSUED = date(2026, 12, 3)


def document(session, weights=None, min_cases=None):
    weights = weights or asm.weights_from_settings(session)
    if min_cases is None:
        min_cases = asm.min_cases_from_settings(session)
    ranked = asm.rank(asm.department_kpis(session, NOV), weights, min_cases)
    root = jurisdictions.root(session)
    return ranked, builders.assessment_data(NOV, ranked, weights, ROOT_ISSUED, root, (), min_cases)


def number(text: str) -> float:
    return float(text.replace("\n", ""))


def ratio(text: str) -> tuple[int, int]:
    numerator, denominator = re.search(r"（(\d+)/(\d+)）", text.replace("\n", "")).groups()
    return int(numerator), int(denominator)


def printed_ranking(pdf: bytes) -> list[list[str]]:
    """The rows of the scored ranking table as the PDF prints them (header rows left out)."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        with pdfplumber.open(handle.name) as opened:
            for page in opened.pages:
                for table in page.extract_tables():
                    if table and table[0][0] == "名次" and "督办扣分" in table[0]:
                        return [row for row in table[2:] if row[0]]
    raise AssertionError("no ranking table in the PDF")


# --- the minimum number of cases ------------------------------------------------------------------


def test_a_department_with_one_case_is_listed_as_too_few_cases_and_not_ranked_first():
    perfect_but_alone = kpi("A1", handled=1)  # one case, every rate 100%: would score 100
    busy = kpi("B2", handled=12, on_time=(9, 12), satisfaction=(10, 12))
    ranked = asm.rank([perfect_but_alone, busy], min_cases=5)
    assert [(r.code, r.rank, r.position) for r in ranked] == [("B2", 1, 1), ("A1", None, 2)]
    alone = ranked[1]
    assert alone.score is None and alone.breakdown is None and not alone.ranked
    # Without a minimum the single case would have come first.
    assert asm.rank([perfect_but_alone, busy])[0].code == "A1"


@pytest.mark.usefixtures("november")
def test_the_minimum_is_a_setting_and_changes_the_outcome(session):
    assert asm.min_cases_from_settings(session) == 5  # the default
    counts = {k.code: k.handled for k in asm.department_kpis(session, NOV)}
    ranked, _ = document(session)
    assert {r.code for r in ranked if r.ranked} == {c for c, n in counts.items() if n >= 5}
    session.get(Setting, "assessment_min_cases").value = 1
    session.flush()
    ranked_all, _ = document(session)
    assert all(r.ranked for r in ranked_all)
    session.get(Setting, "assessment_min_cases").value = max(counts.values()) + 1
    session.flush()
    nobody, data = document(session)
    assert not any(r.ranked for r in nobody)
    assert [row.rank for row in data.ranking] == [None] * len(counts)
    assert [row.department for row in data.ranking] == [
        r.kpi.name for r in sorted(nobody, key=lambda r: r.code)
    ]


@pytest.mark.usefixtures("november")
def test_too_few_cases_print_after_the_ranked_ones_without_a_rank_or_score(session):
    ranked, data = document(session)
    too_few = [r for r in ranked if not r.ranked]
    assert too_few, "the hand-made month has departments with fewer than 5 cases"
    rows = printed_ranking(render_assessment_pdf(data))
    ranked_rows = [row for row in rows if row[0].isdigit()]
    separator = next(i for i, row in enumerate(rows) if row[0].startswith("以下"))
    assert "样本不足" in rows[separator][0] and "少于5件" in rows[separator][0]
    assert len(ranked_rows) == separator  # every ranked row before the separator
    after = rows[separator + 1 :]
    assert [row[1] for row in after] == [r.kpi.name for r in too_few]
    for row, r in zip(after, too_few, strict=True):
        assert row[0] == "—" and row[-1].replace("\n", "") == "样本不足"
        assert int(row[2]) == r.kpi.handled  # its figures still shown
        assert ratio(row[3]) == (r.kpi.on_time.numerator, r.kpi.on_time.denominator)


@pytest.mark.usefixtures("november")
def test_the_csv_says_the_same_about_too_few_cases(session):
    ranked, _ = document(session)
    table = list(csv.DictReader(io.StringIO(asm.to_csv(ranked).lstrip("\ufeff"))))
    for row, r in zip(table, ranked, strict=True):
        assert row["单位编码"] == r.code
        if r.ranked:
            assert row["名次"] == str(r.rank) and row["排名说明"] == ""
            weighted, deducted = float(row["加权得分小计"]), float(row["督办扣分合计"])
            assert float(row["综合得分"]) == pytest.approx(max(0, weighted - deducted), abs=0.011)
            parts = [float(row[f"{asm.notice_name(k)}扣分"]) for k in asm.DEDUCTIONS]
            assert sum(parts) == pytest.approx(deducted)
        else:
            assert row["名次"] == "" and row["综合得分"] == "" and "样本不足" in row["排名说明"]
            assert row["承办件数"] == str(r.kpi.handled)


# --- every printed score follows from the printed parts --------------------------------------------


@pytest.mark.usefixtures("november")
def test_each_score_the_template_gets_is_the_formula_applied_to_its_parts(session):
    _, data = document(session, min_cases=0)
    weights = asm.weights_from_settings(session)
    shares = asm.rate_shares(weights)
    for row in data.ranking:
        for rate in row.rates:
            assert rate.weight == pytest.approx(shares[rate.key])
            if not rate.filled:
                n, d = rate.ratio.numerator, rate.ratio.denominator
                assert rate.points == pytest.approx(rate.weight * n / d)
        assert row.weighted == pytest.approx(sum(rate.points for rate in row.rates))
        for d in row.deductions:
            assert d.points == pytest.approx(d.count * d.per)
        assert [d.label for d in row.deductions] == ["提醒敦促函", "整改通知书", "约谈通知书", "收到预警"]
        assert row.score == pytest.approx(max(0.0, row.weighted - sum(d.points for d in row.deductions)))


@pytest.mark.usefixtures("november")
def test_each_printed_score_is_the_formula_applied_to_the_printed_parts(session):
    # Interviews deduct 1 point each here, so every kind of notice takes part.
    session.get(Setting, "assessment_deduction_interview_tenths").value = 10
    session.flush()
    weights = asm.weights_from_settings(session)
    _, data = document(session, weights, min_cases=0)
    text = data.summary
    assert "按时办结率×35%" in text and "提醒敦促函件数×0.5分" in text and "约谈通知书件数×1分" in text
    rows = printed_ranking(render_assessment_pdf(data))
    assert len(rows) == len(data.ranking) and all(row[0].isdigit() for row in rows)
    shares = asm.rate_shares(weights)
    per = [weights[k] for k in asm.DEDUCTIONS]
    interviews = 0
    for row in rows:
        parts = []
        for i, key in enumerate(asm.SCORED_RATES):
            rate_cell, points_cell = row[3 + 2 * i], row[4 + 2 * i]
            n, d = ratio(rate_cell)
            if d:  # a rate of its own: its points are weight × n/d
                assert number(points_cell) == pytest.approx(shares[key] * n / d, abs=0.005)
            parts.append(number(points_cell.rstrip("*")))
        weighted = number(row[11])
        assert weighted == pytest.approx(sum(parts), abs=0.021)  # two decimals each
        counts = [int(row[12 + i]) for i in range(len(per))]  # every kind of DEDUCTIONS, warnings too
        interviews += counts[2]
        deducted = number(row[12 + len(per)])
        assert deducted == pytest.approx(sum(c * p for c, p in zip(counts, per, strict=True)))
        # The test of point 4: the deductions printed are the weighted sum less the score.
        assert deducted == pytest.approx(weighted - number(row[13 + len(per)]), abs=0.011)
    assert interviews >= 1  # the hand-made month has an interview notice: it is deducted
