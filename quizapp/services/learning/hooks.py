"""Where the daily review calls out of itself, connected once at app start
(create_app → branches.connect_hooks), so that learning imports no branch module.

- `review_answered`: sent with the ReviewLog of a counted review answer once it is
  stored, in the caller's transaction. branches.counters connects `after_review` (the
  review figure of the emulation index).
"""
from __future__ import annotations

from blinker import Namespace

from ..attempts.hooks import HookMissing

_signals = Namespace()
review_answered = _signals.signal("review-answered")


def send(signal, log) -> None:
    """Send `signal` with a review log; HookMissing when nobody listens (the branch
    review counters would silently fall behind)."""
    if not signal.receivers:
        raise HookMissing(f"Nothing connected to {signal.name}: branches.connect_hooks() "
                          "was not called.")
    signal.send(log)
