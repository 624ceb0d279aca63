"""JSON endpoints used by the quiz page's script (autosave, immediate check).

Each takes {"question_id": int, "choice_ids": [int, ...]} with the CSRF token in the
X-CSRFToken header. Unknown keys in the body are ignored (no mass assignment). The
"choice ids" of this API are the attempt's choice tokens, the option values of the
quiz page (services.attempts.choice_tokens), never database ids: they are mapped back here, and
every answer this API returns is in tokens, sorted by token.
"""
from flask import Blueprint, g, jsonify, request
from flask_login import current_user, login_required

from ..auth.session import session_identity
from ..errors import discard_session
from ..extensions import login_manager
from ..services import attempts, contests
from ..services.attempts import choice_tokens
from ..services.contests import answer_key, sealing
from ..services.errors import DomainError
from .openapi import spec

bp = Blueprint("api", __name__, url_prefix="/api")


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


def _payload(attempt_id: int) -> tuple[int, list[int]]:
    """(question id, choice ids) from the body, the tokens mapped back to choice ids."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("Expected a JSON object.")
    question_id = data.get("question_id")
    choice_ids = data.get("choice_ids", [])
    if not _is_id(question_id) or not isinstance(choice_ids, list) \
            or not all(_is_id(c) for c in choice_ids) or len(choice_ids) > 20:
        raise DomainError("question_id must be an integer and choice_ids a list of integers.")
    return question_id, choice_tokens.choice_ids(attempt_id, question_id, choice_ids)


def _tokens(attempt_id: int, question_id: int, choice_ids) -> list[int]:
    # Sorted by token, not by id: the order of ids would follow the author's order.
    return sorted(choice_tokens.tokens(attempt_id, question_id, choice_ids))


def _is_id(value) -> bool:
    """A whole number a database id column can hold (larger ones would be a database
    error on PostgreSQL, not a 400)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2 ** 31 - 1


@bp.post("/attempts/<int:attempt_id>/answers")
def save_answer(attempt_id: int):
    """Autosave. The common case (attempts.autosave) checks the login inside the save's
    own query instead of loading the user first; everything else takes the general path
    with @login_required's rules and the member's message."""
    identity = session_identity()
    try:
        question_id, choice_ids = _payload(attempt_id)
        seq, client = _seq(), _client()
    except DomainError as exc:
        bad_body = exc  # judged after the login and the attempt, as @login_required would
    else:
        bad_body = None
        if identity is not None:
            outcome = attempts.autosave(identity[0], identity[1], attempt_id, question_id,
                                        choice_ids, seq=seq, client=client)
            if outcome is not None:
                g.log_user_id = identity[0]
                return jsonify(saved=True, question_id=question_id,
                               choice_ids=_tokens(attempt_id, question_id, outcome.choice_ids),
                               seconds_left=outcome.seconds_left)
    if not current_user.is_authenticated:
        discard_session()
        return login_manager.unauthorized()
    attempt = attempts.get_own_attempt(current_user, attempt_id)
    if bad_body is not None:
        raise bad_body
    item = attempts.save_answer(attempt, question_id, choice_ids, seq=seq, client=client)
    # Built before the commit: reading the rows afterwards would reload them. "saved" is
    # false when the save was an older one from this page (the stored answer is newer).
    payload = dict(saved=not getattr(item, "ignored", False), question_id=question_id,
                   choice_ids=_tokens(attempt.id, question_id, item.selected_ids),
                   seconds_left=attempt.seconds_left())
    return jsonify(**payload)


@bp.post("/attempts/<int:attempt_id>/check")
@login_required
def check_answer(attempt_id: int):
    attempt = attempts.get_own_attempt(current_user, attempt_id)
    question_id, choice_ids = _payload(attempt_id)
    item = sealing.check_answer(attempt, question_id, choice_ids)
    question = item.question
    right = answer_key([question_id], attempt.round_id, questions=[question])[question_id]
    return jsonify(
        question_id=question_id, is_correct=item.is_correct,
        correct_choice_ids=_tokens(attempt_id, question_id, right or ()),
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
    return jsonify(saved=True, prediction=attempt.prediction)


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt_state(attempt_id: int):
    attempt = attempts.get_own_attempt(current_user, attempt_id)
    return jsonify(id=attempt.id, status=attempt.status, seconds_left=attempt.seconds_left(),
                   answered=sum(1 for i in attempt.items if i.selected))


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())
