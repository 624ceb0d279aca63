"""Meeting mode through the browser's requests: joining by PIN (and the rate limit on
guesses), who may host, the host's buttons, the phone's answer, the branch page."""
from __future__ import annotations

import random
import re

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import MeetingAnswer, MeetingPlayer, MeetingSession
from quizapp.services.learning import meeting
from tests.meeting_helpers import current, single_keys, token

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def app_config():
    return {"MEETING_PIN_RATE_LIMIT": "5 per minute"}


@pytest.fixture
def branch(make_unit):
    return make_unit()


@pytest.fixture
def secretary(make_user, branch):
    return make_user(role="secretary", unit=branch, username="bithu")


def _live(secretary, branch, **kw) -> MeetingSession:
    spec = meeting.SessionSpec(title="Sinh hoạt chi bộ", question_keys=single_keys(2), **kw)
    live = meeting.create_session(secretary, branch, spec, rng=random.Random(5))
    db.session.commit()
    return live


def _fresh(live) -> MeetingSession:
    db.session.expire_all()
    return db.session.get(MeetingSession, live.id)


def test_member_joins_by_pin_and_answers_once(bank, client, make_user, secretary, branch, frozen_clock):
    make_user(unit=branch, username="dangvien")
    live = _live(secretary, branch)
    client.login("dangvien")
    page = client.get(f"/join/{live.pin}").get_data(as_text=True)
    assert live.title in page
    response = client.form_post("/join", {"pin": live.pin}, token_from="/join")
    assert response.headers["Location"].endswith(f"/play/{live.id}")
    assert "Wait for the host" in client.get(f"/play/{live.id}").get_data(as_text=True) or \
        "Chờ người điều khiển" in client.get(f"/play/{live.id}").get_data(as_text=True)
    meeting.start(_fresh(live))
    db.session.commit()
    live = _fresh(live)
    mq = current(live)
    form = {"q": str(mq.id), "choice": str(token(live, mq, True))}
    assert client.form_post(f"/play/{live.id}/answer", form, token_from=f"/play/{live.id}").status_code == 302
    again = {"q": str(mq.id), "choice": str(token(live, mq, False))}
    client.form_post(f"/play/{live.id}/answer", again, token_from=f"/play/{live.id}")
    page = client.get(f"/play/{live.id}").get_data(as_text=True)
    assert "đầu tiên" in page or "first answer counts" in page
    rows = db.session.execute(select(MeetingAnswer)).scalars().all()
    assert len(rows) == 1 and rows[0].correct
    state = client.get(f"/play/{live.id}/state").get_json()
    assert state["phase"] == "question" and state["remaining_ms"] == 20_000


def test_the_phone_draws_the_question_from_its_state_and_answers_without_a_reload(
        bank, client, make_user, secretary, branch, frozen_clock, app):
    make_user(unit=branch, username="dangvien")
    live = _live(secretary, branch)
    client.login("dangvien")
    client.form_post("/join", {"pin": live.pin}, token_from="/join")
    lobby = client.get(f"/play/{live.id}/state").get_json()
    assert lobby["phase"] == "lobby" and "question" not in lobby
    meeting.start(_fresh(live))
    db.session.commit()
    live = _fresh(live)
    mq = current(live)
    state = client.get(f"/play/{live.id}/state").get_json()
    assert state["v"] != lobby["v"] and state["question"]["id"] == mq.id
    assert state["status"] is None and re.search(r"1\D+2", state["question"]["label"])
    right = token(live, mq, True)
    assert right in [c["token"] for c in state["question"]["choices"]]
    # A phone that shows this version already gets the light state, without the question.
    same = client.get(f"/play/{live.id}/state?v={state['v']}").get_json()
    assert same["v"] == state["v"] and "question" not in same and same["status"] is None
    json_answer = {"headers": {"Accept": "application/json"}, "token_from": f"/play/{live.id}"}
    sent = client.form_post(f"/play/{live.id}/answer", {"q": str(mq.id), "choice": str(right)}, **json_answer)
    assert sent.status_code == 200
    letter = next(c["letter"] for c in state["question"]["choices"] if c["token"] == right)
    assert sent.get_json()["v"] == state["v"] and letter in sent.get_json()["status"]
    assert "question" in sent.get_json()                      # no ?v=: the whole state
    # One answer per player: the second is refused with the reason, the state says answered.
    again = client.form_post(f"/play/{live.id}/answer",
                             {"q": str(mq.id), "choice": str(token(live, mq, False))}, **json_answer)
    assert again.status_code == 409 and again.get_json()["error"] and again.get_json()["status"]
    # Late answers are refused as before, for another player and the next question.
    make_user(unit=branch, username="dangvien2")
    other = app.test_client()
    from_other = type(client)(other)
    from_other.login("dangvien2")
    from_other.form_post("/join", {"pin": live.pin}, token_from="/join")
    frozen_clock.advance(seconds=live.question_seconds + 5)
    late = from_other.form_post(f"/play/{live.id}/answer", {"q": str(mq.id), "choice": str(right)},
                                headers={"Accept": "application/json"}, token_from=f"/play/{live.id}")
    assert late.status_code == 409 and late.get_json()["phase"] == "closed"
    assert late.get_json()["question"]["id"] == mq.id and late.get_json()["status"]
    rows = db.session.execute(select(MeetingAnswer)).scalars().all()
    assert len(rows) == 1 and rows[0].correct

def test_wrong_pins_are_rate_limited_but_right_ones_are_not(bank, client, make_user, secretary, branch):
    live = _live(secretary, branch, allow_guests=True)
    for n in range(5):
        response = client.form_post("/join", {"pin": f"{(int(live.pin) + n + 1) % 10**6:06d}"}, token_from="/join")
        assert response.status_code == 404
        assert "Không có phiên nào" in response.get_data(as_text=True) or "No session" in response.get_data(as_text=True)
    # A sixth wrong guess, by form or by link, is refused before any look-up.
    assert client.form_post("/join", {"pin": "000000"}, token_from="/join").status_code == 429
    assert client.get(f"/join/{live.pin}").status_code == 429


def test_joins_that_succeed_do_not_use_up_the_limit(bank, app, make_user, secretary, branch):
    live = _live(secretary, branch, allow_guests=True)
    for n in range(12):   # a room of phones behind one address
        guest = app.test_client()
        from tests.conftest import BrowserClient
        response = BrowserClient(guest).form_post("/join", {"pin": live.pin, "guest_name": f"Khách {n}"},
                                                  token_from="/join")
        assert response.status_code == 302, response.status_code
    assert db.session.scalar(select(db.func.count()).select_from(MeetingPlayer)) == 12


def test_finished_session_and_second_session_get_clear_messages(bank, client, make_user, secretary, branch):
    make_user(unit=branch, username="dangvien")
    first, second = _live(secretary, branch), _live(secretary, branch)
    client.login("dangvien")
    client.form_post("/join", {"pin": first.pin}, token_from="/join")
    response = client.form_post("/join", {"pin": second.pin}, token_from="/join")
    assert response.status_code == 409 and first.pin in response.get_data(as_text=True)
    assert "Rời phiên kia" in response.get_data(as_text=True) or "Leave the other" in response.get_data(as_text=True)
    meeting.end(_fresh(second))
    db.session.commit()
    response = client.form_post("/join", {"pin": second.pin}, token_from="/join")
    assert response.status_code == 409
    assert "đã kết thúc" in response.get_data(as_text=True) or "has ended" in response.get_data(as_text=True)


def test_guest_needs_the_hosts_leave(bank, client, secretary, branch):
    closed = _live(secretary, branch)
    response = client.form_post("/join", {"pin": closed.pin, "guest_name": "Bà Tư"}, token_from="/join")
    assert response.status_code == 403
    assert db.session.scalar(select(db.func.count()).select_from(MeetingPlayer)) == 0
    open_ = _live(secretary, branch, allow_guests=True)
    response = client.form_post("/join", {"pin": open_.pin, "guest_name": "Bà Tư"}, token_from="/join")
    assert response.headers["Location"].endswith(f"/play/{open_.id}")
    assert "Bà Tư" in client.get(f"/play/{open_.id}").get_data(as_text=True)


def test_a_member_cannot_host(bank, client, make_user, secretary, branch):
    make_user(unit=branch, username="dangvien")
    live = _live(secretary, branch)
    client.login("dangvien")
    assert client.get("/meetings").status_code == 403
    assert client.get(f"/meetings/{live.id}/host").status_code == 403
    response = client.form_post(f"/meetings/{live.id}/host/start", token_from="/home")
    assert response.status_code == 403 and _fresh(live).phase == "lobby"


def test_a_secretary_hosts_only_for_his_subtree(bank, client, make_user, make_unit, secretary, branch):
    other = make_unit()
    other_secretary = make_user(role="secretary", unit=other)
    theirs = _live(other_secretary, other)
    client.login("bithu")
    assert client.get(f"/meetings/{theirs.id}/host").status_code == 404
    assert client.get(f"/meetings/{theirs.id}/host/state").status_code == 404
    client.form_post(f"/meetings/{theirs.id}/host/start", token_from="/meetings")
    assert _fresh(theirs).phase == "lobby"
    page = client.get("/meetings").get_data(as_text=True)
    assert f'value="{other.id}"' not in page and f"/meetings/{theirs.id}/host" not in page
    response = client.form_post("/meetings", {"title": "Ngoài phạm vi", "unit": str(other.id), "format": "points",
                                              "question_seconds": "20", "section": "", "count": "3"},
                                token_from="/meetings")
    assert response.status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(MeetingSession)
                             .where(MeetingSession.title == "Ngoài phạm vi")) == 0


def test_secretary_creates_hosts_and_the_branch_page_records_it(bank, client, make_user, secretary, branch,
                                                                frozen_clock):
    member = make_user(unit=branch, username="dangvien", full_name="Trần Thị Bình")
    client.login("bithu")
    response = client.form_post("/meetings", {"title": "Tháng 3", "unit": str(branch.id), "format": "bell",
                                              "question_seconds": "15", "section": "", "count": "3"},
                                token_from="/meetings")
    live = db.session.scalar(select(MeetingSession).where(MeetingSession.title == "Tháng 3"))
    assert response.headers["Location"].endswith(f"/meetings/{live.id}/host")
    page = client.get(f"/meetings/{live.id}/host").get_data(as_text=True)
    assert "<svg" in page and live.pin in page and f"/join/{live.pin}" in page
    meeting.join(_fresh(live), member)
    db.session.commit()
    assert client.get(f"/meetings/{live.id}/host/state").get_json()["players"] == 1
    for action in ("start", "reveal", "leaderboard", "end"):
        client.form_post(f"/meetings/{live.id}/host/{action}", token_from=f"/meetings/{live.id}/host")
    assert _fresh(live).phase == "finished"
    page = client.get(f"/branch/{branch.id}").get_data(as_text=True)
    assert "Tháng 3" in page and "Trần Thị Bình" in page
