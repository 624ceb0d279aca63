"""Issue 12, partial credit: a member who ticks every option of a multiple-answer
question earns at most the full mark (wrong options carry negative weights and the
total is clamped to 0..100 %), and on a classic multiple-answer question ticking
everything still earns nothing. Fails on the old code: grading had no credit and the
engine no `credit` per answer."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import AttemptQuestion, Question, RoundResult, RoundUnitStats
from quizapp.services import attempts, contests
from quizapp.services.branches import counters
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


def test_ticking_everything_in_a_round_never_lifts_the_total_or_the_branch(
        bank, make_user, make_unit, frozen_clock):
    """The same attack in a contest round: the attempt's points, the counting result and
    the branch's points never pass the maximum, and a rebuild agrees with what the finish
    wrote. Every question the member drew carries weights; wrong options give nothing
    back, so each answer is clamped at 100 % and the total at max_score × 100."""
    organizer = make_user(role="organizer", username="btc")
    branch = make_unit("cb-tick", name="Chi bộ Tích Hết")
    member = make_user(unit=branch, username="tichhet")
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now - timedelta(minutes=1),
        closes_at=frozen_clock.now + timedelta(hours=1), time_limit_minutes=30, question_count=8))
    contests.schedule(organizer, round_)
    db.session.commit()
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(5))
    for item in attempt.items:
        if item.question.kind != "truefalse":
            _weigh(item.question, wrong=0.0)
    db.session.flush()
    attempts.submit(attempt, {i.question_id: (i.choice_ids if i.question.kind == "multiple"
                                              else i.choice_ids[:1]) for i in attempt.items})
    db.session.commit()
    assert 0 <= attempt.points <= attempt.max_score * 100
    assert attempt.points == sum(i.credit for i in attempt.items if i.credit is not None)
    result = db.session.execute(select(RoundResult).where(RoundResult.user_id == member.id)).scalar_one()
    stats = db.session.execute(select(RoundUnitStats).where(RoundUnitStats.unit_id == branch.id)).scalar_one()
    assert result.points == attempt.points and stats.points_sum == attempt.points
    assert stats.points_sum <= stats.max_sum * 100
    assert counters.recompute(check=True) == []
