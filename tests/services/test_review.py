"""The daily review's scheduling (services.learning.review), with a frozen clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Rating
from sqlalchemy import select, update

from quizapp.extensions import db
from quizapp.models import Question, ReviewCard, ReviewLog, Unit
from quizapp.services import contest as contests
from quizapp.services import learning, users
from quizapp.services.contest import RoundSettings
from quizapp.services.errors import Conflict
from quizapp.services.learning import review
from quizapp.services.sealing import sealed_keys


@pytest.fixture
def member(make_user, bank):
    return make_user(username="dangvien")


def due_keys(user) -> list[str]:
    db.session.expire_all()
    return [card.question_key for card in learning.today(user).due]


def answer(user, card, right: bool, seconds: float, clock):
    """Serve the card and answer it right or wrong after `seconds` on the frozen clock."""
    serving = learning.serve(card)
    pick = [t for t, c in serving.choices if c.is_correct == right][:1]
    clock.advance(seconds=seconds)
    done = learning.answer(user, card, serving.ticket, [str(t) for t in pick])
    db.session.commit()
    return done


def make_round(clock, plan: str, count: int, *, open_now: bool):
    btc = users.create_user("btc", "Ban Tổ Chức", db.session.execute(select(Unit)).scalars().first(),
                            role="organizer", password="correct-horse-1")
    contest = contests.create_contest(btc, "Hội thi", "", [])
    round_ = contests.create_round(btc, contest, RoundSettings(
        title="Vòng 1", opens_at=clock.now + timedelta(hours=1), closes_at=clock.now + timedelta(hours=5),
        time_limit_minutes=30, question_count=count, draw_plan=plan))
    contests.schedule(btc, round_)
    db.session.commit()
    if open_now:
        clock.set(round_.opens_at + timedelta(minutes=1))
    return round_


def test_a_wrong_answer_comes_back_before_a_known_one(member, frozen_clock):
    assert learning.start_today(member) == 3
    db.session.commit()
    wrong, slow, fast = learning.today(member).due
    assert answer(member, wrong, False, 5, frozen_clock).log.rating == Rating.Again
    assert answer(member, slow, True, 20, frozen_clock).log.rating == Rating.Good
    assert answer(member, fast, True, 3, frozen_clock).log.rating == Rating.Easy
    assert due_keys(member) == []  # each card is answered once a day
    frozen_clock.advance(days=1)
    assert due_keys(member)[:1] == [wrong.question_key]
    assert slow.question_key not in due_keys(member) and fast.question_key not in due_keys(member)
    db.session.expire_all()
    assert wrong.due < slow.due < fast.due


def test_the_grade_follows_the_answer_and_the_time(app):
    assert review.rating_for(False, 1) == Rating.Again
    assert review.rating_for(True, app.config["REVIEW_EASY_SECONDS"]) == Rating.Easy
    assert review.rating_for(True, app.config["REVIEW_EASY_SECONDS"] + 1) == Rating.Good
    assert review.rating_for(True, app.config["REVIEW_HARD_SECONDS"] + 1) == Rating.Hard


def test_new_questions_are_limited_per_day_and_taken_in_outline_order(member, frozen_clock):
    plan = learning.today(member)
    assert (plan.new, plan.due, plan.left) == (3, [], 3)
    learning.start_today(member)
    learning.start_today(member)  # starting twice adds nothing more
    db.session.commit()
    cards = learning.today(member).due
    assert len(cards) == 3
    keys = [c.question_key for c in cards]
    sections = set(db.session.execute(select(Question.section_id).where(Question.key.in_(keys))).scalars())
    assert len(sections) == 1  # the first section of the outline, before any other
    for card in cards:
        answer(member, card, True, 20, frozen_clock)
    plan = learning.today(member)
    assert (plan.done, plan.new, plan.left) == (3, 0, 0)
    frozen_clock.advance(days=1)
    assert learning.today(member).new == 3


def test_questions_of_a_scheduled_or_open_round_and_reserve_questions_never_appear(
        app, member, frozen_clock):
    app.config.update(REVIEW_DAILY_COUNT=100, REVIEW_NEW_PER_DAY=100)
    # Yesterday the member reviewed the first 100 questions of the outline, all wrong:
    # every card is due today.
    assert learning.start_today(member) == 100
    db.session.commit()
    for card in learning.today(member).due:
        answer(member, card, False, 5, frozen_clock)
    frozen_clock.advance(days=1)
    assert len(due_keys(member)) == 100
    congress = db.session.execute(select(Question.key).join(Question.section)
                                  .where(Question.section.has(key="congress"))).scalars().all()
    db.session.execute(update(Question).where(Question.key.in_(congress)).values(reserve=True))
    round_ = make_round(frozen_clock, "letter: 9", 9, open_now=False)
    assert contests.round_state(round_) == "scheduled"
    sealed = sealed_keys()
    assert sealed and not sealed & set(congress)
    for open_now in (False, True):
        if open_now:
            frozen_clock.set(round_.opens_at + timedelta(minutes=1))
            assert contests.round_state(round_) == "open"
        seen = set(due_keys(member))
        assert seen and not seen & sealed and not seen & set(congress)
    # A card whose key is sealed is neither served nor answerable with an old ticket.
    card = db.session.execute(select(ReviewCard).where(
        ReviewCard.question_key.in_(list(sealed)))).scalars().first()
    with pytest.raises(Conflict):
        learning.serve(card)
    # Once the round closes, its questions come back.
    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    assert set(due_keys(member)) & sealed


def test_the_streak_counts_local_days_across_the_ho_chi_minh_midnight(member, frozen_clock):
    # 23:30 and 00:30 in Hà Nội (UTC+7): one UTC day, two local days.
    frozen_clock.set(datetime(2026, 3, 2, 16, 30, tzinfo=timezone.utc))
    learning.start_today(member)
    db.session.commit()
    first, second, _third = learning.today(member).due
    answer(member, first, True, 20, frozen_clock)
    assert learning.today(member).streak == 1
    frozen_clock.set(datetime(2026, 3, 2, 17, 30, tzinfo=timezone.utc))
    answer(member, second, True, 20, frozen_clock)
    days = db.session.execute(select(ReviewLog.day).order_by(ReviewLog.id)).scalars().all()
    assert [d.isoformat() for d in days] == ["2026-03-02", "2026-03-03"]
    assert learning.today(member).streak == 2
    # Nothing yet on the next local day: the streak still stands until the day is over…
    frozen_clock.set(datetime(2026, 3, 3, 18, 0, tzinfo=timezone.utc))  # 01:00 on 4 March
    assert learning.today(member).streak == 2
    # …and is lost once a whole local day passed without a review.
    frozen_clock.set(datetime(2026, 3, 4, 17, 1, tzinfo=timezone.utc))  # 00:01 on 5 March
    assert learning.today(member).streak == 0


def test_mastery_by_section_comes_from_retrievability(member, frozen_clock):
    before = learning.mastery(member)
    assert before and all(m.mastery == 0 for m in before)
    learning.start_today(member)
    db.session.commit()
    for card in learning.today(member).due:
        answer(member, card, True, 20, frozen_clock)
    first = learning.mastery(member)[0]
    assert first.reviewed == 3 and 0 < first.mastery <= 3 / first.questions
    frozen_clock.advance(days=30)
    assert learning.mastery(member)[0].mastery < first.mastery  # forgetting, by the model
