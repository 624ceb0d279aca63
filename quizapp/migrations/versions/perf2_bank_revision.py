"""bank_revision: a token that changes with every write to the bank, for caches

Revision ID: perf2_bank_revision
Revises: points01_partial_credit_totals
Create Date: 2026-12-04 12:40:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


revision = 'perf2_bank_revision'
down_revision = 'points01_partial_credit_totals'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'bank_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'token': uuid.uuid4().hex}])


def downgrade():
    op.drop_table('bank_revision')
