"""early-warning indexes: the period-bounded queries of the warning rules

Revision ID: c2d3e4f5a6b7
Revises: b1c2d3e4f5a6
Create Date: 2026-12-02 11:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c2d3e4f5a6b7"
down_revision = "b1c2d3e4f5a6"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_case_event_action_at", "case_event", ["action", "at"]),
    ("ix_extension_request_requested", "extension_request", ["requested_at"]),
    ("ix_assignment_role_due", "assignment", ["role", "due_at"]),
    ("ix_assignment_sign_due_at", "assignment", ["sign_due_at"]),
    ("ix_cases_replied_at", "cases", ["replied_at"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
