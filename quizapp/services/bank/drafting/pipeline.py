"""The drafting run: every generator over the outline's context, then the checks that
decide which drafts are kept."""
from __future__ import annotations

from ..schema import QuestionData, SectionData
from .context import Context
from .facts import facts
from .contradictions import answer_count_ok, rests_on_contradiction
from .lists import lists
from .numeric import numeric
from .sink import Drafts
from .slogans import slogans
from .theme import theme

GENERATORS = (numeric, lists, slogans, facts, theme)


def draft_questions(sections: list[SectionData],
                    contradictions: set[str] | None = None) -> list[QuestionData]:
    """Draft questions (status "draft") for an outline's sections.

    Each draft names the section it rests on and quotes the passage in its explanation.
    Kinds: numeric targets (distractors are other figures of the same form from the
    outline, then near values; never the right value or a value also right for that
    label), "which of these is one of the N …" and "which belong to …" from numbered
    lists (distractors from the other lists, minus anything close to a member), counts
    of a list, completion of quoted slogans, true/false statements (a false one swaps in
    a sibling figure or another list's member).

    Deterministic: every choice is seeded from the section key and the subject, and keys
    are "draft-<section>-<generator>-<hash of the subject>", so drafting the same outline
    again gives the same keys. A draft whose prompt, statement or any choice contains a
    string of `contradictions` (case-insensitive, dashes and spaces normalised) is left
    out, as is any draft without exactly one right answer (at least one for multiple).
    """
    ctx = Context(sections, contradictions or set())
    drafts = Drafts()
    for generate in GENERATORS:
        generate(ctx, drafts)
    return _kept(drafts.out, sections, contradictions)


def _kept(made: list[QuestionData], sections: list[SectionData],
          contradictions: set[str] | None) -> list[QuestionData]:
    """The drafts without duplicates (same key or same content), each with the right
    number of right answers and resting on no contradiction, in outline order."""
    order = {s.key: s.position for s in sections}
    seen: set[str] = set()
    seen_content: set[tuple] = set()
    out: list[QuestionData] = []
    for q in made:
        content = (q.prompt, tuple(sorted((c.text, c.correct) for c in q.choices)))
        if q.key in seen or content in seen_content:
            continue
        if not answer_count_ok(q) or not q.prompt or not q.explanation:
            continue
        if contradictions and rests_on_contradiction(q, contradictions):
            continue
        seen.add(q.key)
        seen_content.add(content)
        out.append(q)
    out.sort(key=lambda q: order.get(q.section, 0))  # stable: generator order within a section
    return out


def counts_by_section(sections: list[SectionData], made: list[QuestionData]) -> dict[str, int]:
    """Drafts per section key, every section listed (0 when none), in outline order."""
    counts = {s.key: 0 for s in sections}
    for q in made:
        counts[q.section] = counts.get(q.section, 0) + 1
    return counts
