"""official documents: notices frozen when issued, interview details, report issue numbers and
the texts the supervisor's office writes, the issuing office's contact, copy line and seal

Revision ID: a9b8c7d6e5f4
Revises: f1a2b3c4d5e6
Create Date: 2026-12-02 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a9b8c7d6e5f4"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jurisdiction") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("contact_phone", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("notice_copy_to", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("seal_sha256", sa.String(64)))
    with op.batch_alter_table("notice") as batch:
        batch.add_column(sa.Column("meeting_at", sa.DateTime()))
        batch.add_column(sa.Column("meeting_place", sa.String(200)))
        batch.add_column(sa.Column("attendees", sa.Text()))
        batch.add_column(sa.Column("materials", sa.Text()))
        batch.add_column(sa.Column("document", sa.JSON()))
        batch.add_column(sa.Column("pdf_sha256", sa.String(64)))
        batch.add_column(sa.Column("pdf_pages", sa.Integer()))
    op.create_table(
        "report_counter",
        sa.Column("jurisdiction_id", sa.Integer(), sa.ForeignKey("jurisdiction.id"), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("series", sa.String(10), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("generated_report") as batch:
        for name, type_ in (
            ("issue_year", sa.Integer()),
            ("issue_number", sa.Integer()),
            ("analysis", sa.Text()),
            ("requirements", sa.Text()),
            ("recipients", sa.Text()),
            ("copy_to", sa.Text()),
            ("edited_at", sa.DateTime()),
            ("edited_by_name", sa.String(128)),
            ("pdf_sha256", sa.String(64)),
        ):
            batch.add_column(sa.Column(name, type_))


def downgrade():
    with op.batch_alter_table("generated_report") as batch:
        for name in (
            "pdf_sha256",
            "edited_by_name",
            "edited_at",
            "copy_to",
            "recipients",
            "requirements",
            "analysis",
            "issue_number",
            "issue_year",
        ):
            batch.drop_column(name)
    op.drop_table("report_counter")
    with op.batch_alter_table("notice") as batch:
        for name in ("pdf_pages", "pdf_sha256", "document", "materials", "attendees", "meeting_place", "meeting_at"):
            batch.drop_column(name)
    with op.batch_alter_table("jurisdiction") as batch:
        for name in ("seal_sha256", "notice_copy_to", "contact_phone", "contact_name"):
            batch.drop_column(name)
