"""sweep at province scale: the outbox and a notice's case links without foreign keys to cases

Revision ID: fc1d2e3f4a5b
Revises: f9c0d1e2f3a4
Create Date: 2026-12-04 19:00:00

The sweep writes a row per handler and case (2,000 for 1,000 overdue cases, 60,000 for the
seeded backlog); each row's two foreign-key checks (a locking look-up of the case and of the
user, run one by one by the database's triggers) cost more than the insert itself and its
indexes (bench/sweep.py: ~0.1 s of the database's CPU per 1,000 cases). The outbox is a log:
its case and user ids are copied from rows the writer holds, a case is never deleted, and the
inbox message made from a row (inbox_message) keeps its own keys to the user and the case.
A notice's link to a case (notice_case) likewise loses its key to the case (~0.05 s of the
database's CPU per 1,000 notices) and keeps the one to its notice, written in the same
transaction.

No query reads the outbox by user (the inbox is read from inbox_message) and only the callback
stream reads it by case (callbacks._same_stream): a partial index on the callback rows replaces
the index on every row's case and the one on its user. A notice's issuing office is the first
column of uq_notice_number: ix_notice_jurisdiction_id repeats it.
"""

import sqlalchemy as sa
from alembic import op

revision = "fc1d2e3f4a5b"
down_revision = "f9c0d1e2f3a4"
branch_labels = None
depends_on = None

# SQLite names the unnamed keys of the first migration by this convention in a batch copy.
NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
CALLBACKS = "channel = 'callback'"


def _foreign_keys():
    if op.get_bind().dialect.name == "postgresql":
        return "notification_case_id_fkey", "notification_user_id_fkey", "notice_case_case_id_fkey"
    return "fk_notification_case_id_cases", "fk_notification_user_id_ab_user", "fk_notice_case_case_id_cases"


def upgrade():
    case_key, user_key, link_key = _foreign_keys()
    with op.batch_alter_table("notification", naming_convention=NAMES) as batch:
        batch.drop_constraint(case_key, type_="foreignkey")
        batch.drop_constraint(user_key, type_="foreignkey")
        batch.drop_index("ix_notification_case_id")
        batch.drop_index("ix_notification_user_id")
        batch.create_index(
            "ix_notification_callback_case",
            ["case_id"],
            postgresql_where=sa.text(CALLBACKS),
            sqlite_where=sa.text(CALLBACKS),
        )
    with op.batch_alter_table("notice_case", naming_convention=NAMES) as batch:
        batch.drop_constraint(link_key, type_="foreignkey")
    op.drop_index("ix_notice_jurisdiction_id", table_name="notice")


def downgrade():
    op.create_index("ix_notice_jurisdiction_id", "notice", ["jurisdiction_id"])
    case_key, user_key, link_key = _foreign_keys()
    with op.batch_alter_table("notice_case", naming_convention=NAMES) as batch:
        batch.create_foreign_key(link_key, "cases", ["case_id"], ["id"])
    with op.batch_alter_table("notification", naming_convention=NAMES) as batch:
        batch.drop_index("ix_notification_callback_case")
        batch.create_index("ix_notification_user_id", ["user_id"])
        batch.create_index("ix_notification_case_id", ["case_id"])
        batch.create_foreign_key(case_key, "cases", ["case_id"], ["id"])
        batch.create_foreign_key(user_key, "ab_user", ["user_id"], ["id"])
