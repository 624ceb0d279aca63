"""The app's own question file (format: quizapp-questions/1, see questions/README.md).

Parsing reuses the bundled bank's reader, without an outline: sections are checked
against `section_keys` when given (the database's), covered items only for their shape.
An empty explanation is allowed here unless the question is approved (drafts imported
from Aiken have none), so anything the bank holds exports and imports back.
"""
from __future__ import annotations

import re

from ..messages import Message, at_file_line
from ..schema import QUESTIONS_FORMAT, TRUE_FALSE_TEXTS, fraction_to_credit, Bank, QuestionData, load_yaml_text, \
    read_questions_data
from .common import MAX_QUESTIONS, ParseResult, collect, decode_text, too_many_questions

_SOURCE = "yaml"  # the name bank_format puts in front of line numbers; replaced by "line"
_LOCATED = re.compile(rf"{_SOURCE}:(\d+)")


def _relocate(message: Message) -> Message:
    """The schema's "yaml:12: …" as "line 12: …", as every other format says it."""
    match = _LOCATED.fullmatch(message.where)
    return message.at(f"line {match.group(1)}") if match else message


def parse(content: bytes, filename: str = "", default_section: str | None = None, *,
          section_keys: set[str] | None = None) -> ParseResult:
    """Read a quizapp-questions/1 file. Questions without `section` get `default_section`."""
    result = ParseResult()
    text = decode_text(content, result)
    if text is None:
        return result
    bank = Bank()
    data = load_yaml_text(text, _SOURCE, bank.errors)
    if data is None and not bank.errors:
        bank.errors.append(Message(at_file_line(_SOURCE, 1),
                                   "expected 'format: %(format)s'", format=QUESTIONS_FORMAT))
    if isinstance(data, dict) and isinstance(data.get("questions"), list) \
            and len(data["questions"]) > MAX_QUESTIONS:
        node = data["questions"][MAX_QUESTIONS]
        result.errors.append(too_many_questions(f"line {getattr(node, 'line', 1)}"))
        return result
    if data is not None:
        if default_section and isinstance(data, dict) and isinstance(data.get("questions"), list):
            for node in data["questions"]:
                if isinstance(node, dict) and "section" not in node:
                    node["section"] = default_section
                    node.key_lines["section"] = node.line
        read_questions_data(data, _SOURCE, bank, set(section_keys or ()), None,
                            require_explanation=False)
    result.errors.extend(_relocate(e) for e in bank.errors)
    for question in bank.questions:
        question.origin = re.sub(rf"^{_SOURCE}:(\d+)$", r"line \1", question.origin)
    collect(result, [(q, q.origin) for q in bank.questions], section_keys)
    return result


def can_dump(question: QuestionData) -> bool:
    return True


# Characters a double-quoted scalar may hold as they are; the others (line breaks, tabs,
# control characters, a BOM) are written as escapes, so nothing is folded or trimmed.
_TO_ESCAPE = re.compile(r'[\\"]|[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd'
                        r'\U00010000-\U0010ffff]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    ch = match.group()
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _quoted(text: str) -> str:
    """A double-quoted YAML scalar holding exactly `text`."""
    return '"' + _TO_ESCAPE.sub(_escape, text) + '"'


def dump(questions: list[QuestionData]) -> bytes:
    """The questions as a quizapp-questions/1 file (lossless: parse gives them back)."""
    lines = [f"format: {QUESTIONS_FORMAT}", "questions:" if questions else "questions: []"]
    for question in questions:
        lines += [
            f"  - key: {_quoted(question.key)}",
            f"    section: {_quoted(question.section)}",
            f"    kind: {question.kind}",
            f"    difficulty: {question.difficulty}",
            f"    status: {question.status}",
        ]
        if question.purpose:
            lines.append(f"    purpose: {question.purpose}")
        if question.reserve:
            lines.append("    reserve: true")
        if question.covers:
            lines.append(f"    covers: [{', '.join(_quoted(c) for c in question.covers)}]")
        if question.excludes:
            lines.append(f"    excludes: [{', '.join(_quoted(c) for c in question.excludes)}]")
        lines.append(f"    prompt: {_quoted(question.prompt)}")
        if question.kind == "truefalse":
            right = next((c.correct for c in question.choices if c.text == TRUE_FALSE_TEXTS[0]),
                         bool(question.choices and question.choices[0].correct))
            lines.append(f"    answer: {'true' if right else 'false'}")
        else:
            lines.append("    choices:")
            for choice in question.choices:
                lines.append(f"      - text: {_quoted(choice.text)}")
                if choice.correct:
                    lines.append("        correct: true")
                if choice.fraction is not None:
                    lines.append(f"        credit: {fraction_to_credit(choice.fraction)}")
        lines.append(f"    explanation: {_quoted(question.explanation)}")
        lines.append("")
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")
