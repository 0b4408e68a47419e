"""Benchmark: one deadline sweep over a database of 1 million cases (PostgreSQL).

    make bench-sweep        # or: .venv/bin/python bench/sweep.py --cases 1000000 [--5m] [--reuse]

Seeds the cases (bench/seed.py) into a scratch database `ys110_bench`, then times sweeps with
10, 100 and 1000 newly overdue assignments (each raises an overdue notice and tells the
department's handlers twice, the notice and the overdue message, in the inbox and by e-mail):
the time must follow the due items, not the million cases. Target (issue 7): one sweep under
1 s. Prints the figures and the plan of one due-item query.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench.seed import add_arguments, case_count, seeded_app  # noqa: E402

MAKE_DUE = """
WITH picked AS (SELECT id FROM cases WHERE status = 'closed' ORDER BY id DESC LIMIT :due)
UPDATE cases SET status = 'handling', closed_at = NULL, replied_at = NULL, rating = NULL,
                 rating_source = NULL
WHERE id IN (SELECT id FROM picked)
RETURNING id
"""

REOPEN_ASSIGNMENTS = """
UPDATE assignment SET state = 'signed', done_at = NULL,
       signed_at = sign_due_at - interval '1 hour', due_at = now() - interval '1 day',
       sign_reminded_at = NULL, overdue_reminded_at = NULL, due_soon_notified_at = NULL,
       escalated_notice_at = NULL
WHERE active AND case_id = ANY(:ids)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--due", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    app, _url, _info = seeded_app(case_count(args), reuse=args.reuse)
    sweep_figures(app, args.due)


def sweep_figures(app, due_counts) -> dict:
    from app import clock
    from app.extensions import db
    from app.services.sweep import run_sweep

    figures = {}
    with app.app_context():
        # The seeded history leaves some cases open past their deadline (about 1 % of the old
        # ones): the first sweep catches up on all of them at once.
        started = time.perf_counter()
        done = run_sweep(db.session, clock.utcnow())
        db.session.commit()
        figures["first"], figures["first_items"] = time.perf_counter() - started, sum(done.values())
        print(
            f"first sweep (catching up on the seeded backlog): "
            f"{time.perf_counter() - started:.2f} s ({sum(done.values()):,} items: {done})"
        )
        for due in due_counts:
            ids = db.session.execute(text(MAKE_DUE), {"due": due}).scalars().all()
            db.session.execute(text(REOPEN_ASSIGNMENTS), {"ids": ids})
            db.session.commit()
            db.session.execute(text("ANALYZE cases; ANALYZE assignment"))
            started = time.perf_counter()
            done = run_sweep(db.session, clock.utcnow())
            db.session.commit()
            elapsed = time.perf_counter() - started
            figures[due] = elapsed
            print(
                f"sweep with {due:>5} newly overdue assignments: {elapsed:.3f} s "
                f"({sum(done.values()):,} items: {done})"
            )
            started = time.perf_counter()
            idle = run_sweep(db.session, clock.utcnow())
            db.session.commit()
            print(
                f"  the next sweep (nothing new due): {time.perf_counter() - started:.3f} s "
                f"({sum(idle.values())} items)"
            )

        plan = (
            db.session.execute(
                text(
                    "EXPLAIN SELECT * FROM assignment WHERE active = true AND state = 'dispatched' "
                    "AND sign_due_at < now() AND sign_reminded_at IS NULL ORDER BY id LIMIT 500"
                )
            )
            .scalars()
            .all()
        )
        print("plan of the 'unsigned' query:\n  " + "\n  ".join(plan))
    return figures


if __name__ == "__main__":
    main()
