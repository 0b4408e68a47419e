"""case deadline from its lead assignment: repair the deadlines stored before the fix

A case given to several departments stored the single-department deadline (the new assignments
were not yet active when the case's deadline was read from its lead), while its assignments
held the multi-department one; approving an extension then moved the case's deadline by the
difference plus the extension. The case's deadline is its active lead assignment's.

Revision ID: c4e6a8b0d2f3
Revises: b2d4f6a8c0e1
Create Date: 2026-12-01 15:00:00

"""
from alembic import op

revision = 'c4e6a8b0d2f3'
down_revision = 'b2d4f6a8c0e1'
branch_labels = None
depends_on = None

LEAD = ("FROM assignment a WHERE a.case_id = cases.id AND a.active AND a.role = 'lead'")


def upgrade():
    op.execute(f"UPDATE cases SET due_at = (SELECT a.due_at {LEAD}), "
               f"due_provisional = (SELECT a.due_provisional {LEAD}) "
               f"WHERE EXISTS (SELECT 1 {LEAD} "
               "AND (cases.due_at IS NULL OR a.due_at <> cases.due_at))")


def downgrade():
    pass  # the repaired deadlines are the right ones
