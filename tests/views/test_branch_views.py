"""Branch pages, rosters and the branch standings through the browser: scope (a secretary
of one branch tries every URL of another), roles, the secretary's roster actions, the
organizer's roster import, who may see the standings, the downloads read back, the
weights form and the member's own branch on the home page."""
from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import AuditLog, Contest, Unit, User
from quizapp.services.branches import roster, standings
from quizapp.services import contests
from quizapp.services.contests import RoundSettings
from quizapp.services.branches.roster import IMPORT_HEADERS
from quizapp.services.branches.standings import Weights
from tests.conftest import BrowserClient, take_round

pytestmark = pytest.mark.usefixtures("isolated_requests")

ACTIONS = ("deactivate", "activate", "exempt", "unexempt", "reset_password")


# ---------------------------------------------------------------- helpers

def _flashes(response, category: str | None = None) -> list[str]:
    page = response.get_data(as_text=True)
    pattern = r'<p class="flash flash-%s"[^>]*>(.*?)</p>' % (re.escape(category) if category else "[^\"]*")
    return [html.unescape(m) for m in re.findall(pattern, page, re.S)]


def _post(client, path, data=None, back=None, **kw):
    """A form post by a logged-in browser, its CSRF token taken from /home, sent from the
    page `back` (the Referer, where a refused post returns with its message)."""
    if back:
        kw.setdefault("headers", {})["Referer"] = f"http://localhost{back}"
    return client.form_post(path, data or {}, token_from="/home", **kw)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def _roster(unit) -> int:
    db.session.expire_all()
    return db.session.get(Unit, unit.id).active_roster


def _snapshot():
    """Everything a roster action could change."""
    db.session.expire_all()
    people = tuple(db.session.execute(select(
        User.id, User.username, User.full_name, User.unit_id, User.active, User.exempt,
        User.session_version, User.password_hash, User.phone).order_by(User.id)).all())
    rosters = tuple(db.session.execute(select(Unit.id, Unit.active_roster).order_by(Unit.id)).all())
    return people, rosters, _count(AuditLog)


def _workbook(rows, headers=IMPORT_HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def units(make_unit):
    a = make_unit("cb-a", name="Chi bộ Hoa Sen")
    b = make_unit("cb-b", name="Chi bộ Phú Mỹ")
    return a, b


@pytest.fixture
def people(make_user, units):
    """Secretary and three members in A; secretary and two members in B. Only those who
    log in get a password (hashing is slow)."""
    a, b = units
    out = {
        "bt-a": make_user(role="secretary", unit=a, username="bt-a", full_name="Lê Văn Bí"),
        "a1": make_user(unit=a, username="dv-a1", full_name="Nguyễn Văn An"),
        "a2": make_user(unit=a, username="dv-a2", full_name="Trần Thị Bình", password=None),
        "a3": make_user(unit=a, username="dv-a3", full_name="Phạm Văn Cường", password=None),
        "bt-b": make_user(role="secretary", unit=b, username="bt-b", full_name="Hồ Thị Duyên",
                          password=None),
        "b1": make_user(unit=b, username="dv-b1", full_name="Đỗ Văn Em", password=None,
                        phone="0912000111"),
        "b2": make_user(unit=b, username="dv-b2", full_name="Vũ Thị Giang", password=None),
    }
    return out


@pytest.fixture
def contest_round(bank, organizer, people, frozen_clock):
    """One open round (closes 12:00 Hà Nội): in A, An 5/5 and Bình 3/5 (2 of 4); in B,
    Em 2/5 (1 of 3)."""
    contest = contests.create_contest(organizer, "Thi tìm hiểu Nghị quyết", "", [])
    now = frozen_clock.now
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=now + timedelta(hours=1), closes_at=now + timedelta(hours=3),
        time_limit_minutes=20, question_count=5, draw_plan="viewpoint-1: 5"))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.set(round_.opens_at)
    take_round(people["a1"], round_, frozen_clock, 5)
    take_round(people["a2"], round_, frozen_clock, 3)
    take_round(people["b1"], round_, frozen_clock, 2)
    return contest, round_


# ---------------------------------------------------------------- scope and roles

def test_secretary_of_one_branch_gets_404_on_every_url_of_another(client, people, units,
                                                                  contest_round):
    a, b = units
    contest, _round = contest_round
    client.login("bt-a")
    assert client.get(f"/branch/{a.id}").status_code == 200
    before = _snapshot()
    for path in (f"/branch/{b.id}", f"/branch/{b.id}?contest={contest.id}",
                 f"/branch/{b.id}/report.xlsx", f"/branch/{b.id}/report.xlsx?contest={contest.id}",
                 "/branch/99999", "/branch/99999/report.xlsx"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Phú Mỹ" not in response.get_data(as_text=True), path
    posts = [(f"/branch/{b.id}/members", {"full_name": "Người Lạ", "phone": "0999000111"})]
    for member in ("bt-b", "b1", "b2"):
        for action in ACTIONS:
            posts.append((f"/members/{people[member].id}/{action}", {"reason": "thử"}))
    for path, data in posts:
        # Sent from the secretary's own page (with a Referer, as a tampered form would be)
        # and without one.
        response = _post(client, path, data, back=f"/branch/{a.id}")
        assert response.status_code == 404, path
        assert "Phú Mỹ" not in response.get_data(as_text=True), path
        assert _post(client, path, data).status_code == 404, path
    assert _snapshot() == before
    assert not db.session.execute(select(User).where(User.full_name == "Người Lạ")).first()


def test_secretary_sees_a_sub_branch_but_not_the_parent(client, people, units, make_unit, ward):
    a, _b = units
    sub = make_unit("cb-a-to1", parent=a, name="Tổ đảng 1")
    client.login("bt-a")
    assert client.get(f"/branch/{sub.id}").status_code == 200
    assert client.get(f"/branch/{ward.id}").status_code == 404
    assert client.get("/branch").headers["Location"].endswith(f"/branch/{a.id}")
    page = client.get("/branches").get_data(as_text=True)
    assert "Hoa Sen" in page and "Phú Mỹ" not in page


def test_an_address_typed_with_a_trailing_slash_reaches_its_page(client, people, units):
    """A secretary types "/branch/" (or a link was written so): the page he meant, not a
    404; a path that does not exist stays a 404, a POST is never redirected, and nothing
    sends him off the site."""
    a, b = units
    client.login("bt-a")
    response = client.get("/branch/")
    assert response.status_code == 308 and response.headers["Location"] == "/branch"
    response = client.get(f"/branch/{a.id}/?contest=3")
    assert response.headers["Location"] == f"/branch/{a.id}?contest=3"
    assert client.get(f"/branch/{a.id}/", follow_redirects=True).status_code == 200
    # The page it leads to keeps its own rules: another branch is still a 404.
    assert client.get(f"/branch/{b.id}/", follow_redirects=True).status_code == 404
    for path in ("/no-such-page/", "/branch/abc/", "//evil.example/", "/branch//"):
        location = client.get(path).headers.get("Location", "/")
        assert location.startswith("/") and not location.startswith("//"), path
    assert client.get("/no-such-page/").status_code == 404
    assert client.post("/branch/").status_code in (404, 405)


@pytest.mark.parametrize("path, want", [("/outline/a%3Fb/", "/outline/a%3Fb"),
                                         ("/outline/a%23b/", "/outline/a%23b"),
                                         ("/outline/a%2541/", "/outline/a%2541"),
                                         ("/outline/ph%C6%B0%E1%BB%9Dng/", "/outline/ph%C6%B0%E1%BB%9Dng")])
def test_the_trailing_slash_redirect_keeps_the_address_it_was_given(client, path, want):
    """An encoded "?", "#" or "%" in the path stays encoded (it is not a query, a
    fragment or another character), and Vietnamese letters come back as they went."""
    response = client.get(path)
    assert response.status_code == 308 and response.headers["Location"] == want


def test_the_trailing_slash_redirect_keeps_a_raw_utf8_query(client):
    response = client.get("/outline/", environ_overrides={"QUERY_STRING": "q=\xc3\xa9"})
    assert response.headers["Location"] == "/outline?q=%C3%A9"


def test_member_gets_403_on_branch_pages(client, people, units):
    a, _b = units
    client.login("dv-a1")
    for path in ("/branch", "/branches", f"/branch/{a.id}", f"/branch/{a.id}/report.xlsx",
                 "/organize/roster/import", "/organize/roster/template.xlsx"):
        assert client.get(path).status_code == 403, path
    before = _snapshot()
    assert _post(client, f"/members/{people['a2'].id}/deactivate").status_code == 403
    assert _post(client, f"/branch/{a.id}/members", {"full_name": "X Y"}).status_code == 403
    assert _snapshot() == before


def test_anonymous_is_sent_to_login(client, units):
    a, _b = units
    for path in ("/branch", "/branches", f"/branch/{a.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_secretary_cannot_import_rosters(client, people):
    client.login("bt-a")
    assert client.get("/organize/roster/import").status_code == 403
    assert client.get("/organize/roster/template.xlsx").status_code == 403


# ---------------------------------------------------------------- the secretary's roster

def test_secretary_adds_exempts_deactivates_and_resets_a_password(client, browser, people, units):
    a, _b = units
    client.login("bt-a")
    assert _roster(a) == 4

    response = _post(client, f"/branch/{a.id}/members",
                     {"full_name": "Ngô Thị Mai", "phone": "0911 222 333", "birth_year": "1985"})
    assert response.status_code == 302
    mai = _user("maint")
    assert (mai.unit_id, mai.phone, mai.birth_year, mai.role) == (a.id, "0911222333", 1985, "member")
    assert _roster(a) == 5
    page = client.get(response.headers["Location"])
    assert "maint" in "".join(_flashes(page, "success"))
    assert "Ngô Thị Mai" in page.get_data(as_text=True)

    # Bad input: a flash, nothing added.
    before = _snapshot()
    for data in ({"full_name": ""}, {"full_name": "Ngô Văn Tư", "phone": "0912000111"},
                 {"full_name": "Ngô Văn Tư", "birth_year": "2020"}):
        response = _post(client, f"/branch/{a.id}/members", data, back=f"/branch/{a.id}")
        assert response.status_code == 302
        assert _flashes(client.get(response.headers["Location"]), "error"), data
    assert _snapshot() == before

    response = _post(client, f"/members/{people['a2'].id}/exempt", {"reason": "đi công tác xa"})
    assert response.status_code == 302
    assert _user("dv-a2").exempt and _roster(a) == 4
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "roster.exempt")).scalar_one()
    assert entry.reason == "đi công tác xa"

    response = _post(client, f"/members/{people['a3'].id}/deactivate")
    assert response.status_code == 302
    assert not _user("dv-a3").active and _roster(a) == 3
    page = client.get(f"/branch/{a.id}").get_data(as_text=True)
    assert f"/members/{people['a3'].id}/activate" in page
    assert f"/members/{people['a2'].id}/unexempt" in page

    # A secretary cannot deactivate themself.
    response = _post(client, f"/members/{people['bt-a'].id}/deactivate", back=f"/branch/{a.id}")
    assert response.status_code == 302 and _user("bt-a").active
    assert _flashes(client.get(response.headers["Location"]), "error")

    # Reset: the response itself shows the new password once (not stored, not cached);
    # it works; the old one does not.
    member = browser("dv-a1")
    assert member.get("/home").status_code == 200
    response = _post(client, f"/members/{people['a1'].id}/reset_password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    shown = re.findall(r'<p class="big-code"><code>([^<]+)</code>', page)
    assert len(shown) == 1
    password = html.unescape(shown[0])
    again = client.get(f"/branch/{a.id}").get_data(as_text=True)
    assert password not in again and "big-code" not in again
    # The member's old session has ended; the new password logs in, the old one does not.
    assert member.get("/home").status_code == 302
    fresh = BrowserClient(client.application.test_client())
    assert fresh.form_post("/login", {"login": "dv-a1", "password": "correct-horse-1"}).status_code != 302
    fresh.login("dv-a1", password)
    # The given password opens only the change-password page until the member picks one.
    assert fresh.get("/home").headers["Location"].endswith("/account/password")
    assert fresh.form_post("/account/password", {"new": "mat-khau-rieng-1", "confirm": "mat-khau-rieng-1"},
                           token_from="/account/password").status_code == 302
    assert fresh.get("/home").status_code == 200
    assert password not in json.dumps([e.detail + e.reason for e in db.session.execute(
        select(AuditLog)).scalars()])


def test_branch_report_downloads_the_roster(client, people, units, contest_round, frozen_clock):
    a, _b = units
    _contest, round_ = contest_round
    client.login("bt-a")

    def report():
        response = client.get(f"/branch/{a.id}/report.xlsx")
        assert response.status_code == 200
        assert response.mimetype.endswith("spreadsheetml.sheet")
        return load_workbook(io.BytesIO(response.data), read_only=True)

    # Open round, results shown at close: who took part, not how well.
    rows = list(report().worksheets[0].iter_rows(values_only=True))
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Nguyễn Văn An"][4] == by_name["Trần Thị Bình"][4] == "đã nộp bài"
    frozen_clock.set(round_.closes_at)
    book = report()
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:4] == ("Họ và tên", "Tên đăng nhập", "Số điện thoại", "Trạng thái")
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"Lê Văn Bí", "Nguyễn Văn An", "Trần Thị Bình", "Phạm Văn Cường"}
    assert by_name["Nguyễn Văn An"][4] == "5/5" and by_name["Trần Thị Bình"][4] == "3/5"
    assert by_name["Phạm Văn Cường"][4] == "chưa tham gia"
    trend = list(book.worksheets[1].iter_rows(values_only=True))
    assert trend[1][0] == "Vòng 1" and trend[1][2:5] == (2, 4, 50.0)


def test_branch_page_shows_who_has_not_taken_part_and_a_reminder(client, people, units, contest_round):
    a, _b = units
    client.login("bt-a")
    page = html.unescape(client.get(f"/branch/{a.id}").get_data(as_text=True))
    reminder = re.search(r'<textarea id="reminder"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "Vòng 1" in reminder and "12:00" in reminder and "02/03/2026" in reminder
    assert "Lê Văn Bí" in reminder and "Phạm Văn Cường" in reminder
    assert "Nguyễn Văn An" not in reminder and "Trần Thị Bình" not in reminder
    assert "<svg" in page   # the trend and the mastery pictures


# ---------------------------------------------------------------- roster import

@pytest.fixture
def uploads(app, tmp_path):
    """Keep the test's uploads out of the real instance folder."""
    app.instance_path = str(tmp_path / "instance")
    return tmp_path / "instance" / "uploads"


def _upload(client, content: bytes, name: str = "danh-sach.xlsx"):
    return _post(client, "/organize/roster/import", {"file": (io.BytesIO(content), name)},
                 content_type="multipart/form-data")


def _listed_errors(page: str) -> list[str]:
    block = re.findall(r'<ul class="errors">(.*?)</ul>', page, re.S)
    if not block:
        return []
    return [html.unescape(m).strip() for m in re.findall(r"<li>(.*?)</li>", block[0], re.S)]


def _commit_forms(page: str) -> list[str]:
    return re.findall(r'action="(/organize/roster/import/[^"]+)"', page)


def test_organizer_imports_a_roster(client, organizer, units, uploads):
    a, b = units
    client.login("btc")

    response = client.get("/organize/roster/template.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
                .iter_rows(values_only=True))
    assert list(rows[0]) == IMPORT_HEADERS
    assert client.get("/organize/roster/import").status_code == 200

    # A bad file: every bad row listed, no button to import, nothing kept or written.
    bad = _workbook([["Nguyễn Văn An", "0912345678", "cb-a", 1980],
                     ["Trần Thị Bình", "0912345678", "cb-b", 1975],
                     ["Lê Văn Cường", "0913000000", "cb-zz", 1970],
                     ["", "0914000000", "cb-a", 1800]])
    before = _snapshot()
    response = _upload(client, bad)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    listed = _listed_errors(page)
    assert listed == roster.parse_import(bad).errors
    assert [int(re.match(r"\D*(\d+)", m).group(1)) for m in listed] == [3, 4, 5]
    assert _commit_forms(page) == []
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert _snapshot() == before

    # Wrong headers.
    wrong = _workbook([["A", "B"]], headers=["Tên", "SĐT"])
    page = _upload(client, wrong).get_data(as_text=True)
    assert _commit_forms(page) == []
    assert _listed_errors(page) == roster.parse_import(wrong).errors and len(_listed_errors(page)) == 1

    # Not an .xlsx file name: the form refuses it.
    page = _upload(client, b"name,phone\n", name="ds.csv").get_data(as_text=True)
    assert _commit_forms(page) == [] and 'class="error"' in page

    # A good file: preview, then commit.
    good = _workbook([["Nguyễn Văn An", "0912345678", "cb-a", 1980],
                      ["Trần Thị Bình", "0912345679", "Chi bộ Phú Mỹ", 1975],
                      ["Lê Văn Cường", None, "cb-b", None]])
    response = _upload(client, good)
    page = html.unescape(response.get_data(as_text=True))
    assert "Trần Thị Bình" in page and "Chi bộ Phú Mỹ" in page
    [action] = _commit_forms(page)
    token = action.rsplit("/", 1)[1]
    stored = uploads / f"roster-{token}.xlsx"
    assert stored.read_bytes() == good
    assert _count(User) == len(before[0])   # the preview imports nothing

    response = _post(client, action)
    assert response.status_code == 302 and response.headers["Location"].endswith("/branches")
    assert _flashes(client.get("/branches"), "success")
    db.session.expire_all()
    imported = db.session.execute(select(User).where(User.role == "member")).scalars().all()
    assert sorted((u.full_name, u.unit_id) for u in imported) == sorted([
        ("Nguyễn Văn An", a.id), ("Trần Thị Bình", b.id), ("Lê Văn Cường", b.id)])
    assert _roster(a) == 1 and _roster(b) == 2
    assert not stored.exists()

    # The same token again: the upload is gone, nothing more is imported.
    response = _post(client, action)
    assert response.status_code == 302
    assert _flashes(client.get(response.headers["Location"]), "error")
    assert _count(User) == len(before[0]) + 3
    # A token of the wrong shape.
    assert _post(client, "/organize/roster/import/abc").status_code == 400


# ---------------------------------------------------------------- standings

def _member_names(people) -> list[str]:
    return [p.full_name for p in people.values()] + [p.username for p in people.values()]


def test_standings_are_private_unless_published(client, browser, organizer, people, contest_round):
    contest, round_ = contest_round
    paths = (f"/standings/contest/{contest.id}", f"/standings/round/{round_.id}",
             f"/standings/contest/{contest.id}?format=json")
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    member = browser("dv-a1")
    for path in paths:
        assert member.get(path).status_code == 404, path
    secretary = browser("bt-a")
    for path in paths:
        assert secretary.get(path).status_code == 200, path

    standings.set_weights(organizer, contest, Weights.of(contest), public=True)
    db.session.commit()
    for path in paths[:2]:
        response = client.get(path)
        assert response.status_code == 200, path
        page = html.unescape(response.get_data(as_text=True))
        assert "Chi bộ Hoa Sen" in page and "Chi bộ Phú Mỹ" in page
        for name in _member_names(people) + ["Ban Tổ Chức"]:
            assert name not in page, (path, name)
        assert "/organize/contests" not in page   # no weights form for the public
    data = client.get(paths[2]).get_data(as_text=True)
    assert "Chi bộ Hoa Sen" in data
    for name in _member_names(people):
        assert name not in data
    assert member.get(paths[0]).status_code == 200


def test_standings_page_shows_the_formula_and_each_branchs_arithmetic(client, organizer, units,
                                                                      contest_round):
    a, b = units
    contest, round_ = contest_round
    client.login("btc")
    for path, rows in ((f"/standings/round/{round_.id}", standings.round_standings(round_)),
                       (f"/standings/contest/{contest.id}", standings.contest_standings(contest))):
        page = html.unescape(client.get(path).get_data(as_text=True))
        assert "(50 × P + 40 × S + 10 × G) ÷ 100" in page
        for row in rows:
            # pages print the decimal comma; the files keep the point
            assert row.arithmetic(Weights.of(contest)).replace(".", ",") in page
    # A: P = 50, S = 80 → (2500 + 3200 + 500)/100 = 62; B: P = 33.33 (1 of 3, rounded
    # once), S = 40 → (1666.5 + 1600 + 500)/100 = 37.665, as a calculator gives it.
    page = html.unescape(client.get(f"/standings/round/{round_.id}").get_data(as_text=True))
    assert "(50×50,00 + 40×80,00 + 10×50,00) ÷ 100 = 62,00" in page
    assert "(50×33,33 + 40×40,00 + 10×50,00) ÷ 100 = 37,665" in page
    # P, S and G in their columns with the comma too; no decimal point left in the table
    table = page[page.index('<table class="table standings">'):page.index("</table>")]
    assert "<td>50,00</td>" in table and "<td>80,00</td>" in table
    assert not re.search(r"\d\.\d", table), table
    assert page.index("Chi bộ Hoa Sen") < page.index("Chi bộ Phú Mỹ")
    assert page.count("<svg") >= 3


def _xlsx_rows(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows(values_only=True))


def test_standings_downloads_read_back(client, organizer, units, contest_round):
    a, b = units
    contest, round_ = contest_round
    client.login("btc")
    rows = standings.round_standings(round_)
    weights = Weights.of(contest)
    base = f"/standings/round/{round_.id}"

    response = client.get(base + "?format=xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = _xlsx_rows(response.data)
    assert "Vòng 1" in sheet[0][0]
    headers = list(sheet[1])
    for name in ("Hạng", "Chi bộ", "Chỉ số thi đua", "Cách tính", "Tỉ lệ tham gia (%)"):
        assert name in headers
    col = {name: headers.index(name) for name in headers}
    body = sheet[2:]
    assert [r[col["Chi bộ"]] for r in body] == ["Chi bộ Hoa Sen", "Chi bộ Phú Mỹ"]
    assert [r[col["Hạng"]] for r in body] == [1, 2]
    assert [r[col["Chỉ số thi đua"]] for r in body] == [pytest.approx(62.0), pytest.approx(37.665)]
    assert [r[col["Cách tính"]] for r in body] == [r.arithmetic(weights) for r in rows]
    assert [r[col["Tỉ lệ tham gia (%)"]] for r in body] == [50.0, pytest.approx(33.33)]

    response = client.get(base + "?format=csv")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0] == headers
    assert [r[headers.index("Chi bộ")] for r in table[1:]] == ["Chi bộ Hoa Sen", "Chi bộ Phú Mỹ"]
    assert float(table[1][headers.index("Chỉ số thi đua")]) == pytest.approx(62.0)

    response = client.get(base + "?format=json")
    assert response.status_code == 200
    data = json.loads(response.data)
    assert data["weights"] == {"participation": 50, "score": 40, "improvement": 10, "review": 0}
    assert [(b_["rank"], b_["unit"], b_["index"], b_["tied"]) for b_ in data["branches"]] == [
        (1, "Chi bộ Hoa Sen", 62.0, False), (2, "Chi bộ Phú Mỹ", 37.665, False)]
    assert data["branches"][0]["arithmetic"] == rows[0].arithmetic(weights)

    response = client.get(f"/standings/contest/{contest.id}?format=xlsx")
    sheet = _xlsx_rows(response.data)
    assert "cộng dồn" in sheet[0][0] and list(sheet[1]) == headers


def test_weights_form(client, browser, organizer, contest_round):
    contest, _round = contest_round
    client.login("btc")
    path = f"/organize/contests/{contest.id}/weights"
    page = client.get(f"/standings/contest/{contest.id}").get_data(as_text=True)
    assert f'action="{path}"' in page

    def saved():
        db.session.expire_all()
        c = db.session.get(Contest, contest.id)
        return c.weight_participation, c.weight_score, c.weight_improvement, c.public_standings

    for bad in ({"participation": "60", "score": "30", "improvement": "20"},
                {"participation": "50", "score": "40", "improvement": ""},
                {"participation": "120", "score": "-10", "improvement": "-10"},
                {"participation": "năm mươi", "score": "40", "improvement": "10"}):
        response = _post(client, path, {**bad, "public": "y"})
        assert response.status_code == 302
        assert _flashes(client.get(response.headers["Location"]), "error"), bad
        assert saved() == (50, 40, 10, False), bad

    response = _post(client, path, {"participation": "60", "score": "30", "improvement": "10",
                                    "public": "y"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert _flashes(page, "success")
    assert saved() == (60, 30, 10, True)
    assert "(60 × P + 30 × S + 10 × G) ÷ 100" in html.unescape(page.get_data(as_text=True))
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "contest.weights")).first()

    # The daily review weight: part of the 100; the formula, its explanation and a column.
    response = _post(client, path, {"participation": "50", "score": "30", "improvement": "10",
                                    "review": "10", "public": "y"})
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Contest, contest.id).weight_review == 10
    assert "(50 × P + 30 × S + 10 × G + 10 × R) ÷ 100" in page and "(R)</th>" in page
    response = _post(client, path, {"participation": "60", "score": "30", "improvement": "10",
                                    "review": "0", "public": "y"})
    db.session.expire_all()
    assert db.session.get(Contest, contest.id).weight_review == 0

    secretary = browser("bt-a")
    response = _post(secretary, path, {"participation": "100", "score": "0", "improvement": "0"})
    assert response.status_code == 403 and saved() == (60, 30, 10, True)


def test_member_home_shows_own_branch_rate(client, people, contest_round):
    client.login("dv-a1")
    page = html.unescape(client.get("/home?lang=en").get_data(as_text=True))
    assert "Chi bộ Hoa Sen, Vòng 1: 2 of 4 members have taken part (50%)." in page
    assert "Phú Mỹ" not in page
