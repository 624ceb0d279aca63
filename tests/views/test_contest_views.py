"""Contest rounds through the browser: the organizer's forms, a member taking a round,
result visibility, audience, the open-round edit rule, the live view, exports, item
analysis and corrections."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Attempt, AuditLog, CollectivePrize, Contest, Round, RoundQuestionChange
from quizapp.services import attempts
from quizapp.services import contests
from quizapp.services.contests import RoundSettings
from tests.conftest import BrowserClient, right_ids, take_round, wrong_ids
from tests.tokens import tokens_of

pytestmark = pytest.mark.usefixtures("isolated_requests")

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


# ---------------------------------------------------------------- helpers

def _flashes(response) -> list[str]:
    page = response.get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


def _field_errors(response) -> list[str]:
    page = response.get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', page, re.S)]


def _local(value) -> str:
    return value.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def _round_form(**overrides) -> dict:
    """The round form as a browser posts it. The frozen clock starts at 09:00 in Hà Nội."""
    data = {"title": "Vòng 1", "opens_at": "2026-03-02T10:00", "closes_at": "2026-03-02T12:00",
            "time_limit_minutes": "20", "question_count": "5", "draw_plan": "viewpoint-1: 5",
            "shuffle_questions": "y", "shuffle_choices": "y", "attempts_allowed": "1",
            "counting": "best", "results_visibility": "at_close", "prediction_kind": "",
            "prize_first": "1", "prize_second": "2", "prize_third": "3",
            "prize_consolation": "5", "reason": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _form_of(round_: Round, **overrides) -> dict:
    """The edit form of an existing round, unchanged unless overridden."""
    data = {"title": round_.title, "opens_at": _local(round_.opens_at),
            "closes_at": _local(round_.closes_at),
            "time_limit_minutes": str(round_.time_limit_seconds // 60),
            "question_count": str(round_.question_count), "draw_plan": round_.draw_plan,
            "shuffle_questions": "y" if round_.shuffle_questions else None,
            "shuffle_choices": "y" if round_.shuffle_choices else None,
            "attempts_allowed": str(round_.attempts_allowed), "counting": round_.counting,
            "results_visibility": round_.results_visibility,
            "prediction_kind": round_.prediction_kind or "",
            "prize_first": str(round_.prize_first), "prize_second": str(round_.prize_second),
            "prize_third": str(round_.prize_third),
            "prize_consolation": str(round_.prize_consolation),
            "paper_prizes": "y" if round_.paper_prizes else None, "reason": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _post(client, path, data=None, back=None, **kw):
    """A form post by a logged-in browser (its CSRF token taken from /home), from the page
    `back` (sent as the Referer, where a refused post returns with its message)."""
    if back:
        kw.setdefault("headers", {})["Referer"] = f"http://localhost{back}"
    return client.form_post(path, data or {}, token_from="/home", **kw)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def org_client(client, organizer):
    client.login("btc")
    return client


def _service_round(organizer, clock, *, audience=(), schedule=True, open_now=True, **overrides):
    contest = contests.create_contest(organizer, "Cuộc thi tìm hiểu Nghị quyết", "Thể lệ",
                                      list(audience))
    values = dict(title="Vòng 1", opens_at=clock.now + timedelta(hours=1),
                  closes_at=clock.now + timedelta(hours=3), time_limit_minutes=20,
                  question_count=5, draw_plan="viewpoint-1: 5")
    values.update(overrides)
    round_ = contests.create_round(organizer, contest, RoundSettings(**values))
    if schedule:
        contests.schedule(organizer, round_)
    db.session.commit()
    if open_now:
        clock.set(round_.opens_at)
    return round_


# ---------------------------------------------------------------- creating contests and rounds

def test_organizer_creates_a_contest_and_a_round_through_the_forms(org_client, bank, frozen_clock,
                                                                   make_unit):
    branch = make_unit("cb-01", name="Chi bộ Tổ dân phố 1")
    make_unit("cb-02")
    assert org_client.get("/organize/").status_code == 200
    assert "Chi bộ Tổ dân phố 1" in org_client.get("/organize/contests/new").get_data(as_text=True)
    response = _post(org_client, "/organize/contests/new", {
        "title": "Cuộc thi trắc nghiệm tìm hiểu Nghị quyết", "rules": "Mỗi vòng 20 phút.",
        "audience": [str(branch.id)]})
    assert response.status_code == 302
    contest = db.session.execute(select(Contest)).scalar_one()
    assert response.headers["Location"].endswith(f"/organize/contests/{contest.id}")
    assert [u.code for u in contest.audience] == ["cb-01"]

    response = _post(org_client, f"/organize/contests/{contest.id}/rounds/new", _round_form(
        prediction_kind="participants", attempts_allowed="2", counting="last"))
    assert response.status_code == 302, _field_errors(response)
    db.session.expire_all()
    round_ = db.session.execute(select(Round)).scalar_one()
    assert response.headers["Location"].endswith(f"/organize/rounds/{round_.id}")
    # 10:00 and 12:00 in Hà Nội (UTC+7) are 03:00 and 05:00 UTC
    assert (round_.opens_at.hour, round_.closes_at.hour) == (3, 5)
    assert round_.opens_at.utcoffset() == timedelta(0)
    assert (round_.time_limit_seconds, round_.question_count, round_.draw_plan) == (
        1200, 5, "viewpoint-1: 5")
    assert (round_.prediction_kind, round_.attempts_allowed, round_.counting) == (
        "participants", 2, "last")
    assert contests.round_state(round_) == "draft"
    page = org_client.get(f"/organize/rounds/{round_.id}").get_data(as_text=True)
    assert "10:00 02/03/2026" in page and "12:00 02/03/2026" in page


@pytest.mark.parametrize("overrides, field", [
    ({"opens_at": "2026-03-02T12:00", "closes_at": "2026-03-02T10:00"}, "closes_at"),
    ({"closes_at": "2026-03-02T10:00"}, "closes_at"),
    ({"closes_at": "2026-03-02T10:15"}, "time_limit_minutes"),
    ({"draw_plan": "viewpoint-1: 6", "question_count": "6"}, "draw_plan"),
    ({"draw_plan": "viewpoints: 6 each", "question_count": "30"}, "draw_plan"),
    ({"draw_plan": "letter: 2\ntheme: rest", "question_count": "9"}, "draw_plan"),
    ({"draw_plan": "khong-co: 2\nletter: 3"}, "draw_plan"),
    ({"draw_plan": "letter: 2\ntheme: 2"}, "draw_plan"),
    ({"opens_at": "02/03/2026 10:00"}, "opens_at"),
    ({"time_limit_minutes": "0"}, "time_limit_minutes"),
])
def test_impossible_round_is_a_form_error_and_nothing_is_saved(org_client, bank, frozen_clock,
                                                               organizer, overrides, field):
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    db.session.commit()
    data = _round_form(**overrides)
    response = _post(org_client, f"/organize/contests/{contest.id}/rounds/new", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _field_errors(response)
    # the error sits on the right field, and what was typed is kept
    block = re.search(rf'<div class="field has-error">(?:(?!<div class="field).)*name="{field}"',
                      page, re.S)
    assert block, (field, _field_errors(response))
    assert html.escape(data["title"]) in page
    db.session.expire_all()
    assert _count(Round) == 0


def test_members_and_secretaries_get_403_on_organize(client, bank, make_user, browser, organizer,
                                                     frozen_clock):
    make_user(username="dangvien")
    make_user(username="bithu", role="secretary")
    round_ = _service_round(organizer, frozen_clock, open_now=False)
    for username in ("dangvien", "bithu"):
        member = browser(username)
        for path in ("/organize/", "/organize/contests/new", f"/organize/rounds/{round_.id}",
                     f"/organize/rounds/{round_.id}/live.json",
                     f"/organize/rounds/{round_.id}/export.xlsx"):
            assert member.get(path).status_code == 403, path
        assert _post(member, "/organize/contests/new", {"title": "X"}).status_code == 403
        assert _post(member, f"/organize/rounds/{round_.id}/unschedule").status_code == 403
    db.session.expire_all()
    assert _count(Contest) == 1 and contests.round_state(round_) == "scheduled"
    assert client.get("/organize/").status_code == 302  # not logged in: to the login page


def test_schedule_and_state_buttons(org_client, bank, organizer, frozen_clock):
    round_ = _service_round(organizer, frozen_clock, schedule=False, open_now=False)
    response = _post(org_client, f"/organize/rounds/{round_.id}/schedule", {"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert contests.round_state(round_) == "scheduled"
    detail = f"/organize/rounds/{round_.id}"
    response = _post(org_client, f"/organize/rounds/{round_.id}/schedule", {"confirm": "y"}, back=detail,
                     follow_redirects=True)
    assert response.status_code == 200 and _flashes(response)  # refused, with the reason
    response = _post(org_client, f"/organize/rounds/{round_.id}/finalize", back=detail,
                     follow_redirects=True)
    assert response.status_code == 200 and _flashes(response)
    db.session.expire_all()
    assert contests.round_state(round_) == "scheduled"
    frozen_clock.set(round_.opens_at)
    response = _post(org_client, f"/organize/rounds/{round_.id}/close", {"reason": ""})
    db.session.expire_all()
    assert contests.round_state(round_) == "open"  # a reason is required
    _post(org_client, f"/organize/rounds/{round_.id}/close", {"reason": "Sự cố"})
    db.session.expire_all()
    assert contests.round_state(round_) == "closed"
    _post(org_client, f"/organize/rounds/{round_.id}/finalize")
    db.session.expire_all()
    assert contests.round_state(round_) == "finalized"


# ---------------------------------------------------------------- a member takes a round

def _quiz_post(member, attempt, right: int, action="submit", extra=None):
    data = {"action": action}
    for index, item in enumerate(attempt.items):
        data[f"q-{item.question_id}"] = [str(i) for i in tokens_of(
            item, right_ids(item) if index < right else wrong_ids(item))]
    data.update(extra or {})
    return member.form_post(f"/attempts/{attempt.id}", data, token_from=f"/attempts/{attempt.id}")


def test_member_sees_takes_and_submits_a_round(org_client, bank, frozen_clock, make_user, browser):
    make_user(username="dangvien", full_name="Nguyễn Văn An")
    _post(org_client, "/organize/contests/new", {"title": "Cuộc thi", "rules": ""})
    contest = db.session.execute(select(Contest)).scalar_one()
    _post(org_client, f"/organize/contests/{contest.id}/rounds/new",
          _round_form(title="Vòng tháng Ba"))
    round_ = db.session.execute(select(Round)).scalar_one()
    member = browser("dangvien")
    assert "Vòng tháng Ba" not in member.get("/home").get_data(as_text=True)  # draft: hidden
    assert member.get(f"/rounds/{round_.id}").status_code == 404
    _post(org_client, f"/organize/rounds/{round_.id}/schedule", {"confirm": "y"})

    home = member.get("/home").get_data(as_text=True)
    assert "Vòng tháng Ba" in home and "10:00 02/03/2026" in home  # upcoming, with its time
    response = _post(member, f"/rounds/{round_.id}/start", back=f"/rounds/{round_.id}",
                     follow_redirects=True)
    assert "10:00 02/03/2026" in " ".join(_flashes(response))  # refused: not open yet
    db.session.expire_all()
    assert _count(Attempt) == 0

    frozen_clock.set(round_.opens_at + timedelta(minutes=5))
    assert "Vòng tháng Ba" in member.get("/home").get_data(as_text=True)
    response = _post(member, f"/rounds/{round_.id}/start")
    assert response.status_code == 302
    attempt = db.session.execute(select(Attempt)).scalar_one()
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}")
    again = _post(member, f"/rounds/{round_.id}/start")  # a double click: the same attempt
    assert again.headers["Location"].endswith(f"/attempts/{attempt.id}")
    page = member.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    for item in attempt.items:
        assert html.escape(item.question.prompt) in page or item.question.prompt in page
    assert "is_correct" not in page

    frozen_clock.advance(minutes=3)
    response = _quiz_post(member, attempt, right=3)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}/result")
    db.session.expire_all()
    assert attempt.status == "finished" and attempt.score == 3
    assert attempt.time_taken_seconds == 180
    assert _count(Attempt) == 1


@pytest.mark.parametrize("visibility", ["at_close", "on_publish"])
def test_result_is_hidden_until_the_round_allows_it(org_client, bank, organizer, frozen_clock,
                                                    make_user, browser, visibility):
    make_user(username="dangvien")
    round_ = _service_round(organizer, frozen_clock, results_visibility=visibility)
    member = browser("dangvien")
    _post(member, f"/rounds/{round_.id}/start")
    attempt = db.session.execute(select(Attempt)).scalar_one()
    frozen_clock.advance(minutes=2)
    _quiz_post(member, attempt, right=3)

    def shows_score(path):
        page = member.get(path).get_data(as_text=True)
        return bool(re.search(r"\b3/5\b", page)) or "big-score" in page

    result = f"/attempts/{attempt.id}/result"
    assert member.get(result).status_code == 200
    assert not shows_score(result)
    assert not shows_score(f"/rounds/{round_.id}")
    assert member.get(f"/rounds/{round_.id}/ranking").status_code == 404
    frozen_clock.set(round_.closes_at)
    if visibility == "on_publish":
        assert not shows_score(result)
        _post(org_client, f"/organize/rounds/{round_.id}/publish", {"confirm": "y"})
    assert shows_score(result)
    assert shows_score(f"/rounds/{round_.id}")
    ranking = member.get(f"/rounds/{round_.id}/ranking")
    assert ranking.status_code == 200 and re.search(r"\b3/5\b", ranking.get_data(as_text=True))
    assert "(60,00 %)" in ranking.get_data(as_text=True)   # the share, with the decimal comma


def test_result_at_submit_is_shown_at_once(bank, organizer, frozen_clock, make_user, browser):
    make_user(username="dangvien")
    round_ = _service_round(organizer, frozen_clock, results_visibility="at_submit")
    member = browser("dangvien")
    _post(member, f"/rounds/{round_.id}/start")
    attempt = db.session.execute(select(Attempt)).scalar_one()
    _quiz_post(member, attempt, right=4)
    page = member.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "big-score" in page and re.search(r"\b4/5\b", page)


def test_home_does_not_reveal_a_hidden_contest_result(bank, organizer, frozen_clock, make_user,
                                                      browser):
    make_user(username="dangvien")
    round_ = _service_round(organizer, frozen_clock, results_visibility="at_close")
    member = browser("dangvien")
    _post(member, f"/rounds/{round_.id}/start")
    attempt = db.session.execute(select(Attempt)).scalar_one()
    _quiz_post(member, attempt, right=3)
    home = member.get("/home").get_data(as_text=True)
    assert not re.search(r"\b3/5\b", home)
    assert "/practice/mistakes" not in home  # "Retry my 2 mistakes" tells what was wrong
    assert not re.search(r"\b\d+/\d+ ·", home)  # per-section right/answered


def test_late_form_post_does_not_change_the_prediction(bank, organizer, frozen_clock, make_user,
                                                       browser):
    make_user(username="dangvien")
    round_ = _service_round(organizer, frozen_clock, prediction_kind="participants")
    member = browser("dangvien")
    _post(member, f"/rounds/{round_.id}/start")
    attempt = db.session.execute(select(Attempt)).scalar_one()
    page = f"/attempts/{attempt.id}"
    token = member.csrf_token(page)
    _quiz_post(member, attempt, right=0, action="save", extra={"prediction": "7"})
    db.session.expire_all()
    assert attempt.prediction == 7
    frozen_clock.set(attempt.deadline + timedelta(seconds=30))  # past deadline + 5 s grace
    member.post(page, data={"csrf_token": token, "action": "submit", "prediction": "99"})
    db.session.expire_all()
    assert attempt.status == "finished" and attempt.finish_reason == "expired"
    assert attempt.prediction == 7


def test_member_outside_the_audience_gets_404(bank, organizer, frozen_clock, make_user, make_unit,
                                              browser):
    chosen, other = make_unit("cb-01"), make_unit("cb-02")
    make_user(username="ngoai", unit=other)
    make_user(username="trong", unit=chosen)
    round_ = _service_round(organizer, frozen_clock, audience=[chosen])
    outsider = browser("ngoai")
    assert outsider.get(f"/rounds/{round_.id}").status_code == 404
    # a refused post answers like any refused post (a flash on the way back), never a start
    assert _post(outsider, f"/rounds/{round_.id}/start").status_code in (302, 404)
    assert outsider.get(f"/rounds/{round_.id}/ranking").status_code == 404
    insider = browser("trong")
    assert insider.get(f"/rounds/{round_.id}").status_code == 200
    assert "Vòng 1" in insider.get("/home").get_data(as_text=True)
    db.session.expire_all()
    assert _count(Attempt) == 0


def test_home_of_a_member_outside_the_audience_does_not_name_the_round(
        bank, organizer, frozen_clock, make_user, make_unit, browser):
    chosen, other = make_unit("cb-01"), make_unit("cb-02")
    make_user(username="ngoai", unit=other)
    _service_round(organizer, frozen_clock, audience=[chosen], title="Vòng riêng chi bộ 1")
    home = browser("ngoai").get("/home").get_data(as_text=True)
    assert "Vòng riêng chi bộ 1" not in home


def test_another_members_attempt_is_not_found(bank, organizer, frozen_clock, make_user, browser):
    make_user(username="motnguoi")
    make_user(username="nguoikhac")
    round_ = _service_round(organizer, frozen_clock)
    first = browser("motnguoi")
    _post(first, f"/rounds/{round_.id}/start")
    attempt = db.session.execute(select(Attempt)).scalar_one()
    other = browser("nguoikhac")
    assert other.get(f"/attempts/{attempt.id}").status_code == 404
    assert other.get(f"/attempts/{attempt.id}/result").status_code == 404


# ---------------------------------------------------------------- editing an open round

def test_open_round_edit_only_accepts_a_later_close(org_client, bank, organizer, frozen_clock):
    round_ = _service_round(organizer, frozen_clock)
    frozen_clock.advance(minutes=10)
    path = f"/organize/rounds/{round_.id}/edit"
    assert org_client.get(path).status_code == 200
    before = (round_.title, round_.opens_at, round_.closes_at, round_.time_limit_seconds,
              round_.question_count, round_.draw_plan, round_.attempts_allowed)
    refused = [
        _form_of(round_, title="Tên khác"),
        _form_of(round_, time_limit_minutes="30"),
        _form_of(round_, question_count="4", draw_plan="viewpoint-1: 4"),
        _form_of(round_, attempts_allowed="2"),
        _form_of(round_, opens_at=_local(round_.opens_at + timedelta(minutes=5))),
        _form_of(round_, closes_at=_local(round_.closes_at - timedelta(minutes=30))),
        _form_of(round_, closes_at=_local(round_.closes_at + timedelta(hours=1)),
                 title="Tên khác"),
    ]
    for data in refused:
        response = _post(org_client, path, data, back=path, follow_redirects=True)
        assert response.status_code == 200 and _flashes(response)
        db.session.expire_all()
        assert (round_.title, round_.opens_at, round_.closes_at, round_.time_limit_seconds,
                round_.question_count, round_.draw_plan, round_.attempts_allowed) == before, data
    assert _count(AuditLog) == db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action != "round.update"))

    new_close = round_.closes_at + timedelta(hours=1)
    response = _post(org_client, path, _form_of(round_, closes_at=_local(new_close),
                                                 reason="Gia hạn vì mất điện"))
    assert response.status_code == 302
    db.session.expire_all()
    assert round_.closes_at == new_close and round_.title == "Vòng 1"
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "round.update")).scalar_one()
    assert log.reason == "Gia hạn vì mất điện" and log.actor_id == organizer.id
    page = org_client.get(f"/organize/rounds/{round_.id}").get_data(as_text=True)
    assert "round.update" in page and "Gia hạn vì mất điện" in page
    assert "13:00 02/03/2026" in page  # the new close, in Hà Nội time


def test_closed_round_has_no_edit(org_client, bank, organizer, frozen_clock):
    round_ = _service_round(organizer, frozen_clock)
    frozen_clock.set(round_.closes_at)
    later = _form_of(round_, closes_at=_local(round_.closes_at + timedelta(hours=1)))
    _post(org_client, f"/organize/rounds/{round_.id}/edit", later)
    db.session.expire_all()
    assert round_.closes_at == frozen_clock.now


# ---------------------------------------------------------------- live view

def test_live_json_counts_per_branch(org_client, bank, organizer, frozen_clock, make_user,
                                     make_unit):
    one, two = make_unit("cb-01", name="Chi bộ 1"), make_unit("cb-02", name="Chi bộ 2")
    round_ = _service_round(organizer, frozen_clock)
    a, b, c = (make_user(unit=one, password=None), make_user(unit=one, password=None),
               make_user(unit=two, password=None))
    take_round(a, round_, frozen_clock, 3)
    contests.start_round_attempt(b, round_)
    contests.start_round_attempt(c, round_)
    db.session.commit()
    response = org_client.get(f"/organize/rounds/{round_.id}/live.json")
    assert response.status_code == 200 and response.is_json
    data = response.get_json()
    assert data["state"] == "open" and data["round_id"] == round_.id
    assert [(u["unit"], u["started"], u["finished"], u["in_progress"]) for u in data["units"]] == [
        ("Chi bộ 1", 2, 1, 1), ("Chi bộ 2", 1, 0, 1)]
    assert data["total"] == {"started": 3, "finished": 1, "in_progress": 2, "participants": 1}
    page = org_client.get(f"/organize/rounds/{round_.id}").get_data(as_text=True)
    assert "live.json" in page  # the page refreshes from it


# ---------------------------------------------------------------- exports

NAMES = [  # full name, right answers
    ("Trần Thị Ân", 5), ("Phạm Thị Dung", 4), ("Lê Văn Bình", 3), ("Nguyễn Văn An", 2),
    ("Đỗ Văn Đức", 1), ("Hoàng Thị Ánh", 0)]
# Vietnamese order of the given names: a < ă < â < b < c < d < đ; tones after letters.
BY_GIVEN_NAME = ["Nguyễn Văn An", "Hoàng Thị Ánh", "Trần Thị Ân", "Lê Văn Bình", "Phạm Thị Dung",
                 "Đỗ Văn Đức"]


@pytest.fixture
def finished_round(bank, organizer, frozen_clock, make_user, make_unit):
    branch = make_unit("cb-01", name="Chi bộ Tổ dân phố 1")
    round_ = _service_round(organizer, frozen_clock)
    for index, (name, right) in enumerate(NAMES):
        user = make_user(username=f"dv{index}", full_name=name, unit=branch, password=None)
        take_round(user, round_, frozen_clock, right, seconds=60 + index)
    frozen_clock.set(round_.closes_at)
    return round_


def test_export_xlsx_reads_back(org_client, finished_round):
    response = org_client.get(f"/organize/rounds/{finished_round.id}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert ".xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    ranked, by_name = book.worksheets
    rows = list(ranked.iter_rows(values_only=True))
    # Two title lines: what the file is, then the ranking rule.
    assert rows[0][0].startswith("Kết quả xếp hạng cá nhân") and "Vòng" in rows[0][0]
    assert rows[1][0].startswith("Cách xếp hạng: tỉ lệ điểm")
    rows = rows[2:]
    headers = list(rows[0])
    assert "Hạng" in headers and "Họ và tên" in headers and "Điểm" in headers
    rank, name, score = headers.index("Hạng"), headers.index("Họ và tên"), headers.index("Điểm")
    assert [(r[rank], r[name], r[score]) for r in rows[1:]] == [
        (i + 1, n, right) for i, (n, right) in enumerate(NAMES)]
    assert rows[1][headers.index("Chi bộ")] == "Chi bộ Tổ dân phố 1"
    named = list(by_name.iter_rows(values_only=True))[2:]
    assert list(named[0]) == headers
    assert [r[name] for r in named[1:]] == BY_GIVEN_NAME
    assert sorted(r[name] for r in named[1:]) != BY_GIVEN_NAME  # not a plain code-point sort


def test_export_csv_reads_back(org_client, finished_round):
    response = org_client.get(f"/organize/rounds/{finished_round.id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0].startswith("Cách xếp hạng")
    rows = rows[2:]
    headers = rows[0]
    assert headers[0] == "Hạng" and "Họ và tên" in headers
    name = headers.index("Họ và tên")
    assert [r[name] for r in rows[1:]] == [n for n, _right in NAMES]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5", "6"]


def test_export_prizes(org_client, finished_round):
    response = org_client.get(f"/organize/rounds/{finished_round.id}/export.xlsx?what=prizes")
    assert "DU-KIEN-chua-xac-nhan" in response.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert "DỰ KIẾN — CHƯA XÁC NHẬN" in rows[0][0] and "chưa được Ban tổ chức xác nhận" in rows[1][0]
    rows = rows[2:]
    assert rows[0][0] == "Giải" and "Họ và tên" in rows[0]
    assert [(r[0], r[2]) for r in rows[1:4]] == [("Giải Nhất", "Trần Thị Ân"),
                                               ("Giải Nhì", "Phạm Thị Dung"),
                                               ("Giải Nhì", "Lê Văn Bình")]
    _post(org_client, f"/organize/rounds/{finished_round.id}/prizes")
    response = org_client.get(f"/organize/rounds/{finished_round.id}/export.csv?what=prizes")
    assert "giai-thuong-da-xac-nhan.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert "ĐÃ XÁC NHẬN" in rows[0][0] and "CHƯA" not in rows[0][0]
    assert rows[1][0].startswith("Xác nhận bởi Ban Tổ Chức (btc) lúc ")
    rows = rows[2:]
    assert len(rows) == 1 + len(NAMES) and rows[1][:3] == ["Giải Nhất", "1", "Trần Thị Ân"]
    assert org_client.get(f"/organize/rounds/{finished_round.id}/export.csv?what=x"
                          ).status_code == 404


def _seen(page: str) -> str:
    match = re.search(r'name="seen" type="hidden" value="([^"]*)"', page)
    assert match, "the collective prizes form carries the proposal it shows"
    return html.unescape(match.group(1))


def test_collective_prizes_are_confirmed_from_the_results_page(org_client, finished_round,
                                                               organizer, make_user):
    rid = finished_round.id
    page = html.unescape(org_client.get(f"/organize/rounds/{rid}/results").get_data(as_text=True))
    # One branch took part: it is proposed for the first prize, with its arithmetic.
    assert "Chi bộ Tổ dân phố 1" in page and "(50×100,00 + 40×50,00 + 10×50,00) ÷ 100 = 75,00" in page
    seen = _seen(page)
    # A stale page (another proposal) confirms nothing.
    response = _post(org_client, f"/organize/rounds/{rid}/collective-prizes", {"seen": seen + "x"},
                     back=f"/organize/rounds/{rid}/results")
    assert response.status_code == 302
    assert _count(CollectivePrize) == 0
    response = _post(org_client, f"/organize/rounds/{rid}/collective-prizes", {"seen": seen},
                     back=f"/organize/rounds/{rid}/results")
    assert response.status_code == 302
    db.session.expire_all()
    prize = db.session.execute(select(CollectivePrize)).scalar_one()
    assert (prize.tier, prize.unit.name, prize.confirmed_by_id) == ("first", "Chi bộ Tổ dân phố 1",
                                                                     organizer.id)
    assert db.session.execute(select(AuditLog).where(
        AuditLog.action == "round.collective_prizes")).scalar_one().actor_id == organizer.id
    page = html.unescape(org_client.get(f"/organize/rounds/{rid}/results").get_data(as_text=True))
    assert "Ban Tổ Chức" in page
    response = org_client.get(f"/organize/rounds/{rid}/export.csv?what=collective")
    assert "giai-tap-the-da-xac-nhan.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert "ĐÃ XÁC NHẬN" in rows[0][0] and rows[1][0].startswith("Xác nhận bởi Ban Tổ Chức (btc)")
    assert rows[3][rows[2].index("Cách tính")] == prize.arithmetic

    # A member cannot confirm anything.
    member = make_user(username="dv-khac", password="correct-horse-1")
    other = BrowserClient(org_client.application.test_client())
    other.login("dv-khac")
    assert _post(other, f"/organize/rounds/{rid}/collective-prizes", {"seen": seen}).status_code == 403
    assert member.id and _count(CollectivePrize) == 1


# ---------------------------------------------------------------- item analysis and corrections

# Both languages: a bare "%" in a translated template string once made this page a 500.
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_item_analysis_page_renders(org_client, finished_round, lang):
    rid = finished_round.id
    page = org_client.get(f"/organize/rounds/{rid}/items?lang={lang}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    question_ids = sorted(contests.round_question_ids(finished_round))
    assert len(question_ids) == 5
    for qid in question_ids:
        assert f"/organize/rounds/{rid}/corrections/{qid}" in text
    assert "27" in text  # the 27 % upper / lower groups are explained


def test_correction_form_voids_a_question_and_the_results_change(org_client, finished_round,
                                                                 organizer):
    rid = finished_round.id
    results = org_client.get(f"/organize/rounds/{rid}/results").get_data(as_text=True)
    assert "5/5" in results and "4/4" not in results

    # void a question the top member (5/5) answered: the best result becomes 4/4
    first = db.session.execute(select(Attempt)).scalars().first().items[0].question_id
    token = org_client.csrf_token("/home")
    response = org_client.post(f"/organize/rounds/{rid}/corrections/{first}", data={
        "csrf_token": token, f"q{first}-csrf_token": token, f"q{first}-question_id": str(first),
        f"q{first}-action": "void", f"q{first}-reason": "Câu hỏi có hai đáp án đúng"})
    assert response.status_code == 302
    db.session.expire_all()
    change = db.session.execute(select(RoundQuestionChange)).scalar_one()
    assert (change.action, change.question_id, change.actor_id) == ("void", first, organizer.id)
    results = org_client.get(f"/organize/rounds/{rid}/results").get_data(as_text=True)
    assert "5/5" not in results and "4/4" in results
    detail = org_client.get(f"/organize/rounds/{rid}").get_data(as_text=True)
    assert "round.question.void" in detail and "Câu hỏi có hai đáp án đúng" in detail


def test_correction_without_reason_changes_nothing(org_client, finished_round):
    rid = finished_round.id
    qid = sorted(contests.round_question_ids(finished_round))[0]
    token = org_client.csrf_token("/home")
    org_client.post(f"/organize/rounds/{rid}/corrections/{qid}", data={
        "csrf_token": token, f"q{qid}-csrf_token": token, f"q{qid}-question_id": str(qid),
        f"q{qid}-action": "void", f"q{qid}-reason": ""})
    db.session.expire_all()
    assert _count(RoundQuestionChange) == 0
