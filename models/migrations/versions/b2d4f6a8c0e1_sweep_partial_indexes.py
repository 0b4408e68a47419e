"""sweep partial indexes: only the rows the sweep has not acted on yet

Revision ID: b2d4f6a8c0e1
Revises: a1c3e5f7b9d2
Create Date: 2026-11-29 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b2d4f6a8c0e1'
down_revision = 'a1c3e5f7b9d2'
branch_labels = None
depends_on = None

RUNNING = "('dispatched', 'signed')"
INDEXES = [
    ("cases", "ix_cases_sweep_not_accepted", "accept_due_at",
     "status = 'submitted' AND accept_reminded_at IS NULL"),
    ("cases", "ix_cases_sweep_unrated", "replied_at", "status = 'replied'"),
    ("assignment", "ix_assignment_sweep_unsigned", "sign_due_at",
     "active AND state = 'dispatched' AND sign_reminded_at IS NULL"),
    ("assignment", "ix_assignment_sweep_due_soon", "due_at",
     f"active AND state IN {RUNNING} AND due_soon_notified_at IS NULL"),
    ("assignment", "ix_assignment_sweep_overdue", "due_at",
     f"active AND state IN {RUNNING} AND overdue_reminded_at IS NULL"),
    ("assignment", "ix_assignment_sweep_still_overdue", "overdue_reminded_at",
     f"active AND state IN {RUNNING} AND overdue_reminded_at IS NOT NULL "
     "AND escalated_notice_at IS NULL"),
]


def upgrade():
    for table, name, column, condition in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False,
                                  postgresql_where=sa.text(condition),
                                  sqlite_where=sa.text(condition))


def downgrade():
    for table, name, _, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
