"""Meeting mode's rules: scoring, elimination and rescue, the server's clock, one
answer per phone, resuming, and what may not be asked."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import MeetingAnswer, MeetingPlayer, Question
from quizapp.services.errors import Conflict, DomainError, Forbidden
from quizapp.services.learning import meeting
from tests.meeting_helpers import answer, current, single_keys, token


@pytest.fixture
def branch(make_unit):
    return make_unit()


@pytest.fixture
def secretary(make_user, branch):
    return make_user(role="secretary", unit=branch)


@pytest.fixture
def players(make_user, branch):
    return [make_user(unit=branch) for _ in range(3)]


def _session(secretary, branch, fmt="points", n=3, seconds=20, **kw):
    spec = meeting.SessionSpec(title="Sinh hoạt tháng 3", format=fmt, question_seconds=seconds,
                               question_keys=single_keys(n), **kw)
    live = meeting.create_session(secretary, branch, spec, rng=random.Random(7))
    db.session.commit()
    return live


def _joined(live, users):
    out = [meeting.join(live, u) for u in users]
    db.session.commit()
    return out


def test_points_reward_speed_and_count_only_at_reveal(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch, seconds=20)
    fast, slow, wrong = _joined(live, players)
    meeting.start(live)
    answer(live, fast, True)                                # t = 0 → 1000
    frozen_clock.advance(seconds=10)
    answer(live, slow, True)                                # t = T/2 → 750
    answer(live, wrong, False)
    assert [p.score for p in (fast, slow, wrong)] == [0, 0, 0]   # nothing before the reveal
    meeting.reveal(live)
    db.session.commit()
    assert [p.score for p in (fast, slow, wrong)] == [1000, 750, 0]
    assert [p.id for p in meeting.ranking(live)] == [fast.id, slow.id, wrong.id]
    with pytest.raises(Conflict):
        meeting.reveal(live)                                # a second reveal scores nothing
    assert fast.score == 1000
    assert meeting.points_for(20_000, 20_000) == 500 and meeting.points_for(99_999, 20_000) == 500


def test_bell_eliminates_wrong_and_missing_answers(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch, fmt="bell")
    right, wrong, silent = _joined(live, players)
    meeting.start(live)
    answer(live, right, True)
    answer(live, wrong, False)
    frozen_clock.advance(seconds=21)
    meeting.reveal(live)
    db.session.commit()
    assert (right.eliminated, wrong.eliminated, silent.eliminated) == (False, True, True)
    # An eliminated player cannot answer the next main question.
    meeting.next_question(live)
    with pytest.raises(Conflict, match="eliminated|bị loại"):
        answer(live, wrong, True)


def test_bell_all_failing_eliminates_nobody(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch, fmt="bell")
    joined = _joined(live, players)
    meeting.start(live)
    for p in joined:
        answer(live, p, False)
    meeting.reveal(live)
    assert not any(p.eliminated for p in joined)


def test_rescue_brings_back_who_answers_it_right(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch, fmt="bell")
    stay, back, out = _joined(live, players)
    meeting.start(live)
    answer(live, stay, True)
    meeting.reveal(live)
    assert back.eliminated and out.eliminated
    meeting.rescue(live, rng=random.Random(1))
    rescue_mq = current(live)
    assert rescue_mq.is_rescue
    used = {db.session.get(Question, q).key for q in [rescue_mq.question_id]}
    assert not used & set(single_keys(3))                    # a question not used yet
    with pytest.raises(Conflict):
        answer(live, stay, True)                              # standing players do not answer it
    answer(live, back, True)
    answer(live, out, False)
    meeting.reveal(live)
    db.session.commit()
    assert (stay.eliminated, back.eliminated, out.eliminated) == (False, False, True)
    assert back.right_answers == 0                           # a rescue is no main right answer


def test_late_answer_is_refused_and_grace_is_small(bank, secretary, branch, players, frozen_clock, app):
    app.config["MEETING_GRACE_SECONDS"] = 1
    live = _session(secretary, branch, seconds=10)
    early, in_grace, late = _joined(live, players)
    meeting.start(live)
    frozen_clock.advance(seconds=10, milliseconds=500)
    assert meeting.effective_phase(live, current(live), frozen_clock.now) == "closed"
    answer(live, in_grace, True)
    frozen_clock.advance(seconds=1)
    with pytest.raises(Conflict, match="late|muộn"):
        answer(live, late, True)
    meeting.reveal(live)
    with pytest.raises(Conflict):
        answer(live, early, True)                             # after the reveal
    assert db.session.scalar(select(db.func.count()).select_from(MeetingAnswer)) == 1
    assert in_grace.score == 500


def test_two_answers_from_one_phone_count_once(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch)
    player, *_ = _joined(live, players)
    meeting.start(live)
    answer(live, player, False)
    db.session.commit()
    with pytest.raises(Conflict, match="already|đã trả lời"):
        answer(live, player, True)
    db.session.rollback()
    rows = db.session.execute(select(MeetingAnswer)).scalars().all()
    assert len(rows) == 1 and rows[0].correct is False
    meeting.reveal(live)
    assert player.score == 0


def test_answer_for_a_question_no_longer_asked_is_refused(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch)
    player, *_ = _joined(live, players)
    meeting.start(live)
    first = current(live)
    stale = token(live, first, True)
    meeting.reveal(live)
    meeting.next_question(live)
    with pytest.raises(Conflict):
        meeting.answer(live, player, first.id, [stale])
    with pytest.raises(DomainError):
        meeting.answer(live, player, current(live).id, [stale])   # a token of another question


def test_pause_stops_the_clock(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch, seconds=20)
    player, *_ = _joined(live, players)
    meeting.start(live)
    frozen_clock.advance(seconds=5)
    meeting.pause(live)
    frozen_clock.advance(minutes=10)                         # the host went for tea
    with pytest.raises(Conflict, match="paused|tạm dừng"):
        answer(live, player, True)
    assert meeting.host_view(live).remaining_ms == 15_000
    meeting.resume(live)
    answer(live, player, True)
    meeting.reveal(live)
    assert player.score == meeting.points_for(5_000, 20_000) == 875


def test_reconnect_resumes_where_the_session_is(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch)
    player, *_ = _joined(live, players)
    meeting.start(live)
    answer(live, player, True)
    db.session.commit()
    db.session.expire_all()
    # A new page load (a phone that lost its connection) reads everything from the database.
    view = meeting.player_view(live, meeting.find_player(live, players[0], None))
    assert view.phase == "question" and view.my_answer is not None and view.my_choices
    assert not any(c.right for c in view.question.choices)   # no key before the reveal
    assert meeting.join(live, players[0]).id == player.id     # joining again: the same row


def test_host_who_leaves_finds_the_session_waiting(bank, secretary, branch, players, frozen_clock):
    live = _session(secretary, branch, seconds=10)
    _joined(live, players)
    meeting.start(live)
    frozen_clock.advance(hours=1)
    view = meeting.host_view(db.session.get(type(live), live.id))
    assert view.phase == "closed" and view.question.number == 1
    meeting.reveal(live)
    assert live.phase == "reveal"


def test_one_session_at_a_time_finished_and_unknown(bank, secretary, branch, players, frozen_clock):
    first = _session(secretary, branch)
    second = _session(secretary, branch)
    assert first.pin != second.pin
    meeting.join(first, players[0])
    with pytest.raises(Conflict, match=first.pin):
        meeting.join(second, players[0])
    meeting.leave(meeting.find_player(first, players[0], None))
    meeting.join(second, players[0])
    meeting.end(first)
    db.session.commit()
    with pytest.raises(Conflict):
        meeting.by_pin(first.pin)
    with pytest.raises(meeting.UnknownPin):
        meeting.by_pin("12345x")


def test_end_scores_the_open_question_and_nothing_changes_after(bank, secretary, branch, players,
                                                                frozen_clock):
    live = _session(secretary, branch)
    player, *_ = _joined(live, players)
    meeting.start(live)
    answer(live, player, True)
    meeting.end(live)
    db.session.commit()
    assert live.phase == "finished" and player.score == 1000
    with pytest.raises(Conflict):
        answer(live, player, True)
    meeting.end(live)
    assert player.score == 1000
    with pytest.raises(Conflict):
        meeting.join(live, players[1])


def test_guests_only_when_allowed_and_never_on_the_podium(bank, secretary, branch, players, frozen_clock):
    closed = _session(secretary, branch)
    with pytest.raises(Forbidden):
        meeting.join(closed, None, "Khách")
    live = _session(secretary, branch, allow_guests=True)
    guest = meeting.join(live, None, "  Bà   Tư ")
    member = meeting.join(live, players[0])
    assert guest.guest_name == "Bà Tư"
    meeting.start(live)
    answer(live, guest, True)
    answer(live, member, False)
    meeting.end(live)
    assert meeting.ranking(live)[0].id == guest.id
    assert [p.id for p in meeting.podium(live)] == [member.id]
    assert meeting.branch_meetings(branch).members == [(players[0], 1)]


def test_member_of_another_branch_cannot_join(bank, secretary, branch, make_unit, make_user, frozen_clock):
    live = _session(secretary, branch)
    stranger = make_user(unit=make_unit())
    with pytest.raises(Forbidden):
        meeting.join(live, stranger)


def test_reserve_and_sealed_questions_are_refused(bank, secretary, branch, frozen_clock):
    reserve = db.session.scalar(select(Question).where(Question.status == "approved",
                                                       Question.is_current.is_(True)).limit(1))
    reserve.reserve = True
    db.session.commit()
    with pytest.raises(DomainError, match=reserve.key):
        meeting.create_session(secretary, branch, meeting.SessionSpec(
            title="x", question_keys=[reserve.key]))
    drawn = meeting.create_session(secretary, branch, meeting.SessionSpec(title="x", count=50),
                                   rng=random.Random(2))
    keys = set(db.session.execute(select(Question.key).join(
        meeting.MeetingQuestion, meeting.MeetingQuestion.question_id == Question.id)
        .where(meeting.MeetingQuestion.session_id == drawn.id)).scalars())
    assert len(keys) == 50 and reserve.key not in keys
