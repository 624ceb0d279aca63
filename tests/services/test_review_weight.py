"""Daily review in the emulation index (issue 14): the review figure R, its maintained
counter (RoundUnitStats.review_days) and the weight wR, 0 unless an organizer sets it."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import RoundUnitStats
from quizapp.services import contests, learning
from quizapp.services.branches import counters, reports, roster, standings
from quizapp.services.branches.standings import Weights
from quizapp.services.contests import RoundSettings


@pytest.fixture
def branch(make_unit):
    return make_unit("cb-review", name="Chi bộ Ôn Tập")


@pytest.fixture
def organizer(make_user):
    return make_user(role="organizer", username="btc")


@pytest.fixture
def members(make_user, branch, bank):
    return [make_user(unit=branch, username=f"dv{n}") for n in range(2)]


def open_round(organizer, clock, days: int = 3):
    """A round opening in an hour and closing `days` local days later (same hour)."""
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=clock.now + timedelta(hours=1),
        closes_at=clock.now + timedelta(days=days - 1, hours=2),
        time_limit_minutes=30, question_count=9, draw_plan="letter: 9"))
    contests.schedule(organizer, round_)
    db.session.commit()
    clock.set(round_.opens_at + timedelta(minutes=1))
    return round_


def review(user, clock, cards: int = 2) -> int:
    """Answer up to `cards` of today's review questions; how many were counted."""
    learning.start_today(user)
    db.session.commit()
    done = 0
    for card in learning.today(user).due[:cards]:
        serving = learning.serve(card)
        clock.advance(seconds=5)
        done += learning.answer(user, card, serving.ticket, [str(serving.choices[0][0])]).counted
        db.session.commit()
    return done


def review_days(round_, unit) -> int:
    db.session.expire_all()
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.round_id == round_.id, RoundUnitStats.unit_id == unit.id)).scalar_one_or_none()
    return stats.review_days if stats else 0


def row_of(round_, unit):
    return next(r for r in standings.round_standings(round_) if r.unit.id == unit.id)


def test_with_the_default_weight_review_changes_no_index(organizer, members, branch, frozen_clock):
    round_ = open_round(organizer, frozen_clock)
    before = row_of(round_, branch)
    assert Weights.of(round_.contest) == Weights(*standings.DEFAULT_WEIGHTS) == Weights(50, 40, 10, 0)
    assert review(members[0], frozen_clock) == 2
    after = row_of(round_, branch)
    assert after.review_days == 1 and after.R == 16.67  # 1 member-day of 2 members × 3 days
    assert (after.index, after.P, after.S, after.G) == (before.index, before.P, before.S, before.G)
    assert after.arithmetic(Weights.of(round_.contest)) == before.arithmetic(Weights.of(round_.contest))
    assert "R" not in after.arithmetic(Weights.of(round_.contest)).replace("÷", "")
    assert counters.recompute(check=True) == []


def test_a_member_counts_once_a_day_and_only_within_the_period(organizer, members, branch,
                                                                 frozen_clock):
    round_ = open_round(organizer, frozen_clock, days=3)
    first, second = members
    assert review(first, frozen_clock, cards=3) == 3       # day 1: three answers, one member-day
    assert review_days(round_, branch) == 1
    frozen_clock.advance(days=1)
    review(first, frozen_clock)
    review(second, frozen_clock)
    assert review_days(round_, branch) == 3
    frozen_clock.set(round_.closes_at + timedelta(minutes=5))
    review(first, frozen_clock)                            # after the close: not counted
    assert review_days(round_, branch) == 3
    assert counters.recompute(check=True) == []
    standings.set_weights(organizer, round_.contest, Weights(50, 30, 10, 10), public=False)
    row = row_of(round_, branch)
    assert row.R == float(standings.percent_of(3, 2 * 3)) == 50.0
    assert Decimal(repr(row.index)) == standings.index_of(
        Weights(50, 30, 10, 10), Decimal(repr(row.P)), Decimal(repr(row.S)), Decimal(repr(row.G)),
        Decimal("50.00"))
    assert row.arithmetic(Weights(50, 30, 10, 10)).endswith(
        f" + 10×50.00) ÷ 100 = {standings.format_index(row.index)}")


def test_review_before_the_round_opens_is_left_out_and_recompute_agrees(organizer, members, branch,
                                                                       frozen_clock):
    review(members[0], frozen_clock)                       # before any round exists
    round_ = open_round(organizer, frozen_clock)
    assert review_days(round_, branch) == 0
    review(members[1], frozen_clock)
    assert review_days(round_, branch) == 1
    assert counters.recompute(check=True) == []


def test_a_member_who_stops_counting_takes_his_review_days_with_him(organizer, members, branch,
                                                                   frozen_clock):
    round_ = open_round(organizer, frozen_clock)
    review(members[0], frozen_clock)
    review(members[1], frozen_clock)
    assert review_days(round_, branch) == 2
    roster.set_exempt(organizer, members[0], True, "Ốm dài ngày")
    db.session.commit()
    assert review_days(round_, branch) == 1
    assert counters.recompute(check=True) == []


def test_moving_the_round_rebuilds_its_review_days(organizer, members, branch, frozen_clock):
    review(members[0], frozen_clock)                       # 02:00 UTC, day 1
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now + timedelta(hours=1),
        closes_at=frozen_clock.now + timedelta(days=2), time_limit_minutes=30, question_count=9,
        draw_plan="letter: 9"))
    db.session.commit()
    assert review_days(round_, branch) == 0
    contests.update_round(organizer, round_, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now - timedelta(hours=2),
        closes_at=frozen_clock.now + timedelta(days=2), time_limit_minutes=30, question_count=9,
        draw_plan="letter: 9"))
    db.session.commit()
    assert review_days(round_, branch) == 1
    assert counters.recompute(check=True) == []


def test_the_ward_exports_carry_the_review_figure(organizer, members, branch, frozen_clock):
    """The standings CSV and JSON show R per branch, the figure the index can weigh."""
    round_ = open_round(organizer, frozen_clock)
    assert review(members[0], frozen_clock) == 2
    rows = standings.round_standings(round_)
    weights = Weights.of(round_.contest)
    data = json.loads(reports.ward_report(rows, weights, "Vòng 1", "json"))
    mine = next(b for b in data["branches"] if b["unit"] == "Chi bộ Ôn Tập")
    assert mine["R"] == 16.67
    table = list(csv.reader(io.StringIO(reports.ward_report(rows, weights, "Vòng 1", "csv")
                                        .decode("utf-8-sig"))))
    header = next(line for line in table if "Chi bộ" in line)
    line = next(line for line in table if "Chi bộ Ôn Tập" in line)
    assert line[header.index("R (ôn tập hằng ngày)")] == "16.67"
