"""Branches: rosters (roster), the maintained per-branch counters and their
recomputation (counters), standings, the emulation index, branch pages and collective
prizes (standings), and the files organizers and secretaries download (reports,
exports). Reads contests' round state and rankings; contests and attempts reach the
counters only through the hooks connected here.

Its public surface is these modules, imported from here:
`from quizapp.services.branches import counters, standings, roster, reports, exports`.
"""
from .. import attempts, contests, learning
from . import counters, exports, paper_forms, propagation, reports, roster, standings


def connect_hooks() -> None:
    """Keep the counters in step with the engine: a round attempt started or finished
    (attempts.hooks), a round's results rebuilt after a correction or its period moved
    (contests.hooks), a daily review answer stored (learning.hooks).
    Called once by create_app; calling it again changes nothing."""
    attempts.hooks.attempt_started.connect(counters.after_start, weak=False)
    attempts.hooks.attempt_finished.connect(counters.after_finish, weak=False)
    contests.hooks.results_rebuilt.connect(counters.rebuild_round, weak=False)
    contests.hooks.results_rebuild_coming.connect(counters.lock_counters, weak=False)
    learning.hooks.review_answered.connect(counters.after_review, weak=False)


__all__ = ["connect_hooks", "counters", "exports", "paper_forms", "propagation", "reports", "roster", "standings"]
