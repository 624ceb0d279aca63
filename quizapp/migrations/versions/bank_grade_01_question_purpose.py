"""questions: purpose (what a question tests) and excludes (questions never drawn with it)

Revision ID: bank_grade_01
Revises: reach01_large_text
Create Date: 2026-12-04 06:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'bank_grade_01'
down_revision = 'reach01_large_text'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('excludes', sa.String(length=500), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_questions_purpose'), ['purpose'], unique=False)
    # The server defaults only fill the rows that exist; the model supplies the value after.
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.alter_column('purpose', server_default=None)
        batch_op.alter_column('excludes', server_default=None)


def downgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_purpose'))
        batch_op.drop_column('excludes')
        batch_op.drop_column('purpose')
