"""Wrong answers: members of other lists for list questions, sibling figures for
numeric ones, segments of other slogans for fill-in questions. A wrong answer is never
close to the right one, never right for the same label and never a contradicted string."""
from __future__ import annotations

import random
import re

from .context import Context, Entry, Item, MemberList, split_segments
from .figures import Figure, near_figures
from .text import contained, fold, lower_first, shares_phrase, upper_first


def family(kind: str) -> str:
    """Directions (viewpoints, breakthroughs, tasks, solutions, goals) are one family,
    figures (targets, projects) another: a viewpoint's distractors come from the first."""
    return "figures" if kind in ("target", "project") else "directions"


# ---------------------------------------------------------------- list members

def list_distractors(ctx: Context, lst: MemberList, want: int, rng: random.Random,
                     length_of: str) -> list[tuple[Entry, MemberList]]:
    """Members of other lists that are not close to any member of `lst` (nor to
    each other), nearest in length to `length_of`, same kind of list first. For an
    announced list ("5 nhóm giải pháp") only the members of other announced lists
    qualify: a sub-point ("phát triển các thiết chế văn hóa") is too easily read as
    part of some group of the list asked about."""
    pool = _member_pool(ctx, lst, rng, length_of)
    pool.sort(key=lambda p: (p[0], p[1], p[2]))
    chosen: list[tuple[Entry, MemberList]] = []
    for *_rest, entry, other in pool:
        if len(chosen) == want:
            break
        if any(fold(entry.text) == fold(c.text) or contained(entry.text, c.text) >= 0.5
               or contained(c.text, entry.text) >= 0.5 for c, _ in chosen):
            continue
        chosen.append((entry, other))
    return chosen


def _member_pool(ctx: Context, lst: MemberList, rng: random.Random,
                 length_of: str) -> list[tuple[int, int, float, Entry, MemberList]]:
    mine = [e.text for e in lst.entries] + [e.full for e in lst.entries]
    owner_body = lst.owner.body
    pool: list[tuple[int, int, float, Entry, MemberList]] = []
    for other in ctx.lists:
        if other is lst or (lst.from_children and not other.from_children):
            continue
        for entry in other.entries:
            text = entry.text
            if ctx.contradicted(text) or _too_close(text, mine, owner_body):
                continue
            rank = (0 if other.owner.kind == lst.owner.kind
                    else 1 if family(other.owner.kind) == family(lst.owner.kind) else 2)
            distance = abs(len(text.split()) - len(length_of.split())) // 6
            pool.append((rank, distance, rng.random(), entry, other))
    return pool


def _too_close(text: str, mine: list[str], owner_body: str) -> bool:
    if any(contained(text, t) >= 0.5 or contained(t, text) >= 0.5 or shares_phrase(text, t)
           for t in mine):
        return True
    return contained(text, owner_body) >= 0.5 or shares_phrase(text, owner_body)


# ---------------------------------------------------------------- figures

def sibling_figures(ctx: Context, item: Item, right: list[Figure]) -> list[Item]:
    """Items with a figure of the same kind (template and unit) and another value,
    none of them also right for this label: same section first, then the rest of
    the outline in order."""
    fig = item.figure
    assert fig is not None
    same: list[Item] = []
    rest: list[Item] = []
    for other in ctx.items:
        if other is item or other.figure is None or other.kind != item.kind:
            continue
        if other.figure.same(fig) or any(other.figure.same(r) for r in right):
            continue
        if any(other.figure.same(o.figure) for o in same + rest):  # type: ignore[arg-type]
            continue
        (same if other.section.key == item.section.key else rest).append(other)
    return same + rest


def magnitude_ok(fig: Figure, other: Figure | None) -> bool:
    if other is None or fig.is_date:
        return other is not None
    a, b = fig.numbers[0], other.numbers[0]
    if a == 0 or b == 0:
        return False
    return max(a, b) / min(a, b) <= 3


def usable_sibling(ctx: Context, fig: Figure, other: Item) -> bool:
    """A sibling's figure as a wrong answer: of a like size, false where `fig` is true
    (no "trên 90%" against "trên 92%") and not contradicted."""
    return (magnitude_ok(fig, other.figure) and other.figure.is_false_given(fig)  # type: ignore[union-attr]
            and not ctx.contradicted(other.figure.text()))  # type: ignore[union-attr]


def numeric_picks(ctx: Context, item: Item, right: list[Figure],
                  siblings: list[Item]) -> list[tuple[Figure, Item | None]]:
    """Up to three wrong figures for `item`: two siblings of the outline at most, then
    near values; each with the item it belongs to (None for a near value)."""
    fig = item.figure
    assert fig is not None
    picks: list[tuple[Figure, Item | None]] = []
    for other in siblings:
        if len(picks) == 2:
            break
        if usable_sibling(ctx, fig, other):
            picks.append((other.figure, other))  # type: ignore[arg-type]
    for near in near_figures(fig):
        if len(picks) == 3:
            break
        if any(near.same(p) for p, _ in picks) or any(near.same(r) for r in right):
            continue
        if ctx.contradicted(near.text()):
            continue
        picks.append((near, None))
    return picks


# ---------------------------------------------------------------- slogan segments

def segment_pool(ctx: Context, quote: str, answer: str, shared: str,
                 all_quotes: list[tuple[object, str, list[str]]],
                 rng: random.Random) -> list[str]:
    """Up to three short segments of other quoted slogans for a blank whose answer is
    `answer`; those starting with `shared` (the first word the slogan's other members
    share) first, then nearest in length."""
    own = {fold(x.strip()) for x in split_members(quote)}
    pool: list[tuple[int, int, float, str]] = []
    for _other_section, other_quote, other_parts in all_quotes:
        if fold(other_quote) == fold(quote) or len(other_parts[0::2]) < 3:
            continue
        for seg in other_parts[0::2]:
            seg = seg.strip().strip("“”\"")
            if not (1 <= len(seg.split()) <= 4) or fold(seg) in own or re.search(r"\d", seg):
                continue
            seg = upper_first(seg) if answer[:1].isupper() else lower_first(seg)
            if ctx.contradicted(seg) or any(fold(seg) == fold(p[3]) for p in pool):
                continue
            same_head = 0 if shared and seg.split()[0].lower() == shared else 1
            pool.append((same_head, abs(len(seg.split()) - len(answer.split())), rng.random(), seg))
    pool.sort()
    return [p[3] for p in pool[:3]]


def split_members(quote: str) -> list[str]:
    return split_segments(quote)[0::2]
