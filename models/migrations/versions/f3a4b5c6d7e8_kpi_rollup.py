"""KPI rollup: each department's figures per month, kept by the services

Revision ID: f3a4b5c6d7e8
Revises: c2d3e4f5a6b7
Create Date: 2026-12-03 06:30:00

"""

import sqlalchemy as sa
from alembic import op

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


def downgrade():
    op.drop_table("kpi_built_month")
    op.drop_index("ix_kpi_stale_month", table_name="kpi_stale")
    op.drop_table("kpi_stale")
    op.drop_index("ix_kpi_month_month", table_name="kpi_month")
    op.drop_table("kpi_month")
