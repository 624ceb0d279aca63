"""Strings no draft may rest on (the contradicted spots of an outline), and the checks
every draft passes before it is kept."""
from __future__ import annotations

from pathlib import Path

from ..bank_format import QuestionData
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


def default_contradictions(bank_path: str | Path | None = None) -> set[str]:
    """The contradicted spots of the bundled outline (questions/contradictions.txt, taken
    from questions/source/facts.md section 2); an empty set when the file is missing. Without a path,
    the app's BANK_PATH is used when an app context exists, else the repository's."""
    if bank_path is None:
        try:
            from flask import current_app
            bank_path = current_app.config["BANK_PATH"]
        except (RuntimeError, KeyError):
            bank_path = Path(__file__).resolve().parents[3] / "questions"
    path = Path(bank_path) / CONTRADICTIONS_FILE
    return read_contradictions(path) if path.is_file() else set()


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

