"""Maintained per-branch counters, and their recomputation from scratch.

Three kinds of rows, all written in the transaction that changes them:
- RoundResult: per member and round, the attempt that counts (best / first / last);
- RoundUnitStats: per branch and round — started and finished attempts (everyone, for
  the live view) and participants, score sum and full scores (only members who count
  in the movement: active, not exempt, member or secretary);
- RoundSectionStats: per branch, round and outline section, answers and right answers
  of the counting attempts of the members who count (the mastery heat map);
plus Unit.active_roster, the participation denominator;
- RoundUnitStats.review_days: per branch and round, the member-days of daily review in
  the round's period — one for each member who counts and each local day on which he
  answered at least one review question between the round's opening and its close,
  counted in the branch of that day's first such answer (ReviewLog.unit_id). Repeated
  submits, several answers a day and reviews outside the period add nothing.

`recompute(check=True)` rebuilds all of them with grouped queries and reports every
difference; standings and branch pages only ever read the maintained rows.
"""
from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, delete, func, select, text, tuple_, update
from sqlalchemy import insert as core_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...extensions import db
from ...models import (Attempt, AttemptQuestion, Question, ReviewLog, Round, RoundResult,
                      RoundSectionStats, RoundUnitStats, Unit, User)
from ...models.attempts import FINISHED
from ...models.org import ROSTER_ROLES
from ..people import refresh_rosters

UNIT_FIELDS = ("started", "finished", "participants", "score_sum", "points_sum", "max_sum",
               "full_scores", "review_days")


def _dialect() -> str:
    return db.session.get_bind().dialect.name


@functools.lru_cache(maxsize=None)
def _unit_upsert(dialect: str, fields: tuple[str, ...]):
    """INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n for these counter fields,
    built once per dialect and set of fields (building and compiling it per finish was
    a visible part of a submit in the profile)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = RoundUnitStats.__table__
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["round_id", "unit_id"],
        set_={name: table.c[name] + stmt.excluded[name] for name in fields})


@functools.lru_cache(maxsize=None)
def _result_insert(dialect: str):
    """INSERT a member's round result unless he has one (ON CONFLICT DO NOTHING),
    RETURNING its id: a row back means it was inserted."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = RoundResult.__table__
    return insert(table).on_conflict_do_nothing(
        index_elements=["round_id", "user_id"]).returning(table.c.id)


@functools.lru_cache(maxsize=None)
def _section_upsert(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = RoundSectionStats.__table__
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["round_id", "unit_id", "section_id"],
        set_={"answered": table.c.answered + stmt.excluded.answered,
              "correct": table.c.correct + stmt.excluded.correct})


def bump_unit(round_id: int, unit_id: int, **deltas: int) -> None:
    """Atomic increments of one branch's counters for a round: one upsert statement
    (INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n), row created on demand."""
    deltas = {name: delta for name, delta in deltas.items() if delta}
    if not deltas:
        return
    params = {"round_id": round_id, "unit_id": unit_id,
              **{f: deltas.get(f, 0) for f in UNIT_FIELDS}}
    db.session.execute(_unit_upsert(_dialect(), tuple(sorted(deltas))), params)


def _section_counts(attempt_id: int) -> dict[int, tuple[int, int]]:
    """section id → (answered, right) for one attempt's graded questions."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for section_id, ok in db.session.execute(
            select(Question.section_id, AttemptQuestion.is_correct)
            .join(Question, Question.id == AttemptQuestion.question_id)
            .where(AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.is_correct.is_not(None))):
        out[section_id][0] += 1
        out[section_id][1] += int(bool(ok))
    return {k: (v[0], v[1]) for k, v in out.items()}


def bump_sections(round_id: int, unit_id: int, attempt_id: int, sign: int,
                  counts: dict[int, tuple[int, int]] | None = None) -> None:
    """Add (sign=+1) or remove (-1) one attempt's answers to the branch's per-section
    counters: one upsert per section, sent as one batch. `counts` (section id →
    (answered, right)) when the caller already has them, else they are read from the
    stored answers."""
    if counts is None:
        counts = _section_counts(attempt_id)
    if not counts:
        return
    # One row per section, in section order (the same lock order for every writer),
    # executed as a batch of the one statement.
    db.session.execute(_section_upsert(_dialect()), [
        {"round_id": round_id, "unit_id": unit_id, "section_id": section_id,
         "answered": sign * answered, "correct": sign * right}
        for section_id, (answered, right) in sorted(counts.items())])


def _full(score: int, max_score: int) -> int:
    return int(max_score > 0 and score == max_score)


def _share_cmp(score: int, max_score: int, other_score: int, other_max: int) -> int:
    """Compare score/max_score with other_score/other_max exactly (a maximum of 0, every
    drawn question voided, counts as 0): -1, 0 or 1. The ranking's common scale, so the
    best attempt is the one the ranking would put first."""
    left = score * other_max if max_score > 0 else 0
    right = other_score * max_score if other_max > 0 else 0
    if max_score > 0 and other_max > 0:
        return (left > right) - (left < right)
    a = 1 if max_score > 0 and score > 0 else 0
    b = 1 if other_max > 0 and other_score > 0 else 0
    return (a > b) - (a < b)


def _better(counting: str, new: Attempt, old: RoundResult) -> bool:
    """Whether `new` replaces the counting attempt `old`. best: higher share of the
    attempt's own maximum, then the shorter time."""
    if counting == "first":
        return False
    if counting == "last":
        return True
    order = _share_cmp(new.points or 0, new.max_score, old.points, old.max_score)
    if order:
        return order > 0
    return (new.time_taken_seconds or 0) < old.time_taken_seconds


def after_start(attempt: Attempt) -> None:
    """A round attempt was stored (attempts.hooks.attempt_started): the branch's started
    counter, same transaction."""
    bump_unit(attempt.round_id, attempt.unit_id, started=1)


def after_finish(attempt: Attempt) -> None:
    """Update the member's counting result and the branch's counters for a finished and
    graded round attempt (attempts.finish sends attempts.hooks.attempt_finished; same
    transaction).

    The member's own RoundResult row comes first; the branch's counter rows, which every
    member of the branch finishing at the same moment also updates, come last and in as
    few upserts as possible (one per branch and kind), so their row locks are held for
    the shortest time before the commit (the deadline storm in benchmarks/REPORT.md)."""
    round_ = db.session.get(Round, attempt.round_id)
    unit_id = attempt.unit_id
    counts = attempt.user.counts_in_movement
    units: dict[int, Counter] = defaultdict(Counter)
    units[unit_id]["finished"] += 1
    sections: list[tuple[int, int, int]] = []  # (unit, attempt, sign)
    new_counts = dict(participants=1, score_sum=attempt.score, points_sum=attempt.points or 0,
                      max_sum=attempt.max_score, full_scores=_full(attempt.score, attempt.max_score))
    # The member's first finished attempt of the round (the common case) is his result:
    # one INSERT … ON CONFLICT DO NOTHING. Only when a result exists already is it read
    # (locked) and compared.
    row = dict(round_id=round_.id, user_id=attempt.user_id, unit_id=unit_id,
               attempt_id=attempt.id, score=attempt.score, max_score=attempt.max_score,
               points=attempt.points or 0, time_taken_seconds=attempt.time_taken_seconds,
               finished_at=attempt.finished_at, prediction=attempt.prediction)
    if _dialect() == "postgresql":
        # PostgreSQL: the result and, when it is new, the branch's counters, in ONE
        # statement; a member's later attempt goes on below (it wrote nothing).
        if _first_result(row, new_counts if counts else None, attempt):
            return
        inserted = None
    else:
        inserted = db.session.execute(_result_insert(_dialect()), row).first()
    result = None if inserted is not None else db.session.execute(select(RoundResult).where(
        RoundResult.round_id == round_.id, RoundResult.user_id == attempt.user_id)
        .with_for_update()).scalar_one()
    if result is None:
        if counts:
            units[unit_id].update(new_counts)
            sections.append((unit_id, attempt.id, +1))
    elif _better(round_.counting, attempt, result):
        if counts:
            units[result.unit_id].subtract(dict(
                participants=1, score_sum=result.score, points_sum=result.points,
                max_sum=result.max_score, full_scores=_full(result.score, result.max_score)))
            sections.append((result.unit_id, result.attempt_id, -1))
            units[unit_id].update(new_counts)
            sections.append((unit_id, attempt.id, +1))
        result.unit_id = unit_id
        result.attempt_id = attempt.id
        result.score = attempt.score
        result.max_score = attempt.max_score
        result.points = attempt.points or 0
        result.time_taken_seconds = attempt.time_taken_seconds
        result.finished_at = attempt.finished_at
        result.prediction = attempt.prediction
        db.session.flush()
    for unit, deltas in sorted(units.items()):
        bump_unit(round_.id, unit, **deltas)
    for unit, attempt_id, sign in sorted(sections):
        known = _loaded_section_counts(attempt) if attempt_id == attempt.id else None
        bump_sections(round_.id, unit, attempt_id, sign, counts=known)


def _first_result(row: dict, counted: dict[str, int] | None, attempt: Attempt) -> bool:
    """PostgreSQL: insert the member's result unless he has one and, in the same
    statement when it was inserted, count the attempt as finished for its branch and,
    when he counts in the movement (`counted`: his share of the counters), add it to
    the branch's counters and sections. True when the result was inserted; False: the
    statement wrote nothing (a later attempt: the caller reads and locks the result,
    then the counters, the order every writer takes: result, branch, sections by id)."""
    sections = {}
    if counted is not None:
        sections = _loaded_section_counts(attempt)
        if sections is None:
            sections = _section_counts(attempt.id)
    ordered = sorted(sections)
    params = {**row, **{name: (counted or {}).get(name, 0) for name in _COUNTED},
              "section_ids": ordered, "answered": [sections[k][0] for k in ordered],
              "correct": [sections[k][1] for k in ordered]}
    return db.session.execute(_FIRST_RESULT, params).first() is not None


_COUNTED = ("participants", "score_sum", "points_sum", "max_sum", "full_scores")
_FIRST_RESULT = text(
    "WITH result AS ("
    " INSERT INTO round_results (round_id, user_id, unit_id, attempt_id, score, max_score,"
    " points, time_taken_seconds, finished_at, prediction)"
    " VALUES (:round_id, :user_id, :unit_id, :attempt_id, :score, :max_score, :points,"
    " :time_taken_seconds, :finished_at, :prediction)"
    " ON CONFLICT (round_id, user_id) DO NOTHING RETURNING id),"
    " unit AS ("
    " INSERT INTO round_unit_stats (round_id, unit_id, started, finished, participants,"
    " score_sum, points_sum, max_sum, full_scores, review_days)"
    " SELECT :round_id, :unit_id, 0, 1, :participants, :score_sum, :points_sum,"
    " :max_sum, :full_scores, 0 FROM result"
    " ON CONFLICT (round_id, unit_id) DO UPDATE SET"
    " finished = round_unit_stats.finished + excluded.finished,"
    + ",".join(f" {name} = round_unit_stats.{name} + excluded.{name}" for name in _COUNTED) +
    " RETURNING 1),"
    " sections AS ("
    " INSERT INTO round_section_stats (round_id, unit_id, section_id, answered, correct)"
    " SELECT :round_id, :unit_id, v.section_id, v.answered, v.correct"
    " FROM unnest(CAST(:section_ids AS integer[]), CAST(:answered AS integer[]),"
    " CAST(:correct AS integer[])) AS v(section_id, answered, correct)"
    # Referencing `unit` makes the branch's row come before the sections' rows.
    " WHERE EXISTS (SELECT 1 FROM unit)"
    " ORDER BY v.section_id"
    " ON CONFLICT (round_id, unit_id, section_id) DO UPDATE SET"
    " answered = round_section_stats.answered + excluded.answered,"
    " correct = round_section_stats.correct + excluded.correct)"
    " SELECT id FROM result")


def _loaded_section_counts(attempt: Attempt) -> dict[int, tuple[int, int]] | None:
    """section id → (answered, right) from the attempt's items when they and their
    questions are in memory (the submit path loads them); None otherwise."""
    if "items" not in attempt.__dict__ or \
            not all("question" in i.__dict__ for i in attempt.items):
        return None
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for item in attempt.items:
        if item.is_correct is not None:
            out[item.question.section_id][0] += 1
            out[item.question.section_id][1] += int(bool(item.is_correct))
    return {k: (v[0], v[1]) for k, v in out.items()}


def after_review(log: ReviewLog) -> None:
    """A daily review answer was stored (learning.hooks.review_answered, same
    transaction): for every round whose period holds it, a member-day for the branch
    when this is the member's first answer of his local day within that period and he
    counts in the movement."""
    user = db.session.get(User, log.user_id)
    if not user.counts_in_movement or log.unit_id is None:
        return
    for round_id, opens_at in db.session.execute(
            select(Round.id, Round.opens_at).where(Round.opens_at <= log.reviewed_at,
                                                   Round.closes_at > log.reviewed_at)
            .order_by(Round.id)).all():
        earlier = db.session.execute(select(ReviewLog.id).where(
            ReviewLog.user_id == log.user_id, ReviewLog.day == log.day, ReviewLog.id < log.id,
            ReviewLog.reviewed_at >= opens_at).limit(1)).first()
        if earlier is None:
            bump_unit(round_id, log.unit_id, review_days=1)


def _review_days(round_: Round, counting: set[int], user_id: int | None = None) -> Counter:
    """unit id → member-days of review in the round's period (see the module docstring),
    from the review log: per member and local day, the branch of the first answer."""
    first = (select(func.min(ReviewLog.id)).where(
        ReviewLog.reviewed_at >= round_.opens_at, ReviewLog.reviewed_at < round_.closes_at)
        .group_by(ReviewLog.user_id, ReviewLog.day))
    if user_id is not None:
        first = first.where(ReviewLog.user_id == user_id)
    out = Counter()
    for member, unit_id in db.session.execute(select(ReviewLog.user_id, ReviewLog.unit_id)
                                              .where(ReviewLog.id.in_(first))):
        if member in counting and unit_id is not None:
            out[unit_id] += 1
    return out


# ---------------------------------------------------------------- recomputation

@dataclass
class _Row:
    id: int
    user_id: int
    unit_id: int
    score: int
    max_score: int
    time_taken_seconds: int | None
    prediction: int | None
    finished_at: object
    points: int


def _counting_attempts(round_: Round) -> dict[int, _Row]:
    """user id → the attempt that counts, by the round's rule, read as plain rows (no
    ORM objects: this runs over every finished attempt of the round)."""
    chosen: dict[int, _Row] = {}
    rows = db.session.execute(select(
        Attempt.id, Attempt.user_id, Attempt.unit_id, Attempt.score, Attempt.max_score,
        Attempt.time_taken_seconds, Attempt.prediction, Attempt.finished_at,
        func.coalesce(Attempt.points, 0)).where(
        Attempt.round_id == round_.id, Attempt.status == FINISHED)
        .order_by(Attempt.finished_at, Attempt.id)).all()
    for raw in rows:
        attempt = _Row(*raw)
        current = chosen.get(attempt.user_id)
        if current is None:
            chosen[attempt.user_id] = attempt
            continue
        if round_.counting == "last":
            chosen[attempt.user_id] = attempt
        elif round_.counting == "best":
            order = _share_cmp(attempt.points, attempt.max_score, current.points, current.max_score)
            if order > 0 or (order == 0 and (attempt.time_taken_seconds or 0)
                             < (current.time_taken_seconds or 0)):
                chosen[attempt.user_id] = attempt
    return chosen


def counting_user_ids() -> set[int]:
    """Members whose results count in the movement (active, not exempt, roster roles)."""
    return set(db.session.execute(select(User.id).where(
        User.active.is_(True), User.exempt.is_(False), User.role.in_(ROSTER_ROLES))).scalars())


@dataclass
class Expected:
    results: dict[tuple[int, int], tuple] = field(default_factory=dict)
    units: dict[tuple[int, int], tuple] = field(default_factory=dict)
    sections: dict[tuple[int, int, int], tuple] = field(default_factory=dict)
    rosters: dict[int, int] = field(default_factory=dict)


def expected_for_round(round_: Round, expected: Expected, counting: set[int] | None = None) -> None:
    started = Counter()
    finished = Counter()
    for unit_id, status, n in db.session.execute(
            select(Attempt.unit_id, Attempt.status, func.count()).where(Attempt.round_id == round_.id)
            .group_by(Attempt.unit_id, Attempt.status)):
        started[unit_id] += n
        if status == FINISHED:
            finished[unit_id] += n
    participants = Counter()
    score_sum = Counter()
    points_sum = Counter()
    max_sum = Counter()
    full = Counter()
    counting_ids = []
    counting = counting if counting is not None else counting_user_ids()
    for user_id, attempt in _counting_attempts(round_).items():
        expected.results[(round_.id, user_id)] = (
            attempt.unit_id, attempt.id, attempt.score, attempt.max_score,
            attempt.time_taken_seconds, attempt.prediction, attempt.points, attempt.finished_at)
        if user_id in counting:
            participants[attempt.unit_id] += 1
            score_sum[attempt.unit_id] += attempt.score
            points_sum[attempt.unit_id] += attempt.points
            max_sum[attempt.unit_id] += attempt.max_score
            full[attempt.unit_id] += _full(attempt.score, attempt.max_score)
            counting_ids.append(attempt.id)
    reviews = _review_days(round_, counting)
    for unit_id in set(started) | set(participants) | set(reviews):
        expected.units[(round_.id, unit_id)] = (started[unit_id], finished[unit_id],
                                                participants[unit_id], score_sum[unit_id],
                                                points_sum[unit_id], max_sum[unit_id], full[unit_id],
                                                reviews[unit_id])
    for start in range(0, len(counting_ids), 500):
        chunk = counting_ids[start:start + 500]
        for unit_id, section_id, answered, right in db.session.execute(
                select(Attempt.unit_id, Question.section_id, func.count(),
                       func.sum(case_true(AttemptQuestion.is_correct)))
                .join(AttemptQuestion, AttemptQuestion.attempt_id == Attempt.id)
                .join(Question, Question.id == AttemptQuestion.question_id)
                .where(Attempt.id.in_(chunk), AttemptQuestion.is_correct.is_not(None))
                .group_by(Attempt.unit_id, Question.section_id)):
            key = (round_.id, unit_id, section_id)
            old = expected.sections.get(key, (0, 0))
            expected.sections[key] = (old[0] + answered, old[1] + int(right or 0))


def case_true(column):
    return case((column.is_(True), 1), else_=0)


def expected_rosters() -> dict[int, int]:
    counts = dict(db.session.execute(select(User.unit_id, func.count()).where(
        User.active.is_(True), User.exempt.is_(False), User.role.in_(ROSTER_ROLES))
        .group_by(User.unit_id)).all())
    return {unit_id: counts.get(unit_id, 0) for unit_id in db.session.execute(select(Unit.id)).scalars()}


def compute_expected(rounds: list[Round] | None = None) -> Expected:
    expected = Expected()
    counting = counting_user_ids()
    for round_ in rounds if rounds is not None else db.session.execute(select(Round)).scalars():
        expected_for_round(round_, expected, counting)
    expected.rosters = expected_rosters()
    return expected


# The stored rows each Expected map is compared with: (model, key columns, value columns).
_RESULT_KEY, _RESULT_VALUES = ("round_id", "user_id"), (
    "unit_id", "attempt_id", "score", "max_score", "time_taken_seconds", "prediction", "points",
    "finished_at")
_TABLES = (
    ("results", RoundResult, _RESULT_KEY, _RESULT_VALUES),
    ("units", RoundUnitStats, ("round_id", "unit_id"), UNIT_FIELDS),
    ("sections", RoundSectionStats, ("round_id", "unit_id", "section_id"), ("answered", "correct")),
)


def stored(rounds: list[Round] | None = None) -> Expected:
    """The maintained counters, as plain rows (a city's results are tens of thousands)."""
    ids = None if rounds is None else [r.id for r in rounds]
    out = Expected()
    for name, model, key, values in _TABLES:
        table = model.__table__
        query = select(*(table.c[c] for c in key + values))
        if ids is not None:
            query = query.where(table.c.round_id.in_(ids))
        found = getattr(out, name)
        for row in db.session.execute(query):
            value = tuple(row[len(key):])
            # An all-zero counter row says what no row says (results always count).
            if name == "results" or any(value):
                found[tuple(row[:len(key)])] = value
    out.rosters = dict(db.session.execute(select(Unit.id, Unit.active_roster)).all())
    return out


def differences(expected: Expected, actual: Expected) -> list[str]:
    """Human-readable differences between two sets of counters."""
    out = []
    for name in ("results", "units", "sections", "rosters"):
        want, have = getattr(expected, name), getattr(actual, name)
        for key in sorted(set(want) | set(have), key=str):
            if want.get(key) != have.get(key):
                out.append(f"{name} {key}: stored {have.get(key)} != recomputed {want.get(key)}")
    return out


def write(expected: Expected, rounds: list[Round] | None, current: Expected) -> None:
    """Make the stored counters equal `expected`: only the rows that differ from
    `current` (what is stored now, read by the caller) are deleted and written again, so
    a rebuild that finds the counters right writes nothing — a city round's 18,000
    results, rewritten with their foreign-key checks, were most of a correction's
    write. Rosters only when every round is rebuilt (`rounds` None)."""
    for name, model, key, values in _TABLES:
        want, have = getattr(expected, name), getattr(current, name)
        rows = {k: v for k, v in want.items() if have.get(k) != v}
        _delete_keys(model, key, [k for k in have if k not in want] + list(rows))
        _insert_rows(model, [dict(zip(key + values, k + v)) for k, v in rows.items()])
    if rounds is None:
        for unit_id, count in expected.rosters.items():
            if current.rosters.get(unit_id) != count:
                db.session.execute(update(Unit).where(Unit.id == unit_id).values(active_roster=count)
                                   .execution_options(synchronize_session=False))
    db.session.flush()


def _delete_keys(model, key: tuple[str, ...], keys: list[tuple]) -> None:
    """Delete the rows of `model` with these keys (tuples of the `key` columns)."""
    table = model.__table__
    columns = [table.c[c] for c in key]
    for start in range(0, len(keys), 500):
        db.session.execute(delete(table).where(tuple_(*columns).in_(keys[start:start + 500])))


def _insert_rows(model, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys). PostgreSQL: ONE statement, INSERT …
    SELECT FROM unnest(one array per column), whatever the number of rows — sent as
    one statement per row, a city round's 18,000 results took 0.9 s of a correction;
    elsewhere one statement executed for all rows. Values pass through their columns'
    own bind processing either way (a naive datetime is refused as the ORM refuses it)."""
    if not rows:
        return
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        db.session.execute(core_insert(model.__table__), rows)
        return
    table = model.__table__
    names = list(rows[0])
    params = {}
    arrays = []
    for number, name in enumerate(names):
        column_type = table.c[name].type
        process = column_type.bind_processor(bind.dialect) or (lambda value: value)
        params[f"c{number}"] = [process(row[name]) for row in rows]
        arrays.append(f"CAST(:c{number} AS {column_type.compile(dialect=bind.dialect)}[])")
    db.session.execute(text(f"INSERT INTO {table.name} ({', '.join(names)}) "
                            f"SELECT * FROM unnest({', '.join(arrays)})"), params)


def rebuild_round(round_: Round) -> None:
    """Recompute one round's counting results and branch counters from its attempts
    (contests.hooks.results_rebuilt: after a correction regraded them, or the round's
    period moved while it is open), and write the rows that changed — under
    lock_counters, which the sender takes before its own writes
    (contests.hooks.results_rebuild_coming), so no finish committing meanwhile is lost."""
    lock_counters()
    write(compute_expected([round_]), [round_], stored([round_]))


_COUNTER_TABLES = ", ".join(model.__tablename__ for model in
                            (RoundResult, RoundUnitStats, RoundSectionStats))
# How long a rebuild waits for its locks before it gives up (an error, nothing written):
# while it waits in the queue, every start and finish waits behind it.
LOCK_TIMEOUT = "10s"


def lock_counters(_round=None) -> None:
    """PostgreSQL: keep every other transaction from writing the counters until this one
    ends — for a rebuild, from before its first read. `units` first, in SHARE ROW
    EXCLUSIVE (a roster change waits; a foreign key to a branch, as every new attempt and
    review answer has, still passes), then the counter tables in EXCLUSIVE (readable, not
    writable). In that order a start, whose attempt's foreign key holds `units` before
    its counter upsert, cannot deadlock with it. Waits at most LOCK_TIMEOUT. Again in
    the same transaction: nothing more. (Also contests.hooks.results_rebuild_coming.)"""
    if _dialect() != "postgresql":
        return
    db.session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    db.session.execute(text(f"LOCK TABLE {Unit.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
    db.session.execute(text(f"LOCK TABLE {_COUNTER_TABLES} IN EXCLUSIVE MODE"))
    db.session.execute(text("SET LOCAL lock_timeout = DEFAULT"))


def _hold_counters(writing: bool) -> None:
    """PostgreSQL, before a recompute's first statement: every read of the recompute sees
    one snapshot (REPEATABLE READ), so a finish committing while it reads is either
    wholly in it or wholly out of it — never in the attempts and out of the counters,
    a difference that is not there. Writing, the counters are locked first
    (lock_counters), so a start, finish, correction or roster change in flight is waited
    for and then in the snapshot, and one that comes later waits and adds itself to
    what was rebuilt — none is overwritten. The lock comes before the snapshot
    (PostgreSQL takes it at the first query, and LOCK is none). Inside a transaction
    already begun (a test, a caller that read first) the isolation level cannot change;
    the lock is still taken."""
    if _dialect() != "postgresql":
        return
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    if writing:
        lock_counters()


def recompute(check: bool = False, rounds: list[Round] | None = None) -> list[str]:
    """Rebuild every counter from the attempts and the rosters. With check=True nothing
    is written; the differences are returned (empty = the maintained counters are right).
    On PostgreSQL both are exact while members start and finish (_hold_counters); a
    rebuild makes their counter writes wait until it commits — so, when it starts a
    transaction of its own (the CLI), it first compares without the lock and takes the
    lock only when there is something to mend (a city's rebuild reads for seconds)."""
    if not check and _dialect() == "postgresql" and not db.session().in_transaction():
        clean = not _compare(rounds, writing=False)[0]
        db.session.rollback()   # the lock must come before the rebuild's snapshot
        if clean:
            return []
    diffs, expected, current = _compare(rounds, writing=not check)
    if diffs and not check:
        write(expected, rounds, current)
    return diffs


def _compare(rounds: list[Round] | None, writing: bool) -> tuple[list[str], Expected, Expected]:
    """(differences, expected, stored) under _hold_counters."""
    _hold_counters(writing)
    expected = compute_expected(rounds)
    current = stored(rounds)
    if rounds is not None:
        expected.rosters = current.rosters  # rosters are not per round
    return differences(expected, current), expected, current


def member_changed(user: User, counted_before: bool) -> None:
    """A member's eligibility may have changed (deactivated, exempted…): recount the
    roster and add or remove only this member's counting results from the branch
    counters — increments, like a finish, so a concurrent finish is never lost."""
    refresh_rosters([user.unit_id])
    counts_now = user.counts_in_movement
    if counts_now == counted_before:
        return
    sign = 1 if counts_now else -1
    for result in db.session.execute(select(RoundResult).where(RoundResult.user_id == user.id)
                                     .order_by(RoundResult.id).with_for_update()).scalars():
        bump_unit(result.round_id, result.unit_id, participants=sign, score_sum=sign * result.score,
                  points_sum=sign * result.points, max_sum=sign * result.max_score,
                  full_scores=sign * _full(result.score, result.max_score))
        bump_sections(result.round_id, result.unit_id, result.attempt_id, sign)
    for round_ in db.session.execute(select(Round).where(Round.id.in_(
            select(Round.id).join(ReviewLog, (ReviewLog.reviewed_at >= Round.opens_at)
                                  & (ReviewLog.reviewed_at < Round.closes_at))
            .where(ReviewLog.user_id == user.id))).order_by(Round.id)).scalars():
        for unit_id, days in sorted(_review_days(round_, {user.id}, user.id).items()):
            bump_unit(round_.id, unit_id, review_days=sign * days)
    db.session.flush()
