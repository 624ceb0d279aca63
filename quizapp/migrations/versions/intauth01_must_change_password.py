"""users.must_change_password: a password set by someone else (a reset) must be changed
at the next login

Revision ID: intauth01_must_change
Revises: fair_rank_c01
Create Date: 2026-12-04 06:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'intauth01_must_change'
down_revision = 'fair_rank_c01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
