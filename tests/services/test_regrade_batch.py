"""A correction regrades a round in batches and writes only what changed.

Before, a correction regraded every finished attempt of the round one by one (three
statements an attempt): 55 s for a void in a round of 21,600 attempts, past any
request timeout, so an organizer could not correct a city round at all. It now reads
the attempts holding the corrected question a thousand at a time, grades them by the
finish's own rule and writes the changed items and totals in one statement each (on
PostgreSQL). These tests hold it to the full regrade's answer, to the counters'
rebuild, and to a number of statements that does not grow with the round."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import (Attempt, AttemptQuestion, RoundResult, RoundSectionStats,
                            RoundUnitStats)
from quizapp.services import attempts, contests
from quizapp.services.branches import counters
from tests.conftest import closed_round_taken, wrong_ids
from tests.views.test_statement_budget import statements


def _grades(round_id: int) -> dict:
    db.session.expire_all()
    items = {row.id: (row.credit, row.is_correct) for row in db.session.execute(
        select(AttemptQuestion).join(Attempt).where(Attempt.round_id == round_id)).scalars()}
    totals = {a.id: (a.score, a.points, a.max_score) for a in db.session.execute(
        select(Attempt).where(Attempt.round_id == round_id)).scalars()}
    return {"items": items, "totals": totals}


def test_a_correction_leaves_every_attempt_as_a_full_regrade_grades_it(
        bank, organizer, make_user, frozen_clock):
    round_ = closed_round_taken(organizer, make_user, frozen_clock, members=8)
    first = db.session.execute(select(Attempt).where(Attempt.round_id == round_.id)
                               .order_by(Attempt.id)).scalars().first()
    voided, rekeyed = first.items[0], first.items[1]
    before = _grades(round_.id)
    contests.correct_question(organizer, round_, voided.question_id, "void", "Hai đáp án đúng")
    contests.correct_question(organizer, round_, rekeyed.question_id, "rekey", "Đáp án sai",
                              wrong_ids(rekeyed))
    db.session.commit()
    after = _grades(round_.id)
    holding = {q: {i.attempt_id for i in db.session.execute(select(AttemptQuestion).where(
        AttemptQuestion.question_id == q)).scalars()} for q in (voided.question_id, rekeyed.question_id)}
    # Only the attempts holding a corrected question changed, and they did.
    changed = {a for a in after["totals"] if after["totals"][a] != before["totals"][a]}
    assert changed and changed <= holding[voided.question_id] | holding[rekeyed.question_id]
    assert all(after["totals"][a][2] == 4 for a in holding[voided.question_id])
    # A full regrade with the round's key (corrections included) finds nothing to change.
    key = contests.answer_key(contests.round_question_ids(round_), round_.id)
    assert attempts.regrade_round_attempts(round_.id, key) == 0
    db.session.commit()
    assert _grades(round_.id) == after
    # The counters were rebuilt from the regraded attempts.
    assert counters.recompute(check=True) == []


def test_a_regrade_writes_only_what_changed_in_batches(bank, organizer, make_user, frozen_clock):
    """Small batches (2 attempts) give the same grades as one batch; a stored grade made
    wrong by hand is found and mended, and nothing else is written."""
    round_ = closed_round_taken(organizer, make_user, frozen_clock, members=5, seed=9)
    key = contests.answer_key(contests.round_question_ids(round_), round_.id)
    assert attempts.regrade_round_attempts(round_.id, key, batch_size=2) == 0
    right = _grades(round_.id)
    item = db.session.execute(select(AttemptQuestion).join(Attempt).where(
        Attempt.round_id == round_.id, AttemptQuestion.credit == 100)).scalars().first()
    item.credit, item.is_correct = 0, False
    item.attempt.score -= 1
    db.session.commit()
    with statements() as seen:
        assert attempts.regrade_round_attempts(round_.id, key, batch_size=2) == 1
    writes = [s for s in seen if s.lstrip().split(None, 1)[0].upper() == "UPDATE"]
    assert len(writes) == 2, writes  # the item, the attempt's totals
    db.session.commit()
    assert _grades(round_.id) == right


def test_a_correction_runs_the_same_statements_whatever_the_round_size(
        bank, organizer, make_user, frozen_clock):
    """A few statements per thousand attempts, not three per attempt: a void in a round
    of 3 and in one of 12 members runs the same statements."""
    counts = []
    for members in (3, 12):
        round_ = closed_round_taken(organizer, make_user, frozen_clock, members=members, seed=members)
        question = db.session.execute(
            select(AttemptQuestion.question_id).join(Attempt).where(Attempt.round_id == round_.id)
            .order_by(AttemptQuestion.id)).scalars().first()
        db.session.expire_all()
        with statements() as seen:
            contests.correct_question(organizer, round_, question, "void", "Câu hỏi sai")
            db.session.flush()
        db.session.commit()
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def _row_ids() -> dict:
    out = {}
    for model, key in ((RoundResult, ("round_id", "user_id")),
                       (RoundUnitStats, ("round_id", "unit_id")),
                       (RoundSectionStats, ("round_id", "unit_id", "section_id"))):
        for row in db.session.execute(select(model)).scalars():
            out[(model.__name__,) + tuple(getattr(row, c) for c in key)] = row.id
    return out


def test_a_rebuild_rewrites_only_the_rows_that_differ(bank, organizer, make_user, make_unit,
                                                      frozen_clock):
    """`standings recompute` (and a correction's rebuild) compares before it writes: a
    result, a branch counter and a section counter made wrong, one missing and one
    that should not be there are mended; every right row is left as it was (same row),
    and a rebuild that finds nothing wrong writes nothing."""
    round_ = closed_round_taken(organizer, make_user, frozen_clock, members=6, seed=11)
    db.session.commit()
    assert counters.recompute(check=True) == []
    before = _row_ids()
    result = db.session.execute(select(RoundResult).order_by(RoundResult.id)).scalars().first()
    result.score += 1
    unit = db.session.execute(select(RoundUnitStats)).scalars().first()
    unit.full_scores += 3
    sections = db.session.execute(select(RoundSectionStats).order_by(RoundSectionStats.id)).scalars().all()
    sections[0].correct += 1
    db.session.delete(sections[1])
    stray = make_unit("cb-khac", name="Chi bộ khác")
    db.session.add(RoundSectionStats(round_id=round_.id, unit_id=stray.id,
                                     section_id=sections[0].section_id, answered=4, correct=2))
    mended = {("RoundResult", result.round_id, result.user_id),
              ("RoundUnitStats", unit.round_id, unit.unit_id),
              ("RoundSectionStats", round_.id, sections[0].unit_id, sections[0].section_id),
              ("RoundSectionStats", round_.id, sections[1].unit_id, sections[1].section_id)}
    db.session.commit()
    found = counters.recompute()
    db.session.commit()
    assert len(found) == 5, found
    assert counters.recompute(check=True) == []
    after = _row_ids()
    assert set(after) == set(before)
    assert {k: v for k, v in after.items() if k not in mended} == \
        {k: v for k, v in before.items() if k not in mended}
    with statements() as seen:
        assert counters.recompute() == []
    assert not [s for s in seen if s.lstrip().split(None, 1)[0].upper()
                in ("INSERT", "UPDATE", "DELETE")]


def test_a_result_whose_finish_time_is_wrong_is_found_and_mended(bank, organizer, make_user,
                                                                  frozen_clock):
    """The finish time is the ranking's last tie-break: a check reports a result whose
    time differs from its attempt's, and a rebuild (which rewrites only what differs)
    mends it."""
    round_ = closed_round_taken(organizer, make_user, frozen_clock, members=3, seed=13)
    db.session.commit()
    result = db.session.execute(select(RoundResult).order_by(RoundResult.id)).scalars().first()
    right, user_id = result.finished_at, result.user_id
    result.finished_at = right - timedelta(minutes=3)
    db.session.commit()
    assert len(counters.recompute(check=True)) == 1
    assert len(counters.recompute()) == 1
    db.session.commit()
    db.session.expire_all()
    assert counters.recompute(check=True) == []
    assert db.session.execute(select(RoundResult.finished_at).where(
        RoundResult.round_id == round_.id, RoundResult.user_id == user_id)).scalar_one() == right
