"""The deadline storm on PostgreSQL: 2,000 members in 40 branches have a round in progress
and submit in its last minute, with double submits and submits after the deadline +
grace. Every submission must be recorded exactly once, nothing may be accepted late, the
branch counters must equal a rebuild, and the sweeper finishes the rest.

Workers: a pool of 12 threads, each task in its own app context and so its own database
session, like a request. (Three forked processes of four threads were tried as well: on
the shared two-core box they were slower, the database being the bottleneck.)

Time: every service call reads `clock.utcnow()`. The test replaces the clock with one that
returns the time planned for the task running in the current thread, so the verdict of
each call (on time, in the grace, late) follows the plan and not the speed of this
machine; the workers still hit the same rows at the same moment.
"""
from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from quizapp import clock
from quizapp.extensions import db
from quizapp.models import (Attempt, AttemptQuestion, Choice, Round, RoundResult, RoundUnitStats,
                            User)
from quizapp.services import attempts
from quizapp.services import contests
from quizapp.services.branches import counters as counters_service
from quizapp.services.people import users as user_service
from quizapp.services.contests import RoundSettings
from quizapp.services.errors import Conflict, DeadlinePassed

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

MEMBERS = 2000
BRANCHES = 40
THREADS = 12
GRACE = 5  # seconds, the test configuration (conftest)
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
OPENS, CLOSES = T0, T0 + timedelta(minutes=15)
START_AT = OPENS + timedelta(minutes=5)  # deadline = min(start + 10 min, close) = close
CUTOFF = CLOSES + timedelta(seconds=GRACE)

_planned = threading.local()
_main_now = {"now": T0}
_app = None  # the Flask app, for the workers


def _virtual_now() -> datetime:
    return getattr(_planned, "now", None) or _main_now["now"]


def _category(i: int) -> str:
    if i % 10 == 9:
        return "late"      # submits after deadline + grace
    if i % 20 == 4:
        return "never"     # closes the browser; the sweeper finishes the attempt
    return "on_time"


# ---------------------------------------------------------------- the workers

def _run(at: datetime, work):
    """One task: its own app context (so its own session), the clock at `at`; commit on
    success and on DeadlinePassed (as the web error handler does), roll back otherwise."""
    with _app.app_context():
        _planned.now = at
        started = time.perf_counter()
        try:
            outcome = work()
            db.session.commit()
        except DeadlinePassed:
            db.session.commit()
            outcome = "deadline"
        except Conflict:
            db.session.rollback()
            outcome = "conflict"
        except BaseException:
            db.session.rollback()
            raise
        finally:
            _planned.now = None
        return outcome, time.perf_counter() - started


def _start_task(round_id: int, user_ids: list[int]):
    """Start the members' attempts one after another, one commit (one request) each."""
    def work():
        out = {}
        for user_id in user_ids:
            user = db.session.get(User, user_id)
            out[user_id] = contests.start_round_attempt(user, db.session.get(Round, round_id)).id
            db.session.commit()
        return out
    return _run(START_AT, work)


def _submit_task(at: datetime, member: int, kind: str, attempt_id: int,
                 answers: dict[int, list[int]]):
    def work():
        attempt = db.session.get(Attempt, attempt_id)
        return "finished" if attempts.submit(attempt, answers) else "already"
    outcome, latency = _run(at, work)
    return member, kind, outcome, latency


def _in_workers(function, tasks: list[tuple]) -> list:
    """Run the tasks on the thread pool, taken in order, and gather the results."""
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(lambda args: function(*args), tasks))


# ---------------------------------------------------------------- fixtures

@pytest.fixture
def app_config():
    # Commits do not wait for the WAL flush on these connections: crash durability is not
    # what this test is about, and on a shared box the fsyncs would dominate its time.
    # Locking, visibility and isolation are unchanged.
    return {"SQLALCHEMY_ENGINE_OPTIONS": {
        "connect_args": {"options": "-c synchronous_commit=off"}}}


@pytest.fixture
def storm(app):
    global _app
    _app = app
    clock.set_clock(_virtual_now)
    yield _main_now
    clock.reset_clock()
    _app = None


# ---------------------------------------------------------------- the test

def test_deadline_storm(app, bank, runner, storm, capsys):
    begun = time.perf_counter()
    # ------------------------------------------------------------ 40 branches, 2,000 members
    ward = user_service.create_unit("tay-mo", "Đảng bộ phường Tây Mỗ", kind="committee")
    branches = [user_service.create_unit(f"cb-{n:02d}", f"Chi bộ {n}", parent=ward)
                for n in range(1, BRANCHES + 1)]
    organizer = user_service.create_user("btc", "Ban Tổ Chức", ward, role="organizer")
    db.session.flush()
    db.session.execute(insert(User), [
        {"username": f"dv{i:04d}", "full_name": f"Đảng Viên {i}", "role": "member",
         "unit_id": branches[i % BRANCHES].id, "active": True, "session_version": 1}
        for i in range(MEMBERS)])
    counters_service.refresh_rosters([b.id for b in branches])
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng bão hạn chót", opens_at=OPENS, closes_at=CLOSES, time_limit_minutes=10,
        question_count=5, draw_plan="viewpoints: 1 each"))
    storm["now"] = T0 - timedelta(hours=1)
    contests.schedule(organizer, round_)
    db.session.commit()
    round_id = round_.id
    user_ids = list(db.session.execute(select(User.id).where(User.role == "member")
                                       .order_by(User.username)).scalars())
    assert len(user_ids) == MEMBERS
    db.session.close()

    # ------------------------------------------------------------ everyone starts
    # One member per branch double-clicks "start" (two tasks at once, on two workers);
    # everyone else starts once, seven members of one branch per task.
    started_at = time.perf_counter()
    clickers = [[user_ids[i]] for i in range(BRANCHES) for _twice in (1, 2)]
    rest = [user_ids[b::BRANCHES][1:] for b in range(BRANCHES)]  # a branch, 49 members, a task
    chunks = [part[k:k + 7] for part in rest for k in range(0, len(part), 7)]
    results = _in_workers(_start_task, [(round_id, ids) for ids in clickers + chunks])
    start_seconds = time.perf_counter() - started_at
    attempt_by_user: dict[int, int] = {}
    for started, _latency in results:
        assert isinstance(started, dict), started
        for user_id, attempt_id in started.items():
            # a double click starts one attempt, not two
            assert attempt_by_user.setdefault(user_id, attempt_id) == attempt_id
    attempt_of = {i: attempt_by_user[user_id] for i, user_id in enumerate(user_ids)}
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == MEMBERS
    assert set(db.session.execute(select(Attempt.deadline).distinct()).scalars()) == {CLOSES}

    # ------------------------------------------------------------ the answer key per attempt
    keys: dict[int, tuple[list[int], list[int]]] = {}
    for qid, cid, correct in db.session.execute(select(Choice.question_id, Choice.id,
                                                       Choice.is_correct)):
        right, wrong = keys.setdefault(qid, ([], []))
        (right if correct else wrong).append(cid)
    items: dict[int, list[int]] = {}
    for attempt_id, qid in db.session.execute(
            select(AttemptQuestion.attempt_id, AttemptQuestion.question_id)
            .order_by(AttemptQuestion.attempt_id, AttemptQuestion.position)):
        items.setdefault(attempt_id, []).append(qid)

    def answers(i: int) -> dict[int, list[int]]:
        """Member i gets i % 6 questions right (the rest get a wrong choice)."""
        return {qid: keys[qid][0] if n < i % 6 else keys[qid][1][:1]
                for n, qid in enumerate(items[attempt_of[i]])}

    # members who will be late or never submit autosaved one right answer earlier
    storm["now"] = OPENS + timedelta(minutes=8)
    for i in range(MEMBERS):
        if _category(i) != "on_time":
            attempt = db.session.get(Attempt, attempt_of[i])
            qid = items[attempt.id][0]
            attempts.save_answer(attempt, qid, keys[qid][0])
    db.session.commit()
    db.session.close()

    # ------------------------------------------------------------ the storm
    on_time = [i for i in range(MEMBERS) if _category(i) == "on_time"]
    late = [i for i in range(MEMBERS) if _category(i) == "late"]
    never = [i for i in range(MEMBERS) if _category(i) == "never"]
    plan = []  # (when, member, kind)
    window = timedelta(seconds=60 + GRACE)  # the last minute, and the grace after it
    for n, i in enumerate(on_time):
        when = CLOSES - timedelta(seconds=60) + window * n / len(on_time)
        plan.append((when, i, "on_time"))
        retry = when + timedelta(milliseconds=500)
        # A double click or a retry half a second later, both on time. (A retry after the
        # cutoff is left out: with planned clocks it could reach the row before the original
        # and expire it, an order a real, monotonic clock cannot produce.)
        if i % 17 == 0 and retry <= CUTOFF:
            plan.append((retry, i, "duplicate"))
    plan.append((CUTOFF, on_time[0], "duplicate"))  # exactly at deadline + grace: accepted
    for n, i in enumerate(late):
        plan.append((CUTOFF + timedelta(seconds=1) + timedelta(seconds=29) * n / len(late), i,
                     "late"))
    plan.sort(key=lambda p: p[0])
    duplicates = sum(1 for p in plan if p[2] == "duplicate")
    tasks = [(when, i, kind, attempt_of[i], answers(i)) for when, i, kind in plan]

    started_at = time.perf_counter()
    outcomes = _in_workers(_submit_task, tasks)
    storm_seconds = time.perf_counter() - started_at

    # ------------------------------------------------------------ recorded exactly once
    assert len(outcomes) == len(plan)
    finished_by: dict[int, int] = {}
    for i, kind, outcome, _latency in outcomes:
        if kind == "late":
            assert outcome == "deadline", (i, outcome)
        else:  # the original or its duplicate finishes; the other finds it finished
            assert outcome in ("finished", "already", "conflict"), (i, kind, outcome)
        if outcome == "finished":
            finished_by[i] = finished_by.get(i, 0) + 1
    assert finished_by == {i: 1 for i in on_time}
    assert sum(1 for o in outcomes if o[2] in ("already", "conflict")) == duplicates

    rows = db.session.execute(select(Attempt)).scalars().all()
    by_id = {a.id: a for a in rows}
    by_member = {i: by_id[attempt_of[i]] for i in range(MEMBERS)}
    submitted = [a for a in rows if a.finish_reason == "submitted"]
    assert len(submitted) == len({a.user_id for a in submitted}) == len(on_time)
    assert {a.id for a in submitted} == {attempt_of[i] for i in on_time}
    for i in on_time:
        attempt = by_member[i]
        assert (attempt.score, attempt.max_score) == (i % 6, 5), i
        assert attempt.finished_at <= CLOSES
    for i in late:  # finished with what was saved before; the late answers were refused
        attempt = by_member[i]
        assert (attempt.status, attempt.finish_reason, attempt.score) == ("finished", "expired", 1)
        assert attempt.finished_at == CLOSES
    assert all(by_member[i].status == "in_progress" for i in never)
    assert db.session.scalar(select(func.max(AttemptQuestion.answered_at))) <= CUTOFF
    assert db.session.scalar(select(func.count()).select_from(RoundResult)) == len(on_time) + len(late)

    # ------------------------------------------------------------ the sweeper finishes the rest
    storm["now"] = CUTOFF + timedelta(minutes=1)
    result = runner.invoke(args=["attempts", "close-overdue"])
    assert result.exit_code == 0, result.output
    assert f"finished {len(never)} " in result.output
    assert attempts.close_overdue() == 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.status != "finished")) == 0
    assert all(by_member[i].score == 1 and by_member[i].finish_reason == "expired" for i in never)
    assert db.session.scalar(select(func.count()).select_from(RoundResult)) == MEMBERS

    # ------------------------------------------------------------ counters equal a rebuild
    def counters():
        db.session.expire_all()
        return {s.unit_id: (s.started, s.finished, s.participants, s.score_sum, s.full_scores)
                for s in db.session.execute(select(RoundUnitStats)).scalars()}

    maintained = counters()
    assert len(maintained) == BRANCHES
    totals = [sum(c[k] for c in maintained.values()) for k in range(5)]
    assert totals == [MEMBERS, MEMBERS, MEMBERS,
                      sum(i % 6 for i in on_time) + len(late) + len(never),
                      sum(1 for i in on_time if i % 6 == 5)]
    round_ = db.session.get(Round, round_id)
    assert counters_service.recompute(check=True, rounds=[round_]) == []
    contests.rebuild_round(round_)
    db.session.commit()
    assert counters() == maintained

    latencies = sorted(o[3] for o in outcomes)
    figures = (f"deadline storm: {len(plan)} submissions ({len(on_time)} on time, {duplicates} "
               f"duplicates, {len(late)} late) on {THREADS} threads in "
               f"{storm_seconds:.2f} s = {len(plan) / storm_seconds:.0f}/s; "
               f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
               f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms; "
               f"{MEMBERS + BRANCHES} starts ({BRANCHES} double clicks) in {start_seconds:.2f} s; "
               f"swept {len(never)}; whole test {time.perf_counter() - begun:.1f} s")
    with capsys.disabled():
        print("\n" + figures)
