"""Screenshots of the branch page and the standings in headless Chromium, at 360 px (a
phone) and 1280 px (a desktop), as the branch secretary and as an organizer.

The world is small and seeded through the services with the clock moved back: a ward
with four branches of a few members each, a contest whose first round is closed (with
finished attempts) and whose second round is open (some members done, one in progress,
the rest not yet). The PNGs go to SCREENS_DIR, else tests/e2e/artifacts/ (gitignored), for people to look
at; the tests check that each is written, that a 360 px page does not scroll sideways
(wide tables and charts scroll inside their own `.scroll` box), and that the charts are
there. Never downloads a browser: without /usr/bin/chromium the tests skip (under CI=true
that fails the run; `make test` installs it from Debian first).
"""
from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from quizapp import clock
from quizapp.extensions import db
from quizapp.models import User
from quizapp.services import attempts as attempt_service
from quizapp.services import contests as contest_service
from quizapp.services.branches import roster as roster_service
from quizapp.services.people import users as user_service
from tests.e2e.live import (PASSWORD, log_in, make_app, new_context, screens_dir, serve,
                            tables_bank_and_ward)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.sqlite_only,
]

ARTIFACTS = screens_dir() or Path(__file__).resolve().parent / "artifacts"
SECRETARY = "bithu1"
ORGANIZER = "bantochuc"
WIDTHS = {"360": {"width": 360, "height": 740}, "1280": {"width": 1280, "height": 800}}

BRANCHES = [
    ("cb-tdp-01", "Chi bộ Tổ dân phố số 1"),
    ("cb-tdp-02", "Chi bộ Tổ dân phố số 2"),
    ("cb-ubnd", "Chi bộ cơ quan Ủy ban nhân dân phường"),
    ("cb-thcs", "Chi bộ Trường Trung học cơ sở Tây Mỗ"),
]
MEMBERS = [
    ["Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Quang Dũng", "Hoàng Thị Hà"],
    ["Vũ Đức Hải", "Đặng Thu Hương", "Bùi Văn Khánh", "Đỗ Ngọc Lan"],
    ["Hồ Thanh Long", "Ngô Thị Mai", "Dương Văn Nam", "Lý Hồng Nga", "Phan Xuân Phúc",
     "Trịnh Thị Quyên"],
    ["Đinh Văn Sơn", "Lương Thị Thảo", "Tạ Quang Trung"],
]


class World:
    def __init__(self, url: str, app, ids: dict):
        self.url = url
        self.app = app
        self.ids = ids


def _take_round(member: User, round_, rng: random.Random, skill: float, at) -> None:
    """A member takes a round through the services at moment `at`: start, answer, submit
    a few minutes later."""
    clock.set_clock(lambda: at)
    attempt = contest_service.start_round_attempt(member, round_, rng)
    answers = {}
    for item in attempt.items:
        choices = item.question.choices
        right = [c.id for c in choices if c.is_correct]
        pick = right if rng.random() < skill else [rng.choice([c.id for c in choices])]
        answers[item.question_id] = pick if item.question.kind == "multiple" else pick[:1]
    attempt_service.save_answers(attempt, answers)
    clock.set_clock(lambda: at + timedelta(seconds=rng.randint(240, 840)))
    assert attempt_service.finish(attempt)


def seed(app) -> dict:
    rng = random.Random(4)
    real_now = clock.utcnow()
    with app.app_context():
        ward = tables_bank_and_ward()
        organizer = user_service.create_user(ORGANIZER, "Ban Tổ chức cuộc thi", ward,
                                             role="organizer", password=PASSWORD)
        branches = [user_service.create_unit(code, name, parent=ward, position=n)
                    for n, (code, name) in enumerate(BRANCHES, 1)]
        secretary = user_service.create_user(SECRETARY, "Bí thư Nguyễn Thị Hồng", branches[0],
                                             role="secretary", password=PASSWORD)
        people: list[list[User]] = [[secretary], [], [], []]
        phone = 912000100
        for branch, names in zip(branches, MEMBERS):
            for name in names:
                phone += 1
                people[branches.index(branch)].append(
                    roster_service.add_member(organizer, branch, name, phone=f"0{phone}"))
        # One member exempt (leaves the denominator), one deactivated, in branch 1.
        roster_service.set_exempt(secretary, people[0][4], True, "Công tác xa")
        roster_service.set_active(secretary, people[0][3], False)
        db.session.flush()

        contest = contest_service.create_contest(
            organizer, "Cuộc thi tìm hiểu Nghị quyết Đại hội Đảng bộ phường", "", [ward])
        first_opens = real_now - timedelta(days=3)
        first = contest_service.create_round(organizer, contest, contest_service.RoundSettings(
            title="Vòng 1", opens_at=first_opens, closes_at=real_now - timedelta(days=1),
            time_limit_minutes=15, question_count=10, results_visibility="at_close"))
        second_opens = real_now - timedelta(hours=2)
        second = contest_service.create_round(organizer, contest, contest_service.RoundSettings(
            title="Vòng 2", opens_at=second_opens, closes_at=real_now + timedelta(days=5),
            time_limit_minutes=15, question_count=10, results_visibility="at_close"))
        skills = [0.85, 0.6, 0.7, 0.45]
        first_share = [0.9, 0.5, 0.8, 0.7]
        second_share = [0.5, 0.25, 0.6, 0.0]
        try:
            clock.set_clock(lambda: first_opens - timedelta(hours=1))
            contest_service.schedule(organizer, first)
            contest_service.schedule(organizer, second)
            for b, members in enumerate(people):
                for n, member in enumerate(members):
                    if not member.counts_in_movement:
                        continue
                    if rng.random() < first_share[b]:
                        _take_round(member, first, rng, skills[b],
                                    first_opens + timedelta(hours=1 + 3 * n))
                    if rng.random() < second_share[b]:
                        _take_round(member, second, rng, skills[b] + 0.1,
                                    second_opens + timedelta(minutes=5 + 10 * n))
            # One member of branch 1 has the open round in progress.
            clock.set_clock(lambda: real_now - timedelta(minutes=3))
            waiting = next(m for m in people[0] if m.counts_in_movement
                           and not contest_service.member_attempts(m, second))
            contest_service.start_round_attempt(waiting, second, rng)
        finally:
            clock.reset_clock()
        db.session.commit()
        ids = {"branch": branches[0].id, "other_branch": branches[2].id, "contest": contest.id,
               "closed_round": first.id, "open_round": second.id}
        db.session.remove()
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app = make_app(tmp_path_factory, "e2e-shots")
    ids = seed(app)
    with serve(app, "e2e-shots-server") as url:
        yield World(url, app, ids)


# Elements that stick out to the right of the viewport, outside any .scroll box: what a
# failing width check names.
_OVERFLOWING = """(limit) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.scroll')) continue;
    const r = el.getBoundingClientRect();
    if (r.right > limit + 0.5) {
      out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' right=' + Math.round(r.right));
    }
    if (out.length >= 8) break;
  }
  return out;
}"""


def _pages(ids: dict, role: str) -> dict[str, str]:
    branch = ids["branch"] if role == "secretary" else ids["other_branch"]
    return {
        "branch": f"/branch/{branch}",
        "standings-contest": f"/standings/contest/{ids['contest']}",
        "standings-round": f"/standings/round/{ids['closed_round']}",
    }


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("role,username", [("secretary", SECRETARY), ("organizer", ORGANIZER)])
def test_screenshots(browser, world, role, username, width):
    screens_dir(ARTIFACTS)
    viewport = WIDTHS[width]
    context = new_context(browser, world.url, viewport)
    page = context.new_page()
    try:
        log_in(page, username)
        for name, path in _pages(world.ids, role).items():
            response = page.goto(path)
            assert response is not None and response.status == 200, f"{path}: {response and response.status}"
            page.wait_for_load_state("load")
            shot = ARTIFACTS / f"{role}-{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0, shot

            if viewport["width"] == 360:
                scroll_width = page.evaluate("document.documentElement.scrollWidth")
                assert scroll_width <= 360, (
                    f"{role} {path}: the page is {scroll_width} px wide at 360 px; sticking out: "
                    f"{page.evaluate(_OVERFLOWING, 360)}")

            charts = page.locator("svg.chart").count()
            if name.startswith("standings"):
                assert charts >= 2, f"{path}: {charts} svg.chart"
                # Every branch is in the table, and the formula is shown.
                assert page.locator("table.standings tbody tr").count() == len(BRANCHES)
            else:
                # The trend line and the mastery bars (round 1 has counted answers).
                assert charts >= 2, f"{path}: {charts} svg.chart"
                assert page.locator("table.roster tbody tr").count() >= 3
        if role == "secretary":
            # The branch page names the open round's absentees and offers the reminder.
            page.goto(_pages(world.ids, role)["branch"])
            reminder = page.locator("#reminder").input_value()
            assert "Vòng 2" in reminder
    finally:
        context.close()


def test_secretary_cannot_open_another_branch(browser, world):
    context = new_context(browser, world.url, WIDTHS["360"])
    page = context.new_page()
    try:
        log_in(page, SECRETARY)
        response = page.goto(f"/branch/{world.ids['other_branch']}")
        assert response is not None and response.status == 404
    finally:
        context.close()
