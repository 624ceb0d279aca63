"""The quiz page, its form and its JSON name a choice by a per-attempt token
(quizapp.services.choice_tokens), not by its database id: tests that post answers or
read them back from a page convert with these (inside the app context)."""
from __future__ import annotations

from quizapp.services import choice_tokens


def tokens_of(item, choice_ids) -> list[int]:
    """The tokens of `choice_ids` for an AttemptQuestion, in the same order."""
    return choice_tokens.tokens(item.attempt_id, item.question_id, list(choice_ids))


def token_of(item, choice_id: int) -> int:
    return tokens_of(item, [choice_id])[0]


def ids_of(item, tokens) -> list[int]:
    """The choice ids the tokens of an AttemptQuestion stand for, in the same order."""
    return choice_tokens.choice_ids(item.attempt_id, item.question_id, [int(t) for t in tokens])
