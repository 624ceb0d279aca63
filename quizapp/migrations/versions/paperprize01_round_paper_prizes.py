"""rounds.paper_prizes: whether paper answer sheets may win individual prizes

Revision ID: paperprize01_round_paper_prizes
Revises: learnweight01_review_in_index
Create Date: 2026-12-04 11:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'paperprize01_round_paper_prizes'
down_revision = 'learnweight01_review_in_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_prizes', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('paper_prizes')
