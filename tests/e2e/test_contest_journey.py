"""The contest journey in headless Chromium on a 360 px phone (issue 15): a member
follows the secretary's reminder link, logs in, lands on the round, starts it, answers,
checks the answers (an unanswered question is listed with a link back), submits once,
and sees "Đã nộp ✓" on the done page and at home.

Screenshots of home, one question, check-your-answers and the done page go to the
folder named by SCREENS_DIR (default: tests/e2e/artifacts/, gitignored).
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from quizapp import clock
from quizapp.extensions import db
from quizapp.models import Attempt
from quizapp.services import contests as contest_service
from quizapp.services.people import users as user_service
from tests.e2e.live import (PASSWORD, fill_login, log_in, make_app, new_context, screens_dir,
                            serve, tables_bank_and_ward)

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

SCREENS = screens_dir(Path(__file__).resolve().parent / "artifacts")
PHONE = {"width": 360, "height": 740}
ROUND_TITLE = "Vòng 2"


class World:
    def __init__(self, url, app, ids):
        self.url, self.app, self.ids = url, app, ids


def _seed(app) -> dict:
    real_now = clock.utcnow()
    with app.app_context():
        ward = tables_bank_and_ward()
        branch = user_service.create_unit("cb-01", "Chi bộ Tổ dân phố số 1", parent=ward)
        organizer = user_service.create_user("btc", "Ban Tổ chức", ward, role="organizer",
                                             password=PASSWORD)
        user_service.create_user("bithu", "Bí thư Nguyễn Thị Hồng", branch, role="secretary",
                                 password=PASSWORD)
        members = {}
        for username, name in [("ongba", "Trần Văn Bảy"), ("chunam", "Lê Thị Năm")]:
            members[username] = user_service.create_user(username, name, branch, password=PASSWORD)
        members["chunam"].large_text = True   # as her secretary set it
        contest = contest_service.create_contest(organizer, "Cuộc thi tìm hiểu Nghị quyết", "", [ward])
        opens = real_now - timedelta(hours=1)
        round_ = contest_service.create_round(organizer, contest, contest_service.RoundSettings(
            title=ROUND_TITLE, opens_at=opens, closes_at=real_now + timedelta(days=2),
            time_limit_minutes=30, question_count=6, results_visibility="at_submit",
            prediction_kind="participants"))
        try:
            clock.set_clock(lambda: opens - timedelta(hours=1))
            contest_service.schedule(organizer, round_)
        finally:
            clock.reset_clock()
        db.session.commit()
        ids = {"round": round_.id, "branch": branch.id}
        db.session.remove()
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app = make_app(tmp_path_factory, "e2e-journey")
    ids = _seed(app)
    with serve(app, "e2e-journey", public_url=True) as url:
        yield World(url, app, ids)


def _context(browser, world, **options):
    return new_context(browser, world.url, options.pop("viewport", PHONE), **options)


def _log_in(page, username, next_url=None):
    fill_login(page, username)


def _reminder_link(browser, world) -> str:
    context = _context(browser, world)
    try:
        page = context.new_page()
        log_in(page, "bithu")
        page.goto(f"/branch/{world.ids['branch']}")
        text = page.locator("textarea#reminder").input_value()
    finally:
        context.close()
    link = re.search(r"https?://\S+/r/\d+", text)
    assert link, text
    return link.group(0)


# Boxes of visible elements that stick out of the viewport on either side (outside a
# .scroll box, whose content scrolls on purpose).
CLIPPED = """(width) => {
  const out = [];
  for (const el of document.querySelectorAll('main *, header *')) {
    if (el.closest('.scroll') || el.closest('.sr')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.left < -0.5 || r.right > width + 0.5) {
      out.push(el.tagName.toLowerCase() + '.' + String(el.className || '') + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    }
    if (out.length >= 8) break;
  }
  return out;
}"""


STICKY = """() => [...document.querySelectorAll('body *')]
  .filter(el => ['sticky', 'fixed'].includes(getComputedStyle(el).position)).length"""


def _shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def _no_clipping(page) -> None:
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(CLIPPED, width) == []


def walk_the_journey(browser, world, username: str, prefix: str, **context_options) -> None:
    link = _reminder_link(browser, world)
    context = _context(browser, world, **context_options)
    try:
        page = context.new_page()
        page.goto(link)                                   # logged out: the round's public page
        page.locator("main a.button.primary").click()     # "log in to take part"
        page.wait_for_url(re.compile(r"/login"))
        _log_in(page, username)
        page.wait_for_url(re.compile(rf"/rounds/{world.ids['round']}$"))   # back on the round
        _no_clipping(page)

        page.goto("/home")
        card = page.locator("section.contest-card")
        assert f"Vào thi {ROUND_TITLE}" in card.inner_text()
        assert "Hạn chót" in card.inner_text()
        _no_clipping(page)
        _shot(page, f"{prefix}home")
        card.get_by_role("link", name=f"Vào thi {ROUND_TITLE}").click()
        page.get_by_role("button", name="Bắt đầu làm bài").click()
        page.wait_for_url(re.compile(r"/attempts/\d+$"))
        attempt_id = int(re.search(r"/attempts/(\d+)$", page.url).group(1))

        # Autosave runs: the "Save answers" button is hidden, the review button is there.
        assert not page.locator("#save-button").is_visible()
        questions = page.locator("fieldset.question")
        count = questions.count()
        skipped = questions.nth(count - 1)
        one_per_screen = page.locator("nav.qmap").count() == 1
        assert one_per_screen == (prefix == "large-")    # large text: one question per screen
        for n in range(count - 1):
            with page.expect_response(lambda r: r.url.endswith(f"/api/attempts/{attempt_id}/answers")):
                questions.nth(n).locator("label.option").first.click()
            if one_per_screen:
                _no_clipping(page)
                if n == 0:
                    _shot(page, f"{prefix}one-question")
                page.locator("#next-button").click()     # at once, nothing posted
                assert questions.nth(n + 1).is_visible() and not questions.nth(n).is_visible()
        if one_per_screen:   # the map: every question answered but the last one
            assert page.locator(".qmap-item.answered").count() == count - 1
            assert page.locator(".qmap-item.unanswered").count() == 1
        _no_clipping(page)
        if prefix == "large-":
            # No sticky timer or button bar eating half of a zoomed screen.
            assert "large-text" in page.locator("body").get_attribute("class")
            assert page.evaluate(STICKY) == 0
            assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
        else:
            assert page.evaluate(STICKY) >= 1   # the timer stays in view in the normal mode
        page.locator("fieldset.question:not([hidden])").first.screenshot(path=str(SCREENS / f"{prefix}question.png"))

        page.locator("#review-button").click()
        page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/review$"))
        assert f"{count - 1}/{count}" in page.locator("main").inner_text()
        back = page.locator("ul.unanswered a")
        assert back.count() == 1
        _no_clipping(page)
        _shot(page, f"{prefix}check-your-answers")

        # Back to the skipped question, answer it, and review again: nothing missing.
        back.click()
        skipped_id = skipped.get_attribute("data-question-id")
        page.wait_for_url(re.compile(rf"/attempts/{attempt_id}\?q=\d+#q-{skipped_id}$"))
        with page.expect_response(lambda r: r.url.endswith(f"/api/attempts/{attempt_id}/answers")):
            page.locator(f"#q-{skipped_id} label.option").first.click()
        page.locator("#review-button").click()
        page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/review$"))
        assert page.locator("ul.unanswered a").count() == 0
        page.get_by_role("button", name="Nộp bài").click()

        page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/result$"))
        done = page.locator("section.done-page").inner_text()
        assert f"{ROUND_TITLE}: Đã nộp ✓" in done
        assert re.search(rf"\b\d+/{count}\b", done)
        _no_clipping(page)
        _shot(page, f"{prefix}done")
        page.get_by_role("link", name="Về trang chủ").click()
        page.wait_for_url(re.compile(r"/home$"))
        assert "Đã nộp ✓" in page.locator("section.contest-card").inner_text()
        with world.app.app_context():
            attempt = db.session.get(Attempt, attempt_id)
            assert attempt.status == "finished" and attempt.finish_reason == "submitted"
            assert all(item.selected_ids for item in attempt.items)
            db.session.remove()
    finally:
        context.close()


def test_from_the_reminder_link_to_submitted_through_check_your_answers(browser, world):
    walk_the_journey(browser, world, "ongba", "normal-")


def test_the_same_in_large_text_mode_at_200_percent_zoom(browser, world):
    """A 360 px phone at 200 % zoom lays pages out in 180 CSS px, at 2 device pixels per
    CSS px: every element box must stay within those 180 px."""
    walk_the_journey(browser, world, "chunam", "large-",
                     viewport={"width": 180, "height": 370}, device_scale_factor=2)

