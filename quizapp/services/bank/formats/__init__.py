"""Question files in and out: the app's YAML, Moodle GIFT, Moodle XML, Aiken and Excel .xlsx.

Each format module has `parse(content, filename, default_section, *, section_keys=None)
-> ParseResult` (questions, errors "line N: …" / "row N: …", skipped items) and
`dump(questions) -> bytes`; `FORMATS` wraps them. Parsing never touches the database
except through `Format.parse`, which, inside an app context and without explicit
`section_keys`, checks sections against the database's. Importing is all or nothing:
`import_parsed` refuses a result with any error.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import ModuleType

from flask import has_app_context
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....models import Question, Section
from ..lint import Finding, lint_against
from ..messages import Message
from ..schema import QuestionData
from ..store import BankInvalid, current_data, current_questions, to_data, upsert_questions
from . import aiken, gift, moodle_xml, xlsx, yaml_format
from .common import MAX_BYTES, ParseResult

__all__ = ["FORMATS", "MAX_BYTES", "Format", "ParseResult", "detect", "export_current",
           "import_parsed", "known_section_keys", "lint_parsed", "section_paths"]


def known_section_keys() -> dict[str, str] | None:
    """The database's sections, key → title (a GIFT category may name either; other
    uses need only the keys), or None outside an app context."""
    if not has_app_context():
        return None

    return {key: title for key, title in db.session.execute(select(Section.key, Section.title)).all()}


def section_paths() -> dict[str, list[str]] | None:
    """Each section's path of titles from the top (key → titles), or None outside an app
    context: Moodle XML files questions in categories named so."""
    if not has_app_context():
        return None
    rows = db.session.execute(select(Section.id, Section.key, Section.title, Section.parent_id)).all()
    by_id = {row.id: row for row in rows}
    paths: dict[str, list[str]] = {}
    for row in rows:
        path, seen, at = [], set(), row
        while at is not None and at.id not in seen:
            seen.add(at.id)
            path.append(at.title)
            at = by_id.get(at.parent_id)
        paths[row.key] = path[::-1]
    return paths


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    extension: str   # for downloads, e.g. "gift.txt"
    mimetype: str
    module: ModuleType

    def parse(self, content: bytes, filename: str = "", default_section: str | None = None, *,
              section_keys: Collection[str] | None = None,
              category_sections: Mapping[str, str] | None = None) -> ParseResult:
        """Read a file. Sections are checked against `section_keys`, by default the
        database's (inside an app context). `category_sections` (category → section key,
        the preview's choices) places the questions of categories that name no section;
        only formats with categories (GIFT, Moodle XML) have any."""
        if section_keys is None:
            section_keys = known_section_keys()
        extra = {"category_sections": category_sections} if category_sections else {}
        result = self.module.parse(content, filename, default_section, section_keys=section_keys, **extra)
        match_existing(result)
        return result

    def dump(self, questions: list[QuestionData]) -> bytes:
        """The questions this format can hold (see `unsupported`) as a file."""
        if getattr(self.module, "USES_SECTION_PATHS", False):
            return self.module.dump(questions, section_paths=section_paths())
        return self.module.dump(questions)

    def unsupported(self, questions: list[QuestionData]) -> list[QuestionData]:
        """The questions `dump` leaves out (Aiken: multiple-answer ones)."""
        return [q for q in questions if not self.module.can_dump(q)]


TEXT = "text/plain; charset=utf-8"
FORMATS: dict[str, Format] = {
    "yaml": Format("yaml", "YAML (quizapp-questions/1)", "yaml", "application/yaml", yaml_format),
    "gift": Format("gift", "Moodle GIFT", "gift.txt", TEXT, gift),
    "xml": Format("xml", "Moodle XML", "xml", "application/xml", moodle_xml),
    "aiken": Format("aiken", "Aiken", "aiken.txt", TEXT, aiken),
    "xlsx": Format("xlsx", "Excel (.xlsx)", "xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx),
}


# A Moodle XML file: an optional XML declaration and comments, then <quiz>.
# A comment cannot run past its own "-->", so a long file cannot make the pattern backtrack.
_QUIZ_ROOT = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--(?:(?!-->).)*-->\s*)*<quiz[\s>/]",
                        re.DOTALL)


def detect(filename: str, content: bytes | None = None) -> str | None:
    """The format a file name suggests: .yaml/.yml, .gift (or .gift.txt), .xml, .aiken.txt,
    .xlsx; a file whose `content` starts with a <quiz> root is Moodle XML whatever its
    name; a plain .txt is Aiken unless `content` looks like GIFT (braces, no "ANSWER:"
    line). None when neither tells."""
    name = (filename or "").lower().strip()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith((".gift", ".gift.txt")):
        return "gift"
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".xml") or (content is not None and _QUIZ_ROOT.match(content[:65536])):
        return "xml"
    if name.endswith((".aiken", ".aiken.txt")):
        return "aiken"
    if name.endswith(".txt"):
        if content is not None:
            text = content[:MAX_BYTES].decode("utf-8", errors="replace")
            if not re.search(r"(?mi)^\s*ANSWER\s*:", text) and "{" in text and "}" in text:
                return "gift"
        return "aiken"
    return None


def match_existing(result: ParseResult) -> None:
    """Give a question the bank already holds, word for word, its key in the bank.

    A file that names no key (Aiken, GIFT without titles, Excel rows without a key) or
    names another one (a title in someone else's file) still re-imports as the same
    question: a question whose key the bank does not have, but whose prompt and choices
    (text and rightness) are those of one current question, takes that question's key,
    and what the file does not say (section, difficulty, status, covered items, an
    explanation, purpose or exclusions it lacks) is kept from the bank; what it states
    (QuestionData.stated: a status cell, a 'quizapp:' token) is imported. So importing our own export in any
    format changes nothing. Outside an app context (no bank), nothing is done."""
    if not has_app_context() or not result.questions:
        return

    prompts = {q.prompt for q in result.questions}
    try:
        current = list(db.session.execute(
            select(Question).where(Question.is_current.is_(True), Question.prompt.in_(prompts))
            .options(selectinload(Question.choices), selectinload(Question.section))).scalars())
        keys = set(db.session.execute(select(Question.key).where(Question.is_current.is_(True)))
                   .scalars())
    except SQLAlchemyError:   # validating a file without a database
        db.session.rollback()
        return
    by_content: dict[tuple, list[Question]] = {}
    for question in current:
        fingerprint = (question.prompt, tuple((c.text, c.is_correct) for c in question.choices))
        by_content.setdefault(fingerprint, []).append(question)
    taken = {q.key for q in result.questions}
    for data in result.questions:
        if data.key in keys:
            continue
        same = by_content.get((data.prompt, tuple((c.text, c.correct) for c in data.choices)), [])
        if len(same) != 1 or same[0].key in taken:
            continue
        stored = same[0]
        taken.add(stored.key)
        data.key = stored.key
        data.section = stored.section.key
        # What the file states (a status column, a 'quizapp:' token) stands; the rest is
        # the bank's. The reserve flag needs nothing: None already keeps the bank's.
        if "difficulty" not in data.stated:
            data.difficulty = stored.difficulty
        if "status" not in data.stated:
            data.status = stored.status
        if "covers" not in data.stated:
            data.covers = [c for c in stored.covers.split(",") if c]
        data.explanation = data.explanation or stored.explanation
        if "purpose" not in data.stated:
            data.purpose = data.purpose or (stored.purpose or "")
        if "excludes" not in data.stated:
            data.excludes = data.excludes or [k for k in (stored.excludes or "").split(",") if k]


def lint_parsed(result: ParseResult, forbidden: list[str]) -> None:
    """Run the bank linter on a parse result against the current bank (bank.lint):
    a finding about an approved question alone becomes an error (nothing is imported
    until it is fixed), the rest (giveaway pairs with the bank, drafts) warnings."""

    if not result.questions:
        return
    bank: list = []
    if has_app_context():
        try:
            bank = current_data()
        except SQLAlchemyError:   # validating a file without a database: lint it alone
            db.session.rollback()
    errors, warnings = lint_against(result.questions, bank, forbidden)
    result.errors.extend(_finding(f) for f in errors)
    result.warnings.extend(_finding(f) for f in warnings)


def _finding(finding: Finding) -> Message:
    """A lint finding as the parsers' messages are, so that its place ("line 12") is
    shown in the page's language too; its text is already in it (the linter translates)."""
    return Message(finding.origin, "[%(rule)s] %(key)s: %(message)s", rule=finding.rule,
                   key=finding.key, message=finding.message)


def import_parsed(result: ParseResult):
    """Upsert a parse result's questions by key (services.bank.upsert_questions: a changed
    question used by attempts gets a new version). Raises BankInvalid, writing nothing,
    when the result has errors or a section is unknown. The caller commits."""
    if result.errors:
        raise BankInvalid(result.errors)
    return upsert_questions(result.questions)


def export_current(name: str) -> tuple[bytes, int, int]:
    """Every current question in format `name`: (file content, questions written,
    questions the format cannot hold and left out)."""
    fmt = FORMATS[name]
    questions = [to_data(q) for q in current_questions()]
    left_out = len(fmt.unsupported(questions))
    return fmt.dump(questions), len(questions) - left_out, left_out
