"""users.large_text: the large-text mode a member (or his secretary) turns on once

Revision ID: reach01_large_text
Revises: meeting01_live_sessions
Create Date: 2026-12-04 07:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'reach01_large_text'
down_revision = 'meeting01_live_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('large_text', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('large_text')
