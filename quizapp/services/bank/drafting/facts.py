"""Fact drafts: the figures an outline states in prose ("đã diễn ra ngày 25/8/2025",
"98 đại biểu", "1.342 đảng viên", "đạt 92,5%", "14/16 chỉ tiêu") as fill-in questions,
and targets written as a share of a count ("87,5% = 7/8 trường")."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..schema import ChoiceData, SectionData
from .context import Context, Item
from .figures import near_figures, parse_figure
from .numeric import in_context
from .outline import FIG
from .sink import Drafts, lines_ref, sentence_with
from .text import display_title, lower_first

# what a count in prose counts: a count of anything else ("Nghị quyết Trung ương 4",
# "cụm thi đua số 4", "lần thứ XIV", years) is not a fact worth asking
COUNT_NOUNS = ("đại biểu", "đảng viên", "đồng chí", "chi bộ", "đảng bộ", "ý kiến", "dự án",
               "chỉ tiêu", "tổ dân phố", "trường", "hộ", "người", "công trình", "khu dân cư",
               "doanh nghiệp", "tuyến", "cán bộ", "lượt")
_NOUNS = "|".join(sorted(COUNT_NOUNS, key=len, reverse=True))
FACT_RE = re.compile(
    r"(?<![\d/.,-])(?:"
    r"(?P<date>\d{1,2}/\d{1,2}/\d{4})"
    rf"|(?P<ratio>\d{{1,3}}/\d{{1,3}})(?=\s+(?:{_NOUNS})\b)"
    rf"|(?P<percent>(?:{FIG})%)"
    rf"|(?P<count>\d{{1,3}}(?:\.\d{{3}})+|(?!19\d\d|20\d\d)\d{{1,4}})(?=\s+(?:{_NOUNS})\b)"
    r")(?![\d/])", re.IGNORECASE)
CHUNK_SPLIT = re.compile(r"(;\s+|,\s+|\s+và\s+|\.\s+|:\s+|\s+\(|\)\s*)")
SHARE_RE = re.compile(rf"^(?P<pct>{FIG})%\s*=\s*(?P<x>\d{{1,3}})/(?P<y>\d{{1,3}})\s+(?P<unit>\S.*)$")


@dataclass
class Fact:
    section: SectionData
    value: str       # "98", "25/8/2025", "92,5%", "14/16"
    kind: str        # date, ratio, percent, count
    chunk: str       # the clause around the value
    sentence: str    # the sentence it comes from, for the explanation


def facts(ctx: Context, drafts: Drafts) -> None:
    for fact in prose_facts(ctx):
        wrong = [w for w in near_values(fact) if not ctx.contradicted(w)][:3]
        if len(wrong) < 2:
            continue
        blanked = fact.chunk.replace(fact.value, "……", 1)
        prompt = (f"Theo «{display_title(fact.section.title)}», điền vào chỗ trống: "
                  f"“{blanked}”")
        choices = [ChoiceData(fact.value, True)] + [ChoiceData(w, False) for w in wrong]
        drafts.add(fact.section, "fact", f"{fact.chunk}|{fact.value}", "single", 2, prompt, choices,
                   f"Văn bản ghi: «{fact.sentence}».{lines_ref(fact.section)}")
    for item in ctx.items:
        share_question(ctx, drafts, item)


def prose_facts(ctx: Context) -> list[Fact]:
    """The figures of the prose of each information section, one per clause (a clause
    holding two figures would give the other's answer away), minus the figures the
    section also states as items."""
    found: list[Fact] = []
    for section in ctx.sections:
        if section.kind != "info":
            continue
        stated = {i["value"] for i in section.items}
        for line in section.body.splitlines():
            for sentence in re.split(r"(?<=[.;])\s+(?=[A-ZĐÀ-Ỹ])", line.strip()):
                found.extend(_sentence_facts(section, sentence.strip(), stated))
    return found


def _sentence_facts(section: SectionData, sentence: str, stated: set[str]) -> list[Fact]:
    pieces = CHUNK_SPLIT.split(sentence)
    out: list[Fact] = []
    for index in range(0, len(pieces), 2):
        chunk = pieces[index].strip()
        matches = [m for m in FACT_RE.finditer(chunk)]
        if not matches:
            continue
        match = matches[0]
        kind = next(k for k, v in match.groupdict().items() if v)
        value = match.group(kind)
        if value in stated or any(value in s for s in stated):
            continue
        if index >= 2 and _needs_context(chunk, pieces[index - 2]):
            separator = pieces[index - 1]
            closing = ")" if "(" in separator else ""
            chunk = (pieces[index - 2] + separator + chunk + closing).strip()
        if len(chunk.split()) < 4 or len(chunk.split()) > 40:
            continue
        out.append(Fact(section, value, kind, chunk.strip(" .;:,"), sentence.rstrip(" .;")))
    return out


def _needs_context(chunk: str, previous: str) -> bool:
    """Whether a clause reads better with the one before it: it is very short, starts
    with the figure, or starts in the middle of a sentence whose subject the clause
    before names."""
    if FACT_RE.search(previous) or not previous.strip():
        return False
    if len(chunk.split()) < 5:
        return True
    opens_badly = chunk[:1].isdigit() or (chunk[:1].islower() and previous.strip()[:1].isupper())
    return opens_badly and len(chunk.split()) + len(previous.split()) <= 25


def near_values(fact: Fact) -> list[str]:
    """Wrong values of the same form, each false where the fact's is true."""
    if fact.kind == "ratio":
        x, y = (int(n) for n in fact.value.split("/"))
        return [f"{n}/{y}" for n in (x - 1, x + 1, x - 2, x - 3) if 0 < n <= y and n != x]
    figure = parse_figure(fact.value)
    if figure is None:
        return []
    return [f.text() for f in near_figures(figure)]


# ---------------------------------------------------------------- "87,5% = 7/8 trường"

def _percent(x: int, y: int) -> str:
    value = (Decimal(100 * x) / Decimal(y)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = f"{value}".replace(".", ",")
    return text[:-2] if text.endswith(",0") else text


def share_question(ctx: Context, drafts: Drafts, item: Item) -> None:
    """A target written as a share of a count: the wrong answers are other shares of the
    same total, each with its own percentage (false, and consistent in itself)."""
    match = SHARE_RE.match(item.value.strip().rstrip(".;,"))
    if not match or not item.label:
        return
    x, y, unit = int(match.group("x")), int(match.group("y")), match.group("unit")
    wrong = [f"{_percent(n, y)}% = {n}/{y} {unit}" for n in (x - 1, x - 2, x + 1, x - 3)
             if 0 < n <= y and n != x]
    wrong = [w for w in wrong if not ctx.contradicted(w)][:3]
    if len(wrong) < 2:
        return
    quote = sentence_with(item.section.body, item.value, item.label) or f"{item.label}: {item.value}"
    label = lower_first(item.label)
    prompt = in_context(f"{label} là bao nhiêu?", item.label, display_title(item.section.title))
    choices = [ChoiceData(item.value, True)] + [ChoiceData(w, False) for w in wrong]
    drafts.add(item.section, "share", item.key, "single", 2, prompt, choices,
               f"Văn bản ghi: «{quote}».{lines_ref(item.section)}", [item.key])
