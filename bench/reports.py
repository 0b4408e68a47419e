"""Benchmark: the ranking query for a year, the monthly bulletin and the annual assessment report
over 1 million cases and 100 departments (PostgreSQL, bench/seed.py), with time and peak memory.

    make bench-reports          # or: .venv/bin/python bench/reports.py --cases 1000000 [--5m]

Target (issue 6): the annual report under 60 s and 1 GB on these machines.
"""

from __future__ import annotations

import argparse
import datetime
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.seed import add_arguments, case_count, seeded_app  # noqa: E402

FIGURES: dict[str, float] = {}  # seconds, by the key given to measure() (bench/all.py's summary)


def measure(label: str, work, key: str | None = None, trace: bool = True):
    """Run ``work`` once and print its time (and, with ``trace``, its Python memory peak:
    tracemalloc slows Python down, so the quick queries are timed without it)."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    memory = f", Python peak {peak / 2**20:.0f} MB" if trace else ""
    print(f"{label}: {elapsed:.2f} s{memory}, process max RSS {rss:.0f} MB")
    if key:
        FIGURES[key] = elapsed
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args = parser.parse_args()
    app, _url, _info = seeded_app(case_count(args), reuse=args.reuse)
    report_figures(app)


def report_figures(app) -> dict[str, float]:
    """The ranking query for a year (live and from the KPI rollup), the dashboard's year view, the
    monthly bulletin and the annual assessment report."""
    from app.extensions import db
    from app.services import assessment as kpi
    from models import GeneratedReport
    from reports import builders

    year = kpi.Period.year(2025)  # the seeded history covers the last two years
    with app.app_context():
        ensure_rollup(db.session)
        weights = kpi.weights_from_settings(db.session)
        live = measure(
            f"ranking query for {year.label} (live, over the rounds)",
            lambda: kpi.rank(kpi.department_kpis(db.session, year, live=True), weights),
        )
        for attempt in ("cold", "warm"):
            ranked = measure(
                f"ranking query for {year.label} ({attempt})",
                lambda: kpi.rank(kpi.department_kpis(db.session, year), weights),
                key=f"ranking_{attempt}",
                trace=False,
            )
        print(f"  {len(ranked)} departments ranked, {sum(r.kpi.handled for r in ranked):,} lead rounds")
        if [r.kpi for r in live] != [r.kpi for r in ranked]:
            raise SystemExit("the rollup's ranking differs from the live one")
        measure(
            f"dashboard year view {year.label}",
            lambda: dashboard_year(app, year),
            key="dashboard_year",
            trace=False,
        )
        measure(
            "  of which its rankings (departments, lower offices)", lambda: dashboard_year(app, year, True)
        )
        db.session.rollback()
        current = being_written(db.session)
        measure(
            f"dashboard year view {current.label}, its last two months being written",
            lambda: dashboard_year(app, current),
            key="dashboard_current_year",
            trace=False,
        )
        db.session.rollback()
        started = time.perf_counter()
        import weasyprint  # noqa: F401  (a worker imports it once: not a cost of each report)

        print(f"WeasyPrint imported in {time.perf_counter() - started:.1f} s (once per process: not timed)")
        for kind, period in (("bulletin", kpi.Period.month(2026, 10)), ("assessment", year)):
            report = GeneratedReport(
                kind=kind,
                period_label=period.label,
                period_start=period.start,
                period_end=period.end,
                requested_at=period.end,
                requested_by_name="bench",
            )
            files = measure(
                f"{kind} {period.label}", lambda r=report: builders.build_files(db.session, r), key=kind
            )
            pdf = files["pdf"]
            with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
                handle.write(pdf)
                handle.flush()
                info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True)
            pages = next(
                (line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:")), "?"
            )
            print(
                f"  {pages} pages, {len(pdf) / 1024:.0f} KB PDF"
                + (f", CSV {len(files['csv']) / 1024:.0f} KB" if "csv" in files else "")
            )
    return dict(FIGURES)


def ensure_rollup(session) -> None:
    """Build the KPI rollup of a reused database seeded before it existed (timed)."""
    from app import clock
    from app.services import assessment as kpi
    from app.services import case_figures

    started = time.perf_counter()
    months = kpi.build_rollup(session, now=clock.utcnow())
    session.commit()
    if months:
        print(f"KPI rollup built: {months} months in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    now = clock.utcnow()
    months = case_figures.refresh(session, now=now) + case_figures.build(session, now=now)
    session.commit()
    if months:
        print(f"case figures built: {months} months in {time.perf_counter() - started:.1f} s")


def being_written(session):
    """This year, its last two months marked stale in the case figures' rollup as filings and
    handling keep them in a running province (those months are then counted from the cases,
    not the rollup); committed: the refresh job would clear them."""
    from app import clock
    from app.services import assessment as kpi
    from models import CaseFigureStale
    from models.kpi import month_of

    now = clock.utcnow()
    this = month_of(now)
    before = (this - datetime.timedelta(days=1)).replace(day=1)
    session.execute(CaseFigureStale.__table__.insert(), [{"month": this}, {"month": before}])
    session.commit()
    return kpi.Period.year(this.year)


def dashboard_year(app, year, rankings_only: bool = False):
    """What the dashboard's page asks for a year, as the province's leader (views.dashboard);
    ``rankings_only``: its two rankings, as it computes them."""
    from app.extensions import db
    from app.services import assessment as kpi
    from app.services.actor import Actor
    from models import Staff
    from views.dashboard import dashboard_data

    actor = Actor.from_user(db.session.query(Staff).filter_by(username="leader").one())
    with app.test_request_context("/dashboard/data?period=2025"):
        office = kpi.assessed_office(db.session, actor)
        if rankings_only:
            ranked = kpi.department_kpis(db.session, year, kpi.office_department_ids(db.session, office))
            return ranked, kpi.lower_office_ranking(db.session, year, office)
        return dashboard_data(year, kpi.office_department_ids(db.session, office), actor, office)


if __name__ == "__main__":
    main()
