"""Reading and checking the bundled bank format (questions/README.md documents it).

`read_bank(path)` returns the parsed outline and questions together with every error
found, each as "file:line: message" (a messages.Message, which a page shows in its own
language). Nothing here touches the database.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from . import yamlpos
from .messages import Message, Where, at_file_line
from .. import grading
from ..grading import KINDS, TRUE_FALSE_TEXTS, fraction_to_credit  # noqa: F401 (re-exported)

OUTLINE_FORMAT = "quizapp-outline/1"
QUESTIONS_FORMAT = "quizapp-questions/1"
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SECTION_KINDS = {"info", "viewpoint", "goal", "target", "project", "breakthrough", "task",
                 "solution", "letter"}
STATUSES = {"draft", "approved", "retired"}
PURPOSES = ("meaning", "application", "distinguish", "target", "recall")
SECTION_FIELDS = {"key", "title", "kind", "lines", "body", "items", "children"}
ITEM_FIELDS = {"key", "label", "value"}
QUESTION_FIELDS = {"key", "section", "kind", "difficulty", "status", "purpose", "reserve",
                   "covers", "excludes", "prompt", "choices", "answer", "explanation"}
# The metadata a file may state for a question (QuestionData.stated): a YAML question
# states those it has a field for, and a match with the bank keeps what it states.
STATED_FIELDS = ("difficulty", "status", "covers", "purpose", "excludes")
CHOICE_FIELDS = {"text", "correct", "credit"}


# Each a message without a place, put into the error of the question that has it.
CREDIT_PROBLEMS = {
    "fixed": Message("", "a true/false question has no partial credit"),
    "range": Message("", "a credit is a percent between -100 and 100"),
    "no-full": Message("", "a one-answer question with partial credit needs an answer with "
                           "'credit: 100'"),
    "sum": Message("", "the positive credits of a several-answers question must add up to 100"),
}


def credit_to_fraction(value: Any) -> float | None:
    """A percent (YAML `credit: 50`, GIFT `%50%`, an xlsx cell) as Moodle's fraction,
    or None when it is not a number within -100..100."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        percent = Decimal(str(value).strip().replace(",", "."))
    except ArithmeticError:
        return None
    if not percent.is_finite() or not -100 <= percent <= 100:
        return None
    return float(percent / 100)


@dataclass
class SectionData:
    key: str
    title: str
    kind: str
    lines: str
    body: str
    parent_key: str | None
    position: int
    depth: int
    items: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ChoiceData:
    text: str
    correct: bool
    # Moodle's fraction: this choice's share of the question's mark, -1..1 (partial
    # credit, see services.grading). None: classic right/wrong by `correct`, which keeps
    # meaning a right answer (fraction 1 on single, fraction > 0 on multiple).
    fraction: float | None = None


@dataclass
class QuestionData:
    key: str
    section: str
    kind: str
    difficulty: int
    status: str
    prompt: str
    explanation: str
    choices: list[ChoiceData]
    covers: list[str]
    origin: str  # "file:line"
    # What it tests (PURPOSES, "" = not tagged) and the keys it is never drawn with.
    # Both are metadata like status: changing them edits the question in place.
    purpose: str = ""
    excludes: list[str] = field(default_factory=list)
    # Contest reserve (never drawn into practice). None: the source does not say, and an
    # import keeps what the bank holds (a file without the field never un-reserves).
    reserve: bool | None = None
    # The metadata fields the source gave explicitly ("status", "difficulty", "covers",
    # "purpose", "excludes"). A question matched to the bank by its content
    # (formats.match_existing) keeps the bank's value only for the others.
    stated: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def content_hash(self) -> str:
        payload = {
            "section": self.section, "kind": self.kind, "difficulty": self.difficulty,
            "prompt": self.prompt, "explanation": self.explanation, "covers": self.covers,
            "choices": [[c.text, c.correct] if c.fraction is None else [c.text, c.correct, c.fraction]
                        for c in self.choices],
        }
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True)
                              .encode()).hexdigest()


@dataclass
class Bank:
    outline_key: str = ""
    outline_version: int = 0
    outline_title: str = ""
    sections: list[SectionData] = field(default_factory=list)
    questions: list[QuestionData] = field(default_factory=list)
    errors: list[Message] = field(default_factory=list)

    @property
    def item_keys(self) -> set[str]:
        return {item["key"] for s in self.sections for item in s.items}


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return None


def _load_file(path: Path, errors: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(Message(at_file_line(path, 1), "not UTF-8 text (%(reason)s)", reason=exc.reason))
        return None
    except OSError as exc:
        errors.append(Message(at_file_line(path, 1), "cannot read (%(reason)s)", reason=exc.strerror))
        return None
    return load_yaml_text(text, path, errors)


def load_yaml_text(text: str, path: Path | str, errors: list[str]) -> Any:
    """Parse YAML text (with line numbers); on a syntax error append "path:line: …" and
    return None."""
    try:
        return yamlpos.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        # libyaml marks an unexpected end of a file without a final newline on the line
        # after the last one: name the last line instead.
        line = min(line, text.count("\n") + (not text.endswith("\n")) or 1)
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(Message(at_file_line(path, line), "YAML syntax error: %(problem)s", problem=problem))
        return None


def _read_outline(path: Path, bank: Bank) -> None:
    data = _load_file(path, bank.errors)
    if data is None:
        return
    if not isinstance(data, dict) or data.get("format") != OUTLINE_FORMAT:
        bank.errors.append(Message(at_file_line(path, 1),
                                   "expected 'format: %(format)s'", format=OUTLINE_FORMAT))
        return
    bank.outline_key = str(data.get("key") or "")
    bank.outline_title = str(data.get("title") or "")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        bank.errors.append(Message(at_file_line(path, data.line_of('version')),
                                   "'version' must be a positive integer"))
    else:
        bank.outline_version = version
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        bank.errors.append(Message(at_file_line(path, data.line), "'sections' must be a non-empty list"))
        return
    seen: set[str] = set()
    seen_items: set[str] = set()
    counter = [0]

    def walk(nodes: list, parent: str | None, depth: int) -> None:
        for node in nodes:
            if not isinstance(node, dict):
                bank.errors.append(Message(at_file_line(path, getattr(nodes, 'line', 1)),
                                           "a section must be a mapping"))
                continue
            where = f"{path}:{node.line}"
            for extra in sorted(set(node) - SECTION_FIELDS):
                bank.errors.append(Message(at_file_line(path, node.line_of(extra)),
                                           "unknown field '%(field)s'", field=extra))
            key = _text(node.get("key"))
            if not key or not KEY_RE.match(key):
                bank.errors.append(Message(where, "section key must be lowercase letters, digits and '-'"))
                continue
            if key in seen:
                bank.errors.append(Message(at_file_line(path, node.line_of('key')),
                                           "section key '%(key)s' used twice", key=key))
                continue
            seen.add(key)
            title = _text(node.get("title"))
            if not title:
                bank.errors.append(Message(where, "section '%(key)s' has no title", key=key))
            kind = node.get("kind")
            if kind not in SECTION_KINDS:
                bank.errors.append(Message(at_file_line(path, node.line_of('kind')),
                                           "section '%(key)s': kind must "
                                           "be one of %(kinds)s", key=key,
                                           kinds=", ".join(sorted(SECTION_KINDS))))
            items = []
            for item in node.get("items") or []:
                if not isinstance(item, dict) or not _text(item.get("key")):
                    bank.errors.append(Message(at_file_line(path, getattr(item, 'line', node.line)),
                                               "an item needs a key"))
                    continue
                for extra in sorted(set(item) - ITEM_FIELDS):
                    bank.errors.append(Message(at_file_line(path, item.line_of(extra)),
                                               "unknown field '%(field)s'", field=extra))
                item_key = _text(item.get("key")) or ""
                if item_key in seen_items:
                    bank.errors.append(Message(at_file_line(path, item.line), "item key '%(key)s' used twice",
                                               key=item_key))
                seen_items.add(item_key)
                items.append({"key": item_key, "label": _text(item.get("label")) or "",
                              "value": _text(item.get("value")) or ""})
            counter[0] += 1
            bank.sections.append(SectionData(
                key=key, title=title or key, kind=str(kind), lines=str(node.get("lines") or ""),
                body=str(node.get("body") or "").strip(), parent_key=parent,
                position=counter[0], depth=depth, items=items))
            children = node.get("children") or []
            if not isinstance(children, list):
                bank.errors.append(Message(at_file_line(path, node.line_of('children')),
                                           "'children' must be a list"))
                continue
            walk(children, key, depth + 1)

    walk(sections, None, 0)


def _read_question(node: Any, path: Path | str, bank: Bank, section_keys: set[str],
                   item_keys: set[str] | None, require_explanation: bool = True) -> QuestionData | None:
    if not isinstance(node, dict):
        bank.errors.append(Message(at_file_line(path, getattr(node, 'line', 1)),
                                   "a question must be a mapping"))
        return None
    errors_before = len(bank.errors)
    where = f"{path}:{node.line}"

    def fault(template: str, at: str | None = None, **params) -> None:
        """An error on the line of the field `at` (the question's first line without one)."""
        line = node.line_of(at) if at else node.line
        bank.errors.append(Message(at_file_line(path, line), template, **params))

    for extra in sorted(set(node) - QUESTION_FIELDS):
        fault("unknown field '%(field)s'", at=extra, field=extra)
    key = _text(node.get("key"))
    if not key or not KEY_RE.match(key):
        fault("question key must be lowercase letters, digits and '-'", at="key")
        key = key or "?"
    section = _text(node.get("section"))
    if not section:
        fault("question '%(key)s' has no section", key=key)
    elif section_keys and section not in section_keys:
        fault("question '%(key)s': unknown section '%(section)s'", at="section", key=key, section=section)
    kind = node.get("kind")
    if kind not in KINDS:
        fault("question '%(key)s': kind must be one of %(kinds)s", at="kind", key=key, kinds=", ".join(KINDS))
    difficulty = node.get("difficulty", 1)
    if not isinstance(difficulty, int) or isinstance(difficulty, bool) or not 1 <= difficulty <= 3:
        fault("question '%(key)s': difficulty must be 1, 2 or 3", at="difficulty", key=key)
        difficulty = 1
    status = node.get("status", "draft")
    if status not in STATUSES:
        fault("question '%(key)s': status must be draft, approved or retired", at="status", key=key)
    purpose = node.get("purpose", "")
    if purpose not in ("", *PURPOSES):
        fault("question '%(key)s': purpose must be one of %(purposes)s", at="purpose", key=key,
              purposes=", ".join(PURPOSES))
        purpose = ""
    excludes_raw = node.get("excludes") or []
    excludes: list[str] = []
    if not isinstance(excludes_raw, list) or not all(
            isinstance(k, str) and KEY_RE.match(k) for k in excludes_raw):
        fault("question '%(key)s': 'excludes' must be a list of question keys", at="excludes", key=key)
    else:
        excludes = [str(k) for k in excludes_raw if k != key]
    reserve = node.get("reserve")
    if reserve is not None and not isinstance(reserve, bool):
        fault("question '%(key)s': 'reserve' must be true or false", at="reserve", key=key)
        reserve = None
    prompt = _text(node.get("prompt"))
    if not prompt:
        fault("question '%(key)s' has an empty prompt", at="prompt", key=key)
    explanation = _text(node.get("explanation"))
    if not explanation and require_explanation:
        fault("question '%(key)s' has an empty explanation", at="explanation", key=key)
    covers_raw = node.get("covers") or []
    covers: list[str] = []
    if not isinstance(covers_raw, list):
        fault("question '%(key)s': 'covers' must be a list", at="covers", key=key)
    else:
        for item in covers_raw:
            # Without an outline (item_keys None) only the key's shape can be checked.
            if (item not in item_keys if item_keys is not None
                    else not isinstance(item, str) or not KEY_RE.match(item)):
                fault("question '%(key)s': unknown outline item '%(item)s'", at="covers", key=key, item=item)
            else:
                covers.append(str(item))

    choices: list[ChoiceData] = []
    if kind == "truefalse":
        if "choices" in node:
            fault("question '%(key)s': a true/false question has 'answer', not 'choices'", at="choices",
                  key=key)
        answer = node.get("answer")
        if not isinstance(answer, bool):
            fault("question '%(key)s': a true/false question needs 'answer: true' or 'answer: false'",
                  at="answer" if "answer" in node else None, key=key)
        else:
            choices = [ChoiceData(TRUE_FALSE_TEXTS[0], answer is True),
                       ChoiceData(TRUE_FALSE_TEXTS[1], answer is False)]
    elif kind in KINDS:
        if "answer" in node:
            fault("question '%(key)s': only true/false questions have 'answer'", at="answer", key=key)
        raw = node.get("choices")
        if not isinstance(raw, list) or len(raw) < 2:
            fault("question '%(key)s' needs at least 2 choices", at="choices" if "choices" in node else None,
                  key=key)
            raw = raw if isinstance(raw, list) else []
        texts: set[str] = set()
        for choice in raw:
            if not isinstance(choice, dict):
                bank.errors.append(Message(at_file_line(path, getattr(raw, 'line', node.line)),
                                           "question '%(key)s': a choice must be a mapping with 'text'",
                                           key=key))
                continue
            for extra in sorted(set(choice) - CHOICE_FIELDS):
                bank.errors.append(Message(at_file_line(path, choice.line_of(extra)),
                                           "unknown field '%(field)s'", field=extra))
            text = _text(choice.get("text"))
            if not text:
                bank.errors.append(Message(at_file_line(path, choice.line),
                                           "question '%(key)s': a choice has no text", key=key))
                continue
            if text in texts:
                bank.errors.append(Message(at_file_line(path, choice.line),
                                           "question '%(key)s': choice '%(choice)s' "
                                           "appears twice", key=key, choice=text))
            texts.add(text)
            correct = choice.get("correct", False)
            if not isinstance(correct, bool):
                bank.errors.append(Message(at_file_line(path, choice.line_of('correct')),
                                           "'correct' must be true or false"))
                correct = False
            fraction = None
            if "credit" in choice:
                fraction = credit_to_fraction(choice.get("credit"))
                if fraction is None:
                    bank.errors.append(Message(at_file_line(path, choice.line_of('credit')),
                                               "question '%(key)s': "
                                               "'credit' is a percent between -100 and 100", key=key))
                elif "correct" in choice and correct != grading.is_correct_choice(kind, fraction, True):
                    bank.errors.append(Message(at_file_line(path, choice.line_of('correct')),
                                               "question '%(key)s': "
                                               "'correct' contradicts 'credit: %(credit)s'", key=key,
                                               credit=choice.get("credit")))
            choices.append(ChoiceData(text, correct, fraction))
        weighted = any(c.fraction is not None for c in choices)
        if weighted:
            for choice in choices:
                choice.fraction = choice.fraction if choice.fraction is not None else 0.0
                choice.correct = grading.is_correct_choice(kind, choice.fraction, choice.correct)
            problem = grading.check_fractions(kind, [c.fraction for c in choices])
            if problem:
                fault("question '%(key)s': %(problem)s", at="choices", key=key,
                      problem=CREDIT_PROBLEMS[problem])
        right = sum(c.correct for c in choices)
        if weighted:
            pass
        elif kind == "single" and choices and right != 1:
            fault("question '%(key)s': a single-choice question needs exactly one right answer, found "
                  "%(count)d", at="choices", key=key, count=right)
        if kind == "multiple" and choices and right == 0:
            fault("question '%(key)s': a multiple-choice question has no right answer", at="choices", key=key)
    if len(bank.errors) > errors_before:
        return None
    return QuestionData(key=key, section=section or "", kind=str(kind), difficulty=difficulty,
                        status=str(status), prompt=prompt or "", explanation=explanation or "",
                        choices=choices, covers=covers, origin=where, purpose=str(purpose),
                        excludes=excludes, reserve=reserve,
                        stated=frozenset(name for name in STATED_FIELDS if name in node))


def read_questions_file(path: Path, bank: Bank) -> None:
    data = _load_file(path, bank.errors)
    if data is None:
        return
    read_questions_data(data, path, bank, {s.key for s in bank.sections}, bank.item_keys)


def read_questions_data(data: Any, path: Path | str, bank: Bank, section_keys: set[str],
                        item_keys: set[str] | None, require_explanation: bool = True) -> None:
    """Check a loaded question file (format line, then each question) into `bank`.

    An empty `section_keys` skips the section check and `item_keys=None` the covered-item
    check (for files read without an outline: the database checks sections later)."""
    if not isinstance(data, dict) or data.get("format") != QUESTIONS_FORMAT:
        bank.errors.append(Message(at_file_line(path, 1),
                                   "expected 'format: %(format)s'", format=QUESTIONS_FORMAT))
        return
    questions = data.get("questions")
    if not isinstance(questions, list):
        bank.errors.append(Message(at_file_line(path, data.line), "'questions' must be a list"))
        return
    for node in questions:
        question = _read_question(node, path, bank, section_keys, item_keys, require_explanation)
        if question is not None:
            bank.questions.append(question)


def read_bank(path: str | Path) -> Bank:
    """Read a bank directory (outline.yaml + bank/*.yaml) or a single question file.

    A single file is checked against the outline of the bundled bank directory it sits
    in, when there is one.
    """
    path = Path(path)
    bank = Bank()
    if path.is_dir():
        outline = path / "outline.yaml"
        if not outline.exists():
            bank.errors.append(Message(at_file_line(outline, 1), "missing outline file"))
        else:
            _read_outline(outline, bank)
        files = sorted((path / "bank").glob("*.yaml")) if (path / "bank").is_dir() else []
        if not files:
            bank.errors.append(Message(at_file_line(path / 'bank', 1), "no question files (*.yaml)"))
    elif path.is_file():
        for candidate in (path.parent / "outline.yaml", path.parent.parent / "outline.yaml"):
            if candidate.exists() and candidate != path:
                _read_outline(candidate, bank)
                break
        files = [path]
    else:
        bank.errors.append(Message(at_file_line(path, 1), "no such file or directory"))
        return bank
    for file in files:
        read_questions_file(file, bank)
    seen: dict[str, str] = {}
    for question in bank.questions:
        if question.key in seen:
            bank.errors.append(Message(question.origin, "question key '%(key)s' already used at %(first)s",
                                       key=question.key, first=Where(seen[question.key])))
        else:
            seen[question.key] = question.origin
    for question in bank.questions:
        for other in question.excludes:
            if other not in seen:
                bank.errors.append(Message(question.origin, "question '%(key)s' excludes unknown question "
                                           "'%(other)s'", key=question.key, other=other))
    return bank
