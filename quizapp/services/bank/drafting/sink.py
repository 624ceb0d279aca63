"""Where generated drafts go: stable keys, seeded choice order, true/false pairs, and
the explanation helpers every generator uses."""
from __future__ import annotations

import re

from ..schema import ChoiceData, QuestionData, SectionData
from .outline import MARKER_RE
from .text import contained, seeded_rng, short_hash

MAX_KEY_LENGTH = 80  # Question.key is String(80)


class Drafts:
    """The drafts of one run, in generation order."""

    def __init__(self) -> None:
        self.out: list[QuestionData] = []

    @staticmethod
    def key(section: str, code: str, subject: str) -> str:
        digest = short_hash(code, section, subject)
        room = MAX_KEY_LENGTH - len("draft-") - len(code) - len(digest) - 2
        return f"draft-{section[:room].rstrip('-')}-{code}-{digest}"

    def add(self, section: SectionData, code: str, subject: str, kind: str, difficulty: int,
            prompt: str, choices: list[ChoiceData], explanation: str,
            covers: list[str] | None = None) -> None:
        rng = seeded_rng(section.key, code, subject, "order")
        if kind != "truefalse":
            rng.shuffle(choices)
        self.out.append(QuestionData(
            key=self.key(section.key, code, subject), section=section.key, kind=kind,
            difficulty=difficulty, status="draft", prompt=prompt, explanation=explanation,
            choices=choices, covers=list(covers or []), origin=f"draft:{code}:{section.key}"))

    def truefalse(self, section: SectionData, code: str, subject: str, statement: str,
                  answer: bool, explanation: str, covers: list[str] | None = None,
                  difficulty: int = 2) -> None:
        self.add(section, code, subject, "truefalse", difficulty, statement,
                 [ChoiceData("Đúng", answer), ChoiceData("Sai", not answer)],
                 ("Đúng. " if answer else "Sai. ") + explanation, covers)


def lines_ref(section: SectionData) -> str:
    return f" (L{section.lines})" if section.lines else ""


def sentence_with(body: str, value: str, label: str = "") -> str | None:
    """The line (or, in a long paragraph, the sentence) of `body` that states `value`,
    the one that best names `label` when several do; without its list marker and final
    punctuation."""
    pattern = re.compile(r"(?<![\d,.])" + re.escape(value) + r"(?![\d]|,\d|\.\d)")
    found: list[str] = []
    for line in body.splitlines():
        if not pattern.search(line):
            continue
        line = MARKER_RE.sub("", line.strip(), count=1)
        if len(line) > 300:
            line = next((s for s in re.split(r"(?<=[.;])\s+", line) if pattern.search(s)), line)
        found.append(line.strip().rstrip(".;:,"))
    if not found:
        return None
    return max(found, key=lambda line: contained(label, line) if label else 0)


def excerpt(text: str, limit: int = 240) -> str:
    """The start of a passage for an explanation; ' / ' marks its line breaks."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    text = MARKER_RE.sub("", " / ".join(lines), count=1).rstrip(".;:,")
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[:cut.rfind(" ")] + " …"

