"""A correction and a finish of the same round, at the same moment (PostgreSQL).

After the close, attempts still finish: the sweeper settles expired ones, a member on
extra time submits, a secretary enters a paper sheet. An organizer who voids a question
then must not leave any of them graded with the old key. Before, two orders lost it:

- the finish graded first and committed after the correction's regrade had read the
  round's finished attempts: the regrade never saw it, and it kept the voided question;
- the correction wrote first and the finish read the key's revision before the
  correction committed: it graded with the corrections cached for that revision,
  without the new one.

Each test holds one side open inside its transaction and lets the other run; the
attempt must end graded with the correction either way. Each thread has its own app
context, so its own session and connection, as two gunicorn workers would."""
from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest

from quizapp.extensions import db
from quizapp.models import Attempt, Round, User
from quizapp.services import attempts, contests
from quizapp.services.contests import corrections
from tests.conftest import (one_submitted_one_saved, open_round_at_start, run_in_thread,
                            while_a_finish_is_held)

pytestmark = pytest.mark.postgres_only

WAIT = 3  # seconds one side gives the other to get ahead of it


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 6, "max_overflow": 2, "pool_timeout": 10}}


def _closed_round_with_an_unfinished_attempt(make_user, organizer, frozen_clock):
    """A 5-question round: one member submitted everything right (which fills the key
    caches of this revision), another never submitted; the round is then closed and
    his deadline + grace passed, so the sweeper finishes him. Returns (round id, the
    unfinished attempt's id, the question to void, the organizer's id)."""
    round_, second = one_submitted_one_saved(make_user, organizer, frozen_clock)
    frozen_clock.set(round_.closes_at + timedelta(minutes=5))
    return round_.id, second.id, second.items[0].question_id, organizer.id


def _void(round_id: int, question_id: int, organizer_id: int) -> None:
    contests.correct_question(db.session.get(User, organizer_id), db.session.get(Round, round_id),
                              question_id, "void", "Câu hỏi có hai đáp án đúng")


def _void_while_a_finish_is_held(app, finishing, round_id: int, voided: int,
                                 organizer_id: int) -> list:
    """Void the question while `finishing` (it finishes an attempt of the round) is held
    inside its transaction once the attempt is graded. Returns the exceptions either
    side raised."""
    return while_a_finish_is_held(app, finishing, lambda: _void(round_id, voided, organizer_id),
                                  WAIT)


def _void_while_a_confirmation_is_held(app, monkeypatch, module, proposer: str, confirm,
                                       round_id: int, voided: int, organizer_id: int) -> list:
    """Run `confirm` in a thread held inside its transaction once `module.proposer` has
    proposed; meanwhile void the question in another, and let the first go on once the
    void is done or WAIT seconds have passed (it is waiting for us). Returns the
    exceptions either side raised."""
    proposed, confirmed, corrected = threading.Event(), threading.Event(), threading.Event()
    failures: list = []
    propose = getattr(module, proposer)

    def propose_then_hold(*args, **kwargs):
        found = propose(*args, **kwargs)
        if threading.current_thread().name == "confirmer":
            proposed.set()
            corrected.wait(WAIT)  # the correction runs now, if it does not wait for us
        return found
    monkeypatch.setattr(module, proposer, propose_then_hold)
    confirmer = run_in_thread(app, confirm, confirmed, failures, "confirmer")
    assert proposed.wait(10)
    correction = run_in_thread(app, lambda: _void(round_id, voided, organizer_id), corrected,
                            failures)
    for thread in (confirmer, correction):
        thread.join(30)
        assert not thread.is_alive(), "a side hung"
    return failures


def _assert_graded_with_the_correction(attempt_id: int, voided: int) -> None:
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "finished"
    assert (attempt.score, attempt.max_score) == (4, 4), "graded with the voided question"
    assert [i.credit for i in attempt.items if i.question_id == voided] == [None]
    result = contests.member_rank(attempt.round, attempt.user)[0]
    assert (result.points, result.max_score) == (400, 4)


def test_a_finish_graded_before_a_correction_is_regraded_by_it(app, bank, make_user, organizer,
                                                               frozen_clock):
    """The sweeper has graded the attempt (old key) and not committed yet when the
    organizer voids a question: the correction must wait for it and regrade it."""
    round_id, attempt_id, voided, organizer_id = _closed_round_with_an_unfinished_attempt(
        make_user, organizer, frozen_clock)
    failures = _void_while_a_finish_is_held(app, attempts.close_overdue, round_id, voided,
                                            organizer_id)
    assert failures == []
    _assert_graded_with_the_correction(attempt_id, voided)


def test_a_finish_during_a_correction_is_graded_with_it(app, bank, make_user, organizer,
                                                         frozen_clock, monkeypatch):
    """The correction has written the void and regraded the round, and has not committed
    yet, when the sweeper finishes the attempt: the finish must wait for it and grade
    with the void, not with the corrections cached before it."""
    round_id, attempt_id, voided, organizer_id = _closed_round_with_an_unfinished_attempt(
        make_user, organizer, frozen_clock)
    regraded, corrected, finished = threading.Event(), threading.Event(), threading.Event()
    failures: list = []
    regrade_round = corrections.regrade_round

    def regrade_then_hold(*args, **kwargs):
        regrade_round(*args, **kwargs)
        regraded.set()
        finished.wait(WAIT)  # the finish runs now, if it does not wait for us
    monkeypatch.setattr(corrections, "regrade_round", regrade_then_hold)
    correction = run_in_thread(app, lambda: _void(round_id, voided, organizer_id), corrected, failures)
    assert regraded.wait(10)
    sweeper = run_in_thread(app, attempts.close_overdue, finished, failures)
    for thread in (correction, sweeper):
        thread.join(30)
        assert not thread.is_alive(), "a side hung"
    assert failures == []
    _assert_graded_with_the_correction(attempt_id, voided)


def test_no_correction_lands_on_a_round_finalized_while_it_waited(
        app, bank, make_user, organizer, frozen_clock):
    """A finalize is settling the round (its last finish graded, not committed) when the
    organizer voids a question: the correction waits, then finds the round finalized
    and is refused; nothing of it is written."""
    from quizapp.models import RoundQuestionChange
    from quizapp.services.errors import Conflict
    round_id, attempt_id, voided, organizer_id = _closed_round_with_an_unfinished_attempt(
        make_user, organizer, frozen_clock)

    def finalize():
        contests.finalize(db.session.get(User, organizer_id), db.session.get(Round, round_id))
    failures = _void_while_a_finish_is_held(app, finalize, round_id, voided, organizer_id)
    assert [type(f) for f in failures] == [Conflict]
    db.session.expire_all()
    assert db.session.get(Round, round_id).finalized_at is not None
    assert db.session.execute(db.select(RoundQuestionChange).where(
        RoundQuestionChange.round_id == round_id)).scalars().all() == []


def test_winners_confirmed_beside_a_correction_are_cleared_or_the_corrected_ones(
        app, bank, make_user, organizer, frozen_clock, monkeypatch):
    """The organizer confirms the winners while another voids the question that decided
    them: either the confirmation waits and stores the corrected winner, or the
    correction waits and clears the confirmation — never the old winner confirmed."""
    from quizapp.services.contests import prizes
    round_ = open_round_at_start(organizer, frozen_clock, question_count=5,
                                 draw_plan="viewpoint-1: 5", time_limit_minutes=20,
                                 prize_first=1, prize_second=0, prize_third=0,
                                 prize_consolation=0)
    slow = contests.start_round_attempt(make_user(username="p-a"), round_, rng=random.Random(1))
    fast = contests.start_round_attempt(make_user(username="p-b"), round_, rng=random.Random(1))
    db.session.commit()
    key = contests.answer_key([i.question_id for i in slow.items])
    decided = fast.items[0].question_id
    wrong = next(c.id for c in fast.items[0].question.choices if not c.is_correct)
    frozen_clock.advance(seconds=30)
    attempts.submit(fast, {i.question_id: sorted(key[i.question_id]) if i.question_id != decided
                           else [wrong] for i in fast.items})
    frozen_clock.advance(seconds=270)
    attempts.submit(slow, {i.question_id: sorted(key[i.question_id]) for i in slow.items})
    db.session.commit()
    frozen_clock.set(round_.closes_at + timedelta(minutes=5))
    assert [r.user.username for r in contests.ranking(round_)] == ["p-a", "p-b"]
    round_id, organizer_id = round_.id, organizer.id

    def confirm():
        contests.confirm_prizes(db.session.get(User, organizer_id), db.session.get(Round, round_id))
    failures = _void_while_a_confirmation_is_held(app, monkeypatch, prizes, "propose_prizes",
                                                  confirm, round_id, decided, organizer_id)
    assert failures == []
    db.session.expire_all()
    round_ = db.session.get(Round, round_id)
    assert [r.user.username for r in contests.ranking(round_)][0] == "p-b"
    winners = [p.user.username for p in contests.confirmed_prizes(round_)]
    assert round_.prizes_confirmed_at is None and winners == [] or winners == ["p-b"], winners


def test_collective_prizes_confirmed_beside_a_correction_are_cleared_or_corrected(
        app, bank, make_user, make_unit, organizer, frozen_clock, monkeypatch):
    """The branches' collective prizes, as the individual ones: confirmed while a void
    changes the branch's figures, they end either cleared by the correction or stored
    with its figures — never with the figures from before it."""
    from quizapp.services.branches import standings
    round_ = open_round_at_start(organizer, frozen_clock, question_count=5,
                                 draw_plan="viewpoint-1: 5", time_limit_minutes=20)
    member = make_user(unit=make_unit(), username="c-a")
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(1))
    db.session.commit()
    key = contests.answer_key([i.question_id for i in attempt.items])
    decided = attempt.items[0].question_id
    wrong = next(c.id for c in attempt.items[0].question.choices if not c.is_correct)
    frozen_clock.advance(seconds=30)
    attempts.submit(attempt, {i.question_id: sorted(key[i.question_id])
                              if i.question_id != decided else [wrong] for i in attempt.items})
    db.session.commit()
    frozen_clock.set(round_.closes_at + timedelta(minutes=5))
    propose = standings.propose_collective_prizes
    seen = standings.proposal_fingerprint(propose(round_))
    before = [f"{p.row.S:.2f}" for p in propose(round_)]
    round_id, organizer_id = round_.id, organizer.id

    def confirm():
        standings.confirm_collective_prizes(db.session.get(User, organizer_id),
                                            db.session.get(Round, round_id), seen)
    failures = _void_while_a_confirmation_is_held(
        app, monkeypatch, standings, "propose_collective_prizes", confirm, round_id, decided,
        organizer_id)
    db.session.expire_all()
    round_ = db.session.get(Round, round_id)
    now = [f"{p.row.S:.2f}" for p in propose(round_)]
    assert now != before  # the void moved the branch's figure
    stored = [p.score for p in standings.confirmed_collective_prizes(round_)]
    # Cleared by the correction, or confirmed with its figures (a confirmation refused
    # because the proposal changed under it is fine too).
    assert stored == [] or stored == now, (stored, now, failures)
