"""typical case heading: the public heading of a typical case, written from the redacted title

Revision ID: e5c3d2e4a6b8
Revises: e4b2c1d3f5a7
Create Date: 2026-12-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e5c3d2e4a6b8"
down_revision = "e4b2c1d3f5a7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("typical_case") as batch:
        batch.add_column(sa.Column("heading", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("typical_case") as batch:
        batch.drop_column("heading")
