"""receipt confirmed: a receipt is shown after the filing's redirect only until it is confirmed

Revision ID: d5f7a9b1c3e4
Revises: c4e6a8b0d2f3
Create Date: 2026-12-01 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d5f7a9b1c3e4"
down_revision = "c4e6a8b0d2f3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reporter") as batch:
        batch.add_column(sa.Column("receipt_confirmed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("reporter") as batch:
        batch.drop_column("receipt_confirmed_at")
