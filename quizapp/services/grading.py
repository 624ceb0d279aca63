"""Question kinds: the one registry that grading, the editor's forms, the file formats
and the exports share.

A kind says how many choices the member may pick, its fixed choices (true/false), how
many choices an author may give, and how an answer is graded. Grading returns a credit,
an integer percent 0..100, so scores stay exact: a classic question earns 100 or 0.

Partial credit follows Moodle. A choice may carry a `fraction` (a share of the
question's mark, -1..1). On a single-answer question the one picked choice earns its
fraction (a negative one earns 0). On a multiple-answer question every picked choice
adds its fraction and the total is clamped to 0..1, so picking everything never earns
more than the right picks: wrong options carry a negative fraction. A question whose
choices carry no fraction is classic: right only when the pick is exactly the key.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Mapping

from flask_babel import lazy_gettext as _l

FULL = 100  # the credit of a fully right answer, in percent

# (right choice ids, selected ids, fraction per choice id or None for classic) → credit %
Grader = Callable[[set[int], set[int], "Mapping[int, float] | None"], int]

TRUE_FALSE_TEXTS = ("Đúng", "Sai")
MAX_CHOICES = 20


def _percent(value: Fraction) -> int:
    """A share of the mark as an integer percent, clamped to 0..100, rounded half up
    (Moodle's 33.33333 % ×3 is a full mark)."""
    value = min(Fraction(1), max(Fraction(0), value))
    return int(value * FULL + Fraction(1, 2))


def exact_fraction(value: float) -> Fraction:
    """A stored fraction as an exact rational (0.1 is one tenth, not a binary float)."""
    return Fraction(Decimal(repr(float(value))))


def fraction_to_credit(fraction: float) -> str:
    """Moodle's fraction as the percent written in files and pages: 0.5 → "50",
    0.3333333 → "33.33333"."""
    text = f"{Decimal(repr(float(fraction))) * 100:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _one_of(correct: set[int], selected: set[int], fractions: Mapping[int, float] | None) -> int:
    if len(selected) != 1:
        return 0
    if fractions:
        (picked,) = selected
        return _percent(exact_fraction(fractions.get(picked) or 0))
    return FULL if selected == correct else 0


def _weighted(correct: set[int], selected: set[int], fractions: Mapping[int, float] | None) -> int:
    if not selected:
        return 0
    if fractions:
        return _percent(sum((exact_fraction(fractions.get(c) or 0) for c in selected), Fraction(0)))
    return FULL if selected == correct else 0


@dataclass(frozen=True)
class Kind:
    name: str
    label: object  # lazy gettext string
    selects_many: bool
    grader: Grader
    fixed_choices: tuple[str, ...] | None = None
    min_choices: int = 2
    max_choices: int = MAX_CHOICES

    @property
    def partial_credit(self) -> bool:
        """Whether choices of this kind may carry fractions."""
        return self.fixed_choices is None


REGISTRY: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("single", _l("One right answer"), False, _one_of),
    Kind("multiple", _l("Several right answers"), True, _weighted),
    Kind("truefalse", _l("True / false"), False, _one_of, fixed_choices=TRUE_FALSE_TEXTS,
         max_choices=2),
)}

# Name → grader, and which kinds take several picks (kept for callers that ask only that).
KINDS: dict[str, Grader] = {name: kind.grader for name, kind in REGISTRY.items()}
SELECTS_MANY = {name: kind.selects_many for name, kind in REGISTRY.items()}


def kind(name: str) -> Kind:
    return REGISTRY[name]


def kind_choices() -> list[tuple[str, object]]:
    """(name, label) for a select field."""
    return [(k.name, k.label) for k in REGISTRY.values()]


def selects_many(name: str) -> bool:
    return REGISTRY[name].selects_many


def is_fixed(name: str) -> bool:
    return REGISTRY[name].fixed_choices is not None


def choice_fractions(choices) -> dict[int, float] | None:
    """{choice id: fraction} of loaded choices when the question has partial credit,
    else None (classic)."""
    if all(c.fraction is None for c in choices):
        return None
    return {c.id: c.fraction or 0.0 for c in choices}


def points_value(points: int | None) -> int | float | None:
    """Points (hundredths of a question) as a number of questions for a spreadsheet cell:
    750 → 7.5, 700 → 7 (a whole number stays an integer)."""
    if points is None:
        return None
    whole, rest = divmod(points, 100)
    return whole if rest == 0 else round(points / 100, 2)


def points_text(points: int | None) -> str:
    """Points as a person reads them, with the Vietnamese decimal comma: 750 → "7,5",
    725 → "7,25", 700 → "7"; None → "—"."""
    value = points_value(points)
    if value is None:
        return "—"
    return str(value) if isinstance(value, int) else f"{value:.2f}".rstrip("0").replace(".", ",")


def average_text(value: float | None) -> str:
    """An average number of questions (a branch's points per participant) as pages and
    the report print it: two decimals, the Vietnamese decimal comma: 5.25 → "5,25";
    None → "—". The same comma as points_text, for every score a person reads."""
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


def credit(kind_name: str, correct: set[int], selected: set[int],
           fractions: Mapping[int, float] | None = None) -> int:
    """The credit in percent 0..100 of `selected`. `fractions`: per choice id, for a
    question with partial credit (None or empty: classic right/wrong by `correct`)."""
    return REGISTRY[kind_name].grader(correct, selected, fractions or None)


def grade(kind_name: str, correct: set[int], selected: set[int],
          fractions: Mapping[int, float] | None = None) -> bool:
    """Whether the answer earns full credit."""
    return credit(kind_name, correct, selected, fractions) == FULL


def check_fractions(kind_name: str, fractions: list[float | None]) -> str | None:
    """Why these per-choice fractions cannot grade a question of this kind, or None.
    All None is classic; otherwise every choice carries one (None counts as 0)."""
    if all(f is None for f in fractions):
        return None
    spec = REGISTRY[kind_name]
    if not spec.partial_credit:
        return "fixed"
    values = [exact_fraction(f or 0) for f in fractions]
    if any(not -1 <= v <= 1 for v in values):
        return "range"
    if not spec.selects_many:
        return None if any(v == 1 for v in values) else "no-full"
    positive = sum((v for v in values if v > 0), Fraction(0))
    return None if abs(positive - 1) < Fraction(1, 1000) else "sum"


def is_correct_choice(kind_name: str, fraction: float | None, correct: bool) -> bool:
    """`correct` as the contract means it: fraction 1 on a single-answer question, a
    positive fraction on a multiple-answer one; the flag itself when classic."""
    if fraction is None:
        return correct
    if REGISTRY[kind_name].selects_many:
        return fraction > 0
    return exact_fraction(fraction) == 1
