"""jurisdictions: one installation for a province, its cities and its counties

Every existing row moves into one root jurisdiction (the province), named after the first
part of the departments' regions; nothing is lost, and the documents keep their old numbers
and the old issuing office.

Revision ID: f1a2b3c4d5e6
Revises: e7f5a4b6c8d0
Create Date: 2026-12-02 01:00:00
"""

from collections import Counter

import sqlalchemy as sa
from alembic import op

revision = "f1a2b3c4d5e6"
down_revision = "e7f5a4b6c8d0"
branch_labels = None
depends_on = None

LEVELS = ("province", "city", "county")
UNNAMED_UNIQUE = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
OLD_OFFICE = "营商环境投诉举报平台督办室"


def _where(condition):
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def _drop_unnamed_unique(table, column):
    """Drop the UNIQUE of one column created without a name (PostgreSQL named it
    <table>_<column>_key; SQLite reflects it under the naming convention)."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(f"{table}_{column}_key", table, type_="unique")
    else:
        with op.batch_alter_table(table, naming_convention=UNNAMED_UNIQUE) as batch:
            batch.drop_constraint(f"uq_{table}_{column}", type_="unique")


def _root(bind) -> tuple[str, str]:
    """The root's name and region: the commonest first part of the departments' regions."""
    regions = [r for (r,) in bind.execute(sa.text("SELECT region FROM department")) if r]
    firsts = Counter(r.split("/")[0] for r in regions)
    name = firsts.most_common(1)[0][0] if firsts else "全省"
    return name, name


def upgrade():
    op.create_table(
        "jurisdiction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "level",
            sa.Enum(*LEVELS, name="ck_deptlevel", native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("office_name", sa.String(length=100), nullable=False),
        sa.Column("issuing_authority", sa.String(length=100), nullable=False),
        sa.Column("doc_prefix", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["jurisdiction.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("region"),
        sa.UniqueConstraint("doc_prefix"),
    )
    op.create_index("ix_jurisdiction_parent_id", "jurisdiction", ["parent_id"])
    op.create_index("ix_jurisdiction_path", "jurisdiction", ["path"])
    bind = op.get_bind()
    name, region = _root(bind)
    bind.execute(
        sa.text(
            "INSERT INTO jurisdiction (id, code, name, level, parent_id, region, path, office_name,"
            " issuing_authority, doc_prefix, active) VALUES (1, 'ROOT', :name, 'province', NULL,"
            " :region, '/1/', :office, :office, '营商督', :active)"
        ),
        {"name": name, "region": region, "office": OLD_OFFICE, "active": True},
    )
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT setval('jurisdiction_id_seq', 1)"))
    op.create_table(
        "jurisdiction_setting",
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["jurisdiction_id"], ["jurisdiction.id"]),
        sa.PrimaryKeyConstraint("jurisdiction_id", "key"),
    )

    # Who and what belongs where.
    for table in ("ab_user", "department", "deadline_policy", "dispatch_rule", "generated_report"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("jurisdiction_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(f"fk_{table}_jurisdiction", "jurisdiction", ["jurisdiction_id"], ["id"])
        op.create_index(f"ix_{table}_jurisdiction_id", table, ["jurisdiction_id"])
    op.execute("UPDATE ab_user SET jurisdiction_id = 1")
    op.execute("UPDATE department SET jurisdiction_id = 1")

    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("jurisdiction_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("jurisdiction_due_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE cases SET jurisdiction_id = 1")
    with op.batch_alter_table("cases") as batch:
        batch.alter_column("jurisdiction_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_cases_jurisdiction", "jurisdiction", ["jurisdiction_id"], ["id"])
    op.create_index("ix_cases_jurisdiction_status", "cases", ["jurisdiction_id", "status"])
    op.create_index("ix_cases_jurisdiction_created", "cases", ["jurisdiction_id", "created_at"])
    op.create_index("ix_cases_jurisdiction_case", "cases", ["jurisdiction_id", "id"])
    # The overdue lists leave out the cases whose clock stands: a small partial index for them.
    paused = _where("active IS TRUE AND paused_at IS NOT NULL")
    op.create_index("ix_assignment_paused", "assignment", ["case_id"], **paused)

    # Each office numbers its own documents: the counter and the notices carry the jurisdiction.
    with op.batch_alter_table("notice") as batch:
        batch.add_column(sa.Column("jurisdiction_id", sa.Integer(), nullable=True))
    op.execute("UPDATE notice SET jurisdiction_id = 1")
    with op.batch_alter_table("notice") as batch:
        batch.alter_column("jurisdiction_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_notice_jurisdiction", "jurisdiction", ["jurisdiction_id"], ["id"])
        batch.drop_constraint("uq_notice_number", type_="unique")
        batch.create_unique_constraint("uq_notice_number", ["jurisdiction_id", "year", "sequence"])
    op.create_index("ix_notice_jurisdiction_id", "notice", ["jurisdiction_id"])
    counters = list(bind.execute(sa.text("SELECT year, last FROM notice_counter")))
    op.drop_table("notice_counter")
    op.create_table(
        "notice_counter",
        sa.Column("jurisdiction_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["jurisdiction_id"], ["jurisdiction.id"]),
        sa.PrimaryKeyConstraint("jurisdiction_id", "year"),
    )
    for year, last in counters:
        bind.execute(
            sa.text("INSERT INTO notice_counter (jurisdiction_id, year, last) VALUES (1, :y, :l)"),
            {"y": year, "l": last},
        )

    # Regional holidays and a jurisdiction's own reward tiers: unique per jurisdiction.
    _drop_unnamed_unique("calendar_day", "day")
    with op.batch_alter_table("calendar_day") as batch:
        batch.add_column(sa.Column("jurisdiction_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_calendar_day_jurisdiction", "jurisdiction", ["jurisdiction_id"], ["id"])
    op.create_index(
        "uq_calendar_day_national", "calendar_day", ["day"], unique=True, **_where("jurisdiction_id IS NULL")
    )
    op.create_index("uq_calendar_day_regional", "calendar_day", ["jurisdiction_id", "day"], unique=True)
    _drop_unnamed_unique("reward_tier", "code")
    with op.batch_alter_table("reward_tier") as batch:
        batch.add_column(sa.Column("jurisdiction_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reward_tier_jurisdiction", "jurisdiction", ["jurisdiction_id"], ["id"])
    op.create_index(
        "uq_reward_tier_code", "reward_tier", ["code"], unique=True, **_where("jurisdiction_id IS NULL")
    )
    op.create_index(
        "uq_reward_tier_jurisdiction_code", "reward_tier", ["jurisdiction_id", "code"], unique=True
    )


    # A policy's working days have an upper bound (10**9 days ran past any calendar: a 500).
    op.execute("UPDATE deadline_policy SET working_days = 365 WHERE working_days > 365")
    with op.batch_alter_table("deadline_policy") as batch:
        batch.drop_constraint("ck_policy_days", type_="check")
        batch.create_check_constraint("ck_policy_days", "working_days >= 0 AND working_days <= 365")


def downgrade():
    raise NotImplementedError("jurisdictions cannot be folded back into one office without loss")
