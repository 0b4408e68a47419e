"""reference version: one row that triggers renew on every change of a filing's reference data

Revision ID: f8b9c0d1e2f3
Revises: f7a8b9c0d1e2
Create Date: 2026-12-04 03:00:00

A filing read a fingerprint of five tables (an md5 over a thousand rows: 1.5 ms of the
database's time on every filing); it now reads this row. The triggers fire on any change, made
by any path, and give the row a new random value (a rolled-back edit's value is never reused).
"""

import sqlalchemy as sa
from alembic import op

revision = "f8b9c0d1e2f3"
down_revision = "f7a8b9c0d1e2"
branch_labels = None
depends_on = None

# models.reference.REFERENCE_TABLES (a migration never imports models)
TABLES = ("calendar_day", "calendar_year", "setting", "jurisdiction_setting", "jurisdiction")


def upgrade():
    op.create_table(
        "reference_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO reference_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION renew_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE reference_version SET version = (random() * 9007199254740991)::bigint; "
            "RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_renews_reference AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION renew_reference_version()"
            )
    else:  # SQLite: row triggers only; random() is a 64-bit integer there
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_renews_reference_{event.lower()} AFTER {event} ON {table} "
                    "BEGIN UPDATE reference_version SET version = random(); END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_renews_reference ON {table}")
        op.execute("DROP FUNCTION renew_reference_version()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_renews_reference_{event}")
    op.drop_table("reference_version")
