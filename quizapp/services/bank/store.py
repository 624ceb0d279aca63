"""Loading the bank into the database and counting it."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import AttemptQuestion, Choice, Question, Section
from ..errors import DomainError
from .messages import Message
from .schema import Bank, ChoiceData, QuestionData


class BankInvalid(DomainError):
    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} error(s) in the bank")
        self.errors = errors


@dataclass
class ImportResult:
    sections_created: int = 0
    sections_updated: int = 0
    created: int = 0
    updated: int = 0
    new_versions: int = 0
    unchanged: int = 0


def _upsert_sections(bank: Bank, result: ImportResult) -> dict[str, Section]:
    existing = {s.key: s for s in db.session.execute(select(Section)).scalars()}
    for data in bank.sections:
        section = existing.get(data.key)
        values = dict(title=data.title, kind=data.kind, body=data.body,
                      source_lines=data.lines, position=data.position, depth=data.depth)
        if section is None:
            section = Section(key=data.key, **values)
            db.session.add(section)
            existing[data.key] = section
            result.sections_created += 1
        elif any(getattr(section, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(section, k, v)
            result.sections_updated += 1
    db.session.flush()
    for data in bank.sections:
        parent = existing[data.parent_key] if data.parent_key else None
        existing[data.key].parent_id = parent.id if parent else None
    db.session.flush()
    return existing


def _fill(question: Question, data: QuestionData, section: Section, digest: str) -> None:
    question.section_id = section.id
    question.kind = data.kind
    question.difficulty = data.difficulty
    question.status = data.status
    question.prompt = data.prompt
    question.explanation = data.explanation
    question.covers = ",".join(data.covers)
    question.purpose = data.purpose
    question.excludes = ",".join(data.excludes)
    question.content_hash = digest
    question.search_text = search_text(data.prompt + " " + " ".join(c.text for c in data.choices)
                                       + " " + data.key)


def fold(text: str) -> str:
    """Lowercase without Vietnamese diacritics ("Quan điểm" → "quan diem"), for search."""
    text = text.lower().replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def search_text(text: str) -> str:
    return " ".join(fold(text).split())[:4000]


def _set_choices(question: Question, data: QuestionData) -> None:
    question.choices = [Choice(position=i, text=c.text, is_correct=c.correct, fraction=c.fraction)
                        for i, c in enumerate(data.choices)]
    question.partial_credit = any(c.fraction is not None for c in data.choices)


def import_bank(bank: Bank) -> ImportResult:
    """Upsert the outline's sections and the questions by key, all or nothing.

    Raises BankInvalid (nothing written) when the bank has errors. A question whose
    content changed is edited in place if no attempt has used it; otherwise a new
    version is added and becomes current, so past attempts keep their wording.
    Importing the same bank twice changes nothing.
    """
    if bank.errors:
        raise BankInvalid(bank.errors)
    result = ImportResult()
    sections = _upsert_sections(bank, result)
    upsert_questions(bank.questions, sections, result)
    return result


def upsert_questions(questions: list[QuestionData], sections: dict[str, Section] | None = None,
                     result: ImportResult | None = None) -> ImportResult:
    """Create or update questions by key (see import_bank for the versioning rule).
    Every `section` must exist; raises BankInvalid listing the ones that do not."""
    result = result or ImportResult()
    if sections is None:
        sections = {s.key: s for s in db.session.execute(select(Section)).scalars()}
    missing = sorted({q.section for q in questions if q.section not in sections})
    if missing:
        raise BankInvalid([Message(q.origin, "unknown section '%(section)s'", section=q.section)
                           for q in questions if q.section in missing])
    current = {q.key: q for q in db.session.execute(
        select(Question).where(Question.is_current.is_(True))).scalars()}
    used_ids = set(db.session.execute(select(AttemptQuestion.question_id).distinct()).scalars())
    for data in questions:
        save_question(data, sections[data.section], current.get(data.key),
                      current.get(data.key) is not None and current[data.key].id in used_ids, result)
    db.session.flush()
    return result


def save_question(data: QuestionData, section: Section, question: Question | None, used: bool,
                  result: ImportResult | None = None) -> Question:
    """One question's upsert: new, unchanged, edited in place, or (when attempts used it)
    a new current version."""
    result = result or ImportResult()
    digest = data.content_hash()
    if question is None:
        question = Question(key=data.key, version=1, is_current=True, reserve=bool(data.reserve))
        _fill(question, data, section, digest)
        _set_choices(question, data)
        db.session.add(question)
        result.created += 1
    elif question.content_hash == digest and _metadata(question) == _metadata(data, question):
        result.unchanged += 1
    elif question.content_hash == digest:
        # Status, purpose, exclusions and reserve are how a question is used, not what a
        # member saw: no new version.
        question.status = data.status
        question.purpose = data.purpose
        question.excludes = ",".join(data.excludes)
        question.reserve = _reserve(data, question)
        result.updated += 1
    elif used:
        question.is_current = False
        db.session.flush()
        newer = Question(key=data.key, version=question.version + 1, is_current=True,
                         reserve=_reserve(data, question))
        _fill(newer, data, section, digest)
        _set_choices(newer, data)
        db.session.add(newer)
        result.new_versions += 1
        question = newer
    else:
        _fill(question, data, section, digest)
        _set_choices(question, data)
        question.reserve = _reserve(data, question)
        result.updated += 1
    return question


def _metadata(item: Question | QuestionData,
              question: Question | None = None) -> tuple[str, str, str, bool]:
    """Status, purpose, exclusions and reserve flag. For data, the reserve flag is the one
    the upsert would store into `question` (see _reserve)."""
    excludes = item.excludes if isinstance(item.excludes, str) else ",".join(item.excludes)
    if isinstance(item, Question):
        reserve = bool(item.reserve)
    else:
        assert question is not None
        reserve = _reserve(item, question)
    return item.status, item.purpose or "", excludes or "", reserve


def _reserve(data: QuestionData, question: Question) -> bool:
    """The reserve flag after an upsert: what the data says, else what the bank holds."""
    return bool(question.reserve) if data.reserve is None else data.reserve


def to_data(question: Question) -> QuestionData:
    """A stored question as format-neutral data (for exports and the editor)."""
    return QuestionData(
        key=question.key, section=question.section.key, kind=question.kind,
        difficulty=question.difficulty, status=question.status, prompt=question.prompt,
        explanation=question.explanation,
        choices=[ChoiceData(c.text, c.is_correct, c.fraction) for c in question.choices],
        covers=[c for c in question.covers.split(",") if c], origin=f"question:{question.key}",
        purpose=question.purpose or "", excludes=[k for k in (question.excludes or "").split(",") if k],
        reserve=bool(question.reserve))


def current_data(exclude_key: str | None = None) -> list[QuestionData]:
    """Every current question as data (choices and sections loaded up front), for the
    linter's checks across the bank."""
    rows = db.session.execute(
        select(Question).where(Question.is_current.is_(True))
        .options(selectinload(Question.choices), selectinload(Question.section))).scalars()
    return [to_data(q) for q in rows if q.key != exclude_key]


def current_questions() -> list[Question]:
    return list(db.session.execute(
        select(Question).join(Section).where(Question.is_current.is_(True))
        .order_by(Section.position, Question.key)).scalars())


def stats() -> dict:
    """Counts of current questions: total, approved, by section key, by kind, and the
    approved ones by purpose ("untagged" for none)."""
    total = db.session.scalar(select(func.count()).select_from(Question)
                              .where(Question.is_current.is_(True))) or 0
    approved = db.session.scalar(select(func.count()).select_from(Question).where(
        Question.is_current.is_(True), Question.status == "approved")) or 0
    by_section = dict(db.session.execute(
        select(Section.key, func.count(Question.id)).join(Question, Question.section_id == Section.id)
        .where(Question.is_current.is_(True)).group_by(Section.key).order_by(Section.key)).all())
    by_kind = dict(db.session.execute(
        select(Question.kind, func.count(Question.id)).where(Question.is_current.is_(True))
        .group_by(Question.kind).order_by(Question.kind)).all())
    by_purpose = {(p or "untagged"): n for p, n in db.session.execute(
        select(Question.purpose, func.count(Question.id)).where(
            Question.is_current.is_(True), Question.status == "approved")
        .group_by(Question.purpose).order_by(Question.purpose)).all()}
    return {"total": total, "approved": approved, "by_section": by_section, "by_kind": by_kind,
            "by_purpose": dict(sorted(by_purpose.items()))}


def file_stats(bank: Bank) -> dict:
    """The same counts, read from files instead of the database."""
    by_section: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    by_purpose: dict[str, int] = {}
    for q in bank.questions:
        by_section[q.section] = by_section.get(q.section, 0) + 1
        by_kind[q.kind] = by_kind.get(q.kind, 0) + 1
        if q.status == "approved":
            by_purpose[q.purpose or "untagged"] = by_purpose.get(q.purpose or "untagged", 0) + 1
    return {"total": len(bank.questions),
            "approved": sum(q.status == "approved" for q in bank.questions),
            "by_section": dict(sorted(by_section.items())), "by_kind": dict(sorted(by_kind.items())),
            "by_purpose": dict(sorted(by_purpose.items()))}
