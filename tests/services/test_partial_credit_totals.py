"""Issue 12: partial credit reaches the totals. A member who picks the option worth 50 %
earns half a question in his attempt's points, in the ranking (ahead of a faster member
who picked a 0 % option), in his branch's average and S, in the exports and on his result
page; the maintained counters agree with a rebuild. Classic questions keep their
results: points are then exactly score × 100 (tests/services/test_contest.py and the
standings tests run unchanged)."""
from __future__ import annotations

import random
from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, RoundResult, RoundUnitStats, User
from quizapp.services import attempts, contests
from quizapp.services.branches import counters, exports, standings
from quizapp.services.contests import RoundSettings
from quizapp.services.contests.item_analysis import discrimination, point_biserial, upper_lower_index
from quizapp.services.grading import average_text, points_text, points_value
from tests.conftest import BrowserClient, assert_member_rank_agrees

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
    assert_member_rank_agrees(s["round"])
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


@pytest.mark.parametrize("value, text", [(5.25, "5,25"), (5.0, "5,00"), (2 / 3, "0,67"),
                                         (None, "—")])
def test_averages_read_with_the_decimal_comma(value, text):
    assert average_text(value) == text


# ---------------------------------------------------------------- classic rounds unchanged

def _old_ranking(results: list[RoundResult]) -> list[tuple[int, int, bool]]:
    """The ranking as it was before points: share = score ÷ max score (right answers),
    then time, then finish; equal on all three share a rank. (user id, rank, tied)."""
    def key(r):
        return (-(Fraction(r.score, r.max_score) if r.max_score else Fraction(0)),
                r.time_taken_seconds, r.finished_at)
    ordered = sorted(results, key=lambda r: (key(r), r.attempt_id))
    out, previous = [], None
    for index, r in enumerate(ordered):
        rank = previous[1] if previous and previous[0] == key(r) else index + 1
        if previous and previous[0] == key(r):
            out[-1] = (out[-1][0], out[-1][1], True)
        out.append((r.user_id, rank, bool(previous and previous[0] == key(r))))
        previous = (key(r), rank)
    return out


def test_a_classic_round_ranks_and_counts_as_before_scaled_by_a_hundred(
        app, bank, frozen_clock, make_unit, make_user):
    """Every question classic (no fractions): random members' answers, two attempts each
    counting the best, then a question voided. The ranking equals the old rule's (right
    answers ÷ maximum) rank for rank, tie for tie; each attempt's, result's and branch's
    points are exactly score × 100; S and the average are the old figures."""
    organizer = make_user(role="organizer", username="btc")
    branches = [make_unit(f"cb-{n}", name=f"Chi bộ {n}") for n in "AB"]
    members = [make_user(unit=branches[n % 2], username=f"dv{n}") for n in range(8)]
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now - timedelta(minutes=5),
        closes_at=frozen_clock.now + timedelta(hours=2), time_limit_minutes=30,
        question_count=8, attempts_allowed=2, counting="best", results_visibility="at_submit"))
    contests.schedule(organizer, round_)
    db.session.commit()
    rng = random.Random(2026)
    for sitting in range(2):
        for member in members:
            attempt = contests.start_round_attempt(member, round_, rng=random.Random(rng.random()))
            answers = {}
            for item in attempt.items:
                assert not item.question.partial_credit
                right = sorted(c.id for c in item.question.choices if c.is_correct)
                # Mostly right, sometimes a wrong pick; a whole-minute time, so ties happen.
                answers[item.question_id] = right if rng.random() < 0.6 else [
                    rng.choice([c for c in item.choice_ids if c not in right])]
            frozen_clock.advance(minutes=rng.choice([2, 3]))
            attempts.submit(attempt, answers)
            db.session.commit()
    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    attempts.close_overdue()
    db.session.commit()
    voided = contests.round_question_ids(round_)[0]
    contests.correct_question(organizer, round_, voided, "void", "câu sai")
    db.session.commit()
    db.session.expire_all()

    for attempt in db.session.execute(select(Attempt).where(Attempt.round_id == round_.id)).scalars():
        assert attempt.points == attempt.score * 100
    results = db.session.execute(select(RoundResult).where(RoundResult.round_id == round_.id)).scalars().all()
    assert len(results) == len(members) and all(r.points == r.score * 100 for r in results)
    new = [(r.user.id, r.rank, r.tied) for r in contests.ranking(round_)]
    assert new == _old_ranking(results)
    assert_member_rank_agrees(round_)
    shares = [Fraction(r.score, r.max_score) for r in results]
    assert len(set(shares)) < len(shares)  # equal shares: the time tie-break decided
    for unit in branches:
        stats = db.session.execute(select(RoundUnitStats).where(
            RoundUnitStats.round_id == round_.id, RoundUnitStats.unit_id == unit.id)).scalar_one()
        mine = [r for r in results if r.unit_id == unit.id]
        assert stats.points_sum == stats.score_sum * 100 == sum(r.score for r in mine) * 100
        assert stats.full_scores == sum(r.score == r.max_score for r in mine)
        row = next(r for r in standings.round_standings(round_) if r.unit.id == unit.id)
        assert row.S == float(standings.percent_of(stats.score_sum, stats.max_sum))
        assert row.average == stats.score_sum / stats.participants
    assert counters.recompute(check=True) == []


def _weighted_item(attempt: Attempt):
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    item = next(i for i in attempt.items if i.credit == 50)
    half = next(c.id for c in item.question.choices if c.fraction == 0.5)
    return attempt, item, half


@pytest.mark.parametrize("action", ["void", "rekey"])
def test_a_correction_regrades_the_credit_into_every_total(app, setting, frozen_clock, action):
    """Voiding the half-credit question takes its 50 out of the points and one question
    out of the maximum; re-keying it to the 50 % option makes that option right (the
    correction's key is all or nothing: the weights no longer describe the question).
    The attempt, the counting result, the branch sums, the ranking and a rebuild agree."""
    s = setting
    slow = _take(s["slow"], s["round"], frozen_clock, minutes=20, pick="half")
    _take(s["fast"], s["round"], frozen_clock, minutes=3, pick="zero")
    frozen_clock.set(s["round"].closes_at + timedelta(minutes=1))
    attempts.close_overdue()
    db.session.commit()
    slow, item, half = _weighted_item(slow)
    organizer = db.session.execute(select(User).where(User.username == "btc")).scalar_one()
    contests.correct_question(organizer, s["round"], item.question_id, action, "đáp án sai",
                              correct_choice_ids=[half] if action == "rekey" else None)
    db.session.commit()
    db.session.expire_all()
    slow = db.session.get(Attempt, slow.id)
    item = next(i for i in slow.items if i.question_id == item.question_id)
    if action == "void":
        assert item.credit is None
        assert (slow.score, slow.points, slow.max_score) == (
            QUESTIONS - 1, (QUESTIONS - 1) * 100, QUESTIONS - 1)
    else:
        assert item.credit == 100 and item.is_correct
        assert (slow.score, slow.points, slow.max_score) == (QUESTIONS, QUESTIONS * 100, QUESTIONS)
    result = db.session.execute(select(RoundResult).where(RoundResult.user_id == s["slow"].id)).scalar_one()
    assert (result.score, result.points, result.max_score) == (slow.score, slow.points, slow.max_score)
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.unit_id == s["branch"].id)).scalar_one()
    fast = db.session.execute(select(RoundResult).where(RoundResult.user_id == s["fast"].id)).scalar_one()
    assert stats.points_sum == slow.points + fast.points
    # Full scores count right answers: after the void or the re-key the slow member has
    # every counted question fully right.
    assert stats.full_scores == 1 + (fast.score == fast.max_score)
    rows = contests.ranking(s["round"])
    assert sorted(rows, key=lambda r: -r.share) == rows
    assert {r.user.username: r.points for r in rows} == {"cham": slow.points, "nhanh": fast.points}
    assert counters.recompute(check=True) == []


def test_item_analysis_reads_credit_as_a_share_and_classic_answers_as_before():
    # Classic answers: the same figure as the point-biserial of right/wrong.
    totals = [1.0, 2.0, 3.0, 4.0, 6.0]
    right = [False, False, True, False, True]
    assert discrimination([float(r) for r in right], totals) == \
        point_biserial(right, totals)
    # A half-credit answer on a strong paper lifts the correlation: it was 0 before.
    shares = [0.0, 0.0, 1.0, 0.0, 0.5]
    r = discrimination(shares, totals)
    assert r is not None and r > discrimination([0.0, 0.0, 1.0, 0.0, 0.0], totals)
    assert discrimination([0.5] * 5, totals) is None
    assert upper_lower_index([0.0, 0.5, 0.5, 1.0], [1, 2, 3, 4]) == 1.0
