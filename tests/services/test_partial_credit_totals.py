"""Issue 12: partial credit reaches the totals. A member who picks the option worth 50 %
earns half a question in his attempt's points, in the ranking (ahead of a faster member
who picked a 0 % option), in his branch's average and S, in the exports and on his result
page; the maintained counters agree with a rebuild. Classic questions keep their
results: points are then exactly score × 100 (tests/services/test_contest.py and the
standings tests run unchanged)."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, RoundResult, RoundUnitStats
from quizapp.services import attempts, contests
from quizapp.services.branches import counters, exports, standings
from quizapp.services.contests import RoundSettings
from quizapp.services.grading import points_text, points_value
from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")

QUESTIONS = 6


@pytest.fixture
def setting(app, bank, frozen_clock, make_unit, make_user):
    organizer = make_user(role="organizer", username="btc")
    branch = make_unit("cb-credit", name="Chi bộ Điểm Lẻ")
    slow, fast = (make_user(unit=branch, username=name) for name in ("cham", "nhanh"))
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now - timedelta(minutes=5),
        closes_at=frozen_clock.now + timedelta(hours=2), time_limit_minutes=30,
        question_count=QUESTIONS, results_visibility="at_submit"))
    contests.schedule(organizer, round_)
    db.session.commit()
    return {"round": round_, "branch": branch, "slow": slow, "fast": fast}


def _weighted_single(attempt: Attempt):
    """The attempt's first single-answer question, given Moodle-style weights: the right
    option 100 %, one wrong option 50 %, the others 0 %. Returns (item, half, zero)."""
    item = next(i for i in attempt.items if i.question.kind == "single"
                and sum(not c.is_correct for c in i.question.choices) >= 2)
    wrong = [c for c in item.question.choices if not c.is_correct]
    for choice in item.question.choices:
        choice.fraction = 1.0 if choice.is_correct else (0.5 if choice is wrong[0] else 0.0)
    item.question.partial_credit = True
    db.session.flush()
    return item, wrong[0].id, wrong[1].id


def _take(user, round_, clock, minutes: int, pick: str):
    attempt = contests.start_round_attempt(user, round_, rng=random.Random(user.id))
    item, half, zero = _weighted_single(attempt)
    key = contests.answer_key([i.question_id for i in attempt.items], round_.id)
    answers = {i.question_id: sorted(key[i.question_id]) for i in attempt.items}
    answers[item.question_id] = [half if pick == "half" else zero]
    clock.advance(minutes=minutes)
    attempts.submit(attempt, answers)
    db.session.commit()
    return attempt


def test_half_credit_counts_half_a_question_everywhere(app, setting, frozen_clock):
    s = setting
    slow = _take(s["slow"], s["round"], frozen_clock, minutes=20, pick="half")
    fast = _take(s["fast"], s["round"], frozen_clock, minutes=3, pick="zero")
    # The attempt: one question short of full in right answers, half a question in points.
    assert (slow.score, slow.points, slow.max_score) == (QUESTIONS - 1, (QUESTIONS - 1) * 100 + 50,
                                                         QUESTIONS)
    assert (fast.score, fast.points) == (QUESTIONS - 1, (QUESTIONS - 1) * 100)
    # The ranking: the half credit puts the slower member first (time only breaks ties).
    rows = contests.ranking(s["round"])
    assert [r.user.username for r in rows] == ["cham", "nhanh"]
    assert not rows[0].tied and rows[0].points == slow.points and rows[0].score == QUESTIONS - 1
    result = db.session.execute(select(RoundResult).where(
        RoundResult.user_id == s["slow"].id)).scalar_one()
    assert result.points == slow.points
    # The branch: average in questions and S from points.
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.unit_id == s["branch"].id)).scalar_one()
    assert stats.points_sum == slow.points + fast.points and stats.score_sum == 2 * (QUESTIONS - 1)
    row = next(r for r in standings.round_standings(s["round"]) if r.unit.id == s["branch"].id)
    assert row.average == pytest.approx((2 * (QUESTIONS - 1) + 0.5) / 2)
    assert row.S == float(standings.percent_of(slow.points + fast.points, 2 * QUESTIONS * 100))
    assert row.full_scores == 0
    # A rebuild from the attempts gives the same counters.
    assert counters.recompute(check=True) == []
    # The results file: 5.5 as a number; the member's pages: "5,5/6".
    line = next(r for r in exports.result_rows(s["round"]) if r[3] == "cham")
    assert line[5] == QUESTIONS - 1 + 0.5 and line[6] == QUESTIONS
    member = BrowserClient(app.test_client())
    member.login("cham")
    page = member.get(f"/attempts/{slow.id}/result").get_data(as_text=True)
    assert f"{QUESTIONS - 1},5/{QUESTIONS}" in page
    home = member.get("/home").get_data(as_text=True)
    assert f"{QUESTIONS - 1},5/{QUESTIONS}" in home


def test_a_rebuild_after_a_correction_keeps_the_half_credit(app, setting, frozen_clock):
    s = setting
    slow = _take(s["slow"], s["round"], frozen_clock, minutes=20, pick="half")
    counters.recompute(check=False)
    db.session.commit()
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.unit_id == s["branch"].id)).scalar_one()
    assert stats.points_sum == slow.points == (QUESTIONS - 1) * 100 + 50


@pytest.mark.parametrize("points, text, value", [
    (750, "7,5", 7.5), (725, "7,25", 7.25), (700, "7", 7), (0, "0", 0), (5, "0,05", 0.05),
    (None, "—", None)])
def test_points_read_as_questions_with_the_decimal_comma(points, text, value):
    assert points_text(points) == text and points_value(points) == value
