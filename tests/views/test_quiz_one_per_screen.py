"""One question per screen (issue 15): the quiz shows the question at ?q=N and a map of
every question, answered or not; without JavaScript the map and the previous/next
buttons post the form (saving the answer on screen) and come back on the question asked
for. The stale-tab rule holds: a post carries only what the page changed. The layout is
the member's choice, remembered; large text starts on one per screen."""
from __future__ import annotations

import re

import pytest

from quizapp.extensions import db
from quizapp.models import User
from tests.views.test_quiz_views import (inputs, load_attempt, path_of, right_ids,
                                         start_via_form, wrong_ids)

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def member(make_user):
    user = make_user(username="dangvien", full_name="Đảng Viên Một")
    user.large_text = True   # large text: one question per screen unless he chooses otherwise
    db.session.commit()
    return user


@pytest.fixture
def member_client(client, member, bank):
    client.login("dangvien")
    return client


def _browser_post(page: str, pressed: tuple[str, str], picks: dict[int, list[int]] | None = None) -> dict:
    """What a browser without JavaScript sends for the quiz form: its hidden fields, the
    options checked on the page (with the member's new picks), and the pressed button."""
    data: dict[str, list[str]] = {}
    fields = [i for i in inputs(page) if (i.get("_form") or "").startswith("/attempts/")]
    for field in fields:
        if "disabled" in field or not field.get("name"):
            continue
        if field.get("type") == "hidden" or ("checked" in field and field.get("type") in ("radio", "checkbox")):
            data.setdefault(field["name"], []).append(field.get("value", ""))
    for qid, values in (picks or {}).items():
        data[f"q-{qid}"] = [str(v) for v in values]
    data[pressed[0]] = [pressed[1]]
    return data


def _shown(page: str) -> list[int]:
    """Ids of the questions the page shows (not hidden)."""
    return [int(qid) for qid, attrs in re.findall(
        r'<fieldset class="card question" id="q-(\d+)"([^>]*)>', page) if " hidden" not in attrs]


def test_without_javascript_the_member_pages_through_and_the_map_marks_answers(member_client):
    attempt_id = start_via_form(member_client, count=4)
    attempt = load_attempt(attempt_id)
    items = attempt.items
    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert _shown(page) == [items[0].question_id]
    assert page.count('class="qmap-item unanswered"') == 4 and 'id="prev-button"' in page
    # Answer question 1, press "next": saved, and question 2 is on screen.
    response = member_client.post(f"/attempts/{attempt_id}", data=_browser_post(
        page, ("goto", "2"), {items[0].question_id: right_ids(items[0])}))
    assert response.status_code == 302 and response.headers["Location"].endswith("?q=2")
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert _shown(page) == [items[1].question_id]
    assert page.count('class="qmap-item answered"') == 1
    assert re.search(r'value="2" class="qmap-item unanswered"[^>]*aria-current="step"', page)
    # Jump from the map to question 4 with an answer to question 2.
    response = member_client.post(f"/attempts/{attempt_id}", data=_browser_post(
        page, ("goto", "4"), {items[1].question_id: wrong_ids(items[1])}))
    page = member_client.get(response.headers["Location"]).get_data(as_text=True)
    assert _shown(page) == [items[3].question_id]
    attempt = load_attempt(attempt_id)
    assert [bool(i.selected_ids) for i in attempt.items] == [True, True, False, False]
    # The check page's links lead back to each unanswered question's own screen.
    review = member_client.get(f"/attempts/{attempt_id}/review").get_data(as_text=True)
    assert f'/attempts/{attempt_id}?q=3#q-{items[2].question_id}' in review
    # An out-of-range ?q shows the last question rather than an error.
    assert _shown(member_client.get(f"/attempts/{attempt_id}?q=99").get_data(as_text=True)) \
        == [items[3].question_id]


def test_a_stale_screen_does_not_clear_answers_saved_since(member_client):
    attempt_id = start_via_form(member_client, count=3)
    items = load_attempt(attempt_id).items
    stale = member_client.get(f"/attempts/{attempt_id}?q=1").get_data(as_text=True)
    # Another device answers question 2 after this screen was loaded.
    fresh = member_client.get(f"/attempts/{attempt_id}?q=2").get_data(as_text=True)
    member_client.post(f"/attempts/{attempt_id}", data=_browser_post(
        fresh, ("goto", "3"), {items[1].question_id: right_ids(items[1])}))
    # The stale screen moves on without touching question 2: its (hidden) empty answer
    # is not a change of this page.
    member_client.post(f"/attempts/{attempt_id}", data=_browser_post(stale, ("goto", "2")))
    assert load_attempt(attempt_id).items[1].selected_ids


def test_the_layout_is_the_members_choice_and_is_remembered(member_client, member):
    attempt_id = start_via_form(member_client, count=3)
    items = load_attempt(attempt_id).items
    page = member_client.get(f"/attempts/{attempt_id}?q=2").get_data(as_text=True)
    response = member_client.post(f"/attempts/{attempt_id}", data=_browser_post(
        page, ("layout", "long"), {items[1].question_id: right_ids(items[1])}))
    assert path_of(response) == f"/attempts/{attempt_id}"
    assert response.headers["Location"].endswith(f"?q=2#q-{items[1].question_id}")
    assert db.session.get(User, member.id).quiz_layout == "long"
    assert load_attempt(attempt_id).items[1].selected_ids   # the switch kept the answer
    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert len(_shown(page)) == 3 and "qmap" not in page
    # Remembered for the next quiz; and back to one per screen.
    other = start_via_form(member_client, count=2)
    page = member_client.get(f"/attempts/{other}").get_data(as_text=True)
    assert len(_shown(page)) == 2
    member_client.post(f"/attempts/{other}", data=_browser_post(page, ("layout", "one")))
    assert db.session.get(User, member.id).quiz_layout == "one"
    assert len(_shown(member_client.get(f"/attempts/{other}").get_data(as_text=True))) == 1


def test_a_made_up_layout_is_refused_and_changes_nothing(member_client, member):
    attempt_id = start_via_form(member_client, count=2)
    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    response = member_client.post(f"/attempts/{attempt_id}", data=_browser_post(page, ("layout", "grid")))
    assert response.status_code == 400
    assert db.session.get(User, member.id).quiz_layout is None
