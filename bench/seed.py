"""Seed a benchmark database with realistic cases, set-based (INSERT ... SELECT on PostgreSQL).

    .venv/bin/python bench/seed.py --cases 1000000      # or --5m for 5 million

Used by every benchmark in bench/. The distributions follow what a provincial platform sees:

* volume grows over two years (density rises linearly towards today); a weekend day receives a
  third of a weekday's cases;
* departments are skewed: the demo handler's department (X102) is the busiest of 100, the rest
  follow a power law (a few county bureaus receive most complaints);
* jurisdictions (issue 15): the demo's province, 2 cities and 3 counties, plus 10 cities and 97
  counties (12 cities, 100 counties in all, 113 offices): the benchmark departments belong to
  the province (2), a city (one each) or a county (one each, the rest); a case belongs to its
  lead department's jurisdiction, and one not dispatched yet to any jurisdiction at random
  (every office has cases waiting for it);
* types: 45 % complaints, 20 % consultations, 15 % help requests, 12 % reports, 8 % suggestions;
  channels: half by the 12345 hotline, then web, window, QR code, letter, API; 5 % urgent;
* status follows age: today's cases wait for acceptance or dispatch, the last three weeks are
  being handled or answered, older ones are closed (about 1 % stuck open and overdue, 3 % declined);
* ratings: 80 % satisfied, 13 % basically satisfied, 7 % unsatisfied; every tenth case has a
  co-handling department; each case has a filing event and, once rated, an evaluation event.

The random generator is seeded, so two runs build the same data.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

# Benchmarks run the platform with the demo's published keys (app/keys.py); they hold no real data.
os.environ.setdefault("YS_DEMO", "1")
SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_DATABASE", "ys110_bench")  # another name: a second seeded copy
HANDLER_DEPARTMENT = "X102"  # the demo user "handler" works here


def fresh_database() -> str:
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return f"{SERVER}/{DATABASE}"


DEPARTMENTS = """
INSERT INTO department (name, code, level, parent_id, head, region, active)
SELECT '基准县直单位' || g, 'B' || lpad(g::text, 3, '0'), 'county', :parent, '负责人',
       '清源省/石门市/基准县', true
FROM generate_series(1, :n) AS g
"""

# The benchmark's cities and counties under the demo province (each county under a city, round
# robin over all twelve), their paths, and the departments placed in them.
JURISDICTIONS = """
INSERT INTO jurisdiction (code, name, level, parent_id, region, path, office_name, issuing_authority,
                          doc_prefix, active)
SELECT 'BC' || lpad(g::text, 2, '0'), '基准市' || g, 'city', :root, '清源省/基准市' || g, '',
       '基准市' || g || '营商环境建设局', '基准市' || g || '营商环境建设局', '基市' || g || '营商督', true
FROM generate_series(1, :cities) AS g;
UPDATE jurisdiction SET path = '/' || parent_id || '/' || id || '/' WHERE code LIKE 'BC%';
CREATE TEMP TABLE bench_city AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, region FROM jurisdiction WHERE level = 'city';
INSERT INTO jurisdiction (code, name, level, parent_id, region, path, office_name, issuing_authority,
                          doc_prefix, active)
SELECT 'BX' || lpad(g::text, 3, '0'), '基准县' || g, 'county', c.id, c.region || '/基准县' || g, '',
       '基准县' || g || '营商环境建设局', '基准县' || g || '营商环境建设局', '基县' || g || '营商督', true
FROM generate_series(1, :counties) AS g
JOIN bench_city AS c ON c.k = g % (SELECT count(*) FROM bench_city);
UPDATE jurisdiction AS j SET path = c.path || j.id || '/'
FROM jurisdiction AS c WHERE j.parent_id = c.id AND j.code LIKE 'BX%';
DROP TABLE bench_city;
CREATE TEMP TABLE bench_place AS
SELECT row_number() OVER (ORDER BY CASE level WHEN 'province' THEN 0 WHEN 'city' THEN 1 ELSE 2 END, id) - 1
       AS k, id, level, region
FROM jurisdiction;
UPDATE department AS d SET jurisdiction_id = p.id, region = p.region
FROM (SELECT row_number() OVER (ORDER BY id) AS g, id FROM department WHERE code LIKE 'B%') AS b,
     (SELECT k, id, region, level FROM bench_place) AS p
WHERE d.id = b.id AND p.k = CASE WHEN b.g <= 2 THEN 0 ELSE b.g - 2 END
"""

# Two handlers (inbox and e-mail) in each benchmark department, as the demo departments have.
HANDLERS = """
INSERT INTO ab_user (first_name, last_name, username, password, active, email, department_id,
                     jurisdiction_id, created_on, changed_on, login_count, fail_login_count)
SELECT '经办' || n, d.code, 'bench_' || d.code || '_' || n, NULL, true,
       'bench_' || d.code || '_' || n || '@bench.yingshang110.cn', d.id, d.jurisdiction_id, now(), now(),
       0, 0
FROM department AS d CROSS JOIN generate_series(1, 2) AS n WHERE d.code LIKE 'B%';
INSERT INTO ab_user_role (user_id, role_id)
SELECT u.id, r.id FROM ab_user AS u, ab_role AS r
WHERE u.username LIKE 'bench\\_%' AND r.name = 'Handler'
"""

# The departments in rank order: the handler's first (busiest), then the benchmark ones.
RANKED_DEPARTMENTS = """
CREATE TEMP TABLE bench_dept AS
SELECT row_number() OVER (ORDER BY d.code <> :handler, d.code) - 1 AS rank, d.id, d.jurisdiction_id,
       j.region
FROM department AS d JOIN jurisdiction AS j ON j.id = d.jurisdiction_id
WHERE d.code = :handler OR d.code LIKE 'B%'
"""

# One row of random draws per case; the outer query turns them into columns. Volatile random()
# in a subquery's select list keeps PostgreSQL from flattening it, so each row draws anew.
CASES = """
INSERT INTO cases (number, status, case_type, urgency, channel, title, content, region,
                   jurisdiction_id, created_at, clock_start_at, accept_due_at, accepted_at,
                   dispatched_at, first_dispatched_at, replied_at, closed_at, due_at, due_provisional,
                   lead_department_id, category_id, decline_reason, rehandle_count,
                   escalation_count, is_difficult, rating, rating_source)
SELECT 'YB' || to_char(t, 'YYYYMMDD') || lpad(g::text, 8, '0'), status, case_type, urgency,
       channel, category_name || '问题反映（基准' || g || '）',
       '企业反映在办理' || category_name || '相关事项时遇到的问题，请核实处理。',
       CASE WHEN status IN ('submitted', 'declined', 'accepted') THEN place_region ELSE dept_region END,
       CASE WHEN status IN ('submitted', 'declined', 'accepted') THEN place ELSE dept_place END,
       t, t, t + interval '1 day',
       CASE WHEN status NOT IN ('submitted', 'declined') THEN t + interval '2 hours' END,
       CASE WHEN status NOT IN ('submitted', 'declined', 'accepted') THEN t + interval '4 hours' END,
       CASE WHEN status NOT IN ('submitted', 'declined', 'accepted') THEN t + interval '4 hours' END,
       CASE WHEN status IN ('replied', 'unsatisfied', 'evaluated', 'closed') THEN replied END,
       CASE WHEN status = 'closed' THEN replied + interval '3 days'
            WHEN status = 'declined' THEN t + interval '20 hours' END,
       CASE WHEN status NOT IN ('submitted', 'declined') THEN t + interval '14 days' END,
       false,
       CASE WHEN status NOT IN ('submitted', 'declined', 'accepted') THEN dept END,
       category_id,
       CASE WHEN status = 'declined' THEN 'out_of_scope' END,
       CASE WHEN status IN ('unsatisfied') THEN 1 ELSE 0 END, 0, false,
       CASE WHEN status IN ('evaluated', 'closed') THEN rating
            WHEN status = 'unsatisfied' THEN 'unsatisfied' END,
       CASE WHEN status IN ('evaluated', 'closed', 'unsatisfied')
            THEN CASE WHEN r_source < 0.4 THEN 'reporter' ELSE 'revisit_call' END END
FROM (
  SELECT g, t, replied, dept, dept_place, dept_region, place, place_region, category_id, category_name,
         CASE WHEN r_type < 0.45 THEN 'complaint' WHEN r_type < 0.65 THEN 'consultation'
              WHEN r_type < 0.80 THEN 'help' WHEN r_type < 0.92 THEN 'report'
              ELSE 'suggestion' END AS case_type,
         CASE WHEN r_channel < 0.50 THEN 'phone_12345' WHEN r_channel < 0.80 THEN 'web'
              WHEN r_channel < 0.90 THEN 'window' WHEN r_channel < 0.95 THEN 'qr'
              WHEN r_channel < 0.98 THEN 'letter' ELSE 'api' END AS channel,
         CASE WHEN r_urgency < 0.95 THEN 'normal' WHEN r_urgency < 0.97 THEN 'immediate'
              WHEN r_urgency < 0.99 THEN 'three_day' ELSE 'seven_day' END AS urgency,
         CASE WHEN r_rating < 0.80 THEN 'satisfied' WHEN r_rating < 0.93 THEN 'basically_satisfied'
              ELSE 'unsatisfied' END AS rating,
         r_source,
         CASE WHEN age < 1 THEN
                CASE WHEN r_status < 0.40 THEN 'submitted' WHEN r_status < 0.60 THEN 'accepted'
                     WHEN r_status < 0.85 THEN 'dispatched' ELSE 'handling' END
              WHEN age < 21 THEN
                CASE WHEN r_status < 0.05 THEN 'dispatched' WHEN r_status < 0.40 THEN 'handling'
                     WHEN r_status < 0.55 THEN 'replied' WHEN r_status < 0.65 THEN 'evaluated'
                     WHEN r_status < 0.67 THEN 'unsatisfied' WHEN r_status < 0.68 THEN 'returned'
                     WHEN r_status < 0.70 THEN 'declined' ELSE 'closed' END
              ELSE
                CASE WHEN r_status < 0.03 THEN 'declined' WHEN r_status < 0.04 THEN 'handling'
                     WHEN r_status < 0.045 THEN 'unsatisfied' WHEN r_status < 0.05 THEN 'evaluated'
                     ELSE 'closed' END
         END AS status
  FROM (
    SELECT g, r_type, r_channel, r_urgency, r_rating, r_source, r_status, age, t,
           t + make_interval(hours => 6 + (r_reply * 13 * 24)::int) AS replied,
           d.id AS dept, d.jurisdiction_id AS dept_place, d.region AS dept_region,
           p.id AS place, p.region AS place_region, c.id AS category_id, c.name AS category_name
    FROM (
      SELECT g, random() AS r_type, random() AS r_channel, random() AS r_urgency,
             random() AS r_rating, random() AS r_source, random() AS r_status,
             random() AS r_dept, random() AS r_reply, 1 + floor(random() * :categories) AS r_cat,
             floor(random() * :places) AS r_place,
             age,
             -- weekends receive a third of a weekday's cases: two thirds of the weekend's
             -- draws move to a random weekday of the same week
             CASE WHEN extract(isodow FROM now0 - make_interval(secs => age * 86400)) >= 6
                       AND random() < 0.67
                  THEN date_trunc('week', now0 - make_interval(secs => age * 86400))
                       + make_interval(days => floor(random() * 5)::int,
                                       hours => 1 + floor(random() * 9)::int)
                  ELSE now0 - make_interval(secs => age * 86400) END AS t
      FROM (SELECT g, 730 * (1 - sqrt(random())) AS age,
                   (now() AT TIME ZONE 'utc') AS now0
            FROM generate_series(1, :n) AS g) AS drawn
    ) AS r
    JOIN (SELECT row_number() OVER (ORDER BY id) AS k, id, name FROM category
          WHERE parent_id IS NOT NULL) AS c ON c.k = r.r_cat
    JOIN bench_dept AS d ON d.rank = least(floor(:depts * power(r.r_dept, 1.8)), :depts - 1)
    JOIN bench_place AS p ON p.k = r.r_place
  ) AS s
) AS cases_to_be
ORDER BY t  -- ids follow filing time, as they do in production
"""

LEAD_ASSIGNMENTS = """
INSERT INTO assignment (case_id, department_id, role, round, state, active, dispatched_at,
                        sign_due_at, signed_at, done_at, due_start_at, due_days, extension_days,
                        due_at, due_provisional)
SELECT id, lead_department_id, 'lead', 1,
       CASE status WHEN 'dispatched' THEN 'dispatched' WHEN 'handling' THEN 'signed'
                   WHEN 'returned' THEN 'returned' ELSE 'done' END,
       status <> 'returned', dispatched_at, dispatched_at + interval '2 hours',
       CASE WHEN status NOT IN ('dispatched', 'returned')
            THEN dispatched_at + make_interval(mins => (id % 180)::int) END,
       replied_at, created_at, 10, 0, due_at, false
FROM cases WHERE lead_department_id IS NOT NULL
"""

# Every tenth dispatched case is co-handled by the next department in rank order.
CO_ASSIGNMENTS = """
INSERT INTO assignment (case_id, department_id, role, round, state, active, dispatched_at,
                        sign_due_at, signed_at, done_at, due_start_at, due_days, extension_days,
                        due_at, due_provisional)
SELECT a.case_id, (SELECT id FROM bench_dept WHERE rank = (d.rank + 1) % :depts), 'co', 1,
       a.state, a.active, a.dispatched_at, a.sign_due_at, a.signed_at, a.done_at, a.due_start_at,
       a.due_days, 0, a.due_at, false
FROM assignment AS a JOIN bench_dept AS d ON d.id = a.department_id
WHERE a.role = 'lead' AND a.case_id % 10 = 0
"""

EVENTS = """
INSERT INTO case_event (case_id, action, from_status, to_status, at, actor_name, department_id,
                        public_text)
SELECT id, 'submit', NULL, 'submitted', created_at, '基准', NULL, '已收到'
FROM cases;
INSERT INTO case_event (case_id, action, from_status, to_status, at, actor_name, department_id,
                        data)
SELECT id, 'evaluate', 'replied', CASE WHEN rating = 'unsatisfied' THEN 'unsatisfied'
                                       ELSE 'evaluated' END,
       replied_at + interval '1 day', '基准', NULL,
       json_build_object('rating', rating, 'source', rating_source)
FROM cases WHERE rating IS NOT NULL
"""


def seed(session, cases: int, departments: int = 100, cities: int = 10, counties: int = 97) -> dict:
    """Fill an initialised database (migrations, demo org and users) with ``cases`` cases."""
    from app import clock
    from app.demo import load_org
    from app.services import assessment, case_figures, jurisdictions

    org = load_org(session)
    session.commit()
    started = time.perf_counter()
    session.execute(text("SELECT setseed(0.42)"))
    session.execute(text(DEPARTMENTS), {"n": departments - 1, "parent": org["C10"].id})
    root = jurisdictions.root_id(session)
    for statement in JURISDICTIONS.split(";"):
        session.execute(text(statement), {"root": root, "cities": cities, "counties": counties})
    session.execute(text(RANKED_DEPARTMENTS), {"handler": HANDLER_DEPARTMENT})
    for statement in HANDLERS.split(";"):
        session.execute(text(statement))
    categories = session.execute(text("SELECT count(*) FROM category WHERE parent_id IS NOT NULL")).scalar()
    places = session.execute(text("SELECT count(*) FROM bench_place")).scalar()
    params = {"n": cases, "depts": departments, "categories": categories, "places": places}
    # Bulk load: drop the secondary indexes, insert, build them again (several times faster
    # than maintaining ten indexes row by row).
    indexes = session.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('cases', 'assignment', 'case_event') AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)"
        )
    ).all()
    for name, _ in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))
    session.execute(text("SET maintenance_work_mem = '512MB'"))
    for statement in (CASES, LEAD_ASSIGNMENTS, CO_ASSIGNMENTS, *EVENTS.split(";")):
        step = time.perf_counter()
        rows = session.execute(text(statement), params).rowcount
        print(f"  {statement.split()[2]:<11} {rows:>9,} rows {time.perf_counter() - step:6.1f} s", flush=True)
    step = time.perf_counter()
    for _, definition in indexes:
        session.execute(text(definition))
    print(f"  {len(indexes)} indexes built again in {time.perf_counter() - step:.1f} s")
    session.execute(text("DROP TABLE bench_dept"))
    session.execute(text("DROP TABLE bench_place"))
    session.commit()
    # As autovacuum would after a bulk load: statistics, and the visibility map that lets
    # PostgreSQL answer from an index alone.
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    elapsed = time.perf_counter() - started
    step = time.perf_counter()
    months = assessment.build_rollup(session, now=clock.utcnow())  # the seed wrote through SQL
    session.commit()
    print(f"  KPI rollup: {months} months built in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    months = case_figures.build(session, now=clock.utcnow())
    session.commit()
    print(f"  case figures: {months} months built in {time.perf_counter() - step:.1f} s")
    counts = dict(
        session.execute(text("SELECT status, count(*) FROM cases GROUP BY status ORDER BY 2 DESC")).all()
    )
    offices = session.execute(text("SELECT count(DISTINCT jurisdiction_id) FROM cases")).scalar()
    return {
        "seconds": elapsed,
        "statuses": counts,
        "offices": offices,
        "handler_department": org[HANDLER_DEPARTMENT].id,
    }


def add_arguments(parser: argparse.ArgumentParser, default: int = 1_000_000) -> None:
    parser.add_argument("--cases", type=int, default=default, help="cases to seed")
    parser.add_argument(
        "--5m", dest="five_million", action="store_true", help="seed 5 million cases (overrides --cases)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the benchmark database if it already holds that many cases"
    )


def case_count(args) -> int:
    return 5_000_000 if args.five_million else args.cases


def seeded_count() -> int | None:
    """How many cases the existing benchmark database holds (None if there is none, or if it
    was seeded before the jurisdictions: its cases would all be the province's)."""
    engine = create_engine(f"{SERVER}/{DATABASE}")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM jurisdiction WHERE code LIKE 'BX%'")).scalar() == 0:
                return None
            return conn.execute(text("SELECT count(*) FROM cases")).scalar()
    except Exception:  # noqa: BLE001 - no database or no schema yet
        return None
    finally:
        engine.dispose()


def seeded_app(cases: int, departments: int = 100, reuse: bool = False):
    """A benchmark database with ``cases`` cases, and the app bound to it. With ``reuse``, an
    existing database of that size is kept (seeding a million cases takes about a minute)."""
    from app.cli import init_database
    from app.extensions import db
    from app.factory import create_app

    url = f"{SERVER}/{DATABASE}"
    seeded = seeded_count() if reuse else None
    # (a benchmark that files through the API adds a few hundred cases: still the same database)
    if seeded is not None and cases <= seeded < cases + 50_000:
        os.environ["DATABASE_URL"] = url
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENQUEUE_AFTER_COMMIT": False})
        with app.app_context():
            from app.demo import load_org

            init_database()  # brings the schema up to date (new indexes)
            dept = load_org(db.session)[HANDLER_DEPARTMENT].id
        print(f"reusing the seeded database ({cases:,} cases)")
        return app, url, {"handler_department": dept}
    url = fresh_database()
    os.environ["DATABASE_URL"] = url
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ENQUEUE_AFTER_COMMIT": False})
    with app.app_context():
        init_database()
        info = seed(db.session, cases, departments)
    total = sum(info["statuses"].values())
    print(
        f"seeded {total:,} cases over {departments} departments and {info['offices']} offices "
        f"in {info['seconds']:.1f} s"
    )
    print("  by status: " + ", ".join(f"{k} {v:,}" for k, v in info["statuses"].items()))
    return app, url, info


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    seeded_app(case_count(parser.parse_args()))


if __name__ == "__main__":
    main()
