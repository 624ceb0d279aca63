"""Extra time is granted only by an organizer or the member's own secretary: a member
cannot give himself some, a secretary cannot give it outside his unit, and the forged
posts change no deadline. (Before issue 15 nothing could grant extra time, so the
allowed grant at the start of each test fails on that code.)"""
from __future__ import annotations

from datetime import timedelta

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


# ---------------------------------------------------------------- the list of grants

def _grant_list(client, round_id):
    return client.get(f"/rounds/{round_id}/extra-time")


def _revoke(client, round_id, user_id):
    return client.form_post(f"/rounds/{round_id}/extra-time/{user_id}/revoke",
                            {"confirm": "y", "reason": "x"}, token_from="/home")


def test_a_secretary_lists_only_his_units_grants_and_revokes_only_those(app, scene, organizer, make_user):
    round_ = scene["round"]
    contests.extra_time.grant(organizer, round_, scene["dv_a"], 20)
    contests.extra_time.grant(organizer, round_, scene["dv_b"], 40)
    db.session.commit()
    secretary = _as(app, "bt-a")
    page = _grant_list(secretary, round_.id)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert scene["dv_a"].full_name in text and "+20 phút" in text
    assert scene["dv_b"].full_name not in text and "+40 phút" not in text
    assert _revoke(secretary, round_.id, scene["dv_b"].id).status_code == 404
    assert _extras() == {(scene["dv_a"].id, 20), (scene["dv_b"].id, 40)}
    assert _revoke(secretary, round_.id, scene["dv_a"].id).status_code == 302
    assert _extras() == {(scene["dv_b"].id, 40)}


def test_a_member_neither_sees_nor_revokes_grants(app, scene, organizer):
    round_ = scene["round"]
    contests.extra_time.grant(organizer, round_, scene["dv_a"], 20)
    db.session.commit()
    member = _as(app, "dv-a")
    assert _grant_list(member, round_.id).status_code in (403, 404)
    assert _revoke(member, round_.id, scene["dv_a"].id).status_code in (403, 404)
    assert _extras() == {(scene["dv_a"].id, 20)}
    # the organizer, by contrast, sees it: the list exists
    listed = _grant_list(_as(app, "btc"), round_.id)
    assert listed.status_code == 200 and scene["dv_a"].full_name in listed.get_data(as_text=True)


def test_a_secretary_cannot_list_a_draft_rounds_grants(app, scene, organizer, frozen_clock):
    contest = contests.create_contest(organizer, "Nháp", "", [])
    draft = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng nháp", opens_at=frozen_clock.now + timedelta(days=1),
        closes_at=frozen_clock.now + timedelta(days=2), time_limit_minutes=20, question_count=5))
    contests.extra_time.grant(organizer, draft, scene["dv_a"], 10)
    db.session.commit()
    assert _grant_list(_as(app, "bt-a"), draft.id).status_code == 404
    assert _grant_list(_as(app, "btc"), draft.id).status_code == 200
