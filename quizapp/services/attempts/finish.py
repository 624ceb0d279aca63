"""Finishing an attempt: the compare-and-set from in_progress to finished, grading
with the one answer key, and closing what the deadline ended.

`finish` is the one place an attempt becomes finished: a submit, a lazily noticed
deadline (`expire_if_overdue`, `ensure_open`), the sweeper (`close_overdue`) and a
contest's finalize all come here. A round attempt's key comes from the round's answer
key (hooks.round_answer_key, provided by contests: corrections included); once graded,
`hooks.attempt_finished` hands the attempt to the branch counters in the same
transaction. Time from the browser is never used: every decision reads
`clock.request_time()` (the request's receive time, or now).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, bindparam, cast, func, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from ...clock import RECEIVED_MAX_AGE, request_time, utcnow
from ...extensions import db
from ...models import Attempt, AttemptQuestion, BankRevision, Choice, Question
from ...models.attempts import FINISHED, IN_PROGRESS, selected_ids_of
from .. import grading
from ..errors import Conflict, DeadlinePassed
from . import hooks
from .hooks import AnswerKey
from .state import REVISION, grace, reload_answers


# ---------------------------------------------------------------- the key

@dataclass(frozen=True)
class _BankEntry:
    """What the bank says of one question's answer: its right choices and, when it has
    partial credit, every choice's fraction (shared between requests: never changed)."""
    right: frozenset[int]
    fractions: dict[int, float] | None


# bank revision token → question id → _BankEntry. The token (models.bank.BankRevision)
# changes with every write to the bank or to a round's corrections, and a question an
# attempt holds is never edited in place (a new version is made), so a finish reads the
# token with its compare-and-set and grades without reading a choice.
_BANK_KEYS: dict[str, dict[int, _BankEntry]] = {}
_BANK_KEYS_KEPT = 4


def _bank_entries(question_ids: list[int], token: str) -> dict[int, _BankEntry]:
    """The questions' entries for this revision: cached, the missing ones read in one
    statement."""
    cache = _BANK_KEYS.get(token)
    if cache is None:
        if len(_BANK_KEYS) >= _BANK_KEYS_KEPT:
            _BANK_KEYS.clear()
        cache = _BANK_KEYS[token] = {}
    missing = [qid for qid in question_ids if qid not in cache]
    if not missing:
        return {qid: cache[qid] for qid in question_ids}
    # The choices and the token in ONE statement (one snapshot): what is kept under the
    # token is what the bank held at that token, even if a write (or a restore) commits
    # between the finish's read of the token and this read; else it is used, not kept.
    choices: dict[int, list[tuple[int, bool, float | None]]] = {qid: [] for qid in missing}
    seen_token = None
    for seen_token, qid, cid, correct, fraction in db.session.execute(
            select(BankRevision.token, Choice.question_id, Choice.id, Choice.is_correct,
                   Choice.fraction)
            .outerjoin(Choice, Choice.question_id.in_(missing)).where(BankRevision.id == 1)):
        if qid is not None:
            choices[qid].append((cid, correct, fraction))
    read = {}
    for qid, rows in choices.items():
        weighted = any(fraction is not None for _cid, _ok, fraction in rows)
        read[qid] = _BankEntry(
            frozenset(cid for cid, ok, _fraction in rows if ok),
            {cid: fraction or 0.0 for cid, _ok, fraction in rows} if weighted else None)
    if seen_token == token:
        cache.update(read)
    return {qid: read[qid] if qid in read else cache[qid] for qid in question_ids}


def bank_key(question_ids: Iterable[int], questions: Iterable[Question] = (),
             token: str | None = None) -> AnswerKey:
    """The bank's right choices of these questions (no round's corrections): the key of
    practice, and the base contests.answer_key corrects. `questions` whose choices are
    already loaded are read as they are (no query); `token`: the bank's revision, read
    in this transaction, to use the entries cached for it."""
    question_ids = list(question_ids)
    loaded = {q.id: q for q in questions if "choices" in q.__dict__}
    key: AnswerKey = {qid: {c.id for c in loaded[qid].choices if c.is_correct}
                      for qid in question_ids if qid in loaded}
    missing = [qid for qid in question_ids if qid not in key]
    if missing and token is not None:
        key.update({qid: set(entry.right) for qid, entry in _bank_entries(missing, token).items()})
    elif missing:
        key.update({qid: set() for qid in missing})
        for qid, cid in db.session.execute(select(Choice.question_id, Choice.id).where(
                Choice.question_id.in_(missing), Choice.is_correct.is_(True))):
            key[qid].add(cid)
    return key


def fractions_for(question_ids: Iterable[int], questions: Iterable[Question] = (),
                  token: str | None = None) -> dict[int, dict[int, float]]:
    """Partial credit: per question with weighted choices, each choice's fraction
    (classic questions are left out). Loaded choices are read as they are; the rest
    from the entries cached for `token`, or in one query."""
    question_ids = list(question_ids)
    known = {q.id: q for q in questions}
    loaded = {q.id: q for q in questions if "choices" in q.__dict__}
    out: dict[int, dict[int, float]] = {}
    for qid in question_ids:
        if qid in loaded and any(c.fraction is not None for c in loaded[qid].choices):
            out[qid] = {c.id: c.fraction or 0.0 for c in loaded[qid].choices}
    # A loaded question says whether it has credit; a classic one costs no query.
    missing = [qid for qid in question_ids if qid not in loaded
               and (qid not in known or known[qid].partial_credit)]
    if missing and token is not None:
        out.update({qid: entry.fractions for qid, entry in _bank_entries(missing, token).items()
                    if entry.fractions is not None})
    elif missing:
        for qid, cid, fraction in db.session.execute(
                select(Choice.question_id, Choice.id, Choice.fraction).where(
                    Choice.question_id.in_(missing), Choice.fraction.is_not(None))):
            out.setdefault(qid, {})[cid] = fraction
    return out


def credit_for(kind: str, right: set[int], selected: set[int],
               fractions: dict[int, float] | None) -> int:
    """The credit (percent) of an answer: by the choices' fractions when the key is still
    the one they define, else classic by the key (a round's correction re-keyed it)."""
    if fractions:
        natural = {cid for cid, f in fractions.items() if grading.is_correct_choice(kind, f, False)}
        if natural != right:
            fractions = None
    return grading.credit(kind, right, selected, fractions)


def key_for(question_ids: Iterable[int], round_id: int | None,
            questions: Iterable[Question] = (), token: str | None = None) -> AnswerKey:
    """The key an attempt is graded with: the round's (corrections included, from
    contests through hooks.round_answer_key) for a round attempt, else the bank's.
    `token`: the bank's revision read in this transaction (cached keys)."""
    if round_id is None:
        return bank_key(question_ids, questions, token)
    return hooks.round_answer_key(question_ids, round_id, questions=questions, token=token)


# ---------------------------------------------------------------- deadline

def expire_if_overdue(attempt: Attempt) -> bool:
    """Finish an unfinished attempt whose deadline + grace has passed. True if it did."""
    if attempt.status == IN_PROGRESS and \
            attempt.state(grace().seconds, now=request_time()) == "expired":
        finish(attempt, reason="expired")
        return True
    return False


def ensure_open(attempt: Attempt) -> None:
    """Conflict if finished; DeadlinePassed (after finishing it) if past deadline + grace."""
    if attempt.status == FINISHED:
        raise Conflict(_("This attempt is already finished."))
    if expire_if_overdue(attempt):
        raise DeadlinePassed(_("Time is up: the attempt was finished with the answers "
                               "saved before the deadline."))


# ---------------------------------------------------------------- finishing

def finish(attempt: Attempt, reason: str = "submitted",
           merge: Callable[[datetime], None] | None = None) -> bool:
    """Finish once: compare-and-set in_progress → finished, then grade, then (a round
    attempt) send `hooks.attempt_finished` — the branch counters — all in the caller's
    transaction. Returns False (and changes nothing) if it was already finished, so a
    double click or a retry yields one result. `merge(now)`: the submit's posted
    answers, applied to the items once the lock is held and the stored answers read.
    Its time is the request's (clock.request_time: when the proxy received it, if
    trusted), so a worker's queue at the last minute costs nobody time."""
    now = request_time()
    finished_at = now
    if attempt.deadline is not None and now > attempt.deadline:
        finished_at = attempt.deadline  # a late finisher never gains time
    stmt = (update(Attempt).where(Attempt.id == attempt.id, Attempt.status == IN_PROGRESS)
            .values(status=FINISHED, finished_at=finished_at, finish_reason=reason)
            .execution_options(synchronize_session=False))
    dialect = db.session.get_bind().dialect
    returning = dialect.update_returning
    postgresql = dialect.name == "postgresql"
    if postgresql:
        # The prediction as it is now, under the lock (it may change until here), and the
        # round's grading lock, shared (hold_round_grading): the key's revision is read
        # by the next statement, whose snapshot is taken once no correction is in flight.
        stmt = stmt.returning(Attempt.prediction, _SHARED_GRADING_LOCK)
    elif returning:
        # SQLite: writers take turns, so no correction commits between this update and
        # the commit; the key's revision comes with it.
        stmt = stmt.returning(Attempt.prediction, REVISION)
    result = db.session.execute(stmt)
    row = result.first() if returning else None
    finished = row is not None if returning else result.rowcount == 1
    if not finished:
        db.session.refresh(attempt)
        return False
    # What the UPDATE wrote, without reading the whole row back (a refresh would also
    # reload the questions and choices the caller loaded with the attempt).
    set_committed_value(attempt, "status", FINISHED)
    set_committed_value(attempt, "finished_at", finished_at)
    set_committed_value(attempt, "finish_reason", reason)
    if returning:
        set_committed_value(attempt, "prediction", row.prediction)
    else:
        db.session.refresh(attempt, ["prediction"])
    token = reload_answers(attempt, with_revision=postgresql)
    if merge is not None:
        merge(now)
    if returning and not postgresql:
        token = row.key_revision
    _grade(attempt, token=token)
    db.session.flush()
    if attempt.round_id is not None:
        hooks.send(hooks.attempt_finished, attempt)
    return True


def regrade(attempt: Attempt, key: AnswerKey) -> None:
    """Grade a finished attempt again. `key`: right answers for the questions it names
    (contests.regrade_round reads the round's key, corrections included, once for every
    attempt); the questions it does not name are graded with key_for."""
    if attempt.status != FINISHED:
        raise Conflict(_("Only a finished attempt can be regraded."))
    _grade(attempt, key)
    db.session.flush()


# The round's grading lock: a PostgreSQL advisory lock, (this namespace, the round's id).
# Every finish of a round attempt holds it shared from its compare-and-set to its
# commit; a correction takes it exclusive before it writes (hold_round_grading). So a
# correction never regrades the round while a finish graded with the old key is still
# uncommitted (its regrade would not see that attempt), and a finish never reads the
# key's revision while a correction is uncommitted (it would grade without it).
ROUND_GRADING_LOCK = 0x51554947  # "QUIG"
_SHARED_GRADING_LOCK = cast(func.pg_advisory_xact_lock_shared(ROUND_GRADING_LOCK, Attempt.round_id),
                            String).label("grading_lock")  # NULL round: no lock (strict)


def hold_round_grading(round_id: int, *, shared: bool = False) -> None:
    """Before changing how a round's attempts are graded (a correction): wait until no
    finish of the round is in flight, and keep new ones from reading the key until this
    transaction ends. `shared`: only wait for a correction in flight, and keep new ones
    out (as a finish does). PostgreSQL only: SQLite's writers already take turns."""
    if db.session.get_bind().dialect.name == "postgresql":
        lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
        db.session.execute(select(lock(ROUND_GRADING_LOCK, round_id)))


def _grade(attempt: Attempt, given: AnswerKey | None = None, token: str | None = None) -> None:
    """Score = questions answered exactly right, points = the credit earned (hundredths
    of a question: partial credit), by the one answer key (key_for: the
    round's, corrections included): a voided question is right for nobody and leaves
    the maximum; a re-keyed one uses the new right answers. `given`: the key when the
    caller read it already; `token`: the key's revision, read in this transaction."""
    # What the caller loaded with the attempt (get_own_attempt(with_questions=True)) is
    # used as it is; the rest is read in one query each.
    if "items" in attempt.__dict__:
        items = attempt.items
    else:
        items = db.session.execute(select(AttemptQuestion).where(
            AttemptQuestion.attempt_id == attempt.id)).scalars().all()
    question_ids = [i.question_id for i in items]
    questions = [i.question for i in items if "question" in i.__dict__]
    if len(questions) == len(items):
        kinds = {q.id: q.kind for q in questions}
        weighted = [q.id for q in questions if q.partial_credit]
    else:
        rows = db.session.execute(select(Question.id, Question.kind, Question.partial_credit)
                                  .where(Question.id.in_(question_ids))).all()
        kinds = {qid: kind for qid, kind, _credit in rows}
        weighted = [qid for qid, _kind, credit in rows if credit]
    given = given or {}
    key = {qid: given[qid] for qid in question_ids if qid in given}
    missing = [qid for qid in question_ids if qid not in key]
    if missing:
        wanted = set(missing)
        key.update(key_for(missing, attempt.round_id, [q for q in questions if q.id in wanted],
                           token))
    weights = fractions_for(weighted, questions, token) if weighted else {}
    graded = _grade_answers([(item.question_id, item.selected_ids) for item in items],
                            kinds, key, weights)
    for item, credit in zip(items, graded.credits):
        # Set as stored: _write_items writes every item in one statement.
        set_committed_value(item, "credit", credit)
        set_committed_value(item, "is_correct", _is_correct(credit))
    _write_items(attempt, items, dict(score=graded.score, points=graded.points,
                                      max_score=graded.counted,
                                      time_taken_seconds=time_taken(attempt)))


@dataclass
class _Graded:
    """An attempt's answers graded: each one's credit (None: voided) and the totals."""
    credits: list[int | None]
    score: int = 0      # answers exactly right
    points: int = 0     # credit earned, hundredths of a question
    counted: int = 0    # questions that count (the maximum score)


def _grade_answers(answers: list[tuple[int, set[int]]], kinds: dict[int, str], key: AnswerKey,
                   weights: dict[int, dict[int, float]]) -> _Graded:
    """Grade (question id, chosen choice ids) pairs by the key: the one rule of a finish
    and of a regrade. A voided question (key None) is right for nobody and leaves the
    maximum."""
    graded = _Graded([])
    for question_id, selected in answers:
        right = key[question_id]
        credit = None if right is None else credit_for(
            kinds[question_id], right, selected, weights.get(question_id))
        graded.credits.append(credit)
        if credit is not None:
            graded.score += int(credit == grading.FULL)
            graded.points += credit
            graded.counted += 1
    return graded


def _is_correct(credit: int | None) -> bool | None:
    return None if credit is None else credit == grading.FULL


def regrade_round_attempts(round_id: int, key: AnswerKey, batch_size: int = 1000,
                           holding: Iterable[int] | None = None) -> int:
    """Grade every finished attempt of a round again with `key` (the round's right
    answers, corrections included; a question it does not name is graded by key_for),
    by the same rule as a finish, and write only what changed. Returns how many
    attempts changed. `holding`: only the attempts that hold one of these questions
    (a correction changes the grade of no other).

    Set-based: the attempts are read `batch_size` at a time with their answers, a few
    statements per batch, not three per attempt — a correction of a city round
    regrades tens of thousands of attempts within one request. Attempts and items
    already in the session are expired, so they are read again as written."""
    last_id = 0
    changed = 0
    kinds: dict[int, str] = {}
    weights: dict[int, dict[int, float]] = {}
    key = dict(key)
    aq = AttemptQuestion.__table__.c
    chosen = select(Attempt.id, Attempt.score, Attempt.points, Attempt.max_score).where(
        Attempt.round_id == round_id, Attempt.status == FINISHED)
    if holding is not None:
        chosen = chosen.where(Attempt.id.in_(select(aq.attempt_id).where(
            aq.question_id.in_(list(holding)))))
    while True:
        batch = db.session.execute(
            chosen.where(Attempt.id > last_id).order_by(Attempt.id).limit(batch_size)).all()
        if not batch:
            break
        last_id = batch[-1].id
        answers: dict[int, list] = {row.id: [] for row in batch}
        for row in db.session.execute(
                select(aq.id, aq.attempt_id, aq.question_id, aq.selected, aq.credit, aq.is_correct)
                .where(aq.attempt_id.in_(list(answers))).order_by(aq.attempt_id, aq.id)):
            answers[row.attempt_id].append(row)
        unknown = {row.question_id for rows in answers.values() for row in rows} - set(kinds)
        if unknown:
            _learn_questions(sorted(unknown), round_id, kinds, weights, key)
        item_changes, total_changes = [], []
        for attempt in batch:
            rows = answers[attempt.id]
            graded = _grade_answers(
                [(row.question_id, selected_ids_of(row.selected))
                 for row in rows], kinds, key, weights)
            item_changes += [(row.id, credit, _is_correct(credit))
                             for row, credit in zip(rows, graded.credits)
                             if (row.credit, row.is_correct) != (credit, _is_correct(credit))]
            totals = (graded.score, graded.points, graded.counted)
            if (attempt.score, attempt.points, attempt.max_score) != totals:
                total_changes.append((attempt.id, *totals))
        _write_regrades(item_changes, total_changes)
        changed += len(total_changes)
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, (Attempt, AttemptQuestion)):
            db.session.expire(instance)
    return changed


def _learn_questions(question_ids: list[int], round_id: int, kinds: dict[int, str],
                     weights: dict[int, dict[int, float]], key: AnswerKey) -> None:
    """Kinds, partial-credit fractions and (when the key does not name them) right
    answers of these questions, added to the regrade's maps."""
    rows = db.session.execute(select(Question.id, Question.kind, Question.partial_credit)
                              .where(Question.id.in_(question_ids))).all()
    kinds.update({qid: kind for qid, kind, _credit in rows})
    weighted = [qid for qid, _kind, credit in rows if credit]
    if weighted:
        weights.update(fractions_for(weighted))
    missing = [qid for qid in question_ids if qid not in key]
    if missing:
        key.update(key_for(missing, round_id))


def _write_regrades(items: list[tuple[int, int | None, bool | None]],
                    totals: list[tuple[int, int, int, int]]) -> None:
    """The regrade's changed items (id, credit, is_correct) and attempts (id, score,
    points, max_score): one statement each on PostgreSQL, one executed per row
    elsewhere."""
    if db.session.get_bind().dialect.name == "postgresql":
        if items:
            ids, credits, correct = (list(column) for column in zip(*items))
            db.session.execute(_REGRADE_ITEMS, {"ids": ids, "credits": credits, "correct": correct})
        if totals:
            ids, scores, points, maxima = (list(column) for column in zip(*totals))
            db.session.execute(_REGRADE_TOTALS, {"ids": ids, "scores": scores, "points": points,
                                                 "maxima": maxima})
        return
    aq = AttemptQuestion.__table__
    at = Attempt.__table__
    if items:
        db.session.execute(update(aq).where(aq.c.id == bindparam("b_id")).values(
            credit=bindparam("b_credit"), is_correct=bindparam("b_correct")),
            [{"b_id": i, "b_credit": c, "b_correct": ok} for i, c, ok in items])
    if totals:
        db.session.execute(update(at).where(at.c.id == bindparam("b_id")).values(
            score=bindparam("b_score"), points=bindparam("b_points"),
            max_score=bindparam("b_max")),
            [{"b_id": i, "b_score": s, "b_points": p, "b_max": m} for i, s, p, m in totals])


_REGRADE_ITEMS = text(
    "UPDATE attempt_questions AS aq SET credit = v.credit, is_correct = v.is_correct "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:credits AS integer[]), "
    "CAST(:correct AS boolean[])) AS v(id, credit, is_correct) WHERE aq.id = v.id")
_REGRADE_TOTALS = text(
    "UPDATE attempts AS a SET score = v.score, points = v.points, max_score = v.max_score "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:scores AS integer[]), "
    "CAST(:points AS integer[]), CAST(:maxima AS integer[])) AS v(id, score, points, max_score) "
    "WHERE a.id = v.id")


# What a finish writes back to each item: the answer (a submit merges the page's last
# changes under the lock) and its grade.
_ITEM_COLUMNS = ("selected", "answered_at", "save_seq", "save_client", "credit", "is_correct")


def _write_items(attempt: Attempt, items: list[AttemptQuestion], totals: dict[str, int]) -> None:
    """Write the items' answers and grades, and the attempt's totals, in as few
    statements as the database allows, not the ORM's one UPDATE per item and per flush
    (twenty per submit, sent twice: answers, then grades, a third of a submit's
    statements in the profile). The items' values are already on them, set as
    committed. PostgreSQL: ONE statement, the items by UPDATE … FROM unnest(arrays) and
    the attempt's totals in a WITH clause of it; elsewhere one statement executed per
    item, and the totals flushed by the ORM."""
    if not items or db.session.get_bind().dialect.name != "postgresql":
        for name, value in totals.items():
            setattr(attempt, name, value)
        if items:
            db.session.execute(_item_update(), [
                {"b_" + name: getattr(item, name) for name in ("id",) + _ITEM_COLUMNS}
                for item in items])
        return
    params = {"ids": [item.id for item in items],
              **{name: [getattr(item, name) for item in items] for name in _ITEM_COLUMNS},
              "attempt_id": attempt.id, **totals}
    db.session.execute(_UNNEST_UPDATE, params)
    for name, value in totals.items():
        set_committed_value(attempt, name, value)


_UNNEST_UPDATE = text(
    "WITH totals AS (UPDATE attempts SET score = :score, points = :points, "
    "max_score = :max_score, time_taken_seconds = :time_taken_seconds WHERE id = :attempt_id) "
    "UPDATE attempt_questions AS aq SET selected = v.selected, answered_at = v.answered_at, "
    "save_seq = v.save_seq, save_client = v.save_client, credit = v.credit, "
    "is_correct = v.is_correct "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:selected AS varchar[]), "
    "CAST(:answered_at AS timestamptz[]), CAST(:save_seq AS bigint[]), "
    "CAST(:save_client AS varchar[]), CAST(:credit AS integer[]), CAST(:is_correct AS boolean[])) "
    "AS v(id, selected, answered_at, save_seq, save_client, credit, is_correct) "
    "WHERE aq.id = v.id")


@functools.lru_cache(maxsize=1)
def _item_update():
    table = AttemptQuestion.__table__
    return (update(table).where(table.c.id == bindparam("b_id"))
            .values(**{name: bindparam("b_" + name, type_=table.c[name].type)
                       for name in _ITEM_COLUMNS}))


def time_taken(attempt: Attempt) -> int:
    """The time an attempt counts for (the ranking's tie-break): from start to finish,
    at most the time limit. A paper sheet's time cannot be measured (its "start" is the
    printing, its "finish" the secretary's entry), so it counts as the whole time limit:
    never ahead of an online attempt on time, and pages show "—" for it."""
    if attempt.on_paper and attempt.time_limit_seconds is not None:
        return attempt.time_limit_seconds
    taken = int((attempt.finished_at - attempt.started_at).total_seconds())
    if attempt.time_limit_seconds is not None:
        taken = min(taken, attempt.time_limit_seconds)
    return max(0, taken)


def overdue_cutoff() -> datetime:
    """Deadlines before this are over for good: deadline + grace has passed, and, when
    saves are judged by the proxy's receive time (REQUEST_START_HEADER), so has the
    longest wait that time is believed for (a submit sent in time may still be queued)."""
    cutoff = utcnow() - grace()
    if current_app.config["REQUEST_START_HEADER"]:
        cutoff -= RECEIVED_MAX_AGE
    return cutoff


def overdue_ids(limit: int = 1000) -> list[int]:
    """Ids of unfinished attempts whose deadline + grace has passed."""
    cutoff = overdue_cutoff()
    return list(db.session.execute(select(Attempt.id).where(
        Attempt.status == IN_PROGRESS, Attempt.deadline.is_not(None),
        Attempt.deadline < cutoff).order_by(Attempt.id).limit(limit)).scalars())


def close_overdue(batch_size: int = 500) -> int:
    """Finish every unfinished attempt whose deadline + grace has passed; returns how
    many this call finished (a concurrent finisher's wins are not counted)."""
    cutoff = overdue_cutoff()
    finished = 0
    while True:
        ids = db.session.execute(select(Attempt.id).where(
            Attempt.status == IN_PROGRESS, Attempt.deadline.is_not(None),
            Attempt.deadline < cutoff).order_by(Attempt.id).limit(batch_size)).scalars().all()
        if not ids:
            return finished
        for attempt_id in ids:
            attempt = db.session.get(Attempt, attempt_id)
            if attempt is not None and finish(attempt, reason="expired"):
                finished += 1
        db.session.flush()
