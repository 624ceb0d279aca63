"""Contest rounds through the services: lifecycle with a frozen clock, settings checks,
draw plans, taking a round, the counting result, the ranking chain, the prediction,
corrections and regrading, item statistics, branch counters and prizes."""
from __future__ import annotations

import math
import random
import statistics
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import (Attempt, AuditLog, Prize, Question, RoundQuestionChange, RoundResult,
                            RoundUnitStats, Section)
from quizapp.services import attempts
from quizapp.services.branches import counters
from quizapp.services.contests import draw_plan
from quizapp.services import contests
from quizapp.services.contests import RoundSettings
from quizapp.services.errors import Conflict, DomainError, NotFound
from tests.conftest import (assert_contest_ranking_agrees, assert_member_rank_agrees, right_ids,
                            take_round, wrong_ids)

# A plan that gives every attempt the same five questions (viewpoint-1 has exactly five
# approved ones: four single-choice and one true/false), so answers can be scripted.
SAME_FIVE = "viewpoint-1: 5"


# ---------------------------------------------------------------- helpers

@pytest.fixture
def make_user(make_user):
    """Members without passwords: the services never need one, and hashing is slow."""
    def make(**kw):
        kw.setdefault("password", None)
        return make_user(**kw)
    return make


def _settings(now, **overrides) -> RoundSettings:
    values = dict(title="Vòng 1", opens_at=now + timedelta(hours=1),
                  closes_at=now + timedelta(hours=3), time_limit_minutes=20, question_count=5,
                  draw_plan="")
    values.update(overrides)
    return RoundSettings(**values)


def _round(organizer, clock, *, audience=(), schedule=True, open_now=True, **overrides):
    """A contest with one round; scheduled and opened (clock at opens_at) by default."""
    contest = contests.create_contest(organizer, "Cuộc thi tìm hiểu Nghị quyết", "Thể lệ",
                                      list(audience))
    round_ = contests.create_round(organizer, contest, _settings(clock.now, **overrides))
    if schedule:
        contests.schedule(organizer, round_)
    db.session.commit()
    if open_now:
        clock.set(round_.opens_at)
    return round_


def _answers(attempt, right) -> dict[int, list[int]]:
    """Answers getting `right` right: an int = the first n questions (by position), or a set
    of question ids."""
    out = {}
    for index, item in enumerate(attempt.items):
        ok = index < right if isinstance(right, int) else item.question_id in right
        out[item.question_id] = right_ids(item) if ok else wrong_ids(item)
    return out


def _start(user, round_, clock=None, at=None):
    if at is not None:
        clock.set(at)
    attempt = contests.start_round_attempt(user, round_, rng=random.Random(user.id))
    db.session.commit()
    return attempt


def _submit(attempt, right, clock=None, at=None):
    if at is not None:
        clock.set(at)
    attempts.submit(attempt, _answers(attempt, right))
    db.session.commit()
    return attempt


def _counters(round_) -> dict[int, tuple]:
    db.session.expire_all()
    return {s.unit_id: (s.started, s.finished, s.participants, s.score_sum, s.full_scores)
            for s in db.session.execute(select(RoundUnitStats).where(
                RoundUnitStats.round_id == round_.id)).scalars()}


def _results(round_) -> dict[int, tuple]:
    db.session.expire_all()
    return {r.user_id: (r.attempt_id, r.unit_id, r.score, r.max_score, r.time_taken_seconds,
                        r.finished_at, r.prediction)
            for r in db.session.execute(select(RoundResult).where(
                RoundResult.round_id == round_.id)).scalars()}


def _subtree_ids(key: str) -> set[int]:
    sections = db.session.execute(select(Section)).scalars().all()
    by_parent: dict[int | None, list[Section]] = {}
    for s in sections:
        by_parent.setdefault(s.parent_id, []).append(s)
    stack = [next(s for s in sections if s.key == key)]
    section_ids = set()
    while stack:
        node = stack.pop()
        section_ids.add(node.id)
        stack.extend(by_parent.get(node.id, []))
    return set(db.session.execute(select(Question.id).where(
        Question.section_id.in_(section_ids), Question.is_current.is_(True),
        Question.status == "approved")).scalars())


# ---------------------------------------------------------------- lifecycle

def test_round_walks_draft_scheduled_open_closed_finalized(bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock, schedule=False, open_now=False)
    assert contests.round_state(round_) == "draft"
    contests.schedule(organizer, round_)
    assert contests.round_state(round_) == "scheduled"
    frozen_clock.set(round_.opens_at - timedelta(seconds=1))
    assert contests.round_state(round_) == "scheduled"
    frozen_clock.set(round_.opens_at)
    assert contests.round_state(round_) == "open"
    frozen_clock.set(round_.closes_at - timedelta(microseconds=1))
    assert contests.round_state(round_) == "open"
    frozen_clock.set(round_.closes_at)
    assert contests.round_state(round_) == "closed"
    contests.finalize(organizer, round_)
    db.session.commit()
    assert contests.round_state(round_) == "finalized"
    actions = db.session.execute(select(AuditLog.action).where(
        AuditLog.target == f"round:{round_.id}").order_by(AuditLog.id)).scalars().all()
    assert actions == ["round.create", "round.schedule", "round.finalize"]


def test_unschedule_goes_back_to_draft_only_before_opening(bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock, open_now=False)
    contests.unschedule(organizer, round_)
    assert contests.round_state(round_) == "draft"
    contests.schedule(organizer, round_)
    frozen_clock.set(round_.opens_at)
    with pytest.raises(Conflict):
        contests.unschedule(organizer, round_)


def test_schedule_twice_is_refused(bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock, open_now=False)
    with pytest.raises(Conflict):
        contests.schedule(organizer, round_)


def test_schedule_after_the_window_is_refused(bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock, schedule=False, open_now=False)
    frozen_clock.set(round_.closes_at)
    with pytest.raises(Conflict):
        contests.schedule(organizer, round_)
    assert round_.scheduled_at is None


def test_finalize_while_open_is_refused(bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock)
    with pytest.raises(Conflict):
        contests.finalize(organizer, round_)
    assert round_.finalized_at is None and contests.round_state(round_) == "open"


@pytest.mark.parametrize("when", ["draft", "scheduled"])
def test_close_before_opening_is_refused(bank, organizer, frozen_clock, when):
    round_ = _round(organizer, frozen_clock, schedule=when == "scheduled", open_now=False)
    closes_at = round_.closes_at
    with pytest.raises(Conflict):
        contests.close_now(organizer, round_, "thử")
    assert round_.closes_at == closes_at and contests.round_state(round_) == when


def test_close_now_cuts_deadlines_of_attempts_in_progress(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock)
    attempt = _start(make_user(), round_)
    frozen_clock.advance(minutes=5)
    contests.close_now(organizer, round_, "Sự cố mạng")
    db.session.commit()
    db.session.expire_all()
    assert contests.round_state(round_) == "closed"
    assert round_.closes_at == frozen_clock.now
    assert attempt.deadline == frozen_clock.now
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "round.close")).scalar_one()
    assert log.reason == "Sự cố mạng" and log.actor_id == organizer.id


def test_finalize_twice_is_refused_and_finalized_round_cannot_be_edited(bank, organizer,
                                                                        frozen_clock):
    round_ = _round(organizer, frozen_clock)
    frozen_clock.set(round_.closes_at)
    contests.finalize(organizer, round_)
    with pytest.raises(Conflict):
        contests.finalize(organizer, round_)
    with pytest.raises(Conflict):
        contests.update_round(organizer, round_, _settings(
            frozen_clock.now, closes_at=round_.closes_at + timedelta(hours=1),
            opens_at=round_.opens_at))


def test_closed_round_cannot_be_edited(bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock)
    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    before = (round_.title, round_.closes_at)
    later = _settings(frozen_clock.now, opens_at=round_.opens_at,
                      closes_at=round_.closes_at + timedelta(hours=2))
    with pytest.raises(Conflict):
        contests.update_round(organizer, round_, later)
    with pytest.raises(Conflict):
        contests.update_round(organizer, round_, _settings(
            frozen_clock.now, title="Tên mới", opens_at=round_.opens_at, closes_at=round_.closes_at))
    assert (round_.title, round_.closes_at) == before


def test_open_round_only_moves_its_close_time_later(bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock)
    same = dict(opens_at=round_.opens_at, closes_at=round_.closes_at)
    with pytest.raises(Conflict):
        contests.update_round(organizer, round_, _settings(frozen_clock.now, **{
            **same, "closes_at": round_.closes_at - timedelta(minutes=30)}))
    with pytest.raises(Conflict):
        contests.update_round(organizer, round_, _settings(frozen_clock.now, **same, title="Khác"))
    with pytest.raises(Conflict):
        contests.update_round(organizer, round_, _settings(frozen_clock.now, **same,
                                                           time_limit_minutes=25))
    with pytest.raises(Conflict):  # a later close together with another change
        contests.update_round(organizer, round_, _settings(frozen_clock.now, **{
            **same, "closes_at": round_.closes_at + timedelta(hours=1)}, question_count=6,
            draw_plan="theme: 6"))
    old_close = round_.closes_at
    new_close = old_close + timedelta(hours=1)
    changed = contests.update_round(organizer, round_, _settings(frozen_clock.now, **{
        **same, "closes_at": new_close}), reason="Gia hạn do mất điện")
    db.session.commit()
    assert changed == {"closes_at": [old_close, new_close]}
    assert round_.closes_at == new_close and round_.title == "Vòng 1"
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "round.update")).scalar_one()
    assert log.reason == "Gia hạn do mất điện" and "closes_at" in log.detail


def test_moving_the_close_later_extends_attempts_cut_by_the_old_close(bank, organizer,
                                                                      frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock)
    old_close = round_.closes_at
    attempt = _start(make_user(), round_, frozen_clock, old_close - timedelta(minutes=5))
    assert attempt.deadline == old_close
    contests.update_round(organizer, round_, _settings(
        frozen_clock.now, opens_at=round_.opens_at, closes_at=old_close + timedelta(hours=1)),
        reason="Gia hạn do mất điện")
    db.session.commit()
    db.session.expire_all()
    assert attempt.deadline == attempt.started_at + timedelta(minutes=20)
    frozen_clock.set(old_close + timedelta(minutes=1))
    attempts.save_answer(attempt, attempt.items[0].question_id, right_ids(attempt.items[0]))


def test_draft_round_takes_any_valid_change_but_not_an_invalid_one(bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock, schedule=False, open_now=False)
    with pytest.raises(DomainError):
        contests.update_round(organizer, round_, _settings(
            frozen_clock.now, closes_at=frozen_clock.now))
    assert round_.closes_at > round_.opens_at
    contests.update_round(organizer, round_, _settings(frozen_clock.now, title="Vòng 2",
                                                       question_count=6, draw_plan="theme: 6"))
    assert (round_.title, round_.question_count, round_.draw_plan) == ("Vòng 2", 6, "theme: 6")


# ---------------------------------------------------------------- settings errors

def test_valid_settings_have_no_errors(bank, frozen_clock):
    plan = "viewpoints: 2 each\nbreakthroughs: 1 each\n# the rest\n\ntargets: rest"
    assert _settings(frozen_clock.now, question_count=20, draw_plan=plan).errors() == {}
    assert _settings(frozen_clock.now).errors() == {}


def test_inverted_window_is_an_error(bank, frozen_clock):
    now = frozen_clock.now
    errors = _settings(now, opens_at=now + timedelta(hours=2), closes_at=now + timedelta(hours=1)
                       ).errors()
    assert list(errors) == ["closes_at"]
    assert "closes_at" in _settings(now, closes_at=now + timedelta(hours=1)).errors()  # equal


def test_time_limit_longer_than_window_is_an_error(bank, frozen_clock):
    now = frozen_clock.now
    window = dict(opens_at=now, closes_at=now + timedelta(minutes=30))
    assert list(_settings(now, time_limit_minutes=31, **window).errors()) == ["time_limit_minutes"]
    assert _settings(now, time_limit_minutes=30, **window).errors() == {}


def test_plan_asking_more_than_a_section_has_is_an_error(bank, frozen_clock):
    errors = _settings(frozen_clock.now, question_count=6, draw_plan="viewpoint-1: 6").errors()
    assert list(errors) == ["draw_plan"]
    assert any("6" in m and "viewpoint-1" in m and "5" in m for m in errors["draw_plan"])
    each = _settings(frozen_clock.now, question_count=30, draw_plan="viewpoints: 6 each").errors()
    assert len(each["draw_plan"]) == 5  # every viewpoint has only 5
    assert all(any(f"viewpoint-{n}" in m for m in each["draw_plan"]) for n in range(1, 6))


def test_rest_asking_more_than_its_section_has_is_an_error(bank, frozen_clock):
    # theme has 7 approved questions; the rest would be 8.
    errors = _settings(frozen_clock.now, question_count=10,
                       draw_plan="letter: 2\ntheme: rest").errors()
    assert any("theme" in m and "8" in m and "7" in m for m in errors["draw_plan"])


def test_unknown_section_key_is_an_error(bank, frozen_clock):
    errors = _settings(frozen_clock.now, draw_plan="viewpoint-1: 2\nno-such-section: 3").errors()
    assert any("no-such-section" in m and "2" in m for m in errors["draw_plan"])  # line 2


def test_plan_total_must_match_the_count_without_rest(bank, frozen_clock):
    short = _settings(frozen_clock.now, question_count=5, draw_plan="letter: 2\ntheme: 2").errors()
    assert any("4" in m and "5" in m for m in short["draw_plan"])
    over = _settings(frozen_clock.now, question_count=3, draw_plan="letter: 2\ntheme: 2").errors()
    assert any("4" in m and "3" in m for m in over["draw_plan"])
    with_rest = _settings(frozen_clock.now, question_count=5,
                          draw_plan="letter: 2\ntheme: 2\ncongress: rest").errors()
    assert with_rest == {}


@pytest.mark.parametrize("plan", ["viewpoint-1 2", "viewpoint-1: two", "Viewpoint-1: 2",
                                  "letter: rest\ntheme: rest", "viewpoint-1: 2 each"])
def test_malformed_plans_are_errors(bank, frozen_clock, plan):
    assert "draw_plan" in _settings(frozen_clock.now, draw_plan=plan).errors()


def test_create_round_refuses_impossible_settings_and_saves_nothing(bank, organizer, frozen_clock):
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    with pytest.raises(DomainError):
        contests.create_round(organizer, contest, _settings(frozen_clock.now,
                                                            draw_plan="viewpoint-1: 6"))
    db.session.rollback()
    from quizapp.models import Round
    assert db.session.scalar(select(func.count()).select_from(Round)) == 0


# ---------------------------------------------------------------- draw plans

def _by_subtree(drawn: list[int], keys: list[str]) -> dict[str, int]:
    return {key: len(set(drawn) & _subtree_ids(key)) for key in keys}


def test_draw_n_each_and_rest(bank):
    rules, errors = draw_plan.parse("viewpoints: 2 each\nbreakthroughs: 1 each\ntargets: rest")
    assert not errors
    keys = [f"viewpoint-{n}" for n in range(1, 6)] + [f"breakthrough-{n}" for n in range(1, 4)]
    for seed in range(15):
        drawn = draw_plan.draw(rules, 15, random.Random(seed))
        assert len(drawn) == 15 and len(set(drawn)) == 15
        counts = _by_subtree(drawn, keys + ["targets", "viewpoints", "breakthroughs"])
        assert all(counts[f"viewpoint-{n}"] == 2 for n in range(1, 6))
        assert all(counts[f"breakthrough-{n}"] == 1 for n in range(1, 4))
        # "each" draws from the children only, never the parent's own questions
        assert counts["viewpoints"] == 10 and counts["breakthroughs"] == 3
        assert counts["targets"] == 2


def test_draw_plain_n(bank):
    rules, _errors = draw_plan.parse("congress: 3\nletter: 2")
    for seed in range(10):
        drawn = draw_plan.draw(rules, 5, random.Random(seed))
        assert len(set(drawn)) == 5
        assert _by_subtree(drawn, ["congress", "letter"]) == {"congress": 3, "letter": 2}


def test_draw_a_whole_section_and_an_overlapping_rest_has_no_duplicates(bank):
    rules, _errors = draw_plan.parse("viewpoint-1: 5\nviewpoints: rest")
    for seed in range(10):
        drawn = draw_plan.draw(rules, 12, random.Random(seed))
        assert len(drawn) == 12 and len(set(drawn)) == 12
        assert set(drawn) <= _subtree_ids("viewpoints")
        assert _subtree_ids("viewpoint-1") <= set(drawn)


def test_draw_with_an_empty_plan_spreads_over_sections(bank):
    drawn = draw_plan.draw([], 10, random.Random(4))
    assert len(set(drawn)) == 10
    sections = set(db.session.execute(select(Question.section_id).where(
        Question.id.in_(drawn))).scalars())
    assert len(sections) == 10


def test_draws_differ_between_members(bank):
    rules, _errors = draw_plan.parse("congress: 5")
    draws = {tuple(sorted(draw_plan.draw(rules, 5, random.Random(seed)))) for seed in range(10)}
    assert len(draws) > 1


@pytest.mark.parametrize("plan, count", [("viewpoint-1: 2\nviewpoints: rest", 31),
                                         ("viewpoint-1: 4\nviewpoints: 2 each", 14)])
def test_a_plan_that_passes_the_check_always_draws_the_full_count(bank, frozen_clock, plan, count):
    errors = _settings(frozen_clock.now, question_count=count, draw_plan=plan).errors()
    if errors:
        return  # refused up front: fine
    rules, _errors = draw_plan.parse(plan)
    for seed in range(5):
        assert len(draw_plan.draw(rules, count, random.Random(seed))) == count


def test_round_attempt_follows_the_plan(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, question_count=8,
                    draw_plan="viewpoints: 1 each\ntheme: rest")
    attempt = _start(make_user(), round_)
    drawn = [item.question_id for item in attempt.items]
    assert len(set(drawn)) == 8 and attempt.max_score == 8
    assert _by_subtree(drawn, ["viewpoints", "theme"]) == {"viewpoints": 5, "theme": 3}


# ---------------------------------------------------------------- taking a round

def test_start_before_opening_is_refused_with_the_times(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, open_now=False)
    with pytest.raises(Conflict) as caught:
        contests.start_round_attempt(make_user(), round_)
    # 03:00 and 05:00 UTC on 2 March 2026 are 10:00 and 12:00 in Hà Nội.
    assert "10:00 02/03/2026" in caught.value.message
    assert "12:00 02/03/2026" in caught.value.message


def test_start_after_closing_is_refused_with_the_times(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock)
    frozen_clock.set(round_.closes_at)
    with pytest.raises(Conflict) as caught:
        contests.start_round_attempt(make_user(), round_)
    assert "10:00 02/03/2026" in caught.value.message and "12:00 02/03/2026" in caught.value.message
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 0


def test_draft_round_is_not_found_for_members(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, schedule=False, open_now=False)
    with pytest.raises(NotFound):
        contests.get_round_for_member(make_user(), round_.id)
    with pytest.raises(NotFound):
        contests.get_round_for_member(make_user(), round_.id + 100)


def test_outside_the_audience_is_not_found(bank, organizer, frozen_clock, make_user, make_unit):
    chosen, other = make_unit("cb-01"), make_unit("cb-02")
    # "cb-01x" shares a prefix with "cb-01" but is not inside it.
    lookalike = make_unit("cb-01x")
    inside = make_unit("cb-01-to-1", parent=chosen)
    round_ = _round(organizer, frozen_clock, audience=[chosen])
    for unit in (other, lookalike):
        outsider = make_user(unit=unit)
        with pytest.raises(NotFound):
            contests.start_round_attempt(outsider, round_)
        with pytest.raises(NotFound):
            contests.get_round_for_member(outsider, round_.id)
        assert all(r.id != round_.id for r, _state in contests.member_rounds(outsider))
    for unit in (chosen, inside):
        member = make_user(unit=unit)
        assert contests.get_round_for_member(member, round_.id) is round_
        assert _start(member, round_).round_id == round_.id


def test_starting_twice_returns_the_same_attempt(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock)
    member = make_user()
    first = _start(member, round_)
    frozen_clock.advance(minutes=1)
    second = contests.start_round_attempt(member, round_)
    assert second.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 1
    assert _counters(round_)[member.unit_id][0] == 1  # started once


def test_attempts_allowed_is_respected(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, attempts_allowed=2)
    member = make_user()
    first = take_round(member, round_, frozen_clock, 1)
    second = take_round(member, round_, frozen_clock, 2)
    assert (first.attempt_no, second.attempt_no) == (1, 2) and first.id != second.id
    with pytest.raises(Conflict) as caught:
        contests.start_round_attempt(member, round_)
    assert "2" in caught.value.message


def test_an_expired_attempt_uses_up_the_allowance(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock)
    member = make_user()
    attempt = _start(member, round_)
    frozen_clock.advance(minutes=30)  # past the 20-minute limit, the round still open
    with pytest.raises(Conflict):
        contests.start_round_attempt(member, round_)
    assert attempt.status == "finished" and attempt.finish_reason == "expired"


@pytest.mark.parametrize("start_offset, expected", [
    (timedelta(0), timedelta(minutes=20)),                     # start + limit
    (timedelta(hours=1, minutes=50), timedelta(hours=2)),      # cut to closes_at
    (timedelta(hours=1, minutes=40), timedelta(hours=2)),      # exactly equal
])
def test_deadline_is_the_earlier_of_limit_and_close(bank, organizer, frozen_clock, make_user,
                                                    start_offset, expected):
    round_ = _round(organizer, frozen_clock)
    attempt = _start(make_user(), round_, frozen_clock, round_.opens_at + start_offset)
    assert attempt.deadline == round_.opens_at + expected
    assert attempt.deadline == min(attempt.started_at + timedelta(minutes=20), round_.closes_at)


def test_attempt_near_close_finishes_at_close(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock)
    attempt = _start(make_user(), round_, frozen_clock, round_.closes_at - timedelta(minutes=5))
    frozen_clock.set(round_.closes_at + timedelta(minutes=10))
    assert attempts.close_overdue() == 1
    assert attempt.finished_at == round_.closes_at and attempt.time_taken_seconds == 300


# ---------------------------------------------------------------- counting

@pytest.mark.parametrize("counting, counted", [("best", 1), ("first", 0), ("last", 2)])
def test_counting_picks_the_right_attempt(bank, organizer, frozen_clock, make_user,
                                          counting, counted):
    round_ = _round(organizer, frozen_clock, attempts_allowed=3, counting=counting)
    member = make_user()
    taken = [take_round(member, round_, frozen_clock, right) for right in (2, 4, 3)]
    result = db.session.execute(select(RoundResult).where(
        RoundResult.round_id == round_.id)).scalar_one()
    assert result.attempt_id == taken[counted].id
    assert result.score == (2, 4, 3)[counted]
    assert _counters(round_)[member.unit_id] == (3, 3, 1, (2, 4, 3)[counted], 0)
    before = _results(round_)
    contests.rebuild_round(round_)
    db.session.commit()
    assert _results(round_) == before


def test_best_counting_prefers_the_faster_of_equal_scores(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, attempts_allowed=3, counting="best")
    member = make_user()
    slow = take_round(member, round_, frozen_clock, 3, seconds=300)
    fast = take_round(member, round_, frozen_clock, 3, seconds=100)
    take_round(member, round_, frozen_clock, 3, seconds=200)
    result = db.session.execute(select(RoundResult)).scalar_one()
    assert result.attempt_id == fast.id != slow.id
    assert result.time_taken_seconds == 100


# ---------------------------------------------------------------- ranking

def test_ranking_chain_with_ties_at_every_step(bank, organizer, frozen_clock, make_user):
    """Ten members, actual participants = 10. Each pair is tied on the steps before the
    one that separates it; H and I are tied on all four."""
    round_ = _round(organizer, frozen_clock, prediction_kind="participants", draw_plan=SAME_FIVE)
    t0 = round_.opens_at
    plan = {  # name: (right, prediction, start offset s, duration s)
        "A": (5, 10, 0, 300),
        "B": (4, 10, 0, 300),    # B/C: same score, B's prediction is closer
        "C": (4, 12, 0, 100),
        "D": (3, 9, 0, 100),     # D/E: same score and distance (9 and 11), D faster
        "E": (3, 11, 0, 200),
        "F": (2, 11, 60, 150),   # F/G: same score, distance and time; G finished first
        "G": (2, 9, 0, 150),
        "H": (1, 10, 0, 150),    # H/I: equal on all four
        "I": (1, 10, 0, 150),
        "J": (1, None, 0, 150),  # no prediction: farthest
    }
    users = {name: make_user(username=f"dv-{name.lower()}", full_name=f"Đảng Viên {name}")
             for name in plan}
    started = {}
    # I starts before H: the page order of a full tie follows the attempt id, not the user.
    for name in ["A", "B", "C", "D", "E", "G", "I", "H", "J", "F"]:
        right, prediction, offset, _duration = plan[name]
        started[name] = _start(users[name], round_, frozen_clock, t0 + timedelta(seconds=offset))
        if prediction is not None:
            contests.set_prediction(started[name], prediction)
            db.session.commit()
    for name in ["H", "I", "A", "B", "C", "D", "E", "F", "G", "J"]:  # H's result row first
        right, _prediction, offset, duration = plan[name]
        _submit(started[name], right, frozen_clock, t0 + timedelta(seconds=offset + duration))
    assert started["I"].id < started["H"].id
    frozen_clock.set(round_.closes_at)

    rows = contests.ranking(round_)
    assert contests.prediction_actual(round_) == 10
    by_name = {row.user.username[3:].upper(): row for row in rows}
    assert [(row.user.username[3:].upper(), row.rank, row.tied) for row in rows] == [
        ("A", 1, False), ("B", 2, False), ("C", 3, False), ("D", 4, False), ("E", 5, False),
        ("G", 6, False), ("F", 7, False), ("I", 8, True), ("H", 8, True), ("J", 10, False)]
    # every row carries the values that placed it
    assert [(by_name[n].score, by_name[n].distance, by_name[n].time_taken_seconds)
            for n in "ABCDEFGHIJ"] == [
        (5, 0, 300), (4, 0, 300), (4, 2, 100), (3, 1, 100), (3, 1, 200), (2, 1, 150),
        (2, 1, 150), (1, 0, 150), (1, 0, 150), (1, None, 150)]
    assert by_name["G"].finished_at < by_name["F"].finished_at
    assert by_name["H"].finished_at == by_name["I"].finished_at
    assert by_name["I"].attempt_id < by_name["H"].attempt_id
    assert_member_rank_agrees(round_, outsider=make_user(username="khong-thi"))


def test_ranking_without_prediction_skips_the_distance(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, draw_plan=SAME_FIVE)
    t0 = round_.opens_at
    slow, fast = make_user(username="slow"), make_user(username="fast")
    a = _start(slow, round_, frozen_clock, t0)
    b = _start(fast, round_, frozen_clock, t0)
    contests.set_prediction(a, 1)  # ignored: the round has no prediction question
    _submit(b, 3, frozen_clock, t0 + timedelta(seconds=100))
    _submit(a, 3, frozen_clock, t0 + timedelta(seconds=200))
    frozen_clock.set(round_.closes_at)
    rows = contests.ranking(round_)
    assert [(r.user.username, r.rank, r.distance) for r in rows] == [("fast", 1, None),
                                                                     ("slow", 2, None)]
    assert_member_rank_agrees(round_)


def test_contest_ranking_adds_up_closed_rounds(bank, organizer, frozen_clock, make_user):
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    now = frozen_clock.now
    first = contests.create_round(organizer, contest, _settings(now, title="Vòng 1"))
    second = contests.create_round(organizer, contest, _settings(
        now, title="Vòng 2", opens_at=now + timedelta(days=1, hours=1),
        closes_at=now + timedelta(days=1, hours=3)))
    for r in (first, second):
        contests.schedule(organizer, r)
    db.session.commit()
    x, y = make_user(username="dv-x"), make_user(username="dv-y")
    frozen_clock.set(first.opens_at)
    take_round(x, first, frozen_clock, 5, seconds=100)
    take_round(y, first, frozen_clock, 3, seconds=100)
    frozen_clock.set(second.opens_at)
    take_round(y, second, frozen_clock, 5, seconds=100)
    take_round(x, second, frozen_clock, 1, seconds=100)
    frozen_clock.set(second.opens_at + timedelta(minutes=30))  # second still open: not counted
    assert [(r.user.username, r.score) for r in contests.contest_ranking(contest)] == [("dv-x", 5),
                                                                                       ("dv-y", 3)]
    frozen_clock.set(second.closes_at)
    rows = contests.contest_ranking(contest)
    assert [(r.user.username, r.score, r.rank, r.extra["rounds"]) for r in rows] == [
        ("dv-y", 8, 1, 2), ("dv-x", 6, 2, 2)]
    assert_contest_ranking_agrees(contest)


# ---------------------------------------------------------------- prediction

def test_prediction_actual_counts_participants(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, prediction_kind="participants", attempts_allowed=2)
    twice, once, never = make_user(), make_user(), make_user()
    take_round(twice, round_, frozen_clock, 2, prediction=3)
    take_round(twice, round_, frozen_clock, 3)
    take_round(once, round_, frozen_clock, 5)
    _start(never, round_)  # started, closes the browser
    assert contests.compute_prediction_actual(round_) == 2
    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    assert attempts.close_overdue() == 1  # the sweeper finishes it: the member took part
    assert contests.refresh_prediction_actual(round_) == 3
    assert round_.prediction_actual == 3


def test_prediction_actual_counts_full_score_attempts(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, prediction_kind="full_scores", attempts_allowed=2)
    a, b, c = make_user(), make_user(), make_user()
    take_round(a, round_, frozen_clock, 5)
    take_round(a, round_, frozen_clock, 5)  # attempts, not members: counts twice
    take_round(b, round_, frozen_clock, 4)
    take_round(c, round_, frozen_clock, 5)
    assert contests.refresh_prediction_actual(round_) is None  # still open: not published
    frozen_clock.set(round_.closes_at)
    assert contests.refresh_prediction_actual(round_) == 3


def test_prediction_is_locked_after_submit(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, prediction_kind="participants")
    attempt = _start(make_user(), round_)
    contests.set_prediction(attempt, 40)
    contests.set_prediction(attempt, 42)
    with pytest.raises(DomainError):
        contests.set_prediction(attempt, -1)
    with pytest.raises(DomainError):
        contests.set_prediction(attempt, 10_000_001)
    _submit(attempt, 2)
    with pytest.raises(Conflict):
        contests.set_prediction(attempt, 7)
    db.session.expire_all()
    assert attempt.prediction == 42
    assert db.session.execute(select(RoundResult.prediction)).scalar_one() == 42


def test_prediction_cannot_change_after_deadline_and_grace(bank, organizer, frozen_clock,
                                                           make_user):
    from quizapp.services.errors import DeadlinePassed
    round_ = _round(organizer, frozen_clock, prediction_kind="participants")
    attempt = _start(make_user(), round_)
    contests.set_prediction(attempt, 5)
    db.session.commit()
    frozen_clock.set(attempt.deadline + timedelta(seconds=6))  # grace is 5 s in tests
    with pytest.raises((DeadlinePassed, Conflict)):
        contests.set_prediction(attempt, 99)
    assert attempt.prediction == 5


def test_contest_ranking_treats_a_missing_prediction_as_farthest(bank, organizer, frozen_clock,
                                                                  make_user):
    round_ = _round(organizer, frozen_clock, prediction_kind="participants", draw_plan=SAME_FIVE)
    t0 = round_.opens_at
    guesser, silent = make_user(username="guesser"), make_user(username="silent")
    a = _start(guesser, round_, frozen_clock, t0)
    b = _start(silent, round_, frozen_clock, t0)
    contests.set_prediction(a, 9)  # actual will be 2: distance 7
    _submit(a, 3, frozen_clock, t0 + timedelta(seconds=100))
    _submit(b, 3, frozen_clock, t0 + timedelta(seconds=100))
    frozen_clock.set(round_.closes_at)
    round_order = [r.user.username for r in contests.ranking(round_)]
    assert round_order == ["guesser", "silent"]
    assert [r.user.username for r in contests.contest_ranking(round_.contest)] == round_order
    assert_contest_ranking_agrees(round_.contest)


# ---------------------------------------------------------------- corrections

def _scripted_round(organizer, frozen_clock, make_user):
    """P all right; Q wrong on X; R wrong on X and on Y (picking the choice that the
    re-key will make right). Returns (round, X id, Y question, R's choice on Y, users)."""
    round_ = _round(organizer, frozen_clock, draw_plan=SAME_FIVE, prediction_kind="full_scores")
    t0 = round_.opens_at
    users = {n: make_user(username=f"dv-{n}", full_name=f"Đảng Viên {n.upper()}") for n in "pqr"}
    started = {n: _start(users[n], round_, frozen_clock, t0) for n in "pqr"}
    questions = sorted((item.question for item in started["p"].items), key=lambda q: q.id)
    x = questions[0]
    y = next(q for q in questions[1:] if q.kind == "single")
    new_key = next(c for c in y.choices if not c.is_correct)
    predictions = {"p": 5, "q": 2, "r": 1}
    for offset, n in enumerate("pqr"):
        attempt = started[n]
        contests.set_prediction(attempt, predictions[n])
        answers = {item.question_id: right_ids(item) for item in attempt.items}
        if n in "qr":
            answers[x.id] = wrong_ids(next(i for i in attempt.items if i.question_id == x.id))
        if n == "r":
            answers[y.id] = [new_key.id]
        frozen_clock.set(t0 + timedelta(seconds=100 + offset))
        attempts.submit(attempt, answers)
        db.session.commit()
    frozen_clock.set(round_.closes_at)
    return round_, x.id, y, new_key, users


def _standing(round_) -> list[tuple]:
    return [(r.user.username[3:], r.rank, r.score, r.max_score) for r in contests.ranking(round_)]


def test_voiding_a_question_regrades_everything(bank, organizer, frozen_clock, make_user):
    round_, x_id, _y, _new_key, users = _scripted_round(organizer, frozen_clock, make_user)
    assert _standing(round_) == [("p", 1, 5, 5), ("q", 2, 4, 5), ("r", 3, 3, 5)]
    assert contests.prediction_actual(round_) == 1
    unit = users["p"].unit_id
    assert _counters(round_)[unit] == (3, 3, 3, 12, 1)

    change = contests.correct_question(organizer, round_, x_id, "void", "  Đáp án sai  ")
    db.session.commit()
    # P and Q now have 4/4: the prediction actual becomes 2 and Q's prediction (2) beats P's (5)
    assert _standing(round_) == [("q", 1, 4, 4), ("p", 2, 4, 4), ("r", 3, 3, 4)]
    assert round_.prediction_actual == 2
    assert _counters(round_)[unit] == (3, 3, 3, 11, 2)
    voided = db.session.execute(select(Attempt)).scalars().all()
    assert all(a.max_score == 4 for a in voided)
    assert all(i.is_correct is None for a in voided for i in a.items if i.question_id == x_id)
    stored = db.session.get(RoundQuestionChange, change.id)
    assert (stored.action, stored.reason, stored.actor_id, stored.question_id) == (
        "void", "Đáp án sai", organizer.id, x_id)
    log = db.session.execute(select(AuditLog).where(
        AuditLog.action == "round.question.void")).scalar_one()
    assert (log.actor_id, log.reason, log.target) == (organizer.id, "Đáp án sai",
                                                      f"round:{round_.id}")


def test_rekeying_a_question_regrades_everything(bank, organizer, frozen_clock, make_user):
    round_, x_id, y, new_key, users = _scripted_round(organizer, frozen_clock, make_user)
    contests.correct_question(organizer, round_, x_id, "void", "Câu hỏi có hai đáp án đúng")
    contests.correct_question(organizer, round_, y.id, "rekey", "Khiếu nại được chấp nhận",
                              [new_key.id])
    db.session.commit()
    # Y: only R picked the new key. P 3/4, Q 3/4, R 4/4 → actual full scores 1.
    assert round_.prediction_actual == 1
    rows = _standing(round_)
    assert rows[0] == ("r", 1, 4, 4)
    # P and Q: same score; distances |5-1|=4 and |2-1|=1 → Q first
    assert rows[1:] == [("q", 2, 3, 4), ("p", 3, 3, 4)]
    assert _counters(round_)[users["p"].unit_id] == (3, 3, 3, 10, 1)
    changes = db.session.execute(select(RoundQuestionChange).order_by(RoundQuestionChange.id)
                                 ).scalars().all()
    assert [(c.action, c.correct_choice_ids) for c in changes] == [("void", ""),
                                                                   ("rekey", str(new_key.id))]
    log = db.session.execute(select(AuditLog).where(
        AuditLog.action == "round.question.rekey")).scalar_one()
    assert log.reason == "Khiếu nại được chấp nhận" and str(new_key.id) in log.detail
    # the bank itself is untouched: the correction is for this round only
    db.session.expire_all()
    assert not db.session.get(type(new_key), new_key.id).is_correct


def _drawn_round(organizer, frozen_clock, make_user):
    """Twenty questions drawn from the whole bank, so members draw different ones. Four
    members answer everything right: "perfect" fastest (first before any correction),
    then o1, o2, o3. Returns (round, members, a question only "perfect" drew)."""
    round_ = _round(organizer, frozen_clock, question_count=20, draw_plan="",
                    time_limit_minutes=30)
    t0 = round_.opens_at
    names = ["perfect", "o1", "o2", "o3"]
    members = {n: make_user(username=f"dv-{n}") for n in names}
    started = {n: _start(members[n], round_, frozen_clock, t0) for n in names}
    for offset, n in enumerate(names):
        _submit(started[n], 20, frozen_clock, t0 + timedelta(seconds=300 + 10 * offset))
    drawn = {n: {i.question_id for i in started[n].items} for n in names}
    only_perfect = sorted(drawn["perfect"] - drawn["o1"] - drawn["o2"] - drawn["o3"])
    assert only_perfect, "the draws must differ for this scenario"
    frozen_clock.set(round_.closes_at)
    return round_, members, only_perfect[0]


def test_a_void_never_puts_a_perfect_score_below_members_who_did_not_draw_the_question(
        bank, organizer, frozen_clock, make_user):
    """Issue 17: three members at 20/20 never saw the voided question; the member who
    drew it and answered all right has 19/19 and stays first (then time decides)."""
    round_, members, question = _drawn_round(organizer, frozen_clock, make_user)
    assert [(r.user.username, r.rank) for r in contests.ranking(round_)][0] == ("dv-perfect", 1)
    contests.correct_question(organizer, round_, question, "void", "Câu hỏi sai đáp án")
    db.session.commit()
    rows = contests.ranking(round_)
    assert [(r.user.username, r.score, r.max_score, r.rank, r.tied) for r in rows] == [
        ("dv-perfect", 19, 19, 1, False), ("dv-o1", 20, 20, 2, False),
        ("dv-o2", 20, 20, 3, False), ("dv-o3", 20, 20, 4, False)]
    assert all(r.percent == 100.0 for r in rows)
    assert [p.row.user.username for p in contests.propose_prizes(round_)][0] == "dv-perfect"
    assert contests.contest_ranking(round_.contest)[0].user.username == "dv-perfect"
    assert_contest_ranking_agrees(round_.contest)
    assert counters.recompute(check=True) == []


def test_a_rekey_ranks_on_the_same_scale(bank, organizer, frozen_clock, make_user):
    """A re-key that makes the perfect member's answer wrong drops them below the three
    who did not draw the question (they did answer something wrong), and a void on top
    of it brings them back level on the share, first on time."""
    round_, members, question = _drawn_round(organizer, frozen_clock, make_user)
    q = db.session.get(Question, question)
    new_key = [c.id for c in q.choices if not c.is_correct][:1]
    contests.correct_question(organizer, round_, question, "rekey", "Khiếu nại", new_key)
    db.session.commit()
    rows = contests.ranking(round_)
    assert [(r.user.username, r.score, r.max_score) for r in rows][-1] == ("dv-perfect", 19, 20)
    assert_member_rank_agrees(round_)
    contests.correct_question(organizer, round_, question, "void", "Hủy hẳn câu hỏi")
    db.session.commit()
    assert [(r.user.username, r.score, r.max_score) for r in contests.ranking(round_)][0] == (
        "dv-perfect", 19, 19)
    assert_member_rank_agrees(round_)


def test_best_counting_compares_shares_of_each_attempts_own_maximum(bank, organizer,
                                                                     frozen_clock, make_user):
    """Two attempts of one member: after a void of a question only the first drew, its
    19/19 still beats the second's 19/20, although the raw scores are equal and the
    second was faster; the maintained result and the rebuild agree."""
    round_ = _round(organizer, frozen_clock, question_count=20, draw_plan="", attempts_allowed=2,
                    time_limit_minutes=30, counting="best")
    member = make_user(username="dv-two")
    first = _start(member, round_)
    frozen_clock.advance(seconds=500)
    _submit(first, 20)
    second = contests.start_round_attempt(member, round_, rng=random.Random(99))
    db.session.commit()
    only_first = sorted({i.question_id for i in first.items} - {i.question_id for i in second.items})
    assert only_first
    frozen_clock.advance(seconds=100)
    keep = {i.question_id for i in second.items if i.question_id != sorted(
        i.question_id for i in second.items)[0]}
    _submit(second, keep)  # 19/20, faster
    frozen_clock.set(round_.closes_at)
    assert _results(round_)[member.id][0] == first.id  # 20/20 against 19/20
    contests.correct_question(organizer, round_, only_first[0], "void", "Câu hỏi sai")
    db.session.commit()
    result = _results(round_)[member.id]
    assert (result[0], result[2], result[3]) == (first.id, 19, 19)
    assert counters.recompute(check=True) == []


def test_regrade_is_deterministic(bank, organizer, frozen_clock, make_user):
    round_, x_id, _y, _k, _users = _scripted_round(organizer, frozen_clock, make_user)
    contests.correct_question(organizer, round_, x_id, "void", "lý do")
    db.session.commit()
    before = (_results(round_), _counters(round_), _standing(round_))
    contests.regrade_round(round_)
    db.session.commit()
    assert (_results(round_), _counters(round_), _standing(round_)) == before


def test_corrections_are_checked(bank, organizer, frozen_clock, make_user):
    round_, x_id, y, _new_key, _users = _scripted_round(organizer, frozen_clock, make_user)
    with pytest.raises(DomainError):
        contests.correct_question(organizer, round_, x_id, "void", "   ")
    with pytest.raises(DomainError):
        contests.correct_question(organizer, round_, y.id, "rekey", "lý do", [])
    with pytest.raises(DomainError):  # a choice of another question
        contests.correct_question(organizer, round_, y.id, "rekey", "lý do", [-5])
    with pytest.raises(DomainError):  # two right answers for a single-choice question
        contests.correct_question(organizer, round_, y.id, "rekey", "lý do",
                                  [c.id for c in y.choices[:2]])
    with pytest.raises(DomainError):
        contests.correct_question(organizer, round_, x_id, "delete", "lý do")
    other = db.session.execute(select(Question.id).where(Question.id.not_in(
        contests.round_question_ids(round_)))).scalars().first()
    with pytest.raises(NotFound):
        contests.correct_question(organizer, round_, other, "void", "lý do")
    assert db.session.scalar(select(func.count()).select_from(RoundQuestionChange)) == 0


def test_corrections_are_refused_while_open_and_once_finalized(bank, organizer, frozen_clock,
                                                               make_user):
    round_, x_id, _y, _k, _users = _scripted_round(organizer, frozen_clock, make_user)
    frozen_clock.set(round_.closes_at - timedelta(minutes=1))
    with pytest.raises(Conflict):
        contests.correct_question(organizer, round_, x_id, "void", "quá sớm")
    frozen_clock.set(round_.closes_at)
    contests.finalize(organizer, round_)
    db.session.commit()
    before = (_results(round_), _counters(round_), round_.prediction_actual)
    with pytest.raises(Conflict):
        contests.correct_question(organizer, round_, x_id, "void", "quá muộn")
    db.session.rollback()
    assert (_results(round_), _counters(round_), round_.prediction_actual) == before
    assert db.session.scalar(select(func.count()).select_from(RoundQuestionChange)) == 0


def test_finalize_finishes_attempts_left_open_and_freezes_the_actual(bank, organizer, frozen_clock,
                                                                     make_user):
    round_ = _round(organizer, frozen_clock, prediction_kind="participants")
    take_round(make_user(), round_, frozen_clock, 3)
    left = _start(make_user(), round_)
    frozen_clock.set(round_.closes_at)
    contests.finalize(organizer, round_)
    db.session.commit()
    assert left.status == "finished" and left.finish_reason == "expired"
    assert round_.prediction_actual == 2
    assert contests.refresh_prediction_actual(round_) == 2


# ---------------------------------------------------------------- item statistics

# Ten members, totals 9..0, one item answered right by members 0, 1, 3, 5, 6 and 9.
HAND_TOTALS = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
HAND_CORRECT = [True, True, False, True, False, True, True, False, False, True]


def test_point_biserial_by_hand():
    # mean 4.5; squared deviations 20.25 12.25 6.25 2.25 0.25 (twice) → Σ 82.5, σ² = 8.25
    # right: 9 8 6 4 3 0 → mean 5; wrong: 7 5 2 1 → mean 3.75; p = 0.6, q = 0.4
    # r_pb = (5 − 3.75) / √8.25 · √(0.6·0.4) = 1.25 · √(0.24 / 8.25) = 0.21320071635561...
    expected = 1.25 * math.sqrt(0.24 / 8.25)
    assert expected == pytest.approx(0.2132007163556104, abs=1e-12)
    assert contests.point_biserial(HAND_CORRECT, HAND_TOTALS) == pytest.approx(expected, abs=1e-9)
    # the same number as Pearson's r between the 0/1 item and the totals
    pearson = statistics.correlation([float(c) for c in HAND_CORRECT], HAND_TOTALS)
    assert contests.point_biserial(HAND_CORRECT, HAND_TOTALS) == pytest.approx(pearson, abs=1e-9)


def test_upper_lower_index_by_hand():
    # n = 10 → k = round(2.7) = 3; upper = totals 9 8 7 (right, right, wrong) = 2;
    # lower = totals 0 1 2 (right, wrong, wrong) = 1 → (2 − 1) / 3
    assert contests.upper_lower_index(HAND_CORRECT, HAND_TOTALS) == pytest.approx(1 / 3, abs=1e-9)
    reversed_item = [not c for c in HAND_CORRECT]
    assert contests.upper_lower_index(reversed_item, HAND_TOTALS) == pytest.approx(-1 / 3, abs=1e-9)
    assert contests.point_biserial(reversed_item, HAND_TOTALS) == pytest.approx(
        -1.25 * math.sqrt(0.24 / 8.25), abs=1e-9)


def test_item_statistics_are_undefined_without_spread():
    assert contests.point_biserial([True] * 4, [4, 3, 2, 1]) is None       # everyone right
    assert contests.point_biserial([True, False, True], [2, 2, 2]) is None  # equal totals
    assert contests.point_biserial([True], [1]) is None
    assert contests.upper_lower_index([True, False, True], [3, 2, 1]) is None  # n < 4


# Rows: members; columns: the round's five questions in id order. 1 = right.
MATRIX = [
    [1, 1, 0, 1, 1],
    [1, 0, 0, 1, 1],
    [1, 0, 0, 1, 1],
    [1, 0, 0, 1, 0],
    [1, 0, 0, 1, 0],
    [1, 0, 1, 0, 0],
    [1, 0, 1, 0, 0],
    [1, 0, 1, 0, 0],
    [1, 0, 0, 0, 0],
    [1, 0, 1, 0, 0],
]


def test_item_analysis_on_a_real_round(bank, organizer, frozen_clock, make_user):
    round_ = _round(organizer, frozen_clock, draw_plan=SAME_FIVE)
    question_ids = None
    for row in MATRIX:
        attempt = _start(make_user(), round_)
        question_ids = sorted(item.question_id for item in attempt.items)
        right = {qid for qid, ok in zip(question_ids, row) if ok}
        frozen_clock.advance(seconds=30)
        _submit(attempt, right)
    with pytest.raises(Conflict):  # open rounds have no item analysis yet
        contests.item_analysis(round_)
    frozen_clock.set(round_.closes_at)
    stats = contests.item_analysis(round_)
    assert [s.question.id for s in stats] == question_ids
    totals = [sum(row) for row in MATRIX]
    for column, s in enumerate(stats):
        correct = [bool(row[column]) for row in MATRIX]
        assert s.answered == 10 and s.correct == sum(correct)
        assert s.facility == pytest.approx(sum(correct) / 10, abs=1e-9)
        if all(correct):
            assert s.discrimination is None
        else:
            expected = statistics.correlation([float(c) for c in correct], totals)
            assert s.discrimination == pytest.approx(expected, abs=1e-9)
    assert [s.flags for s in stats] == [["too_easy"], ["too_hard"], ["negative_discrimination"],
                                        [], []]
    # column 3: right = totals 2 2 2 2 → mean 2; wrong = 4 3 3 2 2 1 → mean 2.5
    assert stats[2].discrimination < 0

    contests.correct_question(organizer, round_, question_ids[2], "void", "Câu hỏi gây hiểu lầm")
    stats = contests.item_analysis(round_)
    assert stats[2].voided and stats[2].flags == [] and stats[2].facility is None
    # totals changed with the void: the other items are computed against the new scores
    new_totals = [t - row[2] for t, row in zip(totals, MATRIX)]
    expected = statistics.correlation([float(row[3]) for row in MATRIX], new_totals)
    assert stats[3].discrimination == pytest.approx(expected, abs=1e-9)


# ---------------------------------------------------------------- branch counters

@pytest.mark.parametrize("counting", ["best", "first", "last"])
def test_branch_counters_equal_a_rebuild(bank, organizer, frozen_clock, make_user, make_unit,
                                         counting):
    round_ = _round(organizer, frozen_clock, attempts_allowed=2, counting=counting)
    unit_a, unit_b, unit_c = make_unit("cb-a"), make_unit("cb-b"), make_unit("cb-c")
    a1, a2 = make_user(unit=unit_a), make_user(unit=unit_a)
    b1, b2 = make_user(unit=unit_b), make_user(unit=unit_b)
    c1 = make_user(unit=unit_c)
    take_round(a1, round_, frozen_clock, 3)
    _start(a2, round_)                           # never finishes before the sweep
    take_round(b1, round_, frozen_clock, 4)
    take_round(b1, round_, frozen_clock, 2)
    take_round(b2, round_, frozen_clock, 5)
    _start(c1, round_)
    b1_score = {"best": 4, "first": 4, "last": 2}[counting]
    expected = {unit_a.id: (2, 1, 1, 3, 0), unit_b.id: (3, 3, 2, b1_score + 5, 1),
                unit_c.id: (1, 0, 0, 0, 0)}
    assert _counters(round_) == expected
    live = contests.live_counts(round_)
    assert {u["unit_id"]: (u["started"], u["finished"], u["in_progress"]) for u in live["units"]} \
        == {unit_a.id: (2, 1, 1), unit_b.id: (3, 3, 0), unit_c.id: (1, 0, 1)}
    assert live["total"] == {"started": 6, "finished": 4, "in_progress": 2, "participants": 3}

    results = _results(round_)
    assert counters.recompute(check=True, rounds=[round_]) == []
    contests.rebuild_round(round_)
    db.session.commit()
    assert _counters(round_) == expected
    assert _results(round_) == results

    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    assert attempts.close_overdue() == 2
    db.session.commit()
    swept = _counters(round_)
    assert swept[unit_a.id] == (2, 2, 2, 3, 0) and swept[unit_c.id] == (1, 1, 1, 0, 0)
    results = _results(round_)
    assert counters.recompute(check=True, rounds=[round_]) == []
    contests.rebuild_round(round_)
    db.session.commit()
    assert _counters(round_) == swept and _results(round_) == results


# ---------------------------------------------------------------- prizes

def _prize_round(organizer, frozen_clock, make_user, rights):
    """Members m0, m1, ... with the given numbers right, all 60 s, finishing together."""
    round_ = _round(organizer, frozen_clock, draw_plan=SAME_FIVE, prize_first=1, prize_second=1,
                    prize_third=1, prize_consolation=2)
    t0 = round_.opens_at
    members = [make_user(username=f"mem{i}") for i in range(len(rights))]
    started = [_start(m, round_, frozen_clock, t0) for m in members]
    for attempt, right in zip(started, rights):
        _submit(attempt, right, frozen_clock, t0 + timedelta(seconds=60))
    frozen_clock.set(round_.closes_at)
    return round_, members


def test_propose_prizes_follows_the_quotas(bank, organizer, frozen_clock, make_user):
    round_, _members = _prize_round(organizer, frozen_clock, make_user, [5, 4, 3, 2, 1, 0, 0])
    proposals = contests.propose_prizes(round_)
    assert [(p.tier, p.row.user.username, p.row.rank, p.tie_at_boundary) for p in proposals] == [
        ("first", "mem0", 1, False), ("second", "mem1", 2, False), ("third", "mem2", 3, False),
        ("consolation", "mem3", 4, False), ("consolation", "mem4", 5, False)]


def test_a_tie_across_the_last_prize_place_is_flagged(bank, organizer, frozen_clock, make_user):
    round_, _members = _prize_round(organizer, frozen_clock, make_user, [5, 4, 3, 2, 1, 1, 1, 0])
    proposals = contests.propose_prizes(round_)
    assert [(p.tier, p.row.rank, p.tie_at_boundary) for p in proposals] == [
        ("first", 1, False), ("second", 2, False), ("third", 3, False),
        ("consolation", 4, False), ("consolation", 5, True)]


def test_fewer_members_than_prizes(bank, organizer, frozen_clock, make_user):
    round_, _members = _prize_round(organizer, frozen_clock, make_user, [2, 3])
    proposals = contests.propose_prizes(round_)
    assert [(p.tier, p.row.user.username) for p in proposals] == [("first", "mem1"), ("second", "mem0")]


def test_confirm_prizes_stores_them(bank, organizer, frozen_clock, make_user):
    round_, members = _prize_round(organizer, frozen_clock, make_user, [5, 4, 3, 2, 1, 1, 0])
    frozen_clock.set(round_.closes_at - timedelta(seconds=1))
    with pytest.raises(Conflict):
        contests.confirm_prizes(organizer, round_)
    frozen_clock.set(round_.closes_at)
    contests.confirm_prizes(organizer, round_)
    contests.confirm_prizes(organizer, round_)  # again: replaces, never duplicates
    db.session.commit()
    db.session.expire_all()
    prizes = contests.confirmed_prizes(round_)
    assert [(p.tier, p.user.username, p.rank, p.confirmed_by_id) for p in prizes] == [
        ("first", "mem0", 1, organizer.id), ("second", "mem1", 2, organizer.id),
        ("third", "mem2", 3, organizer.id), ("consolation", "mem3", 4, organizer.id),
        ("consolation", "mem4", 5, organizer.id)]
    assert db.session.scalar(select(func.count()).select_from(Prize)) == 5
    assert round_.prizes_confirmed_at == frozen_clock.now
    assert len(db.session.execute(select(AuditLog).where(
        AuditLog.action == "round.prizes")).scalars().all()) == 2
