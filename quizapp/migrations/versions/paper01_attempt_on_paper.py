"""attempts: on_paper (a round attempt answered on a printed sheet, entered by a secretary)

Revision ID: paper01_attempt_on_paper
Revises: bank_grade_01
Create Date: 2026-12-04 10:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'paper01_attempt_on_paper'
down_revision = 'bank_grade_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_paper', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('on_paper')
