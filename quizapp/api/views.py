"""JSON endpoints used by the quiz page's script (autosave, immediate check).

Each takes {"question_id": int, "choice_ids": [int, ...]} with the CSRF token in the
X-CSRFToken header. Unknown keys in the body are ignored (no mass assignment).
"""
from flask import jsonify, request
from flask_login import current_user, login_required

from ..extensions import db
from ..services import attempts
from ..services import contest as contests
from ..services.errors import DomainError
from . import bp


def _seq() -> int | None:
    data = request.get_json(silent=True)
    seq = data.get("seq") if isinstance(data, dict) else None
    if seq is None:
        return None
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2 ** 62:
        raise DomainError("seq must be a non-negative integer.")
    return seq


def _client() -> str | None:
    data = request.get_json(silent=True)
    client = data.get("client") if isinstance(data, dict) else None
    if client is None:
        return None
    if not isinstance(client, str) or not client.isascii() or not client.isalnum() or len(client) > 32:
        raise DomainError("client must be up to 32 letters and digits.")
    return client


def _payload() -> tuple[int, list[int]]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("Expected a JSON object.")
    question_id = data.get("question_id")
    choice_ids = data.get("choice_ids", [])
    if not isinstance(question_id, int) or isinstance(question_id, bool) \
            or not isinstance(choice_ids, list) \
            or not all(isinstance(c, int) and not isinstance(c, bool) for c in choice_ids) \
            or len(choice_ids) > 20:
        raise DomainError("question_id must be an integer and choice_ids a list of integers.")
    return question_id, choice_ids


@bp.post("/attempts/<int:attempt_id>/answers")
@login_required
def save_answer(attempt_id: int):
    attempt = attempts.get_own_attempt(current_user, attempt_id)
    question_id, choice_ids = _payload()
    item = attempts.save_answer(attempt, question_id, choice_ids, seq=_seq(), client=_client())
    # Built before the commit: reading the rows afterwards would reload them. "saved" is
    # false when the save was an older one from this page (the stored answer is newer).
    payload = dict(saved=not getattr(item, "ignored", False), question_id=question_id,
                   choice_ids=sorted(item.selected_ids), seconds_left=attempt.seconds_left())
    db.session.commit()
    return jsonify(**payload)


@bp.post("/attempts/<int:attempt_id>/check")
@login_required
def check_answer(attempt_id: int):
    attempt = attempts.get_own_attempt(current_user, attempt_id)
    question_id, choice_ids = _payload()
    item = attempts.check_answer(attempt, question_id, choice_ids)
    db.session.commit()
    question = item.question
    return jsonify(
        question_id=question_id, is_correct=item.is_correct,
        correct_choice_ids=[c.id for c in question.choices if c.is_correct],
        explanation=question.explanation, section_title=question.section.title,
        section_url=f"/outline/{question.section.key}")


@bp.post("/attempts/<int:attempt_id>/prediction")
@login_required
def save_prediction(attempt_id: int):
    """{"prediction": int | null}: the contest tie-break, editable until submit."""
    attempt = attempts.get_own_attempt(current_user, attempt_id)
    data = request.get_json(silent=True)
    value = data.get("prediction") if isinstance(data, dict) else "invalid"
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise DomainError("prediction must be an integer or null.")
    attempts.ensure_open(attempt)
    contests.set_prediction(attempt, value)
    db.session.commit()
    return jsonify(saved=True, prediction=attempt.prediction)


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt_state(attempt_id: int):
    attempt = attempts.get_own_attempt(current_user, attempt_id)
    return jsonify(id=attempt.id, status=attempt.status, seconds_left=attempt.seconds_left(),
                   answered=sum(1 for i in attempt.items if i.selected))


@bp.get("/openapi.json")
def openapi():
    from .openapi import spec
    return jsonify(spec())
