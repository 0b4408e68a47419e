"""need to know: the case's supervisor, discipline inspection departments, identity requests

Revision ID: e4b2c1d3f5a7
Revises: e3a1f0c2b4d6
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e4b2c1d3f5a7"
down_revision = "e3a1f0c2b4d6"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN with its reference: SQLite rebuilds no table (batch mode would copy the
    # whole cases table and its partial indexes), PostgreSQL names the constraint itself.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE cases ADD COLUMN supervisor_id INTEGER REFERENCES ab_user (id)")
    else:
        op.add_column("cases", sa.Column("supervisor_id", sa.Integer(), nullable=True))
        op.create_foreign_key("cases_supervisor_id_fkey", "cases", "ab_user", ["supervisor_id"], ["id"])
    op.add_column(
        "department",
        sa.Column("discipline_inspection", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "identity_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_name", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "approved",
                "refused",
                name="ck_identityrequeststate",
                native_enum=False,
                length=24,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state = 'pending' OR (decided_at IS NOT NULL AND decided_by_id IS NOT NULL)",
            name="ck_identity_request_decided",
        ),
        sa.CheckConstraint(
            "state <> 'approved' OR expires_at IS NOT NULL", name="ck_identity_request_expiry"
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_identity_request_state_requested", "identity_request", ["state", "requested_at"])
    op.create_index("ix_identity_request_case_requester", "identity_request", ["case_id", "requested_by_id"])


def downgrade():
    op.drop_index("ix_identity_request_case_requester", table_name="identity_request")
    op.drop_index("ix_identity_request_state_requested", table_name="identity_request")
    op.drop_table("identity_request")
    with op.batch_alter_table("department") as batch:
        batch.drop_column("discipline_inspection")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("supervisor_id")
