"""Meeting mode in real browsers: one host screen (1280×720) and three phones (360 px)
play a three-question Golden Bell session to the podium, with one elimination, one
rescue, and a phone that reconnects in the middle of a question. Screenshots go to
MEETING_SCREENS_DIR when it is set (outside the repository)."""
from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
from playwright import sync_api

from quizapp.extensions import db
from quizapp.models import MeetingPlayer, MeetingQuestion, MeetingSession, Question
from quizapp.services.attempts import choice_tokens
from quizapp.services.people import users as user_service
from quizapp.services.learning import meeting
from tests.e2e.live import PASSWORD, log_in, make_app, new_context, serve, tables_bank_and_ward
from tests.meeting_helpers import single_keys

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

PHONE = {"width": 360, "height": 740}
SCREEN = {"width": 1280, "height": 720}
PLAYERS = ("dv-an", "dv-binh", "dv-cuong")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app = make_app(tmp_path_factory, "meeting")
    with app.app_context():
        ward = tables_bank_and_ward()
        branch = user_service.create_unit("cb-01", "Chi bộ Khu dân cư số 1", parent=ward)
        host = user_service.create_user("bithu", "Lê Văn Hùng", branch, role="secretary", password=PASSWORD)
        names = ("Nguyễn Văn An", "Trần Thị Bình", "Phạm Minh Cường")
        for username, name in zip(PLAYERS, names):
            user_service.create_user(username, name, branch, role="member", password=PASSWORD)
        session = meeting.create_session(host, branch, meeting.SessionSpec(
            title="Sinh hoạt chi bộ tháng 3", format="bell", question_seconds=60,
            question_keys=single_keys(3)), rng=random.Random(11))
        db.session.commit()
        session_id, pin = session.id, session.pin
        db.session.remove()
    with serve(app) as url:
        yield app, url, session_id, pin


def _open(browser, url, viewport, username):
    context = new_context(browser, url, viewport)
    page = context.new_page()
    log_in(page, username)
    return context, page


def _token(app, session_id: int, right: bool) -> list[str]:
    """The tokens of the right choices (or of one wrong choice) of the question asked now."""
    with app.app_context():
        live = db.session.get(MeetingSession, session_id)
        mq = db.session.get(MeetingQuestion, live.current_id)
        question = db.session.get(Question, mq.question_id)
        # Right: every right choice (a rescue may draw a multiple-answer question); wrong: one.
        chosen = [c for c in question.choices if c.is_correct] if right else \
            [next(c for c in question.choices if not c.is_correct)]
        values = [str(choice_tokens.token(-session_id, question.id, c.id)) for c in chosen]
        db.session.remove()
    return values


def _tap(page, values: list[str]) -> None:
    buttons = page.locator(f"form.answer-form button[value='{values[0]}']")
    if len(values) == 1 and buttons.count():
        buttons.click()                                     # one tap answers
    else:                                                   # multiple answers: tick, then send
        for value in values:
            page.locator(f"form.answer-form input[value='{value}']").check()
        page.locator("form.answer-form button[type=submit]").click()
    page.wait_for_selector("text=/Đã trả lời|Answered/")


def _host(page, action: str) -> None:
    page.locator(f"button[data-action={action}]").click()
    page.wait_for_load_state()


def _shot(page, name: str) -> None:
    folder = os.environ.get("MEETING_SCREENS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=False)


def test_golden_bell_with_elimination_rescue_and_reconnect(browser, live):
    app, url, session_id, pin = live
    contexts = []
    try:
        host_ctx, host = _open(browser, url, SCREEN, "bithu")
        contexts.append(host_ctx)
        host.goto(f"/meetings/{session_id}/host")
        assert host.locator(".qr svg").is_visible() and host.locator("#pin").inner_text() == pin
        phones = []
        for username in PLAYERS:
            ctx, phone = _open(browser, url, PHONE, username)
            contexts.append(ctx)
            phone.goto(f"/join/{pin}")                   # what the QR code opens
            phone.locator("form.card button[type=submit]").click()
            phone.wait_for_url(re.compile(rf"/play/{session_id}$"))
            phones.append(phone)
        an, binh, cuong = phones
        host.wait_for_selector("text=Phạm Minh Cường")    # the lobby refreshes itself
        _shot(host, "meeting-host-lobby-1280.png")
        _shot(an, "meeting-player-lobby-360.png")

        # Question 1: An right; Bình's phone drops and comes back, then right; Cường wrong.
        for phone in phones:                               # gone if the page reloads
            phone.evaluate("window.sameMeetingPage = true")
        _host(host, "start")
        for phone in phones:
            phone.wait_for_selector("form.answer-form .pick")
            assert phone.evaluate("window.sameMeetingPage === true")   # drawn from the state
        _shot(host, "meeting-host-question-1280.png")
        _shot(an, "meeting-player-question-360.png")
        assert an.evaluate("document.documentElement.scrollWidth") <= 360
        _tap(an, _token(app, session_id, True))
        assert an.evaluate("window.sameMeetingPage === true")         # answered without a reload
        sync_api.expect(host.locator("#answered")).to_have_text("1")   # counted live, no reload
        binh.close()                                       # the tab is gone mid-question
        binh = contexts[2].new_page()
        binh.goto(f"/play/{session_id}")                   # reconnects where the session is
        assert binh.locator("form.answer-form .pick").count() >= 2
        left = int(binh.locator("#countdown").inner_text())
        assert 0 < left <= 60
        _tap(binh, _token(app, session_id, True))
        _tap(cuong, _token(app, session_id, False))
        _host(host, "reveal")
        assert host.locator(".choice.right").count() == 1
        _shot(host, "meeting-host-reveal-1280.png")
        cuong.wait_for_selector("text=/Bạn đã bị loại|You are eliminated/")
        an.wait_for_selector("text=/Chính xác|Right!/")
        _shot(cuong, "meeting-player-eliminated-360.png")

        # The rescue: only Cường answers, right, and is back.
        _host(host, "leaderboard")
        _shot(host, "meeting-host-leaderboard-1280.png")
        _host(host, "rescue")
        cuong.wait_for_selector("form.answer-form .pick")
        an.wait_for_selector("text=/chỉ dành cho người đã bị loại|eliminated players only/")
        _tap(cuong, _token(app, session_id, True))
        _host(host, "reveal")
        cuong.wait_for_selector("text=/Bạn vẫn còn trụ lại|still standing/")

        # Questions 2 and 3: everyone right, then the podium.
        for _ in range(2):
            _host(host, "next")
            for phone in (an, binh, cuong):
                phone.wait_for_selector("form.answer-form .pick")
                _tap(phone, _token(app, session_id, True))
            _host(host, "reveal")
        _host(host, "next")
        host.wait_for_selector("ol.podium")
        assert host.locator("ol.podium li").count() == 3
        _shot(host, "meeting-host-podium-1280.png")
        for phone in (an, binh, cuong):
            phone.wait_for_selector("ol.podium")
        _shot(an, "meeting-player-podium-360.png")
        with app.app_context():
            rows = db.session.query(MeetingPlayer).filter_by(session_id=session_id).all()
            assert sorted(p.right_answers for p in rows) == [2, 3, 3]
            assert not any(p.eliminated for p in rows)
            db.session.remove()
    finally:
        for ctx in contexts:
            ctx.close()
