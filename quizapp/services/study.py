"""What a member sees of their own study: the outline, their attempts, weak sections,
their mistakes."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select

from ..extensions import db
from ..models import Attempt, AttemptQuestion, Question, Round, Section, User
from ..models.attempts import FINISHED
from .contests import results_visible_to


def hidden_round_ids() -> list[int]:
    """Rounds whose results members may not see yet: their attempts must not leak
    scores or right answers through the study pages."""
    # As any member sees them (viewer None): these pages show a member's own attempts.
    return [r.id for r in db.session.execute(select(Round)).scalars()
            if not results_visible_to(r, None)]


def _visible(hidden: list[int]):
    if not hidden:
        return Attempt.id.is_not(None)
    return or_(Attempt.round_id.is_(None), Attempt.round_id.not_in(hidden))


def outline_sections() -> list[Section]:
    """All sections in outline order (position), parents before children."""
    return list(db.session.execute(select(Section).order_by(Section.position)).scalars())


def approved_counts() -> dict[int, int]:
    """Approved current questions per section id (own questions, not the subtree)."""
    return dict(db.session.execute(
        select(Question.section_id, func.count()).where(
            Question.is_current.is_(True), Question.status == "approved")
        .group_by(Question.section_id)).all())


@dataclass
class SectionScore:
    key: str
    title: str
    answered: int
    correct: int

    @property
    def rate(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def section_scores(user: User, exclude_keys: Collection[str] = ()) -> list[SectionScore]:
    """Per section, how many of the member's graded answers were right; weakest first
    (lowest rate, then most answered, then outline order). One grouped query. Answers to
    questions with a key in `exclude_keys` (sealed by a contest round, services.contests.sealing)
    are left out: a section's change would tell how such an answer went."""
    correct = func.sum(case((AttemptQuestion.is_correct.is_(True), 1), else_=0))
    rows = db.session.execute(
        select(Section.key, Section.title, Section.position, func.count(AttemptQuestion.id), correct)
        .select_from(AttemptQuestion)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .join(Question, Question.id == AttemptQuestion.question_id)
        .join(Section, Section.id == Question.section_id)
        .where(Attempt.user_id == user.id, Attempt.status == FINISHED,
               AttemptQuestion.is_correct.is_not(None), _visible(hidden_round_ids()),
               *_not_sealed(exclude_keys))
        .group_by(Section.key, Section.title, Section.position)).all()
    scores = [(SectionScore(key, title, int(n), int(c or 0)), position)
              for key, title, position, n, c in rows]
    scores.sort(key=lambda pair: (pair[0].rate, -pair[0].answered, pair[1]))
    return [score for score, _ in scores]


def recent_attempts(user: User, limit: int = 20) -> list[Attempt]:
    return list(db.session.execute(select(Attempt).where(Attempt.user_id == user.id)
                                   .order_by(Attempt.started_at.desc(), Attempt.id.desc())
                                   .limit(limit)).scalars())


def _not_sealed(exclude_keys: Collection[str]) -> list:
    return [Question.key.not_in(list(exclude_keys))] if exclude_keys else []


def mistake_question_ids(user: User, exclude_keys: Collection[str] = ()) -> list[int]:
    """Current, approved versions of the questions whose latest graded answer by this
    member was wrong (none with a key in `exclude_keys`: see section_scores)."""
    rows = db.session.execute(
        select(Question.key, AttemptQuestion.is_correct)
        .select_from(AttemptQuestion)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .join(Question, Question.id == AttemptQuestion.question_id)
        .where(Attempt.user_id == user.id, AttemptQuestion.is_correct.is_not(None),
               _visible(hidden_round_ids()), *_not_sealed(exclude_keys))
        .order_by(Attempt.finished_at, AttemptQuestion.id)).all()
    latest: dict[str, bool] = {}
    for key, is_correct in rows:
        latest[key] = bool(is_correct)
    wrong_keys = [key for key, ok in latest.items() if not ok]
    if not wrong_keys:
        return []
    return list(db.session.execute(select(Question.id).where(
        Question.key.in_(wrong_keys), Question.is_current.is_(True),
        Question.status == "approved")).scalars())
