"""Helpers shared by the meeting-mode tests: pick questions, name choices by the
session's tokens, answer right or wrong."""
from __future__ import annotations

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import MeetingQuestion, Question
from quizapp.services import choice_tokens
from quizapp.services.learning import meeting


def single_keys(n: int) -> list[str]:
    """Keys of `n` approved, current, non-reserve single-choice questions."""
    return list(db.session.execute(select(Question.key).where(
        Question.kind == "single", Question.status == "approved", Question.is_current.is_(True),
        Question.reserve.is_(False)).order_by(Question.id).limit(n)).scalars())


def current(session) -> MeetingQuestion:
    return db.session.get(MeetingQuestion, session.current_id)


def token(session, mq: MeetingQuestion, right: bool) -> int:
    question = db.session.get(Question, mq.question_id)
    choice = next(c for c in question.choices if c.is_correct == right)
    return choice_tokens.token(-session.id, question.id, choice.id)


def answer(session, player, right: bool, now=None):
    mq = current(session)
    return meeting.answer(session, player, mq.id, [token(session, mq, right)], now=now)
