#!/usr/bin/env python3
"""City scale: do the standings and branch pages stay flat from 10,000 to 2,000,000 attempts?

`make bench` runs this after the other benchmarks. It
1. drops and recreates its own PostgreSQL database (SCALE_DATABASE_URL, by default
   quizapp_scale on BENCH_DATABASE_URL's server), migrates and imports the bundled bank
   with the app's CLI;
2. creates, through the services, a ward, an organizer, one contest and four rounds
   (three closed, the fourth open; 20 questions, 20 minutes, two attempts allowed, the
   best counts), moving the app's clock back to schedule them; then, with SQL
   (INSERT … SELECT generate_series), SCALE_BRANCHES branches under the ward and
   SCALE_MEMBERS members spread evenly over them (one secretary per branch, about 1 %
   exempt and 0.5 % deactivated), and the branches' active rosters;
3. stage 1: inserts SCALE_SMALL_ATTEMPTS finished attempts with SQL, each with its 20
   frozen questions and graded answers (attempt_questions), and builds RoundResult,
   RoundUnitStats and RoundSectionStats from them with grouped SQL that follows the
   app's rules (best score, then shorter time, then earlier finish; only members who
   count in the movement); VACUUM ANALYZE;
4. times `flask --app quizapp standings recompute --check` (must say OK: the generator
   and the app agree), starts gunicorn (production settings, BENCH_WORKERS sync workers),
   logs in as the organizer and measures GET /standings/round/<open round>,
   /standings/contest/<id> and /branch/<unit id> (rotating over SCALE_BRANCH_SAMPLE
   branches): SCALE_WARMUP unrecorded and up to SCALE_SAMPLES recorded requests each,
   one at a time;
5. stage 2: adds attempts up to SCALE_ATTEMPTS (same members and branches, without
   attempt_questions: 40 million rows would take longer than everything else together),
   rebuilds the three counter tables the same way (the mastery counters of attempts
   without questions are synthesised per branch from their scores, spread over the
   outline sections in the bank's proportions), VACUUM ANALYZE, and measures the same
   pages again;
6. profiles one request of each page in-process with cProfile (benchmarks/out/
   scale-profile-*.txt) and summarises where the time goes;
7. times `standings recompute --check` at the full size, bounded by
   SCALE_RECOMPUTE_TIMEOUT seconds (it reports the mastery counters synthesised in
   stage 2 as differences: the attempts behind them have no questions);
8. prints the figures and rewrites its section of benchmarks/REPORT.md. Exit status 1
   when a request failed or the stage-1 check did not hold.

gunicorn is stopped on every path (harness.gunicorn). Settings from the environment:
SCALE_DATABASE_URL, SCALE_MEMBERS (500000), SCALE_BRANCHES (2000), SCALE_ATTEMPTS
(2000000), SCALE_SMALL_ATTEMPTS (10000), SCALE_SAMPLES (20), SCALE_WARMUP (2),
SCALE_BRANCH_SAMPLE (25), SCALE_PAGE_SECONDS (30: a slow page stops after that many
seconds, with at least 5 recorded requests), SCALE_RECOMPUTE_TIMEOUT (120 s),
SCALE_PROFILE (1), and BENCH_WORKERS from harness.py. The bulk load switches off
foreign-key triggers (session_replication_role), which needs a superuser.
"""
from __future__ import annotations

import asyncio
import cProfile
import io
import math
import os
import pstats
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit


def _scale_url() -> str:
    if os.environ.get("SCALE_DATABASE_URL"):
        return os.environ["SCALE_DATABASE_URL"]
    base = os.environ.get("BENCH_DATABASE_URL",
                          "postgresql://postgres@127.0.0.1:5432/quizapp_bench")
    return urlunsplit(urlsplit(base)._replace(path="/quizapp_scale"))


SCALE_URL = _scale_url()
# harness.py reads BENCH_DATABASE_URL at import: its database helpers, gunicorn and the
# app's CLI then all use the scale database (dropped and recreated on every run).
os.environ["BENCH_DATABASE_URL"] = SCALE_URL

from harness import (command_line, BIN, OUT_DIR, PASSWORD, ROOT, WORKERS, bench_app, gunicorn,  # noqa: E402
                     gunicorn_log_errors, log, machine_line, package_version, percentile,
                     prepare_database, server_env, without_password, write_report_section)
from httpclient import REQUEST_ERRORS, HTTPError, Session, expect, hidden_value  # noqa: E402

MEMBERS = int(os.environ.get("SCALE_MEMBERS", "500000"))
BRANCHES = int(os.environ.get("SCALE_BRANCHES", "2000"))
ATTEMPTS = int(os.environ.get("SCALE_ATTEMPTS", "2000000"))
SMALL_ATTEMPTS = int(os.environ.get("SCALE_SMALL_ATTEMPTS", "10000"))
SAMPLES = int(os.environ.get("SCALE_SAMPLES", "20"))
WARMUP = int(os.environ.get("SCALE_WARMUP", "2"))
BRANCH_SAMPLE = int(os.environ.get("SCALE_BRANCH_SAMPLE", "25"))
PAGE_SECONDS = float(os.environ.get("SCALE_PAGE_SECONDS", "30"))
MIN_SAMPLES = 5
RECOMPUTE_TIMEOUT = float(os.environ.get("SCALE_RECOMPUTE_TIMEOUT", "120"))
PROFILE = os.environ.get("SCALE_PROFILE", "1") not in ("0", "", "no")
QUESTIONS = 20
TIME_LIMIT = 20 * 60
ROUNDS = 4
# Share of the attempts in each round (the fourth is open and has fewer so far) and
# attempts per participating member (two allowed; the most eager take both).
ROUND_SHARES = (0.27, 0.27, 0.27, 0.19)
ATTEMPTS_PER_PARTICIPANT = 1.2
REQUEST_TIMEOUT = 120.0
GOAL = 1.5
HOST = "127.0.0.1"
ORGANIZER = "scale-organizer"

if not 0 < SMALL_ATTEMPTS <= ATTEMPTS:
    raise SystemExit("need 0 < SCALE_SMALL_ATTEMPTS <= SCALE_ATTEMPTS")
if BRANCHES > MEMBERS:
    raise SystemExit("need SCALE_BRANCHES <= SCALE_MEMBERS")

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
           "Dương", "Lý", "Phan", "Trịnh", "Đinh", "Lương", "Tạ", "Kiều", "Chu"]
_MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Hồng", "Ngọc", "Thanh", "Xuân",
           "Hữu", "Kim", "Bảo", "Anh", "Thế", "Diệu"]
_GIVEN = ["An", "Anh", "Bình", "Chi", "Cường", "Dung", "Dũng", "Giang", "Hà", "Hải", "Hạnh",
          "Hiếu", "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam",
          "Nga", "Ngọc", "Phong", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Thắng",
          "Trang", "Trung", "Tuấn", "Uyên", "Vân", "Việt", "Yến", "Đạt"]
_BRANCH_KINDS = ["Chi bộ Tổ dân phố số", "Chi bộ Khu dân cư số", "Chi bộ cơ quan số",
                 "Chi bộ trường học số", "Chi bộ doanh nghiệp số"]


# ---------------------------------------------------------------- the plan

@dataclass
class RoundPlan:
    """Round r's attempts after a stage: the `first` most eager members took it once,
    the `second` most eager of them twice."""
    number: int
    round_id: int
    title: str
    opens_at: datetime
    closes_at: datetime
    first: int
    second: int

    @property
    def attempts(self) -> int:
        return self.first + self.second


def split_attempts(total: int) -> list[tuple[int, int]]:
    """(first attempts, second attempts) per round, adding up to exactly `total`."""
    sizes = [int(total * share) for share in ROUND_SHARES]
    sizes[-1] += total - sum(sizes)
    out = []
    for size in sizes:
        first = min(MEMBERS, max(1, round(size / ATTEMPTS_PER_PARTICIPANT)))
        second = size - first
        if second > first:
            raise SystemExit(f"{total} attempts do not fit {MEMBERS} members × {ROUNDS} rounds "
                             f"× 2 attempts")
        out.append((first, second))
    return out


@dataclass
class World:
    ward_id: int
    unit_base: int          # branch b (1..BRANCHES) has id unit_base + b
    user_base: int          # member n (1..MEMBERS) has id user_base + n
    organizer_id: int
    contest_id: int
    rounds: list[RoundPlan]
    generated_at: datetime  # "now" of the generator: attempts end before it
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def open_round(self) -> RoundPlan:
        return self.rounds[-1]

    def sample_branches(self) -> list[int]:
        n = min(BRANCH_SAMPLE, BRANCHES)
        return [self.unit_base + 1 + (i * BRANCHES) // n for i in range(n)]


# ---------------------------------------------------------------- data

def pg(autocommit: bool = False):
    import psycopg
    return psycopg.connect(SCALE_URL, autocommit=autocommit)


SQL_HELPERS = """
-- A repeatable pseudo-random number in [0, 1) from an integer and a seed.
CREATE FUNCTION pg_temp.h(x bigint, seed bigint) RETURNS float8 AS
  $$ SELECT (hashint8extended(x, seed) & 4503599627370495)::float8 / 4503599627370496.0 $$
  LANGUAGE sql IMMUTABLE;
"""


def bulk_session(conn) -> None:
    """Session settings for the bulk load. session_replication_role = replica skips the
    foreign-key triggers: every id is built from the same numbering, so the rows are
    consistent by construction (checked by the recompute at stage 1)."""
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET session_replication_role = replica")
    conn.execute(SQL_HELPERS)


def create_world() -> World:
    """Ward, organizer, contest and rounds through the services; branches and members
    with SQL."""
    from quizapp import clock
    from quizapp.extensions import db
    from quizapp.services import contests
    from quizapp.services.people import users

    app = bench_app()
    real_now = clock.utcnow().replace(microsecond=0)
    windows = [  # (opens, closes) relative to now: three closed rounds, the fourth open
        (real_now - timedelta(days=40), real_now - timedelta(days=33)),
        (real_now - timedelta(days=26), real_now - timedelta(days=19)),
        (real_now - timedelta(days=12), real_now - timedelta(days=5)),
        (real_now - timedelta(days=2), real_now + timedelta(days=5)),
    ]
    with app.app_context():
        ward = users.create_unit("scale-ward", "Đảng bộ phường (quy mô thành phố)", kind="committee")
        organizer = users.create_user(ORGANIZER, "Ban tổ chức (benchmark)", ward,
                                      role="organizer", password=PASSWORD)
        contest = contests.create_contest(organizer, "Hội thi tìm hiểu Nghị quyết (quy mô thành phố)",
                                          "20 câu, 20 phút, 2 lượt; tính lượt cao nhất.", [ward])
        plans = []
        try:
            for number, (opens, closes) in enumerate(windows, 1):
                clock.set_clock(lambda t=opens: t - timedelta(days=1))
                round_ = contests.create_round(organizer, contest, contests.RoundSettings(
                    title=f"Vòng {number}", opens_at=opens, closes_at=closes,
                    time_limit_minutes=TIME_LIMIT // 60, question_count=QUESTIONS,
                    attempts_allowed=2, counting="best", results_visibility="at_close"))
                contests.schedule(organizer, round_)
                plans.append(RoundPlan(number, round_.id, round_.title, opens, closes, 0, 0))
        finally:
            clock.reset_clock()
        db.session.commit()
        world = World(ward.id, 0, 0, organizer.id, contest.id, plans, real_now)
        ward_path = ward.path
        db.session.remove()
        db.engine.dispose()

    t0 = time.perf_counter()
    with pg() as conn:
        bulk_session(conn)
        world.unit_base = conn.execute("SELECT max(id) FROM units").fetchone()[0]
        world.user_base = conn.execute("SELECT max(id) FROM users").fetchone()[0]
        conn.execute("""
            INSERT INTO units (id, code, name, kind, parent_id, path, position, active_roster)
            SELECT %(base)s + b, 'cb-' || lpad(b::text, 4, '0'),
                   (%(kinds)s::text[])[1 + (b - 1) %% %(nkinds)s] || ' ' || b,
                   'branch', %(ward)s, %(path)s || 'cb-' || lpad(b::text, 4, '0') || '/', b, 0
            FROM generate_series(1, %(branches)s) AS b""",
                     {"base": world.unit_base, "kinds": _BRANCH_KINDS, "nkinds": len(_BRANCH_KINDS),
                      "ward": world.ward_id, "path": ward_path, "branches": BRANCHES})
        conn.execute("SELECT setval(pg_get_serial_sequence('units', 'id'), (SELECT max(id) FROM units))")
        conn.execute("""
            INSERT INTO users (id, username, phone, full_name, role, unit_id, password_hash,
                               active, exempt, birth_year, session_version, created_at)
            SELECT %(base)s + n, 'dv' || lpad(n::text, 7, '0'),
                   CASE WHEN pg_temp.h(n, 11) < 0.8 THEN '09' || lpad(n::text, 8, '0') END,
                   (%(family)s::text[])[1 + floor(pg_temp.h(n, 12) * %(nf)s)::int] || ' ' ||
                   (%(middle)s::text[])[1 + floor(pg_temp.h(n, 13) * %(nm)s)::int] || ' ' ||
                   (%(given)s::text[])[1 + floor(pg_temp.h(n, 14) * %(ng)s)::int],
                   CASE WHEN n <= %(branches)s THEN 'secretary' ELSE 'member' END,
                   %(unit_base)s + 1 + (n - 1) %% %(branches)s, NULL,
                   pg_temp.h(n, 15) >= 0.005, pg_temp.h(n, 16) < 0.01,
                   1945 + floor(pg_temp.h(n, 17) * 60)::int, 1, now()
            FROM generate_series(1, %(members)s) AS n""",
                     {"base": world.user_base, "family": _FAMILY, "nf": len(_FAMILY),
                      "middle": _MIDDLE, "nm": len(_MIDDLE), "given": _GIVEN, "ng": len(_GIVEN),
                      "branches": BRANCHES, "unit_base": world.unit_base, "members": MEMBERS})
        conn.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")
        # The participation denominator, as services.branches.counters.refresh_rosters counts it.
        conn.execute("""
            UPDATE units SET active_roster = c.n FROM (
                SELECT unit_id, count(*) AS n FROM users
                WHERE active AND NOT exempt AND role IN ('member', 'secretary') GROUP BY unit_id) c
            WHERE units.id = c.unit_id""")
        conn.commit()
    world.timings["branches and members"] = time.perf_counter() - t0
    return world


class indexes_off:
    """Drop a table's secondary indexes and unique constraints for a bulk load and
    build them again afterwards (much faster than maintaining them row by row)."""

    def __init__(self, conn, table: str):
        self.conn, self.table = conn, table

    def __enter__(self):
        conn, table = self.conn, self.table
        self.constraints = conn.execute("""
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = %s::regclass AND contype = 'u'""", (table,)).fetchall()
        self.indexes = conn.execute("""
            SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)""",
                                    (table,)).fetchall()
        for name, _definition in self.constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in self.indexes:
            conn.execute(f'DROP INDEX "{name}"')
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:
            return False
        for _name, definition in self.indexes:
            self.conn.execute(definition)
        for name, definition in self.constraints:
            self.conn.execute(f'ALTER TABLE {self.table} ADD CONSTRAINT "{name}" {definition}')
        return False


def insert_attempts(conn, world: World, targets: list[tuple[int, int]]) -> int:
    """Finished attempts for each round up to `targets` (first, second): the members in
    a per-round order (see `turns`), the first `first` of them once and the first
    `second` twice; ranks covered by the previous stage are skipped, so stage 2 adds
    to stage 1."""
    inserted = 0
    for plan, (first, second) in zip(world.rounds, targets):
        end = min(plan.closes_at, world.generated_at)
        span = (end - plan.opens_at).total_seconds() - TIME_LIMIT - 3600
        params = {
            "members": MEMBERS, "branches": BRANCHES, "unit_base": world.unit_base,
            "user_base": world.user_base, "r": plan.number, "round_id": plan.round_id,
            "title": plan.title, "opens": plan.opens_at, "closes": plan.closes_at,
            "span": span, "limit": TIME_LIMIT, "q": QUESTIONS,
            "first_lo": plan.first, "first_hi": first, "second_lo": plan.second, "second_hi": second,
        }
        cur = conn.execute("""
            WITH turns AS (
                -- Each branch's members in their own order of eagerness; a branch's share
                -- (0.5–1.0, varying a little by round) sets how fast it advances, so
                -- every branch has its first participants early and the eager branches
                -- end with more.
                SELECT n, row_number() OVER (
                           PARTITION BY (n - 1) %% %(branches)s ORDER BY pg_temp.h(n * 8 + %(r)s, 22), n)
                       / (0.5 + 0.4 * pg_temp.h(1 + (n - 1) %% %(branches)s, 21)
                              + 0.1 * pg_temp.h((1 + (n - 1) %% %(branches)s) * 8 + %(r)s, 20)) AS turn
                FROM generate_series(1, %(members)s) AS n
            ), ranked AS (
                SELECT n, row_number() OVER (ORDER BY turn, n) AS rnk FROM turns
            ), picked AS (
                SELECT n, 1 AS k FROM ranked WHERE rnk > %(first_lo)s AND rnk <= %(first_hi)s
                UNION ALL
                SELECT n, 2 AS k FROM ranked WHERE rnk > %(second_lo)s AND rnk <= %(second_hi)s
            ), timed AS (
                SELECT n, k,
                    -- member skill: the branch's level plus the member's own
                    0.55 + 0.35 * pg_temp.h(1 + (n - 1) %% %(branches)s, 23)
                         + 0.3 * (pg_temp.h(n, 24) - 0.5) AS skill,
                    120 + floor(pg_temp.h((n * 8 + %(r)s) * 4 + 1, 25) * (%(limit)s - 120))::int AS tt1,
                    120 + floor(pg_temp.h((n * 8 + %(r)s) * 4 + k, 25) * (%(limit)s - 120))::int AS tt,
                    %(opens)s::timestamptz + make_interval(secs => floor(pg_temp.h(n * 8 + %(r)s, 26) * %(span)s)) AS st1
                FROM picked
            ), shaped AS (
                SELECT n, k, tt,
                    CASE WHEN k = 1 THEN st1
                         ELSE st1 + make_interval(secs => tt1 + 60 + floor(pg_temp.h(n * 8 + %(r)s, 27) * 3000))
                    END AS st,
                    LEAST(%(q)s, GREATEST(0, round(%(q)s * (skill + 0.05 * (k - 1)
                        + 0.3 * (pg_temp.h((n * 8 + %(r)s) * 4 + k, 28) - 0.5)))))::int AS score
                FROM timed
            )
            INSERT INTO attempts (user_id, kind, round_id, attempt_no, unit_id, prediction, feedback,
                                  title, started_at, time_limit_seconds, deadline, status, finished_at,
                                  finish_reason, score, points, max_score, time_taken_seconds,
                                  last_saved_at, start_token)
            SELECT %(user_base)s + n, 'contest', %(round_id)s, k,
                   %(unit_base)s + 1 + (n - 1) %% %(branches)s, NULL, 'exam', %(title)s,
                   st, %(limit)s, LEAST(st + make_interval(secs => %(limit)s), %(closes)s::timestamptz),
                   'finished', st + make_interval(secs => tt), 'submitted', score, 100 * score,
                   %(q)s, tt,
                   st + make_interval(secs => tt), NULL
            FROM shaped""", params)
        inserted += cur.rowcount
        plan.first, plan.second = first, second
    conn.execute("SELECT setval(pg_get_serial_sequence('attempts', 'id'), (SELECT max(id) FROM attempts))")
    return inserted


def insert_items(conn) -> int:
    """The 20 frozen questions of every attempt so far, answered: exactly `score` of
    them right (the right choices selected), the others with a wrong choice, each with
    the credit a finish gives it (100 or 0), so a regrade changes only what a
    correction changes."""
    conn.execute("""
        CREATE TEMP TABLE qinfo AS
        SELECT (row_number() OVER (ORDER BY q.id) - 1)::int AS idx, q.id AS qid, q.section_id,
            (SELECT string_agg(c.id::text, ',' ORDER BY c.position) FROM choices c
              WHERE c.question_id = q.id) AS choice_order,
            (SELECT string_agg(c.id::text, ',' ORDER BY c.id) FROM choices c
              WHERE c.question_id = q.id AND c.is_correct) AS right_sel,
            (SELECT min(c.id)::text FROM choices c
              WHERE c.question_id = q.id AND NOT c.is_correct) AS wrong_sel
        FROM questions q WHERE q.is_current AND q.status = 'approved'""")
    nq = conn.execute("SELECT count(*) FROM qinfo").fetchone()[0]
    if nq < QUESTIONS:
        raise SystemExit(f"the bank has {nq} approved questions, fewer than {QUESTIONS}")
    step = next(s for s in range(13, 10_000) if math.gcd(s, nq) == 1)        # distinct questions
    mult = next(m for m in range(7, 10_000) if math.gcd(m, QUESTIONS) == 1)  # which are right
    cur = conn.execute("""
        INSERT INTO attempt_questions (attempt_id, question_id, position, choice_order, selected,
                                       answered_at, locked, is_correct, credit)
        SELECT a.id, qi.qid, k, qi.choice_order,
               CASE WHEN (k * %(mult)s + a.id) %% %(q)s < a.score THEN qi.right_sel ELSE qi.wrong_sel END,
               a.started_at + make_interval(secs => (k + 1) * a.time_taken_seconds / (%(q)s + 1)),
               false, (k * %(mult)s + a.id) %% %(q)s < a.score,
               CASE WHEN (k * %(mult)s + a.id) %% %(q)s < a.score THEN 100 ELSE 0 END
        FROM attempts a CROSS JOIN generate_series(0, %(q)s - 1) AS k
        JOIN qinfo qi ON qi.idx = (a.id * 37 + k * %(step)s) %% %(nq)s
        WHERE a.round_id IS NOT NULL""", {"mult": mult, "q": QUESTIONS, "step": step, "nq": nq})
    return cur.rowcount


COUNTS_IN_MOVEMENT = "u.active AND NOT u.exempt AND u.role IN ('member', 'secretary')"


def build_counters(conn, synthesise_sections: bool) -> None:
    """RoundResult, RoundUnitStats and RoundSectionStats from the attempts, with the rules
    of services.counters (what its recompute computes, as grouped SQL)."""
    conn.execute("TRUNCATE round_results, round_unit_stats, round_section_stats RESTART IDENTITY")
    # The counting attempt: best score, then shorter time, then the earlier finish.
    conn.execute("""
        INSERT INTO round_results (round_id, user_id, unit_id, attempt_id, score, max_score,
                                   points, time_taken_seconds, finished_at, prediction)
        SELECT DISTINCT ON (round_id, user_id) round_id, user_id, unit_id, id, score, max_score,
               coalesce(points, 0), time_taken_seconds, finished_at, prediction
        FROM attempts WHERE round_id IS NOT NULL AND status = 'finished'
        ORDER BY round_id, user_id, score DESC, coalesce(time_taken_seconds, 0), finished_at, id""")
    conn.execute(f"""
        INSERT INTO round_unit_stats (round_id, unit_id, started, finished, participants,
                                      score_sum, points_sum, max_sum, full_scores)
        SELECT round_id, unit_id, coalesce(a.started, 0), coalesce(a.finished, 0),
               coalesce(p.participants, 0), coalesce(p.score_sum, 0), coalesce(p.points_sum, 0),
               coalesce(p.max_sum, 0), coalesce(p.full_scores, 0)
        FROM (SELECT round_id, unit_id, count(*) AS started,
                     count(*) FILTER (WHERE status = 'finished') AS finished
              FROM attempts WHERE round_id IS NOT NULL GROUP BY round_id, unit_id) a
        FULL JOIN (SELECT rr.round_id, rr.unit_id, count(*) AS participants,
                          sum(rr.score) AS score_sum, sum(rr.points) AS points_sum,
                          sum(rr.max_score) AS max_sum,
                          count(*) FILTER (WHERE rr.max_score > 0 AND rr.score = rr.max_score) AS full_scores
                   FROM round_results rr JOIN users u ON u.id = rr.user_id
                   WHERE {COUNTS_IN_MOVEMENT} GROUP BY rr.round_id, rr.unit_id) p
        USING (round_id, unit_id)""")
    real = f"""
        SELECT rr.round_id, rr.unit_id, q.section_id, count(*) AS answered,
               count(*) FILTER (WHERE aq.is_correct) AS correct
        FROM round_results rr JOIN users u ON u.id = rr.user_id
        JOIN attempt_questions aq ON aq.attempt_id = rr.attempt_id
        JOIN questions q ON q.id = aq.question_id
        WHERE {COUNTS_IN_MOVEMENT} AND aq.is_correct IS NOT NULL
        GROUP BY rr.round_id, rr.unit_id, q.section_id"""
    synthesised = f"""
        SELECT s.round_id, s.unit_id, w.section_id,
               round(s.answered * w.share)::int AS answered,
               LEAST(round(s.answered * w.share),
                     round(s.correct * w.share * (0.75 + 0.5 * pg_temp.h(w.section_id, 31))))::int AS correct
        FROM (SELECT rr.round_id, rr.unit_id, sum(rr.max_score) AS answered, sum(rr.score) AS correct
              FROM round_results rr JOIN users u ON u.id = rr.user_id
              WHERE {COUNTS_IN_MOVEMENT}
                AND NOT EXISTS (SELECT 1 FROM attempt_questions aq WHERE aq.attempt_id = rr.attempt_id)
              GROUP BY rr.round_id, rr.unit_id) s
        CROSS JOIN (SELECT section_id, count(*)::float8 / sum(count(*)) OVER () AS share
                    FROM qinfo GROUP BY section_id) w"""
    source = real if not synthesise_sections else f"""
        SELECT round_id, unit_id, section_id, sum(answered) AS answered, sum(correct) AS correct
        FROM ({real} UNION ALL {synthesised}) both_kinds
        GROUP BY round_id, unit_id, section_id"""
    conn.execute(f"""
        INSERT INTO round_section_stats (round_id, unit_id, section_id, answered, correct)
        SELECT round_id, unit_id, section_id, answered, correct FROM ({source}) x
        WHERE answered > 0""")


def vacuum_analyze() -> float:
    t0 = time.perf_counter()
    with pg(autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) attempts, attempt_questions, round_results, "
                     "round_unit_stats, round_section_stats, users, units")
    return time.perf_counter() - t0


def generate(world: World, stage: int, total: int) -> dict[str, float]:
    """Bring the attempts to `total` and rebuild the counters. Returns step timings."""
    timings: dict[str, float] = {}
    targets = split_attempts(total)
    with pg() as conn:
        bulk_session(conn)
        t0 = time.perf_counter()
        with indexes_off(conn, "attempts"):
            inserted = insert_attempts(conn, world, targets)
        timings["attempts"] = time.perf_counter() - t0
        log(f"stage {stage}: inserted {inserted} attempts in {timings['attempts']:.1f} s")
        t0 = time.perf_counter()
        if stage == 1:
            items = insert_items(conn)
            timings["attempt questions"] = time.perf_counter() - t0
            log(f"stage {stage}: {items} attempt questions in {timings['attempt questions']:.1f} s")
        else:
            conn.execute("""
                CREATE TEMP TABLE qinfo AS SELECT q.id AS qid, q.section_id FROM questions q
                WHERE q.is_current AND q.status = 'approved'""")
        t0 = time.perf_counter()
        with indexes_off(conn, "round_results"), indexes_off(conn, "round_section_stats"):
            build_counters(conn, synthesise_sections=stage > 1)
        timings["counters"] = time.perf_counter() - t0
        log(f"stage {stage}: counters rebuilt in {timings['counters']:.1f} s")
        conn.commit()
    timings["vacuum analyze"] = vacuum_analyze()
    log(f"stage {stage}: VACUUM ANALYZE in {timings['vacuum analyze']:.1f} s")
    return timings


def data_counts() -> dict[str, int]:
    with pg() as conn:
        out = {}
        for table in ("units", "users", "attempts", "attempt_questions", "round_results",
                      "round_unit_stats", "round_section_stats"):
            out[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        out["finished"] = conn.execute(
            "SELECT count(*) FROM attempts WHERE status = 'finished'").fetchone()[0]
        out["counting members"] = conn.execute(
            "SELECT count(*) FROM users u WHERE " + COUNTS_IN_MOVEMENT).fetchone()[0]
        out["db bytes"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        return out


# ---------------------------------------------------------------- recompute

@dataclass
class Recompute:
    seconds: float
    status: str             # "ok", "differences", "timeout", "failed"
    detail: str
    kinds: dict[str, int] = field(default_factory=dict)


def time_recompute(timeout: float) -> Recompute:
    cmd = [str(BIN / "flask"), "--app", "quizapp", "standings", "recompute", "--check"]
    log(f"{' '.join(cmd[1:])} (timeout {timeout:.0f} s)")
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=server_env(), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        seconds = time.perf_counter() - t0
        log(f"recompute did not finish in {timeout:.0f} s (stopped)")
        return Recompute(seconds, "timeout", f"stopped after {timeout:.0f} s")
    seconds = time.perf_counter() - t0
    lines = (done.stdout + done.stderr).strip().splitlines()
    kinds: dict[str, int] = {}
    for line in done.stderr.splitlines():
        head = line.split(" ", 1)[0]
        if head in ("results", "units", "sections", "rosters"):
            kinds[head] = kinds.get(head, 0) + 1
    last = lines[-1] if lines else ""
    if done.returncode == 0 and last.startswith("OK"):
        status = "ok"
    elif "difference(s)" in last:
        status = "differences"
    else:
        status = "failed"
    log(f"recompute: exit {done.returncode} after {seconds:.1f} s: {last[:200]}")
    return Recompute(seconds, status, last.replace("Error: ", ""), kinds)


# ---------------------------------------------------------------- HTTP

@dataclass
class PageResult:
    name: str
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)


def page_paths(world: World) -> dict[str, list[str]]:
    return {
        "GET /standings/round/<open round>": [f"/standings/round/{world.open_round.round_id}"],
        "GET /standings/contest/<id>": [f"/standings/contest/{world.contest_id}"],
        "GET /branch/<unit_id>": [f"/branch/{unit_id}" for unit_id in world.sample_branches()],
    }


async def log_in(port: int) -> Session:
    s = Session(HOST, port, timeout=REQUEST_TIMEOUT)
    page = expect(await s.get("/login"), 200, "GET /login").text
    response = expect(await s.post_form("/login", {
        "csrf_token": hidden_value(page, "csrf_token"), "login": ORGANIZER,
        "password": PASSWORD}), 302, "POST /login")
    if response.location_path.startswith("/login"):
        raise HTTPError("the organizer's login was refused")
    return s


async def measure_pages(port: int, world: World) -> list[PageResult]:
    session = await log_in(port)
    results = []
    for name, paths in page_paths(world).items():
        result = PageResult(name)
        give_up = time.perf_counter() + PAGE_SECONDS
        for i in range(WARMUP + SAMPLES):
            if i >= WARMUP + MIN_SAMPLES and time.perf_counter() > give_up:
                break  # slow page: at least MIN_SAMPLES, then stop after PAGE_SECONDS
            path = paths[i % len(paths)]
            t0 = time.perf_counter()
            try:
                response = await session.get(path)
                elapsed = time.perf_counter() - t0
                if response.status != 200:
                    raise HTTPError(f"{path}: HTTP {response.status}")
            except REQUEST_ERRORS as exc:
                result.errors.append(repr(exc)[:200])
                await session.close()
                continue
            if i >= WARMUP:
                result.latencies.append(elapsed)
                result.sizes.append(len(response.body))
        log(f"  {name}: {len(result.latencies)} requests, p50 {result.p(50):.0f} ms, p95 {result.p(95):.0f} ms, "
            f"{sum(result.sizes) / max(1, len(result.sizes)) / 1024:.0f} KiB, "
            f"{len(result.errors)} errors")
        results.append(result)
    await session.close()
    return results


def run_pages(world: World, label: str) -> tuple[list[PageResult], list[str]]:
    log_name = f"gunicorn-scale-{label}.log"
    with gunicorn(log_name) as port:
        log(f"measuring at {label}: {WARMUP} warm-up + {SAMPLES} recorded requests per page, "
            "one at a time, as the organizer")
        results = asyncio.run(measure_pages(port, world))
    return results, gunicorn_log_errors(log_name)


# ---------------------------------------------------------------- profile

# (label, file suffix, function name): cumulative time of these in one request.
PROFILE_FUNCS = [
    ("whole request (Flask full_dispatch_request)", "flask/app.py", "full_dispatch_request"),
    ("standings.round_standings (all calls)", "services/branches/standings.py", "round_standings"),
    ("standings.contest_standings", "services/branches/standings.py", "contest_standings"),
    ("standings.branch_page", "services/branches/standings.py", "branch_page"),
    ("standings.mastery", "services/branches/standings.py", "mastery"),
    ("standings._rank (sort incl. names.word_key)", "services/branches/standings.py", "_rank"),
    ("names.word_key (Vietnamese sort key)", "services/people/names.py", "word_key"),
    ("charts.bars (SVG)", "quizapp/charts.py", "bars"),
    ("charts.heatmap (SVG)", "quizapp/charts.py", "heatmap"),
    ("charts.line (SVG)", "quizapp/charts.py", "line"),
    ("branch.views._ward_rate", "branch/views.py", "_ward_rate"),
    ("roster.roster (load + sort members)", "services/branches/roster.py", "roster"),
    ("template rendering (flask render_template)", "flask/templating.py", "render_template"),
    ("SQL: SQLAlchemy Session.execute", "orm/session.py", "execute"),
    ("SQL: psycopg cursor.execute (DB round trips)", "psycopg/cursor.py", "execute"),
    ("standings._stats (RoundUnitStats rows as ORM objects)", "services/branches/standings.py", "_stats"),
    ("ORM: turning rows into objects (loading.chunks)", "orm/loading.py", "chunks"),
    ("forms: hidden_tag (one per roster action form)", "flask_wtf/form.py", "hidden_tag"),
    ("ORM: lazy loads (strategies._load_for_state)", "orm/strategies.py", "_load_for_state"),
]


def profile_pages(world: World) -> dict[str, dict]:
    """One request of each page in-process under cProfile (after one warm-up request):
    the total, the cumulative time of the functions above, and the top of the profile
    written to benchmarks/out/scale-profile-<page>.txt."""
    app = bench_app()
    out: dict[str, dict] = {}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        from quizapp.extensions import db
        from quizapp.models import User
        organizer = db.session.get(User, world.organizer_id)
        user_key = organizer.get_id()
        db.session.remove()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_key
        sess["_fresh"] = True
    client.get(page_paths(world)["GET /branch/<unit_id>"][1])  # warm-up: imports, pool, base template
    for name, paths in page_paths(world).items():
        path = paths[0]
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        response = client.get(path)
        profiler.disable()
        wall = time.perf_counter() - t0
        if response.status_code != 200:
            raise SystemExit(f"profile: {path} answered {response.status_code}")
        stats = pstats.Stats(profiler)
        slug = path.strip("/").replace("/", "-")
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(45)
        buffer.write("\n\n")
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(30)
        (OUT_DIR / f"scale-profile-{slug}.txt").write_text(buffer.getvalue())
        found = {}
        for label, suffix, func in PROFILE_FUNCS:
            cumulative, calls = 0.0, 0
            for (filename, _line, fname), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
                if fname == func and filename.replace("\\", "/").endswith(suffix):
                    cumulative = max(cumulative, ct)  # recursion-safe: the outermost entry
                    calls += nc
            if calls:
                found[label] = (cumulative, calls)
        out[name] = {"wall": wall, "funcs": found, "file": f"benchmarks/out/scale-profile-{slug}.txt",
                     "bytes": len(response.data)}
        log(f"  profiled {path}: {wall * 1000:.0f} ms under cProfile")
    with app.app_context():
        from quizapp.extensions import db
        db.session.remove()
        db.engine.dispose()
    return out


# ---------------------------------------------------------------- report

def loadavg() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def fmt_ms(value: float) -> str:
    return "–" if value != value else f"{value:.0f}"


def write_report(world: World, info: dict, small: list[PageResult], big: list[PageResult],
                 rc_small: Recompute, rc_big: Recompute, profile: dict) -> str:
    rows = []
    verdicts = []
    for a, b in zip(small, big):
        ratio50 = b.p(50) / a.p(50) if a.latencies and b.latencies else float("nan")
        ratio95 = b.p(95) / a.p(95) if a.latencies and b.latencies else float("nan")
        ok = ratio95 <= GOAL
        verdicts.append(ok)
        size = sum(b.sizes) / max(1, len(b.sizes)) / 1024
        rows.append(f"| {a.name} | {fmt_ms(a.p(50))} | {fmt_ms(a.p(95))} | {fmt_ms(b.p(50))} | "
                    f"{fmt_ms(b.p(95))} | {ratio50:.2f}× | **{ratio95:.2f}×** {'✓' if ok else '✗'} | "
                    f"{len(a.latencies)} / {len(b.latencies)} | {size:,.0f} KiB | {len(a.errors) + len(b.errors)} |")
    counts_small, counts_big = info["counts_small"], info["counts_big"]

    def rc_line(rc: Recompute) -> str:
        what = {"ok": "OK — the maintained counters equal a recompute",
                "differences": f"exit 1: {rc.detail}",
                "timeout": f"**did not finish**: {rc.detail}",
                "failed": f"failed: {rc.detail}"}[rc.status]
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(rc.kinds.items()))
        return f"{rc.seconds:.1f} s — {what}" + (f" (listed lines by kind — {kinds})" if kinds else "")

    prof_rows = []
    labels = [label for label, _s, _f in PROFILE_FUNCS]
    names = list(profile)
    for label in labels:
        cells = []
        for name in names:
            found = profile[name]["funcs"].get(label)
            total = profile[name]["funcs"].get(labels[0], (profile[name]["wall"], 1))[0]
            cells.append("" if not found else
                         f"{found[0] * 1000:.0f} ms ({100 * found[0] / total:.0f} %), {found[1]}×")
        if any(cells):
            prof_rows.append(f"| {label} | " + " | ".join(cells) + " |")
    prof_head = "| function (cumulative, calls) | " + " | ".join(
        n.replace("GET ", "") for n in names) + " |\n|---|" + "---|" * len(names)
    gen = info["gen"]
    gen_lines = "\n".join(f"  - {step}: {seconds:.1f} s" for step, seconds in gen.items())
    plans = ", ".join(f"{p.title}: {p.first:,} members once + {p.second:,} a second time"
                      for p in world.rounds)
    log_errors = info["log_errors"]
    text = f"""## Scale: standings and branch pages at city size (`scale.py`)

- **Date:** {info['date']}
- **Command:** `{info['command']}` (run by `make bench`)
- **Machine:** {info['machine']}; load average {info['load_start']} at the start,
  {info['load_small']} after the small measurement, {info['load_end']} at the end (server,
  PostgreSQL, client and whatever else runs on the machine share its CPUs)
- **Server:** gunicorn {info['gunicorn']}, {WORKERS} sync workers, `QUIZAPP_ENV=production`, no
  Redis; PostgreSQL {info['postgres']} (default settings: shared_buffers {info['shared_buffers']})
  on the same machine (`{info['database']}`, dropped and recreated for the run)
- **Data:** a ward with {BRANCHES:,} branches and {MEMBERS:,} members
  ({counts_big['counting members']:,} count in the movement; one secretary per branch, ~1 %
  exempt, ~0.5 % deactivated); one contest with {ROUNDS} rounds ({QUESTIONS} questions,
  {TIME_LIMIT // 60} minutes, two attempts allowed, best counts; rounds 1–3 closed, round 4
  open); the bundled bank ({info['bank']})
  - members take part in a per-round order within their branch, a branch advancing at
    its own pace (share 0.5–1.0): every branch has its first participants early
  - **small:** {counts_small['finished']:,} finished attempts with their
    {counts_small['attempt_questions']:,} answered questions; {counts_small['round_results']:,}
    counting results, {counts_small['round_unit_stats']:,} branch counters,
    {counts_small['round_section_stats']:,} section counters
  - **large:** {counts_big['finished']:,} finished attempts ({plans}); the
    {counts_big['finished'] - counts_small['finished']:,} added ones **without
    attempt_questions rows**; {counts_big['round_results']:,} counting results,
    {counts_big['round_unit_stats']:,} branch counters, {counts_big['round_section_stats']:,}
    section counters (those of attempts without questions synthesised from their scores);
    database {counts_big['db bytes'] / 2**30:.1f} GiB
  - generated with SQL (INSERT … SELECT generate_series; foreign-key triggers off for
    the load, ids consistent by construction), in {sum(gen.values()):.0f} s:
{gen_lines}
- **Requests:** logged in as the organizer; per page {WARMUP} unrecorded then up to
  {SAMPLES} recorded requests (a page slower than that stops after {PAGE_SECONDS:g} s, with at
  least {MIN_SAMPLES}; with so few, p95 is close to the maximum), one at a time (client: `benchmarks/httpclient.py`); the round page
  is the open round ({world.open_round.title}); the branch page rotates over
  {len(world.sample_branches())} branches (~{MEMBERS // BRANCHES} members each)

### Latency: {counts_small['finished']:,} → {counts_big['finished']:,} attempts

| page | small p50 ms | small p95 ms | large p50 ms | large p95 ms | p50 ratio | p95 ratio (goal ≤ {GOAL}×) | requests small / large | HTML size (large) | errors |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

{"Every page stays within the goal." if all(verdicts) else "**At least one page misses the goal.**"}
No page reads attempts (the branch page reads the counting results of its own members
only). What the standings read grows anyway: branch counters (`round_unit_stats`)
{counts_small['round_unit_stats']:,} → {counts_big['round_unit_stats']:,} rows and section counters
(`round_section_stats`) {counts_small['round_section_stats']:,} → {counts_big['round_section_stats']:,} rows
({BRANCHES:,} branches × {info['sections']} sections × {ROUNDS} rounds at most): they fill up as
more branches have answers in more sections, and the pages load all of them.
{"" if not log_errors else f"gunicorn log: {len(log_errors)} traceback/timeout line(s), first: `{log_errors[0][:200]}`"}

### `flask --app quizapp standings recompute --check`

- small ({counts_small['finished']:,} attempts, consistent data): {rc_line(rc_small)}
- large ({counts_big['finished']:,} attempts, timeout {RECOMPUTE_TIMEOUT:.0f} s): {rc_line(rc_big)}

At the large size the check cannot agree: the attempts added in stage 2 have no
questions, so a recompute finds no answers behind their synthesised section counters
(the `sections` differences); results and branch counters are built by the same rules
and are expected to agree. The time is a lower bound for real data: with 20 answered
questions per attempt the section join would have 40 million rows to group.

### Where the time goes (one request each at the large size, in-process, cProfile)

{prof_head}
{chr(10).join(prof_rows)}

cProfile roughly doubles Python-heavy time; the shares are what matters. Full profiles:
{", ".join(f"`{p['file']}`" for p in profile.values())}.
"""
    write_report_section("scale", text)
    return text


# ---------------------------------------------------------------- main

def main() -> int:
    started = time.monotonic()
    load_start = loadavg()
    log(f"scale: {MEMBERS:,} members, {BRANCHES:,} branches, {SMALL_ATTEMPTS:,} then "
        f"{ATTEMPTS:,} attempts; database {without_password(SCALE_URL)}")
    pg_version, bank = prepare_database()
    t0 = time.perf_counter()
    world = create_world()
    log(f"ward, {BRANCHES} branches, {MEMBERS} members, contest and {ROUNDS} rounds in "
        f"{time.perf_counter() - t0:.1f} s")
    gen = dict(world.timings)
    for step, seconds in generate(world, 1, SMALL_ATTEMPTS).items():
        gen[f"stage 1 {step}"] = seconds
    counts_small = data_counts()
    rc_small = time_recompute(RECOMPUTE_TIMEOUT)
    small, errors_small = run_pages(world, "small")
    load_small = loadavg()

    for step, seconds in generate(world, 2, ATTEMPTS).items():
        gen[f"stage 2 {step}"] = seconds
    counts_big = data_counts()
    big, errors_big = run_pages(world, "large")
    profile = {}
    if PROFILE:
        log("profiling one request of each page in-process (cProfile)")
        profile = profile_pages(world)
    rc_big = time_recompute(RECOMPUTE_TIMEOUT)

    with pg() as conn:
        shared_buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
        sections = conn.execute("SELECT count(DISTINCT section_id) FROM questions "
                                "WHERE is_current AND status = 'approved'").fetchone()[0]
    info = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line("benchmarks/scale.py"), "machine": machine_line(),
        "gunicorn": package_version("gunicorn"), "postgres": pg_version,
        "shared_buffers": shared_buffers, "database": without_password(SCALE_URL),
        "bank": bank, "gen": gen, "counts_small": counts_small, "counts_big": counts_big,
        "log_errors": errors_small + errors_big, "sections": sections,
        "load_start": load_start, "load_small": load_small, "load_end": loadavg(),
    }
    text = write_report(world, info, small, big, rc_small, rc_big, profile)
    print()
    print(text)
    log(f"wrote the scale section of benchmarks/REPORT.md in {time.monotonic() - started:.0f} s total")
    failed = (rc_small.status != "ok" or any(r.errors for r in small + big)
              or errors_small or errors_big)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
