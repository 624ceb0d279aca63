"""Item analysis of a closed round: per question, facility and discrimination, graded
by the one answer key.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Attempt, AttemptQuestion, Question, Round
from ...models.attempts import FINISHED
from .answer_key import answer_key
from .corrections import overrides_for
from .state import require


@dataclass
class ItemStats:
    question: Question
    answered: int
    correct: int
    facility: float | None
    discrimination: float | None  # point-biserial with the total score
    upper_lower: float | None     # share correct in the top 27 % minus the bottom 27 %
    voided: bool = False
    # The right choice ids grading used (answer_key: corrections included).
    right: set[int] = field(default_factory=set)
    flags: list[str] = field(default_factory=list)


def point_biserial(correct: list[bool], totals: list[float]) -> float | None:
    """r_pb = (M1 − M0) / s · sqrt(p·q), s the population standard deviation of totals.
    None when everyone scored the same or everyone answered alike."""
    n = len(totals)
    if n < 2:
        return None
    mean = sum(totals) / n
    s = math.sqrt(sum((t - mean) ** 2 for t in totals) / n)
    right = [t for t, ok in zip(totals, correct) if ok]
    wrong = [t for t, ok in zip(totals, correct) if not ok]
    if s == 0 or not right or not wrong:
        return None
    p = len(right) / n
    return (sum(right) / len(right) - sum(wrong) / len(wrong)) / s * math.sqrt(p * (1 - p))


def discrimination(credits: list[float], totals: list[float]) -> float | None:
    """The correlation of the question's credit (0..1) with the total, Moodle's
    discrimination index. When every answer is fully right or wrong it is the
    point-biserial above, computed by it (classic questions: the same figure as before);
    with partial credit, Pearson's r over the credits. None when either side is constant."""
    if all(c in (0.0, 1.0) for c in credits):
        return point_biserial([c == 1.0 for c in credits], totals)
    n = len(totals)
    mean_c, mean_t = sum(credits) / n, sum(totals) / n
    s_c = math.sqrt(sum((c - mean_c) ** 2 for c in credits) / n)
    s_t = math.sqrt(sum((t - mean_t) ** 2 for t in totals) / n)
    if s_c == 0 or s_t == 0:
        return None
    return sum((c - mean_c) * (t - mean_t) for c, t in zip(credits, totals)) / n / (s_c * s_t)


def upper_lower_index(correct: list[bool] | list[float], totals: list[float], share: float = 0.27) -> float | None:
    n = len(totals)
    k = max(1, int(round(n * share)))
    if n < 2 * k or n < 4:
        return None
    order = sorted(range(n), key=lambda i: (totals[i], i))
    lower, upper = order[:k], order[-k:]
    return (sum(correct[i] for i in upper) - sum(correct[i] for i in lower)) / k


def item_analysis(round_: Round) -> list[ItemStats]:
    """Per question of a closed round: facility (the mean credit, as Moodle's facility
    index: a 50 % answer counts half) and discrimination (the credit's correlation with
    the attempt's points; the upper-lower index of the credits), with
    flags for negative discrimination, facility below 0.2 or above 0.95."""
    require(round_, "closed", "finalized")
    overrides = overrides_for(round_.id)
    rows = db.session.execute(
        select(AttemptQuestion.question_id, AttemptQuestion.is_correct, AttemptQuestion.credit,
               Attempt.points)  # the total: partial credit included
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.round_id == round_.id, Attempt.status == FINISHED)
        .order_by(AttemptQuestion.question_id, Attempt.id)).all()
    grouped: dict[int, tuple[list[bool], list[float], list[float]]] = {}
    credits: dict[int, int] = {}
    for qid, ok, credit, score in rows:
        bucket = grouped.setdefault(qid, ([], [], []))
        bucket[0].append(bool(ok))
        bucket[1].append(float(score or 0))
        earned = credit if credit is not None else 100 * bool(ok)
        bucket[2].append(earned / 100)  # the answer's credit as a share: 0.5 for 50 %
        credits[qid] = credits.get(qid, 0) + earned
    questions = {q.id: q for q in db.session.execute(
        select(Question).where(Question.id.in_(list(grouped)))
        .options(selectinload(Question.choices))).scalars()}
    key = answer_key(list(grouped), round_.id, questions=questions.values(), overrides=overrides)
    out = []
    for qid, (correct, totals, shares) in sorted(grouped.items()):
        voided = key[qid] is None
        n = len(correct)
        facility = credits[qid] / (100 * n) if n and not voided else None
        stats = ItemStats(questions[qid], n, sum(correct), facility,
                          None if voided else discrimination(shares, totals),
                          None if voided else upper_lower_index(shares, totals), voided,
                          key[qid] or set())
        if not voided:
            if stats.discrimination is not None and stats.discrimination < 0:
                stats.flags.append("negative_discrimination")
            if facility is not None and facility < 0.2:
                stats.flags.append("too_hard")
            if facility is not None and facility > 0.95:
                stats.flags.append("too_easy")
        out.append(stats)
    return out
