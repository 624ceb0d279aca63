"""The timed quiz engine — start, save, submit, finish, grade, close overdue — for
practice and for contest rounds alike. It knows nothing of contests: a round
attempt's answer key and what follows its finish come through `hooks`, connected at
app start by contests and branches.

Modules: freeze (draw and freeze questions, start practice), state (access, grace,
the attempt's lock), submit (save answers, the immediate check, submit), autosave
(the one-statement autosave), page (the quiz page's questions as rows), finish (finish, grading, the sweeper), choice_tokens
(what the page shows instead of choice ids), hooks. Callers import from here.
"""
from . import choice_tokens, hooks
from .autosave import Autosaved, autosave
from .finish import (bank_key, close_overdue, ensure_open, expire_if_overdue, finish,
                     hold_round_grading, key_for, overdue_cutoff, overdue_ids, regrade,
                     regrade_round_attempts)
from .freeze import (FEEDBACK_MODES, ChoiceOrders, NoQuestions, PracticeSpec, draw_questions,
                     freeze, freeze_orders, insert_round_attempt, section_subtree_ids, start_practice)
from .page import PageItem, own_attempt_page
from .state import get_own_attempt, grace
from .submit import check_answer, save_answer, save_answers, submit

__all__ = [
    "Autosaved", "ChoiceOrders", "FEEDBACK_MODES", "NoQuestions", "PracticeSpec", "autosave", "bank_key",
    "check_answer", "choice_tokens", "close_overdue", "draw_questions", "ensure_open",
    "expire_if_overdue", "finish", "freeze", "freeze_orders", "get_own_attempt", "grace", "hold_round_grading", "hooks",
    "insert_round_attempt", "key_for", "overdue_cutoff", "overdue_ids", "PageItem", "own_attempt_page", "regrade", "regrade_round_attempts", "save_answer", "save_answers",
    "section_subtree_ids", "start_practice", "submit",
]
