"""Invariants under random use: a Hypothesis state machine over one contest round.

Rules: members start, save and submit; the clock moves; the sweeper closes overdue
attempts; after close the organizer voids or re-keys a question (a logged regrade); the
counters are rebuilt. After every step:
- at most one attempt in progress per member and round;
- a finished attempt never changes, except its grading by a regrade that left a
  RoundQuestionChange and an AuditLog row;
- every finished attempt's score equals a regrade from its stored answers;
- `counters.recompute(check=True)` finds nothing to correct;
- nothing was saved after the deadline plus the grace, and no attempt finished after its
  deadline.
(tests/services/test_counters_hypothesis.py checks the counters against an oracle after
random sequences; this machine checks the attempt-level invariants step by step.)
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from flask import current_app
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition, rule,
                                 run_state_machine_as_test)
from sqlalchemy import delete, func, select, update

from quizapp import clock
from quizapp.extensions import db
from quizapp.models import (Attempt, AttemptQuestion, AuditLog, Choice, Question, Round,
                            RoundQuestionChange, Unit)
from quizapp.models.attempts import FINISHED, IN_PROGRESS
from quizapp.services import attempts, grading
from quizapp.services.branches import counters
from quizapp.services import contests
from quizapp.services.people import users as user_service
from quizapp.services.contests import RoundSettings
from quizapp.services.errors import DomainError

pytestmark = pytest.mark.slow

START = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
BANK_TABLES = {"sections", "questions", "choices"}
MEMBERS = 4
QUESTIONS = 3
TALLY: dict[str, int] = {}


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _wipe() -> None:
    """Every table but the bank's, children first: each example starts from nothing."""
    db.session.rollback()
    db.session.execute(update(Unit).values(parent_id=None))
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in BANK_TABLES:
            db.session.execute(delete(table))
    db.session.commit()
    db.session.expunge_all()


class RoundMachine(RuleBasedStateMachine):
    """One round (12-minute window, 10-minute limit, two attempts, best counts), three
    members in two branches and an organizer."""

    def __init__(self):
        super().__init__()
        _wipe()
        self.clock = Clock()
        clock.set_clock(self.clock)
        self.grace = timedelta(seconds=current_app.config["QUIZ_GRACE_SECONDS"])
        ward = user_service.create_unit("tay-mo", "Đảng bộ phường", kind="committee")
        a = user_service.create_unit("cb-a", "Chi bộ A", parent=ward)
        b = user_service.create_unit("cb-b", "Chi bộ B", parent=ward)
        self.organizer = user_service.create_user("btc", "Ban Tổ Chức", ward, role="organizer")
        self.members = [user_service.create_user(f"dv{n}", f"Đảng viên {n}", a if n < 2 else b)
                        for n in range(MEMBERS - 1)] + [self.organizer]
        contest = contests.create_contest(self.organizer, "Cuộc thi", "", [])
        self.round = contests.create_round(self.organizer, contest, RoundSettings(
            title="Vòng 1", opens_at=START + timedelta(minutes=5),
            closes_at=START + timedelta(minutes=17), time_limit_minutes=10,
            question_count=QUESTIONS, draw_plan=f"viewpoint-2: {QUESTIONS}", attempts_allowed=2,
            counting="best"))
        contests.schedule(self.organizer, self.round)
        db.session.commit()
        self.clock.now = self.round.opens_at
        self.seq = 0
        self.snapshots: dict[int, tuple] = {}
        self.grading: dict[int, tuple] = {}
        self.steps: list[str] = []

    def teardown(self):
        for step in self.steps:
            word = step.split(" ")[1] if " " in step else "advance"
            TALLY[word] = TALLY.get(word, 0) + 1
        TALLY["examples"] = TALLY.get("examples", 0) + 1
        TALLY["finished attempts"] = TALLY.get("finished attempts", 0) + len(self.snapshots)
        db.session.rollback()
        db.session.remove()
        clock.reset_clock()

    # ------------------------------------------------------------ helpers

    def _run(self, what: str, work) -> object:
        """Run a service call as a request would: commit on success and for the errors
        that keep their work (DeadlinePassed), roll back otherwise."""
        self.steps.append(f"{self.clock.now:%H:%M:%S} {what}")
        try:
            result = work()
        except DomainError as exc:
            if exc.commit:
                db.session.commit()
            else:
                db.session.rollback()
            return exc
        db.session.commit()
        return result

    def _open_attempt(self, member) -> Attempt | None:
        return db.session.execute(select(Attempt).where(
            Attempt.user_id == member.id, Attempt.round_id == self.round.id,
            Attempt.status == IN_PROGRESS)).scalars().first()

    def _state(self) -> str:
        db.session.expire_all()
        return contests.round_state(db.session.get(Round, self.round.id))

    # ------------------------------------------------------------ rules

    @rule(who=st.integers(0, MEMBERS - 1), seed=st.integers(0, 2 ** 16))
    def start(self, who, seed):
        member = self.members[who]
        self._run(f"start {member.username}",
                  lambda: contests.start_round_attempt(member, db.session.get(Round, self.round.id),
                                                       rng=random.Random(seed)))

    def _any_open(self) -> bool:
        return db.session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.status == IN_PROGRESS)) > 0

    def _pick_open(self, index: int) -> Attempt:
        """One of the attempts in progress (the rules below run only when there is one)."""
        open_ = db.session.execute(select(Attempt).where(Attempt.status == IN_PROGRESS)
                                   .order_by(Attempt.id)).scalars().all()
        return open_[index % len(open_)]

    def _save(self, index, position, pick, seq):
        attempt = self._pick_open(index)
        item = attempt.items[position]
        choice = item.choice_ids[pick % len(item.choice_ids)]
        now = self.clock.now
        deadline = attempt.deadline
        result = self._run(f"save {attempt.id} q{item.question_id}={choice} seq={seq}",
                           lambda: attempts.save_answer(attempt, item.question_id, [choice], seq=seq))
        if not isinstance(result, DomainError):
            assert now <= deadline + self.grace, "a save was accepted after deadline + grace"

    @precondition(_any_open)
    @rule(index=st.integers(0, MEMBERS - 1), position=st.integers(0, QUESTIONS - 1),
          pick=st.integers(0, 5))
    def save(self, index, position, pick):
        self.seq += 1
        self._save(index, position, pick, self.seq)

    @precondition(_any_open)
    @rule(index=st.integers(0, MEMBERS - 1), position=st.integers(0, QUESTIONS - 1),
          pick=st.integers(0, 5), behind=st.integers(0, 3))
    def save_a_late_retry(self, index, position, pick, behind):
        """A retry of an older save (an earlier sequence number) arriving late."""
        self._save(index, position, pick, max(0, self.seq - behind))

    @precondition(_any_open)
    @rule(index=st.integers(0, MEMBERS - 1))
    def submit(self, index):
        attempt = self._pick_open(index)
        self._run(f"submit {attempt.id}", lambda: attempts.submit(attempt))

    @rule(seconds=st.sampled_from([1, 4, 6, 30, 120, 300, 597]))
    def advance_the_clock(self, seconds):
        self.clock.now += timedelta(seconds=seconds)
        self.steps.append(f"+{seconds}s")

    @rule()
    def close_overdue(self):
        self._run("close-overdue", attempts.close_overdue)

    @precondition(lambda self: self._state() == "closed")
    @rule(position=st.integers(0, 50), action=st.sampled_from(["void", "rekey"]))
    def correct_a_question(self, position, action):
        round_ = db.session.get(Round, self.round.id)
        asked = sorted(contests.round_question_ids(round_))
        if not asked:
            return
        question = db.session.get(Question, asked[position % len(asked)])
        choices = [c.id for c in question.choices]
        right = [choices[position % len(choices)]]
        changes = db.session.scalar(select(func.count()).select_from(RoundQuestionChange))
        logged = db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == f"round.question.{action}"))
        answers_before = self._answers()
        result = self._run(f"{action} q{question.id}", lambda: contests.correct_question(
            self.organizer, round_, question.id, action, "Đáp án sai trong đề", right))
        assert not isinstance(result, DomainError), result
        assert db.session.scalar(select(func.count()).select_from(RoundQuestionChange)) == changes + 1
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == f"round.question.{action}")) == logged + 1
        assert self._answers() == answers_before, "a regrade never touches the answers"
        self.grading = {}  # the logged regrade may change grading: take new snapshots

    @rule()
    def recompute(self):
        differences = self._run("recompute", lambda: counters.recompute(check=False))
        assert differences == [], differences

    # ------------------------------------------------------------ invariants

    def _answers(self) -> dict[int, tuple]:
        db.session.expire_all()
        rows = db.session.execute(select(AttemptQuestion.attempt_id, AttemptQuestion.question_id,
                                         AttemptQuestion.selected, AttemptQuestion.answered_at)
                                  .order_by(AttemptQuestion.id)).all()
        out: dict[int, list] = {}
        for attempt_id, question_id, selected, answered_at in rows:
            out.setdefault(attempt_id, []).append((question_id, selected, answered_at))
        return {k: tuple(v) for k, v in out.items()}

    def _finished(self) -> list[Attempt]:
        db.session.expire_all()
        return list(db.session.execute(select(Attempt).where(Attempt.status == FINISHED)
                                       .order_by(Attempt.id)).scalars())

    @invariant()
    def at_most_one_open_attempt_per_member_and_round(self):
        rows = db.session.execute(select(Attempt.user_id, Attempt.round_id, func.count())
                                  .where(Attempt.status == IN_PROGRESS)
                                  .group_by(Attempt.user_id, Attempt.round_id)).all()
        assert all(n <= 1 for _u, _r, n in rows), rows

    @invariant()
    def finished_attempts_never_change_except_by_a_logged_regrade(self):
        answers = self._answers()
        for attempt in self._finished():
            what = (attempt.finished_at, attempt.finish_reason, attempt.time_taken_seconds,
                    attempt.prediction, answers.get(attempt.id))
            graded = (attempt.score, attempt.max_score,
                      tuple(i.is_correct for i in attempt.items))
            assert self.snapshots.setdefault(attempt.id, what) == what, (attempt.id, self.steps[-5:])
            assert self.grading.setdefault(attempt.id, graded) == graded, (attempt.id, self.steps[-5:])

    @invariant()
    def every_score_equals_a_regrade_from_the_stored_answers(self):
        overrides = contests.overrides_for(self.round.id)
        for attempt in self._finished():
            score = counted = 0
            for item in attempt.items:
                if item.question_id in overrides and overrides[item.question_id] is None:
                    assert item.is_correct is None
                    continue
                right = overrides.get(item.question_id) or {c.id for c in db.session.execute(
                    select(Choice).where(Choice.question_id == item.question_id,
                                         Choice.is_correct.is_(True))).scalars()}
                ok = grading.grade(item.question.kind, right, item.selected_ids)
                assert item.is_correct == ok, (attempt.id, item.question_id)
                score += ok
                counted += 1
            assert (attempt.score, attempt.max_score) == (score, counted), attempt.id

    @invariant()
    def the_counters_equal_a_recompute(self):
        db.session.expire_all()
        assert counters.recompute(check=True) == []
        db.session.rollback()

    @invariant()
    def nothing_is_saved_after_the_deadline_and_grace(self):
        db.session.expire_all()
        for attempt in db.session.execute(select(Attempt).where(Attempt.round_id == self.round.id)).scalars():
            assert attempt.deadline is not None and attempt.deadline <= self.round.closes_at
            for item in attempt.items:
                if item.answered_at is not None:
                    assert item.answered_at <= attempt.deadline + self.grace, (attempt.id, item.question_id)
            if attempt.status == FINISHED:
                assert attempt.finished_at <= attempt.deadline
                assert attempt.time_taken_seconds <= attempt.time_limit_seconds


def test_round_invariants_hold_under_random_use(app, bank):
    TALLY.clear()
    run_state_machine_as_test(RoundMachine, settings=settings(
        max_examples=15, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
    print(f"\n[state machine] {dict(sorted(TALLY.items()))}")
