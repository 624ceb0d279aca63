"""daily review (issue 14): one FSRS card per member and question key, one log row per answer

Revision ID: review01_cards
Revises: intauth01_must_change
Create Date: 2026-12-04 07:10:00

"""
from alembic import op
import sqlalchemy as sa
import quizapp.models.types


revision = 'review01_cards'
down_revision = 'intauth01_must_change'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=80), nullable=False),
    sa.Column('fsrs_card', sa.Text(), nullable=False),
    sa.Column('state', sa.Integer(), nullable=False),
    sa.Column('due', quizapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_review', quizapp.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reps', sa.Integer(), nullable=False),
    sa.Column('lapses', sa.Integer(), nullable=False),
    sa.Column('created_at', quizapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_review_cards_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_cards')),
    sa.UniqueConstraint('user_id', 'question_key', name=op.f('uq_review_cards_user_id_question_key'))
    )
    with op.batch_alter_table('review_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_cards_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_review_cards_user_id_due', ['user_id', 'due'], unique=False)

    op.create_table('review_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('selected', sa.String(length=200), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', quizapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['review_cards.id'], name=op.f('fk_review_logs_card_id_review_cards')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_review_logs_question_id_questions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_review_logs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_logs'))
    )
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_logs_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_logs_reviewed_at'), ['reviewed_at'], unique=False)
        batch_op.create_index('ix_review_logs_user_id_day', ['user_id', 'day'], unique=False)



def downgrade():
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_review_logs_user_id_day')
        batch_op.drop_index(batch_op.f('ix_review_logs_reviewed_at'))
        batch_op.drop_index(batch_op.f('ix_review_logs_card_id'))

    op.drop_table('review_logs')
    with op.batch_alter_table('review_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_review_cards_user_id_due')
        batch_op.drop_index(batch_op.f('ix_review_cards_created_at'))

    op.drop_table('review_cards')
