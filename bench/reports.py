"""Benchmark: the monthly bulletin and the annual assessment report over 1 million cases and
100 departments (PostgreSQL), with time and peak memory of each.

    make bench-reports          # or: .venv/bin/python bench/reports.py --cases 1000000

Target (issue 6): the annual report under 60 s and 1 GB on these machines.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench.sweep import fresh_database  # noqa: E402

DEPARTMENTS = """
INSERT INTO department (name, code, level, parent_id, head, region, active)
SELECT '基准县直单位' || g, 'B' || lpad(g::text, 3, '0'), 'county', :parent, '负责人',
       '清源省/石门市/基准县', true
FROM generate_series(1, :n) AS g
"""

CASES = """
INSERT INTO cases (number, status, case_type, urgency, channel, title, content, region, created_at,
                   clock_start_at, accepted_at, dispatched_at, replied_at, closed_at, due_at,
                   due_provisional, lead_department_id, category_id, rehandle_count, escalation_count,
                   is_difficult, rating, rating_source)
SELECT 'YB' || lpad(g::text, 12, '0'), 'closed',
       (ARRAY['consultation','help','complaint','report','suggestion'])[1 + g % 5], 'normal',
       (ARRAY['web','phone_12345','window','letter'])[1 + g % 4], '基准工单', '基准工单内容',
       '清源省/石门市/基准县', t, t, t + interval '2 hours', t + interval '3 hours',
       t + make_interval(days => 1 + g % 14), t + make_interval(days => 2 + g % 14),
       t + interval '12 days', false, (SELECT min(id) FROM department WHERE code LIKE 'B%') + g % :depts,
       (SELECT min(id) FROM category WHERE parent_id IS NOT NULL) + g % 15, 0, 0, false,
       (ARRAY['satisfied','satisfied','basically_satisfied','unsatisfied'])[1 + g % 4], 'revisit_call'
FROM (SELECT g, timestamp '2025-01-01' + make_interval(mins => (g::bigint * 525600 / :n)::int) AS t
      FROM generate_series(1, :n) AS g) AS s
"""

ASSIGNMENTS = """
INSERT INTO assignment (case_id, department_id, role, round, state, active, dispatched_at,
                        sign_due_at, signed_at, done_at, due_start_at, due_days, extension_days,
                        due_at, due_provisional)
SELECT id, lead_department_id, 'lead', 1, 'done', true, dispatched_at,
       dispatched_at + interval '2 hours', dispatched_at + make_interval(mins => (id % 180)::int),
       replied_at, created_at, 10, 0, due_at, false
FROM cases WHERE number LIKE 'YB%'
"""

EVENTS = """
INSERT INTO case_event (case_id, action, from_status, to_status, at, actor_name, department_id, data)
SELECT id, 'evaluate', 'replied', 'evaluated', replied_at + interval '1 day', '基准', NULL,
       json_build_object('rating', rating, 'source', 'revisit_call')
FROM cases WHERE number LIKE 'YB%'
"""


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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--departments", type=int, default=100)
    args = parser.parse_args()

    url = fresh_database()
    os.environ["DATABASE_URL"] = url
    from app.cli import init_database
    from app.demo import load_org
    from app.extensions import db
    from app.factory import create_app
    from app.services import assessment as kpi
    from models import GeneratedReport
    from reports import builders

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENQUEUE_AFTER_COMMIT": False})
    with app.app_context():
        init_database()
        parent = load_org(db.session)["C10"].id
        db.session.commit()
        started = time.perf_counter()
        db.session.execute(text(DEPARTMENTS), {"n": args.departments, "parent": parent})
        for statement in (CASES, ASSIGNMENTS, EVENTS):
            db.session.execute(text(statement), {"n": args.cases, "depts": args.departments})
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"seeded {args.cases:,} cases over {args.departments} departments in "
              f"{time.perf_counter() - started:.1f} s")

        for kind, period in (("bulletin", kpi.Period.month(2025, 10)),
                             ("assessment", kpi.Period.year(2025))):
            report = GeneratedReport(kind=kind, period_label=period.label, period_start=period.start,
                                     period_end=period.end, requested_at=period.end,
                                     requested_by_name="bench")
            files = measure(f"{kind} {period.label}", lambda r=report: builders.build_files(
                db.session, r))
            pdf = files["pdf"]
            import subprocess
            import tempfile

            with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
                handle.write(pdf)
                handle.flush()
                info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True)
            pages = next((line.split()[-1] for line in info.stdout.splitlines()
                          if line.startswith("Pages:")), "?")
            print(f"  {pages} pages, {len(pdf) / 1024:.0f} KB PDF" + (
                f", CSV {len(files['csv']) / 1024:.0f} KB" if "csv" in files else ""))


if __name__ == "__main__":
    main()
