"""users.quiz_layout (one question per screen or the long page, remembered per member)
and round_extra_time (extra minutes an organizer or secretary grants a member for a round)

Revision ID: reach02_quiz_layout_extra_time
Revises: bank_grade_01
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'reach02_quiz_layout_extra_time'
down_revision = 'bank_grade_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiz_layout', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('quiz_layout')
