"""Question kinds: a registry of pure grading functions.

Each function takes the set of right choice ids and the set the member selected and
says whether the answer is right. No partial credit: a multiple-choice answer is right
only when it names exactly the right choices.
"""
from __future__ import annotations

from typing import Callable

Grader = Callable[[set[int], set[int]], bool]


def _exact(correct: set[int], selected: set[int]) -> bool:
    return bool(selected) and selected == correct


def _one_of(correct: set[int], selected: set[int]) -> bool:
    return len(selected) == 1 and selected == correct


KINDS: dict[str, Grader] = {
    "single": _one_of,
    "multiple": _exact,
    "truefalse": _one_of,
}

# How many choices the member may pick, per kind.
SELECTS_MANY = {"single": False, "multiple": True, "truefalse": False}


def grade(kind: str, correct: set[int], selected: set[int]) -> bool:
    return KINDS[kind](correct, selected)
