"""Benchmark: one deadline sweep over a database of 1 million cases (PostgreSQL).

    make bench-sweep            # or: .venv/bin/python bench/sweep.py --cases 1000000

Seeds the cases set-based (INSERT ... SELECT generate_series) into a scratch database
`ys110_bench`, then times sweeps with a small and a larger number of due items: the time must
follow the due items, not the million cases (indexed queries). Prints the figures and the plans.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = "ys110_bench"


def fresh_database() -> str:
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return f"{SERVER}/{DATABASE}"


SEED_CASES = """
INSERT INTO cases (number, status, case_type, urgency, channel, title, content, region,
                   created_at, clock_start_at, accepted_at, dispatched_at, replied_at, closed_at,
                   due_at, due_provisional, lead_department_id, rehandle_count, escalation_count,
                   is_difficult, rating, rating_source)
SELECT 'YB' || lpad(g::text, 12, '0'), 'closed',
       (ARRAY['consultation','help','complaint','report','suggestion'])[1 + g % 5],
       'normal', (ARRAY['web','phone_12345','window','letter'])[1 + g % 4],
       '历史工单 ' || g, '历史工单内容', '清源省/石门市/长河县',
       now() - make_interval(days => 30 + g % 700), now() - make_interval(days => 30 + g % 700),
       now() - make_interval(days => 29 + g % 700), now() - make_interval(days => 29 + g % 700),
       now() - make_interval(days => 20 + g % 700), now() - make_interval(days => 19 + g % 700),
       now() - make_interval(days => 18 + g % 700), false, :dept, 0, 0, false,
       'satisfied', 'revisit_call'
FROM generate_series(1, :n) AS g
"""

SEED_ASSIGNMENTS = """
INSERT INTO assignment (case_id, department_id, role, round, state, active, dispatched_at,
                        sign_due_at, signed_at, done_at, due_start_at, due_days, extension_days,
                        due_at, due_provisional)
SELECT id, :dept, 'lead', 1, 'done', true, dispatched_at, dispatched_at + interval '2 hours',
       dispatched_at, replied_at, created_at, 10, 0, due_at, false
FROM cases WHERE number LIKE 'YB%'
"""

MAKE_DUE = """
WITH picked AS (SELECT id FROM cases WHERE number LIKE 'YB%' AND status = 'closed'
                ORDER BY id DESC LIMIT :due)
UPDATE cases SET status = 'dispatched', closed_at = NULL, replied_at = NULL
WHERE id IN (SELECT id FROM picked)
"""

REOPEN_ASSIGNMENTS = """
UPDATE assignment SET state = 'dispatched', done_at = NULL, signed_at = NULL,
       sign_due_at = now() - interval '1 hour', due_at = now() - interval '1 day',
       sign_reminded_at = NULL, overdue_reminded_at = NULL, due_soon_notified_at = NULL,
       escalated_notice_at = NULL
WHERE case_id IN (SELECT id FROM cases WHERE status = 'dispatched' AND number LIKE 'YB%')
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()

    url = fresh_database()
    os.environ["DATABASE_URL"] = url
    from app import clock
    from app.cli import init_database
    from app.demo import load_org
    from app.extensions import db
    from app.factory import create_app
    from app.services.sweep import run_sweep

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENQUEUE_AFTER_COMMIT": False})
    with app.app_context():
        init_database()
        departments = load_org(db.session)
        db.session.commit()
        dept = departments["X102"].id
        started = time.perf_counter()
        db.session.execute(text(SEED_CASES), {"n": args.cases, "dept": dept})
        db.session.execute(text(SEED_ASSIGNMENTS), {"dept": dept})
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        seeded = time.perf_counter() - started
        print(f"seeded {args.cases:,} cases and assignments in {seeded:.1f} s")

        for due in args.due:
            db.session.execute(text(MAKE_DUE), {"due": due})
            db.session.execute(text(REOPEN_ASSIGNMENTS))
            db.session.commit()
            db.session.execute(text("ANALYZE cases; ANALYZE assignment"))
            started = time.perf_counter()
            done = run_sweep(db.session, clock.utcnow())
            db.session.commit()
            elapsed = time.perf_counter() - started
            print(f"sweep with {due:>5} due items over {args.cases:,} cases: {elapsed:.3f} s "
                  f"({done})")
            started = time.perf_counter()
            idle = run_sweep(db.session, clock.utcnow())
            db.session.commit()
            print(f"  the next sweep (nothing new due): {time.perf_counter() - started:.3f} s "
                  f"({sum(idle.values())} items)")

        plan = db.session.execute(text(
            "EXPLAIN SELECT * FROM assignment WHERE active AND state = 'dispatched' "
            "AND sign_due_at < now() AND sign_reminded_at IS NULL LIMIT 500")).scalars().all()
        print("plan of the 'unsigned' query:\n  " + "\n  ".join(plan))


if __name__ == "__main__":
    main()
