"""The theme of the congress ("Chủ đề của Đại hội là: “…; …; …”"): which of these
phrases is part of it, the wrong ones taken from the outline's lists."""
from __future__ import annotations

import re

from ..schema import ChoiceData, SectionData
from .context import Context, find_quotes
from .distractors import family
from .sink import Drafts, lines_ref
from .text import contained, fold, seeded_rng, shares_phrase, upper_first


def find_theme(ctx: Context) -> tuple[SectionData, str] | None:
    """The first quotation that follows the words "chủ đề" in a section about it."""
    for section in ctx.sections:
        if "chủ đề" not in (section.title + " " + section.body).lower():
            continue
        for line in section.body.splitlines():
            at = line.lower().find("chủ đề")
            quotes = find_quotes(line[at:]) if at >= 0 else []
            if quotes and len(quotes[0].split()) >= 6:
                return section, quotes[0].strip(" .")
    return None


def theme(ctx: Context, drafts: Drafts) -> None:
    found = find_theme(ctx)
    if found is None:
        return
    section, text = found
    clauses = [c.strip(" .") for c in re.split(r";\s*", text) if len(c.split()) >= 3]
    if len(clauses) < 2:
        return
    rng = seeded_rng(section.key, "theme", text)
    answer = upper_first(rng.choice(clauses))
    wrong = _wrong_phrases(ctx, text, answer, rng)
    if len(wrong) < 2:
        return
    choices = [ChoiceData(answer, True)] + [ChoiceData(w, False) for w in wrong]
    drafts.add(section, "theme", text, "single", 2, "Nội dung nào sau đây nằm trong chủ đề của Đại hội?",
               choices, f"Chủ đề của Đại hội: “{text}”.{lines_ref(section)}")


def _wrong_phrases(ctx: Context, text: str, answer: str, rng) -> list[str]:
    """Members of the outline's lists, not close to any part of the theme, nearest in
    length to the answer."""
    pool: list[tuple[int, float, str]] = []
    for lst in ctx.lists:
        if lst.owner.kind == "info" or family(lst.owner.kind) != "directions":
            continue  # the theme names directions, not figures
        for entry in lst.entries:
            phrase = upper_first(entry.text.strip(" ."))
            words = len(phrase.split())
            if not 3 <= words <= 16 or ctx.contradicted(phrase):
                continue
            if shares_phrase(phrase, text) or contained(phrase, text) >= 0.3:
                continue
            if any(fold(phrase) == fold(p) for *_x, p in pool):
                continue
            pool.append((abs(words - len(answer.split())), rng.random(), phrase))
    pool.sort()
    return [p for *_x, p in pool[:3]]
