"""What the quiz page shows of an attempt in progress, read as plain rows.

The page is the second-hottest read of a contest (benchmarks/REPORT.md): loading every
frozen question and choice as ORM objects, and the template's per-choice lookups and
token work, were most of its time. Here the attempt and its questions come in one
statement (the attempt as an object, its questions as column tuples); the wording comes
from a per-process cache, and from the database only for the questions not in it (one
statement more); the tokens of a question are computed once per process.

The cache holds wording only — a question's prompt and its choices' texts, never which
choice is right, never a fraction — under the key (question id, content_hash). A bank
question already used by an attempt is never edited in place: a changed import or edit
adds a new version (a new id), and any change of prompt, choices, kind or explanation
changes content_hash (services.bank.store), so an edit in place of a question nobody
had used yet, or a new version, can never be served stale text. A question without a
content_hash is never cached, and an entry lacking one of the frozen choice ids counts
as a miss. A round's correction changes its answer key, never the wording, and keys are
read for each request (only for the answers already checked).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...models import Attempt, AttemptQuestion, Choice, Question, User
from ...models.attempts import selected_ids_of
from .. import grading
from . import choice_tokens
from .state import own

# (question id, content_hash) → (prompt, {choice id: text}); cleared whole when full.
_TEXTS: dict[tuple[int, str], tuple[str, dict[int, str]]] = {}
TEXT_CACHE_SIZE = 4096


@dataclass(slots=True)
class PageItem:
    """One question of the page: its prompt, its options as (token, text, checked) in
    the attempt's frozen order, and what the page's form needs."""
    question_id: int
    question_key: str
    kind: str
    multiple: bool
    prompt: str
    options: list[tuple[int, str, bool]]
    base: str            # the saved answer's tokens, sorted and comma-joined
    answered: bool
    locked: bool
    # The full item (question, section, choices with fractions) for a checked answer's
    # feedback only: immediate practice.
    feedback: AttemptQuestion | None = field(default=None)


def clear_text_cache() -> None:
    _TEXTS.clear()


def _texts(wanted: dict[int, tuple[str, tuple[int, ...]]]) -> dict[int, tuple[str, dict[int, str]]]:
    """question id → (prompt, {choice id: text}) for `wanted` (question id →
    (content_hash, frozen choice ids)): from the cache, and the misses in one statement."""
    out: dict[int, tuple[str, dict[int, str]]] = {}
    missing: list[int] = []
    for qid, (digest, ids) in wanted.items():
        entry = _TEXTS.get((qid, digest)) if digest else None
        if entry is not None and all(i in entry[1] for i in ids):
            out[qid] = entry
        else:
            missing.append(qid)
    if missing:
        rows = db.session.execute(
            select(Question.id, Question.prompt, Choice.id, Choice.text)
            .outerjoin(Choice, Choice.question_id == Question.id)
            .where(Question.id.in_(missing)))
        for qid, prompt, choice_id, text in rows:
            entry = out.setdefault(qid, (prompt, {}))
            if choice_id is not None:
                entry[1][choice_id] = text
        if len(_TEXTS) + len(missing) > TEXT_CACHE_SIZE:
            _TEXTS.clear()
        for qid in missing:
            digest = wanted[qid][0]
            if digest and qid in out:
                _TEXTS[(qid, digest)] = out[qid]
    return out


def own_attempt_page(user: User, attempt_id: int) -> tuple[Attempt, list[PageItem]]:
    """The member's own attempt (NotFound as state.get_own_attempt says) with its round,
    and its questions in their frozen order ready for the quiz page, in one statement;
    one more for wording not cached yet, and two more for the feedback of checked
    answers when there are any (immediate practice). Every statement is a round trip to
    the database, and those were most of the page's time under load."""
    table = AttemptQuestion.__table__
    rows = db.session.execute(
        select(Attempt, table.c.question_id, table.c.choice_order, table.c.selected,
               table.c.locked, Question.key, Question.kind, Question.content_hash)
        .outerjoin(table, table.c.attempt_id == Attempt.id)
        .outerjoin(Question, Question.id == table.c.question_id)
        .where(Attempt.id == attempt_id)
        .order_by(table.c.position)
        .options(joinedload(Attempt.round))).all()
    attempt = own(user, rows[0][0] if rows else None)
    rows = [row[1:] for row in rows if row[1] is not None]
    frozen = {row[0]: tuple(int(x) for x in row[1].split(",") if x) for row in rows}
    texts = _texts({row[0]: (row[6], frozen[row[0]]) for row in rows})
    items = []
    for qid, _order, selected, locked, key, kind, _digest in rows:
        ids = frozen[qid]
        chosen = selected_ids_of(selected)
        prompt, by_id = texts.get(qid, ("", {}))
        values = choice_tokens.frozen_tokens(attempt.id, qid, ids)
        token_of = dict(zip(ids, values))
        options = [(value, by_id[cid], cid in chosen) for cid, value in zip(ids, values) if cid in by_id]
        base = [token_of[c] if c in token_of else choice_tokens.token(attempt.id, qid, c) for c in chosen]
        items.append(PageItem(qid, key, kind, grading.selects_many(kind), prompt, options,
                              ",".join(str(t) for t in sorted(base)), bool(chosen), bool(locked)))
    if any(item.locked for item in items):
        checked = {i.question_id: i for i in db.session.execute(
            select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id,
                                          AttemptQuestion.locked.is_(True))
            .options(joinedload(AttemptQuestion.question).joinedload(Question.section),
                     joinedload(AttemptQuestion.question).selectinload(Question.choices)))
            .scalars()}
        for item in items:
            item.feedback = checked.get(item.question_id)
    return attempt, items
