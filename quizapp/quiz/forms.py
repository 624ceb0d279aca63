from flask import Request
from flask_wtf import FlaskForm

from ..services.errors import DomainError


class AnswersForm(FlaskForm):
    """The whole quiz as one form (works without JavaScript). The answer fields are
    named q-<question_id> and are read by `answers_from`, since their number varies;
    the pressed button arrives as action=save|submit or check=<question_id>."""


def answers_from(request: Request, question_ids: list[int]) -> dict[int, list[int]]:
    """{question_id: [choice ids]} for every question of the attempt; a question left
    blank maps to []. A non-numeric value is a DomainError (400)."""
    out: dict[int, list[int]] = {}
    for qid in question_ids:
        raw = request.form.getlist(f"q-{qid}")
        try:
            out[qid] = [int(v) for v in raw]
        except ValueError:
            raise DomainError("Invalid choice.") from None
    return out
