"""Benchmark: the ranking query for a year, the monthly bulletin and the annual assessment report
over 1 million cases and 100 departments (PostgreSQL, bench/seed.py), with time and peak memory.

    make bench-reports          # or: .venv/bin/python bench/reports.py --cases 1000000 [--5m]

Target (issue 6): the annual report under 60 s and 1 GB on these machines.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.seed import add_arguments, case_count, seeded_app  # noqa: E402


def measure(label: str, work):
    tracemalloc.start()
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {elapsed:.1f} s, Python peak {peak / 2**20:.0f} MB, process max RSS {rss:.0f} MB")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    args = parser.parse_args()
    app, _url, _info = seeded_app(case_count(args), reuse=args.reuse)
    report_figures(app)


def report_figures(app) -> None:
    """The ranking query for a year, the monthly bulletin and the annual assessment report."""
    from app.extensions import db
    from app.services import assessment as kpi
    from models import GeneratedReport
    from reports import builders

    year = kpi.Period.year(2025)  # the seeded history covers the last two years
    with app.app_context():
        weights = kpi.weights_from_settings(db.session)
        for attempt in ("cold", "warm"):
            ranked = measure(
                f"ranking query for {year.label} ({attempt})",
                lambda: kpi.rank(kpi.department_kpis(db.session, year), weights),
            )
        print(f"  {len(ranked)} departments ranked, {sum(r.kpi.handled for r in ranked):,} lead rounds")
        for kind, period in (("bulletin", kpi.Period.month(2026, 10)), ("assessment", year)):
            report = GeneratedReport(
                kind=kind,
                period_label=period.label,
                period_start=period.start,
                period_end=period.end,
                requested_at=period.end,
                requested_by_name="bench",
            )
            files = measure(f"{kind} {period.label}", lambda r=report: builders.build_files(db.session, r))
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


if __name__ == "__main__":
    main()
