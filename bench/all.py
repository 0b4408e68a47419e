"""Every benchmark of issue 7 on one seeded database (PostgreSQL), in one command:

    make bench                  # 1 million cases; or: .venv/bin/python bench/all.py --5m

1. seeds the cases (bench/seed.py: realistic types, statuses, departments and dates);
2. filing throughput through the intake API under gunicorn, against a bare Flask INSERT;
3. the case lists of a handler and a supervisor (first, deep and filtered pages, p95, SQL count);
4. one deadline sweep with 10, 100 and 1000 newly overdue assignments;
5. the ranking query for a year, the monthly bulletin and the annual assessment report.

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
    filing_figures(url)
    print("\n== case lists ==")
    list_figures(app, info["handler_department"])
    print("\n== deadline sweep ==")
    sweep_figures(app, [10, 100, 1000])
    print("\n== ranking and reports ==")
    report_figures(app)
    print(f"\nall benchmarks in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
