"""Aiken (https://docs.moodle.org/en/Aiken_format): one-answer multiple choice.

    Question text on one line?
    A. an option
    B) another option
    ANSWER: B

Options are a capital letter, "." or ")", a space (optional, as Moodle reads them) and
the text; "ANSWER:" names one of
their letters. Blank lines between questions are optional; a question's text may run
over several lines before its first option (joined with spaces). Aiken has no keys,
sections, explanations or difficulty: the key is "aiken-" and 8 hex digits of the prompt's
hash, the section is the default section (required), questions are drafts of difficulty
1. Two options exactly "Đúng" and "Sai" make a true/false question. Writing skips
multiple-answer questions (Aiken has one right answer).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..messages import Message, at_line
from ..schema import TRUE_FALSE_TEXTS, ChoiceData, QuestionData
from ... import grading
from .common import MAX_QUESTIONS, Errors, ParseResult, collect, decode_text, hash_key, too_many_questions

# The space after "A." is optional, as in Moodle's reader ("A)text" is an option).
OPTION_RE = re.compile(r"^([A-Z])[.)][ \t]*(\S.*)$")
ANSWER_RE = re.compile(r"^ANSWER\s*:(.*)$", re.IGNORECASE)


@dataclass
class _Draft:
    line: int
    prompt: list[str]
    options: list[tuple[str, str, int]] = field(default_factory=list)  # letter, text, line


def _finish(draft: _Draft, answer: str, answer_line: int, default_section: str | None,
            errors: Errors) -> QuestionData | None:
    letters = [letter for letter, _, _ in draft.options]
    value = answer.strip().upper()
    if len(draft.options) < 2:
        errors.append(Message(at_line(draft.line), "a question needs at least 2 options (A. …, "
                              "B. …) before 'ANSWER:'"))
        return None
    if not value:
        errors.append(Message(at_line(answer_line), "'ANSWER:' names no letter"))
        return None
    if len(value) != 1 or not value.isalpha():
        errors.append(Message(at_line(answer_line), "'ANSWER: %(answer)s' must be one letter (Aiken "
                              "questions have one right answer)", answer=answer.strip()))
        return None
    if value not in letters:
        errors.append(Message(at_line(answer_line), "the answer %(answer)s is not among the options "
                              "%(letters)s", answer=value, letters=", ".join(letters)))
        return None
    prompt = " ".join(draft.prompt)
    choices = [ChoiceData(text, letter == value) for letter, text, _ in draft.options]
    kind = "truefalse" if [c.text for c in choices] == list(TRUE_FALSE_TEXTS) else "single"
    return QuestionData(key=hash_key("aiken", prompt), section=default_section or "", kind=kind,
                        difficulty=1, status="draft", prompt=prompt, explanation="",
                        choices=choices, covers=[], origin=f"line {draft.line}")


def parse(content: bytes, filename: str = "", default_section: str | None = None, *,
          section_keys: set[str] | None = None) -> ParseResult:
    """Read an Aiken file into single-choice (or Đúng/Sai true/false) drafts in
    `default_section`."""
    result = ParseResult()
    text = decode_text(content, result)
    if text is None:
        return result
    errors = result.errors
    if not default_section:
        errors.append(Message(at_line(1), "Aiken files name no section: choose the section to import "
                              "into"))
    items: list[tuple[QuestionData, str]] = []
    draft: _Draft | None = None
    after_blank = True

    def unfinished(d: _Draft) -> None:
        if d.options:
            errors.append(Message(at_line(d.line), "the question has no 'ANSWER:' line"))
        else:
            errors.append(Message(at_line(d.line), "the question has no options (A. …, B. …) and "
                                  "no 'ANSWER:' line"))

    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            after_blank = True
            continue
        answer = ANSWER_RE.match(line)
        option = OPTION_RE.match(line)
        if answer and len(items) == MAX_QUESTIONS:
            errors.append(too_many_questions(f"line {number}"))
            draft = None
            break
        if answer:
            if draft is None:
                errors.append(Message(at_line(number), "'ANSWER:' without a question before it"))
            else:
                question = _finish(draft, answer.group(1), number, default_section, errors)
                if question is not None:
                    items.append((question, question.origin))
            draft = None
        elif option and draft is not None:
            letter = option.group(1)
            if any(letter == seen for seen, _, _ in draft.options):
                errors.append(Message(at_line(number), "option %(letter)s appears twice", letter=letter))
            else:
                draft.options.append((letter, option.group(2).strip(), number))
        elif draft is not None and not draft.options and not after_blank:
            draft.prompt.append(line)  # the question text goes on
        else:
            if draft is not None:
                unfinished(draft)
            draft = _Draft(number, [line])
        after_blank = False
    if draft is not None:
        unfinished(draft)
    collect(result, items, section_keys, check_section=bool(default_section),
            derived={where for _, where in items})
    return result


def can_dump(question: QuestionData) -> bool:
    """Aiken holds one right answer among at most 26 options, no partial credit, and a
    prompt that does not read as an 'ANSWER:' line."""
    return (not grading.selects_many(question.kind)
            and all(c.fraction is None for c in question.choices)
            and sum(c.correct for c in question.choices) == 1
            and len(question.choices) <= 26
            and not ANSWER_RE.match(_one_line(question.prompt)))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def dump(questions: list[QuestionData]) -> bytes:
    """Single-choice and true/false questions as Aiken; others are left out (see
    can_dump)."""
    lines: list[str] = []
    for question in questions:
        if not can_dump(question):
            continue
        lines.append(_one_line(question.prompt))
        answer = "A"
        for n, choice in enumerate(question.choices):
            letter = chr(ord("A") + n)
            lines.append(f"{letter}. {_one_line(choice.text)}")
            if choice.correct:
                answer = letter
        lines += [f"ANSWER: {answer}", ""]
    return "\n".join(lines).encode("utf-8")
