"""Meeting mode must not hand out contest answers nor the key before the reveal: the
member who plays a meeting quiz while a contest round is scheduled, to harvest its
answers, or who reads the phone's page and JSON for a hint of the right choice."""
from __future__ import annotations

import json
import random
import re

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import MeetingQuestion, Question
from quizapp.services.contests import sealing
from quizapp.services.attempts import section_subtree_ids
from quizapp.services.errors import DomainError
from quizapp.services.learning import meeting
from tests.meeting_helpers import current, single_keys
from tests.security.test_practice_leaks import make_round

pytestmark = pytest.mark.usefixtures("isolated_requests")


def _viewpoint_keys() -> set[str]:
    ids = section_subtree_ids(["viewpoints"])
    return set(db.session.execute(select(Question.key).where(Question.section_id.in_(ids))).scalars())


def test_meeting_never_asks_a_question_a_scheduled_round_seals(bank, make_user, make_unit, frozen_clock):
    organizer = make_user(role="organizer")
    branch = make_unit()
    secretary = make_user(role="secretary", unit=branch)
    # Made before the round is scheduled: its questions come from the viewpoints.
    before = meeting.create_session(secretary, branch, meeting.SessionSpec(
        title="x", section_keys=["viewpoints"], count=3), rng=random.Random(1))
    db.session.commit()
    make_round(organizer, frozen_clock, open_now=False)
    sealed = sealing.sealed_keys()
    assert sealed and sealed <= _viewpoint_keys()
    key = sorted(sealed)[0]
    with pytest.raises(DomainError, match=key):
        meeting.create_session(secretary, branch, meeting.SessionSpec(title="x", question_keys=[key]))
    drawn = meeting.create_session(secretary, branch, meeting.SessionSpec(title="y", count=50),
                                   rng=random.Random(2))
    asked = set(db.session.execute(select(Question.key).join(
        MeetingQuestion, MeetingQuestion.question_id == Question.id)
        .where(MeetingQuestion.session_id == drawn.id)).scalars())
    assert asked and not asked & sealed
    # The older session skips what is sealed now instead of showing it.
    meeting.start(before)
    skipped = db.session.scalars(select(MeetingQuestion.skipped).where(
        MeetingQuestion.session_id == before.id)).all()
    assert skipped == [True, True, True] and before.phase == "finished"
    while before.phase != "finished":
        assert current(before).question.key not in sealed
        meeting.reveal(before)
        meeting.next_question(before)


def _numbers(value) -> list[int]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def test_phone_page_and_json_carry_no_key_before_the_reveal(bank, client, make_user, make_unit, frozen_clock):
    branch = make_unit()
    secretary = make_user(role="secretary", unit=branch)
    make_user(unit=branch, username="dangvien")
    live = meeting.create_session(secretary, branch, meeting.SessionSpec(
        title="x", question_keys=single_keys(1)), rng=random.Random(3))
    db.session.commit()
    client.login("dangvien")
    assert client.form_post("/join", {"pin": live.pin}, token_from="/join").status_code == 302
    meeting.start(db.session.get(type(live), live.id))
    db.session.commit()
    page = client.get(f"/play/{live.id}").get_data(as_text=True)
    state = client.get(f"/play/{live.id}/state").get_data(as_text=True)
    mq = db.session.get(MeetingQuestion, db.session.get(type(live), live.id).current_id)
    question = db.session.get(Question, mq.question_id)
    values = [int(v) for v in re.findall(r'name="choice" value="(\d+)"', page)]
    assert len(values) == len(question.choices)
    ids = {c.id for c in question.choices}
    assert not ids & set(values)                         # no database id on the page
    assert not re.search(r'class="[^"]*\bright\b', page) and "right" not in state
    # The state the phone polls carries the question it draws without a reload: the
    # prompt and the same tokens as the page, and nothing that tells the right one.
    polled = json.loads(state)
    assert polled["question"]["prompt"] == question.prompt
    assert [c["token"] for c in polled["question"]["choices"]] == values
    assert {c["text"] for c in polled["question"]["choices"]} == {c.text for c in question.choices}
    for choice in polled["question"]["choices"]:
        assert set(choice) == {"token", "letter", "text"}
    assert not ids & set(_numbers(polled)) - {mq.id}     # no choice id anywhere in it
    assert not re.search(r"right|correct|explanation|key", state, re.I)
    assert question.key not in state
    # Once it is revealed, the phone reloads its page for the result; the JSON stays bare.
    meeting.reveal(db.session.get(type(live), live.id))
    db.session.commit()
    after = client.get(f"/play/{live.id}/state").get_json()
    assert after["phase"] == "reveal" and "question" not in after
    # Another session with the same question names its choices differently.
    other = meeting.create_session(secretary, branch, meeting.SessionSpec(
        title="z", question_keys=[question.key]), rng=random.Random(3))
    db.session.flush()
    other_tokens = meeting.choice_tokens.tokens(-other.id, question.id, sorted(ids))
    mine = meeting.choice_tokens.tokens(-live.id, question.id, sorted(ids))
    assert set(other_tokens) != set(mine)
