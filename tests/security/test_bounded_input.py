"""Issue 10, case 9: input that costs the server more than it is worth. A JSON body nested
thousands deep or padded to hundreds of kilobytes, a roster workbook with broken sheet XML,
one that unpacks to tens of megabytes, one with 100,000 rows that are all wrong or all
blank. Each gets a clear 400 or a row/sheet error within a short time, never a 500, never
a page of megabytes, and nothing saved is lost."""
from __future__ import annotations

import html
import io
import random
import re
import time
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Attempt, User
from quizapp.services import contests, workbook_limits
from quizapp.services.branches import roster
from quizapp.services.branches.roster import IMPORT_HEADERS
from tests.conftest import BrowserClient, open_round_at_start

pytestmark = pytest.mark.usefixtures("isolated_requests")


def _login(app, username: str) -> BrowserClient:
    browser = BrowserClient(app.test_client())
    browser.login(username)
    return browser


# ---------------------------------------------------------------- JSON bodies

@pytest.fixture
def started(app, bank, frozen_clock, make_user, make_unit):
    """A member with a contest attempt in progress."""
    unit = make_unit("cb-a")
    organizer = make_user(role="organizer", username="btc")
    member = make_user(unit=unit, username="dv-a")
    round_ = open_round_at_start(organizer, frozen_clock, "Thi")
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(1))
    db.session.commit()
    return attempt


def _items(attempt_id: int) -> tuple:
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    return attempt.status, tuple((i.question_id, i.selected, i.save_seq) for i in attempt.items)


def _raw_json(browser: BrowserClient, path: str, body: str):
    token = browser.csrf_token("/home")
    return browser.post(path, data=body, content_type="application/json", headers={"X-CSRFToken": token})


@pytest.mark.parametrize("body", [
    "[" * 5000 + "]" * 5000,
    '{"question_id": 1, "choice_ids": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"a":' * 3000 + "1" + "}" * 3000,
], ids=["list", "in-choice-ids", "objects"])
def test_deeply_nested_json_is_a_400_with_a_message_and_changes_nothing(app, started, body):
    member = _login(app, "dv-a")
    before = _items(started.id)
    for path in (f"/api/attempts/{started.id}/answers", f"/api/attempts/{started.id}/check",
                 f"/api/attempts/{started.id}/prediction"):
        response = _raw_json(member, path, body)
        assert response.status_code == 400, path
        assert response.is_json and response.get_json()["message"], path
    assert _items(started.id) == before


def test_an_oversized_json_body_is_a_400_with_a_message_and_changes_nothing(app, started):
    member = _login(app, "dv-a")
    item = started.items[0]
    before = _items(started.id)
    # Well under the 2 MB upload limit, far over what any page of the app sends.
    body = '{"question_id": %d, "choice_ids": [], "padding": "%s"}' % (item.question_id, "x" * 300_000)
    response = _raw_json(member, f"/api/attempts/{started.id}/answers", body)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["message"]
    assert _items(started.id) == before


# ---------------------------------------------------------------- roster workbooks

@pytest.fixture
def organizer(app, make_user, make_unit, tmp_path):
    app.instance_path = str(tmp_path / "instance")   # the test's uploads stay out of instance/
    make_unit("cb-01", name="Chi bộ 1")
    make_user(role="organizer", username="btc")
    return _login(app, "btc")


def _workbook(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(IMPORT_HEADERS)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _replace_sheet(content: bytes, sheet_xml: bytes) -> bytes:
    """The same workbook with xl/worksheets/sheet1.xml replaced."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            data = sheet_xml if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            target.writestr(info.filename, data)
    return out.getvalue()


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _sheet(rows_xml: str, padding: str = "", last_row: int = 2) -> bytes:
    """Sheet XML as Excel writes it: the <dimension> first (so a reader need not scan the
    sheet to size it), the header row, then `rows_xml`."""
    header = "".join(_inline(f"{col}1", name) for col, name in zip("ABCD", IMPORT_HEADERS))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="A1:D{last_row}"/>'
            f'<sheetData><row r="1">{header}</row>{rows_xml}{padding}</sheetData></worksheet>').encode()


def _upload(browser: BrowserClient, content: bytes):
    started = time.perf_counter()
    response = browser.form_post("/organize/roster/import", {"file": (io.BytesIO(content), "danh-sach.xlsx")},
                                 token_from="/home", content_type="multipart/form-data")
    return response, time.perf_counter() - started


def _listed_errors(page: str) -> list[str]:
    block = re.findall(r'<ul class="errors">(.*?)</ul>', page, re.S)
    return [html.unescape(m).strip() for m in re.findall(r"<li>(.*?)</li>", block[0], re.S)] if block else []


def _members() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.role == "member"))


def test_a_roster_with_malformed_sheet_xml_is_a_sheet_error_not_a_500(organizer):
    good = _workbook([("Nguyễn Văn An", "0912345678", "cb-01", 1980)])
    # Good rows first (as in a file damaged part-way), then the damage.
    rows = "".join(f'<row r="{n}">{_inline(f"A{n}", "Nguyễn Văn An")}{_inline(f"C{n}", "cb-01")}</row>'
                   for n in range(2, 1500))
    for broken in (b'<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>H',
                   _sheet(rows + '<row r="1500"><c r="A1500" t="inlineStr"><is><t>An</t></is></c></row><row><c>',
                          last_row=1501),
                   _sheet(rows + '<row r="1500">&undefined;</row>', last_row=1500),
                   _sheet(rows + '<row r="1500"><c r="A1500" t="n"><v>not a number</v></c></row>', last_row=1500)):
        response, seconds = _upload(organizer, _replace_sheet(good, broken))
        assert response.status_code == 200 and seconds < 2
        page = response.get_data(as_text=True)
        errors = _listed_errors(page)
        # Rows read before the damage keep their messages; the damage is the last one.
        assert errors and "/organize/roster/import/" not in page
    assert _members() == 0


def test_the_issues_small_upload_of_100000_invalid_rows_is_refused_at_once(organizer):
    # Rows without numbers (allowed), all alike: 100,000 of them zip to a few kilobytes.
    rows = '<row><c t="inlineStr"><is><t>x</t></is></c></row>'   # a name, no branch
    content = _replace_sheet(_workbook([]), _sheet(rows * 100_000, last_row=100_001))
    assert len(content) < 70_000   # the issue's file was 67 KB
    response, seconds = _upload(organizer, content)
    page = response.get_data(as_text=True)
    print(f"\n[100,000 invalid rows] {len(content)} bytes uploaded, {seconds:.2f} s, page {len(page)} bytes")
    assert response.status_code == 200
    assert seconds < 2 and len(page) < 50_000
    errors = _listed_errors(page)
    assert len(errors) == 1 and "5000" in errors[0].replace(".", "").replace(",", "")
    assert "/organize/roster/import/" not in page and _members() == 0


def test_a_roster_of_5000_invalid_rows_lists_the_first_100_errors_and_counts_the_rest(organizer):
    rows = "".join(f'<row r="{n}">{_inline(f"A{n}", "x")}{_inline(f"B{n}", "12")}</row>'
                   for n in range(2, 5002))
    content = _replace_sheet(_workbook([]), _sheet(rows, last_row=5001))
    response, seconds = _upload(organizer, content)
    page = response.get_data(as_text=True)
    print(f"\n[5,000 invalid rows] {len(content)} bytes uploaded, {seconds:.2f} s, page {len(page)} bytes")
    assert response.status_code == 200
    assert seconds < 2 and len(page) < 50_000
    listed = _listed_errors(page)
    assert len(listed) == 100 and listed[0].startswith(("Dòng 2:", "Row 2:"))
    assert re.search(r"\b4900\b", html.unescape(page).split("</ul>", 1)[1])   # "… and 4900 more"
    assert roster.parse_import(content).error_count == 5000
    assert "/organize/roster/import/" not in page and _members() == 0


def test_a_roster_stops_at_5000_rows_of_any_kind(organizer):
    # One good member, then 100,000 empty rows (no cells at all): still too many rows.
    first = f'<row r="2">{_inline("A2", "Nguyễn Văn An")}{_inline("C2", "cb-01")}</row>'
    content = _replace_sheet(_workbook([]), _sheet(first + "<row/>" * 100_000, last_row=100_002))
    response, seconds = _upload(organizer, content)
    assert response.status_code == 200 and seconds < 2
    page = response.get_data(as_text=True)
    errors = _listed_errors(page)
    assert len(errors) == 1 and "5000" in errors[0].replace(".", "").replace(",", "")
    assert "/organize/roster/import/" not in page
    assert _members() == 0
    # The same limit holds while reading, for rows the quick count cannot see.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(workbook_limits, "_ROW_TAG", re.compile(rb"(?!)"))
        assert roster.parse_import(content).errors == errors


def test_a_roster_that_unpacks_to_tens_of_megabytes_is_refused_before_parsing(organizer):
    first = f'<row r="2">{_inline("A2", "Nguyễn Văn An")}{_inline("C2", "cb-01")}</row>'
    content = _replace_sheet(_workbook([]), _sheet(first, padding=" " * 60_000_000))
    assert len(content) < 1_000_000
    response, seconds = _upload(organizer, content)
    assert response.status_code == 200 and seconds < 2
    page = response.get_data(as_text=True)
    assert len(_listed_errors(page)) == 1 and "/organize/roster/import/" not in page
    assert _members() == 0
