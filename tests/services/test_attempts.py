"""The timed quiz engine: freezing, saving, deadlines, finishing once."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Question
from quizapp.services import attempts
from quizapp.services.attempts import PracticeSpec
from quizapp.services.errors import Conflict, DeadlinePassed, DomainError, NotFound
from tests.conftest import right_ids, wrong_ids


def _spec(count=5, minutes=None, feedback="exam", sections=None):
    return PracticeSpec(section_keys=sections or [], count=count, time_limit_minutes=minutes,
                        feedback=feedback)


def test_start_freezes_questions_and_choice_order(bank, make_user, frozen_clock):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=8), rng=random.Random(1))
    db.session.commit()
    assert len(attempt.items) == 8 and attempt.max_score == 8
    orders = [item.choice_order for item in attempt.items]
    db.session.expire_all()
    again = db.session.get(Attempt, attempt.id)
    assert [i.choice_order for i in again.items] == orders
    for item in again.items:
        assert sorted(item.choice_ids) == sorted(c.id for c in item.question.choices)
        assert item.question.status == "approved" and item.question.is_current


def test_draw_is_stratified_across_sections(bank, make_user):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=5, sections=["viewpoints"]),
                                      rng=random.Random(3))
    sections = [item.question.section.key for item in attempt.items]
    # 6 sections in the viewpoints subtree (the list + 5 viewpoints): 5 questions → 5 distinct
    assert len(set(sections)) == 5
    assert all(key.startswith("viewpoint") for key in sections)


def test_start_token_makes_double_click_start_once(bank, make_user):
    member = make_user()
    first = attempts.start_practice(member, _spec(), start_token="tok-1")
    db.session.commit()
    second = attempts.start_practice(member, _spec(), start_token="tok-1")
    assert first.id == second.id
    assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 1


def test_deadline_is_start_plus_limit(bank, make_user, frozen_clock):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(minutes=10))
    assert attempt.deadline == frozen_clock.now + timedelta(minutes=10)
    assert attempt.seconds_left() == 600


@pytest.mark.parametrize("offset, accepted", [(-1, True), (0, True), (1, True), (5, True), (6, False)])
def test_save_around_deadline_and_grace(bank, make_user, frozen_clock, offset, accepted):
    """Grace is 5 s in tests: saving is accepted up to deadline + 5 s, refused after."""
    member = make_user()
    attempt = attempts.start_practice(member, _spec(minutes=1))
    db.session.commit()
    item = attempt.items[0]
    frozen_clock.set(attempt.deadline + timedelta(seconds=offset))
    if accepted:
        attempts.save_answer(attempt, item.question_id, right_ids(item))
        assert attempt.status == "in_progress"
    else:
        with pytest.raises(DeadlinePassed):
            attempts.save_answer(attempt, item.question_id, right_ids(item))
        assert attempt.status == "finished" and attempt.finish_reason == "expired"
        assert attempt.items[0].selected is None


def test_late_submit_finishes_with_what_was_saved(bank, make_user, frozen_clock):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=3, minutes=1))
    first, second = attempt.items[0], attempt.items[1]
    attempts.save_answer(attempt, first.question_id, right_ids(first))
    db.session.commit()
    frozen_clock.advance(seconds=70)
    with pytest.raises(DeadlinePassed):
        attempts.submit(attempt, {second.question_id: right_ids(second)})
    assert attempt.status == "finished"
    assert attempt.score == 1
    assert attempt.time_taken_seconds == 60
    assert second.selected is None


def test_finish_grades_and_is_idempotent(bank, make_user, frozen_clock):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=4, minutes=5))
    items = attempt.items
    attempts.save_answer(attempt, items[0].question_id, right_ids(items[0]))
    attempts.save_answer(attempt, items[1].question_id, wrong_ids(items[1]))
    frozen_clock.advance(seconds=42)
    assert attempts.finish(attempt) is True
    db.session.commit()
    assert (attempt.score, attempt.max_score, attempt.time_taken_seconds) == (1, 4, 42)
    assert [i.is_correct for i in items] == [True, False, False, False]
    frozen_clock.advance(seconds=10)
    assert attempts.finish(attempt) is False
    assert attempt.time_taken_seconds == 42


def test_answer_outside_attempt_is_refused(bank, make_user):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=2))
    used = {i.question_id for i in attempt.items}
    other = db.session.execute(select(Question).where(Question.id.not_in(used))).scalars().first()
    with pytest.raises(DomainError):
        attempts.save_answer(attempt, other.id, [other.choices[0].id])
    item = attempt.items[0]
    with pytest.raises(DomainError):
        attempts.save_answer(attempt, item.question_id, [other.choices[0].id])


def test_single_choice_takes_one_answer(bank, make_user):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=30))
    item = next(i for i in attempt.items if i.question.kind == "single")
    with pytest.raises(DomainError):
        attempts.save_answer(attempt, item.question_id, item.choice_ids[:2])


def test_other_members_attempt_is_not_found(bank, make_user):
    owner, other = make_user(), make_user()
    attempt = attempts.start_practice(owner, _spec())
    with pytest.raises(NotFound):
        attempts.get_own_attempt(other, attempt.id)


def test_immediate_check_locks_the_answer(bank, make_user):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(feedback="immediate"))
    item = attempt.items[0]
    checked = attempts.check_answer(attempt, item.question_id, wrong_ids(item))
    assert checked.locked and checked.is_correct is False
    with pytest.raises(Conflict):
        attempts.save_answer(attempt, item.question_id, right_ids(item))


def test_exam_mode_refuses_checks(bank, make_user):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(feedback="exam"))
    item = attempt.items[0]
    with pytest.raises(DomainError):
        attempts.check_answer(attempt, item.question_id, right_ids(item))


def test_close_overdue_finishes_only_expired(bank, make_user, frozen_clock):
    member = make_user()
    late = attempts.start_practice(member, _spec(minutes=1))
    open_ = attempts.start_practice(member, _spec(minutes=30))
    untimed = attempts.start_practice(member, _spec())
    db.session.commit()
    frozen_clock.advance(minutes=2)
    assert attempts.close_overdue() == 1
    db.session.commit()
    assert late.status == "finished" and late.finish_reason == "expired"
    assert open_.status == "in_progress" and untimed.status == "in_progress"
    assert attempts.close_overdue() == 0


def test_autosave_sequence_makes_retries_and_late_arrivals_harmless(bank, make_user):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=3))
    item = attempt.items[0]
    first, second = item.choice_ids[0], item.choice_ids[1]
    attempts.save_answer(attempt, item.question_id, [first], seq=100)
    attempts.save_answer(attempt, item.question_id, [second], seq=200)
    # The first request, retried late, arrives after the newer one: ignored.
    attempts.save_answer(attempt, item.question_id, [first], seq=100)
    # A retry of the newest is harmless too.
    attempts.save_answer(attempt, item.question_id, [second], seq=200)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Attempt, attempt.id).items[0]
    assert stored.selected_ids == {second} and stored.save_seq == 200
    # Without a sequence number (the plain form) the last write wins, as before.
    attempts.save_answer(attempt, item.question_id, [first])
    assert db.session.get(Attempt, attempt.id).items[0].selected_ids == {first}


def test_submit_merges_the_page_into_what_is_stored_under_the_lock_and_writes_it_once(
        bank, make_user):
    """The submit saves the page's changes and grades in one step: an answer stored after
    the page was loaded (an autosave from another tab) is kept and graded, the page's
    own changes are applied, a stale change of the same page is ignored, and the stored
    answers and grades are the ones the attempt reports."""
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=4))
    db.session.commit()
    attempt = attempts.get_own_attempt(member, attempt.id, with_questions=True)
    a, b, c, d = attempt.items
    # After the load: another tab saves `a` right (seq 5 of page "other") and this page
    # saved `c` wrong with seq 7: neither is in the objects loaded above. Sequence
    # numbers are the page's Date.now(): far beyond a 32-bit integer.
    now_ms = 1_764_800_000_000
    table = a.__table__
    for item, ids, seq, client in ((a, right_ids(a), now_ms + 5, "other"),
                                   (c, wrong_ids(c), now_ms + 7, "page")):
        db.session.execute(table.update().where(table.c.id == item.id).values(
            selected=",".join(map(str, sorted(ids))), save_seq=seq, save_client=client))
    assert a.selected is None
    posted = {b.question_id: right_ids(b), c.question_id: right_ids(c), d.question_id: wrong_ids(d)}
    seqs = {b.question_id: now_ms + 3, c.question_id: now_ms + 6,   # c's 6 is older than 7
            d.question_id: now_ms + 8}
    assert attempts.submit(attempt, posted, seqs=seqs, client="page") is True
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Attempt, attempt.id)
    got = {i.question_id: (sorted(i.selected_ids), i.is_correct, i.credit) for i in stored.items}
    assert got[a.question_id] == (sorted(right_ids(a)), True, 100), "the other tab's save is graded"
    assert got[b.question_id] == (sorted(right_ids(b)), True, 100)
    assert got[c.question_id] == (sorted(wrong_ids(c)), False, 0), "a stale change undoes nothing"
    assert got[d.question_id] == (sorted(wrong_ids(d)), False, 0)
    assert (stored.score, stored.points, stored.max_score) == (2, 200, 4)
    assert {i.question_id: i.save_seq for i in stored.items}[d.question_id] == now_ms + 8
    assert attempts.submit(stored, posted, seqs=seqs, client="page") is False


def test_submit_refuses_to_change_a_checked_answer_and_finishes_nothing(bank, make_user):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(feedback="immediate"))
    item = attempt.items[0]
    attempts.check_answer(attempt, item.question_id, wrong_ids(item))
    db.session.commit()
    with pytest.raises(Conflict):
        attempts.submit(attempt, {item.question_id: right_ids(item)})
    db.session.rollback()
    assert db.session.get(Attempt, attempt.id).status == "in_progress"


def test_a_late_submit_is_finished_as_late_even_with_a_bad_choice_in_the_form(bank, make_user,
                                                                             frozen_clock):
    member = make_user()
    attempt = attempts.start_practice(member, _spec(count=3, minutes=5))
    db.session.commit()
    frozen_clock.advance(minutes=6)
    with pytest.raises(DeadlinePassed):
        attempts.submit(attempt, {attempt.items[0].question_id: [-1]})
    db.session.commit()
    assert db.session.get(Attempt, attempt.id).finish_reason == "expired"
