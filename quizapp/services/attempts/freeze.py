"""Starting an attempt: drawing practice questions (stratified by outline section),
freezing question and choice order in rows of the attempt's own, and storing a new
attempt once (a contest's start comes here too: contests.start_round_attempt draws with
the round's plan, then freezes and inserts through this module).
"""
from __future__ import annotations

import random
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...clock import utcnow
from ...extensions import db
from ...models import Attempt, AttemptQuestion, Question, Section, User
from ...models.attempts import IN_PROGRESS
from .. import grading
from ..errors import DomainError
from . import hooks

FEEDBACK_MODES = ("immediate", "exam")


class NoQuestions(DomainError):
    """A practice choice that leaves no question to ask."""


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
    sealed by contest rounds, services.contests.sealing).

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


@dataclass
class PracticeSpec:
    section_keys: list[str]
    count: int
    time_limit_minutes: int | None
    feedback: str
    title: str = ""


def _natural(text: str) -> list[tuple]:
    """Sort key reading digit runs as numbers ("2 câu" before "10 câu"), letters folded."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
            for part in re.split(r"(\d+)", text) if part]


@dataclass(frozen=True)
class ChoiceOrders:
    """What freezing needs of a question, as plain values (the draw pools keep them per
    bank revision, so a contest start loads no question or choice): its id, whether its
    kind keeps its choices in place (true/false), its choice ids in the author's order,
    and the same ids in the natural order of their texts."""
    question_id: int
    fixed: bool
    authored: tuple[int, ...]
    natural: tuple[int, ...]

    @classmethod
    def of(cls, question: Question) -> "ChoiceOrders":
        return cls.from_choices(question.id, question.kind,
                                [(c.id, c.text) for c in question.choices])

    @classmethod
    def from_choices(cls, question_id: int, kind: str,
                     choices: list[tuple[int, str]]) -> "ChoiceOrders":
        """`choices`: (id, text) in the author's order (Choice.position)."""
        return cls(question_id, grading.is_fixed(kind), tuple(cid for cid, _text in choices),
                   tuple(cid for cid, _text in sorted(choices, key=lambda c: (_natural(c[1]), c[0]))))


def freeze(attempt: Attempt, questions: list[Question], rng: random.Random,
           shuffle_choices: bool = True) -> None:
    """Add the questions to the attempt in this order, each with its choice order fixed
    now (freeze_orders)."""
    freeze_orders(attempt, [ChoiceOrders.of(q) for q in questions], rng, shuffle_choices)


def freeze_orders(attempt: Attempt, questions: list[ChoiceOrders], rng: random.Random,
                  shuffle_choices: bool = True) -> None:
    """Add the questions to the attempt in this order, each with its choice order fixed
    now: shuffled, or, when a round keeps one order for everyone, the choices' texts in
    natural order. Never the author's order: authors tend to write the right answer first,
    so that order would tell the key. True/false keeps "Đúng" before "Sai"."""
    for position, question in enumerate(questions):
        if question.fixed:
            choice_ids = list(question.authored)
        elif shuffle_choices:
            choice_ids = list(question.authored)
            rng.shuffle(choice_ids)
        else:
            choice_ids = list(question.natural)
        attempt.items.append(AttemptQuestion(
            question_id=question.question_id, position=position,
            choice_order=",".join(str(i) for i in choice_ids)))


def start_practice(user: User, spec: PracticeSpec, start_token: str | None = None,
                   question_ids: list[int] | None = None,
                   rng: random.Random | None = None,
                   exclude_keys: Collection[str] = ()) -> Attempt:
    """Start a practice attempt; the same start_token returns the same attempt. Its
    questions are never contest reserve ones nor ones with a key in `exclude_keys`
    (see draw_questions); the views start practice through services.contests.sealing.

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


def insert_round_attempt(attempt: Attempt) -> bool:
    """Store a new round attempt (questions frozen) in a savepoint, then send
    `hooks.attempt_started` (the branch's started counter). False, having stored
    nothing, when a unique index refused it: a concurrent start of the same member
    (a double click on two workers) won the race."""
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        return False
    hooks.send(hooks.attempt_started, attempt)
    db.session.flush()
    return True
