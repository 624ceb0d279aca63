"""Daily review records: one FSRS card per member and question key, one log row per answer."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .bank import Question
from .org import User
from .types import UTCDateTime


class ReviewCard(db.Model):
    """What the scheduler knows of one member and one question (by key, so a new version
    of the question keeps the member's history).

    `fsrs_card` is the `fsrs.Card` serialised (`Card.to_json`); `due`, `state` and
    `last_review` repeat it in columns so the daily set is one indexed query. `reps`
    counts the answers recorded and is the compare-and-set guard of an answer: a double
    submit of one serving finds it moved on and counts once."""

    __tablename__ = "review_cards"
    __table_args__ = (
        UniqueConstraint("user_id", "question_key"),
        Index("ix_review_cards_user_id_due", "user_id", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question_key: Mapped[str] = mapped_column(String(80))
    fsrs_card: Mapped[str] = mapped_column(Text)
    state: Mapped[int] = mapped_column(Integer)
    due: Mapped[datetime] = mapped_column(UTCDateTime)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()


class ReviewLog(db.Model):
    """One answer in the daily review: the question version shown, the choices picked,
    the grade given to FSRS and the member's local day (for streaks)."""

    __tablename__ = "review_logs"
    __table_args__ = (
        Index("ix_review_logs_user_id_day", "user_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("review_cards.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The member's branch when he answered (the review figure of the standings counts it
    # there, as an attempt counts in the unit it was started in).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    selected: Mapped[str] = mapped_column(String(200), default="")
    correct: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The day in the configured zone (TIMEZONE) at reviewed_at: streaks and "done today".
    day: Mapped[date] = mapped_column(Date)

    card: Mapped[ReviewCard] = relationship()
    question: Mapped[Question] = relationship()

    @property
    def selected_ids(self) -> set[int]:
        return {int(x) for x in self.selected.split(",") if x}
