"""Where the attempts package calls out of itself, connected once at app start
(create_app → contests.connect_hooks and branches.connect_hooks), so that attempts
imports no contest and no branch module and the finish step reaches the branch counters
through one explicit hook, not through a chain of pass-throughs.

- `attempt_started` and `attempt_finished`: sent with a round attempt (one with a
  `round_id`) once it is stored, and once it is finished and graded, in the caller's
  transaction. branches.counters connects its `after_start` and `after_finish`.
- `round_answer_key`: the one function that says the right answers of a round's
  questions after the round's corrections; contests.answer_key provides it. A round
  attempt is never graded without it, and never finished unheard: both raise
  HookMissing when nothing is connected.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from blinker import Namespace

from ...models import Question

_signals = Namespace()
attempt_started = _signals.signal("attempt-started")
attempt_finished = _signals.signal("attempt-finished")

# question id -> the right choice ids, or None when the question was voided (it then
# counts for nobody and leaves the maximum score).
AnswerKey = dict[int, "set[int] | None"]
RoundKeySource = Callable[..., AnswerKey]

_round_key: RoundKeySource | None = None


class HookMissing(RuntimeError):
    """A round attempt reached a step whose hook was not connected at app start."""


def provide_round_answer_key(source: RoundKeySource) -> None:
    """Set the round answer key source: source(question_ids, round_id, questions=...,
    token=...)."""
    global _round_key
    _round_key = source


def round_answer_key(question_ids: Iterable[int], round_id: int, *,
                     questions: Iterable[Question] = (), token: str | None = None) -> AnswerKey:
    """`token`: the bank's revision read in this transaction (the keys cached for it)."""
    if _round_key is None:
        raise HookMissing("No round answer key: contests.connect_hooks() was not called.")
    return _round_key(question_ids, round_id, questions=questions, token=token)


def send(signal, attempt) -> None:
    """Send `signal` for a round attempt; HookMissing when nobody listens (the branch
    counters would silently fall behind)."""
    if not signal.receivers:
        raise HookMissing(f"Nothing connected to {signal.name}: branches.connect_hooks() "
                          "was not called.")
    signal.send(attempt)
