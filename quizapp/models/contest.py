"""Contests, rounds, per-round results and counters, prizes and the audit log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .org import Unit, User
from .types import UTCDateTime

ROUND_STATES = ("draft", "scheduled", "open", "closed", "finalized")
COUNTING_RULES = ("best", "first", "last")
RESULT_VISIBILITY = ("at_submit", "at_close", "on_publish")
PREDICTION_KINDS = ("participants", "full_scores")
PRIZE_TIERS = ("first", "second", "third", "consolation")
QUESTION_POOLS = ("all", "reserve")


class Contest(db.Model):
    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    rules: Mapped[str] = mapped_column(Text, default="")
    # Empty audience = every unit.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Emulation index weights in percent (sum 100) and whether the branch standings are
    # public (readable without logging in).
    weight_participation: Mapped[int] = mapped_column(Integer, default=50)
    weight_score: Mapped[int] = mapped_column(Integer, default=40)
    weight_improvement: Mapped[int] = mapped_column(Integer, default=10)
    # Weight of the daily review figure R (services.branches.standings); 0 = not counted.
    weight_review: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    public_standings: Mapped[bool] = mapped_column(Boolean, default=False)

    rounds: Mapped[list["Round"]] = relationship(back_populates="contest", order_by="Round.opens_at")
    audience: Mapped[list[Unit]] = relationship(secondary="contest_audience", order_by="Unit.position")


class ContestAudience(db.Model):
    __tablename__ = "contest_audience"

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)


class Round(db.Model):
    """One contest round. Its state is derived (see services.contests.round_state): from
    the organizer's actions (scheduled_at, finalized_at) and the clock (opens_at,
    closes_at)."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_limit_seconds: Mapped[int] = mapped_column(Integer)
    question_count: Mapped[int] = mapped_column(Integer)
    # One line per rule: "section: N", "section: N each", "section: rest".
    draw_plan: Mapped[str] = mapped_column(Text, default="")
    # Which questions the draw plan draws from: "all" approved ones (reserve included)
    # or the contest "reserve" only (see QUESTION_POOLS and services.contests.sealing).
    question_pool: Mapped[str] = mapped_column(String(10), default="all", server_default="all")
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_choices: Mapped[bool] = mapped_column(Boolean, default=True)
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=1)
    counting: Mapped[str] = mapped_column(String(10), default="best")
    results_visibility: Mapped[str] = mapped_column(String(20), default="at_close")
    prediction_kind: Mapped[str | None] = mapped_column(String(20))
    prediction_actual: Mapped[int | None] = mapped_column(Integer)
    prize_first: Mapped[int] = mapped_column(Integer, default=1)
    prize_second: Mapped[int] = mapped_column(Integer, default=2)
    prize_third: Mapped[int] = mapped_column(Integer, default=3)
    prize_consolation: Mapped[int] = mapped_column(Integer, default=5)
    # Whether attempts answered on a printed sheet (Attempt.on_paper, entered by a
    # secretary) may win individual prizes; they count for participation and standings
    # either way (contests.prizes).
    paper_prizes: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    prizes_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contest: Mapped[Contest] = relationship(back_populates="rounds")


class RoundResult(db.Model):
    """The attempt that counts for one member in one round (best, first or last, by the
    round's rule), maintained in the same transaction as the finish that changes it."""

    __tablename__ = "round_results"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    score: Mapped[int] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # hundredths
    time_taken_seconds: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prediction: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship()
    unit: Mapped[Unit] = relationship()


class RoundUnitStats(db.Model):
    """Per-branch counters for one round, incremented in the transactions that start and
    finish attempts; the live view and standings read these, never the attempts."""

    __tablename__ = "round_unit_stats"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    started: Mapped[int] = mapped_column(Integer, default=0)
    finished: Mapped[int] = mapped_column(Integer, default=0)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[int] = mapped_column(Integer, default=0)
    # Sum of the counted attempts' points (hundredths of a question: partial credit).
    points_sum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Sum of the counted attempts' maximum scores (they differ after a voided question).
    max_sum: Mapped[int] = mapped_column(Integer, default=0)
    full_scores: Mapped[int] = mapped_column(Integer, default=0)
    # Member-days of daily review in the round's period (members who count, each local
    # day at most once): services.branches.counters.after_review.
    review_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    unit: Mapped[Unit] = relationship()


class RoundSectionStats(db.Model):
    """Per branch and outline section, answers given and answers right in one round
    (members who count in the movement only): the mastery heat map."""

    __tablename__ = "round_section_stats"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    answered: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)


class RoundQuestionChange(db.Model):
    """A correction after close: a question voided (counts for nobody) or re-keyed
    (new right answers). Regrading applies every change of the round, in id order."""

    __tablename__ = "round_question_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    action: Mapped[str] = mapped_column(String(10))  # void | rekey
    correct_choice_ids: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User] = relationship()


class RoundExtraTime(db.Model):
    """Extra minutes granted to one member for one round (an accommodation, as Moodle's
    user overrides): his attempt runs time limit + extra, and the round's close moves
    for him by the same extra (contests.extra_time)."""

    __tablename__ = "round_extra_time"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Prize(db.Model):
    __tablename__ = "prizes"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"))
    tier: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    confirmed_by: Mapped[User] = relationship(foreign_keys=[confirmed_by_id])


class CollectivePrize(db.Model):
    """A branch's collective prize for a round, as an organizer confirmed it: the
    figures are the ones the organizer saw (the emulation index and its arithmetic at
    confirmation), so the record and its export do not drift if rosters change later.
    A correction of the round deletes these rows, like individual prizes."""

    __tablename__ = "collective_prizes"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    tier: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)
    # Printed figures (decimal text, as on the page): P, S, G and the index.
    roster: Mapped[int] = mapped_column(Integer)
    participants: Mapped[int] = mapped_column(Integer)
    participation: Mapped[str] = mapped_column(String(12))
    score: Mapped[str] = mapped_column(String(12))
    improvement: Mapped[str] = mapped_column(String(12))
    index_value: Mapped[str] = mapped_column(String(12))
    arithmetic: Mapped[str] = mapped_column(String(200))
    # The proposal had a tie across two prize places (or the last one) here and the
    # organizer confirmed it knowingly.
    tie_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    confirmed_by: Mapped[User] = relationship()


class AuditLog(db.Model):
    """Who changed what, when and why (round edits, regrades, prizes, transitions)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()
