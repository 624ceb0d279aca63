"""Branch standings through the services: the participation denominator (exempt and
deactivated members), the emulation index against hand-computed figures, the tie rule,
the contest averages, mastery by section, the branch page's "not yet" list with its
reminder, and the collective prize proposal."""
from __future__ import annotations

import csv
import io
import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import delete, select

from quizapp.extensions import db
from quizapp.models import AuditLog, RoundSectionStats, RoundUnitStats, Section, Unit
from quizapp.services import attempts, counters, exports, reports, roster, standings
from quizapp.services import contest as contests
from quizapp.services.contest import RoundSettings
from quizapp.services.errors import Conflict, DomainError
from quizapp.services.standings import Weights
from tests.conftest import right_ids, take_round

# Every attempt gets the same five questions of viewpoint-1 (exactly five approved), so
# scores can be scripted: "right=3" means the first three answered right.
SAME_FIVE = "viewpoint-1: 5"


# ---------------------------------------------------------------- helpers

@pytest.fixture
def make_user(make_user):
    """Members without passwords: the services never need one, and hashing is slow."""
    def make(**kw):
        kw.setdefault("password", None)
        return make_user(**kw)
    return make


def _round(organizer, contest, clock, title, opens_in_hours, plan=SAME_FIVE, **overrides):
    """A scheduled round of `contest` opening `opens_in_hours` after the clock's start
    (2026-03-02 02:00 UTC), two hours long."""
    start = clock.start
    values = dict(title=title, opens_at=start + timedelta(hours=opens_in_hours),
                  closes_at=start + timedelta(hours=opens_in_hours + 2), time_limit_minutes=20,
                  question_count=5, draw_plan=plan)
    values.update(overrides)
    round_ = contests.create_round(organizer, contest, RoundSettings(**values))
    contests.schedule(organizer, round_)
    db.session.commit()
    return round_


@pytest.fixture
def clock(frozen_clock):
    frozen_clock.start = frozen_clock.now
    return frozen_clock


def _start(user, round_):
    attempt = contests.start_round_attempt(user, round_, rng=random.Random(user.id))
    db.session.commit()
    return attempt


def _consistent():
    """The maintained counters equal a rebuild from scratch."""
    db.session.expire_all()
    assert counters.recompute(check=True) == []


def _unit_stats(round_, unit) -> tuple | None:
    db.session.expire_all()
    s = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.round_id == round_.id, RoundUnitStats.unit_id == unit.id)).scalar_one_or_none()
    if s is None:
        return None
    return (s.started, s.finished, s.participants, s.score_sum, s.max_sum, s.full_scores)


def _roster(unit) -> int:
    db.session.expire_all()
    return db.session.get(Unit, unit.id).active_roster


def _row(rows, unit):
    return next(r for r in rows if r.unit.id == unit.id)


def _index(P, S, G, w=(50, 40, 10)):
    return (w[0] * P + w[1] * S + w[2] * G) / 100


def _clamp(value):
    return min(100.0, max(0.0, value))


def _cents(value) -> float:
    """Half up to two decimals, as the standings round every printed figure."""
    from decimal import ROUND_HALF_UP, Decimal
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------- the denominator

@pytest.fixture
def branch_a(make_unit, make_user):
    """Chi bộ A: a secretary and four members (the secretary counts in the roster)."""
    unit = make_unit("cb-a", name="Chi bộ A")
    people = [make_user(role="secretary", unit=unit, username="bt-a", full_name="Lê Văn Bí")]
    people += [make_user(unit=unit, username=f"dv-a{i}", full_name=name)
               for i, name in enumerate(["Nguyễn Văn An", "Trần Thị Bình", "Phạm Văn Cường",
                                         "Đỗ Thị Dung"], start=1)]
    return unit, people


def test_roster_counts_active_members_and_secretaries_not_staff(organizer, branch_a, ward):
    unit, _people = branch_a
    assert _roster(unit) == 5
    assert _roster(ward) == 0  # the organizer works in the ward but is not on a roster
    assert [u.id for u in standings.branch_units()] == [unit.id]
    _consistent()


def test_exempt_and_deactivated_members_leave_numerator_and_denominator(
        bank, organizer, branch_a, clock):
    unit, (secretary, an, binh, cuong, dung) = branch_a
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(round_.opens_at)
    take_round(an, round_, clock, 5)
    take_round(binh, round_, clock, 3)
    # started, finished, participants, score_sum, max_sum, full_scores
    assert _unit_stats(round_, unit) == (2, 2, 2, 8, 10, 1)
    assert _roster(unit) == 5
    row = _row(standings.round_standings(round_), unit)
    assert (row.roster, row.participants, row.rate) == (5, 2, pytest.approx(2 / 5))
    _consistent()

    # An exempt member who took part leaves both sides of the fraction (and the sums);
    # everyone still counts in started/finished (the live view).
    roster.set_exempt(organizer, an, True, "ốm dài ngày")
    db.session.commit()
    assert _roster(unit) == 4
    assert _unit_stats(round_, unit) == (2, 2, 1, 3, 5, 0)
    row = _row(standings.round_standings(round_), unit)
    assert (row.roster, row.participants, row.rate, row.average) == (4, 1, pytest.approx(1 / 4), 3)
    assert row.S == pytest.approx(60.0)
    _consistent()

    # A deactivated member who did not take part leaves the denominator only.
    roster.set_active(organizer, cuong, False)
    db.session.commit()
    assert _roster(unit) == 3
    assert _unit_stats(round_, unit) == (2, 2, 1, 3, 5, 0)
    _consistent()

    # A deactivated member who took part leaves both.
    roster.set_active(organizer, binh, False)
    db.session.commit()
    assert _roster(unit) == 2
    assert _unit_stats(round_, unit) == (2, 2, 0, 0, 0, 0)
    row = _row(standings.round_standings(round_), unit)
    assert (row.participants, row.rate, row.average, row.S) == (0, 0.0, None, 0.0)
    _consistent()

    # And everything comes back.
    roster.set_exempt(organizer, an, False)
    roster.set_active(organizer, binh, True)
    roster.set_active(organizer, cuong, True)
    db.session.commit()
    assert _roster(unit) == 5
    assert _unit_stats(round_, unit) == (2, 2, 2, 8, 10, 1)
    _consistent()
    # The individual results are kept throughout (the individual ranking is separate).
    assert {r.user.id for r in contests.ranking(round_)} == {an.id, binh.id}


def test_exempt_members_answers_leave_the_section_counters(bank, organizer, branch_a, clock):
    unit, (_secretary, an, binh, *_rest) = branch_a
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(round_.opens_at)
    take_round(an, round_, clock, 5)
    take_round(binh, round_, clock, 1)
    viewpoints = db.session.execute(select(Section).where(Section.key == "viewpoints")).scalar_one()
    assert standings.mastery([round_], [unit]) == {(unit.id, viewpoints.id): (10, 6)}
    roster.set_exempt(organizer, an, True)
    db.session.commit()
    assert standings.mastery([round_], [unit]) == {(unit.id, viewpoints.id): (5, 1)}
    _consistent()


def test_attempt_finished_while_exempt_counts_once_the_member_counts_again(
        bank, organizer, branch_a, clock):
    unit, (_secretary, an, _binh, _cuong, dung) = branch_a
    roster.set_exempt(organizer, dung, True)
    db.session.commit()
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(round_.opens_at)
    take_round(dung, round_, clock, 4)
    take_round(an, round_, clock, 2)
    assert _roster(unit) == 4
    assert _unit_stats(round_, unit) == (2, 2, 1, 2, 5, 0)
    _consistent()
    roster.set_exempt(organizer, dung, False)
    db.session.commit()
    assert _roster(unit) == 5
    assert _unit_stats(round_, unit) == (2, 2, 2, 6, 10, 0)
    _consistent()


def test_secretary_deactivating_themself_is_refused(organizer, branch_a):
    _unit, (secretary, *_rest) = branch_a
    with pytest.raises(DomainError):
        roster.set_active(secretary, secretary, False)
    db.session.rollback()
    assert db.session.get(type(secretary), secretary.id).active


# ---------------------------------------------------------------- index arithmetic

@pytest.fixture
def three_branches(make_unit, make_user):
    """A: 4 members, B: 2, C: 3 (names chosen so that the name order is A, B, C)."""
    units = {code: make_unit(f"cb-{code.lower()}", name=f"Chi bộ {code}") for code in "ABC"}
    people = {}
    for code, size in (("A", 4), ("B", 2), ("C", 3)):
        for i in range(1, size + 1):
            people[f"{code.lower()}{i}"] = make_user(unit=units[code], username=f"dv-{code.lower()}{i}",
                                                     full_name=f"Đảng Viên {code}{i}")
    return units, people


@pytest.fixture
def two_rounds(bank, organizer, three_branches, clock):
    """Round 1: A 5 and 3 (of 4), B 2 and 2 (of 2), C nobody (of 3).
    Round 2: A 4, 4 and 5, B 5 (of 2), C 0 (of 3). Clock left after round 2 closes."""
    units, p = three_branches
    contest = contests.create_contest(organizer, "Thi đua học Nghị quyết", "", [])
    r1 = _round(organizer, contest, clock, "Vòng 1", 1)
    r2 = _round(organizer, contest, clock, "Vòng 2", 4)
    clock.set(r1.opens_at)
    for who, right in (("a1", 5), ("a2", 3), ("b1", 2), ("b2", 2)):
        take_round(p[who], r1, clock, right)
    clock.set(r2.opens_at)
    for who, right in (("a1", 4), ("a2", 4), ("a3", 5), ("b1", 5), ("c1", 0)):
        take_round(p[who], r2, clock, right)
    clock.set(r2.closes_at)
    return contest, r1, r2, units, p


# Hand-computed figures (P = participants/roster·100, S = score sum/max sum·100), rounded
# to two decimals as printed: the index is computed from the rounded figures.
R1 = {"A": (50.0, 80.0), "B": (100.0, 40.0), "C": (0.0, 0.0)}
R2 = {"A": (75.0, 86.67), "B": (50.0, 100.0), "C": (33.33, 0.0)}  # 13/15, 1/3 rounded


def _g2(code):
    # In decimals, as on paper: in floats 50 + 33.33/2 is 66.66499… and would round down.
    from decimal import Decimal
    (p1, s1), (p2, s2) = ([Decimal(repr(x)) for x in pair] for pair in (R1[code], R2[code]))
    return _cents(float(min(Decimal(100), max(Decimal(0), 50 + ((p2 + s2) / 2 - (p1 + s1) / 2)))))


def test_round_one_index_with_default_weights(two_rounds):
    contest, r1, _r2, units, _p = two_rounds
    rows = standings.round_standings(r1)
    assert [r.unit.name for r in rows] == ["Chi bộ B", "Chi bộ A", "Chi bộ C"]
    assert [r.rank for r in rows] == [1, 2, 3] and not any(r.tied for r in rows)
    # 62 = (50×50 + 40×80 + 10×50) / 100; B: 71; C: 5.
    expected = {"A": 62.0, "B": 71.0, "C": 5.0}
    for code, unit in units.items():
        row = _row(rows, unit)
        P, S = R1[code]
        assert row.P == pytest.approx(P) and row.S == pytest.approx(S)
        assert row.G == 50.0 and row.previous is None and row.improvement is None
        assert row.index == pytest.approx(_index(P, S, 50.0)) == pytest.approx(expected[code])
    a = _row(rows, units["A"])
    assert (a.roster, a.participants, a.score_sum, a.full_scores, a.max_score) == (4, 2, 8, 1, 5)
    assert a.average == pytest.approx(4.0) and a.rate == pytest.approx(0.5)
    assert a.arithmetic(Weights.of(contest)) == "(50×50.00 + 40×80.00 + 10×50.00) ÷ 100 = 62.00"
    c = _row(rows, units["C"])
    assert (c.participants, c.average, c.rate) == (0, None, 0.0)


def test_round_two_index_uses_improvement_on_round_one(two_rounds):
    _contest, _r1, r2, units, _p = two_rounds
    rows = standings.round_standings(r2)
    # A: G = 50 + (80.835 − 65) = 65.835 → 65.84 → (3750 + 3466.8 + 658.4)/100 = 78.752;
    # B: G = 50 + (75 − 70) = 55 → 70.5; C: G = 50 + (16.665 − 0) → 66.67 → 23.332.
    expected = {"A": 78.752, "B": 70.5, "C": 23.332}
    for code, unit in units.items():
        row = _row(rows, unit)
        P, S = R2[code]
        assert row.P == pytest.approx(P) and row.S == pytest.approx(S)
        assert row.previous == pytest.approx(sum(R1[code]) / 2)
        assert row.G == pytest.approx(_g2(code))
        assert row.improvement == pytest.approx(sum(R2[code]) / 2 - sum(R1[code]) / 2)
        assert row.index == pytest.approx(_index(P, S, _g2(code)))
        assert row.index == pytest.approx(expected[code])
    assert [r.unit.name for r in rows] == ["Chi bộ A", "Chi bộ B", "Chi bộ C"]


def test_custom_weights_change_the_index(two_rounds, organizer):
    contest, r1, r2, units, _p = two_rounds
    standings.set_weights(organizer, contest, Weights(70, 20, 10), public=True)
    db.session.commit()
    assert contest.public_standings is True
    w = (70, 20, 10)
    rows1 = standings.round_standings(r1)
    rows2 = standings.round_standings(r2)
    for code, unit in units.items():
        assert _row(rows1, unit).index == pytest.approx(_index(*R1[code], 50.0, w))
        assert _row(rows2, unit).index == pytest.approx(_index(*R2[code], _g2(code), w))
    # A: (70×50 + 20×80 + 10×50)/100 = 56; B: (7000 + 800 + 500)/100 = 83.
    assert _row(rows1, units["A"]).index == pytest.approx(56.0)
    assert _row(rows1, units["B"]).index == pytest.approx(83.0)
    assert _row(rows1, units["A"]).arithmetic(Weights.of(contest)).startswith("(70×50.00 + 20×80.00 + 10×50.00)")
    # Only improvement: the ranking follows G.
    standings.set_weights(organizer, contest, Weights(0, 0, 100), public=False)
    db.session.commit()
    rows2 = standings.round_standings(r2)
    assert [r.unit.name for r in rows2] == ["Chi bộ C", "Chi bộ A", "Chi bộ B"]
    assert _row(rows2, units["C"]).index == pytest.approx(_g2("C"))
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "contest.weights")
                             .order_by(AuditLog.id)).scalars().all()
    assert len(log) == 2 and log[0].target == f"contest:{contest.id}"


@pytest.mark.parametrize("weights", [(50, 40, 20), (50, 40, 0), (0, 0, 0), (110, 0, -10),
                                     (-10, 60, 50), (101, 0, 0)])
def test_weights_not_summing_to_100_are_refused(organizer, weights):
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    db.session.commit()
    with pytest.raises(DomainError):
        standings.set_weights(organizer, contest, Weights(*weights), public=True)
    db.session.rollback()
    contest = db.session.get(type(contest), contest.id)
    assert (contest.weight_participation, contest.weight_score, contest.weight_improvement,
            contest.public_standings) == (50, 40, 10, False)
    assert Weights.of(contest) == Weights(*standings.DEFAULT_WEIGHTS)


def test_improvement_is_kept_within_0_and_100(bank, organizer, make_unit, make_user, clock):
    falls, rises = make_unit("cb-x", name="Chi bộ X"), make_unit("cb-y", name="Chi bộ Y")
    x, y = make_user(unit=falls, username="dv-x1"), make_user(unit=rises, username="dv-y1")
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    r1 = _round(organizer, contest, clock, "Vòng 1", 1)
    r2 = _round(organizer, contest, clock, "Vòng 2", 4)
    clock.set(r1.opens_at)
    take_round(x, r1, clock, 5)          # X: P=100, S=100 then nothing: 50 + (0 − 100) → 0
    clock.set(r2.opens_at)
    take_round(y, r2, clock, 5)          # Y: nothing then P=100, S=100: 50 + (100 − 0) → 100
    rows = standings.round_standings(r2)
    assert _row(rows, falls).G == 0.0 and _row(rows, falls).improvement == pytest.approx(-100)
    assert _row(rows, rises).G == 100.0 and _row(rows, rises).improvement == pytest.approx(100)
    assert _row(rows, falls).index == pytest.approx(0.0)
    assert _row(rows, rises).index == pytest.approx(100.0)


def test_a_round_that_never_opened_is_not_the_previous_round(bank, organizer, make_unit,
                                                             make_user, clock):
    """An abandoned draft that would have opened earlier is not "the previous round": G
    stays 50 instead of measuring progress against its zeros (contest_rounds() skips it
    for the contest average too)."""
    unit = make_unit("cb-x", name="Chi bộ X")
    member = make_user(unit=unit, username="dv-x1")
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    # An earlier round that was prepared and then abandoned (never scheduled).
    contests.create_round(organizer, contest, RoundSettings(
        title="Vòng nháp", opens_at=clock.start + timedelta(minutes=30),
        closes_at=clock.start + timedelta(hours=2), time_limit_minutes=20, question_count=5,
        draw_plan=SAME_FIVE))
    held = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(held.opens_at)
    take_round(member, held, clock, 5)
    assert [r.title for r in standings.contest_rounds(contest)] == ["Vòng 1"]
    row = _row(standings.round_standings(held), unit)
    assert row.previous is None and row.G == 50.0


def test_contest_standings_average_p_s_g_over_the_rounds_that_opened(two_rounds):
    contest, r1, r2, units, _p = two_rounds
    rows = standings.contest_standings(contest)
    for code, unit in units.items():
        row = _row(rows, unit)
        P = _cents((R1[code][0] + R2[code][0]) / 2)
        S = _cents((R1[code][1] + R2[code][1]) / 2)
        G = _cents((50.0 + _g2(code)) / 2)
        assert (row.P, row.S, row.G) == (pytest.approx(P), pytest.approx(S), pytest.approx(G))
        assert row.index == pytest.approx(_index(P, S, G))
        assert row.rounds == 2 and row.rate == pytest.approx(P / 100)
    a = _row(rows, units["A"])
    # A: P 62.5, S (80 + 86.67)/2 → 83.34, G (50 + 65.84)/2 = 57.92
    #    → (3125 + 3333.6 + 579.2)/100 = 70.378
    assert a.index == pytest.approx(70.378)
    assert (a.participants, a.score_sum, a.full_scores) == (5, 21, 2)
    assert a.average == pytest.approx(21 / 5)
    # B: P 75, S 70, G 52.5 → 37.5 + 28 + 5.25 = 70.75, ahead of A over the contest.
    assert _row(rows, units["B"]).index == pytest.approx(70.75)
    assert [r.unit.name for r in rows] == ["Chi bộ B", "Chi bộ A", "Chi bộ C"]


def test_contest_standings_before_the_second_round_opens_equal_round_one(
        bank, organizer, three_branches, clock):
    units, p = three_branches
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    r1 = _round(organizer, contest, clock, "Vòng 1", 1)
    _round(organizer, contest, clock, "Vòng 2", 4)
    clock.set(r1.opens_at)
    take_round(p["a1"], r1, clock, 5)
    assert [r.title for r in standings.contest_rounds(contest)] == ["Vòng 1"]
    by_round = {r.unit.id: r for r in standings.round_standings(r1)}
    for row in standings.contest_standings(contest):
        assert row.rounds == 1
        assert row.index == pytest.approx(by_round[row.unit.id].index)
        assert row.rank == by_round[row.unit.id].rank


# ---------------------------------------------------------------- ties

def test_tie_rule_index_then_rate_then_average(bank, organizer, make_unit, make_user, clock):
    # Four branches of two members. Figures (P, S, average):
    #   Bắc: 5 and 0 → 100, 50, 2.5      An: 0 and 5 → the same as Bắc
    #   Cầu: one member, 5 → 50, 100, 5  Dệt: 1 and 1 → 100, 20, 1
    names = {"bac": "Chi bộ Bắc", "an": "Chi bộ An", "cau": "Chi bộ Cầu", "det": "Chi bộ Dệt"}
    units = {k: make_unit(f"cb-{k}", name=v) for k, v in names.items()}
    people = {k: [make_user(unit=u, username=f"dv-{k}{i}") for i in (1, 2)] for k, u in units.items()}
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(round_.opens_at)
    for key, scores in (("bac", (5, 0)), ("an", (0, 5)), ("cau", (5,)), ("det", (1, 1))):
        for member, score in zip(people[key], scores):
            take_round(member, round_, clock, score)

    # (50, 50, 0): Bắc = An = Cầu = 75, Dệt = 60. Bắc and An share rank 1 on rate and
    # average and are listed by name; Cầu has the lower rate.
    standings.set_weights(organizer, contest, Weights(50, 50, 0), public=False)
    db.session.commit()
    rows = standings.round_standings(round_)
    assert [(r.unit.name, r.rank, r.tied) for r in rows] == [
        ("Chi bộ An", 1, True), ("Chi bộ Bắc", 1, True), ("Chi bộ Cầu", 3, False),
        ("Chi bộ Dệt", 4, False)]
    assert [round(r.index, 6) for r in rows] == [75.0, 75.0, 75.0, 60.0]

    # (100, 0, 0): Bắc = An = Dệt = 100 with the same rate; the average puts Dệt (1.0)
    # behind Bắc and An (2.5); Cầu (50) last.
    standings.set_weights(organizer, contest, Weights(100, 0, 0), public=False)
    db.session.commit()
    rows = standings.round_standings(round_)
    assert [(r.unit.name, r.rank, r.tied) for r in rows] == [
        ("Chi bộ An", 1, True), ("Chi bộ Bắc", 1, True), ("Chi bộ Dệt", 3, False),
        ("Chi bộ Cầu", 4, False)]

    # The same rule across the contest.
    rows = standings.contest_standings(contest)
    assert [(r.unit.name, r.rank, r.tied) for r in rows] == [
        ("Chi bộ An", 1, True), ("Chi bộ Bắc", 1, True), ("Chi bộ Dệt", 3, False),
        ("Chi bộ Cầu", 4, False)]


# ---------------------------------------------------------------- mastery

def test_mastery_sums_section_counters_by_top_level_section(bank, organizer, make_unit,
                                                            make_user, clock):
    a, b = make_unit("cb-a", name="Chi bộ A"), make_unit("cb-b", name="Chi bộ B")
    a1, a2, b1 = make_user(unit=a, username="dv-a1"), make_user(unit=a, username="dv-a2"), \
        make_user(unit=b, username="dv-b1")
    sections = {s.key: s for s in db.session.execute(select(Section)).scalars()}
    viewpoints, breakthroughs = sections["viewpoints"], sections["breakthroughs"]
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    r1 = _round(organizer, contest, clock, "Vòng 1", 1)
    r2 = _round(organizer, contest, clock, "Vòng 2", 4, plan="viewpoint-1: 3\nbreakthrough-1: 2")
    clock.set(r1.opens_at)
    take_round(a1, r1, clock, 5)
    take_round(a2, r1, clock, 2)
    take_round(b1, r1, clock, 0)
    clock.set(r2.opens_at)
    in_viewpoints = lambda item: item.question.section_id == sections["viewpoint-1"].id  # noqa: E731
    take_round(a1, r2, clock, in_viewpoints)     # viewpoints right, breakthroughs wrong
    take_round(b1, r2, clock, 5)                 # everything right

    # The counters are kept per (leaf) section of the question …
    stored = {(s.round_id, s.unit_id, s.section_id): (s.answered, s.correct) for s in
              db.session.execute(select(RoundSectionStats)).scalars()}
    assert stored[(r2.id, a.id, sections["breakthrough-1"].id)] == (2, 0)
    assert stored[(r1.id, a.id, sections["viewpoint-1"].id)] == (10, 7)
    # … and mastery adds them up by top-level section, over the rounds asked for.
    assert standings.mastery([r1, r2], [a, b]) == {
        (a.id, viewpoints.id): (13, 10), (a.id, breakthroughs.id): (2, 0),
        (b.id, viewpoints.id): (8, 3), (b.id, breakthroughs.id): (2, 2)}
    assert standings.mastery([r2], [a]) == {(a.id, viewpoints.id): (3, 3),
                                            (a.id, breakthroughs.id): (2, 0)}
    assert standings.mastery([], [a]) == {} and standings.mastery([r1], []) == {}
    assert [s.key for s in standings.top_sections()][:3] == ["letter", "congress", "theme"]
    _consistent()


# ---------------------------------------------------------------- branch page

def test_branch_page_lists_who_has_not_taken_the_open_round(bank, organizer, branch_a, clock):
    unit, (secretary, an, binh, cuong, dung) = branch_a
    away = roster.add_member(organizer, unit, "Hoàng Văn Em")
    gone = roster.add_member(organizer, unit, "Vũ Thị Giang")
    roster.set_exempt(organizer, away, True)
    roster.set_active(organizer, gone, False)
    db.session.commit()
    contest = contests.create_contest(organizer, "Cuộc thi tìm hiểu Nghị quyết", "", [])
    round_ = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(round_.opens_at)
    take_round(an, round_, clock, 4, seconds=95)
    in_progress = _start(binh, round_)
    page = standings.branch_page(unit, contest)
    assert page.open_round.id == round_.id
    # Sorted the Vietnamese way (given name first): Bí, Cường, Dung.
    assert [m.full_name for m in page.not_yet] == ["Lê Văn Bí", "Trần Thị Bình",
                                                     "Phạm Văn Cường", "Đỗ Thị Dung"]
    assert page.cells[(an.id, round_.id)].score == 4
    assert page.cells[(an.id, round_.id)].time_taken == 95
    assert page.cells[(binh.id, round_.id)].in_progress
    assert {m.id for m in page.members} == {p.id for p in (secretary, an, binh, cuong, dung,
                                                           away, gone)}
    text = standings.reminder_text(page, "https://hoctap.example.vn")
    # Closes 2026-03-02 05:00 UTC = 12:00 in Hà Nội.
    assert "Vòng 1" in text and "Cuộc thi tìm hiểu Nghị quyết" in text
    assert "12:00 02/03/2026" in text and "https://hoctap.example.vn" in text
    for person in page.not_yet:
        assert person.full_name in text
    for person in (an, away, gone):
        assert person.full_name not in text
    assert "(4)" in text
    # Trend: one round so far, read from the counters.
    assert [(r.id, row.participants, row.roster) for r, row in page.trend] == [(round_.id, 1, 5)]

    # Once the round has closed there is no "not yet" list and no reminder.
    attempts.submit(in_progress, {})
    db.session.commit()
    clock.set(round_.closes_at)
    page = standings.branch_page(unit, contest)
    assert page.open_round is None and page.not_yet == []
    assert standings.reminder_text(page, "https://hoctap.example.vn") == ""


def test_branch_page_without_contest_is_the_roster(organizer, branch_a):
    unit, people = branch_a
    page = standings.branch_page(unit, None)
    assert page.rounds == [] and page.open_round is None and page.trend == []
    assert len(page.members) == len(people)


def test_own_branch_rate_for_a_member(two_rounds):
    _contest, _r1, r2, units, p = two_rounds
    round_, row = standings.own_branch_rate(p["a4"])
    assert round_.id == r2.id and row.unit.id == units["A"].id
    assert (row.participants, row.roster) == (3, 4)


# ---------------------------------------------------------------- collective prizes

def _proposed(round_):
    return [(p.tier, p.row.unit.name, p.tie_at_boundary)
            for p in standings.propose_collective_prizes(round_)]


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_collective_prizes_are_the_top_branches_by_index(two_rounds):
    _contest, r1, r2, units, _p = two_rounds
    # Round 1: B 71, A 62; C took no part, so it is not proposed.
    assert _proposed(r1) == [("first", "Chi bộ B", False), ("second", "Chi bộ A", False)]
    # Round 2: A 78.752, B 70.5, C 23.332.
    assert _proposed(r2) == [("first", "Chi bộ A", False), ("second", "Chi bộ B", False),
                             ("third", "Chi bộ C", False)]
    _consistent()


def test_collective_prizes_confirm_correct_cleared_reconfirm(two_rounds, organizer, clock):
    """Confirmed collective prizes are stored with the figures shown, logged, exported as
    confirmed (who, when); a correction clears them like individual prizes and the
    export says the list is unconfirmed; the old page cannot confirm the new proposal;
    confirming the new one stores it again."""
    contest, _r1, r2, units, _p = two_rounds
    with pytest.raises(Conflict):  # the page's proposal is the only thing confirmed
        standings.confirm_collective_prizes(organizer, r2, "first:1:99.00")
    seen = standings.proposal_fingerprint(standings.propose_collective_prizes(r2))
    standings.confirm_collective_prizes(organizer, r2, seen)
    db.session.commit()
    db.session.expire_all()
    stored = standings.confirmed_collective_prizes(r2)
    rows = {r.unit.id: r for r in standings.round_standings(r2)}
    assert [(p.tier, p.unit.name, p.rank, p.confirmed_by_id, p.confirmed_at) for p in stored] == [
        ("first", "Chi bộ A", 1, organizer.id, clock.now),
        ("second", "Chi bộ B", 2, organizer.id, clock.now),
        ("third", "Chi bộ C", 3, organizer.id, clock.now)]
    a = stored[0]
    assert (a.participation, a.score, a.improvement, a.index_value) == ("75.00", "86.67", "65.84",
                                                                         "78.752")
    assert a.arithmetic == rows[units["A"].id].arithmetic(Weights.of(contest))
    log = db.session.execute(select(AuditLog).where(
        AuditLog.action == "round.collective_prizes")).scalars().all()
    assert len(log) == 1 and log[0].actor_id == organizer.id and "Chi bộ A" in log[0].detail

    content, _mime, filename = exports.export(r2, "collective", "csv")
    table = _csv(content)
    assert "ĐÃ XÁC NHẬN" in table[0][0] and "CHƯA" not in table[0][0]
    assert "Xác nhận bởi Ban Tổ Chức (btc)" in table[1][0]
    assert filename == f"vong-{r2.id}-giai-tap-the-da-xac-nhan.csv"
    headers = table[2]
    assert [r[headers.index("Chi bộ")] for r in table[3:]] == ["Chi bộ A", "Chi bộ B", "Chi bộ C"]
    assert table[3][headers.index("Cách tính")] == a.arithmetic

    # A correction after confirmation: the branch figures may move, the prizes are cleared.
    question = sorted(contests.round_question_ids(r2))[0]
    contests.correct_question(organizer, r2, question, "void", "Câu hỏi sai")
    db.session.commit()
    assert standings.confirmed_collective_prizes(r2) == []
    cleared = db.session.execute(select(AuditLog).where(
        AuditLog.action == "round.collective_prizes.cleared")).scalar_one()
    assert cleared.actor_id == organizer.id and cleared.target == f"round:{r2.id}"
    content, _mime, filename = exports.export(r2, "collective", "xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert "DỰ KIẾN — CHƯA XÁC NHẬN" in sheet["A1"].value
    assert "chưa được Ban tổ chức xác nhận" in sheet["A2"].value
    assert filename == f"vong-{r2.id}-giai-tap-the-DU-KIEN-chua-xac-nhan.xlsx"

    # The page opened before the correction shows figures that no longer hold.
    with pytest.raises(Conflict):
        standings.confirm_collective_prizes(organizer, r2, seen)
    fresh = standings.proposal_fingerprint(standings.propose_collective_prizes(r2))
    assert fresh != seen
    clock.advance(minutes=5)
    standings.confirm_collective_prizes(organizer, r2, fresh)
    db.session.commit()
    again = standings.confirmed_collective_prizes(r2)
    assert [p.unit.name for p in again] == ["Chi bộ A", "Chi bộ B", "Chi bộ C"]
    assert all(p.confirmed_at == clock.now for p in again)
    assert len(db.session.execute(select(AuditLog).where(
        AuditLog.action == "round.collective_prizes")).scalars().all()) == 2
    _consistent()


def test_collective_prizes_wait_for_the_close(bank, organizer, three_branches, clock):
    units, p = three_branches
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(round_.opens_at)
    take_round(p["a1"], round_, clock, 5)
    seen = standings.proposal_fingerprint(standings.propose_collective_prizes(round_))
    with pytest.raises(Conflict):
        standings.confirm_collective_prizes(organizer, round_, seen)
    assert standings.confirmed_collective_prizes(round_) == []


def test_a_tie_across_collective_prize_places_is_flagged_and_settled_knowingly(
        bank, organizer, make_unit, make_user, clock):
    # Two branches with the same figures: one member each, both 5/5 → tied at rank 1,
    # across the first and second prizes.
    codes = {"An": "an", "Bắc": "bac", "Cầu": "cau"}
    units = {k: make_unit(f"cb-{c}", name=f"Chi bộ {k}") for k, c in codes.items()}
    people = {k: make_user(unit=units[k], username=f"dv-{c}") for k, c in codes.items()}
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(round_.opens_at)
    for key, right in (("An", 5), ("Bắc", 5), ("Cầu", 2)):
        take_round(people[key], round_, clock, right)
    clock.set(round_.closes_at)
    assert _proposed(round_) == [("first", "Chi bộ An", True), ("second", "Chi bộ Bắc", True),
                                 ("third", "Chi bộ Cầu", False)]
    seen = standings.proposal_fingerprint(standings.propose_collective_prizes(round_))
    with pytest.raises(DomainError):
        standings.confirm_collective_prizes(organizer, round_, seen)
    assert standings.confirmed_collective_prizes(round_) == []
    standings.confirm_collective_prizes(organizer, round_, seen, ties_settled=True)
    db.session.commit()
    assert [(p.unit.name, p.rank, p.tie_flagged)
            for p in standings.confirmed_collective_prizes(round_)] == [
        ("Chi bộ An", 1, True), ("Chi bộ Bắc", 1, True), ("Chi bộ Cầu", 3, False)]
    table = _csv(exports.export(round_, "collective", "csv")[0])
    flag = table[2].index("Đồng hạng ở ranh giới giải")
    assert [r[flag] for r in table[3:]] == ["có", "có", ""]


# ---------------------------------------------------------------- the arithmetic on paper

_FORMULA = re.compile(r"^\((\d+)×(\d+\.\d+) \+ (\d+)×(\d+\.\d+) \+ (\d+)×(\d+\.\d+)\) "
                      r"÷ 100 = (\d+\.\d+)$")


def _redo_on_paper(line: str) -> tuple[Decimal, Decimal]:
    """(what the printed formula gives, the printed index), both read from the text."""
    match = _FORMULA.match(line)
    assert match, line
    wp, p, ws, s, wg, g, printed = match.groups()
    return (int(wp) * Decimal(p) + int(ws) * Decimal(s) + int(wg) * Decimal(g)) / 100, Decimal(printed)


@pytest.fixture
def paper_contest(bank, organizer, make_unit, clock):
    """Three branches and a contest of two rounds that have both opened; the counters are
    written directly by each example."""
    units = [make_unit(f"cb-p{i}", name=f"Chi bộ P{i}") for i in range(3)]
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    rounds = [_round(organizer, contest, clock, "Vòng 1", 1), _round(organizer, contest, clock, "Vòng 2", 4)]
    clock.set(rounds[1].closes_at)
    return contest, rounds, units


_counts = st.integers(min_value=1, max_value=400).flatmap(lambda roster: st.tuples(
    st.just(roster), st.integers(min_value=0, max_value=roster),
    st.integers(min_value=0, max_value=4000)).flatmap(lambda t: st.tuples(
        st.just(t[0]), st.just(t[1]), st.integers(min_value=0, max_value=t[2]), st.just(t[2]))))
_weights = st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(
    lambda w: w[0] + w[1] <= 100).map(lambda w: (w[0], w[1], 100 - w[0] - w[1]))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(weights=_weights, figures=st.lists(st.tuples(_counts, _counts), min_size=3, max_size=3))
def test_the_printed_formula_gives_the_printed_index(paper_contest, weights, figures):
    """For any weights and counts, redoing each branch's printed line with a calculator
    gives exactly the index printed (in the line, on the page and in the ward report),
    and the figures in the line are the P, S, G printed in their own columns."""
    contest, rounds, units = paper_contest
    contest.weight_participation, contest.weight_score, contest.weight_improvement = weights
    db.session.execute(delete(RoundUnitStats))
    for unit, per_round in zip(units, figures):
        unit.active_roster = per_round[0][0]
        for round_, (_roster, participants, score_sum, max_sum) in zip(rounds, per_round):
            db.session.add(RoundUnitStats(round_id=round_.id, unit_id=unit.id, started=participants,
                                          finished=participants, participants=participants,
                                          score_sum=score_sum, max_sum=max_sum, full_scores=0))
    db.session.flush()
    w = Weights.of(contest)
    for rows in (standings.round_standings(rounds[0]), standings.round_standings(rounds[1]),
                 standings.contest_standings(contest)):
        for row in rows:
            line = row.arithmetic(w)
            computed, printed = _redo_on_paper(line)
            assert computed == printed, line
            assert standings.format_index(row.index) == str(printed)
            assert f"×{row.P:.2f} " in line and f"×{row.S:.2f} " in line and f"×{row.G:.2f})" in line
        for report_row in reports.ward_rows(rows, w):
            computed, printed = _redo_on_paper(report_row[-1])
            assert Decimal(repr(report_row[-2])) == printed == computed
    db.session.rollback()


# ---------------------------------------------------------------- concurrency (PostgreSQL)

@pytest.mark.postgres_only
def test_exempting_a_member_during_a_live_round_loses_no_finish(app, bank, organizer, branch_a,
                                                                clock, monkeypatch):
    import threading
    from quizapp.models import Attempt, RoundResult, User
    unit, (_secretary, an, binh, *_rest) = branch_a
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = _round(organizer, contest, clock, "Vòng 1", 1)
    clock.set(round_.opens_at)
    take_round(an, round_, clock, 5)            # An has a result: exempting her rebuilds the round
    attempt = _start(binh, round_)         # Bình is in the middle of the round
    answers = {item.question_id: right_ids(item) for item in attempt.items}
    clock.advance(seconds=60)
    ids = {"actor": organizer.id, "an": an.id, "attempt": attempt.id}

    # Both transactions run at once (two workers): the exemption adjusts only An's
    # contribution with increments, so Bình's concurrent finish can never be lost.
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def in_worker(body):
        def run():
            with app.app_context():
                try:
                    barrier.wait(10)
                    body()
                    db.session.commit()
                except BaseException as exc:  # noqa: BLE001 - reported to the test
                    db.session.rollback()
                    errors.append(exc)
                finally:
                    db.session.remove()
        return threading.Thread(target=run)

    secretary = in_worker(lambda: roster.set_exempt(db.session.get(User, ids["actor"]),
                                                    db.session.get(User, ids["an"]), True))
    member = in_worker(lambda: attempts.submit(db.session.get(Attempt, ids["attempt"]), answers))
    secretary.start()
    member.start()
    member.join(20)
    secretary.join(20)
    assert not errors, errors
    db.session.expire_all()
    assert db.session.execute(select(RoundResult).where(
        RoundResult.round_id == round_.id, RoundResult.user_id == binh.id)).scalar_one().score == 5
    assert counters.recompute(check=True) == []
