"""`flask --app quizapp report branches` and `standings recompute`: the ward report as
xlsx, CSV and JSON read back; the counters checked, corrupted and repaired."""
from __future__ import annotations

import csv
import json
import random
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from quizapp.extensions import db
from quizapp.models import RoundResult, RoundSectionStats, RoundUnitStats, Unit
from quizapp.services import attempts
from quizapp.services.branches import counters, standings
from quizapp.services import contests
from quizapp.services.contests import RoundSettings


@pytest.fixture
def world(bank, make_user, make_unit, frozen_clock):
    """Two rounds. Round 1: A 5 and 3 of 4, B 2 of 2 → A P 50 S 80 = 62, B P 50 S 40 = 46.
    Round 2 (open): A 4 (one of 4) → P 25 S 80 G 37.5 → 48.25."""
    organizer = make_user(role="organizer", username="btc", password=None)
    a, b = make_unit("cb-a", name="Chi bộ An Lạc"), make_unit("cb-b", name="Chi bộ Bình Minh")
    people = [make_user(unit=a, username=f"dv-a{i}", password=None) for i in range(4)]
    people += [make_user(unit=b, username=f"dv-b{i}", password=None) for i in range(2)]
    contest = contests.create_contest(organizer, "Thi đua", "", [])
    now = frozen_clock.now
    rounds = []
    for n in (1, 2):
        round_ = contests.create_round(organizer, contest, RoundSettings(
            title=f"Vòng {n}", opens_at=now + timedelta(hours=3 * n - 2),
            closes_at=now + timedelta(hours=3 * n), time_limit_minutes=20, question_count=5,
            draw_plan="viewpoint-1: 5"))
        contests.schedule(organizer, round_)
        rounds.append(round_)
    db.session.commit()

    def take(user, round_, right):
        attempt = contests.start_round_attempt(user, round_, rng=random.Random(user.id))
        frozen_clock.advance(seconds=60)
        attempts.submit(attempt, {item.question_id: [c.id for c in item.question.choices
                                                      if c.is_correct == (i < right)][:1]
                                  for i, item in enumerate(attempt.items)})
        db.session.commit()

    frozen_clock.set(rounds[0].opens_at)
    take(people[0], rounds[0], 5)
    take(people[1], rounds[0], 3)
    take(people[4], rounds[0], 2)
    frozen_clock.set(rounds[1].opens_at)
    take(people[2], rounds[1], 4)
    return contest, rounds, (a, b)


def _invoke(runner, *args):
    return runner.invoke(args=[str(a) for a in args])


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json"])
def test_report_branches_for_a_round(runner, world, tmp_path, fmt):
    contest, (r1, _r2), (a, b) = world
    output = tmp_path / f"bao-cao.{fmt}"
    result = _invoke(runner, "report", "branches", r1.id, "--format", fmt, "--output", output)
    assert result.exit_code == 0, result.output
    assert str(output) in result.output and "2" in result.output
    if fmt == "xlsx":
        rows = list(load_workbook(output, read_only=True).worksheets[0].iter_rows(values_only=True))
        assert "Vòng 1" in rows[0][0]
        headers, body = list(rows[1]), rows[2:]
    elif fmt == "csv":
        with open(output, encoding="utf-8-sig", newline="") as handle:
            table = list(csv.reader(handle))
        headers, body = table[0], table[1:]
    else:
        data = json.loads(output.read_text(encoding="utf-8"))
        assert "Vòng 1" in data["title"]
        # Review counts with weight 0 unless the organizer says otherwise.
        assert data["weights"] == {"participation": 50, "score": 40, "improvement": 10, "review": 0}
        assert [(x["rank"], x["unit"], x["index"], x["P"], x["S"], x["G"]) for x in data["branches"]] == [
            (1, "Chi bộ An Lạc", 62.0, 50.0, 80.0, 50.0), (2, "Chi bộ Bình Minh", 46.0, 50.0, 40.0, 50.0)]
        assert data["branches"][0]["arithmetic"] == "(50×50.00 + 40×80.00 + 10×50.00) ÷ 100 = 62.00"
        return
    for name in ("Hạng", "Chi bộ", "Chỉ số thi đua", "Cách tính"):
        assert name in headers
    pick = lambda row, name: row[headers.index(name)]  # noqa: E731
    assert [pick(r, "Chi bộ") for r in body] == ["Chi bộ An Lạc", "Chi bộ Bình Minh"]
    assert [float(pick(r, "Chỉ số thi đua")) for r in body] == [62.0, 46.0]
    assert [str(pick(r, "Hạng")) for r in body] == ["1", "2"]
    assert pick(body[1], "Cách tính") == "(50×50.00 + 40×40.00 + 10×50.00) ÷ 100 = 46.00"


def test_report_branches_for_the_contest(runner, world, tmp_path):
    contest, (r1, r2), (a, b) = world
    output = tmp_path / "cuoc-thi.json"
    # Round 2 is open and shows results at close: its scores need the organizers' flag.
    result = _invoke(runner, "report", "branches", "--contest", contest.id, "--format", "json",
                     "--output", output, "--include-hidden")
    assert result.exit_code == 0, result.output
    data = json.loads(output.read_text(encoding="utf-8"))
    assert "cộng dồn" in data["title"]
    expected = {row.unit.name: row for row in standings.contest_standings(contest)}
    # A: P (50 + 25)/2 = 37.5, S 80, G (50 + 37.5)/2 = 43.75 → 18.75 + 32 + 4.375 = 55.125.
    assert expected["Chi bộ An Lạc"].index == pytest.approx(55.125)
    for row in data["branches"]:
        assert row["index"] == round(expected[row["unit"]].index, 4)
        assert row["arithmetic"] == expected[row["unit"]].arithmetic(standings.Weights.of(contest))
    assert [x["unit"] for x in data["branches"]] == ["Chi bộ An Lạc", "Chi bộ Bình Minh"]

    xlsx = tmp_path / "cuoc-thi.xlsx"
    result = _invoke(runner, "report", "branches", "--contest", contest.id, "--output", xlsx)
    assert result.exit_code == 0, result.output   # xlsx is the default format
    rows = list(load_workbook(xlsx, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert "cộng dồn" in rows[0][0] and rows[1][0] == "Hạng"


@pytest.mark.parametrize("args", [
    [],                              # neither a round nor a contest
    ["1", "--contest", "1"],         # both
    ["999"],                         # unknown round
    ["--contest", "999"],            # unknown contest
    ["1", "--format", "pdf"],        # unknown format
])
def test_report_branches_refuses_bad_arguments(runner, app, tmp_path, args):
    output = tmp_path / "x.out"
    result = _invoke(runner, "report", "branches", *args, "--output", output)
    assert result.exit_code != 0
    assert not output.exists()
    if "999" in args:
        assert "999" in result.output


def test_report_branches_needs_an_output(runner, app):
    assert _invoke(runner, "report", "branches", "1").exit_code != 0


def test_standings_recompute_check_detects_and_repairs_a_corrupted_row(runner, world):
    _contest, (r1, _r2), (a, _b) = world
    result = _invoke(runner, "standings", "recompute", "--check")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output

    db.session.execute(update(RoundUnitStats).where(
        RoundUnitStats.round_id == r1.id, RoundUnitStats.unit_id == a.id)
        .values(participants=RoundUnitStats.participants + 1, score_sum=99))
    db.session.commit()
    result = _invoke(runner, "standings", "recompute", "--check")
    assert result.exit_code != 0
    # The difference is printed: which row, what is stored, what a rebuild gives.
    assert f"units ({r1.id}, {a.id})" in result.output
    # (started, finished, participants, score sum, points sum, max sum, full scores, review days)
    assert "(2, 2, 3, 99, 800, 10, 1, 0)" in result.output and "(2, 2, 2, 8, 800, 10, 1, 0)" in result.output
    assert "1 difference" in result.output
    db.session.expire_all()
    assert db.session.execute(select(RoundUnitStats.participants).where(
        RoundUnitStats.round_id == r1.id, RoundUnitStats.unit_id == a.id)).scalar_one() == 3

    result = _invoke(runner, "standings", "recompute")
    assert result.exit_code == 0, result.output
    assert "1 row" in result.output
    db.session.expire_all()
    assert _invoke(runner, "standings", "recompute", "--check").exit_code == 0
    assert counters.recompute(check=True) == []


def test_standings_recompute_repairs_every_kind_of_counter(runner, world):
    _contest, (r1, r2), (a, b) = world
    db.session.execute(update(RoundSectionStats).where(RoundSectionStats.round_id == r1.id)
                       .values(correct=0))
    db.session.execute(update(Unit).where(Unit.id == b.id).values(active_roster=7))
    db.session.execute(update(RoundResult).where(RoundResult.round_id == r2.id).values(score=0))
    db.session.execute(update(RoundUnitStats).where(RoundUnitStats.round_id == r2.id)
                       .values(started=0, finished=0, participants=0, score_sum=0, max_sum=0))
    db.session.commit()
    result = _invoke(runner, "standings", "recompute", "--check")
    assert result.exit_code != 0
    for kind in ("results", "units", "sections", "rosters"):
        assert kind in result.output, kind
    assert _invoke(runner, "standings", "recompute").exit_code == 0
    db.session.expire_all()
    assert counters.recompute(check=True) == []
    assert db.session.get(Unit, b.id).active_roster == 2


def test_standings_recompute_check_agrees_after_partial_credit_and_sees_half_a_question(
        runner, bank, make_user, make_unit, frozen_clock):
    """Mixed partial-credit attempts (a 50 % option, a multiple-answer question's share):
    the maintained counters equal a rebuild, and half a question's worth (50 points)
    missing from a branch's sum is found and repaired."""
    organizer = make_user(role="organizer", username="btc", password=None)
    unit = make_unit("cb-le", name="Chi bộ Lẻ")
    members = [make_user(unit=unit, username=f"dv{i}", password=None) for i in range(4)]
    contest = contests.create_contest(organizer, "Thi đua", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now, closes_at=frozen_clock.now + timedelta(hours=2),
        time_limit_minutes=20, question_count=10, attempts_allowed=2, counting="best"))
    contests.schedule(organizer, round_)
    db.session.commit()
    rng = random.Random(7)
    points = 0
    for sitting in range(2):
        for member in members:
            attempt = contests.start_round_attempt(member, round_, rng=random.Random(rng.random()))
            answers = {}
            for item in attempt.items:
                question = item.question
                right = [c for c in question.choices if c.is_correct]
                wrong = [c for c in question.choices if not c.is_correct]
                if question.kind == "single":
                    for c in question.choices:
                        c.fraction = 1.0 if c.is_correct else (0.5 if c is wrong[0] else 0.0)
                    question.partial_credit = True
                    answers[item.question_id] = [rng.choice([right[0], wrong[0], wrong[-1]]).id]
                elif question.kind == "multiple":
                    for c in question.choices:
                        c.fraction = 1 / len(right) if c.is_correct else -0.5
                    question.partial_credit = True
                    answers[item.question_id] = [c.id for c in question.choices
                                                 if rng.random() < 0.5][:len(question.choices)]
            db.session.flush()
            frozen_clock.advance(seconds=rng.choice([60, 120]))
            attempts.submit(attempt, answers)
            db.session.commit()
            points += attempt.points % 100
    assert points  # some credit was partial
    result = _invoke(runner, "standings", "recompute", "--check")
    assert result.exit_code == 0 and "OK" in result.output, result.output

    db.session.execute(update(RoundUnitStats).where(RoundUnitStats.round_id == round_.id)
                       .values(points_sum=RoundUnitStats.points_sum - 50))
    db.session.commit()
    result = _invoke(runner, "standings", "recompute", "--check")
    assert result.exit_code != 0 and "1 difference" in result.output, result.output
    assert _invoke(runner, "standings", "recompute").exit_code == 0
    assert _invoke(runner, "standings", "recompute", "--check").exit_code == 0
    assert counters.recompute(check=True) == []
