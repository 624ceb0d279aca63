"""Extra time per member per round (issue 15, an accommodation): the secretary (or an
organizer) grants N minutes; the member's deadline is min(start + limit + N, close + N),
so an attempt started late still gets its extra; the autosave, the submit and the
sweeper all read that deadline. Logged, and shown to the member."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AuditLog, RoundExtraTime
from quizapp.services import attempts, contests
from tests.conftest import BrowserClient, open_round_at_start
from tests.tokens import tokens_of

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def setup(bank, make_unit, make_user, organizer, frozen_clock):
    branch = make_unit("cb-a")
    secretary = make_user(role="secretary", unit=branch, username="bithu")
    slow = make_user(unit=branch, username="ongbay")
    other = make_user(unit=branch, username="dangvien")
    return dict(branch=branch, secretary=secretary, slow=slow, other=other,
                round=open_round(organizer, frozen_clock))


def open_round(organizer, clock):
    """A round of 5 questions and 20 minutes, open from now for two hours."""
    return open_round_at_start(organizer, clock)


def _client(app, username):
    client = BrowserClient(app.test_client())
    client.login(username)
    return client


def _autosave(client, attempt_id):
    db.session.expire_all()
    item = db.session.get(Attempt, attempt_id).items[0]
    return client.post(f"/api/attempts/{attempt_id}/answers", json={
        "question_id": item.question_id, "choice_ids": tokens_of(item, [item.choice_ids[0]]),
        "seq": 1, "client": "page1"}, headers={"X-CSRFToken": client.csrf_token("/home")})


def _start(client, round_id) -> int:
    response = client.form_post(f"/rounds/{round_id}/start", token_from=f"/rounds/{round_id}")
    return int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))


def test_a_late_starter_keeps_his_extra_after_the_close_and_every_path_respects_it(app, setup, frozen_clock):
    round_ = setup["round"]
    secretary = _client(app, "bithu")
    response = secretary.form_post(f"/members/{setup['slow'].id}/extra-time",
                                   {"round_id": str(round_.id), "minutes": "15", "reason": "mắt kém"},
                                   token_from=f"/branch/{setup['branch'].id}")
    assert response.status_code == 302
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "round.extra_time")).scalar_one()
    assert log.target == f"user:{setup['slow'].id}" and log.reason == "mắt kém"
    page = secretary.get(f"/branch/{setup['branch'].id}").get_data(as_text=True)
    assert "+15 phút trong Vòng 1" in page

    # Both start 10 minutes before the close.
    frozen_clock.set(round_.closes_at - timedelta(minutes=10))
    slow, other = _client(app, "ongbay"), _client(app, "dangvien")
    assert "15 phút" in slow.get(f"/rounds/{round_.id}").get_data(as_text=True)
    slow_id, other_id = _start(slow, round_.id), _start(other, round_.id)
    db.session.expire_all()
    assert db.session.get(Attempt, slow_id).deadline == round_.closes_at + timedelta(minutes=15)
    assert db.session.get(Attempt, other_id).deadline == round_.closes_at
    assert 'id="extra-time"' in slow.get(f"/attempts/{slow_id}").get_data(as_text=True)
    assert 'id="extra-time"' not in other.get(f"/attempts/{other_id}").get_data(as_text=True)

    # 10 minutes after the close: his autosave is taken, the other's refused; the
    # sweeper finishes the other only.
    frozen_clock.set(round_.closes_at + timedelta(minutes=10))
    assert _autosave(slow, slow_id).status_code == 200
    assert _autosave(other, other_id).status_code == 409
    attempts.close_overdue()
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Attempt, slow_id).status == "in_progress"
    assert db.session.get(Attempt, other_id).status == "finished"
    # Past his own deadline + grace, the sweeper closes his too.
    frozen_clock.set(round_.closes_at + timedelta(minutes=15, seconds=6))
    attempts.close_overdue()
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Attempt, slow_id).status == "finished"


def test_a_grant_during_an_attempt_moves_its_deadline_and_an_early_close_keeps_the_extra(
        app, setup, frozen_clock, organizer):
    round_ = setup["round"]
    slow = _client(app, "ongbay")
    attempt_id = _start(slow, round_.id)
    start = frozen_clock.now
    contests.extra_time.grant(organizer, round_, setup["slow"], 30)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).deadline == start + timedelta(minutes=50)
    # Taken back (0): the row goes, and the attempt loses the extra; granted again.
    contests.extra_time.grant(organizer, round_, setup["slow"], 0)
    db.session.commit()
    assert db.session.execute(select(RoundExtraTime)).first() is None
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).deadline == start + timedelta(minutes=20)
    contests.extra_time.grant(organizer, round_, setup["slow"], 30)
    frozen_clock.advance(minutes=5)
    contests.close_now(organizer, round_, "sự cố")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).deadline == frozen_clock.now + timedelta(minutes=30)
    # A closed round takes no more grants.
    with pytest.raises(contests.extra_time.Conflict):
        contests.extra_time.grant(organizer, round_, setup["slow"], 60)


def test_bad_minutes_get_a_clear_message_and_change_nothing(app, setup):
    secretary = _client(app, "bithu")
    response = secretary.form_post(f"/members/{setup['slow'].id}/extra-time",
                                   {"round_id": str(setup["round"].id), "minutes": "9999"},
                                   token_from=f"/branch/{setup['branch'].id}", follow_redirects=True)
    assert "từ 0 đến 240 phút" in response.get_data(as_text=True)
    assert db.session.execute(select(RoundExtraTime)).first() is None


# ---------------------------------------------------------------- the list of grants

def test_the_organizer_lists_the_grants_and_takes_one_back_with_the_box_ticked(app, setup, organizer):
    round_ = setup["round"]
    contests.extra_time.grant(setup["secretary"], round_, setup["slow"], 30, "mắt kém")
    contests.extra_time.grant(organizer, round_, setup["other"], 15)
    db.session.commit()
    client = _client(app, "btc")
    detail = client.get(f"/organize/rounds/{round_.id}").get_data(as_text=True)
    assert f'href="/rounds/{round_.id}/extra-time"' in detail and "Thời gian cộng thêm: 2 đảng viên" in detail
    page = client.get(f"/rounds/{round_.id}/extra-time").get_data(as_text=True)
    slow = page[page.index(f'id="grant-{setup["slow"].id}"'):]
    slow = slow[:slow.index("</li>")]
    assert setup["slow"].full_name in slow and setup["branch"].name in slow
    assert "+30 phút" in slow and f"cấp bởi {setup['secretary'].full_name}" in slow

    url = f"/rounds/{round_.id}/extra-time/{setup['slow'].id}/revoke"
    refused = client.form_post(url, {"reason": "nhầm"}, token_from=f"/rounds/{round_.id}/extra-time")
    assert refused.status_code == 302
    assert contests.extra_time.extras_of(round_) == {setup["slow"].id: 30, setup["other"].id: 15}
    done = client.form_post(url, {"reason": "nhầm người", "confirm": "y"},
                            token_from=f"/rounds/{round_.id}/extra-time", follow_redirects=True)
    assert done.status_code == 200 and "được thu hồi" in done.get_data(as_text=True)
    db.session.expire_all()
    assert contests.extra_time.extras_of(round_) == {setup["other"].id: 15}
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "round.extra_time")
                             .order_by(AuditLog.id.desc())).scalars().first()
    assert log.actor_id == organizer.id and log.reason == "nhầm người"
    assert log.target == f"user:{setup['slow'].id}" and '"minutes": [30, 0]' in log.detail


def test_after_the_close_the_list_stays_and_nothing_can_be_taken_back(app, setup, organizer,
                                                                     frozen_clock):
    round_ = setup["round"]
    contests.extra_time.grant(organizer, round_, setup["slow"], 30)
    db.session.commit()
    frozen_clock.set(round_.closes_at + timedelta(hours=1))
    client = _client(app, "bithu")
    page = client.get(f"/rounds/{round_.id}/extra-time").get_data(as_text=True)
    assert setup["slow"].full_name in page and "+30 phút" in page
    assert "/revoke" not in page and "Vòng thi đã kết thúc" in page
    response = client.form_post(f"/rounds/{round_.id}/extra-time/{setup['slow'].id}/revoke",
                                {"confirm": "y"}, token_from="/home")
    assert response.status_code == 409
    assert contests.extra_time.extras_of(round_) == {setup["slow"].id: 30}
