"""queue indexes: partial indexes for the case lists at province scale

Revision ID: f5c6d7e8f9a0
Revises: f4b5c6d7e8f9
Create Date: 2026-12-03 06:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f5c6d7e8f9a0"
down_revision = "f4b5c6d7e8f9"
branch_labels = None
depends_on = None

OVERDUE = "status IN ('submitted', 'accepted', 'dispatched', 'returned', 'handling')"
OPEN = "status <> 'closed'"


def upgrade():
    op.drop_index("ix_cases_lead_status", table_name="cases")
    op.create_index(
        "ix_cases_lead_status",
        "cases",
        ["lead_department_id", "status", "jurisdiction_id"],
        unique=False,
        postgresql_include=["concerned_department_id"],
    )
    op.drop_index("ix_cases_jurisdiction_case", table_name="cases")
    op.create_index(
        "ix_cases_jurisdiction_case",
        "cases",
        ["jurisdiction_id", "id"],
        unique=False,
        postgresql_include=["concerned_department_id"],
    )
    op.create_index(
        "ix_cases_overdue",
        "cases",
        ["due_at", "id"],
        unique=False,
        postgresql_include=["status", "accept_due_at", "concerned_department_id", "jurisdiction_id"],
        postgresql_where=sa.text(OVERDUE),
        sqlite_where=sa.text(OVERDUE),
    )
    op.create_index(
        "ix_cases_open_status_case",
        "cases",
        ["status", "id"],
        unique=False,
        postgresql_include=["concerned_department_id"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )


def downgrade():
    op.drop_index("ix_cases_open_status_case", table_name="cases")
    op.drop_index("ix_cases_overdue", table_name="cases")
    op.drop_index("ix_cases_jurisdiction_case", table_name="cases")
    op.create_index("ix_cases_jurisdiction_case", "cases", ["jurisdiction_id", "id"], unique=False)
    op.drop_index("ix_cases_lead_status", table_name="cases")
    op.create_index("ix_cases_lead_status", "cases", ["lead_department_id", "status"], unique=False)
