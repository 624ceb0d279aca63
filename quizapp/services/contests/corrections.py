"""Corrections after close: void a question or give it new right answers for one
round, then regrade every attempt of the round with the one answer key.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ...extensions import db
from ...models import Attempt, AttemptQuestion, CollectivePrize, Prize, Question, Round, \
    RoundQuestionChange, User
from .. import attempts
from ..errors import DomainError, NotFound
from ..people import audit
from . import hooks
from .answer_key import answer_key, corrections
from .rounds import rebuild_round, refresh_prediction_actual
from .state import hold, require


def overrides_for(round_id: int) -> dict[int, set[int] | None]:
    """The round's corrections (see answer_key.corrections)."""
    return corrections(round_id)


def round_question_ids(round_: Round) -> list[int]:
    return list(db.session.execute(select(AttemptQuestion.question_id).join(Attempt).where(
        Attempt.round_id == round_.id).distinct()).scalars())


def correct_question(actor: User, round_: Round, question_id: int, action: str, reason: str,
                     correct_choice_ids: list[int] | None = None) -> RoundQuestionChange:
    """Void a question or give it new right answers for this round, after close, then
    regrade every attempt of the round. Logged with who and why. Refused once finalized.

    First the round's grading lock, exclusive: no finish, finalize or prize confirmation
    of this round is in flight from here to the commit (one graded with the old key and
    not committed yet would escape the regrade below), and the round is read again under
    it (a finalize that committed while this waited refuses the correction)."""
    hold(round_)
    require(round_, "closed")
    hooks.send(hooks.results_rebuild_coming, round_)
    if not reason or not reason.strip():
        raise DomainError(_("Give a reason for the correction."))
    if question_id not in round_question_ids(round_):
        raise NotFound(_("That question was not asked in this round."))
    question = db.session.get(Question, question_id)
    if action == "rekey":
        ids = set(correct_choice_ids or [])
        valid = {c.id for c in question.choices}
        if not ids or not ids <= valid:
            raise DomainError(_("Choose the right answers among the question's choices."))
        if question.kind != "multiple" and len(ids) != 1:
            raise DomainError(_("This question takes exactly one right answer."))
        text = ",".join(str(i) for i in sorted(ids))
    elif action == "void":
        text = ""
    else:
        raise DomainError(_("Unknown correction."))
    change = RoundQuestionChange(round_id=round_.id, question_id=question_id, action=action,
                                 correct_choice_ids=text, reason=reason.strip(), actor_id=actor.id)
    db.session.add(change)
    db.session.flush()
    audit.log(actor, f"round.question.{action}", f"round:{round_.id}",
              {"question": question.key, "correct": text}, reason.strip())
    regrade_round(round_, [question_id])
    if round_.prizes_confirmed_at is not None:
        # The ranking may have changed: the confirmed winners must be confirmed again.
        db.session.execute(delete(Prize).where(Prize.round_id == round_.id))
        round_.prizes_confirmed_at = None
        audit.log(actor, "round.prizes.cleared", f"round:{round_.id}", {}, "correction after confirmation")
    # The branch figures (S, hence the index) may have changed too: the collective
    # prizes are cleared the same way and must be confirmed again.
    collective = db.session.execute(select(CollectivePrize.unit_id).where(
        CollectivePrize.round_id == round_.id)).scalars().all()
    if collective:
        db.session.execute(delete(CollectivePrize).where(CollectivePrize.round_id == round_.id))
        audit.log(actor, "round.collective_prizes.cleared", f"round:{round_.id}",
                  {"units": sorted(collective)}, "correction after confirmation")
    db.session.flush()
    return change


def regrade_round(round_: Round, questions: list[int] | None = None) -> None:
    """Regrade every finished attempt of the round with its corrections (or, with
    `questions`, those that hold one of them: the others' grades cannot change), then
    rebuild the counting results, the counters and the prediction actual.
    Deterministic: the same stored answers and corrections always give the same
    scores."""
    # The round's key, corrections included, read once for every attempt.
    key = answer_key(round_question_ids(round_), round_.id)
    attempts.regrade_round_attempts(round_.id, key, holding=questions)
    rebuild_round(round_)
    refresh_prediction_actual(round_)
