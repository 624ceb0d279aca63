"""Strings no draft may rest on (the contradicted spots of an outline), and the checks
every draft passes before it is kept."""
from __future__ import annotations

import re
from pathlib import Path

from ..schema import QuestionData
from .text import norm_for_match

CONTRADICTIONS_FILE = "contradictions.txt"

def read_contradictions(path: str | Path) -> set[str]:
    """The strings of a contradictions file: one per line, '#' starts a comment."""
    out = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            out.add(line)
    return out


def default_contradictions(bank_path: str | Path) -> set[str]:
    """The contradicted spots of a bank directory's own outline (for the bundled bank,
    questions/contradictions.txt, taken from questions/source/facts.md section 2); an
    empty set when the file is missing. Apply it to that outline only."""
    path = Path(bank_path) / CONTRADICTIONS_FILE
    return read_contradictions(path) if path.is_file() else set()


def own_contradictions(outline_path: str | Path) -> set[str]:
    """The list an outline ships, or an empty set: a list belongs to the outline it was
    written for, never to another ward's. An outline's own list is, for a bank
    directory or its outline.yaml, the directory's contradictions.txt; for a file
    "ward.txt", "ward.contradictions.txt" beside it; else a contradictions.txt in its
    folder or the folder above that names it on a "# outlines:" line (paths relative
    to the list), as questions/contradictions.txt names source/02-CV-DU-….txt."""
    path = Path(outline_path).resolve()
    if path.is_dir():
        return default_contradictions(path)
    sibling = path.with_name(path.stem + "." + CONTRADICTIONS_FILE)
    if sibling.is_file():
        return read_contradictions(sibling)
    if path.name == "outline.yaml":
        return default_contradictions(path.parent)
    for folder in (path.parent, path.parent.parent):
        candidate = folder / CONTRADICTIONS_FILE
        if candidate.is_file() and path in declared_outlines(candidate):
            return read_contradictions(candidate)
    return set()


def declared_outlines(list_path: Path) -> set[Path]:
    """The outline files a contradictions file names on its "# outlines:" lines."""
    out: set[Path] = set()
    for line in list_path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s*outlines?\s*:\s*(.+)$", line.strip(), re.IGNORECASE)
        if match:
            out.update((list_path.parent / name).resolve() for name in match.group(1).split())
    return out


def rests_on_contradiction(question: QuestionData, contradictions: set[str]) -> str | None:
    """The contradiction a question rests on (its prompt or statement, its right answer
    or any choice contains it), or None."""
    needles = [(c, norm_for_match(c)) for c in sorted(contradictions) if c.strip()]
    texts = [question.prompt] + [c.text for c in question.choices]
    for original, needle in needles:
        if any(needle in norm_for_match(t) for t in texts):
            return original
    return None


def answer_count_ok(question: QuestionData) -> bool:
    """Exactly one right answer (single, true/false) or at least one (multiple); at
    least two choices, all different."""
    right = sum(c.correct for c in question.choices)
    texts = [c.text.strip() for c in question.choices]
    if len(texts) < 2 or len(set(texts)) != len(texts) or not all(texts):
        return False
    return right >= 1 if question.kind == "multiple" else right == 1

