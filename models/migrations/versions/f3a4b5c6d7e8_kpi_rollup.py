"""KPI rollup: each department's figures per month, kept by the services

Revision ID: f3a4b5c6d7e8
Revises: c2d3e4f5a6b7
Create Date: 2026-12-03 06:30:00

"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

# revision identifiers, used by Alembic.
revision = "f3a4b5c6d7e8"
down_revision = "c2d3e4f5a6b7"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
