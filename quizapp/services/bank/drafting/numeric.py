"""Numeric drafts: "<label> là bao nhiêu?" with figures for wrong answers, and a
true/false statement of the figure (as written, or with a sibling's figure)."""
from __future__ import annotations

import re

from ..schema import ChoiceData
from .context import Context, Item
from .distractors import numeric_picks, sibling_figures, usable_sibling
from .figures import Figure
from .sink import Drafts, lines_ref, sentence_with
from .text import contained, display_title, lower_first, norm_for_match, seeded_rng, upper_first

LABEL_VERBS = ("tăng", "giảm", "chiếm", "đạt", "còn", "gồm", "có", "là")


def ends_with_verb(label: str) -> bool:
    return label.rsplit(" ", 1)[-1].lower() in LABEL_VERBS


def countable(unit: str) -> bool:
    """"dự án", "đảng viên" are counted ("có 11 dự án"); "triệu đồng/năm" is a measure
    ("là 160 triệu đồng/năm")."""
    return "/" not in unit and "đồng" not in unit.split()


def in_context(sentence: str, label: str, ctx_title: str) -> str:
    """"Theo «<section>», <sentence>", unless the label already names the section."""
    if contained(ctx_title, label) >= 0.8:
        return upper_first(sentence)
    return f"Theo «{ctx_title}», {sentence}"


def unit_named(item: Item) -> bool:
    """Whether the body states the unit right after this label's value, so that a
    prompt may say "bao nhiêu <unit>"."""
    return bool(item.unit) and re.search(
        re.escape(item.label) + r"\s*:\s*" + re.escape(item.value) + r"\s+" + re.escape(item.unit),
        item.section.body, re.IGNORECASE) is not None


def numeric(ctx: Context, drafts: Drafts) -> None:
    """One single-choice question and one true/false statement per item with a figure
    whose label has one value in the outline."""
    for item in ctx.items:
        fig = item.figure
        if fig is None or not item.label:
            continue
        label_norm = norm_for_match(item.label)
        right = [o.figure for o in ctx.items if o.figure and norm_for_match(o.label) == label_norm]
        if any(not r.same(fig) for r in right if r.template == fig.template):
            continue  # the outline gives two values for one label: ambiguous
        _NumericItem(ctx, drafts, item, right).draft()


class _NumericItem:
    """The drafts of one item; `right` holds every figure right for its label."""

    def __init__(self, ctx: Context, drafts: Drafts, item: Item, right: list[Figure]):
        self.ctx, self.drafts, self.item, self.right = ctx, drafts, item, right
        self.fig: Figure = item.figure  # type: ignore[assignment]
        self.unit = item.unit if (self.fig.unit or unit_named(item)) else ""
        self.ctx_title = display_title(item.section.title)
        self.quote = sentence_with(item.section.body, item.value, item.label) or f"{item.label}: {item.value}"
        self.siblings = sibling_figures(ctx, item, right)

    def draft(self) -> None:
        self.single()
        self.truefalse()

    def prompt(self) -> str:
        label = lower_first(self.item.label)
        if self.fig.is_date:
            prompt = f"{label} là ngày nào?"
        elif self.unit and countable(self.unit):
            prompt = f"{label}{'' if ends_with_verb(label) else ' có'} bao nhiêu {self.unit}?"
        else:
            prompt = f"{label}{'' if ends_with_verb(label) else ' là'} bao nhiêu?"
        return in_context(prompt, self.item.label, self.ctx_title)

    def single(self) -> None:
        item, fig = self.item, self.fig
        picks = numeric_picks(self.ctx, item, self.right, self.siblings)
        if len(picks) < 2:
            return
        notes = [f"{p.text()} là của «{o.label}»." for p, o in picks if o is not None]
        explanation = " ".join([f"Văn bản ghi: «{self.quote}»."] + notes) + lines_ref(item.section)
        choices = [ChoiceData(fig.text(), True)] + [ChoiceData(p.text(), False) for p, _ in picks]
        difficulty = 2 if any(o is not None for _, o in picks) else 1
        self.drafts.add(item.section, "num", item.key, "single", difficulty, self.prompt(), choices,
                        explanation, [item.key])

    def truefalse(self) -> None:
        """As written, or with a sibling's figure swapped in."""
        item, fig = self.item, self.fig
        rng = seeded_rng(item.section.key, "numtf", item.key)
        swap = next((o for o in self.siblings if usable_sibling(self.ctx, fig, o)), None)
        ref = lines_ref(item.section)
        if rng.random() < 0.5 and swap is not None:
            value = swap.figure.text()  # type: ignore[union-attr]
            self.drafts.truefalse(item.section, "numtf", item.key, self.statement(value), False,
                                  f"Văn bản ghi: «{self.quote}»; {value} là của «{swap.label}»." + ref,
                                  [item.key])
        else:
            self.drafts.truefalse(item.section, "numtf", item.key, self.statement(fig.text()), True,
                                  f"Văn bản ghi: «{self.quote}»." + ref, [item.key])

    def statement(self, value: str) -> str:
        label = lower_first(self.item.label)
        fig, unit = self.fig, self.unit
        if fig.is_date:
            return in_context(f"{label} là ngày {value}.", self.item.label, self.ctx_title)
        tail = f" {unit}" if unit and unit not in fig.template else ""
        joiner = " " if ends_with_verb(label) else (" có " if unit and countable(unit) else " là ")
        return in_context(f"{label}{joiner}{value}{tail}.", self.item.label, self.ctx_title)
