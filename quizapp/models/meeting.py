"""Live quiz sessions for the branch meeting: one host screen, players on phones.

The clock of a question lives in its row (started_at, deadline); the session's phase
is what the host last did, and "time is up" is computed from the deadline, never
stored (services.learning.meeting)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .bank import Question
from .org import Unit, User
from .types import UTCDateTime

MEETING_FORMATS = ("points", "bell")
# lobby → question → reveal → leaderboard → question … → finished. "paused" is a flag.
MEETING_PHASES = ("lobby", "question", "reveal", "leaderboard", "finished")


class MeetingSession(db.Model):
    __tablename__ = "meeting_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(10), default="points")
    pin: Mapped[str] = mapped_column(String(6), index=True)
    allow_guests: Mapped[bool] = mapped_column(Boolean, default=False)
    question_seconds: Mapped[int] = mapped_column(Integer, default=20)
    # Sections the rescue questions are drawn from ("" = the whole practice bank).
    section_keys: Mapped[str] = mapped_column(String(500), default="")
    phase: Mapped[str] = mapped_column(String(12), default="lobby")
    # The question being asked or last asked (meeting_questions.id). No foreign key: the
    # two tables would point at each other, which SQLite's batch migrations handle badly.
    current_id: Mapped[int | None] = mapped_column(Integer)
    # While paused during a question: the milliseconds that were left.
    paused_remaining_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    host: Mapped[User] = relationship()


class MeetingQuestion(db.Model):
    """A question of the session, its choice order frozen; a rescue question is added
    while the session runs and only eliminated players answer it."""

    __tablename__ = "meeting_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("meeting_sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    choice_order: Mapped[str] = mapped_column(String(200))
    is_rescue: Mapped[bool] = mapped_column(Boolean, default=False)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    question: Mapped[Question] = relationship()


class MeetingPlayer(db.Model):
    """Attendance: a member (user_id) or a guest (guest_name, never counted)."""

    __tablename__ = "meeting_players"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("meeting_sessions.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    guest_name: Mapped[str | None] = mapped_column(String(60))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int] = mapped_column(Integer, default=0)
    right_answers: Mapped[int] = mapped_column(Integer, default=0)
    # Sum of the answer times of right answers: the tie-break (less is better).
    right_ms: Mapped[int] = mapped_column(Integer, default=0)
    eliminated: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User | None] = relationship()

    @property
    def name(self) -> str:
        return self.user.full_name if self.user is not None else (self.guest_name or "")

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


class MeetingAnswer(db.Model):
    """One answer per player and question (the first one counts)."""

    __tablename__ = "meeting_answers"
    __table_args__ = (UniqueConstraint("player_id", "meeting_question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    player_id: Mapped[int] = mapped_column(ForeignKey("meeting_players.id"), index=True)
    meeting_question_id: Mapped[int] = mapped_column(ForeignKey("meeting_questions.id"), index=True)
    choice_ids: Mapped[str] = mapped_column(String(200))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    elapsed_ms: Mapped[int] = mapped_column(Integer)
    correct: Mapped[bool] = mapped_column(Boolean)
    points: Mapped[int] = mapped_column(Integer, default=0)
