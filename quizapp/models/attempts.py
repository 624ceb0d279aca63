"""The timed quiz engine's records: an attempt and its frozen questions."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .bank import Question
from .org import User
from .types import UTCDateTime

IN_PROGRESS = "in_progress"
FINISHED = "finished"


class Attempt(db.Model):
    """One sitting of a quiz by one member.

    `status` is the only stored state and moves once, in_progress → finished, by a
    compare-and-set in services.attempts.finish. Whether an unfinished attempt is still
    open or already past its deadline is derived from the clock (see `state`).
    """

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "start_token"),
        UniqueConstraint("round_id", "user_id", "attempt_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="practice")
    # Contest attempts: the round, the member's n-th attempt at it, the branch at start
    # (the counters stay right if the member later moves) and the tie-break prediction.
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    attempt_no: Mapped[int | None] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    prediction: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[str] = mapped_column(String(20), default="exam")
    title: Mapped[str] = mapped_column(String(300), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    time_limit_seconds: Mapped[int | None] = mapped_column(Integer)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(20), default=IN_PROGRESS, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finish_reason: Mapped[str | None] = mapped_column(String(20))
    # score: questions answered fully right; max_score: questions that count (a voided one
    # does not). points: the credit earned, in hundredths of a question (the sum of the
    # items' credit percents: 7.5 questions' worth is 750). The ranking, the branch
    # averages and S read points against max_score × 100; score stays the count of
    # fully right answers (full scores, the "full scores" prediction).
    score: Mapped[int | None] = mapped_column(Integer)
    max_score: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int | None] = mapped_column(Integer)
    time_taken_seconds: Mapped[int | None] = mapped_column(Integer)
    # Touched by the general save path (save_answer/save_answers): the write that
    # serialises saves against finishing. The one-statement autosave locks the row
    # with FOR NO KEY UPDATE instead and leaves it alone (attempts.autosave).
    last_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A token from the start form: a double click starts one attempt, not two.
    start_token: Mapped[str | None] = mapped_column(String(64))
    # A round attempt drawn for a printed answer sheet (contests.paper): the member ticks
    # the paper, a secretary enters it; its deadline is the round's close + the entry window.
    on_paper: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship()
    round: Mapped["Round | None"] = relationship("Round")  # noqa: F821
    items: Mapped[list["AttemptQuestion"]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position", cascade="all, delete-orphan")

    @property
    def is_finished(self) -> bool:
        return self.status == FINISHED

    @property
    def measured_seconds(self) -> int | None:
        """The time taken as pages show it: None for a paper sheet, whose time cannot be
        measured (it counts as the whole time limit in the ranking; pages print "—")."""
        return None if self.on_paper else self.time_taken_seconds

    def state(self, grace_seconds: int = 0, now: datetime | None = None) -> str:
        """'finished', 'expired' (unfinished, past deadline + grace) or 'in_progress'."""
        if self.status == FINISHED:
            return FINISHED
        now = now or utcnow()
        if self.deadline is not None and now > self.deadline + timedelta(seconds=grace_seconds):
            return "expired"
        return IN_PROGRESS

    def seconds_left(self, now: datetime | None = None) -> int | None:
        if self.deadline is None:
            return None
        now = now or utcnow()
        return max(0, int((self.deadline - now).total_seconds()))


class AttemptQuestion(db.Model):
    """A question frozen into an attempt, with its choice order and the saved answer.

    `selected` holds the chosen choice ids, sorted and comma-joined; one row per
    question, so saving an answer is an UPDATE of this row.
    """

    __tablename__ = "attempt_questions"
    __table_args__ = (
        UniqueConstraint("attempt_id", "position"),
        UniqueConstraint("attempt_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    choice_order: Mapped[str] = mapped_column(String(200))
    selected: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Immediate-feedback practice: once checked, the answer is locked and revealed.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The autosave client's sequence number of the stored answer (retries and late
    # arrivals with a lower number are ignored).
    save_seq: Mapped[int | None] = mapped_column(BigInteger)
    # Which page (a random id per page load) sent save_seq: numbers are compared only
    # between saves of the same page, so another device's clock never matters.
    save_client: Mapped[str | None] = mapped_column(String(32))
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    # The credit earned, integer percent 0..100 (partial credit; is_correct = credit 100).
    credit: Mapped[int | None] = mapped_column(Integer)

    attempt: Mapped[Attempt] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()

    @property
    def choice_ids(self) -> list[int]:
        return [int(x) for x in self.choice_order.split(",") if x]

    @property
    def ordered_choices(self) -> list:
        """The question's choices in the order frozen for this attempt."""
        by_id = {c.id: c for c in self.question.choices}
        return [by_id[i] for i in self.choice_ids if i in by_id]

    @property
    def selected_ids(self) -> set[int]:
        return selected_ids_of(self.selected)


def selected_ids_of(selected: str | None) -> set[int]:
    """The choice ids of a stored answer (AttemptQuestion.selected: sorted,
    comma-joined; None for no answer), for code that reads the column without the row."""
    return {int(x) for x in (selected or "").split(",") if x}
