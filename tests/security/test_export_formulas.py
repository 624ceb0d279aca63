"""Formulas in exports (issue 10, case 6).

A member's name, a branch's name or a round's title such as =HYPERLINK("http://x","y")
must reach no .csv or .xlsx the app writes as something a spreadsheet runs: in .csv it
is behind an apostrophe, in .xlsx it is a text cell marked "quote prefix" (and the text
itself is kept exactly). One test per export; numbers stay numbers.
"""
from __future__ import annotations

import csv
import io
import json
import random
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook

from quizapp.extensions import db
from quizapp.services import attempts
from quizapp.services import contests
from quizapp.services.bank import ChoiceData, QuestionData
from quizapp.services.contests import RoundSettings
from quizapp.services.bank.formats import xlsx as xlsx_format
from quizapp.services.spreadsheet_safety import (append_xlsx_row, csv_bytes, csv_cell,
                                                  is_formula_like, set_xlsx_cell)
from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")

RUNS = ("=", "+", "-", "@", "\t", "\r")
NAMES = ['=HYPERLINK("http://x","y")', "+1+1 Trần Thị Bình", "@SUM(1+1) Đỗ Văn Em",
         "-2+3 Phạm Văn Cường"]
UNITS = ["\t=1+2 Chi bộ Hoa Sen", "\r=cmd|' /C calc'!A0 Chi bộ Phú Mỹ"]
ROUND_TITLE = "=1+1 Vòng 1"


# ---------------------------------------------------------------- what a safe file is

def _xlsx_cells(content: bytes) -> list:
    book = load_workbook(io.BytesIO(content))   # not read-only: cell types and styles
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_xlsx_safe(content: bytes, expected: list[str]) -> list:
    """No formula anywhere; every text that would run is quote-prefixed text; the
    dangerous texts themselves are there, unchanged (else the test proves nothing)."""
    cells = _xlsx_cells(content)
    for cell in cells:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str) and cell.value.startswith(RUNS):
            assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    for text in expected:
        assert any(text in t for t in texts), text
    return cells


def assert_csv_safe(content: bytes, expected: list[str]) -> list[list[str]]:
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    for row in table:
        for value in row:
            assert not (value.startswith(RUNS) and len(value) > 1), value
    values = [v for row in table for v in row]
    for text in expected:
        assert any(v.startswith("'") and text in v for v in values), text
    return table


# ---------------------------------------------------------------- a round with such names

def _take(user, round_, clock, right: int):
    attempt = contests.start_round_attempt(user, round_, rng=random.Random(user.id))
    clock.advance(seconds=60 + right)
    attempts.submit(attempt, {
        item.question_id: ([c.id for c in item.question.choices if c.is_correct] if i < right
                           else [c.id for c in item.question.choices if not c.is_correct][:1])
        for i, item in enumerate(attempt.items)})
    db.session.commit()


@pytest.fixture
def world(bank, make_user, make_unit, frozen_clock):
    organizer = make_user(role="organizer", username="btc")
    a, b = make_unit("cb-a", name=UNITS[0]), make_unit("cb-b", name=UNITS[1])
    members = [make_user(unit=a if i < 2 else b, username=f"dv-{i}", full_name=name, password=None)
               for i, name in enumerate(NAMES)]
    secretary = make_user(role="secretary", unit=a, username="bt-a", full_name="Lê Văn Bí")
    contest = contests.create_contest(organizer, "Thi tìm hiểu Nghị quyết", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title=ROUND_TITLE, opens_at=frozen_clock.now + timedelta(hours=1),
        closes_at=frozen_clock.now + timedelta(hours=3), time_limit_minutes=20,
        question_count=5, draw_plan="viewpoint-1: 5"))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.set(round_.opens_at)
    for member, right in zip(members, (5, 4, 3, 2)):
        _take(member, round_, frozen_clock, right)
    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    return {"round": round_, "contest": contest, "units": (a, b), "secretary": secretary}


@pytest.fixture
def browser(app):
    def open_as(username: str) -> BrowserClient:
        other = BrowserClient(app.test_client())
        other.login(username)
        return other
    return open_as


def _download(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.data


# ---------------------------------------------------------------- one test per export

def test_round_results_xlsx_holds_names_as_text(world, browser):
    content = _download(browser("btc"), f"/organize/rounds/{world['round'].id}/export.xlsx")
    cells = assert_xlsx_safe(content, NAMES + UNITS)
    # Two title lines (what the file is, the ranking rule), the headers on row 3.
    scores = [c.value for c in cells if c.column_letter == "F" and c.row > 3]   # Điểm
    assert scores and all(isinstance(v, int) for v in scores)
    # The layout a secretary opens: on both sheets the title (bold) and the rule, then
    # the bold headers frozen at the top, then the rows.
    workbook = load_workbook(io.BytesIO(content))
    assert [ws.title for ws in workbook.worksheets] == ["Xếp hạng", "Theo tên (A-Z)"]
    for ws in workbook.worksheets:
        assert ws["A1"].value.startswith("Kết quả xếp hạng cá nhân") and ws["A1"].font.b
        assert ws["A2"].value and ws["B1"].value is None and not ws["A2"].font.b
        assert [c.value for c in ws[3]][:3] == ["Hạng", "Đồng hạng", "Họ và tên"]
        assert all(c.font.b for c in ws[3]) and ws.freeze_panes == "A4"
        assert ws.max_row == 3 + len(scores) // 2  # the scores of both sheets


def test_round_results_csv_puts_names_behind_an_apostrophe(world, browser):
    content = _download(browser("btc"), f"/organize/rounds/{world['round'].id}/export.csv")
    table = assert_csv_safe(content, NAMES + UNITS)
    assert "'" + NAMES[0] in [row[2] for row in table if len(row) > 2]
    headers = table[2]  # under the two title lines
    assert [row[headers.index("Điểm")] for row in table[3:]] == ["5", "4", "3", "2"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_prize_list_files_hold_names_as_text(world, browser, fmt):
    content = _download(browser("btc"),
                        f"/organize/rounds/{world['round'].id}/export.{fmt}?what=prizes")
    check = assert_xlsx_safe if fmt == "xlsx" else assert_csv_safe
    check(content, [NAMES[0], UNITS[0]])


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_collective_prize_files_hold_branch_names_as_text(world, browser, fmt):
    content = _download(browser("btc"),
                        f"/organize/rounds/{world['round'].id}/export.{fmt}?what=collective")
    check = assert_xlsx_safe if fmt == "xlsx" else assert_csv_safe
    check(content, [UNITS[0]])


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_ward_standings_files_hold_branch_names_as_text(world, browser, fmt):
    content = _download(browser("bt-a"), f"/standings/round/{world['round'].id}?format={fmt}")
    if fmt == "xlsx":
        cells = assert_xlsx_safe(content, UNITS)
        assert any(isinstance(c.value, float) for c in cells)   # rates and indexes stay numbers
    else:
        table = assert_csv_safe(content, UNITS)
        assert float(table[1][table[0].index("Chỉ số thi đua")]) > 0


def test_branch_report_holds_member_names_and_round_titles_as_text(world, browser):
    a, _b = world["units"]
    content = _download(browser("bt-a"), f"/branch/{a.id}/report.xlsx")
    assert_xlsx_safe(content, NAMES[:2] + [ROUND_TITLE])


def test_contest_export_cli_csv_puts_names_behind_an_apostrophe(world, runner, tmp_path):
    output = tmp_path / "ket-qua.csv"
    result = runner.invoke(args=["contest", "export", str(world["round"].id), "--format", "csv",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert_csv_safe(output.read_bytes(), NAMES + UNITS)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_report_cli_files_hold_branch_names_as_text(world, runner, tmp_path, fmt):
    output = tmp_path / f"bao-cao.{fmt}"
    result = runner.invoke(args=["report", "branches", str(world["round"].id), "--format", fmt,
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    (assert_xlsx_safe if fmt == "xlsx" else assert_csv_safe)(output.read_bytes(), UNITS)


def test_report_json_keeps_names_exactly(world, runner, tmp_path):
    """JSON is not run by a spreadsheet: the names stay as typed."""
    output = tmp_path / "bao-cao.json"
    runner.invoke(args=["report", "branches", str(world["round"].id), "--format", "json",
                        "--output", str(output)])
    assert sorted(b["unit"] for b in json.loads(output.read_text("utf-8"))["branches"]) == sorted(UNITS)


def test_bank_xlsx_export_marks_formula_text_and_reads_back_unchanged(app):
    prompts = ["=1+1 bằng mấy?", "@SUM(A1) là gì?", "+84 là mã nước nào?", "-5 có phải số âm?"]
    questions = [QuestionData(key=f"q-{i}", section="viewpoint-1", kind="single", difficulty=1,
                              status="draft", prompt=prompt, explanation="=HYPERLINK(\"http://x\")",
                              choices=[ChoiceData("=A1", True), ChoiceData("-B2", False)],
                              covers=[], origin="test") for i, prompt in enumerate(prompts)]
    content = xlsx_format.dump(questions)
    assert_xlsx_safe(content, prompts + ['=HYPERLINK("http://x")', "=A1", "-B2"])
    back = xlsx_format.parse(content, "bank.xlsx")
    assert not back.errors, back.errors
    assert [q.prompt for q in back.questions] == prompts
    assert [c.text for c in back.questions[0].choices] == ["=A1", "-B2"]


# ---------------------------------------------------------------- the helper itself

def test_only_strings_are_neutralised_numbers_stay_numbers():
    assert [csv_cell(v) for v in (-3, -2.5, 0, None, "-", "=", "Nguyễn Văn An", "-3", "\t=1")] == [
        -3, -2.5, 0, None, "-", "=", "Nguyễn Văn An", "'-3", "'\t=1"]
    assert csv_bytes(["Điểm"], [[-3], ["=1+1"]]).decode("utf-8-sig").splitlines() == [
        "Điểm", "-3", "'=1+1"]
    book = Workbook()
    append_xlsx_row(book.active, [-3, "=1+1", "x"])
    negative, formula, plain = book.active[1]
    assert negative.value == -3 and negative.data_type == "n"
    assert formula.value == "=1+1" and formula.data_type == "s" and formula.quotePrefix
    assert plain.value == "x" and not plain.quotePrefix
    assert all(is_formula_like(s + "1") for s in RUNS) and not is_formula_like(-1)


def test_appending_a_row_never_scans_the_sheet(monkeypatch):
    """append_xlsx_row used to find the new row by `sheet.max_row`, which scans every
    cell: a 18,000-row results file took 258 s (quadratic), past any request timeout.
    It must append without asking, and still mark each formula-like cell as text."""
    from openpyxl.worksheet.worksheet import Worksheet
    book = Workbook()
    sheet = book.active
    monkeypatch.setattr(Worksheet, "max_row", property(
        lambda _sheet: pytest.fail("append_xlsx_row scanned the sheet (max_row)")))
    for n in range(3):
        append_xlsx_row(sheet, [n, f"=A{n}", "Nguyễn Văn An"])
    monkeypatch.undo()
    assert sheet.max_row == 3
    for n, (number, formula, name) in enumerate(sheet.iter_rows(), start=0):
        assert (number.value, formula.value, name.value) == (n, f"=A{n}", "Nguyễn Văn An")
        assert formula.data_type == "s" and formula.quotePrefix and not name.quotePrefix


@pytest.mark.parametrize("write", ["append", "set"])
def test_a_control_character_before_a_formula_never_makes_a_formula(write):
    """A member's name may hold a control character (only NUL is refused on input).
    The file strips it, so "\x01=HYPERLINK(…)" became "=HYPERLINK(…)", stored as a
    live formula: formula-likeness is judged on the text as stored."""
    book = Workbook()
    value = '\x01=HYPERLINK("http://evil.example","Nguyễn Văn An")'
    if write == "append":
        append_xlsx_row(book.active, [value])
    else:
        set_xlsx_cell(book.active["A1"], value)
    buffer = io.BytesIO()
    book.save(buffer)
    cell = load_workbook(buffer).active["A1"]
    assert cell.value == '=HYPERLINK("http://evil.example","Nguyễn Văn An")'
    assert cell.data_type == "s" and cell.quotePrefix
