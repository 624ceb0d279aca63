"""Issue 10, case 4: a submit from a stale tab wiped answers saved later from another
device (3 saved answers became 0). The form post (Submit, Save, or the countdown's
auto-submit) now carries only what its page changed, by the autosave's ordering rule.
The same walk with two real browsers is in tests/e2e/test_browser.py."""
from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest

from quizapp.extensions import db
from quizapp.models import Attempt
from quizapp.services import attempts as attempt_service
from quizapp.services.attempts import PracticeSpec
from tests.conftest import BrowserClient
from tests.tokens import tokens_of

pytestmark = pytest.mark.usefixtures("isolated_requests")


class _Form(HTMLParser):
    """What a browser posts for the quiz form: hidden fields and checked options."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and (a.get("type") == "hidden" or "checked" in a):
            self.fields.append((a["name"], a.get("value", "")))


def _browser_post(page: str, **changes) -> dict[str, list[str]]:
    parser = _Form()
    parser.feed(page)
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    data.update(changes)
    return data


@pytest.fixture
def two_devices(app, bank, make_user):
    member = make_user(username="dangvien")
    attempt = attempt_service.start_practice(member, PracticeSpec([], 5, 30, "exam"),
                                             rng=random.Random(4))
    db.session.commit()
    tab, phone = BrowserClient(app.test_client()), BrowserClient(app.test_client())
    tab.login("dangvien")
    phone.login("dangvien")
    return attempt.id, tab, phone


def _items(attempt_id):
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id).items


def _autosave(client, attempt_id, item, choice_id, seq, page_id):
    response = client.post(f"/api/attempts/{attempt_id}/answers", json={
        "question_id": item.question_id, "choice_ids": tokens_of(item, [choice_id]),
        "seq": seq, "client": page_id}, headers={"X-CSRFToken": client.csrf_token("/home")})
    assert response.status_code == 200 and response.get_json()["saved"] is True


def test_a_submit_from_a_tab_loaded_earlier_keeps_answers_saved_later_elsewhere(two_devices):
    attempt_id, tab, phone = two_devices
    stale = tab.get(f"/attempts/{attempt_id}").get_data(as_text=True)  # nothing answered yet
    items = _items(attempt_id)
    saved = {}
    for seq, item in enumerate(items[:3], start=1):
        _autosave(phone, attempt_id, item, item.choice_ids[1], seq, "phone1")
        saved[item.question_id] = {item.choice_ids[1]}
    # The stale tab answers the fourth question (without JavaScript) and submits.
    fourth = items[3]
    response = tab.post(f"/attempts/{attempt_id}", data=_browser_post(
        stale, action="submit", **{f"q-{fourth.question_id}": str(tokens_of(fourth, [fourth.choice_ids[0]])[0])}))
    assert response.status_code == 302 and response.location.endswith("/result")
    items = _items(attempt_id)
    assert items[0].attempt.status == "finished"
    stored = {i.question_id: i.selected_ids for i in items if i.selected_ids}
    assert stored == {**saved, fourth.question_id: {fourth.choice_ids[0]}}


def test_a_save_from_a_stale_tab_never_clears_and_a_real_change_still_applies(two_devices):
    attempt_id, tab, phone = two_devices
    items = _items(attempt_id)
    first, second = items[0], items[1]
    _autosave(phone, attempt_id, first, first.choice_ids[0], 1, "phone1")
    _autosave(phone, attempt_id, second, second.choice_ids[0], 2, "phone1")
    stale = tab.get(f"/attempts/{attempt_id}").get_data(as_text=True)  # shows both answers
    _autosave(phone, attempt_id, first, first.choice_ids[2], 3, "phone1")  # changed later
    # The tab changes the second question only: its post says the first is as it showed.
    response = tab.post(f"/attempts/{attempt_id}", data=_browser_post(
        stale, action="save", **{f"q-{second.question_id}": str(tokens_of(second, [second.choice_ids[1]])[0])}))
    assert response.status_code == 302
    items = _items(attempt_id)
    assert items[0].selected_ids == {first.choice_ids[2]}  # the later save stands
    assert items[1].selected_ids == {second.choice_ids[1]}  # the tab's own change applies
    assert items[0].attempt.status == "in_progress"


def test_a_submit_carrying_an_older_change_of_the_same_page_does_not_undo_a_newer_one(
        app, bank, make_user):
    """The service rule behind it: a change with a sequence number not above the one
    the same page already stored is a late copy and changes nothing."""
    member = make_user(username="dangvien")
    attempt = attempt_service.start_practice(member, PracticeSpec([], 3, None, "exam"),
                                             rng=random.Random(2))
    item = attempt.items[0]
    attempt_service.save_answer(attempt, item.question_id, [item.choice_ids[1]], seq=20,
                                client="page1")
    assert attempt_service.submit(attempt, {item.question_id: [item.choice_ids[0]]},
                                  seqs={item.question_id: 19}, client="page1")
    db.session.commit()
    assert item.selected_ids == {item.choice_ids[1]}
    assert attempt.status == "finished"
