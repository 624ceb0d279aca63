"""users.quiz_layout (one question per screen or the long page, remembered per member)
and round_extra_time (extra minutes an organizer or secretary grants a member for a round)

Revision ID: reach02_quiz_layout_extra_time
Revises: credit01_partial_credit
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa
import quizapp.models.types


revision = 'reach02_quiz_layout_extra_time'
down_revision = "credit01_partial_credit"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiz_layout', sa.String(length=8), nullable=True))
    op.create_table(
        'round_extra_time',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('granted_by_id', sa.Integer(), nullable=False),
        sa.Column('granted_at', quizapp.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['granted_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'user_id'))
    with op.batch_alter_table('round_extra_time', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_extra_time_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('round_extra_time', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_extra_time_round_id'))
    op.drop_table('round_extra_time')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('quiz_layout')
