"""partial credit: choices.fraction (Moodle's share of the mark, NULL = classic) and
attempt_questions.credit (the credit earned, integer percent 0..100)

Revision ID: credit01_partial_credit
Revises: paper01_attempt_on_paper
Create Date: 2026-12-04 10:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'credit01_partial_credit'
down_revision = 'paper01_attempt_on_paper'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('choices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fraction', sa.Float(), nullable=True))
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partial_credit', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('attempt_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit', sa.Integer(), nullable=True))
    # Graded answers so far are classic: right is 100 %, wrong 0 %.
    op.execute("UPDATE attempt_questions SET credit = CASE WHEN is_correct THEN 100 ELSE 0 END "
               "WHERE is_correct IS NOT NULL")


def downgrade():
    with op.batch_alter_table('attempt_questions', schema=None) as batch_op:
        batch_op.drop_column('credit')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('partial_credit')
    with op.batch_alter_table('choices', schema=None) as batch_op:
        batch_op.drop_column('fraction')
