"""partial credit in the totals: attempts.points, round_results.points and
round_unit_stats.points_sum, in hundredths of a question (the sum of the answers' credit)

Revision ID: points01_partial_credit_totals
Revises: reach3a_paper_time_limit
Create Date: 2026-12-04 13:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'points01_partial_credit_totals'
down_revision = 'reach3a_paper_time_limit'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points', sa.Integer(), nullable=True))
    with op.batch_alter_table('round_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('round_unit_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_sum', sa.Integer(), server_default='0',
                                      nullable=False))
    # Graded attempts: the credit their answers earned (voided questions hold NULL).
    op.execute("UPDATE attempts SET points = (SELECT COALESCE(SUM(q.credit), 0) "
               "FROM attempt_questions q WHERE q.attempt_id = attempts.id) "
               "WHERE score IS NOT NULL")
    op.execute("UPDATE round_results SET points = COALESCE((SELECT a.points FROM attempts a "
               "WHERE a.id = round_results.attempt_id), score * 100)")
    # The branch sums: what score_sum held, with each counted result's own points in place
    # of its score (the results that count are those score_sum was built from).
    op.execute("UPDATE round_unit_stats SET points_sum = score_sum * 100 + COALESCE(("
               "SELECT SUM(r.points - r.score * 100) FROM round_results r "
               "JOIN users u ON u.id = r.user_id "
               "WHERE r.round_id = round_unit_stats.round_id AND r.unit_id = round_unit_stats.unit_id "
               "AND u.active AND NOT u.exempt AND u.role IN ('member', 'secretary')), 0)")


def downgrade():
    # A plain DROP COLUMN (SQLite 3.35 and later have it): rebuilding these tables, as
    # batch mode would, trips the foreign keys that point at them when rows exist.
    for table, column in (('round_unit_stats', 'points_sum'), ('round_results', 'points'),
                          ('attempts', 'points')):
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.drop_column(column)
