"""list paging index: a department's current cases by case id (partial, active only)

Revision ID: a1c3e5f7b9d2
Revises: f253d4cbfb28
Create Date: 2026-11-29 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a1c3e5f7b9d2'
down_revision = 'f253d4cbfb28'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_dept_active')
        batch_op.create_index('ix_assignment_active_dept_case', ['department_id', 'case_id'],
                              unique=False, postgresql_where=sa.text('active'),
                              sqlite_where=sa.text('active'))


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_active_dept_case')
        batch_op.create_index('ix_assignment_dept_active', ['department_id', 'active'],
                              unique=False)
