"""Issue 15's quick wins: Vietnamese form messages with an error summary, the favicon,
focusable scrolling tables, the secretary's way to the ward standings (own branch
highlighted, plain column names), confirmed scheduling and publishing (without
JavaScript), a readable change log, the countdown announced at milestones only, and
compressed text responses."""
from __future__ import annotations

import gzip
import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Round
from quizapp.services import contests
from quizapp.services.contests import RoundSettings

pytestmark = pytest.mark.usefixtures("isolated_requests")


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _round(organizer, clock, schedule=True, **overrides) -> Round:
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    values = dict(title="Vòng 1", opens_at=clock.now + timedelta(hours=1),
                  closes_at=clock.now + timedelta(hours=3), time_limit_minutes=20,
                  question_count=5, draw_plan="viewpoint-1: 5")
    values.update(overrides)
    round_ = contests.create_round(organizer, contest, RoundSettings(**values))
    if schedule:
        contests.schedule(organizer, round_)
    db.session.commit()
    return round_


# ---------------------------------------------------------------- form messages

def test_form_errors_are_vietnamese_with_a_summary_at_the_top(client):
    page = _text(client.form_post("/login", {"login": "", "password": ""}))
    assert "This field is required." not in page
    assert "Ô này không được để trống." in page
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', page, re.S).group(0)
    assert "Có lỗi cần sửa" in summary
    assert 'href="#login"' in summary and 'href="#password"' in summary
    # The summary comes before the form.
    assert page.index("error-summary") < page.index('<form method="post"')


def test_number_range_message_is_vietnamese(bank, make_user, open_as):
    make_user(username="dangvien")
    member = open_as("dangvien")
    page = _text(member.form_post("/practice", {"count": "500", "feedback": "exam"},
                                  token_from="/practice"))
    assert "Number must be" not in page
    assert re.search(r"Số phải nằm trong khoảng từ \d+ đến \d+\.", page)


def test_english_stays_english(client):
    client.get("/login?lang=en")
    page = _text(client.form_post("/login", {"login": "", "password": ""}))
    assert "This field is required." in page and "There is a problem" in page


# ---------------------------------------------------------------- favicon, tables

def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"   # an ICO header
    assert 'rel="icon"' in _text(client.get("/login"))


def test_scrolling_tables_are_focusable_and_named(bank, organizer, frozen_clock, make_unit,
                                                  make_user, open_as):
    branch = make_unit("cb-a")
    make_user(role="secretary", unit=branch, username="bithu")
    round_ = _round(organizer, frozen_clock)
    frozen_clock.set(round_.opens_at)
    pages = [_text(open_as("bithu").get(f"/standings/contest/{round_.contest.id}")),
             _text(open_as("btc").get(f"/organize/rounds/{round_.id}"))]
    for page in pages:
        wrappers = re.findall(r'<div class="scroll"[^>]*>', page)
        assert wrappers
        for wrapper in wrappers:
            assert 'tabindex="0"' in wrapper and 'aria-label="Bảng' in wrapper


# ---------------------------------------------------------------- secretaries

def test_secretary_reaches_the_ward_standings_with_his_branch_highlighted(
        bank, organizer, frozen_clock, make_unit, make_user, open_as):
    mine, other = make_unit("cb-a", name="Chi bộ Hoa Sen"), make_unit("cb-b", name="Chi bộ Hoa Mai")
    make_user(role="secretary", unit=mine, username="bithu")
    make_user(unit=mine)
    make_user(unit=other)
    round_ = _round(organizer, frozen_clock)
    frozen_clock.set(round_.opens_at)
    secretary = open_as("bithu")
    branch_page = _text(secretary.get(f"/branch/{mine.id}"))
    link = f'/standings/contest/{round_.contest.id}#unit-{mine.id}'
    assert f'href="{link}"' in branch_page
    standings = _text(secretary.get(f"/standings/contest/{round_.contest.id}"))
    own = re.search(rf'<tr id="unit-{mine.id}"[^>]*>', standings).group(0)
    assert "own-branch" in own and 'aria-current="true"' in own
    assert "own-branch" not in re.search(rf'<tr id="unit-{other.id}"[^>]*>', standings).group(0)
    head = re.search(r"<thead>.*?</thead>", standings, re.S).group(0)
    assert "<th>P</th>" not in head and "<th>S</th>" not in head and "<th>G</th>" not in head
    assert "Tỉ lệ tham gia % (P)" in head and "Tiến bộ (G)" in head


# ---------------------------------------------------------------- organizers

def test_scheduling_needs_the_box_ticked_and_says_when_the_round_opens(
        bank, organizer, frozen_clock, open_as):
    round_ = _round(organizer, frozen_clock, schedule=False)
    org = open_as("btc")
    detail = _text(org.get(f"/organize/rounds/{round_.id}"))
    form = re.search(r'<form[^>]*action="[^"]*/schedule"[^>]*>.*?</form>', detail, re.S).group(0)
    assert 'type="checkbox"' in form and 'name="confirm"' in form
    response = org.form_post(f"/organize/rounds/{round_.id}/schedule", {}, token_from="/home",
                             follow_redirects=True)
    assert "hãy đánh dấu ô xác nhận" in _text(response)
    db.session.expire_all()
    assert contests.round_state(db.session.get(Round, round_.id)) == "draft"
    response = org.form_post(f"/organize/rounds/{round_.id}/schedule", {"confirm": "y"},
                             token_from="/home", follow_redirects=True)
    assert "Đã lên lịch vòng thi: vòng thi mở lúc 10:00 02/03/2026." in _text(response)
    db.session.expire_all()
    assert contests.round_state(db.session.get(Round, round_.id)) == "scheduled"


def test_scheduling_a_round_whose_time_has_come_says_it_is_open(bank, organizer, frozen_clock,
                                                                open_as):
    round_ = _round(organizer, frozen_clock, schedule=False)
    frozen_clock.set(round_.opens_at + timedelta(minutes=5))
    org = open_as("btc")
    assert "vòng thi sẽ mở ngay" in _text(org.get(f"/organize/rounds/{round_.id}"))
    response = org.form_post(f"/organize/rounds/{round_.id}/schedule", {"confirm": "y"},
                             token_from="/home", follow_redirects=True)
    page = _text(response)
    assert "Vòng thi đã mở" in page and "Đã lên lịch" not in page


def test_publishing_needs_the_box_ticked_and_the_log_reads_as_words(bank, organizer, frozen_clock,
                                                                    open_as):
    round_ = _round(organizer, frozen_clock, results_visibility="on_publish")
    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    org = open_as("btc")
    org.form_post(f"/organize/rounds/{round_.id}/publish", {}, token_from="/home")
    db.session.expire_all()
    assert db.session.get(Round, round_.id).published_at is None
    org.form_post(f"/organize/rounds/{round_.id}/publish", {"confirm": "y"}, token_from="/home")
    db.session.expire_all()
    assert db.session.get(Round, round_.id).published_at is not None
    page = _text(org.get(f"/organize/rounds/{round_.id}"))
    log = re.search(r"<h2>Nhật ký thay đổi</h2>.*?</ul>", page, re.S).group(0)
    assert "lên lịch vòng thi" in log and "công bố kết quả cho đảng viên" in log
    assert ">round.schedule<" not in log and "<code>" not in log


# ---------------------------------------------------------------- quiz page, transport

def test_the_countdown_is_announced_on_a_separate_live_region(bank, organizer, frozen_clock,
                                                              make_user, open_as):
    make_user(username="dangvien")
    round_ = _round(organizer, frozen_clock)
    frozen_clock.set(round_.opens_at)
    member = open_as("dangvien")
    response = member.form_post(f"/rounds/{round_.id}/start", {}, token_from=f"/rounds/{round_.id}")
    page = _text(member.get(response.headers["Location"]))
    timer = re.search(r'<p class="timer" id="timer"[^>]*>', page).group(0)
    assert "aria-live" not in timer   # the ticking value is not read out every second
    assert re.search(r'<p class="sr" id="timer-announce" aria-live="polite"></p>', page)
    assert 'data-minutes-left="Còn {n} phút."' in page


def test_text_responses_are_compressed(client):
    response = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"
    assert "Đăng nhập" in gzip.decompress(response.data).decode()
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers
    # Static files are sent by nginx in production (docs/deploy.md), which compresses them.
    deploy = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
    nginx = re.search(r"```nginx\n(.*?)```", deploy, re.S).group(1)
    assert re.search(r"^\s*gzip on;", nginx, re.M)
    types = re.search(r"^\s*gzip_types ([^;]*);", nginx, re.M).group(1).split()
    assert {"text/css", "application/javascript"} <= set(types)
