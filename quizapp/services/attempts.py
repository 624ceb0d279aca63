"""The timed quiz engine: start, save, check, finish, close overdue.

The walk of one answer (ARCHITECTURE.md): `start` freezes the questions and their
choice order; `save_answer` stores one answer after checking owner, state and deadline;
`finish` is a compare-and-set from in_progress to finished that grades in the same
transaction; `close_overdue` finishes what the deadline ended. Time from the browser
is never used: every decision reads `clock.utcnow()`.
"""
from __future__ import annotations

import functools
import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, case, literal, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..clock import utcnow
from ..db_setup import autosave_engine
from ..extensions import db
from ..models import Attempt, AttemptQuestion, Question, Section, User
from ..models.attempts import FINISHED, IN_PROGRESS
from . import grading
from .answer_key import answer_key
from .errors import Conflict, DeadlinePassed, DomainError, NotFound

FEEDBACK_MODES = ("immediate", "exam")


class NoQuestions(DomainError):
    """A practice choice that leaves no question to ask."""


def grace() -> timedelta:
    return timedelta(seconds=current_app.config["QUIZ_GRACE_SECONDS"])


# ---------------------------------------------------------------- drawing questions

def section_subtree_ids(keys: list[str]) -> list[int]:
    """Ids of the named sections and all their descendants."""
    sections = db.session.execute(select(Section)).scalars().all()
    by_parent: dict[int | None, list[Section]] = {}
    for s in sections:
        by_parent.setdefault(s.parent_id, []).append(s)
    chosen = [s for s in sections if s.key in set(keys)]
    unknown = set(keys) - {s.key for s in chosen}
    if unknown:
        raise DomainError(_("Unknown section: %(keys)s", keys=", ".join(sorted(unknown))))
    out: list[int] = []
    stack = list(chosen)
    while stack:
        node = stack.pop()
        if node.id not in out:
            out.append(node.id)
            stack.extend(by_parent.get(node.id, []))
    return out


def draw_questions(section_keys: list[str] | None, count: int,
                   rng: random.Random, exclude_keys: Collection[str] = ()) -> list[Question]:
    """Draw `count` approved, current practice questions, stratified by outline section:
    never a contest reserve question, nor one whose key is in `exclude_keys` (the keys
    sealed by contest rounds, services.sealing).

    Sections take turns (in outline order, each turn one random question) so that a
    small quiz over many sections spreads across them instead of clustering. Returns
    fewer than `count` only when the pool is smaller.
    """
    query = select(Question).join(Section).where(
        Question.is_current.is_(True), Question.status == "approved",
        Question.reserve.is_(False))
    if exclude_keys:
        query = query.where(Question.key.not_in(list(exclude_keys)))
    if section_keys:
        query = query.where(Question.section_id.in_(section_subtree_ids(section_keys)))
    pool = db.session.execute(query.order_by(Section.position, Question.id)).scalars().all()
    by_section: dict[int, list[Question]] = {}
    for q in pool:
        by_section.setdefault(q.section_id, []).append(q)
    for bucket in by_section.values():
        rng.shuffle(bucket)
    order = list(by_section)
    rng.shuffle(order)
    drawn: list[Question] = []
    while len(drawn) < count and any(by_section.values()):
        for section_id in order:
            if by_section[section_id] and len(drawn) < count:
                drawn.append(by_section[section_id].pop())
    rng.shuffle(drawn)
    return drawn


# ---------------------------------------------------------------- starting

@dataclass
class PracticeSpec:
    section_keys: list[str]
    count: int
    time_limit_minutes: int | None
    feedback: str
    title: str = ""


def freeze(attempt: Attempt, questions: list[Question], rng: random.Random,
           shuffle_choices: bool = True) -> None:
    """Add the questions to the attempt in this order, each with its choice order fixed
    now (shuffled unless told otherwise; true/false keeps "Đúng" before "Sai")."""
    for position, question in enumerate(questions):
        choice_ids = [c.id for c in question.choices]
        if shuffle_choices and question.kind != "truefalse":
            rng.shuffle(choice_ids)
        attempt.items.append(AttemptQuestion(
            question_id=question.id, position=position,
            choice_order=",".join(str(i) for i in choice_ids)))


def start_practice(user: User, spec: PracticeSpec, start_token: str | None = None,
                   question_ids: list[int] | None = None,
                   rng: random.Random | None = None,
                   exclude_keys: Collection[str] = ()) -> Attempt:
    """Start a practice attempt; the same start_token returns the same attempt. Its
    questions are never contest reserve ones nor ones with a key in `exclude_keys`
    (see draw_questions); the views start practice through services.sealing.

    Raises NoQuestions when the choice leaves no question to ask.
    """
    if start_token:
        existing = db.session.execute(select(Attempt).where(
            Attempt.user_id == user.id, Attempt.start_token == start_token)).scalar_one_or_none()
        if existing is not None:
            return existing
    if spec.feedback not in FEEDBACK_MODES:
        raise DomainError(_("Unknown feedback mode."))
    rng = rng or random.Random()
    max_questions = current_app.config["PRACTICE_MAX_QUESTIONS"]
    count = max(1, min(spec.count, max_questions))
    if question_ids is not None:
        questions = db.session.execute(select(Question).where(
            Question.id.in_(question_ids), Question.reserve.is_(False))).scalars().all()
        questions = [q for q in questions if q.key not in exclude_keys]
        rng.shuffle(questions)
        questions = questions[:count]
    else:
        questions = draw_questions(spec.section_keys or None, count, rng, exclude_keys)
    if not questions:
        raise NoQuestions(_("There are no approved questions for this choice yet."))
    now = utcnow()
    attempt = Attempt(user_id=user.id, kind="practice", feedback=spec.feedback,
                      title=spec.title, started_at=now, status=IN_PROGRESS,
                      max_score=len(questions), start_token=start_token)
    if spec.time_limit_minutes:
        attempt.time_limit_seconds = spec.time_limit_minutes * 60
        attempt.deadline = now + timedelta(seconds=attempt.time_limit_seconds)
    freeze(attempt, questions, rng)
    db.session.add(attempt)
    db.session.flush()
    return attempt


# ---------------------------------------------------------------- access

def get_own_attempt(user: User, attempt_id: int, with_questions: bool = False,
                    with_choices: bool = True) -> Attempt:
    """The attempt if it belongs to `user`; NotFound otherwise (never 403: ids are not
    confirmed to exist). `with_questions` loads its round, questions and sections too,
    and their choices unless `with_choices` is false, in three or four queries, for the
    pages and posts that use them (lazy loading was two queries per question: most of
    the quiz page's time in the profile; a submit needs no Choice objects)."""
    if with_questions:
        question = selectinload(Attempt.items).joinedload(AttemptQuestion.question)
        question = question.options(selectinload(Question.choices), joinedload(Question.section)) \
            if with_choices else question.options(joinedload(Question.section))
        attempt = db.session.execute(select(Attempt).where(Attempt.id == attempt_id).options(
            joinedload(Attempt.round), question)).scalar_one_or_none()
    else:
        attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        raise NotFound(_("Attempt not found."))
    return attempt


def expire_if_overdue(attempt: Attempt) -> bool:
    """Finish an unfinished attempt whose deadline + grace has passed. True if it did."""
    if attempt.status == IN_PROGRESS and attempt.state(grace().seconds) == "expired":
        finish(attempt, reason="expired")
        return True
    return False


def ensure_open(attempt: Attempt) -> None:
    """Conflict if finished; DeadlinePassed (after finishing it) if past deadline + grace."""
    _ensure_open(attempt)


def _ensure_open(attempt: Attempt) -> None:
    if attempt.status == FINISHED:
        raise Conflict(_("This attempt is already finished."))
    if expire_if_overdue(attempt):
        raise DeadlinePassed(_("Time is up: the attempt was finished with the answers "
                               "saved before the deadline."))


def _item_for(attempt: Attempt, question_id: int) -> AttemptQuestion:
    if "items" in attempt.__dict__:  # already loaded: no query
        for item in attempt.items:
            if item.question_id == question_id:
                return item
        raise DomainError(_("That question is not part of this attempt."))
    item = db.session.execute(select(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt.id, AttemptQuestion.question_id == question_id)
        .options(joinedload(AttemptQuestion.question))).scalar_one_or_none()
    if item is None:
        raise DomainError(_("That question is not part of this attempt."))
    return item


def _validate_selection(item: AttemptQuestion, choice_ids: list[int]) -> set[int]:
    selected = set(choice_ids)
    if not selected <= set(item.choice_ids):
        raise DomainError(_("That choice is not part of this question."))
    if len(selected) > 1 and not grading.SELECTS_MANY[item.question.kind]:
        raise DomainError(_("This question takes a single answer."))
    return selected


def _reload_answers(attempt: Attempt) -> None:
    """Once the attempt's lock is held: bring the answers of items loaded before it up
    to date (an autosave may have committed between that load and the lock), so what
    is compared and graded is what the database holds. One query; nothing when the
    items were not loaded (they are read after the lock then)."""
    if "items" not in attempt.__dict__:
        return
    table = AttemptQuestion.__table__
    current = {row.id: row for row in db.session.execute(
        select(table.c.id, table.c.selected, table.c.locked, table.c.answered_at,
               table.c.save_seq, table.c.save_client)
        .where(table.c.attempt_id == attempt.id))}
    for item in attempt.items:
        row = current.get(item.id)
        if row is not None:
            for name in ("selected", "locked", "answered_at", "save_seq", "save_client"):
                set_committed_value(item, name, getattr(row, name))


def _lock_attempt(attempt: Attempt, now: datetime) -> None:
    """Take the attempt's write lock (row lock on PostgreSQL, the database write lock on
    SQLite) and confirm it is still in progress, so a save can never land after the
    grading of a concurrent finish."""
    result = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == IN_PROGRESS)
        .values(last_saved_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(attempt)
        raise Conflict(_("This attempt is already finished."))


# ---------------------------------------------------------------- saving

def save_answers(attempt: Attempt, answers: dict[int, list[int]], seq: int | None = None,
                 *, seqs: dict[int, int] | None = None, client: str | None = None) -> int:
    """Save several answers at once ({question_id: [choice_id, ...]}); an empty list
    clears an answer. All are validated before any is written. Returns how many rows
    changed. Raises DomainError (400) for a question or choice outside the attempt,
    Conflict when finished or locked, DeadlinePassed after deadline + grace.

    `seq` (one for all) or `seqs` (per question), with `client` (the page that sent
    them): the autosave's ordering rule (save_answer). A save whose number is not
    greater than the one the same page stored is a retry or arrived late behind a newer
    one, and changes nothing — so a client may resend freely. The quiz form sends only
    what its page changed (quiz.forms.answers_from), so a stale tab's post merges."""
    _ensure_open(attempt)
    checked: list[tuple[AttemptQuestion, set[int]]] = []
    for question_id, choice_ids in answers.items():
        item = _item_for(attempt, question_id)
        checked.append((item, _validate_selection(item, choice_ids)))
    now = utcnow()
    _lock_attempt(attempt, now)
    _reload_answers(attempt)
    changed = 0
    for item, selected in checked:
        value = ",".join(str(i) for i in sorted(selected)) or None
        if item.locked:
            if value != item.selected:
                raise Conflict(_("This answer has already been checked and cannot change."))
            continue
        item_seq = (seqs or {}).get(item.question_id, seq)
        if item_seq is not None:
            if _is_stale(item.save_seq, item.save_client, item_seq, client):
                continue
            item.save_seq = item_seq
            item.save_client = client
        if value != item.selected:
            item.selected = value
            item.answered_at = now
            changed += 1
    db.session.flush()
    return changed


def save_answer(attempt: Attempt, question_id: int, choice_ids: list[int],
                seq: int | None = None, client: str | None = None) -> AttemptQuestion:
    """Autosave one answer (see save_answers for the rules). With `seq` and `client`
    (the page that sent it), a save is ignored only when the same page already stored a
    higher-or-equal number: a retry or a late arrival. Saves from another page or device
    always apply (the last to arrive wins). `item.ignored` tells the caller."""
    _ensure_open(attempt)
    item = _item_for(attempt, question_id)
    selected = _validate_selection(item, choice_ids)
    now = utcnow()
    _lock_attempt(attempt, now)
    # Read before the lock: another save may have landed since.
    db.session.refresh(item, ["selected", "locked", "answered_at", "save_seq", "save_client"])
    value = ",".join(str(i) for i in sorted(selected)) or None
    if item.locked:
        if value != item.selected:
            raise Conflict(_("This answer has already been checked and cannot change."))
        return item
    item.ignored = False
    if seq is not None:
        if _is_stale(item.save_seq, item.save_client, seq, client):
            item.ignored = True
            return item
        item.save_seq = seq
        item.save_client = client
    if value != item.selected:
        item.selected = value
        item.answered_at = now
    db.session.flush()
    return item


@dataclass
class Autosaved:
    """What one autosave stored."""
    choice_ids: list[int]
    seconds_left: int | None


def autosave(user_id: int, session_version: int, attempt_id: int, question_id: int,
             choice_ids: list[int], seq: int | None = None,
             client: str | None = None) -> Autosaved | None:
    """The common case of the quiz page's autosave, the hottest write of a contest, as
    ONE statement committed on its own (no BEGIN/COMMIT round trips): the profile in
    benchmarks/REPORT.md showed the general path's seven statements, their building
    and the round trips to the database as most of an autosave's cost.

    The UPDATE of the answer row applies, in SQL, the rules `save_answer` applies in
    Python: the session's user is active and has this session version (a password
    change or deactivation still ends the session); the attempt is theirs, in progress
    and not past deadline + grace; the question is in the attempt and not locked by an
    immediate check; every choice is in its frozen choice order, and several only for a
    multiple-choice question; the sequence number is newer than this page's last one.
    The attempt's row is locked first (FOR UPDATE in a materialized CTE; SQLite
    serializes writers itself), as every save does, so a save never lands after a
    concurrent finish has graded.

    Returns None, having written nothing, when the UPDATE matched no row — any of
    those rules refused it, or the request is not that common case: the caller then
    runs the general path (`save_answer`), which applies every rule again and gives
    the member the reason."""
    now = utcnow()
    mode = "none" if seq is None else "seq" if client is None else "seq_client"
    chosen = sorted(set(choice_ids))
    params = {"a_id": attempt_id, "u_id": user_id, "version": session_version,
              "q_id": question_id, "cutoff": now - grace(), "now": now,
              "value": ",".join(str(i) for i in chosen) or None, "seq": seq, "client": client}
    params.update({f"c{n}": f"%,{c},%" for n, c in enumerate(chosen)})
    engine = autosave_engine()
    if engine is None:  # a database too old for this statement: the general path
        return None
    try:
        with engine.connect() as conn:
            row = conn.execute(_autosave_statement(len(chosen), mode), params).one_or_none()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # The database dropped this idle connection (a restart, a failover): the
        # general path's pool pings before it uses one, so the member sees nothing.
        return None
    if row is None:
        return None
    seconds_left = None if row.deadline is None else \
        max(0, int((row.deadline - now).total_seconds()))
    return Autosaved(chosen, seconds_left)


@functools.lru_cache(maxsize=64)
def _autosave_statement(choices: int, mode: str):
    """autosave's UPDATE for `choices` chosen ids and a sequence `mode` ("none", "seq",
    "seq_client"), built once per shape (building and cache-keying a statement per
    request was a sixth of an autosave in the profile)."""
    users, attempts_t = User.__table__, Attempt.__table__
    items, questions = AttemptQuestion.__table__, Question.__table__
    target = (select(attempts_t.c.id)
              .join(users, users.c.id == attempts_t.c.user_id)
              .where(attempts_t.c.id == bindparam("a_id"),
                     attempts_t.c.user_id == bindparam("u_id"),
                     attempts_t.c.status == IN_PROGRESS,
                     attempts_t.c.deadline.is_(None)
                     | (attempts_t.c.deadline >= bindparam("cutoff", type_=attempts_t.c.deadline.type)),
                     users.c.active.is_(True),
                     users.c.session_version == bindparam("version"))
                # FOR NO KEY UPDATE on PostgreSQL: the strength an UPDATE of the row takes.
              .with_for_update(of=attempts_t, key_share=True)
              .cte("target").prefix_with("MATERIALIZED"))
    conditions = [items.c.attempt_id == bindparam("a_id"),  # the (attempt, question) index
                  items.c.attempt_id.in_(select(target.c.id)),
                  items.c.question_id == bindparam("q_id"),
                  items.c.locked.is_(False)]
    framed = literal(",").concat(items.c.choice_order).concat(",")
    conditions += [framed.like(bindparam(f"c{n}")) for n in range(choices)]
    if choices > 1:
        many = [kind for kind, selects_many in grading.SELECTS_MANY.items() if selects_many]
        conditions.append(select(questions.c.id).where(
            questions.c.id == items.c.question_id,
            or_(*(questions.c.kind == kind for kind in many))).exists())
    now = bindparam("now", type_=items.c.answered_at.type)
    value = bindparam("value", type_=items.c.selected.type)
    values = {"selected": value,
              "answered_at": case((items.c.selected.is_distinct_from(value), now),
                                  else_=items.c.answered_at)}
    if mode != "none":
        seq = bindparam("seq", type_=items.c.save_seq.type)
        newer = items.c.save_seq.is_(None) | (items.c.save_seq < seq)
        if mode == "seq_client":
            client = bindparam("client", type_=items.c.save_client.type)
            newer = newer | items.c.save_client.is_(None) | (items.c.save_client != client)
            values.update(save_seq=seq, save_client=client)
        else:
            values.update(save_seq=seq, save_client=None)
        conditions.append(newer)
    deadline = select(attempts_t.c.deadline).where(
        attempts_t.c.id == items.c.attempt_id).scalar_subquery()
    return items.update().where(*conditions).values(**values).returning(
        deadline.label("deadline"))


def _is_stale(save_seq: int | None, save_client: str | None, seq: int,
              client: str | None) -> bool:
    """save_answer's retry rule: a save is stale when the same page (or a page that sent
    no client id) already stored a higher-or-equal sequence number."""
    same_page = client is None or save_client == client
    return same_page and save_seq is not None and seq <= save_seq


def check_answer(attempt: Attempt, question_id: int, choice_ids: list[int]) -> AttemptQuestion:
    """Immediate-feedback practice: save, lock and grade one answer, so its result can be
    shown now. Refused in exam mode and in contests."""
    if attempt.kind != "practice" or attempt.feedback != "immediate":
        raise DomainError(_("Answers are checked only at the end of this quiz."))
    if not choice_ids:
        raise DomainError(_("Choose an answer first."))
    item = save_answer(attempt, question_id, choice_ids)
    if not item.locked:
        item.locked = True
        right = answer_key([item.question_id], attempt.round_id,
                           questions=[item.question])[item.question_id]
        item.is_correct = grading.grade(item.question.kind, right or set(), item.selected_ids)
        db.session.flush()
    return item


# ---------------------------------------------------------------- finishing

def finish(attempt: Attempt, reason: str = "submitted") -> bool:
    """Finish once: compare-and-set in_progress → finished, then grade, in the caller's
    transaction. Returns False (and changes nothing) if it was already finished, so a
    double click or a retry yields one result."""
    now = utcnow()
    finished_at = now
    if attempt.deadline is not None and now > attempt.deadline:
        finished_at = attempt.deadline  # a late finisher never gains time
    stmt = (update(Attempt).where(Attempt.id == attempt.id, Attempt.status == IN_PROGRESS)
            .values(status=FINISHED, finished_at=finished_at, finish_reason=reason)
            .execution_options(synchronize_session=False))
    returning = db.session.get_bind().dialect.update_returning
    if returning:  # the prediction as it is now, under the lock (it may change until here)
        stmt = stmt.returning(Attempt.prediction)
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
    _reload_answers(attempt)
    _grade(attempt)
    db.session.flush()
    if attempt.round_id is not None:
        from .contest import after_finish
        after_finish(attempt)
    return True


def regrade(attempt: Attempt, overrides: dict[int, set[int] | None]) -> None:
    """Grade a finished attempt again with the round's corrections (answer_key.corrections)."""
    if attempt.status != FINISHED:
        raise Conflict(_("Only a finished attempt can be regraded."))
    _grade(attempt, overrides)
    db.session.flush()


def _grade(attempt: Attempt, overrides: dict[int, set[int] | None] | None = None) -> None:
    """Score = questions answered exactly right, by the one answer key (answer_key): a
    voided question is right for nobody and leaves the maximum; a re-keyed one uses the
    new right answers. `overrides`: the round's corrections when the caller read them."""
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
    else:
        kinds = dict(db.session.execute(
            select(Question.id, Question.kind).where(Question.id.in_(question_ids))).all())
    key = answer_key(question_ids, attempt.round_id, questions=questions, overrides=overrides)
    score = 0
    counted = 0
    for item in items:
        right = key[item.question_id]
        if right is None:
            item.is_correct = None
            continue
        item.is_correct = grading.grade(kinds[item.question_id], right, item.selected_ids)
        score += int(item.is_correct)
        counted += 1
    attempt.score = score
    attempt.max_score = counted
    taken = int((attempt.finished_at - attempt.started_at).total_seconds())
    if attempt.time_limit_seconds is not None:
        taken = min(taken, attempt.time_limit_seconds)
    attempt.time_taken_seconds = max(0, taken)


def submit(attempt: Attempt, answers: dict[int, list[int]] | None = None, *,
           seqs: dict[int, int] | None = None, client: str | None = None) -> bool:
    """The member submits, with the answers the page changed and did not autosave yet
    (the no-JavaScript path, or a save still in flight), saved by save_answers' rules
    first. Late → DeadlinePassed after finishing with what was saved before."""
    if attempt.status == FINISHED:
        return False
    try:
        if answers:
            save_answers(attempt, answers, seqs=seqs, client=client)
        else:
            _ensure_open(attempt)
    except Conflict:
        # A second click that arrived while the first was finishing: the same result.
        db.session.refresh(attempt)
        if attempt.status == FINISHED:
            return False
        raise
    return finish(attempt, reason="submitted")


def overdue_ids(limit: int = 1000) -> list[int]:
    """Ids of unfinished attempts whose deadline + grace has passed."""
    cutoff = utcnow() - grace()
    return list(db.session.execute(select(Attempt.id).where(
        Attempt.status == IN_PROGRESS, Attempt.deadline.is_not(None),
        Attempt.deadline < cutoff).order_by(Attempt.id).limit(limit)).scalars())


def close_overdue(batch_size: int = 500) -> int:
    """Finish every unfinished attempt whose deadline + grace has passed; returns how
    many this call finished (a concurrent finisher's wins are not counted)."""
    cutoff = utcnow() - grace()
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
