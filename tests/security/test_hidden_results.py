"""Hidden results stay hidden (issue 10, case 3).

A round whose results are shown "on publish" (or "at close") must not leak scores before
then: not through the branch standings (HTML, JSON, .xlsx, .csv; to anonymous visitors
when the standings are public), the whole-contest standings, the mastery heat map, the
secretary's branch page and its report, the member's home page or the report CLI. Each
test plays a member, a secretary or an anonymous visitor; participation (who took part,
counts, rates) stays visible, and the organizers' view and the published round are the
controls that show the figures are really there to hide.
"""
from __future__ import annotations

import csv
import html
import io
import json
import random
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from quizapp.extensions import db
from quizapp.services import attempts
from quizapp.services import contests
from quizapp.services.contests import RoundSettings
from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")

SCORE_KEYS = ("average", "full_scores", "S", "G", "index")
SCORE_HEADERS = ("Điểm trung bình", "Số bài đạt điểm tối đa", "S", "G (tiến bộ)", "Chỉ số thi đua",
                 "Cách tính")
STANDINGS_COLUMNS = ("rank", "branch", "index", "took_part", "P", "average", "S", "G", "full")


def _take(user, round_, clock, right: int):
    attempt = contests.start_round_attempt(user, round_, rng=random.Random(user.id))
    clock.advance(seconds=60)
    attempts.submit(attempt, {
        item.question_id: ([c.id for c in item.question.choices if c.is_correct] if i < right
                           else [c.id for c in item.question.choices if not c.is_correct][:1])
        for i, item in enumerate(attempt.items)})
    db.session.commit()
    return attempt


@pytest.fixture
def world(bank, make_user, make_unit, frozen_clock):
    """A public contest. Round 1 (results on publish) has closed, unpublished: in Hoa Sen
    An 5/5 and Bình 3/5 (2 of 4), in Phú Mỹ Em 2/5 (1 of 3). Round 2 (results at close)
    is open; nobody has taken it yet."""
    organizer = make_user(role="organizer", username="btc")
    a, b = make_unit("cb-a", name="Chi bộ Hoa Sen"), make_unit("cb-b", name="Chi bộ Phú Mỹ")
    people = {
        "bt-a": make_user(role="secretary", unit=a, username="bt-a", full_name="Lê Văn Bí"),
        "a1": make_user(unit=a, username="dv-a1", full_name="Nguyễn Văn An"),
        "a2": make_user(unit=a, username="dv-a2", full_name="Trần Thị Bình", password=None),
        "a3": make_user(unit=a, username="dv-a3", full_name="Phạm Văn Cường", password=None),
        "b1": make_user(unit=b, username="dv-b1", full_name="Đỗ Văn Em", password=None),
        "b2": make_user(unit=b, username="dv-b2", full_name="Vũ Thị Giang", password=None),
        "b3": make_user(unit=b, username="dv-b3", full_name="Hồ Thị Duyên", password=None),
    }
    contest = contests.create_contest(organizer, "Thi tìm hiểu Nghị quyết", "", [])
    contest.public_standings = True
    now = frozen_clock.now
    rounds = []
    for n, visibility in ((1, "on_publish"), (2, "at_close")):
        round_ = contests.create_round(organizer, contest, RoundSettings(
            title=f"Vòng {n}", opens_at=now + timedelta(hours=4 * n - 3),
            closes_at=now + timedelta(hours=4 * n - 1), time_limit_minutes=20, question_count=5,
            draw_plan="viewpoint-1: 5", results_visibility=visibility))
        contests.schedule(organizer, round_)
        rounds.append(round_)
    db.session.commit()
    r1, r2 = rounds
    frozen_clock.set(r1.opens_at)
    _take(people["a1"], r1, frozen_clock, 5)
    _take(people["a2"], r1, frozen_clock, 3)
    _take(people["b1"], r1, frozen_clock, 2)
    frozen_clock.set(r2.opens_at + timedelta(minutes=5))   # round 1 closed, round 2 open
    return {"contest": contest, "r1": r1, "r2": r2, "organizer": organizer, "units": (a, b),
            **people}


@pytest.fixture
def browser(app):
    def open_as(username: str | None = None) -> BrowserClient:
        other = BrowserClient(app.test_client())
        if username:
            other.login(username)
        return other
    return open_as


def _publish(world):
    contests.publish_results(world["organizer"], world["r1"])
    db.session.commit()


def _get(client, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response


def _table(page: str) -> list[dict[str, str]]:
    """The rows of the standings table, cell texts by column."""
    body = re.search(r'<table class="table standings">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", " ", td)).split() for td in
                 re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        rows.append(dict(zip(STANDINGS_COLUMNS, (" ".join(c) for c in cells))))
    return rows


def _heat_cells(page: str) -> list[str]:
    """The (right/answered) cells of the mastery heat map."""
    return re.findall(r"<title>(\d+/\d+)</title></rect>", page)


def _branch_mastery(page: str) -> str:
    """The branch page between the trend table and the roster: the mastery card."""
    return page[page.index("</table></div>"):page.index('id="roster"')]


def _scores_hidden_in_json(data) -> None:
    assert data["branches"], data
    for branch in data["branches"]:
        assert all(branch[key] is None for key in SCORE_KEYS), branch
        assert not branch["arithmetic"], branch


def _scores_shown_in_json(data) -> None:
    assert all(branch["index"] is not None and branch["S"] is not None
               for branch in data["branches"]), data


# ---------------------------------------------------------------- standings (HTML)

def test_round_standings_page_hides_scores_from_anonymous_visitors(world, browser):
    page = _get(browser(), f"/standings/round/{world['r1'].id}").get_data(as_text=True)
    rows = _table(page)
    assert [r["took_part"] for r in rows] == ["2/4", "1/3"]    # participation stays
    for row in rows:
        assert row["index"] == row["average"] == row["S"] == row["G"] == row["full"] == "—", row
        assert "×" not in row["branch"]                          # no arithmetic with S in it
    assert _heat_cells(page) == []
    _publish(world)
    rows = _table(_get(browser(), f"/standings/round/{world['r1'].id}").get_data(as_text=True))
    assert [r["average"] for r in rows] == ["4,00", "2,00"]


def test_round_standings_page_hides_scores_from_a_secretary(world, browser):
    page = _get(browser("bt-a"), f"/standings/round/{world['r1'].id}").get_data(as_text=True)
    assert all(r["average"] == r["index"] == "—" for r in _table(page))
    assert _heat_cells(page) == []
    # The organizer sees everything, before publishing.
    page = _get(browser("btc"), f"/standings/round/{world['r1'].id}").get_data(as_text=True)
    assert [r["average"] for r in _table(page)] == ["4,00", "2,00"]
    assert _heat_cells(page)


def test_contest_standings_page_hides_the_cumulated_scores(world, browser):
    for who in (None, "dv-a1", "bt-a"):
        page = _get(browser(who), f"/standings/contest/{world['contest'].id}").get_data(as_text=True)
        rows = _table(page)
        assert rows and all(r["index"] == r["average"] == r["S"] == "—" for r in rows), (who, rows)
        assert _heat_cells(page) == []


# ---------------------------------------------------------------- standings (JSON and files)

def test_round_standings_json_hides_scores_from_a_member(world, browser):
    member = browser("dv-a1")
    data = json.loads(_get(member, f"/standings/round/{world['r1'].id}?format=json").data)
    _scores_hidden_in_json(data)
    assert [(b["unit"], b["participants"]) for b in data["branches"]] == [
        ("Chi bộ Hoa Sen", 2), ("Chi bộ Phú Mỹ", 1)]
    _publish(world)
    _scores_shown_in_json(json.loads(
        _get(member, f"/standings/round/{world['r1'].id}?format=json").data))


def test_contest_standings_json_hides_scores_from_anonymous_visitors(world, browser):
    data = json.loads(_get(browser(), f"/standings/contest/{world['contest'].id}?format=json").data)
    _scores_hidden_in_json(data)


def test_a_member_cannot_read_his_own_score_from_his_branch_average(world, browser, frozen_clock):
    """Round 2 shows results at close. Cường submits in his branch while
    it is open: whatever moves in the public JSON must be participation only."""
    path = f"/standings/round/{world['r2'].id}?format=json"
    before = {b["unit"]: b for b in json.loads(_get(browser(), path).data)["branches"]}
    _take(world["a3"], world["r2"], frozen_clock, 4)
    after = {b["unit"]: b for b in json.loads(_get(browser("dv-a1"), path).data)["branches"]}
    mine_before, mine_after = before["Chi bộ Hoa Sen"], after["Chi bộ Hoa Sen"]
    assert mine_after["participants"] == mine_before["participants"] + 1
    changed = {key for key in mine_after if mine_after[key] != mine_before[key]}
    assert changed <= {"participants", "rate_percent", "P", "rank", "tied"}, changed
    frozen_clock.set(world["r2"].closes_at)
    closed = json.loads(_get(browser(), path).data)
    assert next(b for b in closed["branches"] if b["unit"] == "Chi bộ Hoa Sen")["average"] == 4.0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_standings_files_hide_scores_from_a_secretary(world, browser, fmt):
    response = _get(browser("bt-a"), f"/standings/round/{world['r1'].id}?format={fmt}")
    if fmt == "csv":
        table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
        table = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)][1:]
    headers, body = table[0], table[1:]
    assert len(body) == 2
    for row in body:
        assert row[headers.index("Số tham gia")] in ("2", "1")
        for name in SCORE_HEADERS:
            assert row[headers.index(name)] == "", (name, row)


# ---------------------------------------------------------------- branch page and report

def test_branch_page_hides_individual_scores_from_the_secretary(world, browser):
    a, _b = world["units"]
    secretary = browser("bt-a")
    page = html.unescape(_get(secretary, f"/branch/{a.id}").get_data(as_text=True))
    roster = page[page.index('id="roster"'):]
    assert "5/5" not in roster and "3/5" not in roster
    assert roster.count("đã nộp") + roster.count("submitted") >= 2   # who took part stays
    trend = page[page.index("<thead><tr><th>"):page.index('id="roster"')]
    assert "4,00" not in trend and "4.00" not in trend
    assert "<svg" not in _branch_mastery(page)
    _publish(world)
    page = html.unescape(_get(secretary, f"/branch/{a.id}").get_data(as_text=True))
    assert "5/5" in page and "3/5" in page and "4,00" in page and "<svg" in _branch_mastery(page)


def test_branch_report_hides_individual_scores_from_the_secretary(world, browser):
    a, _b = world["units"]
    response = _get(browser("bt-a"), f"/branch/{a.id}/report.xlsx?contest={world['contest'].id}")
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    members = {row[0]: row for row in book.worksheets[0].iter_rows(values_only=True)}
    assert members["Nguyễn Văn An"][4] == members["Trần Thị Bình"][4] == "đã nộp bài"
    assert members["Phạm Văn Cường"][4] == "chưa tham gia"
    trend = list(book.worksheets[1].iter_rows(values_only=True))
    assert trend[1][0] == "Vòng 1" and trend[1][2] == 2      # participation stays
    assert trend[1][5] in (None, "") and trend[1][6] in (None, "")


# ---------------------------------------------------------------- member home, CLI

def test_member_home_shows_neither_his_hidden_score_nor_his_branch_average(world, browser):
    """A guard rather than a leak found: the home page already showed participation only."""
    page = html.unescape(_get(browser("dv-a1"), "/home").get_data(as_text=True))
    assert "5/5" not in page and "4.00" not in page and "4,00" not in page


def test_report_cli_writes_what_members_may_see_unless_asked(world, runner, tmp_path):
    output = tmp_path / "vong-1.json"
    result = runner.invoke(args=["report", "branches", str(world["r1"].id), "--format", "json",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    _scores_hidden_in_json(json.loads(output.read_text(encoding="utf-8")))
    result = runner.invoke(args=["report", "branches", str(world["r1"].id), "--format", "json",
                                 "--output", str(output), "--include-hidden"])
    assert result.exit_code == 0, result.output
    _scores_shown_in_json(json.loads(output.read_text(encoding="utf-8")))


# ---------------------------------------------------------------- a visible round after a hidden one

def test_a_visible_round_does_not_give_away_the_hidden_one_through_improvement(world, browser,
                                                                            frozen_clock):
    """Round 2 closes (visible) while round 1 is still unpublished: round 2's own average
    shows, but G (and the index holding it) would tell round 1's S, so they wait."""
    _take(world["a3"], world["r2"], frozen_clock, 4)
    frozen_clock.set(world["r2"].closes_at)
    data = json.loads(_get(browser(), f"/standings/round/{world['r2'].id}?format=json").data)
    mine = next(b for b in data["branches"] if b["unit"] == "Chi bộ Hoa Sen")
    assert mine["average"] == 4.0 and mine["S"] == 80.0
    assert mine["G"] is None and mine["index"] is None
    _publish(world)
    data = json.loads(_get(browser(), f"/standings/round/{world['r2'].id}?format=json").data)
    assert next(b for b in data["branches"] if b["unit"] == "Chi bộ Hoa Sen")["G"] is not None
