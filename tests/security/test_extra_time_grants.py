"""Extra time is granted only by an organizer or the member's own secretary: a member
cannot give himself some, a secretary cannot give it outside his unit, and the forged
posts change no deadline. (Before issue 15 nothing could grant extra time, so the
allowed grant at the start of each test fails on that code.)"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, RoundExtraTime
from quizapp.services import contests
from tests.conftest import BrowserClient
from tests.views.test_extra_time import open_round

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def scene(bank, make_unit, make_user, organizer, frozen_clock):
    a, b = make_unit("cb-a"), make_unit("cb-b")
    users = dict(bt_a=make_user(role="secretary", unit=a, username="bt-a"),
                 dv_a=make_user(unit=a, username="dv-a"), dv_b=make_user(unit=b, username="dv-b"))
    return dict(round=open_round(organizer, frozen_clock), a=a, **users)


def _as(app, username):
    client = BrowserClient(app.test_client())
    client.login(username)
    return client


def _grant(client, user_id, round_id, minutes="30"):
    return client.form_post(f"/members/{user_id}/extra-time",
                            {"round_id": str(round_id), "minutes": minutes}, token_from="/home")


def _extras():
    db.session.expire_all()
    return {(r.user_id, r.minutes) for r in db.session.execute(select(RoundExtraTime)).scalars()}


def test_a_member_cannot_give_himself_extra_time(app, scene):
    round_ = scene["round"]
    assert _grant(_as(app, "bt-a"), scene["dv_a"].id, round_.id, "10").status_code == 302
    assert _extras() == {(scene["dv_a"].id, 10)}
    member = _as(app, "dv-a")
    attempt = contests.start_round_attempt(scene["dv_a"], round_)
    db.session.commit()
    deadline = attempt.deadline
    assert _grant(member, scene["dv_a"].id, round_.id, "240").status_code in (403, 404)
    assert _extras() == {(scene["dv_a"].id, 10)}
    assert db.session.get(Attempt, attempt.id).deadline == deadline


def test_a_secretary_cannot_grant_extra_time_outside_his_unit(app, scene):
    round_ = scene["round"]
    secretary = _as(app, "bt-a")
    assert _grant(secretary, scene["dv_a"].id, round_.id).status_code == 302
    assert _grant(secretary, scene["dv_b"].id, round_.id).status_code == 404
    assert _extras() == {(scene["dv_a"].id, 30)}
