"""collective (branch) prizes, confirmed and stored like individual prizes

Revision ID: fair_rank_c01
Revises: int_practice_a1
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa
import quizapp.models.types


revision = 'fair_rank_c01'
down_revision = "int_practice_a1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('collective_prizes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=20), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('roster', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('participation', sa.String(length=12), nullable=False),
    sa.Column('score', sa.String(length=12), nullable=False),
    sa.Column('improvement', sa.String(length=12), nullable=False),
    sa.Column('index_value', sa.String(length=12), nullable=False),
    sa.Column('arithmetic', sa.String(length=200), nullable=False),
    sa.Column('tie_flagged', sa.Boolean(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', quizapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_collective_prizes_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_collective_prizes_round_id_rounds')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_collective_prizes_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collective_prizes')),
    sa.UniqueConstraint('round_id', 'unit_id', name=op.f('uq_collective_prizes_round_id_unit_id'))
    )
    with op.batch_alter_table('collective_prizes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collective_prizes_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('collective_prizes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collective_prizes_round_id'))
    op.drop_table('collective_prizes')
