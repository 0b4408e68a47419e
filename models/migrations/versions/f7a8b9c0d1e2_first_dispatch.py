"""first dispatch of a case: a column, so the dashboard's dispatch clock reads no assignment

Revision ID: f7a8b9c0d1e2
Revises: f6d7e8f9a0b1
Create Date: 2026-12-04 02:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f7a8b9c0d1e2"
down_revision = "f6d7e8f9a0b1"
branch_labels = None
depends_on = None

# ix_cases_figures_accepted as models.kpi.FIGURE_INDEXES has it (before: without the last column)
ACCEPTED = ["id", "jurisdiction_id", "concerned_department_id", "status", "dispatch_due_at", "verify_due_at"]
ACCEPTED += ["verified_at"]


def upgrade():
    op.add_column("cases", sa.Column("first_dispatched_at", sa.DateTime(), nullable=True))
    # Every dispatched case: the least of its assignments' dispatch times, in one statement.
    op.execute(
        "UPDATE cases SET first_dispatched_at = firsts.first_at FROM "
        "(SELECT case_id, min(dispatched_at) AS first_at FROM assignment GROUP BY case_id) AS firsts "
        "WHERE firsts.case_id = cases.id"
    )
    op.drop_index("ix_cases_figures_accepted", table_name="cases")
    op.create_index(
        "ix_cases_figures_accepted",
        "cases",
        ["accepted_at"],
        postgresql_include=[*ACCEPTED, "first_dispatched_at"],
    )


def downgrade():
    op.drop_index("ix_cases_figures_accepted", table_name="cases")
    op.create_index("ix_cases_figures_accepted", "cases", ["accepted_at"], postgresql_include=ACCEPTED)
    op.drop_column("cases", "first_dispatched_at")
