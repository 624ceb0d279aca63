"""A branch secretary enters a paper sheet on a 360 px phone (issue 15, "Show it"):
prints the sheet of a member without a phone, opens the entry grid, types a letter the
sheet does not have — the page comes back with everything typed still in the boxes, the
wrong box marked and an error summary linking to it — corrects it, saves, and the
member's result counts once (a second post of the same grid changes nothing). axe-core
finds nothing serious on the grid with its errors, nor on the round's extra-time list
the secretary reaches from his branch page."""
from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Attempt, Round, RoundResult, RoundUnitStats, User
from quizapp.services import contests
from tests.e2e.test_accessibility import _violations
from tests.e2e.live import log_in
from tests.e2e.test_contest_journey import _context, _no_clipping, world  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def _figures(app, round_id: int, branch_id: int, username: str):
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        sheets = db.session.execute(select(Attempt).where(
            Attempt.round_id == round_id, Attempt.user_id == user_id)).scalars().all()
        results = db.session.scalar(select(func.count()).select_from(RoundResult).where(
            RoundResult.round_id == round_id, RoundResult.user_id == user_id))
        stats = db.session.execute(select(RoundUnitStats).where(
            RoundUnitStats.round_id == round_id, RoundUnitStats.unit_id == branch_id)).scalar_one_or_none()
        out = ([(a.on_paper, a.status, a.score, a.max_score) for a in sheets], results,
               stats.finished if stats else 0)
        db.session.remove()
    return out


def test_a_secretary_enters_a_paper_sheet_at_360px(browser, world):
    round_id, branch_id = world.ids["round"], world.ids["branch"]
    context = _context(browser, world, accept_downloads=True)
    try:
        page = context.new_page()
        log_in(page, "bithu")
        page.goto(f"/branch/{branch_id}")
        page.locator("a", has_text="Phiếu giấy cho đảng viên không dùng điện thoại").click()
        page.wait_for_url(re.compile(rf"/branch/{branch_id}/rounds/{round_id}/paper$"))
        _no_clipping(page)

        # 1. Print the sheet of one member (a PDF download), then the grid shows it.
        page.locator("details summary", has_text="Chỉ một số đảng viên").click()
        page.get_by_label("Trần Văn Bảy").check()
        with page.expect_download() as download:
            page.get_by_role("button", name="Tải phiếu trả lời (PDF, khổ A4)").click()
        assert download.value.suggested_filename.endswith(".pdf")
        page.reload()
        row = page.locator("table.paper-grid tbody tr", has_text="Trần Văn Bảy")
        assert row.count() == 1
        boxes = row.locator("input.paper-cell")
        count = boxes.count()
        assert count == 6
        _no_clipping(page)

        # 2. Type the sheet with one letter it does not have: nothing is saved, every
        #    letter typed comes back, the wrong box is marked and the summary links to it.
        # (A and B are on every question's sheet, whatever the draw; Z on none.)
        typed = ["a", "B", "a", "Z", "", "b"]
        for box, text in zip(boxes.all(), typed):
            box.fill(text)
        page.get_by_role("button", name="Lưu và nộp các phiếu đã nhập").click()
        summary = page.locator("#error-summary")
        summary.wait_for()
        assert "Trần Văn Bảy: Câu 4" in summary.inner_text()
        assert "Không có gì được lưu" in summary.inner_text()
        boxes = page.locator("table.paper-grid tbody tr", has_text="Trần Văn Bảy").locator("input.paper-cell")
        assert [b.input_value() for b in boxes.all()] == typed
        assert [b.get_attribute("aria-invalid") for b in boxes.all()] == [None, None, None, "true", None, None]
        _no_clipping(page)
        assert _figures(world.app, round_id, branch_id, "ongba") == ([(True, "in_progress", None, 6)], 0, 0)
        assert _violations(Axe(), page) == []
        summary.get_by_role("link").click()
        assert page.evaluate("document.activeElement.id") == boxes.nth(3).get_attribute("id") \
            or page.url.endswith("#" + boxes.nth(3).get_attribute("id"))

        # A second tab (another secretary, or a forgotten tab) has the same sheet typed in.
        stale = context.new_page()
        stale.goto(f"/branch/{branch_id}/rounds/{round_id}/paper")
        stale_boxes = stale.locator("table.paper-grid tbody tr", has_text="Trần Văn Bảy").locator("input.paper-cell")
        for box, text in zip(stale_boxes.all(), ["a", "b", "a", "b", "", "b"]):
            box.fill(text)

        # 3. Correct the box and save: the sheet is graded and counted.
        boxes.nth(3).fill("b")
        page.get_by_role("button", name="Lưu và nộp các phiếu đã nhập").click()
        page.wait_for_url(re.compile(rf"/branch/{branch_id}/rounds/{round_id}/paper$"))
        assert "Đã nhập và chấm 1 phiếu." in page.locator("body").inner_text()
        row = page.locator("table.paper-grid tbody tr", has_text="Trần Văn Bảy")
        assert "đã nhập" in row.inner_text() and row.locator("input.paper-cell").count() == 0
        sheets, results, finished = _figures(world.app, round_id, branch_id, "ongba")
        assert [(on_paper, status, max_score) for on_paper, status, _s, max_score in sheets] == [
            (True, "finished", 6)] and results == 1 and finished == 1
        _no_clipping(page)

        # 4. The stale tab saves the same sheet again: counted once, nothing moves.
        stale.get_by_role("button", name="Lưu và nộp các phiếu đã nhập").click()
        stale.wait_for_url(re.compile(rf"/branch/{branch_id}/rounds/{round_id}/paper$"))
        assert "Đã nhập và chấm 0 phiếu." in stale.locator("body").inner_text()
        assert _figures(world.app, round_id, branch_id, "ongba") == (sheets, 1, 1)

        # The round's extra-time list, from the branch page, with one grant to revoke.
        with world.app.app_context():
            organizer = db.session.execute(select(User).where(User.username == "btc")).scalar_one()
            member = db.session.execute(select(User).where(User.username == "chunam")).scalar_one()
            contests.extra_time.grant(organizer, db.session.get(Round, round_id), member, 25)
            db.session.commit()
            db.session.remove()
        page.goto(f"/branch/{branch_id}")
        page.locator("a", has_text="Đảng viên được cộng thêm thời gian trong vòng này").click()
        page.wait_for_url(re.compile(rf"/rounds/{round_id}/extra-time$"))
        assert "Lê Thị Năm" in page.locator("main").inner_text() and "+25 phút" in page.locator("main").inner_text()
        page.locator("details summary", has_text="Thu hồi").click()
        _no_clipping(page)
        assert _violations(Axe(), page) == []
    finally:
        context.close()
