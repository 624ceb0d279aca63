"""The answer key: which choices are right, after a round's corrections.

One function, `answer_key`, says it for grading (attempts receives it through
attempts.hooks.round_answer_key, connected by contests.connect_hooks), the result and
review pages, the immediate check, item analysis, exports and the correction form.
Before it existed grading applied the round's corrections while the pages read
`Choice.is_correct`, so after a re-key the result page showed the old right answer next
to a score computed with the new one (issue 10, case 5).

The bank's key is attempts.bank_key (practice is graded by it alone); the round's
corrections are read here.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from ...extensions import db
from ...models import BankRevision, Question, RoundQuestionChange
from ..attempts import bank_key
from ..attempts.hooks import AnswerKey


# (bank revision token, round id) → the round's corrections. The token changes with
# every correction (models.bank.BankRevision), so a submit reads none while it holds.
_CORRECTIONS: dict[tuple[str, int], AnswerKey] = {}
_CORRECTIONS_KEPT = 4096


def corrections(round_id: int, token: str | None = None) -> AnswerKey:
    """question id → the right choice ids after the round's corrections, or None when
    voided, for the corrected questions only. Later changes win. `token`: the bank's
    revision read in this transaction, to use (and keep) what was read for it. The
    result is shared: callers copy before changing it (answer_key does)."""
    if token is not None and (token, round_id) in _CORRECTIONS:
        return _CORRECTIONS[(token, round_id)]
    # The corrections and the token in ONE statement (one snapshot): kept under the token
    # only when they were read at that token (a write or a restore may commit between).
    out: AnswerKey = {}
    seen_token = None
    if token is None:
        rows = ((None, change) for change in db.session.execute(select(RoundQuestionChange).where(
            RoundQuestionChange.round_id == round_id).order_by(RoundQuestionChange.id)).scalars())
    else:
        rows = db.session.execute(
            select(BankRevision.token, RoundQuestionChange)
            .outerjoin(RoundQuestionChange, RoundQuestionChange.round_id == round_id)
            .where(BankRevision.id == 1).order_by(RoundQuestionChange.id)).tuples()
    for seen_token, change in rows:
        if change is None:
            continue
        if change.action == "void":
            out[change.question_id] = None
        else:
            out[change.question_id] = {int(x) for x in change.correct_choice_ids.split(",") if x}
    if token is not None and seen_token == token:
        if len(_CORRECTIONS) >= _CORRECTIONS_KEPT:
            _CORRECTIONS.clear()
        _CORRECTIONS[(token, round_id)] = out
    return out


def answer_key(question_ids: Iterable[int], round_id: int | None = None, *,
               questions: Iterable[Question] = (),
               overrides: AnswerKey | None = None, token: str | None = None) -> AnswerKey:
    """The key grading uses for these questions: the bank's right choices, replaced by
    the round's corrections (re-keyed: the new right choices; voided: None).

    `questions` whose choices are already loaded are read as they are (no query);
    `overrides` are the round's corrections when the caller already read them. Outside
    a round (practice) the key is the bank's. `token`: the bank's revision read in this
    transaction (models.bank.BankRevision): the bank's keys and the corrections cached
    for it are used, so grading a submit reads neither."""
    key = bank_key(question_ids, questions, token)
    if round_id is not None:
        if overrides is None:
            overrides = corrections(round_id, token)
        for qid, right in overrides.items():
            if qid in key:
                key[qid] = None if right is None else set(right)
    return key
