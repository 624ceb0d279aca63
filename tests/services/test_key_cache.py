"""Grading a finish uses the answer keys cached per bank revision, never a stale one.

A finish reads the bank's revision token (models.bank.BankRevision) with its
compare-and-set and grades with the bank's keys and the round's corrections cached for
it, so a submit reads no choice and no correction. The token changes with every write to
the bank and to a round's corrections: the first finish after a correction must grade
with it, on every worker."""
from __future__ import annotations

import random
from datetime import timedelta

from quizapp.extensions import db
from quizapp.models import Attempt, BankRevision, Choice
from quizapp.services import attempts, contests
from tests.conftest import open_round_at_start


def _two_members_in_a_round(make_user, organizer, frozen_clock):
    round_ = open_round_at_start(organizer, frozen_clock, question_count=5,
                                 draw_plan="viewpoint-1: 5", time_limit_minutes=20)
    first = contests.start_round_attempt(make_user(username="dv-a"), round_, rng=random.Random(1))
    second = contests.start_round_attempt(make_user(username="dv-b"), round_, rng=random.Random(1))
    db.session.commit()
    return round_, first, second


def _as_posted(attempt):
    """The attempt as a post loads it (attempts.get_own_attempt without choices): grading
    then takes the key from the cache, not from loaded choices."""
    db.session.expire_all()
    return attempts.get_own_attempt(attempt.user, attempt.id, with_questions=True,
                                    with_choices=False)


def _right_answers(attempt):
    key = contests.answer_key([i.question_id for i in attempt.items])
    return {i.question_id: sorted(key[i.question_id]) for i in attempt.items}


def test_a_correction_after_a_finish_reaches_the_next_finish(bank, make_user, organizer,
                                                             frozen_clock):
    """The first finish fills the cache (no correction yet); the round closes, a question
    is voided; the attempt the sweeper finishes next is graded without it: 4 counted,
    not 5. With the token left unchanged by the correction it would count 5."""
    round_, first, second = _two_members_in_a_round(make_user, organizer, frozen_clock)
    token = db.session.get(BankRevision, 1).token
    answers = _right_answers(first)
    first = _as_posted(first)
    attempts.submit(first, answers)
    db.session.commit()
    assert (first.score, first.max_score) == (5, 5)
    frozen_clock.set(round_.closes_at + timedelta(minutes=5))
    voided = second.items[0].question_id
    assert voided in {i.question_id for i in first.items}  # the same draw (same seed)
    contests.correct_question(organizer, round_, voided, "void", "Câu hỏi có hai đáp án đúng")
    db.session.commit()
    assert db.session.get(BankRevision, 1).token != token
    db.session.refresh(first)
    assert (first.score, first.max_score) == (4, 4)  # regraded with the correction
    assert attempts.close_overdue() == 1  # the second member never submitted
    db.session.commit()
    graded = db.session.get(Attempt, second.id)
    assert graded.max_score == 4
    assert [i.credit for i in graded.items if i.question_id == voided] == [None]


def test_a_bank_edit_changes_the_key_the_next_finish_reads(bank, make_user, organizer,
                                                           frozen_clock):
    """A choice's correctness written through the session (as the editor and the import
    do) changes the token, so the next finish reads the key again."""
    round_, first, second = _two_members_in_a_round(make_user, organizer, frozen_clock)
    answers = _right_answers(first)
    attempts.submit(_as_posted(first), answers)
    db.session.commit()
    token = db.session.get(BankRevision, 1).token
    item = second.items[0]
    right = _right_answers(second)[item.question_id]
    choice = db.session.get(Choice, right[0])
    choice.is_correct = False  # the bank now says no choice of this question is right
    db.session.commit()
    assert db.session.get(BankRevision, 1).token != token
    second = _as_posted(second)
    attempts.submit(second, answers)
    db.session.commit()
    assert [i.credit for i in second.items if i.question_id == item.question_id] == [0]
    assert second.score == 4


def test_a_key_read_at_another_revision_is_used_but_not_kept(bank, make_user, organizer,
                                                             frozen_clock):
    """The finish reads the token, then (on a miss) the choices and corrections in a
    later statement: a write or a restore may commit between. What is read is kept only
    when the same statement saw the token it is kept under."""
    import importlib
    finish = importlib.import_module("quizapp.services.attempts.finish")
    answer_key = importlib.import_module("quizapp.services.contests.answer_key")
    round_, first, _second = _two_members_in_a_round(make_user, organizer, frozen_clock)
    qid = first.items[0].question_id
    current = db.session.get(BankRevision, 1).token
    right = contests.answer_key([qid])[qid]
    assert set(finish._bank_entries([qid], "an-older-token")[qid].right) == right
    assert qid not in finish._BANK_KEYS.get("an-older-token", {})
    assert set(finish._bank_entries([qid], current)[qid].right) == right
    assert qid in finish._BANK_KEYS[current]
    assert answer_key.corrections(round_.id, "an-older-token") == {}
    assert ("an-older-token", round_.id) not in answer_key._CORRECTIONS
    answer_key.corrections(round_.id, current)
    assert (current, round_.id) in answer_key._CORRECTIONS
