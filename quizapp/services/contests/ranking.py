"""Individual rankings: a round's, and a contest's across its closed rounds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...models import Attempt, Contest, Round, RoundResult, Unit, User
from .rounds import prediction_actual
from .state import round_state


@dataclass
class RankRow:
    rank: int
    tied: bool
    user: User
    unit: Unit
    attempt_id: int
    score: int          # questions answered fully right
    max_score: int      # questions that count
    prediction: int | None
    distance: int | None
    time_taken_seconds: int
    finished_at: datetime | None
    extra: dict = field(default_factory=dict)
    # The common scale the ranking sorts by: a fraction of 1 per round (see share_of).
    share: Fraction = Fraction(0)
    # The counting attempt was a printed sheet entered by a secretary (Attempt.on_paper).
    on_paper: bool = False
    # The credit earned, in hundredths of a question (partial credit counts): what the
    # order uses (share) and what pages and files show.
    points: int = 0

    @property
    def measured_seconds(self) -> int | None:
        """The time as pages and files show it: None ("—") for a paper sheet, whose time
        cannot be measured and counts as the round's whole time limit in the order."""
        return None if self.on_paper else self.time_taken_seconds

    @property
    def percent(self) -> float:
        """The share as printed: per cent of the maximum (summed over rounds in a contest)."""
        return float(self.share * 100)


# A page of the round's ranking: what a phone shows at once.
RANKING_PAGE_SIZE = 100


@dataclass
class RankingPage:
    rows: list[RankRow]
    page: int
    pages: int
    total: int          # ranked members
    own_page: int | None = None  # the page holding the member's own row, if he is ranked


def share_of(points: int, max_score: int) -> Fraction:
    """Points (hundredths of a question) as an exact fraction of the attempt's own
    maximum (questions × 100); 0 when nothing counted
    (every question the member drew was voided). The ranking's common scale: members
    draw different questions and a void or re-key changes the maximum only for those
    who drew the question, so raw scores are not comparable, fractions are."""
    return Fraction(points, max_score * 100) if max_score > 0 else Fraction(0)


def _row(result: RoundResult, on_paper: bool, actual: int | None, rank: int = 0,
         tied: bool = False) -> RankRow:
    """A ranking row of a member's counting result (`actual`: the prediction's actual
    value, when the round has one)."""
    distance = None
    if actual is not None and result.prediction is not None:
        distance = abs(result.prediction - actual)
    return RankRow(rank, tied, result.user, result.unit, result.attempt_id, result.score,
                   result.max_score, result.prediction, distance, result.time_taken_seconds,
                   result.finished_at, share=share_of(result.points, result.max_score),
                   on_paper=on_paper, points=result.points)


def _assign_ranks(rows: list[RankRow], key) -> list[RankRow]:
    """Sort by key (then attempt id) and number: equal keys share a rank and are tied.
    Each row's key is computed once."""
    keyed = sorted(((key(row), row.attempt_id, n) for n, row in enumerate(rows)))
    ordered = [rows[n] for _key, _attempt, n in keyed]
    previous = None
    for index, ((k, _attempt, _n), row) in enumerate(zip(keyed, ordered)):
        if previous is not None and k == previous[0]:
            row.rank = previous[1]
            row.tied = True
            ordered[index - 1].tied = True
        else:
            row.rank = index + 1
        previous = (k, row.rank)
    rows[:] = ordered
    return rows


def _common_denominator(results) -> int:
    """The least common multiple of the results' maxima (questions × 100): every share
    (points ÷ its own maximum) is a whole number of 1 / it, so shares add and compare as
    integers, exactly (`_share_units`)."""
    return math.lcm(*{r.max_score * 100 for r in results if r.max_score > 0}) or 1


def _share_units(result, common: int) -> int:
    return result.points * (common // (result.max_score * 100)) if result.max_score > 0 else 0


def _results(round_id: int) -> list[tuple[RoundResult, bool]]:
    """The round's counting results with their members and branches, each with whether
    its attempt was on paper: one statement."""
    return list(db.session.execute(
        select(RoundResult, Attempt.on_paper).join(Attempt, Attempt.id == RoundResult.attempt_id)
        .where(RoundResult.round_id == round_id)
        .options(joinedload(RoundResult.user), joinedload(RoundResult.unit))).tuples())


def ranking(round_: Round) -> list[RankRow]:
    """The round's individual ranking, from the counting results.

    Order: share of the attempt's own maximum (points ÷ max score, exact, partial credit
    included; high first — a
    member with every counted question right is never below one who is not) → distance of the prediction from the actual value (small
    first; no prediction counts as farthest) → time taken (short first) → finish time
    (early first). A paper sheet's time cannot be measured: it counts as the round's whole
    time limit (attempts.finish), so on time it never passes an online attempt and ties
    one that used the whole limit; its finish time is when the secretary entered it. Rows equal on all four share a rank and are shown as tied; the attempt
    id (low first) only orders tied rows on the page.

    A pure read in a fixed number of statements whatever the round's size: the results
    with their members and branches in one query, and the prediction's actual value
    (prediction_actual). It reads the settled results only: an attempt past its
    deadline that nobody has finished yet (rounds.unsettled_count) joins the ranking
    once the sweeper, the organizer's settle action or the finalize finishes it.
    """
    actual = prediction_actual(round_) if round_.prediction_kind else None
    rows = [_row(result, on_paper, actual) for result, on_paper in _results(round_.id)]
    use_distance = actual is not None
    common = _common_denominator(rows)
    return _assign_ranks(rows, lambda r: (
        -_share_units(r, common),
        (r.distance if r.distance is not None else math.inf) if use_distance else 0,
        r.time_taken_seconds, r.finished_at))


def contest_ranking(contest: Contest) -> list[RankRow]:
    """Across the contest's closed rounds: the sum of the round shares (each round's score
    ÷ that attempt's maximum, so every round weighs the same and a void in one round
    moves nobody below a member who did not draw the question; high first) → fewer rounds with a
    prediction question left unanswered → total prediction distance (small first) →
    total time (short first; a paper round adds its whole time limit) → last finish
    (early first); equal rows share a rank. extra["paper"] counts the paper rounds."""
    return _with_people(_contest_rows(contest))


def contest_ranking_page(contest: Contest, page: int = 1,
                         size: int = RANKING_PAGE_SIZE) -> RankingPage:
    """One page of contest_ranking(): every member is ranked, only the page's members
    and branches are loaded (a city contest ranks tens of thousands). A page past the
    last gives the last."""
    rows = _contest_rows(contest)
    pages = max(1, -(-len(rows) // size))
    page = min(max(1, page), pages)
    return RankingPage(_with_people(rows[(page - 1) * size:page * size]), page, pages, len(rows))


def _contest_rows(contest: Contest) -> list[RankRow]:
    """contest_ranking()'s rows, ranked, without their members and branches (user and
    unit None; their ids in extra). The results are read as plain columns in one
    statement, and the shares are added as whole multiples of one common denominator
    (the least common multiple of the maxima), so the order is exact and sorts on
    integers: loading 54,000 results as objects and sorting by fractions took a worker
    about nine seconds."""
    closed = [r for r in contest.rounds if round_state(r) in ("closed", "finalized")]
    if not closed:
        return []
    actuals = {r.id: prediction_actual(r) if r.prediction_kind else None for r in closed}
    t = RoundResult.__table__.c
    by_round: dict[int, list] = {r.id: [] for r in closed}
    for result in db.session.execute(
            select(t.round_id, t.user_id, t.unit_id, t.attempt_id, t.score, t.points,
                   t.max_score, t.prediction, t.time_taken_seconds, t.finished_at,
                   Attempt.on_paper)
            .join(Attempt, Attempt.id == t.attempt_id).where(t.round_id.in_(list(by_round)))):
        by_round[result.round_id].append(result)
    common = _common_denominator(r for rows in by_round.values() for r in rows)
    totals: dict[int, RankRow] = {}
    for round_ in closed:  # in the contest's order: a member's branch is his first round's
        actual = actuals[round_.id]
        for result in by_round[round_.id]:
            row = totals.get(result.user_id)
            if row is None:
                row = totals[result.user_id] = RankRow(0, False, None, None, result.attempt_id,
                                                      0, 0, None, 0, 0, None)
                row.extra.update(rounds=0, missing=0, paper=0, units=0,
                                 user_id=result.user_id, unit_id=result.unit_id)
            row.score += result.score
            row.points += result.points
            row.max_score += result.max_score
            row.extra["units"] += _share_units(result, common)
            if actual is not None:
                if result.prediction is None:
                    row.extra["missing"] += 1
                else:
                    row.distance += abs(result.prediction - actual)
            row.time_taken_seconds += result.time_taken_seconds
            if row.finished_at is None or result.finished_at > row.finished_at:
                row.finished_at = result.finished_at
            row.attempt_id = min(row.attempt_id, result.attempt_id)
            row.extra["rounds"] += 1
            row.extra["paper"] += int(result.on_paper)
    rows = _assign_ranks(list(totals.values()), lambda r: (
        -r.extra["units"], r.extra["missing"], r.distance, r.time_taken_seconds, r.finished_at))
    for row in rows:
        row.share = Fraction(row.extra.pop("units"), common)
    return rows


def _with_people(rows: list[RankRow]) -> list[RankRow]:
    """The rows with their members and branches loaded: two statements a few thousand
    rows (a statement holds at most 65,535 parameters)."""
    users, units = {}, {}
    for start in range(0, len(rows), 5000):
        chunk = rows[start:start + 5000]
        users.update((u.id, u) for u in db.session.execute(select(User).where(
            User.id.in_([r.extra["user_id"] for r in chunk]))).scalars())
        wanted = {r.extra["unit_id"] for r in chunk} - set(units)
        if wanted:
            units.update((u.id, u) for u in db.session.execute(select(Unit).where(
                Unit.id.in_(wanted))).scalars())
    for row in rows:
        row.user, row.unit = users[row.extra["user_id"]], units[row.extra["unit_id"]]
    return rows


def member_rank(round_: Round, user: User) -> tuple[RankRow | None, int]:
    """The member's own row of the round's ranking (None when he has no counting result)
    and the number of ranked members. Ask only when `ranking_visible`.

    Counted in SQL, not by building the whole ranking: every member opens his result
    page once the ranking is public, and sorting 20,000 rows took a worker about a
    second per page (the 20,000-member storm in benchmarks/REPORT.md)."""
    actual = prediction_actual(round_) if round_.prediction_kind else None
    standing = _standing(round_, user, actual)
    if standing.result is None:
        return None, standing.total
    return (_row(standing.result, standing.on_paper, actual, standing.ahead + 1,
                 standing.equal > 0), standing.total)


@dataclass
class _Standing:
    """Where a member's result stands among the round's, counted without sorting."""
    result: RoundResult | None
    on_paper: bool
    total: int              # ranked results
    ahead: int = 0          # results ranked before his
    equal: int = 0          # other results equal to his on every key (a tie)
    equal_before: int = 0   # of those, the ones listed before his (smaller attempt id)

    @property
    def position(self) -> int | None:
        """His row's place in the listing (ties ordered by attempt id), from 1."""
        return None if self.result is None else self.ahead + self.equal_before + 1


def _standing(round_: Round, user: User, actual: int | None) -> _Standing:
    """The member's row is read, then one statement counts the results ahead of it
    (ranking()'s order: share, prediction distance, time, finish; shares compared
    exactly by cross multiplication), those equal to it, and all of them."""
    mine = db.session.execute(
        select(RoundResult, Attempt.on_paper).join(Attempt, Attempt.id == RoundResult.attempt_id)
        .where(RoundResult.round_id == round_.id, RoundResult.user_id == user.id)
        .options(joinedload(RoundResult.user), joinedload(RoundResult.unit))).first()
    t = RoundResult.__table__.c
    if mine is None:
        total = db.session.execute(select(func.count()).where(t.round_id == round_.id)).scalar()
        return _Standing(None, False, total)
    result, on_paper = mine
    # The other row's share as numerator / denominator (0 / 1 when nothing counted).
    num = case((t.max_score > 0, t.points), else_=0)
    den = case((t.max_score > 0, t.max_score), else_=1)
    my_num, my_den = (result.points, result.max_score) if result.max_score > 0 else (0, 1)
    distance = None
    if actual is not None and result.prediction is not None:
        distance = abs(result.prediction - actual)
    if actual is not None:
        their_distance = case((t.prediction.is_(None), _FAR), else_=func.abs(t.prediction - actual))
        my_distance = _FAR if distance is None else distance
    else:
        their_distance = my_distance = 0
    finished = result.finished_at
    equal_keys = [num * my_den == my_num * den, their_distance == my_distance,
                  t.time_taken_seconds == result.time_taken_seconds, t.finished_at == finished]
    ahead = or_(num * my_den > my_num * den,
                and_(equal_keys[0], or_(
                    their_distance < my_distance,
                    and_(equal_keys[1], or_(
                        t.time_taken_seconds < result.time_taken_seconds,
                        and_(equal_keys[2], t.finished_at < finished))))))

    def counted(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
    row = db.session.execute(select(
        func.count(), counted(ahead), counted(and_(*equal_keys, t.id != result.id)),
        counted(and_(*equal_keys, t.attempt_id < result.attempt_id)))
        .where(t.round_id == round_.id)).one()
    total, before, tied, tied_before = (int(v) for v in row)
    return _Standing(result, on_paper, total, before, tied, tied_before)


def _ranked(round_id: int, actual: int | None):
    """The round's results with ranking()'s order computed by the database: rank (equal
    rows share it), position (ties ordered by attempt id, as on the page), peers (rows
    equal on every key), as a subquery. The share is the
    points divided by the maximum in double precision: points and maxima are small
    integers (at most some hundred questions × 100), so two different shares differ far
    above its rounding and two equal ones divide to the same number — the exact
    order ranking() gets from fractions."""
    r = RoundResult
    share = case((r.max_score > 0, cast(r.points, Float) / r.max_score), else_=literal(0.0))
    distance = (case((r.prediction.is_(None), _FAR), else_=func.abs(r.prediction - actual))
                if actual is not None else literal(0))
    order = (share.desc(), distance, r.time_taken_seconds, r.finished_at)
    # One sort serves the three windows: the listing's order refines the ranking's, and
    # the peers are the rows of the current row's RANGE frame in the ranking's order.
    return select(
        r.id.label("id"), r.attempt_id.label("attempt_id"),
        func.rank().over(order_by=order).label("rank"),
        func.row_number().over(order_by=order + (r.attempt_id,)).label("position"),
        func.count().over(order_by=order, range_=(0, 0)).label("peers"),
    ).where(r.round_id == round_id).subquery("ranked")


def ranking_page(round_: Round, page: int = 1, user: User | None = None,
                 size: int = RANKING_PAGE_SIZE) -> RankingPage:
    """One page of the round's ranking, in ranking()'s order with its ranks and ties,
    ordered and cut by the database: a fixed number of statements, and only the page's
    rows loaded, whatever the round's size (a city round has tens of thousands). A page
    past the last gives the last. `user`: also find the page holding his own row."""
    actual = prediction_actual(round_) if round_.prediction_kind else None
    ranked = _ranked(round_.id, actual)
    own_page = None
    if user is not None:
        # His place counted, not ranked: no second sort of the round.
        standing = _standing(round_, user, actual)
        total = standing.total
        if standing.position is not None:
            own_page = (standing.position - 1) // size + 1
    else:
        total = db.session.execute(select(func.count()).where(
            RoundResult.round_id == round_.id)).scalar()
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    # The LIMIT adds nothing to the range but tells the planner how few rows it keeps.
    rows = _load_ranked(ranked, actual, lambda query: query.where(
        ranked.c.position > (page - 1) * size, ranked.c.position <= page * size)
        .order_by(ranked.c.position).limit(size))
    return RankingPage(rows, page, pages, total, own_page)


def ranking_head(round_: Round, count: int, *, online_only: bool = False) -> list[RankRow]:
    """The first `count` rows of the round's ranking, in ranking()'s order with its
    ranks and ties, in one statement whatever the round's size: what the prize places
    need. `online_only` passes over paper sheets, which keep their rank (their rows still
    count for the ranks of the others)."""
    actual = prediction_actual(round_) if round_.prediction_kind else None
    ranked = _ranked(round_.id, actual)

    def head(query):
        if online_only:
            query = query.join(Attempt, Attempt.id == ranked.c.attempt_id).where(
                Attempt.on_paper.is_(False))
        return query.order_by(ranked.c.position).limit(count)
    return _load_ranked(ranked, actual, head) if count > 0 else []


def _load_ranked(ranked, actual: int | None, narrow) -> list[RankRow]:
    """The ranked rows that `narrow` (a function of a query of `ranked`) keeps, in
    ranking order, with their members and branches: one statement. The rows are picked
    first and only those joined (joining every row of a city round before cutting the
    page was most of the statement's time)."""
    picked = narrow(select(ranked.c.id, ranked.c.rank, ranked.c.peers, ranked.c.position)
                    ).subquery("picked")
    query = (select(RoundResult, Attempt.on_paper, picked.c.rank, picked.c.peers)
             .join(picked, picked.c.id == RoundResult.id)
             .join(Attempt, Attempt.id == RoundResult.attempt_id)
             .order_by(picked.c.position)
             .options(joinedload(RoundResult.user), joinedload(RoundResult.unit)))
    return [_row(result, on_paper, actual, rank, peers > 1)
            for result, on_paper, rank, peers in db.session.execute(query).tuples()]


# No prediction counts as farthest: farther than any |prediction − actual| of two
# 32-bit integers.
_FAR = 2 ** 40
