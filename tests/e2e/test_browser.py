"""Real-browser tests: Debian's headless Chromium, driven by Playwright, against the app
served by werkzeug in a background thread on a fresh SQLite file.

Covers the quiz page on a 360 px phone: autosave that survives a reload, the countdown
that auto-submits, the immediate check without a page reload, and the same quiz as one
plain form with JavaScript off. Never downloads a browser: without /usr/bin/chromium
the tests skip, except under CI=true where that fails the run (scripts/ensure-chromium.sh
installs it from Debian; `make test` runs it).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from quizapp.clock import utcnow
from quizapp.extensions import db
from quizapp.models import Attempt
from quizapp.services.people import users as user_service
from tests.e2e.live import PASSWORD, fill_login, make_app, serve, tables_bank_and_ward
from tests.tokens import ids_of

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.sqlite_only,
]

VIEWPORT = {"width": 360, "height": 740}
USERNAME = "dangvien1"
TIMEOUT_MS = 10_000


# ---------------------------------------------------------------- the live server

class LiveServer:
    def __init__(self, app, url):
        self.app = app
        self.url = url

    def attempt(self, attempt_id: int) -> Attempt:
        """A fresh read of the attempt (call inside `with live.app.app_context()`)."""
        db.session.expire_all()
        return db.session.get(Attempt, attempt_id)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app = make_app(tmp_path_factory, "e2e", QUIZ_GRACE_SECONDS=5)
    with app.app_context():
        ward = tables_bank_and_ward()
        user_service.create_user(USERNAME, "Nguyễn Văn An", ward, role="member",
                                 password=PASSWORD)
        db.session.commit()
        db.session.remove()
    with serve(app) as url:
        yield LiveServer(app, url)


# ---------------------------------------------------------------- the browser

def _new_page(browser, live, **context_options):
    context = browser.new_context(viewport=VIEWPORT, base_url=live.url, **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser, live):
    context, page = _new_page(browser, live)
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser, live):
    context, page = _new_page(browser, live, java_script_enabled=False)
    yield page
    context.close()


def log_in(page) -> None:
    page.goto("/login")
    fill_login(page, USERNAME)
    page.wait_for_url(re.compile(r"/home$"))


def start_practice(page, *, count: int, feedback: str, minutes: int | None = None) -> int:
    """Fill the practice form like a member and return the new attempt's id."""
    page.goto("/practice")
    page.fill("input[name=count]", str(count))
    page.fill("input[name=time_limit]", "" if minutes is None else str(minutes))
    page.check(f"input[name=feedback][value={feedback}]")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    return int(re.search(r"/attempts/(\d+)$", page.url).group(1))


def _answers_url(attempt_id: int):
    return lambda response: (response.url.endswith(f"/api/attempts/{attempt_id}/answers")
                             and response.request.method == "POST")


# ---------------------------------------------------------------- scenarios

def test_timed_exam_autosaves_survives_reload_and_auto_submits(page, live, tmp_path):
    log_in(page)
    attempt_id = start_practice(page, count=3, feedback="exam", minutes=1)
    questions = page.locator("fieldset.question")
    assert questions.count() == 3
    assert page.locator("#timer").is_visible()

    # Answer question 1 by tapping the label; autosave posts it as JSON.
    first = questions.first
    question_id = int(first.get_attribute("data-question-id"))
    label = first.locator("label.option").first
    choice_id = int(label.locator("input").get_attribute("value"))
    with page.expect_response(_answers_url(attempt_id)) as saved:
        label.click()
    assert saved.value.status == 200
    assert saved.value.json()["choice_ids"] == [choice_id]

    # A reload (a phone dropping the tab) shows the saved answer.
    page.reload()
    assert page.locator(f"input[name='q-{question_id}'][value='{choice_id}']").is_checked()

    # No horizontal scroll on a 360 px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot = tmp_path / "quiz-360.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0

    # Bring the deadline close instead of waiting a minute, then let the countdown run out.
    with live.app.app_context():
        attempt = live.attempt(attempt_id)
        attempt.deadline = utcnow() + timedelta(seconds=3)
        db.session.commit()
        db.session.remove()
    page.reload()
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/result$"), timeout=15_000)
    assert re.fullmatch(r"\d+/3", page.locator(".big-score").inner_text().strip())

    with live.app.app_context():
        attempt = live.attempt(attempt_id)
        assert attempt.status == "finished"
        assert attempt.finish_reason == "submitted"  # by the page's countdown, not lazily
        assert attempt.finished_at is not None and attempt.score is not None
        item = next(i for i in attempt.items if i.question_id == question_id)
        # The page names choices by the attempt's tokens.
        assert item.selected_ids == set(ids_of(item, [choice_id]))
        right = {c.id for c in item.question.choices if c.is_correct}
        assert item.is_correct is (right == item.selected_ids)
        assert attempt.score == sum(1 for i in attempt.items if i.is_correct)
        assert page.locator(".big-score").inner_text().strip() == f"{attempt.score}/3"
        db.session.remove()


def test_immediate_check_shows_feedback_without_reload(page, live):
    log_in(page)
    attempt_id = start_practice(page, count=3, feedback="immediate")
    first = page.locator("fieldset.question").first
    question_id = int(first.get_attribute("data-question-id"))
    with page.expect_response(_answers_url(attempt_id)):
        first.locator("label.option").first.click()

    page.evaluate("window.__noReload = 'still here'")
    with page.expect_response(lambda r: r.url.endswith(f"/api/attempts/{attempt_id}/check")) as checked:
        first.locator("button.check").click()
    assert checked.value.status == 200
    data = checked.value.json()

    box = first.locator(".feedback-slot .feedback")
    box.wait_for()
    assert page.evaluate("window.__noReload") == "still here"  # same document: no reload
    assert re.search(r"/attempts/\d+$", page.url)
    assert ("ok" if data["is_correct"] else "wrong") in box.get_attribute("class").split()
    assert box.locator(".verdict").inner_text().strip()
    with live.app.app_context():
        attempt = live.attempt(attempt_id)
        item = next(i for i in attempt.items if i.question_id == question_id)
        assert item.locked and item.is_correct is data["is_correct"]
        explanation = item.question.explanation
        db.session.remove()
    assert box.locator(".explanation").inner_text().strip() == explanation.strip()
    inputs = first.locator("label.option input")
    assert inputs.count() >= 2
    for i in range(inputs.count()):
        assert inputs.nth(i).is_disabled()
    assert first.locator("button.check").count() == 0
    # The other questions are untouched.
    assert page.locator("fieldset.question").nth(1).locator("input").first.is_enabled()


def test_without_javascript_the_quiz_is_one_form(nojs_page, live):
    page = nojs_page
    log_in(page)
    attempt_id = start_practice(page, count=3, feedback="exam")
    questions = page.locator("fieldset.question")
    assert questions.count() == 3
    picked: dict[int, int] = {}
    for n in range(3):
        fieldset = questions.nth(n)
        label = fieldset.locator("label.option").last
        label.click()
        picked[int(fieldset.get_attribute("data-question-id"))] = \
            int(label.locator("input").get_attribute("value"))
    page.locator("#submit-button").click()
    page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/result$"))
    score = page.locator(".big-score").inner_text().strip()

    with live.app.app_context():
        attempt = live.attempt(attempt_id)
        assert attempt.status == "finished" and attempt.finish_reason == "submitted"
        assert {i.question_id: i.selected_ids for i in attempt.items} == \
            {i.question_id: set(ids_of(i, [picked[i.question_id]])) for i in attempt.items}
        assert score == f"{attempt.score}/3"
        db.session.remove()


def test_a_stale_tab_auto_submit_keeps_what_another_device_saved_later(browser, live):
    """Issue 10, case 4, with two Chromium contexts as one member: the tab loaded first
    answers question 4; the phone then answers questions 1–3 and changes question 4;
    the tab's countdown then runs out and auto-submits. Nothing the phone saved is lost
    or overwritten by the tab's older answer."""
    tab_context, tab = _new_page(browser, live)
    phone_context, phone = _new_page(browser, live)
    try:
        tab_context.clock.install()  # the tab's countdown, run out below without waiting
        log_in(tab)
        attempt_id = start_practice(tab, count=4, feedback="exam", minutes=5)
        questions = tab.locator("fieldset.question")
        fourth = questions.nth(3)
        with tab.expect_response(_answers_url(attempt_id)) as saved:
            fourth.locator("label.option").first.click()
        assert saved.value.status == 200

        log_in(phone)
        phone.goto(f"/attempts/{attempt_id}")
        picked: dict[int, list[int]] = {}
        for n in range(4):
            fieldset = phone.locator("fieldset.question").nth(n)
            label = fieldset.locator("label.option").nth(1)
            with phone.expect_response(_answers_url(attempt_id)) as saved:
                label.click()
            assert saved.value.status == 200 and saved.value.json()["saved"] is True
            # What the phone now holds for the question: on a multiple-answer question the
            # tab's saved pick stays ticked beside the phone's.
            checked = fieldset.locator("input:checked")
            picked[int(fieldset.get_attribute("data-question-id"))] = [
                int(checked.nth(k).get_attribute("value")) for k in range(checked.count())]

        # The stale tab still shows questions 1-3 blank and its own answer to question 4.
        assert tab.locator("fieldset.question input:checked").count() == 1
        tab.clock.fast_forward("05:05")
        tab.wait_for_url(re.compile(rf"/attempts/{attempt_id}/result$"), timeout=15_000)

        with live.app.app_context():
            attempt = live.attempt(attempt_id)
            assert attempt.status == "finished" and attempt.finish_reason == "submitted"
            assert {i.question_id: i.selected_ids for i in attempt.items} == \
                {i.question_id: set(ids_of(i, picked[i.question_id])) for i in attempt.items}
            db.session.remove()
    finally:
        tab_context.close()
        phone_context.close()
