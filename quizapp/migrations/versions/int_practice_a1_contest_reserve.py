"""contest reserve: questions used only in contests, and the pool a round draws from

Revision ID: int_practice_a1
Revises: b1fc1c959abf
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'int_practice_a1'
down_revision = 'b1fc1c959abf'
branch_labels = None
depends_on = None


def upgrade():
    # Server defaults fill the rows that exist: every question stays a practice question
    # and every round keeps drawing from the whole approved bank, as before.
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reserve', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('question_pool', sa.String(length=10), server_default='all',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('question_pool')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('reserve')
