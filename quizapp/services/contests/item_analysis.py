"""Item analysis of a closed round: per question, facility and discrimination, graded
by the one answer key.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Integer, case, cast, column, func, select, values
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


def tail_size(n: int, share: float = 0.27) -> int | None:
    """How many attempts the upper (and the lower) group holds among n, or None when
    there are too few to tell them apart."""
    k = max(1, int(round(n * share)))
    return None if n < 2 * k or n < 4 else k


def upper_lower_index(correct: list[bool] | list[float], totals: list[float], share: float = 0.27) -> float | None:
    n = len(totals)
    k = tail_size(n, share)
    if k is None:
        return None
    order = sorted(range(n), key=lambda i: (totals[i], i))
    lower, upper = order[:k], order[-k:]
    return (sum(correct[i] for i in upper) - sum(correct[i] for i in lower)) / k


def item_analysis(round_: Round) -> list[ItemStats]:
    """Per question of a closed round: facility (the mean credit, as Moodle's facility
    index: a 50 % answer counts half) and discrimination (the credit's correlation with
    the attempt's points; the upper-lower index of the credits), with
    flags for negative discrimination, facility below 0.2 or above 0.95.

    Counted by the database (a city round's 400,000 answers were read one by one: 2.5 s
    a page): per question the sums that Pearson's r needs, all whole numbers (credits
    in percent, points in hundredths), so the correlation's sign is exact and its value
    the one `discrimination` computes from the answers; then the upper and lower 27 %
    of each question's attempts by (points, attempt), as `upper_lower_index` orders
    them. tests/services/test_item_analysis_sql.py holds it to those two functions."""
    require(round_, "closed", "finalized")
    overrides = overrides_for(round_.id)
    aq, attempts = AttemptQuestion.__table__.c, Attempt.__table__
    attempt = attempts.c
    earned = func.coalesce(aq.credit, case((aq.is_correct.is_(True), 100), else_=0))
    points = func.coalesce(attempt.points, 0)
    answers = (select(aq.question_id.label("question_id"), earned.label("credit"),
                      points.label("points"), attempt.id.label("attempt_id"),
                      case((aq.is_correct.is_(True), 1), else_=0).label("right"))
               .join(attempts, attempt.id == aq.attempt_id)
               .where(attempt.round_id == round_.id, attempt.status == FINISHED)
               .subquery("answers"))
    sums = {row.question_id: row for row in db.session.execute(
        select(answers.c.question_id, func.count().label("n"), func.sum(answers.c.right).label("right"),
               func.sum(answers.c.credit).label("x"), func.sum(answers.c.points).label("y"),
               # Products in 64 bits: a round's points (hundredths) squared pass 2**31
               # from 464 questions on.
               func.sum(wide(answers.c.credit) * answers.c.credit).label("xx"),
               func.sum(wide(answers.c.points) * answers.c.points).label("yy"),
               func.sum(wide(answers.c.credit) * answers.c.points).label("xy"))
        .group_by(answers.c.question_id))}
    if not sums:
        return []
    tails = _upper_lower_sums(answers, {qid: row.n for qid, row in sums.items()})
    questions = {q.id: q for q in db.session.execute(
        select(Question).where(Question.id.in_(list(sums)))
        .options(selectinload(Question.choices))).scalars()}
    key = answer_key(list(sums), round_.id, questions=questions.values(), overrides=overrides)
    out = []
    for qid, row in sorted(sums.items()):
        voided = key[qid] is None
        n = row.n
        facility = int(row.x) / (100 * n) if n and not voided else None
        upper_lower = None
        if not voided and qid in tails:
            k, low, high = tails[qid]
            upper_lower = (high - low) / 100 / k
        stats = ItemStats(questions[qid], n, int(row.right), facility,
                          None if voided else _pearson(n, row), upper_lower, voided,
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


def wide(expression):
    return cast(expression, BigInteger)


def _pearson(n: int, row) -> float | None:
    """Pearson's r of (credit, points) from the sums, in whole numbers up to the last
    division (`discrimination`: None when either side is constant)."""
    x, y, xx, yy, xy = (int(v) for v in (row.x, row.y, row.xx, row.yy, row.xy))
    spread_x, spread_y = n * xx - x * x, n * yy - y * y
    if n < 2 or spread_x <= 0 or spread_y <= 0:
        return None
    return (n * xy - x * y) / (math.sqrt(spread_x) * math.sqrt(spread_y))


def _upper_lower_sums(answers, counts: dict[int, int],
                      share: float = 0.27) -> dict[int, tuple[int, int, int]]:
    """question id → (k, credit of the lowest k, credit of the highest k), the attempts
    ordered by (points, attempt id) as upper_lower_index orders them, k its tail_size;
    only the questions it gives a figure for."""
    # The highest k are the ranks above n - k (one sort, not two).
    wanted = [(qid, k, n - k) for qid, n in sorted(counts.items())
              if (k := tail_size(n, share)) is not None]
    if not wanted:
        return {}
    # Each question's k and n - k, as a VALUES list named in a WITH clause (portable).
    ks = values(column("question_id", Integer), column("k", Integer), column("top", Integer),
                name="ks").data(wanted).cte("ks")
    ranked = select(
        answers.c.question_id, answers.c.credit,
        func.row_number().over(partition_by=answers.c.question_id,
                               order_by=(answers.c.points, answers.c.attempt_id)).label("rank"),
        func.count().over(partition_by=answers.c.question_id).label("n")
    ).subquery("ranked")
    rows = db.session.execute(
        select(ranked.c.question_id, ks.c.k, ranked.c.n,
               func.sum(case((ranked.c.rank <= ks.c.k, ranked.c.credit), else_=0)),
               func.sum(case((ranked.c.rank > ks.c.top, ranked.c.credit), else_=0)))
        .join(ks, ks.c.question_id == ranked.c.question_id)
        .where((ranked.c.rank <= ks.c.k) | (ranked.c.rank > ks.c.top))
        .group_by(ranked.c.question_id, ks.c.k, ranked.c.n))
    # A statement of its own: an attempt finished since the counts were read would make
    # the groups overlap; such a question gets no figure (the next look has one).
    return {qid: (k, int(low), int(high)) for qid, k, n, low, high in rows if n == counts[qid]}
