"""Figures in item values ("10,5% - 11%", "11 dự án", "19/8/2025"): parsing, Vietnamese
rendering and plausible wrong values."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .text import DASHES

NUM_RE = re.compile(r"\d{1,3}(?:\.\d{3})+(?![\d,])|\d+(?:,\d+)?")
QUALIFIERS = ("trên", "dưới", "khoảng", "tối thiểu", "ít nhất", "không quá")
QUAL = "|".join(QUALIFIERS)
LOWER_BOUNDS = ("trên", "tối thiểu", "ít nhất")
UPPER_BOUNDS = ("dưới", "không quá")
UNIT = r"(?:\s[^\W\d_]+){1,3}(?:/[^\W\d_]+)?"
SIMPLE_TEMPLATES = [
    re.compile(rf"(?:(?:{QUAL})\s)?\{{\}}%"),                             # 58%, trên 90%
    re.compile(rf"(?:(?:{QUAL})\s)?\{{\}}% - \{{\}}%(?:/[^{{}}]+)?"),     # 10,5% - 11%
    re.compile(rf"(?:(?:{QUAL})\s)?\{{\}}(?:{UNIT})?"),                  # 26, 11 dự án
    re.compile(r"\{\}/\{\}/\{\}"),                                         # 19/8/2025
]


@dataclass(frozen=True)
class NumFormat:
    decimals: int
    width: int
    grouped: bool

    @classmethod
    def of(cls, text: str) -> "NumFormat":
        decimals = len(text.split(",", 1)[1]) if "," in text else 0
        width = len(text) if text.startswith("0") and len(text) > 1 and "," not in text else 0
        return cls(decimals, width, "." in text)

    def render(self, value: Decimal) -> str:
        """Vietnamese style: decimal comma, '.' between thousands when the source had it,
        leading zeros kept ("02"), no trailing ",0"."""
        value = Decimal(value)
        places = max(-value.normalize().as_tuple().exponent, 0)  # type: ignore[operator]
        whole, _, frac = f"{value:.{places}f}".partition(".")
        frac = frac.rstrip("0")
        if self.grouped and len(whole) > 3:
            whole = f"{int(whole):,}".replace(",", ".")
        if self.width:
            whole = whole.zfill(self.width)
        return whole + ("," + frac if frac else "")


@dataclass(frozen=True)
class Figure:
    """A value such as "10,5% - 11%" split into a template ("{}% - {}%") and numbers."""

    template: str
    numbers: tuple[Decimal, ...]
    formats: tuple[NumFormat, ...]

    @property
    def is_percent(self) -> bool:
        return "%" in self.template

    @property
    def is_date(self) -> bool:
        return self.template == "{}/{}/{}"

    @property
    def unit(self) -> str:
        """The words after a count ("dự án" in "11 dự án"), or ''."""
        match = re.fullmatch(rf"(?:(?:{QUAL})\s)?\{{\}}((?:{UNIT})?)", self.template)
        return match.group(1).strip() if match and not self.is_percent else ""

    @property
    def qualifier(self) -> str:
        """"trên" in "trên 90%", or ''."""
        match = re.match(rf"({QUAL})\s", self.template)
        return match.group(1) if match else ""

    @property
    def bare_template(self) -> str:
        """The template without its qualifier: "{}%" for "trên {}%"."""
        return self.template[len(self.qualifier):].lstrip() if self.qualifier else self.template

    def span(self) -> tuple[Decimal | None, bool, Decimal | None, bool]:
        """The values the figure claims, as (low, low_open, high, high_open); None is
        unbounded: "trên 90%" is (90, open, None), "10,5% - 11%" is [10,5; 11],
        "khoảng 50%" is [45; 55]."""
        if len(self.numbers) == 2:
            return self.numbers[0], False, self.numbers[1], False
        value, q = self.numbers[0], self.qualifier
        if q == "trên":
            return value, True, None, True
        if q in LOWER_BOUNDS:
            return value, False, None, True
        if q == "dưới":
            return None, True, value, True
        if q in UPPER_BOUNDS:
            return None, True, value, False
        if q == "khoảng":
            return value * Decimal("0.9"), False, value * Decimal("1.1"), False
        return value, False, value, False

    def is_false_given(self, truth: "Figure") -> bool:
        """Whether stating this figure where `truth` is the text's is false, not merely
        different: the values it claims share none with the truth's. "trên 90%" and
        "trên 95%" are both true of a ward at 96 % (never a wrong answer for each
        other); "90%" against "trên 90%" is false; ranges must not touch."""
        if self.bare_template != truth.bare_template:
            return not self.same(truth)
        if self.is_date:
            return self.numbers != truth.numbers
        return not _overlap(self.span(), truth.span())

    def same(self, other: "Figure") -> bool:
        return self.template == other.template and self.numbers == other.numbers

    def render(self, numbers: tuple[Decimal, ...]) -> str:
        return self.template.format(*(fmt.render(n) for fmt, n in zip(self.formats, numbers)))

    def text(self) -> str:
        return self.render(self.numbers)


def parse_figure(value: str) -> Figure | None:
    """The figure in an item value when it is a plain one (a percent, a percent range, a
    count with an optional unit, a date); None for anything else ("giảm từ 3% - 2%",
    "81,8% = 9/11 trường", text), which the numeric generator leaves alone."""
    value = value.strip().rstrip(".;,")
    for dash in DASHES:
        value = value.replace(dash, "-")
    value = re.sub(r"\s*-\s*", " - ", value)
    numbers = NUM_RE.findall(value)
    if not numbers:
        return None
    template = NUM_RE.sub("{}", value)
    if not any(p.fullmatch(template) for p in SIMPLE_TEMPLATES):
        return None
    parsed = tuple(Decimal(n.replace(".", "").replace(",", ".")) for n in numbers)
    return Figure(template, parsed, tuple(NumFormat.of(n) for n in numbers))


def _overlap(x, y) -> bool:
    low = max((v for v in (x[0], y[0]) if v is not None), default=None)
    high = min((v for v in (x[2], y[2]) if v is not None), default=None)
    if low is None or high is None or low < high:
        return True
    if low > high:
        return False
    # one shared end: it counts when neither side leaves it out
    return not any((span[0] == low and span[1]) or (span[2] == low and span[3]) for span in (x, y))


def near_figures(fig: Figure) -> list[Figure]:
    """Plausible wrong values near `fig`, in a fixed order, each false where `fig` is
    true (see `Figure.is_false_given`)."""
    out = _near_dates(fig.numbers) if fig.is_date else _near_numbers(fig)
    result: list[Figure] = []
    for candidate in out:
        if any(n < 0 for n in candidate) or (fig.is_percent and any(n > 100 for n in candidate)):
            continue
        if any(n == 0 for n in candidate) and not any(n == 0 for n in fig.numbers):
            continue
        if len(candidate) == 2 and not fig.is_date and candidate[0] >= candidate[1]:
            continue
        # a bound's wrong answers are exact values it excludes ("90%" against "trên 90%")
        template = fig.bare_template if fig.qualifier in LOWER_BOUNDS + UPPER_BOUNDS else fig.template
        figure = Figure(template, tuple(Decimal(n) for n in candidate), fig.formats)
        if not figure.is_false_given(fig) or any(figure.same(r) for r in result):
            continue
        result.append(figure)
    return result


def _near_dates(nums: tuple[Decimal, ...]) -> list[tuple[Decimal, ...]]:
    day, month, year = nums
    out: list[tuple[Decimal, ...]] = []
    for dd, dm in ((1, 0), (-1, 0), (2, 0), (-2, 0), (0, 1), (0, -1)):
        d, m = day + dd, month + dm
        if 1 <= d <= 28 and 1 <= m <= 12:
            out.append((d, m, year))
    return out


def _near_numbers(fig: Figure) -> list[tuple[Decimal, ...]]:
    nums = fig.numbers
    decimals = max(f.decimals for f in fig.formats)
    if decimals:
        unit = Decimal(1).scaleb(-decimals)
        steps = [5 * unit, -5 * unit, 10 * unit, -10 * unit, unit, 2 * unit]
    elif len(nums) == 2 and fig.is_percent:
        steps = [Decimal("0.5"), Decimal(1), Decimal(-1), Decimal(2)]
    elif fig.is_percent:
        steps = [Decimal(s) for s in (2, -2, 5, -5, 1, -1, 10)]
        if fig.qualifier in LOWER_BOUNDS:   # at or below the bound
            steps = [Decimal(s) for s in (-5, -10, -2, -15)]
        elif fig.qualifier in UPPER_BOUNDS:  # at or above it
            steps = [Decimal(s) for s in (5, 10, 2, 15)]
    else:
        delta = max(1, round(nums[0] * Decimal("0.05")))
        factors = {"": (1, -1, 2, -2, 3, 4), "lower": (-1, -2, -3, -4), "upper": (1, 2, 3, 4)}
        side = ("lower" if fig.qualifier in LOWER_BOUNDS
                else "upper" if fig.qualifier in UPPER_BOUNDS else "")
        steps = [Decimal(s * delta) for s in factors[side]]
    if fig.qualifier == "khoảng":  # "about" spans ±10 %: a wrong one lies well outside
        wide = max(1, round(nums[0] * Decimal("0.3")))
        steps = [Decimal(s * wide) for s in (1, -1, 2)]
    if len(nums) == 1:
        return [(nums[0] + step,) for step in steps]
    low, high = nums
    # ranges beside the true one first (a range that touches it is partly true)
    shift = 2 * (high - low)
    out = [(low + k * shift, high + k * shift) for k in (1, -1, 2, -2)]
    for step in steps:
        out.extend([(low, high + step), (low + step, high + step),
                    (low - step, high - step), (low, high - step)])
    return out

