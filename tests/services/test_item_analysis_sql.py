"""Item analysis counted by the database agrees with its definition.

`contests.item_analysis` used to read every answer of the round and compute each
question's figures in Python (2.5 s for a city round); it now asks the database for
sums and for the upper and lower 27 % of each question's attempts. Here its answer is
held to the figures the Python definitions (`discrimination`, `upper_lower_index`)
give from the same stored answers — with partial credits, answers with no stored
credit, many attempts tied on points (the order then goes by attempt), a voided
question, and sizes on both sides of the 27 % rounding."""
from __future__ import annotations

import importlib
import random

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptQuestion
from quizapp.services import contests
from quizapp.services.contests.item_analysis import discrimination, upper_lower_index
from tests.conftest import closed_round_taken


def _reference(round_id: int, voided: set[int]) -> dict[int, tuple]:
    """question id → (answered, right, facility, discrimination, upper-lower), by the
    definitions, from the stored answers ordered by attempt."""
    rows = db.session.execute(
        select(AttemptQuestion.question_id, AttemptQuestion.is_correct, AttemptQuestion.credit,
               Attempt.points)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.round_id == round_id, Attempt.status == "finished")
        .order_by(AttemptQuestion.question_id, Attempt.id)).all()
    grouped: dict[int, list] = {}
    for qid, ok, credit, points in rows:
        earned = credit if credit is not None else 100 * bool(ok)
        grouped.setdefault(qid, []).append((bool(ok), earned / 100, float(points or 0)))
    out = {}
    for qid, answers in grouped.items():
        shares = [share for _ok, share, _total in answers]
        totals = [total for _ok, _share, total in answers]
        n = len(answers)
        if qid in voided:
            out[qid] = (n, sum(ok for ok, *_ in answers), None, None, None, 0)
        else:
            out[qid] = (n, sum(ok for ok, *_ in answers), sum(shares) / n,
                        discrimination(shares, totals), upper_lower_index(shares, totals),
                        _exact_sign(shares, totals))
    return out


def _exact_sign(shares: list[float], totals: list[float]) -> int | None:
    """The sign of the correlation in exact arithmetic (credits in percent and points
    are whole numbers), None when either side is constant: where the float definition
    gives -3e-17 for an exact 0, or a tiny figure for a constant credit."""
    xs, ys = [round(x * 100) for x in shares], [int(y) for y in totals]
    n = len(xs)
    spread_x = n * sum(x * x for x in xs) - sum(xs) ** 2
    spread_y = n * sum(y * y for y in ys) - sum(ys) ** 2
    if n < 2 or spread_x == 0 or spread_y == 0:
        return None
    covariance = n * sum(x * y for x, y in zip(xs, ys)) - sum(xs) * sum(ys)
    return (covariance > 0) - (covariance < 0)


@pytest.mark.parametrize("members,seed", [(7, 1), (19, 2), (40, 3)])
def test_item_analysis_agrees_with_the_definitions(bank, organizer, make_user, frozen_clock,
                                                   members, seed):
    round_ = closed_round_taken(organizer, make_user, frozen_clock, members, seed, questions=6,
                                right_share=0.55, prefix="ia")
    rng = random.Random(seed)
    # Partial credits, answers without a stored credit, and points from a few values
    # only (many ties), written as stored rows: the analysis reads what is stored.
    for item in db.session.execute(select(AttemptQuestion).join(Attempt).where(
            Attempt.round_id == round_.id)).scalars():
        roll = rng.random()
        if roll < 0.2:
            item.credit = rng.choice((25, 50, 75))
        elif roll < 0.3:
            item.credit = None
    for attempt in db.session.execute(select(Attempt).where(Attempt.round_id == round_.id)).scalars():
        attempt.points = rng.choice((100, 250, 300, 300, 450, None))
    db.session.commit()
    questions = sorted({i.question_id for i in db.session.execute(select(AttemptQuestion).join(
        Attempt).where(Attempt.round_id == round_.id)).scalars()})
    voided = questions[0]
    contests.correct_question(organizer, round_, voided, "void", "Câu có hai đáp án đúng")
    db.session.commit()

    want = _reference(round_.id, {voided})
    got = {s.question.id: s for s in contests.item_analysis(round_)}
    assert set(got) == set(want)
    for qid, (answered, right, facility, r, upper_lower, sign) in want.items():
        stats = got[qid]
        assert (stats.answered, stats.correct, stats.voided) == (answered, right, qid == voided)
        if qid != voided and sign is None:
            r = None   # constant: the float definition may give a tiny figure
        for mine, theirs in ((stats.facility, facility), (stats.discrimination, r),
                             (stats.upper_lower, upper_lower)):
            assert (mine is None) == (theirs is None), (qid, mine, theirs)
            if theirs is not None:
                assert mine == pytest.approx(theirs, abs=1e-12), qid
        # The flag follows the exact sign (an exact 0 is not negative).
        assert ("negative_discrimination" in stats.flags) == (sign == -1), qid
    assert any(s.upper_lower is not None for s in got.values())
    assert any(s.discrimination is not None for s in got.values())


def test_an_attempt_finished_between_the_two_statements_gives_no_impossible_figure(
        bank, organizer, make_user, frozen_clock, monkeypatch):
    """The groups are ranked by a second statement: when its count of a question's
    answers differs from the first's (an attempt finished in between), that question's
    upper-lower figure is left out rather than computed from overlapping groups."""
    module = importlib.import_module("quizapp.services.contests.item_analysis")
    round_ = closed_round_taken(organizer, make_user, frozen_clock, 12, 4, questions=6, prefix="ib")
    db.session.commit()
    assert any(s.upper_lower is not None for s in contests.item_analysis(round_))
    tails = module._upper_lower_sums

    def counted_before_one_more(answers, counts, share=0.27):
        return tails(answers, {qid: n - 1 for qid, n in counts.items()}, share)
    monkeypatch.setattr(module, "_upper_lower_sums", counted_before_one_more)
    assert all(s.upper_lower is None for s in contests.item_analysis(round_))
