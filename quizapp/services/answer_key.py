"""The answer key: which choices are right, after a round's corrections.

One function, `answer_key`, says it for grading (attempts), the result and review
pages, the immediate check, item analysis and the correction form. Before it existed
grading applied the round's corrections while the pages read `Choice.is_correct`, so
after a re-key the result page showed the old right answer next to a score computed
with the new one (issue 10, case 5).

Imports models only, so that attempts and contests can both use it.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from ..extensions import db
from ..models import Choice, Question, RoundQuestionChange

# question id -> the right choice ids, or None when the question was voided (it then
# counts for nobody and leaves the maximum score).
AnswerKey = dict[int, "set[int] | None"]


def corrections(round_id: int) -> AnswerKey:
    """question id → the right choice ids after the round's corrections, or None when
    voided, for the corrected questions only. Later changes win."""
    out: AnswerKey = {}
    for change in db.session.execute(select(RoundQuestionChange).where(
            RoundQuestionChange.round_id == round_id).order_by(RoundQuestionChange.id)).scalars():
        if change.action == "void":
            out[change.question_id] = None
        else:
            out[change.question_id] = {int(x) for x in change.correct_choice_ids.split(",") if x}
    return out


def answer_key(question_ids: Iterable[int], round_id: int | None = None, *,
               questions: Iterable[Question] = (),
               overrides: AnswerKey | None = None) -> AnswerKey:
    """The key grading uses for these questions: the bank's right choices, replaced by
    the round's corrections (re-keyed: the new right choices; voided: None).

    `questions` whose choices are already loaded are read as they are (no query);
    `overrides` are the round's corrections when the caller already read them (a
    regrade of every attempt of a round reads them once). Outside a round (practice)
    the key is the bank's."""
    question_ids = list(question_ids)
    loaded = {q.id: q for q in questions if "choices" in q.__dict__}
    key: AnswerKey = {qid: {c.id for c in loaded[qid].choices if c.is_correct}
                      for qid in question_ids if qid in loaded}
    missing = [qid for qid in question_ids if qid not in key]
    if missing:
        key.update({qid: set() for qid in missing})
        for qid, cid in db.session.execute(select(Choice.question_id, Choice.id).where(
                Choice.question_id.in_(missing), Choice.is_correct.is_(True))):
            key[qid].add(cid)
    if round_id is not None:
        if overrides is None:
            overrides = corrections(round_id)
        for qid, right in overrides.items():
            if qid in key:
                key[qid] = None if right is None else set(right)
    return key
