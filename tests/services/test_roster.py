"""Branch rosters through the services: adding members, resetting passwords, and the
.xlsx import (template, preview with row-numbered errors, all-or-nothing commit)."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import AuditLog, Unit, User
from quizapp.services.branches import roster
from quizapp.services.people import users
from quizapp.services.errors import DomainError, NotFound
from quizapp.services.branches.roster import IMPORT_HEADERS


@pytest.fixture
def organizer(make_user):
    return make_user(role="organizer", username="btc", full_name="Ban Tổ Chức", password=None)


@pytest.fixture
def branches(make_unit):
    return (make_unit("cb-01", name="Chi bộ Khu dân cư số 1"),
            make_unit("cb-02", name="Chi bộ Khu dân cư số 2"))


def _roster(unit) -> int:
    db.session.expire_all()
    return db.session.get(Unit, unit.id).active_roster


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def workbook(rows, headers=IMPORT_HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    if headers is not None:
        sheet.append(headers)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def errors_by_row(preview) -> dict[int, str]:
    """Excel row number → its message (every message starts with the row number)."""
    out = {}
    for message in preview.errors:
        match = re.match(r"\D*(\d+)", message)
        assert match, message
        assert int(match.group(1)) not in out, f"row listed twice: {message}"
        out[int(match.group(1))] = message
    return out


# ---------------------------------------------------------------- members

def test_add_member_generates_a_username_and_grows_the_roster(organizer, branches):
    unit, _other = branches
    assert _roster(unit) == 0
    first = roster.add_member(organizer, unit, "  Nguyễn   Văn  An ", phone="0912 345 678", birth_year=1980)
    second = roster.add_member(organizer, unit, "Nguyễn Văn An")
    third = roster.add_member(organizer, unit, "Đặng Thị Ánh")
    db.session.commit()
    assert first.full_name == "Nguyễn Văn An"
    assert first.username == "annv" and second.username == "annv2"   # given name + initials
    assert third.username == "anhdt"
    assert (first.phone, first.birth_year, first.role, first.unit_id) == (
        "0912345678", 1980, "member", unit.id)
    assert first.password_hash is None   # a first password comes from "reset password"
    assert _roster(unit) == 3
    assert [m.full_name for m in roster.roster(unit)] == ["Nguyễn Văn An", "Nguyễn Văn An",
                                                            "Đặng Thị Ánh"]
    logged = db.session.execute(select(AuditLog.action).where(AuditLog.action == "roster.add")).all()
    assert len(logged) == 3


@pytest.mark.parametrize("name, phone, year", [
    ("   ", None, None),                      # no name
    ("Lê Văn Bảy", None, 1850),               # birth year too early
    ("Lê Văn Bảy", None, 2020),               # younger than 16 (the clock says 2026)
    ("Lê Văn Bảy", "12345", None),            # not a phone number
    ("Lê Văn Bảy", "0912345678", None),       # the phone of another account
])
def test_add_member_refuses_bad_input(organizer, branches, make_user, frozen_clock, name, phone, year):
    unit, _other = branches
    make_user(unit=unit, username="da-co", phone="0912345678", password=None)
    before = _users()
    with pytest.raises(DomainError):
        roster.add_member(organizer, unit, name, phone=phone, birth_year=year)
    db.session.rollback()
    assert _users() == before and _roster(unit) == 1


def test_reset_password_gives_a_working_password_and_ends_old_sessions(organizer, branches, make_user):
    unit, _other = branches
    member = make_user(unit=unit, username="dv-an", full_name="Nguyễn Văn An")  # has a password
    old_version = member.session_version
    old_cookie_id = member.get_id()
    password = roster.reset_password(organizer, member)
    db.session.commit()
    assert re.fullmatch(r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}", password)
    assert users.authenticate("dv-an", password).id == member.id
    assert users.authenticate("dv-an", "correct-horse-1") is None   # the old one is gone
    assert member.session_version == old_version + 1
    from quizapp.auth.session import load_user
    assert load_user(old_cookie_id) is None          # a cookie from before no longer loads
    assert load_user(member.get_id()).id == member.id
    assert roster.reset_password(organizer, member) != password
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "roster.reset_password")
                               ).scalars().first()
    assert password not in entry.detail and password not in entry.reason


def test_a_deactivated_member_cannot_log_in(organizer, branches, make_user):
    unit, _other = branches
    member = make_user(unit=unit, username="dv-an")
    roster.set_active(organizer, member, False)
    db.session.commit()
    assert users.authenticate("dv-an", "correct-horse-1") is None
    roster.set_active(organizer, member, True)
    db.session.commit()
    assert users.authenticate("dv-an", "correct-horse-1").id == member.id


def test_scope_of_a_secretary(make_unit, make_user, branches):
    mine, theirs = branches
    sub = make_unit("cb-01-to-1", parent=mine, name="Tổ 1")
    secretary = make_user(role="secretary", unit=mine, username="bt-01", password=None)
    own_member = make_user(unit=sub, username="dv-sub", password=None)
    stranger = make_user(unit=theirs, username="dv-other", password=None)
    organizer = make_user(role="organizer", unit=mine, username="btc-2", password=None)
    assert roster.get_unit_in_scope(secretary, mine.id).id == mine.id
    assert roster.get_unit_in_scope(secretary, sub.id).id == sub.id
    assert roster.get_member_in_scope(secretary, own_member.id).id == own_member.id
    for call, ident in ((roster.get_unit_in_scope, theirs.id), (roster.get_unit_in_scope, 10_000),
                        (roster.get_member_in_scope, stranger.id),
                        (roster.get_member_in_scope, 10_000),
                        (roster.get_member_in_scope, organizer.id)):  # staff are not roster members
        with pytest.raises(NotFound):
            call(secretary, ident)
    member = make_user(unit=mine, username="dv-plain", password=None)
    with pytest.raises(NotFound):
        roster.get_unit_in_scope(member, mine.id)


# ---------------------------------------------------------------- import: template

def test_import_template_reads_back_with_the_headers(app, branches):
    book = load_workbook(io.BytesIO(roster.import_template()), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == ["Họ và tên", "Số điện thoại", "Chi bộ", "Năm sinh"] == IMPORT_HEADERS
    assert len(rows) == 2 and rows[1][2] == "cb-01"
    # The example row is itself a valid row (unit cb-01 exists here).
    preview = roster.parse_import(roster.import_template())
    assert preview.ok and [r.full_name for r in preview.rows] == ["Nguyễn Văn An"]


# ---------------------------------------------------------------- import: errors

@pytest.mark.parametrize("headers", [
    ["Tên", "Điện thoại", "Chi bộ", "Năm sinh"],
    ["Số điện thoại", "Họ và tên", "Chi bộ", "Năm sinh"],
    ["Họ và tên", "Số điện thoại", "Chi bộ"],
    None,
])
def test_wrong_headers_are_refused_and_nothing_is_imported(organizer, branches, headers):
    content = workbook([["Nguyễn Văn An", "0912345678", "cb-01", 1980]], headers=headers)
    preview = roster.parse_import(content)
    assert not preview.ok and preview.rows == []
    assert list(errors_by_row(preview)) == [1]
    for column in IMPORT_HEADERS:
        assert column in preview.errors[0]
    before = _users()
    with pytest.raises(DomainError):
        roster.commit_import(organizer, preview)
    db.session.rollback()
    assert _users() == before


def test_not_a_workbook_is_refused(app):
    preview = roster.parse_import(b"PK\x03\x04 this is not really a workbook")
    assert not preview.ok and len(preview.errors) == 1 and preview.rows == []
    assert not roster.parse_import(b"").ok


def test_every_bad_row_is_listed_with_its_excel_row_and_nothing_is_imported(
        organizer, branches, make_user, frozen_clock):
    unit, other = branches
    make_user(unit=unit, username="da-co", phone="0987654321", password=None)
    rows = [
        ["Nguyễn Văn An", "0912345678", "cb-01", 1980],               # 2 ok
        ["Trần Thị Bình", "0912 345 678", "cb-02", 1975],             # 3 phone repeats row 2
        ["Lê Văn Cường", "+84987654321", "cb-01", 1990],              # 4 phone of an account
        ["Phạm Thị Dung", "0911111111", "cb-99", 1960],               # 5 unknown branch
        ["Hoàng Văn Em", "0922222222", "cb-01", 1850],                # 6 birth year too early
        ["Vũ Thị Giang", "0933333333", "cb-02", "năm 1970"],          # 7 birth year not a number
        [None, "0944444444", "cb-01", 1970],                          # 8 empty name
        [None, None, None, None],                                     # 9 blank: skipped
        ["Đỗ Văn Hùng", "0955555555", "Chi bộ Khu dân cư số 2", 2011],  # 10 too young (2026)
        ["Bùi Thị Lan", "123", "cb-02", 1970],                        # 11 not a phone number
        ["   ", "0912345678", "", "x"],                               # 12 everything wrong
        ["Ngô Văn Minh", None, "chi bộ khu dân cư số 1", None],       # 13 ok (name, no phone)
    ]
    preview = roster.parse_import(workbook(rows))
    errors = errors_by_row(preview)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 10, 11, 12]
    assert "0912345678" in errors[3] and re.search(r"\b2\b", errors[3].split(":", 1)[1])
    assert "0987654321" in errors[4]
    assert "cb-99" in errors[5]
    assert "1850" in errors[6] and "năm 1970" in errors[7] and "2011" in errors[10]
    assert "123" in errors[11]
    assert errors[12].count(";") >= 3   # name, phone, branch and year, all on row 12
    assert [r.row for r in preview.rows] == [2, 13]
    assert not preview.ok
    before = _users()
    with pytest.raises(DomainError):
        roster.commit_import(organizer, preview)
    db.session.rollback()
    assert _users() == before
    assert _roster(unit) == 1 and _roster(other) == 0


def test_rows_outside_the_importers_units_are_refused(organizer, branches):
    unit, other = branches
    preview = roster.parse_import(workbook([["Nguyễn Văn An", None, "cb-02", 1980]]), scope=unit)
    assert list(errors_by_row(preview)) == [2] and "cb-02" in preview.errors[0]


def test_a_file_without_member_rows_is_refused(organizer, branches):
    preview = roster.parse_import(workbook([[None, None, None, None]]))
    assert not preview.ok and len(preview.errors) == 1


# ---------------------------------------------------------------- import: commit

def test_a_good_file_imports_every_row(organizer, branches, frozen_clock):
    unit, other = branches
    rows = [["Nguyễn Văn An", "0912345678", "cb-01", 1980],
            ["Trần Thị Bình", "+84 912 000 111", "cb-02", "1975"],
            ["Lê Văn Cường", None, "Chi bộ Khu dân cư số 1", None],
            ["Nguyễn Văn An", "0912000222", "cb-02", 1990]]
    preview = roster.parse_import(workbook(rows))
    assert preview.ok and preview.errors == []
    assert [(r.row, r.phone, r.unit.code, r.birth_year) for r in preview.rows] == [
        (2, "0912345678", "cb-01", 1980), (3, "0912000111", "cb-02", 1975),
        (4, None, "cb-01", None), (5, "0912000222", "cb-02", 1990)]
    assert roster.commit_import(organizer, preview) == 4
    db.session.commit()
    imported = {u.full_name + "|" + (u.phone or ""): u for u in
                db.session.execute(select(User).where(User.role == "member")).scalars()}
    assert len(imported) == 4
    assert imported["Trần Thị Bình|0912000111"].unit_id == other.id
    assert imported["Trần Thị Bình|0912000111"].birth_year == 1975
    assert {u.username for u in imported.values()} == {"annv", "binhtt", "cuonglv", "annv2"}
    assert all(u.password_hash is None and u.active and not u.exempt for u in imported.values())
    assert _roster(unit) == 2 and _roster(other) == 2
    # Importing the same file again: every phone is taken now, so nothing at all.
    again = roster.parse_import(workbook(rows))
    assert sorted(errors_by_row(again)) == [2, 3, 5]
    assert [r.row for r in again.rows] == [4]


def test_commit_is_all_or_nothing_when_a_row_fails_at_commit_time(organizer, branches, make_user):
    """A phone taken between the preview and the commit fails the whole import; the
    caller's rollback (the view's, the CLI's) leaves no member of the file behind."""
    unit, _other = branches
    rows = [["Nguyễn Văn An", "0912345678", "cb-01", 1980],
            ["Trần Thị Bình", "0912000111", "cb-01", 1975]]
    preview = roster.parse_import(workbook(rows))
    assert preview.ok
    make_user(unit=unit, username="nhanh-tay", phone="0912000111", password=None)
    before = _users()
    with pytest.raises(DomainError):
        roster.commit_import(organizer, preview)
    db.session.rollback()
    assert _users() == before
    assert not db.session.execute(select(User).where(User.full_name == "Nguyễn Văn An")).first()
    assert _roster(unit) == 1


# ---------------------------------------------------------------- concurrent roster changes

def _wait_for_lock_wait(timeout: float = 10.0) -> bool:
    """True once some other connection waits on a row lock taken by an UPDATE of units."""
    import time
    from sqlalchemy import text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = db.session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE units%'")).scalar()
        db.session.rollback()
        if waiting:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.postgres_only
@pytest.mark.parametrize("second", ["add", "exempt", "deactivate"])
def test_concurrent_roster_changes_keep_the_denominator_right(app, organizer, branches, make_user,
                                                              second):
    """Two secretaries change one branch's roster at the same moment (two workers)."""
    import threading
    from quizapp.services.branches import counters
    unit, _other = branches
    existing = make_user(unit=unit, username="dv-co-san", password=None)
    ids = {"unit": unit.id, "actor": organizer.id, "existing": existing.id}
    first_flushed, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def worker(body):
        def run():
            with app.app_context():
                try:
                    body()
                    db.session.commit()
                except BaseException as exc:  # noqa: BLE001 - reported to the test
                    db.session.rollback()
                    errors.append(exc)
                    first_flushed.set()
                finally:
                    db.session.remove()
        return threading.Thread(target=run)

    def add_first():
        actor, target = db.session.get(User, ids["actor"]), db.session.get(Unit, ids["unit"])
        roster.add_member(actor, target, "Nguyễn Văn Một")
        first_flushed.set()      # its UPDATE of the unit row holds the row lock …
        release.wait(10)         # … until the second transaction waits on it

    def change_second():
        actor, target = db.session.get(User, ids["actor"]), db.session.get(Unit, ids["unit"])
        if second == "add":
            roster.add_member(actor, target, "Trần Thị Hai")
        elif second == "exempt":
            roster.set_exempt(actor, db.session.get(User, ids["existing"]), True)
        else:
            roster.set_active(actor, db.session.get(User, ids["existing"]), False)

    one, two = worker(add_first), worker(change_second)
    one.start()
    assert first_flushed.wait(10)
    two.start()
    _wait_for_lock_wait()
    release.set()
    one.join(20)
    two.join(20)
    assert not errors, errors
    db.session.expire_all()
    expected = 3 if second == "add" else 1
    assert db.session.execute(select(func.count()).select_from(User).where(
        User.unit_id == unit.id, User.role == "member", User.active.is_(True),
        User.exempt.is_(False))).scalar() == expected
    assert counters.recompute(check=True) == []
    assert db.session.get(Unit, unit.id).active_roster == expected
