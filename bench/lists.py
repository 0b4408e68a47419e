"""Benchmark: the case list screens at 1 million cases (PostgreSQL), for a handler, the province's
supervisor and, since the jurisdictions (issue 15), a county's and a city's supervisor.

    make bench-lists            # or: .venv/bin/python bench/lists.py --cases 1000000 [--5m] [--reuse]

For each page (first page, a deep page, filtered by status and by department) prints p50/p95 over
repeated requests through the real Flask-AppBuilder views, the number of SQL statements per
request (the same for every row count: no N+1) and whether any statement counted the whole
table. Target (issue 7): p95 under 300 ms.

The cases are spread over 113 offices (bench/seed.py): the county (长河县, ch_supervisor) sees its
own, the city (石门市, sm_supervisor) its own and its counties', the province (supervisor) all —
each list through the one scope clause (``jurisdictions.scope_clause``).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.seed import add_arguments, case_count, seeded_app  # noqa: E402

TARGET_P95_MS = 300
# The figures before the jurisdictions (issue 7's closing note, 1 million cases): the handler's
# and the province supervisor's pages, worst p95 114 ms (the supervision queue).
BEFORE_WORST_P95_MS = 114
DISPATCHERS = ("dispatcher", "sm_dispatcher", "ch_dispatcher")


def filter_index(view_class, column: str, filter_name: str) -> int:
    """The position of a FAB filter in the search form (the N of ``_flt_N_column``)."""
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    filters = SQLAInterface(view_class.datamodel.obj).get_filters([column])._search_filters[column]
    return next(i for i, f in enumerate(filters) if type(f).__name__ == filter_name)


class StatementCounter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.engine = engine
        self.statements: list[str] = []
        self.parameters: list = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)
        self.parameters.append(parameters)

    def clear(self) -> None:
        self.statements.clear()
        self.parameters.clear()

    def explain(self) -> list[str]:
        """EXPLAIN (ANALYZE, BUFFERS) of each recorded statement that reads the cases table,
        run again with its parameters (a read: the list pages write nothing)."""
        recorded = [
            (s, p)
            for s, p in zip(self.statements, self.parameters, strict=True)
            if re.search(r"\bcases\b", s)
        ]
        plans = []
        with self.engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()
            for statement, parameters in recorded:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or None)
                plans.append(statement + "\n" + "\n".join(row[0] for row in cursor.fetchall()))
            conn.rollback()
        return plans

    def full_counts(self) -> list[str]:
        """Statements that count the cases table without a bound (a full COUNT on each request)."""
        return [
            s
            for s in self.statements
            if re.search(r"count\(", s, re.I)
            and re.search(r"\bcases\b", s)
            and not re.search(r"\bLIMIT\b", s, re.I)
        ]


def measure(client, counter, url: str, repeat: int):
    times, statements, full = [], 0, []
    response = client.get(url)  # warm the caches once, as a user's second request would
    assert response.status_code == 200, (url, response.status_code)
    for _ in range(repeat):
        counter.clear()
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        statements = len(counter.statements)
        full = counter.full_counts()
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return statistics.median(times), p95, statements, full, response.get_data(as_text=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN (ANALYZE, BUFFERS) of the statements on the cases of each queue page "
        "(the department's handling cases, supervision, overdue) and of any page over the target",
    )
    args = parser.parse_args()
    app, _url, info = seeded_app(case_count(args), reuse=args.reuse)
    list_figures(app, info["handler_department"], args.repeat, explain=args.explain)


# The pages that missed the target at 5 million cases (issue 18): explained with --explain.
QUEUE_PAGES = ("my department, status = handling", "awaiting supervision, first page", "overdue, first page")


def list_figures(app, handler_department: int, repeat: int = 30, explain: bool = False) -> float:
    """Time the list pages of a handler and a supervisor; return the worst p95 (ms)."""
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)

    from app.extensions import db
    from views.cases import CaseView

    status = filter_index(CaseView, "status", "FilterEqual")
    dept = filter_index(CaseView, "lead_department", "FilterRelationOneToManyEqual")
    with app.app_context():
        counter = StatementCounter(db.engine)
    pages = {
        "handler": [
            ("home page (what waits)", "/"),
            ("my department, first page", "/cases/department/list/"),
            ("my department, page 200", "/cases/department/list/?page_DepartmentCaseView=200"),
            ("my department, status = handling", f"/cases/department/list/?_flt_{status}_status=handling"),
        ],
        "supervisor": office_pages(status, dept, handler_department),
        # The offices below the province (issue 15): the scope clause on every list.
        "sm_supervisor": office_pages(status, dept, handler_department),
        "ch_supervisor": office_pages(status, dept, handler_department),
        # Each level's dispatch queue (accepted and returned cases, disputes).
        **{user: [("dispatch queue, first page", "/cases/dispatch/list/")] for user in DISPATCHERS},
    }
    worst = 0.0
    print(f"\n{'user':<14} {'page':<38} {'p50 ms':>7} {'p95 ms':>7} {'SQL':>4} {'cases':>9}  full COUNT")
    for user, urls in pages.items():
        client = log_in(app, user)
        for name, url in urls:
            if url.endswith("=last"):
                url = url.replace("=last", "=" + str(last_page(client, url)))
            p50, p95, statements, full, body = measure(client, counter, url, repeat)
            worst = max(worst, p95)
            print(
                f"{user:<14} {name:<38} {p50:7.1f} {p95:7.1f} {statements:4d} {matching(body):>9}  "
                f"{'YES: ' + full[0][:60] if full else 'no'}"
            )
            if explain and (name in QUEUE_PAGES or p95 >= TARGET_P95_MS):
                for plan in counter.explain():
                    print("    " + plan.replace("\n", "\n    "))
    print(
        f"\nworst p95 {worst:.0f} ms (target {TARGET_P95_MS} ms): "
        f"{'met' if worst < TARGET_P95_MS else 'MISSED'}; before the jurisdictions: "
        f"{BEFORE_WORST_P95_MS} ms (handler and province supervisor)"
    )
    return worst


def log_in(app, username: str):
    """A client logged in as a demo account; an account that needs a second factor (the
    offices' accounts) is set up with an authenticator as a person's would be (pyotp)."""
    import pyotp

    from app.extensions import db
    from models import Staff

    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": "Demo@2026"})
    assert response.status_code == 302, f"login of {username} failed"
    if "/login/code/" in response.headers["Location"]:
        client.get("/login/code/")  # a first login sets the authenticator up
        with app.app_context():
            secret = db.session.query(Staff.totp_secret).filter_by(username=username).scalar()
        response = client.post("/login/code/", data={"code": pyotp.TOTP(secret).now()})
        assert "/login" not in response.headers.get("Location", "/login"), f"second factor of {username}"
    return client


def office_pages(status: int, dept: int, handler_department: int) -> list[tuple[str, str]]:
    """The pages of an office's supervisor (the same for the province, a city and a county)."""
    return [
        ("home page (what waits)", "/"),
        ("all cases, first page", "/cases/list/"),
        ("all cases, page 200", "/cases/list/?page_CaseView=200"),
        ("all cases, last page", "/cases/list/?page_CaseView=last"),
        (
            "all cases, by department and status",
            f"/cases/list/?_flt_{dept}_lead_department={handler_department}&_flt_{status}_status=closed",
        ),
        ("all cases, status = handling", f"/cases/list/?_flt_{status}_status=handling"),
        ("awaiting supervision, first page", "/cases/supervision/list/"),
        ("overdue, first page", "/cases/overdue/list/"),
    ]


def matching(body: str) -> str:
    """How many cases the list says match (its bounded count: 10,000+ beyond 10,000)."""
    found = re.search(r"(?:Record Count|记录数)\s*:?\s*</strong>\s*([^<]+)", body)
    if not found:
        return "-"
    text = " ".join(found.group(1).split())
    return text if text.replace(",", "").isdigit() else "10,000+"


def last_page(client, url: str) -> int:
    """The highest page number the list's pager links to."""
    body = client.get(url.split("?")[0]).get_data(as_text=True)
    numbers = [int(n) for n in re.findall(r"page_CaseView=(\d+)", body)]
    return max(numbers) if numbers else 0


if __name__ == "__main__":
    main()
