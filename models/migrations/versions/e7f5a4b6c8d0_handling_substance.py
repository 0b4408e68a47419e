"""the substance of handling: findings, rectification, clock pauses, disputes, every clock

Revision ID: e7f5a4b6c8d0
Revises: e6d4e3f5b7c9
Create Date: 2026-12-01 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e7f5a4b6c8d0"
down_revision = "e6d4e3f5b7c9"
branch_labels = None
depends_on = None

OLD_KINDS = ("reminder", "rectification", "interview")
NEW_KINDS = (*OLD_KINDS, "assignment")
OLD_CAUSES = (
    "unsigned",
    "overdue",
    "reported_again",
    "repeated_returns",
    "two_unsatisfied",
    "overdue_after_reminder",
    "reward_unpaid",
    "supervisor_decision",
)
NEW_CAUSES = (*OLD_CAUSES, "improper_close_requests", "grade_c_assignment")
FINDINGS = ("true", "partly_true", "untrue", "unverifiable")
RUNNING = "('dispatched', 'signed')"


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _enum(name, values, length=24):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _where(condition):
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def _extension_check(states):
    with op.batch_alter_table("extension_request") as batch:
        batch.drop_constraint("ck_extensionstate", type_="check")
        batch.create_check_constraint("ck_extensionstate", _in("state", states))


def _notice_checks(kinds, causes):
    with op.batch_alter_table("notice") as batch:
        batch.drop_constraint("ck_noticekind", type_="check")
        batch.drop_constraint("ck_noticecause", type_="check")
        batch.create_check_constraint("ck_noticekind", _in("kind", kinds))
        batch.create_check_constraint("ck_noticecause", _in("cause", causes))


ASSIGNMENT_INDEXES = {
    "ix_assignment_sweep_due_soon": ("due_at", "due_soon_notified_at IS NULL"),
    "ix_assignment_sweep_overdue": ("due_at", "overdue_reminded_at IS NULL"),
    "ix_assignment_sweep_still_overdue": (
        "overdue_reminded_at",
        "overdue_reminded_at IS NOT NULL AND escalated_notice_at IS NULL",
    ),
}


def _assignment_indexes(paused: bool):
    for name, (column, rest) in ASSIGNMENT_INDEXES.items():
        op.drop_index(name, table_name="assignment")
        pause = " AND paused_at IS NULL" if paused else ""
        op.create_index(name, "assignment", [column], **_where(f"active AND state IN {RUNNING}{pause} AND {rest}"))


def upgrade():
    op.create_table(
        "finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("result", _enum("ck_findingresult", FINDINGS), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_finding_case_id", "finding", ["case_id"])
    op.create_table(
        "rectification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            _enum("ck_rectificationstate", ("awaiting_plan", "planned", "submitted", "accepted")),
            nullable=False,
        ),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=True),
        sa.Column("responsible", sa.String(length=100), nullable=True),
        sa.Column("due_days", sa.Integer(), nullable=True),
        sa.Column("due_start_at", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("planned_at", sa.DateTime(), nullable=True),
        sa.Column("completion", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("send_backs", sa.Integer(), nullable=False),
        sa.Column("overdue_reminded_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("due_days IS NULL OR due_days > 0", name="ck_rectification_due_days"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rectification_case_state", "rectification", ["case_id", "state"])
    op.create_index(
        "uq_rectification_open_per_case",
        "rectification",
        ["case_id"],
        unique=True,
        **_where("state <> 'accepted'"),
    )
    op.create_index(
        "ix_rectification_sweep_overdue",
        "rectification",
        ["due_at"],
        **_where("state = 'planned' AND overdue_reminded_at IS NULL"),
    )
    op.create_table(
        "clock_pause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("paused_at", sa.DateTime(), nullable=False),
        sa.Column("paused_by_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("resumed_at", sa.DateTime(), nullable=True),
        sa.Column("resumed_by_id", sa.Integer(), nullable=True),
        sa.Column("working_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["paused_by_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["resumed_by_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_clock_pause_case_id", "clock_pause", ["case_id"])
    op.create_table(
        "dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("state", _enum("ck_disputestate", ("open", "decided")), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("lead_department_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["lead_department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["raised_by_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dispute_case_id", "dispute", ["case_id"])

    with op.batch_alter_table("cases") as batch:
        for column in (
            "first_response_due_at",
            "first_responded_at",
            "first_response_reminded_at",
            "dispatch_reminded_at",
            "verify_due_at",
            "verified_at",
            "verify_reminded_at",
        ):
            batch.add_column(sa.Column(column, sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("finding", _enum("ck_findingresult", FINDINGS), nullable=True))
    op.create_index(
        "ix_cases_sweep_first_response",
        "cases",
        ["first_response_due_at"],
        **_where("first_responded_at IS NULL AND first_response_reminded_at IS NULL"),
    )
    op.create_index(
        "ix_cases_sweep_not_dispatched",
        "cases",
        ["dispatch_due_at"],
        **_where("status = 'accepted' AND dispatch_reminded_at IS NULL"),
    )
    op.create_index(
        "ix_cases_sweep_not_verified",
        "cases",
        ["verify_due_at"],
        **_where("verified_at IS NULL AND verify_reminded_at IS NULL"),
    )
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(sa.Column("pause_days", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("paused_at", sa.DateTime(), nullable=True))
    _assignment_indexes(paused=True)
    with op.batch_alter_table("revisit_task") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reached", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column(
                "rating",
                _enum("ck_rating", ("satisfied", "basically_satisfied", "unsatisfied")),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
    with op.batch_alter_table("reward") as batch:
        batch.add_column(sa.Column("split", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("attachment") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=16), nullable=False, server_default="material"))
        batch.add_column(sa.Column("ref_id", sa.Integer(), nullable=True))
    _notice_checks(NEW_KINDS, NEW_CAUSES)
    _extension_check(("pending", "approved", "refused", "withdrawn"))


def downgrade():
    _extension_check(("pending", "approved", "refused"))
    _notice_checks(OLD_KINDS, OLD_CAUSES)
    with op.batch_alter_table("attachment") as batch:
        batch.drop_column("ref_id")
        batch.drop_column("purpose")
    with op.batch_alter_table("reward") as batch:
        batch.drop_column("split")
    with op.batch_alter_table("revisit_task") as batch:
        for column in ("notes", "rating", "reached", "last_attempt_at", "attempts"):
            batch.drop_column(column)
    _assignment_indexes(paused=False)
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("paused_at")
        batch.drop_column("pause_days")
    for name in ("ix_cases_sweep_not_verified", "ix_cases_sweep_not_dispatched", "ix_cases_sweep_first_response"):
        op.drop_index(name, table_name="cases")
    with op.batch_alter_table("cases") as batch:
        for column in (
            "finding",
            "verify_reminded_at",
            "verified_at",
            "verify_due_at",
            "dispatch_reminded_at",
            "first_response_reminded_at",
            "first_responded_at",
            "first_response_due_at",
        ):
            batch.drop_column(column)
    for table in ("dispute", "clock_pause", "rectification", "finding"):
        op.drop_table(table)
