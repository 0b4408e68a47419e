"""staff account protection: session version, lockout, TOTP two-factor

Revision ID: e6d4e3f5b7c9
Revises: e5c3d2e4a6b8
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e6d4e3f5b7c9"
down_revision = "e5c3d2e4a6b8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ab_user") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table("ab_user") as batch:
        for column in ("totp_last_step", "totp_enabled_at", "totp_secret", "locked_until", "session_version"):
            batch.drop_column(column)
