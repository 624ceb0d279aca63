"""Fill-in drafts: a short member of a quoted slogan ("dân biết, dân bàn, …") blanked,
with segments of other slogans as wrong answers."""
from __future__ import annotations

from ..schema import ChoiceData
from .context import Context, split_segments
from .distractors import segment_pool
from .sink import Drafts, lines_ref
from .text import display_title, fold, seeded_rng


def slogans(ctx: Context, drafts: Drafts) -> None:
    all_quotes = [(s, q, split_segments(q)) for s, q in ctx.quotes]
    for section, quote, parts in all_quotes:
        segments = parts[0::2]
        if len(segments) < 3:
            continue
        candidates = [i for i, seg in enumerate(segments)
                      if 1 <= len(seg.split()) <= 4 and sum(fold(s) == fold(seg) for s in segments) == 1]
        if not candidates:
            continue
        rng = seeded_rng(section.key, "fill", quote)
        index = rng.choice(candidates)
        answer = segments[index].strip()
        wrong = segment_pool(ctx, quote, answer, _shared_head(segments, index), all_quotes, rng)
        if len(wrong) < 2:
            continue
        blanked = list(parts)
        blanked[2 * index] = "……"
        prompt = (f"Điền vào chỗ trống trong câu được trích ở «{display_title(section.title)}»: "
                  f"“{''.join(blanked)}”")
        choices = [ChoiceData(answer, True)] + [ChoiceData(w, False) for w in wrong]
        drafts.add(section, "fill", quote, "single", 2, prompt, choices,
                   f"Nguyên văn: “{quote}”.{lines_ref(section)}")


def _shared_head(segments: list[str], index: int) -> str:
    """"dân biết, dân bàn, …": when the other members share a first word, a distractor
    with that word is the plausible one."""
    heads = [seg.split()[0].lower() for i, seg in enumerate(segments) if i != index and seg.split()]
    shared = max(set(heads), key=heads.count) if heads else ""
    return shared if heads.count(shared) >= 2 else ""
