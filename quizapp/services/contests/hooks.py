"""Where contests calls out of itself, connected at app start by branches
(branches.connect_hooks), so that contests imports no branch module.

- `results_rebuilt`: sent with a round whose finished attempts were graded again (a
  correction) or whose counting results are to be rebuilt from its attempts; the
  branch counters rebuild the round's counting results and counters in the caller's
  transaction. HookMissing when nothing listens.
- `results_rebuild_coming`: sent before a step that will send `results_rebuilt` writes
  anything (a correction, a move of an open round's close): the branch counters lock
  their tables for the rest of the transaction, so no finish committing before the
  rebuild is left out of it.
"""
from __future__ import annotations

from blinker import Namespace

from ..attempts.hooks import HookMissing

_signals = Namespace()
results_rebuilt = _signals.signal("round-results-rebuilt")
results_rebuild_coming = _signals.signal("round-results-rebuild-coming")


def send(signal, round_) -> None:
    if not signal.receivers:
        raise HookMissing(f"Nothing connected to {signal.name}: branches.connect_hooks() "
                          "was not called.")
    signal.send(round_)
