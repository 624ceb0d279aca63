"""Screenshots for issue 15's "Show it", on a 360 px phone: home with the "Vào thi" card,
one question per screen, check-your-answers and the done page — for a member in the
normal text (who chose one question per screen) and one in large text — and the
branch's poster of the round.

The PNGs go to SCREENS_DIR when it is set (docs/screenshots/ holds the ones the docs
show: `SCREENS_DIR=docs/screenshots .venv/bin/python -m pytest -p no:xdist
tests/e2e/test_show_it.py`), else to a temporary folder. Each is what a phone shows
(the viewport, 360 px wide), reduced to a 256-colour palette so that it stays small
(≤ 150 KB); the test checks each page on the way as the journey test does. Staged for
a reader: the server's clock stands at 7 min 42 s after the start while the attempt is
submitted (a member takes minutes, not the test's second), and the poster carries the placeholder
public address https://hoctap.example.org rather than the test server's.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from quizapp import clock
from quizapp.extensions import db
from quizapp.models import Attempt, User
from quizapp.services import contests
from sqlalchemy import select
from tests.tokens import tokens_of
from tests.e2e.live import log_in, screens_dir
from tests.e2e.test_contest_journey import PHONE, ROUND_TITLE, _context, _no_clipping, world  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

MAX_BYTES = 150 * 1024
TAKEN = timedelta(minutes=7, seconds=42)
POSTER_URL = "https://hoctap.example.org"


@pytest.fixture(scope="module")
def screens(tmp_path_factory) -> Path:
    return screens_dir(tmp_path_factory.mktemp("screens"))


def _save(page, folder: Path, name: str, full_page: bool = False) -> Path:
    """The page as a phone shows it, as a palette PNG: at most MAX_BYTES, 360 px wide."""
    image = Image.open(io.BytesIO(page.screenshot(full_page=full_page))).convert("RGB")
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = folder / f"{name}.png"
    small.save(path, optimize=True)
    assert Image.open(path).size[0] == PHONE["width"]
    assert 0 < path.stat().st_size <= MAX_BYTES, (name, path.stat().st_size)
    return path


def _one_per_screen(app, username: str) -> None:
    """The member chose one question per screen in the normal text (User.quiz_layout)."""
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        user.quiz_layout = "one"
        db.session.commit()
        db.session.remove()


def _right_tokens(app, attempt_id: int) -> dict[str, list[int]]:
    """Question id (as the page names it) → the tokens of its right choices: the member in
    the pictures knows his resolution."""
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        key = contests.answer_key([i.question_id for i in attempt.items], attempt.round_id)
        out = {str(i.question_id): tokens_of(i, sorted(key[i.question_id])) for i in attempt.items}
        db.session.remove()
    return out


def _journey(browser, world, folder: Path, username: str, mode: str) -> list[Path]:
    saved = []
    context = _context(browser, world)
    try:
        page = context.new_page()
        log_in(page, username)
        card = page.locator("section.contest-card")
        assert f"Vào thi {ROUND_TITLE}" in card.inner_text()
        assert ("large-text" in (page.locator("body").get_attribute("class") or "")) == (mode == "large")
        _no_clipping(page)
        saved.append(_save(page, folder, f"home-{mode}"))

        card.get_by_role("link", name=f"Vào thi {ROUND_TITLE}").click()
        page.get_by_role("button", name="Bắt đầu làm bài").click()
        page.wait_for_url(re.compile(r"/attempts/\d+$"))
        attempt_id = int(re.search(r"/attempts/(\d+)$", page.url).group(1))
        assert page.locator("nav.qmap").count() == 1          # one question per screen
        questions = page.locator("fieldset.question")
        count = questions.count()
        right = _right_tokens(world.app, attempt_id)
        for n in range(count - 1):                             # the last one left unanswered
            question = questions.nth(n)
            for token in right[question.get_attribute("data-question-id")]:
                with page.expect_response(lambda r: r.url.endswith(f"/api/attempts/{attempt_id}/answers")):
                    question.locator(f"label.option:has(input[value='{token}'])").click()
            if n == 0:
                _no_clipping(page)
                page.evaluate("window.scrollTo(0, 0)")
                saved.append(_save(page, folder, f"one-question-{mode}"))
            page.locator("#next-button").click()
        page.locator("#review-button").click()
        page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/review$"))
        assert page.locator("ul.unanswered a").count() == 1
        _no_clipping(page)
        saved.append(_save(page, folder, f"check-your-answers-{mode}"))

        with world.app.app_context():
            submitted = db.session.get(Attempt, attempt_id).started_at + TAKEN
            db.session.remove()
        clock.set_clock(lambda: submitted)
        try:
            page.locator("#confirm-submit").click()
            page.wait_for_url(re.compile(rf"/attempts/{attempt_id}/result$"))
            done = page.locator("section.done-page").inner_text()
            assert f"{ROUND_TITLE}: Đã nộp ✓" in done and "7:42" in done
            assert f"{count - 1}/{count}" in done
            _no_clipping(page)
            saved.append(_save(page, folder, f"done-{mode}"))
        finally:
            clock.reset_clock()
    finally:
        context.close()
    return saved


def test_the_contest_journey_pictures_normal_and_large_text(browser, world, screens):
    _one_per_screen(world.app, "ongba")
    saved = _journey(browser, world, screens, "ongba", "normal")
    saved += _journey(browser, world, screens, "chunam", "large")
    assert [p.name for p in saved] == [
        f"{name}-{mode}.png" for mode in ("normal", "large")
        for name in ("home", "one-question", "check-your-answers", "done")]


def test_the_branch_poster_picture(browser, world, screens):
    context = _context(browser, world)
    real_url = world.app.config["PUBLIC_URL"]
    world.app.config["PUBLIC_URL"] = POSTER_URL
    try:
        page = context.new_page()
        log_in(page, "bithu")
        page.goto(f"/branch/{world.ids['branch']}/rounds/{world.ids['round']}/poster")
        assert ROUND_TITLE in page.locator("article.poster").inner_text()
        assert page.locator("figure.poster-qr svg").count() == 1     # the QR code
        _no_clipping(page)
        assert f"{POSTER_URL}/r/{world.ids['round']}" in page.locator("article.poster").inner_text()
        _save(page, screens, "poster", full_page=True)
    finally:
        world.app.config["PUBLIC_URL"] = real_url
        context.close()
