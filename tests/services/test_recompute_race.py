"""`flask standings recompute` while members finish (PostgreSQL).

The branch counters are maintained by every start and finish; `standings recompute`
rebuilds them from the attempts (or, with --check, compares). An organizer may run it
while a round is open. Before, a finish committing during the rebuild was overwritten
(the rebuild wrote what it had read before the finish), or made the rebuild fail; and
--check reported a difference that was not there when a finish committed between its
two reads (the attempts, then the counters).

Each test holds one side inside its transaction and lets the other run; afterwards the
counters must equal a recompute, the finish must be counted, and nothing may fail."""
from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Round, RoundUnitStats, User
from quizapp.services import attempts, contests
from quizapp.services.branches import counters, roster
from quizapp.services.contests.rounds import _SETTING_FIELDS
from tests.conftest import one_submitted_one_saved, run_in_thread, while_a_finish_is_held

pytestmark = pytest.mark.postgres_only

WAIT = 3  # seconds one side gives the other to get ahead of it


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 6, "max_overflow": 2, "pool_timeout": 10}}


def _open_round_one_finished_one_not(make_user, organizer, frozen_clock,
                                     damaged: bool = True) -> tuple[int, int, int]:
    """An open round of one branch: a member who submitted, and one who has answered
    and not submitted yet. `damaged`: the branch's score sum is wrong, so a rebuild has
    something to mend (one that finds nothing first looks without the lock
    and stops). Returns (round id, the second member's attempt id, the branch id)."""
    round_, second = one_submitted_one_saved(make_user, organizer, frozen_clock)
    if damaged:
        # The branch's row, which the second member's finish also adds to.
        stats = db.session.execute(select(RoundUnitStats).where(
            RoundUnitStats.round_id == round_.id, RoundUnitStats.unit_id == second.unit_id)).scalar_one()
        stats.score_sum += 7
        db.session.commit()
    return round_.id, second.id, second.unit_id


def _submit(attempt_id: int):
    return lambda: attempts.submit(db.session.get(Attempt, attempt_id), {})


def _hold_after_computing(monkeypatch, thread_name: str, computed: threading.Event,
                          other_done: threading.Event, nth: int = 1) -> None:
    """The recompute in `thread_name` stops once it has computed the counters from the
    attempts for the `nth` time (a rebuild computes twice: the look without the lock,
    then the rebuild under it), until the other side is done or WAIT seconds have passed
    (the other side is waiting for it)."""
    compute = counters.compute_expected
    calls = []

    def compute_then_hold(rounds=None):
        expected = compute(rounds)
        if threading.current_thread().name == thread_name:
            calls.append(1)
            if len(calls) == nth:
                computed.set()
                other_done.wait(WAIT)
        return expected
    monkeypatch.setattr(counters, "compute_expected", compute_then_hold)


def _join(*threads: threading.Thread) -> None:
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive(), "a side hung"


def _assert_counted(round_id: int, unit_id: int) -> None:
    db.session.rollback()
    db.session.expire_all()
    assert counters.recompute(check=True) == []
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.round_id == round_id, RoundUnitStats.unit_id == unit_id)).scalar_one()
    assert (stats.started, stats.finished, stats.participants, stats.full_scores) == (2, 2, 2, 2)


def test_a_finish_while_a_recompute_rebuilds_is_counted(app, bank, make_user, organizer,
                                                        frozen_clock, monkeypatch):
    """The rebuild has read the attempts (one finished) and not written yet when the
    second member submits: the submit's counters must wait for the rebuild and add to
    it, not be replaced by what the rebuild read before."""
    round_id, attempt_id, unit_id = _open_round_one_finished_one_not(make_user, organizer,
                                                                     frozen_clock)
    computed, rebuilt, submitted = threading.Event(), threading.Event(), threading.Event()
    failures: list = []
    _hold_after_computing(monkeypatch, "recompute", computed, submitted, nth=2)
    rebuild = run_in_thread(app, counters.recompute, rebuilt, failures, "recompute")
    assert computed.wait(10)
    submit = run_in_thread(app, _submit(attempt_id), submitted, failures)
    _join(rebuild, submit)
    assert failures == []
    _assert_counted(round_id, unit_id)


def test_a_recompute_during_a_finish_waits_for_it(app, bank, make_user, organizer, frozen_clock):
    """The submit has written its result and counters and not committed yet when the
    rebuild starts: the rebuild must wait for it and count it (before, it failed on the
    submit's result row, or overwrote its counters)."""
    round_id, attempt_id, unit_id = _open_round_one_finished_one_not(make_user, organizer,
                                                                     frozen_clock)
    failures = while_a_finish_is_held(app, _submit(attempt_id), counters.recompute, WAIT)
    assert failures == []
    _assert_counted(round_id, unit_id)


def test_a_check_sees_a_finish_wholly_or_not_at_all(app, bank, make_user, organizer,
                                                    frozen_clock, monkeypatch):
    """--check has read the attempts when a submit commits, then reads the counters: it
    must compare one moment (no difference), and it must not make the submit wait."""
    round_id, attempt_id, unit_id = _open_round_one_finished_one_not(make_user, organizer,
                                                                     frozen_clock, damaged=False)
    computed, checked, submitted = threading.Event(), threading.Event(), threading.Event()
    failures: list = []
    found: list = []
    _hold_after_computing(monkeypatch, "check", computed, submitted)
    check = run_in_thread(app, lambda: found.extend(counters.recompute(check=True)), checked,
                          failures, "check")
    assert computed.wait(10)
    submit = run_in_thread(app, _submit(attempt_id), submitted, failures)
    assert submitted.wait(WAIT - 1), "the submit waited for a check"
    _join(check, submit)
    assert failures == []
    assert found == []
    _assert_counted(round_id, unit_id)


def test_a_rebuild_that_finds_nothing_to_mend_makes_nobody_wait(app, bank, make_user, organizer,
                                                                frozen_clock, monkeypatch):
    """The counters are right: the rebuild looks without the lock, finds nothing and
    stops, and a submit during its look goes through at once."""
    round_id, attempt_id, unit_id = _open_round_one_finished_one_not(
        make_user, organizer, frozen_clock, damaged=False)
    computed, rebuilt, submitted = threading.Event(), threading.Event(), threading.Event()
    failures: list = []
    found: list = []
    _hold_after_computing(monkeypatch, "recompute", computed, submitted)
    rebuild = run_in_thread(app, lambda: found.extend(counters.recompute()), rebuilt, failures,
                            "recompute")
    assert computed.wait(10)
    submit = run_in_thread(app, _submit(attempt_id), submitted, failures)
    assert submitted.wait(WAIT - 1), "the submit waited for a rebuild with nothing to mend"
    _join(rebuild, submit)
    assert failures == [] and found == []
    _assert_counted(round_id, unit_id)


def _rebuild_beside(app, monkeypatch, name: str, target: str, work) -> list:
    """Run `work` in thread `name`, held for a moment right after it calls
    counters.`target` (it holds its first locks then), and a rebuild meanwhile; both
    must end without an error. Returns the exceptions either side raised."""
    real = getattr(counters, target)
    reached = threading.Event()

    def call_then_pause(*args, **kwargs):
        if threading.current_thread().name == name:
            reached.set()
            time.sleep(1.5)   # longer than PostgreSQL's deadlock_timeout
        return real(*args, **kwargs)
    monkeypatch.setattr(counters, target, call_then_pause)
    failures: list = []
    worker = run_in_thread(app, work, threading.Event(), failures, name)
    assert reached.wait(10)
    rebuild = run_in_thread(app, counters.recompute, threading.Event(), failures, "recompute")
    _join(worker, rebuild)
    return failures


def test_a_start_during_a_rebuild_does_not_deadlock(app, bank, make_user, organizer,
                                                    frozen_clock, monkeypatch):
    """A member starts (his attempt's foreign key holds the branches' table) just before
    a rebuild locks: neither may be killed as a deadlock."""
    round_id, _attempt_id, unit_id = _open_round_one_finished_one_not(make_user, organizer,
                                                                     frozen_clock)
    third = make_user(username="dv-c").id
    failures = _rebuild_beside(app, monkeypatch, "starter", "bump_unit", lambda: (
        contests.start_round_attempt(db.session.get(User, third), db.session.get(Round, round_id),
                                     rng=random.Random(1))))
    assert failures == [], [repr(f) for f in failures]
    db.session.rollback()
    assert counters.recompute(check=True) == []


def test_a_roster_change_during_a_rebuild_does_not_deadlock(app, bank, make_user, organizer,
                                                            frozen_clock, monkeypatch):
    """A secretary deactivates a member (the branch's roster is recounted, then his
    results leave the counters) just before a rebuild locks."""
    _open_round_one_finished_one_not(make_user, organizer, frozen_clock)
    member = db.session.execute(select(User).where(User.username == "dv-a")).scalar_one().id
    organizer_id = organizer.id
    failures = _rebuild_beside(app, monkeypatch, "roster", "refresh_rosters", lambda: (
        roster.set_active(db.session.get(User, organizer_id), db.session.get(User, member), False)))
    assert failures == [], [repr(f) for f in failures]
    db.session.rollback()
    assert counters.recompute(check=True) == []


def test_moving_an_open_rounds_close_loses_no_finish(app, bank, make_user, organizer,
                                                      frozen_clock, monkeypatch):
    """The organizer gives an open round 30 minutes more (its counters are rebuilt) while
    a member submits: the submit must be counted."""
    round_id, attempt_id, unit_id = _open_round_one_finished_one_not(
        make_user, organizer, frozen_clock, damaged=False)
    organizer_id = organizer.id
    computed, edited, submitted = threading.Event(), threading.Event(), threading.Event()
    _hold_after_computing(monkeypatch, "editor", computed, submitted)

    def extend():
        round_ = db.session.get(Round, round_id)
        values = {name: getattr(round_, name) for name in _SETTING_FIELDS}
        values["closes_at"] = round_.closes_at + timedelta(minutes=30)
        contests.update_round(db.session.get(User, organizer_id), round_, contests.RoundSettings(
            time_limit_minutes=round_.time_limit_seconds // 60, **values))
    failures: list = []
    editor = run_in_thread(app, extend, edited, failures, "editor")
    assert computed.wait(10)
    submit = run_in_thread(app, _submit(attempt_id), submitted, failures)
    _join(editor, submit)
    assert failures == []
    _assert_counted(round_id, unit_id)
