"""filing and storage at province scale

Revision ID: f6d7e8f9a0b1
Revises: f5c6d7e8f9a0
Create Date: 2026-12-03 06:30:00

"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

# revision identifiers, used by Alembic.
revision = "f6d7e8f9a0b1"
down_revision = "f5c6d7e8f9a0"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
