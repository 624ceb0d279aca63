"""The structured outline and the question bank derived from it."""
from __future__ import annotations

import uuid
from datetime import datetime
from itertools import chain

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime

QUESTION_STATUSES = ("draft", "approved", "retired")
# What a question tests (questions/README.md): "" = not tagged yet.
QUESTION_PURPOSES = ("meaning", "application", "distinguish", "target", "recall")


class Section(db.Model):
    """One section of the outline, addressed by a stable key."""

    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")
    source_lines: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    depth: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped["Section | None"] = relationship(remote_side="Section.id", back_populates="children")
    children: Mapped[list["Section"]] = relationship(back_populates="parent", order_by="Section.position")


class Question(db.Model):
    """A question, versioned: a question already used by an attempt is never edited in
    place; a changed import adds version n+1 and marks it current, so past attempts keep
    showing and grading what the member saw."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    difficulty: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    prompt: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text, default="")
    covers: Mapped[str] = mapped_column(String(500), default="")
    # What the question tests (QUESTION_PURPOSES or ""); draw plans cap or require a mix.
    purpose: Mapped[str] = mapped_column(String(20), default="", index=True)
    # Keys of questions that give this one away (or the reverse): never in one attempt.
    excludes: Mapped[str] = mapped_column(String(500), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    # Prompt, choices and key folded to ASCII lowercase: diacritic-insensitive search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Contest reserve: drawn only into contest rounds, never into practice, so a round
    # that draws from the reserve alone leaves practice whole (services.contests.sealing).
    reserve: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Whether its choices carry fractions (partial credit): grading reads them only then.
    partial_credit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Quality flags (comma-separated), refreshed by services.bank.editor.refresh_flags.
    flags: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    section: Mapped[Section] = relationship()
    choices: Mapped[list["Choice"]] = relationship(
        back_populates="question", order_by="Choice.position", cascade="all, delete-orphan")


class Choice(db.Model):
    __tablename__ = "choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(Boolean, default=False)
    # Moodle's fraction, this choice's share of the mark (-1..1); None: classic
    # right/wrong by is_correct (services.grading).
    fraction: Mapped[float | None] = mapped_column(Float)

    question: Mapped[Question] = relationship(back_populates="choices")


class BankRevision(db.Model):
    """One row (id 1): a random token that changes, in the writing transaction, with
    every write to sections, questions or choices, and to a round's corrections (the
    session events below): to everything draws and answer keys are made of. What is
    built from them and cached in a worker (the contests' draw pools, the answer keys
    grading uses) is keyed by it, so the first read after a committed change rebuilds
    it, on every worker. A token, not a counter: a database put back to an earlier
    state (a restore) shows a token it held with that very content."""

    __tablename__ = "bank_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


# The tables whose writes change the token: the bank, and the rounds' corrections (a
# correction re-keys or voids a question for one round: models.contest).
BANK_TABLES = frozenset({"sections", "questions", "choices", "round_question_changes"})


def bank_revision_token(session: Session) -> str | None:
    """The bank's current revision token (None before the first write: cache nothing)."""
    table = BankRevision.__table__
    return session.execute(table.select().with_only_columns(table.c.token)
                           .where(table.c.id == 1)).scalar()


def _new_bank_revision(session: Session) -> None:
    table = BankRevision.__table__
    token = uuid.uuid4().hex
    if session.execute(table.update().where(table.c.id == 1).values(token=token)).rowcount == 0:
        session.execute(table.insert().values(id=1, token=token))


@event.listens_for(Session, "before_flush")
def _bank_objects_written(session: Session, _context, _instances) -> None:
    """A flush that adds, changes or deletes a section, question, choice or correction."""
    for obj in chain(session.new, session.deleted):
        if getattr(obj, "__tablename__", None) in BANK_TABLES:
            _new_bank_revision(session)
            return
    for obj in session.dirty:
        if getattr(obj, "__tablename__", None) in BANK_TABLES and session.is_modified(obj):
            _new_bank_revision(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _bank_tables_written(state: ORMExecuteState) -> None:
    """An INSERT, UPDATE or DELETE statement on a bank table run through the session."""
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in BANK_TABLES:
            _new_bank_revision(state.session)
