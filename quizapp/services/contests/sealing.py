"""Answer keys sealed while a contest round is scheduled or open.

The rule: while a round is scheduled or open, a question a member could meet in it is
not a practice resource, and no feedback, check or review path shows its key (nor
whether an answer to it was right) to anyone until the round closes. Organizers read
the bank in the editor; nothing here concerns them.

A member "could meet" a question when it is in the round's pool — what its draw plan
can draw (`draw_plan.pool_ids`, the reserve only for a reserve round) — or already
frozen into one of the round's attempts (a question retired or re-versioned since the
draw). Sealing goes by question key, so every version of a question is sealed with it.

Contest reserve questions (Question.reserve) are never drawn into practice at all, so a
round that draws from the reserve only takes nothing away from practice; a round that
draws from the whole bank seals its sections' practice questions until it closes, and
the practice page says so (`practice_notice`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...clock import utcnow
from ...extensions import db
from ...models import Attempt, AttemptQuestion, Question, Round, Section, User
from .. import attempts
from ..attempts import NoQuestions, PracticeSpec
from ..errors import Conflict, DomainError
from . import draw_plan
from .state import round_state

SEALING_STATES = ("scheduled", "open")


class KeySealed(Conflict):
    """A check of a question whose key is sealed. The request's other work (the answers
    a plain form saved with it) is kept."""

    commit = True


def sealing_rounds(now: datetime | None = None) -> list[Round]:
    """Rounds that are scheduled or open now, soonest closing first."""
    now = now or utcnow()
    candidates = db.session.execute(select(Round).where(
        Round.scheduled_at.is_not(None), Round.finalized_at.is_(None), Round.closes_at > now)
        .order_by(Round.closes_at, Round.id)).scalars()
    return [r for r in candidates if round_state(r, now) in SEALING_STATES]


def _round_pool(round_: Round) -> set[int]:
    rules, errors = draw_plan.parse(round_.draw_plan)
    # A plan that no longer parses draws from what its valid lines name; sealing the
    # whole pool is the safe reading of it.
    return draw_plan.pool_ids([] if errors else rules, round_.question_pool or "all")


def sealed_keys(now: datetime | None = None) -> frozenset[str]:
    """Keys of every question whose answer is sealed now (see the module's rule). A few
    queries per sealing round; one when no round is scheduled or open."""
    rounds = sealing_rounds(now)
    if not rounds:
        return frozenset()
    ids: set[int] = set()
    for round_ in rounds:
        ids |= _round_pool(round_)
    keys = set(db.session.execute(select(Question.key).where(Question.id.in_(ids))).scalars()) \
        if ids else set()
    # Frozen questions that have left the pool since the draw (retired, re-versioned,
    # un-reserved): asked per question outside the pool, each an indexed EXISTS, not a
    # scan of the round's answer rows (5,000 attempts × 20: 110-170 ms on SQLite).
    frozen = select(AttemptQuestion.id).join(Attempt, Attempt.id == AttemptQuestion.attempt_id) \
        .where(AttemptQuestion.question_id == Question.id,
               Attempt.round_id.in_([r.id for r in rounds]))
    outside = select(Question.key).where(frozen.exists())
    if ids:
        outside = outside.where(Question.id.not_in(ids))
    keys.update(db.session.execute(outside).scalars())
    return frozenset(keys)


def sealed_in(attempt: Attempt, keys: frozenset[str] | None = None) -> set[int]:
    """Question ids of the attempt's items whose key is sealed now."""
    keys = sealed_keys() if keys is None else keys
    if not keys:
        return set()
    return {item.question_id for item in attempt.items if item.question.key in keys}


def sealed_among(keys_by_question: dict[int, str], keys: frozenset[str] | None = None) -> set[int]:
    """The ids of these questions (question id → bank key) whose key is sealed now."""
    keys = sealed_keys() if keys is None else keys
    if not keys:
        return set()
    return {qid for qid, key in keys_by_question.items() if key in keys}


def practice_attempts_holding(attempt_ids: list[int], keys: frozenset[str]) -> set[int]:
    """Which of these practice attempts hold a question whose key is sealed: their score
    would tell how those answers went, so pages show none until the round closes."""
    if not keys or not attempt_ids:
        return set()
    return set(db.session.execute(
        select(Attempt.id).distinct()
        .join(AttemptQuestion, AttemptQuestion.attempt_id == Attempt.id)
        .join(Question, Question.id == AttemptQuestion.question_id)
        .where(Attempt.id.in_(attempt_ids), Attempt.kind == "practice",
               Question.key.in_(list(keys)))).scalars())


# ---------------------------------------------------------------- practice

def _explain(exc: NoQuestions, sealed: frozenset[str]) -> DomainError:
    if not sealed:
        return exc
    return NoQuestions(_("The questions you chose are kept for a contest round that is open "
                         "or scheduled. Practise other sections, or come back after the round "
                         "closes."))


def start_practice(user: User, spec: PracticeSpec, start_token: str | None = None,
                   question_ids: list[int] | None = None) -> Attempt:
    """A practice attempt without reserve questions nor any question whose key is sealed
    (attempts.start_practice does the drawing). Raises NoQuestions, saying why when
    sealing emptied the choice."""
    sealed = sealed_keys()
    try:
        return attempts.start_practice(user, spec, start_token=start_token,
                                       question_ids=question_ids, exclude_keys=sealed)
    except NoQuestions as exc:
        raise _explain(exc, sealed) from None


def check_answer(attempt: Attempt, question_id: int, choice_ids: list[int]) -> AttemptQuestion:
    """attempts.check_answer, refused with KeySealed for a question whose key is sealed
    (a practice started before the round was scheduled may hold one)."""
    if attempt.kind == "practice" and attempt.feedback == "immediate":
        key = db.session.scalar(select(Question.key).join(
            AttemptQuestion, AttemptQuestion.question_id == Question.id).where(
            AttemptQuestion.attempt_id == attempt.id, AttemptQuestion.question_id == question_id))
        if key is not None and key in sealed_keys():
            raise KeySealed(sealed_message())
    return attempts.check_answer(attempt, question_id, choice_ids)


def sealed_message() -> str:
    return _("This question may appear in a contest round that is open or scheduled: its "
             "answer is shown after the round closes.")


@dataclass
class SectionShortfall:
    section: Section
    available: int
    total: int


@dataclass
class PracticeNotice:
    """Why practice has fewer questions now: the rounds that seal keys and, per section,
    its practice questions available now out of all of them."""
    rounds: list[Round] = field(default_factory=list)
    sections: list[SectionShortfall] = field(default_factory=list)

    def available_by_section(self) -> dict[int, int]:
        """section id → practice questions available now, for the sections held back."""
        return {s.section.id: s.available for s in self.sections}


def practice_notice(now: datetime | None = None) -> PracticeNotice:
    """The rounds sealing keys now and the sections whose practice questions they hold
    back (own questions of each section, outline order). Empty when nothing is sealed."""
    rounds = sealing_rounds(now)
    notice = PracticeNotice(rounds=rounds)
    if not rounds:
        return notice
    keys = sealed_keys(now)
    practice = (Question.is_current.is_(True), Question.status == "approved",
                Question.reserve.is_(False))
    totals = dict(db.session.execute(select(Question.section_id, func.count())
                                     .where(*practice).group_by(Question.section_id)).all())
    held = dict(db.session.execute(select(Question.section_id, func.count())
                                   .where(*practice, Question.key.in_(keys))
                                   .group_by(Question.section_id)).all()) if keys else {}
    for section in db.session.execute(select(Section).where(Section.id.in_(list(held)))
                                      .order_by(Section.position)).scalars():
        total = totals.get(section.id, 0)
        notice.sections.append(SectionShortfall(section, total - held[section.id], total))
    return notice
