"""connected systems: callback subscriptions and signed deliveries

Revision ID: f4b5c6d7e8f9
Revises: f3a4b5c6d7e8
Create Date: 2026-12-03 06:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f4b5c6d7e8f9"
down_revision = "f3a4b5c6d7e8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "callback_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("callback_subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_subscription_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("callback_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_subscription_user_id"))
    op.drop_table("callback_subscription")
