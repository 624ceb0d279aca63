"""What every question file format shares: the parse result, decoding with a size limit,
keys, and the checks every imported question passes.

Errors are strings that start with where the problem is: "line N: …" for text formats,
"row N: …" for spreadsheets.
"""
from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from ..bank_format import KEY_RE, PURPOSES, STATUSES, TRUE_FALSE_TEXTS, QuestionData
from ..grading import KINDS

MAX_BYTES = 2 * 1024 * 1024
MAX_KEY_LENGTH = 80       # Question.key is String(80)
MAX_COVERS_LENGTH = 500   # Question.covers is String(500), comma-joined


@dataclass
class ParseResult:
    """What a parser read: the valid questions, every error (nothing should be imported
    while there is one), and the items skipped because the app has no such question kind."""
    questions: list[QuestionData] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Lint findings that do not stop an import (formats.lint_parsed): pairs, drafts.
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_size(content: bytes, result: ParseResult, unit: str = "line") -> bool:
    if len(content) > MAX_BYTES:
        result.errors.append(f"{unit} 1: the file is larger than {MAX_BYTES // 1024 // 1024} MiB, "
                             "the limit for a question file")
        return False
    return True


def decode_text(content: bytes, result: ParseResult) -> str | None:
    """UTF-8 text (a BOM is allowed) with newlines normalised to "\\n", or None after
    appending one error (too large, or not UTF-8)."""
    if not check_size(content, result):
        return None
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        result.errors.append("line 1: not UTF-8 text (the file is UTF-16); save it as UTF-8")
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[:exc.start].count(b"\n") + 1
        result.errors.append(f"line {line}: not UTF-8 text (byte 0x{content[exc.start]:02x} "
                             "cannot be read as UTF-8); save the file as UTF-8")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def fold(text: str) -> str:
    """Lowercase ASCII without Vietnamese diacritics ("Đúng/Sai" → "dung/sai")."""
    text = text.lower().replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def slugify(text: str) -> str:
    """A question key from a title: "Câu 1: Quan điểm" → "cau-1-quan-diem" ("" if nothing
    is left)."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    return slug[:MAX_KEY_LENGTH].rstrip("-")


def hash_key(prefix: str, prompt: str) -> str:
    """A stable key for a question whose file gives it none: the same prompt always gets
    the same key, so importing the file again updates instead of duplicating."""
    return f"{prefix}-{hashlib.sha256(prompt.encode('utf-8')).hexdigest()[:8]}"


def choices_key(text: str) -> str:
    """Choices that differ only in case or spacing count as the same choice."""
    return " ".join(text.casefold().split())


def check_question(question: QuestionData, where: str, errors: list[str],
                   section_keys: set[str] | None = None, check_section: bool = True) -> bool:
    """Append "where: …" for every rule the question breaks; True when it breaks none.

    The rules of every format: a key of a-z, 0-9 and '-'; a known kind, difficulty and
    status; a prompt; at least two distinct choices; exactly one right answer (single,
    true/false) or at least one (multiple); an explanation when approved. With
    `section_keys`, the section must be one of them."""
    before = len(errors)
    key = question.key

    def err(message: str) -> None:
        errors.append(f"{where}: {message}")

    if not KEY_RE.match(key) or len(key) > MAX_KEY_LENGTH:
        err(f"key '{key}' must be lowercase letters, digits and '-' (at most {MAX_KEY_LENGTH})")
    if check_section:
        if not question.section:
            err(f"question '{key}' has no section: name one in the file or choose a default section")
        elif section_keys is not None and question.section not in section_keys:
            err(f"question '{key}': unknown section '{question.section}'")
        elif section_keys is None and not KEY_RE.match(question.section):
            err(f"question '{key}': '{question.section}' is not a section key")
    if question.kind not in KINDS:
        err(f"question '{key}': kind must be one of {', '.join(KINDS)}")
    if question.difficulty not in (1, 2, 3):
        err(f"question '{key}': difficulty must be 1, 2 or 3")
    if question.status not in STATUSES:
        err(f"question '{key}': status must be draft, approved or retired")
    if question.purpose not in ("", *PURPOSES):
        err(f"question '{key}': purpose must be one of {', '.join(PURPOSES)}")
    for other in question.excludes:
        if not KEY_RE.match(other) or len(other) > MAX_KEY_LENGTH:
            err(f"question '{key}': '{other}' is not a question key")
    if len(",".join(question.excludes)) > MAX_COVERS_LENGTH:
        err(f"question '{key}': the excluded questions are longer than {MAX_COVERS_LENGTH} characters")
    if not question.prompt.strip():
        err(f"question '{key}' has an empty prompt")
    if question.status == "approved" and not question.explanation.strip():
        err(f"question '{key}' is approved but has no explanation")
    for item in question.covers:
        if not KEY_RE.match(item):
            err(f"question '{key}': '{item}' is not an outline item key")
    if len(",".join(question.covers)) > MAX_COVERS_LENGTH:
        err(f"question '{key}': the covered items are longer than {MAX_COVERS_LENGTH} characters")

    choices = question.choices
    if len(choices) < 2:
        err(f"question '{key}' needs at least 2 choices")
    seen: set[str] = set()
    for choice in choices:
        if not choice.text.strip():
            err(f"question '{key}': a choice has no text")
            continue
        folded = choices_key(choice.text)
        if folded in seen:
            err(f"question '{key}': choice '{choice.text}' appears twice")
        seen.add(folded)
    right = sum(c.correct for c in choices)
    if choices and right == 0:
        err(f"question '{key}' has no right answer")
    elif question.kind in ("single", "truefalse") and right > 1:
        err(f"question '{key}': a one-answer question has {right} right answers")
    if question.kind == "truefalse" and [c.text for c in choices] != list(TRUE_FALSE_TEXTS):
        err(f"question '{key}': a true/false question has the choices "
            f"{TRUE_FALSE_TEXTS[0]}/{TRUE_FALSE_TEXTS[1]}")
    return len(errors) == before


def collect(result: ParseResult, items: list[tuple[QuestionData, str]],
            section_keys: set[str] | None = None, check_section: bool = True) -> None:
    """Check each (question, where) read from one file, refuse a key used twice, and keep
    the valid questions in `result`."""
    first_seen: dict[str, str] = {}
    for question, where in items:
        valid = check_question(question, where, result.errors, section_keys, check_section)
        if question.key in first_seen:
            result.errors.append(f"{where}: key '{question.key}' is already used at "
                                 f"{first_seen[question.key]}")
            valid = False
        else:
            first_seen[question.key] = where
        if valid:
            result.questions.append(question)
