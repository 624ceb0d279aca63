from __future__ import annotations

from dataclasses import dataclass, field

from flask import Request
from flask_babel import gettext as _

from ..forms import Form
from ..services import choice_tokens
from ..services.errors import DomainError


class AnswersForm(Form):
    """The whole quiz as one form (works without JavaScript). The answer fields are
    named q-<question_id> and are read by `answers_from`, since their number varies;
    the pressed button arrives as action=save|submit or check=<question_id>."""


@dataclass
class PostedAnswers:
    """What one post of the quiz form says, in choice ids.

    `answers`: every question's selection as posted. `changed`: only those the page
    changed, i.e. that differ from the `base-q-<id>` field (what the page showed as
    saved, moved on by the script with each autosave); a post without that field (an
    older page) counts every question as changed. `seqs`: the script's sequence number
    of each change, `client`: the page's id — the autosave's ordering rule."""
    answers: dict[int, list[int]] = field(default_factory=dict)
    changed: dict[int, list[int]] = field(default_factory=dict)
    seqs: dict[int, int] = field(default_factory=dict)
    client: str | None = None


def _ints(raw: list[str]) -> list[int]:
    try:
        return [int(v) for v in raw if v != ""]
    except ValueError:
        raise DomainError(_("That choice is not part of this question.")) from None


def answers_from(request: Request, attempt_id: int, question_ids: list[int]) -> PostedAnswers:
    """Read the quiz form: option values are the attempt's choice tokens, mapped back
    to choice ids here. A value that is not a token is a DomainError (400)."""
    posted = PostedAnswers()
    form = request.form
    client = form.get("client", "").strip()
    if client:
        if not client.isascii() or not client.isalnum() or len(client) > 32:
            raise DomainError(_("Invalid page id."))
        posted.client = client
    for qid in question_ids:
        chosen = choice_tokens.choice_ids(attempt_id, qid, _ints(form.getlist(f"q-{qid}")))
        posted.answers[qid] = chosen
        base = form.get(f"base-q-{qid}")
        if base is not None:
            shown = choice_tokens.choice_ids(attempt_id, qid, _ints(base.split(",")))
            if set(shown) == set(chosen):
                continue  # not changed on this page: what is saved stays as it is
        posted.changed[qid] = chosen
        seq = form.get(f"seq-q-{qid}", "").strip()
        if seq:
            if not seq.isdigit() or int(seq) >= 2 ** 62:
                raise DomainError(_("Invalid sequence number."))
            posted.seqs[qid] = int(seq)
    return posted
