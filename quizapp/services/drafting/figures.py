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

    def is_false_given(self, truth: "Figure") -> bool:
        """Whether stating this figure where `truth` is the text's is false, not merely
        different: "trên 90%" is true when the text says "trên 92%", so a lower bound
        must be stricter (higher) than the truth, an upper bound lower, a range must
        not touch the true range and "khoảng" must be at least 10 % off."""
        if self.template != truth.template:
            return not self.same(truth)
        if self.is_date or self.numbers == truth.numbers:
            return self.numbers != truth.numbers
        if len(self.numbers) == 2:
            (low, high), (true_low, true_high) = self.numbers, truth.numbers
            return high < true_low or low > true_high
        value, true = self.numbers[0], truth.numbers[0]
        if self.qualifier in LOWER_BOUNDS:
            return value > true
        if self.qualifier in UPPER_BOUNDS:
            return value < true
        if self.qualifier == "khoảng":
            return abs(value - true) >= true * Decimal("0.1")
        return True

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
        if fig.is_percent and fig.qualifier in LOWER_BOUNDS and candidate[-1] >= 100:
            continue  # "trên 100%"
        figure = Figure(fig.template, tuple(Decimal(n) for n in candidate), fig.formats)
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
    else:
        delta = max(1, round(nums[0] * Decimal("0.05")))
        steps = [Decimal(s * delta) for s in (1, -1, 2, -2, 3, 4)]
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

