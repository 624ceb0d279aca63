"""Issue 12, partial credit: a member who ticks every option of a multiple-answer
question earns at most the full mark (wrong options carry negative weights and the
total is clamped to 0..100 %), and on a classic multiple-answer question ticking
everything still earns nothing. Fails on the old code: grading had no credit and the
engine no `credit` per answer."""
from __future__ import annotations

import random

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import AttemptQuestion, Question
from quizapp.services import attempts
from quizapp.services.attempts import PracticeSpec


def _multiple_attempt(member):
    """A practice attempt holding every multiple-answer question of the bank."""
    count = db.session.scalar(select(db.func.count()).select_from(Question).where(
        Question.kind == "multiple", Question.is_current.is_(True)))
    assert count >= 1
    attempt = attempts.start_practice(member, PracticeSpec(section_keys=[], count=200,
                                      time_limit_minutes=None, feedback="exam"), rng=random.Random(3))
    return attempt, [i for i in attempt.items if i.question.kind == "multiple"]


def _weigh(question: Question, wrong: float) -> None:
    right = [c for c in question.choices if c.is_correct]
    for choice in question.choices:
        choice.fraction = 1 / len(right) if choice.is_correct else wrong
    question.partial_credit = True


def test_ticking_everything_never_earns_more_than_the_full_mark(bank, make_user, frozen_clock):
    member = make_user()
    attempt, items = _multiple_attempt(member)
    assert items
    for item in items:
        _weigh(item.question, wrong=-0.5)
    db.session.flush()
    attempts.submit(attempt, {i.question_id: i.choice_ids for i in items})
    for item in items:
        assert 0 <= item.credit < 100, (item.question.key, item.credit)
        assert item.is_correct is False
    # Only the right picks: the full mark, exactly.
    again, items = _multiple_attempt(member)
    for item in items:
        _weigh(item.question, wrong=0.0)
    attempts.submit(again, {i.question_id: sorted(c.id for c in i.question.choices if c.is_correct)
                            for i in items})
    assert all(i.credit == 100 and i.is_correct for i in items)


def test_weights_without_penalty_are_clamped_at_the_full_mark(bank, make_user, frozen_clock):
    member = make_user()
    attempt, items = _multiple_attempt(member)
    for item in items:
        _weigh(item.question, wrong=0.0)
    db.session.flush()
    attempts.submit(attempt, {i.question_id: i.choice_ids for i in items})
    stored = db.session.scalars(select(AttemptQuestion.credit).where(
        AttemptQuestion.attempt_id == attempt.id,
        AttemptQuestion.question_id.in_([i.question_id for i in items]))).all()
    assert stored and max(stored) == 100


def test_ticking_everything_on_a_classic_question_scores_nothing(bank, make_user, frozen_clock):
    member = make_user()
    attempt, items = _multiple_attempt(member)
    attempts.submit(attempt, {i.question_id: i.choice_ids for i in items})
    assert all(i.credit == 0 and i.is_correct is False for i in items)
    assert attempt.score == sum(1 for i in attempt.items if i.is_correct)
