"""daily review in the emulation index: contests.weight_review, round_unit_stats.review_days,
review_logs.unit_id (the branch a review answer counts for)

Revision ID: learnweight01_review_in_index
Revises: reach02_quiz_layout_extra_time
Create Date: 2026-12-04 10:25:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'learnweight01_review_in_index'
down_revision = "reach02_quiz_layout_extra_time"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight_review', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('round_unit_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_days', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_review_logs_unit_id_units'), 'units', ['unit_id'], ['id'])
    # Answers given before: the member's branch now (the best that is known); the review
    # counters are then rebuilt by `flask standings recompute`.
    op.execute("UPDATE review_logs SET unit_id = (SELECT users.unit_id FROM users "
               "WHERE users.id = review_logs.user_id)")


def downgrade():
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_review_logs_unit_id_units'), type_='foreignkey')
        batch_op.drop_column('unit_id')
    with op.batch_alter_table('round_unit_stats', schema=None) as batch_op:
        batch_op.drop_column('review_days')
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.drop_column('weight_review')
