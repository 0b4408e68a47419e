"""Benchmark: every built-in early-warning model over 1 million cases and 200,000 inspections.

    .venv/bin/python bench/warning_models.py --cases 1000000 --inspections 200000 [--reuse]

Seeds the cases (bench/seed.py: two years of history) into a scratch database (BENCH_DATABASE,
default `ys110_bench_warnings`), adds what the rules look at (service windows named in window
cases, officials named, returns, extension requests) and enterprises, officers and inspections
over three years, all set-based on the server. Then times one evaluation of all built-in models
for the current period (target, issue 17: under 30 s and 1 GB), each model alone, a quarter
instead of a month, and the same month once the history has doubled: the cost must follow the
period examined, not the history. Every evaluation is rolled back, so each raises the same.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("BENCH_DATABASE", "ys110_bench_warnings")

from sqlalchemy import text  # noqa: E402

from bench.seed import add_arguments, case_count, seeded_app  # noqa: E402

EXTRAS = """
INSERT INTO service_window (name, hall, department_id, region, token, active)
SELECT g || '号窗口', '政务服务大厅', d.id, d.region, 'bench-window-' || g, true
FROM generate_series(1, 300) AS g
JOIN (SELECT row_number() OVER (ORDER BY id) AS k, id, region FROM department) AS d
  ON d.k = 1 + g % (SELECT count(*) FROM department);
UPDATE cases AS c SET window_id = w.id
FROM (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM service_window) AS w
WHERE c.channel = 'window' AND w.k = (c.id * 7) % (SELECT count(*) FROM service_window);
UPDATE cases SET concerned_department_id = lead_department_id,
                 concerned_official = '工作人员' || (id * 31 % 400)
WHERE case_type = 'complaint' AND id % 40 = 0 AND lead_department_id IS NOT NULL;
INSERT INTO case_event (case_id, action, from_status, to_status, at, actor_name, department_id)
SELECT c.id, 'return', 'handling', 'returned', c.created_at + make_interval(hours => 5 + n),
       '基准', c.lead_department_id
FROM cases AS c CROSS JOIN generate_series(1, 2) AS n
WHERE c.id % 150 = 0 AND c.lead_department_id IS NOT NULL AND (n = 1 OR c.id % 300 = 0);
INSERT INTO extension_request (case_id, assignment_id, days, reason, state, requested_at)
SELECT a.case_id, a.id, 5, '需补充材料', 'approved', a.dispatched_at + interval '3 days'
FROM assignment AS a WHERE a.id % 33 = 0
"""

INSPECTIONS = """
INSERT INTO inspection_item (kind, code, name, sort_order, active)
VALUES ('basis', 'BENCH-B1', '双随机抽查任务', 0, true) ON CONFLICT DO NOTHING;
INSERT INTO enterprise (name, credit_code, region, industry, jurisdiction_id, token, confirm_token,
                        no_disturb, active, created_at)
SELECT '基准企业' || g || '有限公司', '91' || lpad(g::text, 16, '0'), j.region, '制造业', j.id,
       'bench-e-' || g, 'bench-c-' || g, g % 20 = 0, true, now() - interval '4 years'
FROM generate_series(1, :enterprises) AS g
JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, region FROM jurisdiction) AS j
  ON j.k = g % (SELECT count(*) FROM jurisdiction);
INSERT INTO enforcement_officer (name, certificate_no, department_id, active)
SELECT '执法员' || d.id || '-' || n, 'ZF' || d.id || '-' || n, d.id, true
FROM department AS d CROSS JOIN generate_series(1, 10) AS n;
CREATE TEMP TABLE bench_officer AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, department_id FROM enforcement_officer;
CREATE TEMP TABLE bench_enterprise AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, jurisdiction_id FROM enterprise;
INSERT INTO inspection (number, enterprise_id, department_id, jurisdiction_id, basis_id, joint, state,
                        started_at, ended_at, result, confirmed_at, rating, created_at)
SELECT 'JB' || lpad(g::text, 14, '0'), e.id, o.department_id, e.jurisdiction_id,
       (SELECT id FROM inspection_item WHERE code = 'BENCH-B1'), g % 4 = 0,
       CASE WHEN g % 5 = 0 THEN 'finished' ELSE 'confirmed' END, t, t + interval '2 hours',
       'no_problem', CASE WHEN g % 5 <> 0 THEN t + interval '1 day' END,
       CASE WHEN g % 5 <> 0 THEN 'satisfied' END, t
FROM (
  SELECT g, (now() AT TIME ZONE 'utc') - make_interval(secs => 1095 * 86400 * random()) AS t,
         -- a power law over enterprises: a few are inspected often
         floor(:enterprises * power(random(), 2.5))::int AS ek, floor(random() * :officers)::int AS ok
  FROM generate_series(1, :n) AS g
) AS r
JOIN bench_enterprise AS e ON e.k = r.ek
JOIN bench_officer AS o ON o.k = r.ok
ORDER BY t;
INSERT INTO inspection_officer (inspection_id, officer_id)
SELECT i.id, o.id FROM inspection AS i
JOIN bench_officer AS o0 ON o0.department_id = i.department_id
JOIN bench_officer AS o ON o.k IN (o0.k, o0.k + 1) AND o.department_id = i.department_id
WHERE o0.k % 10 = i.id % 9 AND i.number LIKE 'JB%';
INSERT INTO inspection_unit (inspection_id, department_id)
SELECT i.id, (SELECT id FROM department ORDER BY id OFFSET (i.id * 13) % 50 LIMIT 1)
FROM inspection AS i WHERE i.joint AND i.number LIKE 'JB%'
ON CONFLICT DO NOTHING;
DROP TABLE bench_officer;
DROP TABLE bench_enterprise
"""


def _run(session, script: str, params: dict) -> None:
    for statement in script.split(";"):
        if statement.strip():
            step = time.perf_counter()
            rows = session.execute(text(statement), params).rowcount
            label = " ".join(statement.split()[:3])
            print(f"  {label[:40]:<40} {rows:>9,} rows {time.perf_counter() - step:6.1f} s", flush=True)


def seed_extras(session, inspections: int) -> None:
    started = time.perf_counter()
    _run(session, EXTRAS, {})
    params = {"n": inspections, "enterprises": max(1000, inspections // 4), "officers": 0}
    session.commit()
    params["officers"] = session.execute(text("SELECT count(*) FROM department")).scalar() * 10
    _run(session, INSPECTIONS, params)
    session.commit()
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    print(
        f"seeded the warning extras and {inspections:,} inspections in {time.perf_counter() - started:.1f} s"
    )


def _shift_copy(session, table: str, offsets: dict[str, str], days: int) -> int:
    """Copy every row of ``table`` ``days`` days back in time (ids moved by ``offsets``)."""
    columns = session.execute(
        text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = :t ORDER BY ordinal_position"
        ),
        {"t": table},
    ).all()
    picked = []
    for name, kind in columns:
        if name in offsets:
            picked.append(offsets[name])
        elif kind.startswith("timestamp"):
            picked.append(f"{name} - interval '{days} days'")
        else:
            picked.append(name)
    names = ", ".join(c for c, _ in columns)
    return session.execute(
        text(f"INSERT INTO {table} ({names}) SELECT {', '.join(picked)} FROM {table}")
    ).rowcount


def double_history(session) -> None:
    """Add a copy of the whole case history two years earlier (twice the cases, same month)."""
    started = time.perf_counter()
    off = session.execute(text("SELECT max(id) FROM cases")).scalar()
    aoff = session.execute(text("SELECT max(id) FROM assignment")).scalar()
    eoff = session.execute(text("SELECT max(id) FROM case_event")).scalar()
    xoff = session.execute(text("SELECT coalesce(max(id), 0) FROM extension_request")).scalar()
    n = _shift_copy(
        session,
        "cases",
        {
            "id": f"id + {off}",
            "number": "'H' || substr(number, 2)",
            "merged_into_id": "NULL",
            "inspection_id": "NULL",
        },
        730,
    )
    _shift_copy(session, "assignment", {"id": f"id + {aoff}", "case_id": f"case_id + {off}"}, 730)
    _shift_copy(session, "case_event", {"id": f"id + {eoff}", "case_id": f"case_id + {off}"}, 730)
    _shift_copy(
        session,
        "extension_request",
        {"id": f"id + {xoff}", "case_id": f"case_id + {off}", "assignment_id": f"assignment_id + {aoff}"},
        730,
    )
    for table in ("cases", "assignment", "case_event", "extension_request"):
        session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )
    session.commit()
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    print(
        f"doubled the history: {n:,} more cases, two years earlier, in {time.perf_counter() - started:.1f} s"
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_evaluation(session, now, label: str, period: str | None = None, per_model: bool = False) -> float:
    """Time one evaluation of every built-in model (rolled back), optionally with another period."""
    from app.services.early_warnings import evaluate
    from models import WarningModel

    if period:
        session.execute(text("UPDATE warning_model SET period = :p"), {"p": period})
    started = time.perf_counter()
    raised = evaluate(session, now=now)
    elapsed = time.perf_counter() - started
    print(
        f"{label:<52} {elapsed:7.2f} s  {len(raised):>6,} warnings  peak RSS {peak_rss_mb():6.0f} MB",
        flush=True,
    )
    session.rollback()
    if per_model:
        for model in session.query(WarningModel).order_by(WarningModel.id).all():
            step = time.perf_counter()
            n = len(evaluate(session, now=now, model_ids=[model.id]))
            print(f"    {model.code:<28} {time.perf_counter() - step:6.2f} s  {n:>6,} warnings")
            session.rollback()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--inspections", type=int, default=200_000)
    args = parser.parse_args()
    app, _url, _info = seeded_app(case_count(args), reuse=args.reuse)
    from app import clock
    from app.extensions import db
    from app.services.early_warnings import seed_models

    with app.app_context():
        session = db.session
        seed_models(session)
        session.commit()
        if not session.execute(text("SELECT count(*) FROM inspection")).scalar():
            seed_extras(session, args.inspections)
        counts = {
            t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("cases", "assignment", "case_event", "extension_request", "inspection", "enterprise")
        }
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        now = clock.utcnow()
        figures = {
            "all": time_evaluation(session, now, "all built-in models, their default periods", per_model=True)
        }
        figures["month"] = time_evaluation(session, now, "all models over the month", period="month")
        figures["quarter"] = time_evaluation(session, now, "all models over the quarter", period="quarter")
        double_history(session)
        figures["month_2x"] = time_evaluation(
            session, now, "all models over the month, history doubled", period="month"
        )
        figures["all_2x"] = time_evaluation(session, now, "all built-in models, history doubled")
        ok = figures["all"] < 30 and peak_rss_mb() < 1024
        print(
            f"target < 30 s and < 1 GB: {'met' if ok else 'NOT met'} "
            f"({figures['all']:.2f} s, {peak_rss_mb():.0f} MB)"
        )


if __name__ == "__main__":
    main()
