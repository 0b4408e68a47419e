"""Every benchmark of issues 7 and 18 on one seeded database (PostgreSQL), in one command:

    make bench                  # 1 million cases; or: .venv/bin/python bench/all.py --5m

1. seeds the cases (bench/seed.py: realistic types, statuses, departments and dates);
2. filing throughput through the intake API under gunicorn, against a bare Flask INSERT;
3. the case lists of a handler and a supervisor (first, deep and filtered pages, p95, SQL count);
4. one deadline sweep with 10, 100 and 1000 newly overdue assignments;
5. the ranking query for a year, the dashboard's year view, the monthly bulletin and the annual
   assessment report;
6. a summary: issue 18's figures, each against its target (filing also against its baseline).

Each part prints its figures; the individual scripts (bench/web.py, lists.py, sweep.py,
reports.py) run one part alone, with --reuse to keep an already seeded database.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.seed import add_arguments, case_count, seeded_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args = parser.parse_args()
    started = time.perf_counter()
    app, url, info = seeded_app(case_count(args), reuse=args.reuse)

    from bench.lists import list_figures
    from bench.reports import report_figures
    from bench.sweep import sweep_figures
    from bench.web import filing_figures

    print("\n== filing ==")
    filing = filing_figures(url)
    print("\n== case lists ==")
    worst_list = list_figures(app, info["handler_department"])
    print("\n== deadline sweep ==")
    sweep = sweep_figures(app, [10, 100, 1000])
    print("\n== ranking and reports ==")
    reports = report_figures(app)
    print(f"\nall benchmarks in {time.perf_counter() - started:.0f} s")
    summary(case_count(args), filing, worst_list, sweep, reports)


def summary(cases: int, filing: dict, worst_list: float, sweep: dict, reports: dict) -> None:
    """The figures of issue 18's table, each against its target (and its baseline)."""
    base, api = list(filing.values())[:2]
    rows = [
        (
            "filing (API key) vs bare-Flask INSERT",
            f"{api['rps'] / base['rps']:.2f}× ({api['rps']:.0f}/s vs {base['rps']:.0f}/s), "
            f"p95 {api['p95']:.0f} ms",
            "≥ 0.30×, p95 < 100 ms",
            api["rps"] / base["rps"] >= 0.3 and api["p95"] < 100,
        ),
        (
            "ranking query for a year",
            f"{reports['ranking_cold']:.2f} s cold, {reports['ranking_warm']:.2f} s warm",
            "< 1 s",
            max(reports["ranking_cold"], reports["ranking_warm"]) < 1,
        ),
        (
            "dashboard, year view",
            f"{reports['dashboard_year'] * 1000:.0f} ms",
            "< 500 ms",
            reports["dashboard_year"] < 0.5,
        ),
        (
            "  the current year, its last two months being written",
            f"{reports['dashboard_current_year'] * 1000:.0f} ms",
            "(those months live)",
            None,
        ),
        (
            "monthly bulletin / annual assessment",
            f"{reports['bulletin']:.1f} s / {reports['assessment']:.1f} s",
            "< 5 s / < 10 s",
            reports["bulletin"] < 5 and reports["assessment"] < 10,
        ),
        ("sweep, 1000 newly overdue", f"{sweep[1000]:.3f} s", "< 0.5 s", sweep[1000] < 0.5),
        (
            "first sweep over the seeded backlog",
            f"{sweep['first']:.1f} s ({sweep['first_items']:,} items)",
            "< 10 s",
            sweep["first"] < 10,
        ),
        (f"case lists, worst p95 at {cases:,} cases", f"{worst_list:.0f} ms", "< 300 ms", worst_list < 300),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n== summary ({cases:,} cases) ==")
    for name, figure, target, met in rows:
        verdict = "" if met is None else "met" if met else "MISSED"
        print(f"{name:<{width}}  {figure:<44}  target {target:<22}  {verdict}")


if __name__ == "__main__":
    main()
