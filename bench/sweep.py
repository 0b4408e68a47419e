"""Benchmark: one deadline sweep over a database of 1 million cases (PostgreSQL).

    make bench-sweep        # or: .venv/bin/python bench/sweep.py --cases 1000000 [--5m] [--reuse]

Seeds the cases (bench/seed.py) into a scratch database `ys110_bench`, then times sweeps with
10, 100 and 1000 newly overdue assignments (each raises an overdue notice and tells the
department's handlers once in the inbox, the overdue message naming the notice, and once by
e-mail in a digest per department): the time must follow the due items, not the million cases.
Targets (issue 18): 1000 newly overdue under 0.5 s, the first sweep over the seeded backlog
under 10 s. Each figure is the wall time, then the CPU time of this process and of its
database backend (the machine is shared: the CPU times vary less than the wall time). Prints
the figures and the plan of one due-item query.
"""

from __future__ import annotations

import argparse
import os
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


def _backend_cpu(session):
    """A function giving the CPU seconds used so far by this session's database backend (None
    when the server is not on this machine)."""
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar()

    def used() -> float | None:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return used


class _Timer:
    """Wall time, this process's CPU time and the database backend's CPU time of a block."""

    def __init__(self, backend_cpu) -> None:
        self.backend_cpu = backend_cpu

    def __enter__(self):
        self.wall, self.cpu, self.db = time.perf_counter(), time.process_time(), self.backend_cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        after = self.backend_cpu()
        self.db = after - self.db if after is not None and self.db is not None else float("nan")

    def __str__(self) -> str:
        return f"{self.wall:.3f} s (CPU {self.cpu:.3f} s here, {self.db:.3f} s in the database)"


def sweep_figures(app, due_counts) -> dict:
    from app import clock
    from app.extensions import db
    from app.services.sweep import run_sweep

    figures = {}
    with app.app_context():
        backend_cpu = _backend_cpu(db.session)
        # The seeded history leaves some cases open past their deadline (about 1 % of the old
        # ones): the first sweep catches up on all of them at once.
        with _Timer(backend_cpu) as timer:
            done = run_sweep(db.session, clock.utcnow())
            db.session.commit()
        figures["first"], figures["first_items"] = timer.wall, sum(done.values())
        print(
            f"first sweep (catching up on the seeded backlog): {timer} ({sum(done.values()):,} items: {done})"
        )
        for due in due_counts:
            ids = db.session.execute(text(MAKE_DUE), {"due": due}).scalars().all()
            db.session.execute(text(REOPEN_ASSIGNMENTS), {"ids": ids})
            db.session.commit()
            db.session.execute(text("ANALYZE cases; ANALYZE assignment"))
            with _Timer(backend_cpu) as timer:
                done = run_sweep(db.session, clock.utcnow())
                db.session.commit()
            figures[due] = timer.wall
            items = f"{sum(done.values()):,} items: {done}"
            print(f"sweep with {due:>5} newly overdue assignments: {timer} ({items})")
            with _Timer(backend_cpu) as timer:
                idle = run_sweep(db.session, clock.utcnow())
                db.session.commit()
            print(f"  the next sweep (nothing new due): {timer} ({sum(idle.values())} items)")

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
