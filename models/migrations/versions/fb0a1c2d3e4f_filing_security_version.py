"""filing security version: one row that triggers renew on every change of an account or a permission

Revision ID: fb0a1c2d3e4f
Revises: fc1d2e3f4a5b
Create Date: 2026-12-04 19:00:00

Every request read a fingerprint of the role-permission links (an aggregate over the table), and
every request of a connected system its API key with its account, roles, groups and office (a
five-table join and the objects built from it: about half of a filing's CPU). They now read this
row: ``accounts`` changes with any change of a key, an account, its roles, groups, department
or jurisdiction; ``permissions`` with any change of what a role may do. Each process keeps the
resolved key and the granted permission names under them (app.security), so a revoked key, a
deactivated account or a role taken away is refused on the very next request, in every process.
The triggers fire on any change, made by any path (the screens, the API, a migration, plain
SQL), and give the column a new random value (a rolled-back edit's value is never reused).
The key and the account of a JWT are kept the same way.
"""

import sqlalchemy as sa
from alembic import op

revision = "fb0a1c2d3e4f"
down_revision = "fc1d2e3f4a5b"
branch_labels = None
depends_on = None

# app.security.ACCOUNT_TABLES and PERMISSION_TABLES (a migration never imports the application)
TABLES = {
    "accounts": (
        "ab_api_key",
        "ab_user",
        "ab_user_role",
        "ab_user_group",
        "ab_group",
        "ab_group_role",
        "ab_role",
        "department",
        "jurisdiction",
    ),
    "permissions": ("ab_permission_view_role", "ab_permission_view", "ab_permission", "ab_view_menu"),
}
# An account's login bookkeeping, written at every login (and failed attempt, and second-factor
# step): no check reads it, so it renews nothing (every login would otherwise make every
# process read every key again, and queue the logins on the version row).
BOOKKEEPING = (
    "last_login",
    "login_count",
    "fail_login_count",
    "changed_on",
    "changed_by_fk",
    "totp_last_step",
)


def upgrade():
    op.create_table(
        "security_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("accounts", sa.BigInteger(), nullable=False),
        sa.Column("permissions", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO security_version (id, accounts, permissions) VALUES (1, 1, 1)")
    postgresql = op.get_bind().dialect.name == "postgresql"
    for column, tables in TABLES.items():
        if postgresql:
            op.execute(
                f"CREATE FUNCTION renew_security_{column}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"UPDATE security_version SET {column} = (random() * 9007199254740991)::bigint; "
                "RETURN NULL; END $$"
            )
        for table in tables:
            if postgresql and table == "ab_user":
                op.execute(
                    f"CREATE TRIGGER {table}_renews_security AFTER INSERT OR DELETE OR TRUNCATE "
                    f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION renew_security_{column}()"
                )
                kept = "ARRAY[" + ", ".join(f"'{c}'" for c in BOOKKEEPING) + "]"
                op.execute(
                    f"CREATE TRIGGER {table}_update_renews_security AFTER UPDATE ON {table} FOR EACH ROW "
                    f"WHEN ((to_jsonb(OLD) - {kept}) IS DISTINCT FROM (to_jsonb(NEW) - {kept})) "
                    f"EXECUTE FUNCTION renew_security_{column}()"
                )
                continue
            if postgresql:
                op.execute(
                    f"CREATE TRIGGER {table}_renews_security AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION renew_security_{column}()"
                )
                continue
            for event in ("INSERT", "UPDATE", "DELETE"):  # SQLite: row triggers; random() is 64-bit
                when = ""
                if table == "ab_user" and event == "UPDATE":
                    names = [c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)]
                    when = " WHEN " + " OR ".join(
                        f"OLD.{c} IS NOT NEW.{c}" for c in names if c not in BOOKKEEPING
                    )
                op.execute(
                    f"CREATE TRIGGER {table}_renews_security_{event.lower()} AFTER {event} ON {table}{when} "
                    f"BEGIN UPDATE security_version SET {column} = random(); END"
                )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for column, tables in TABLES.items():
        for table in tables:
            if postgresql:
                op.execute(f"DROP TRIGGER {table}_renews_security ON {table}")
                if table == "ab_user":
                    op.execute(f"DROP TRIGGER {table}_update_renews_security ON {table}")
            else:
                for event in ("insert", "update", "delete"):
                    op.execute(f"DROP TRIGGER {table}_renews_security_{event}")
        if postgresql:
            op.execute(f"DROP FUNCTION renew_security_{column}()")
    op.drop_table("security_version")
