"""KPI rollup: each department's figures per month, kept by the services

Revision ID: f3a4b5c6d7e8
Revises: c2d3e4f5a6b7
Create Date: 2026-12-03 06:30:00

"""

import sqlalchemy as sa
from alembic import op

# The covering indexes of the period figures, as created (a migration never imports models).
FIGURE_INDEXES = {
    "ix_cases_figures_created": (
        "cases",
        ("created_at",),
        (
            "jurisdiction_id",
            "concerned_department_id",
            "status",
            "case_type",
            "channel",
            "category_id",
            "lead_department_id",
            "first_response_due_at",
            "first_responded_at",
            "accept_due_at",
            "accepted_at",
            "closed_at",
        ),
    ),
    "ix_cases_figures_accepted": (
        "cases",
        ("accepted_at",),
        (
            "id",
            "jurisdiction_id",
            "concerned_department_id",
            "status",
            "dispatch_due_at",
            "verify_due_at",
            "verified_at",
        ),
    ),
    "ix_cases_figures_closed": (
        "cases",
        ("closed_at",),
        (
            "jurisdiction_id",
            "concerned_department_id",
            "status",
            "replied_at",
            "due_at",
            "rating",
            "lead_department_id",
        ),
    ),
    "ix_assignment_figures_dispatched": (
        "assignment",
        ("dispatched_at",),
        ("case_id", "role", "state", "active", "paused_at", "sign_due_at", "signed_at", "due_at", "done_at"),
    ),
    "ix_assignment_case_dispatched": ("assignment", ("case_id", "dispatched_at"), ()),
}

# revision identifiers, used by Alembic.
revision = "f3a4b5c6d7e8"
down_revision = "c2d3e4f5a6b7"
branch_labels = None
depends_on = None


def upgrade():
    # An existing database starts with no month built: readers compute such months live until
    # the refresh job (jobs.tasks.refresh_kpis) or `ys init` builds them.
    op.create_table(
        "kpi_month",
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("department.id"), primary_key=True),
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("handled", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("finished", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unfinished", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("on_time", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("late", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("satisfied", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unsatisfied", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("settled", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("resolved", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unresolved", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rehandled", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("returned", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("signed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("signed_on_time", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("signed_late", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("verified", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("verified_on_time", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("paused_days", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_kpi_month_month", "kpi_month", ["month"])
    op.create_table(
        "kpi_stale",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
    )
    op.create_index("ix_kpi_stale_month", "kpi_stale", ["month", "department_id"])
    op.create_table(
        "kpi_built_month",
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("built_at", sa.DateTime(), nullable=False),
    )
    # The figures of a period, one index-only scan per period column (models.kpi.FIGURE_INDEXES).
    for name, (table, keys, include) in FIGURE_INDEXES.items():
        op.create_index(name, table, list(keys), postgresql_include=list(include))


def downgrade():
    for name, (table, _keys, _include) in reversed(FIGURE_INDEXES.items()):
        op.drop_index(name, table_name=table)
    op.drop_table("kpi_built_month")
    op.drop_index("ix_kpi_stale_month", table_name="kpi_stale")
    op.drop_table("kpi_stale")
    op.drop_index("ix_kpi_month_month", table_name="kpi_month")
    op.drop_table("kpi_month")
