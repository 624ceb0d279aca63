"""Paper sheets count as the round's whole time limit (data only)

A paper sheet's "time taken" used to run from printing to entry (capped at the limit),
which says nothing about the member and lost him time tie-breaks. attempts.finish now
stores the time limit for a paper attempt; this brings the sheets already entered, and
the results they count for, to the same rule.

Revision ID: reach3a_paper_time_limit
Revises: paperprize01_round_paper_prizes
Create Date: 2026-12-04 12:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'reach3a_paper_time_limit'
down_revision = 'paperprize01_round_paper_prizes'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    yes = sa.bindparam("yes", True, type_=sa.Boolean())
    bind.execute(sa.text(
        "UPDATE attempts SET time_taken_seconds = time_limit_seconds "
        "WHERE on_paper = :yes AND status = 'finished' AND time_limit_seconds IS NOT NULL"
    ).bindparams(yes))
    bind.execute(sa.text(
        "UPDATE round_results SET time_taken_seconds = (SELECT a.time_taken_seconds FROM attempts a "
        "WHERE a.id = round_results.attempt_id) WHERE attempt_id IN (SELECT id FROM attempts "
        "WHERE on_paper = :yes AND status = 'finished' AND time_limit_seconds IS NOT NULL)"
    ).bindparams(yes))


def downgrade():
    # The old figures (printing to entry) meant nothing about the member: not restored.
    pass
