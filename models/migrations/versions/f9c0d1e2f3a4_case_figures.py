"""case figures: a monthly rollup of the dashboard's and the reports' case figures

Revision ID: f9c0d1e2f3a4
Revises: f8b9c0d1e2f3
Create Date: 2026-12-04 19:40:00

A year's dashboard read every case filed, accepted and closed in it and every assignment
dispatched in it (1.1-2 s at 1 million cases); a year is now a few rows per jurisdiction and
month (models.case_figures). Triggers mark the months a change of a case or an assignment
touches, by any path; a change of what the breakdowns group by (a department's level, a
category's parent) forgets every built month. Three partial indexes find the clocks that ran out
since a month was built (its overdue counts are live).
"""

import sqlalchemy as sa
from alembic import op

revision = "f9c0d1e2f3a4"
down_revision = "f8b9c0d1e2f3"
branch_labels = None
depends_on = None

# What the figures read (app.services.case_figures): a change to any of them marks the months.
CASE_COLUMNS = (
    "created_at, accepted_at, closed_at, status, case_type, channel, category_id, "
    "concerned_department_id, jurisdiction_id, lead_department_id, replied_at, due_at, rating, "
    "first_response_due_at, first_responded_at, accept_due_at, dispatch_due_at, verify_due_at, "
    "verified_at, first_dispatched_at"
)
ASSIGNMENT_COLUMNS = (
    "case_id, role, state, active, paused_at, sign_due_at, signed_at, due_at, done_at, dispatched_at"
)
CASE_MONTHS = ("created_at", "accepted_at", "closed_at")
INDEXES = (  # name, column, condition
    ("ix_cases_open_first_response", "first_response_due_at", "first_responded_at IS NULL"),
    ("ix_cases_open_dispatch", "dispatch_due_at", "status = 'accepted'"),
    ("ix_cases_open_verify", "verify_due_at", "verified_at IS NULL"),
)


def _pg_month(value: str) -> str:
    return f"(date_trunc('month', {value} + interval '8 hours'))::date"


def _sqlite_months(row: str, columns) -> str:
    values = " UNION ".join(f"SELECT {row}.{c} AS t" for c in columns)
    return (
        "INSERT INTO case_figure_stale (month) SELECT DISTINCT date(t, '+8 hours', 'start of month') "
        f"FROM ({values}) WHERE t IS NOT NULL;"
    )


def upgrade():
    op.create_table(
        "case_figure_month",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=True),
        sa.Column("concerned_department_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
    )
    op.create_index("ix_case_figure_month_month", "case_figure_month", ["month"])
    op.create_table(
        "case_figure_stale",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.Date(), nullable=False),
    )
    op.create_index("ix_case_figure_stale_month", "case_figure_stale", ["month"])
    op.create_table(
        "case_figure_built",
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("built_at", sa.DateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # built without blocking the filings (a province upgrades while it files): outside the
        # migration's transaction, CONCURRENTLY
        with op.get_context().autocommit_block():
            for name, column, condition in INDEXES:
                op.create_index(
                    name,
                    "cases",
                    [column],
                    postgresql_where=sa.text(condition),
                    postgresql_concurrently=True,
                    if_not_exists=True,
                )
    else:
        for name, column, condition in INDEXES:
            op.create_index(name, "cases", [column], sqlite_where=sa.text(condition))
    if op.get_bind().dialect.name == "postgresql":
        case_months = ", ".join(f"{row}.{c}" for row in ("OLD", "NEW") for c in CASE_MONTHS)
        op.execute(
            "CREATE FUNCTION mark_case_figures() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO case_figure_stale (month) SELECT DISTINCT {_pg_month('t')} "
            f"FROM unnest(ARRAY[{case_months}]) AS t WHERE t IS NOT NULL; "
            "IF TG_OP = 'UPDATE' AND (OLD.jurisdiction_id IS DISTINCT FROM NEW.jurisdiction_id "
            "OR OLD.concerned_department_id IS DISTINCT FROM NEW.concerned_department_id) THEN "
            f"INSERT INTO case_figure_stale (month) SELECT DISTINCT {_pg_month('dispatched_at')} "
            "FROM assignment WHERE case_id = NEW.id AND dispatched_at IS NOT NULL; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE FUNCTION mark_assignment_figures() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO case_figure_stale (month) SELECT DISTINCT {_pg_month('t')} "
            "FROM unnest(ARRAY[OLD.dispatched_at, NEW.dispatched_at]) AS t WHERE t IS NOT NULL; "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE FUNCTION forget_case_figures() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "DELETE FROM case_figure_built; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER cases_mark_figures AFTER INSERT OR DELETE OR UPDATE OF "
            f"{CASE_COLUMNS} ON cases FOR EACH ROW EXECUTE FUNCTION mark_case_figures()"
        )
        op.execute(
            "CREATE TRIGGER assignment_mark_figures AFTER INSERT OR DELETE OR UPDATE OF "
            f"{ASSIGNMENT_COLUMNS} ON assignment FOR EACH ROW EXECUTE FUNCTION mark_assignment_figures()"
        )
        op.execute(
            "CREATE TRIGGER department_forgets_figures AFTER UPDATE OF level ON department "
            "FOR EACH STATEMENT EXECUTE FUNCTION forget_case_figures()"
        )
        op.execute(
            "CREATE TRIGGER category_forgets_figures AFTER UPDATE OF parent_id ON category "
            "FOR EACH STATEMENT EXECUTE FUNCTION forget_case_figures()"
        )
        return
    for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        of = f" OF {CASE_COLUMNS}" if event == "UPDATE" else ""
        body = " ".join(_sqlite_months(row, CASE_MONTHS) for row in rows)
        if event == "UPDATE":
            body += (
                " INSERT INTO case_figure_stale (month) SELECT DISTINCT "
                "date(dispatched_at, '+8 hours', 'start of month') FROM assignment "
                "WHERE case_id = NEW.id AND dispatched_at IS NOT NULL AND "
                "(OLD.jurisdiction_id IS NOT NEW.jurisdiction_id "
                "OR OLD.concerned_department_id IS NOT NEW.concerned_department_id);"
            )
        op.execute(
            f"CREATE TRIGGER cases_mark_figures_{event.lower()} AFTER {event}{of} ON cases BEGIN {body} END"
        )
        of = f" OF {ASSIGNMENT_COLUMNS}" if event == "UPDATE" else ""
        body = " ".join(_sqlite_months(row, ("dispatched_at",)) for row in rows)
        op.execute(
            f"CREATE TRIGGER assignment_mark_figures_{event.lower()} AFTER {event}{of} ON assignment "
            f"BEGIN {body} END"
        )
    for table, column in (("department", "level"), ("category", "parent_id")):
        op.execute(
            f"CREATE TRIGGER {table}_forgets_figures AFTER UPDATE OF {column} ON {table} "
            "BEGIN DELETE FROM case_figure_built; END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER cases_mark_figures ON cases")
        op.execute("DROP TRIGGER assignment_mark_figures ON assignment")
        op.execute("DROP TRIGGER department_forgets_figures ON department")
        op.execute("DROP TRIGGER category_forgets_figures ON category")
        for function in ("mark_case_figures", "mark_assignment_figures", "forget_case_figures"):
            op.execute(f"DROP FUNCTION {function}()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER cases_mark_figures_{event}")
            op.execute(f"DROP TRIGGER assignment_mark_figures_{event}")
        op.execute("DROP TRIGGER department_forgets_figures")
        op.execute("DROP TRIGGER category_forgets_figures")
    for name, _column, _condition in INDEXES:
        op.drop_index(name, table_name="cases")
    op.drop_table("case_figure_built")
    op.drop_table("case_figure_stale")
    op.drop_index("ix_case_figure_month_month", table_name="case_figure_month")
    op.drop_table("case_figure_month")
