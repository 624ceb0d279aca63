"""Turning drafts (services.bank.drafting) into draft questions in the bank."""
from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

import yaml
from flask_babel import gettext as _
from sqlalchemy import func, select

from ...extensions import db
from ...models import Question, Section, User
from ..errors import DomainError
from ..people import audit
from . import drafting
from .messages import localized
from .schema import Bank, SectionData, read_bank
from .store import ImportResult, _upsert_sections, fold, upsert_questions

MAX_OUTLINE_BYTES = 2 * 1024 * 1024


def bundled_sections(bank_path: str) -> list[SectionData]:
    bank = read_bank(bank_path)
    if bank.errors:
        raise DomainError(_("The bundled outline has errors: %(e)s", e=localized(bank.errors[0])))
    return bank.sections


def sections_from_upload(content: bytes, filename: str) -> list[SectionData]:
    """A structured outline (.yaml) or a plain one (.txt, .md, .docx), as sections."""
    if len(content) > MAX_OUTLINE_BYTES:
        raise DomainError(_("The file is larger than 2 MB."))
    name = filename.lower()
    if name.endswith((".yaml", ".yml")):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "outline.yaml"
            path.write_bytes(content)
            (Path(folder) / "bank").mkdir()
            (Path(folder) / "bank" / "empty.yaml").write_text(
                "format: quizapp-questions/1\nquestions: []\n", encoding="utf-8")
            bank = read_bank(folder)
        # In the page's language, without the temporary folder ("outline.yaml, dòng 3: …").
        errors = [localized(e).replace(folder + "/", "") for e in bank.errors]
        if errors:
            raise DomainError("; ".join(errors[:5]))
        return bank.sections
    try:
        text = drafting.read_document(content, filename)
    except ValueError as exc:
        raise DomainError(str(exc)) from None
    sections = drafting.parse_plain_outline(text)
    if not sections:
        raise DomainError(_("No outline structure was found in the file."))
    return sections


def namespaced(sections: list[SectionData], prefix: str) -> list[SectionData]:
    """Copies of an uploaded outline's sections under `prefix`-keys, placed after the
    existing outline, so that another outline never overwrites this one's text."""
    start = db.session.scalar(select(func.max(Section.position))) or 0
    out = []
    for s in sections:
        out.append(dataclasses.replace(
            s, key=f"{prefix}{s.key}"[:64], parent_key=f"{prefix}{s.parent_key}"[:64] if s.parent_key else None,
            position=start + s.position,
            items=[dict(item, key=f"{prefix}{item['key']}") for item in s.items]))
    return out


def prefix_for(filename: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", fold(Path(filename).stem)).strip("-")[:20] or "outline"
    return f"{stem}-"


def bundled_contradictions(bank_path: str) -> set[str]:
    """The bundled outline's own contradicted strings (never applied to an upload)."""
    return drafting.default_contradictions(bank_path)


def store_drafts(actor: User, sections: list[SectionData],
                 contradictions: set[str] | None = None) -> dict[str, int]:
    """Add the outline's new sections and the drafts whose keys are new; drafts already
    in the bank are kept as the organizer left them. Sections whose keys exist are not
    changed (callers namespace an uploaded outline first, see `namespaced`).
    `contradictions` are the strings of this outline's own list (none by default)."""
    known = set(db.session.execute(select(Section.key)).scalars())
    result = ImportResult()
    section_rows = _upsert_sections(Bank(sections=[x for x in sections if x.key not in known]), result)
    made = drafting.draft_questions(sections, contradictions or set())
    existing = set(db.session.execute(select(Question.key)).scalars())
    fresh = [q for q in made if q.key not in existing]
    for q in fresh:
        q.status = "draft"
    upsert_questions(fresh, section_rows)
    audit.log(actor, "bank.drafts", "bank", {"created": len(fresh), "kept": len(made) - len(fresh),
                                              "sections": result.sections_created})
    return {"created": len(fresh), "kept": len(made) - len(fresh)}
