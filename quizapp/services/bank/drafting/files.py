"""Outlines and drafts as files: the questions/ YAML formats written, outlines loaded
from a bank directory, a structured outline or a plain document."""
from __future__ import annotations

from pathlib import Path

import yaml

from ..schema import OUTLINE_FORMAT, QUESTIONS_FORMAT, Bank, QuestionData, SectionData, _read_outline
from .documents import MAX_DOCUMENT_BYTES, DocumentError, read_document
from .outline import parse_plain_outline


class OutlineError(ValueError):
    """An outline file that cannot be turned into sections; `errors` lists why."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors[:5]))
        self.errors = errors

def dump_outline_yaml(sections: list[SectionData], *, key: str = "outline", title: str = "",
                      version: int = 1, source: str = "") -> str:
    """The sections as a questions/outline.yaml document (format quizapp-outline/1) that
    `read_bank` reads back to the same SectionData."""
    by_parent: dict[str | None, list[SectionData]] = {}
    for section in sections:
        by_parent.setdefault(section.parent_key, []).append(section)

    def node(section: SectionData) -> dict:
        out: dict = {"key": section.key, "title": section.title, "kind": section.kind,
                     "lines": section.lines, "body": section.body}
        if section.items:
            out["items"] = [{"key": i["key"], "label": i["label"], "value": i["value"]}
                            for i in section.items]
        children = by_parent.get(section.key, [])
        if children:
            out["children"] = [node(c) for c in children]
        return out

    document = {"format": OUTLINE_FORMAT, "key": key, "version": version,
                "title": title or (sections[0].title if sections else key),
                "source": source, "sections": [node(s) for s in by_parent.get(None, [])]}
    return yaml.dump(document, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False,
                     width=100000, default_flow_style=False)


class _BlockDumper(yaml.SafeDumper):
    """Safe YAML with multi-line strings as '|' blocks, so bodies read like the source."""


def _str_representer(dumper: yaml.SafeDumper, value: str):
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _str_representer)


def dump_questions_yaml(questions: list[QuestionData]) -> str:
    """Questions as a bank file (format quizapp-questions/1), true/false with `answer`."""
    rows = []
    for q in questions:
        row: dict = {"key": q.key, "section": q.section, "kind": q.kind,
                     "difficulty": q.difficulty, "status": q.status}
        if q.covers:
            row["covers"] = list(q.covers)
        row["prompt"] = q.prompt
        if q.kind == "truefalse":
            row["answer"] = next(c.correct for c in q.choices if c.text == "Đúng")
        else:
            row["choices"] = [{"text": c.text, "correct": True} if c.correct else {"text": c.text}
                              for c in q.choices]
        row["explanation"] = q.explanation
        rows.append(row)
    return yaml.dump({"format": QUESTIONS_FORMAT, "questions": rows}, Dumper=_BlockDumper,
                     allow_unicode=True, sort_keys=False, width=100000, default_flow_style=False)


def load_outline(path: str | Path) -> list[SectionData]:
    """Sections from a bank directory, a structured outline (.yaml/.yml) or a plain one
    (.txt, .md, .docx). Raises OutlineError listing the problems."""
    path = Path(path)
    if path.is_dir():
        path = path / "outline.yaml"
        if not path.is_file():
            raise OutlineError([f"{path}: no such file"])
    if not path.is_file():
        raise OutlineError([f"{path}: no such file"])
    if path.suffix.lower() in (".yaml", ".yml"):
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise OutlineError([f"{path}: the file is larger than 2 MB"])
        bank = Bank()
        _read_outline(path, bank)
        if bank.errors:
            raise OutlineError(bank.errors)
        return bank.sections
    try:
        text = read_document(path.read_bytes()[:MAX_DOCUMENT_BYTES + 1], path.name)
    except DocumentError as exc:
        raise OutlineError([str(exc)]) from None
    sections = parse_plain_outline(text)
    if not sections:
        raise OutlineError([f"{path}: no outline structure found"])
    return sections

