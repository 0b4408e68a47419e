"""attachment cleaning: the staff copy is made in a job after the filing; pending/clean/refused

Revision ID: e3a1f0c2b4d6
Revises: d5f7a9b1c3e4
Create Date: 2026-12-01 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e3a1f0c2b4d6"
down_revision = "d5f7a9b1c3e4"
branch_labels = None
depends_on = None

PENDING = "clean_state = 'pending'"


def upgrade():
    with op.batch_alter_table("attachment") as batch:
        batch.alter_column("staff_name", existing_type=sa.String(length=64), nullable=True)
        batch.add_column(
            sa.Column("clean_state", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("clean_error", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("clean_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("clean_queued_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("cleaned_at", sa.DateTime(), nullable=True))
    # Pictures already have a copy without metadata; every other file was shown to staff as it
    # was sent: it has no copy until the sweep has the cleaning job make one.
    op.execute(
        "UPDATE attachment SET clean_state = 'clean', cleaned_at = uploaded_at "
        "WHERE staff_name <> stored_name"
    )
    op.execute("UPDATE attachment SET staff_name = NULL WHERE staff_name = stored_name")
    with op.batch_alter_table("attachment") as batch:
        batch.create_check_constraint(
            "ck_attachment_clean_state", "clean_state IN ('pending', 'clean', 'refused')"
        )
        batch.create_check_constraint(
            "ck_attachment_clean_copy", "clean_state <> 'clean' OR staff_name IS NOT NULL"
        )
        batch.create_index(
            "ix_attachment_pending",
            ["clean_queued_at"],
            unique=False,
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )


def downgrade():
    op.execute("UPDATE attachment SET staff_name = stored_name WHERE staff_name IS NULL")
    with op.batch_alter_table("attachment") as batch:
        batch.drop_index("ix_attachment_pending")
        batch.drop_constraint("ck_attachment_clean_copy", type_="check")
        batch.drop_constraint("ck_attachment_clean_state", type_="check")
        batch.drop_column("cleaned_at")
        batch.drop_column("clean_queued_at")
        batch.drop_column("clean_attempts")
        batch.drop_column("clean_error")
        batch.drop_column("clean_state")
        batch.alter_column("staff_name", existing_type=sa.String(length=64), nullable=False)
