"""`flask --app quizapp contest export`: a round's results and prizes as .xlsx or CSV."""
from __future__ import annotations

import csv
import random
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from quizapp.extensions import db
from quizapp.services import attempts
from quizapp.services import contest as contests
from quizapp.services.contest import RoundSettings

MEMBERS = [("Trần Thị Ân", 5), ("Nguyễn Văn An", 3), ("Đỗ Văn Đức", 1)]


@pytest.fixture
def closed_round(bank, make_user, frozen_clock):
    organizer = make_user(role="organizer", username="btc", password=None)
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    now = frozen_clock.now
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=now + timedelta(hours=1), closes_at=now + timedelta(hours=3),
        time_limit_minutes=20, question_count=5, draw_plan="viewpoint-1: 5"))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.set(round_.opens_at)
    for index, (name, right) in enumerate(MEMBERS):
        user = make_user(username=f"dv{index}", full_name=name, password=None)
        attempt = contests.start_round_attempt(user, round_, rng=random.Random(index))
        frozen_clock.advance(seconds=90)
        attempts.submit(attempt, {
            item.question_id: [c.id for c in item.question.choices if c.is_correct == (i < right)][:1]
            for i, item in enumerate(attempt.items)})
        db.session.commit()
    frozen_clock.set(round_.closes_at)
    return round_


def test_export_xlsx(runner, closed_round, tmp_path):
    output = tmp_path / "ket-qua.xlsx"
    result = runner.invoke(args=["contest", "export", str(closed_round.id), "--format", "xlsx",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert str(output) in result.output
    book = load_workbook(output, read_only=True)
    assert len(book.worksheets) == 2
    rows = list(book.worksheets[0].iter_rows(values_only=True))[2:]  # under the two title lines
    headers = list(rows[0])
    assert headers[0] == "Hạng" and "Họ và tên" in headers
    name, score = headers.index("Họ và tên"), headers.index("Điểm")
    assert [(r[0], r[name], r[score]) for r in rows[1:]] == [
        (1, "Trần Thị Ân", 5), (2, "Nguyễn Văn An", 3), (3, "Đỗ Văn Đức", 1)]
    by_name = [r[name] for r in list(book.worksheets[1].iter_rows(values_only=True))[3:]]
    assert by_name == ["Nguyễn Văn An", "Trần Thị Ân", "Đỗ Văn Đức"]


def test_export_csv(runner, closed_round, tmp_path):
    output = tmp_path / "ket-qua.csv"
    result = runner.invoke(args=["contest", "export", str(closed_round.id), "--format", "csv",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    raw = output.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Vietnamese as UTF-8
    with open(output, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[2:]
    assert rows[0][0] == "Hạng" and "Họ và tên" in rows[0]
    name = rows[0].index("Họ và tên")
    assert [(r[0], r[name]) for r in rows[1:]] == [("1", "Trần Thị Ân"), ("2", "Nguyễn Văn An"),
                                                   ("3", "Đỗ Văn Đức")]


def test_export_prizes_csv(runner, closed_round, tmp_path):
    output = tmp_path / "giai.csv"
    result = runner.invoke(args=["contest", "export", str(closed_round.id), "--format", "csv",
                                 "--what", "prizes", "--output", str(output)])
    assert result.exit_code == 0, result.output
    with open(output, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert "DỰ KIẾN — CHƯA XÁC NHẬN" in rows[0][0]  # nobody confirmed these winners
    rows = rows[2:]
    assert rows[0][0] == "Giải"
    assert [r[0] for r in rows[1:]] == ["Giải Nhất", "Giải Nhì", "Giải Nhì"]


def test_unknown_round_fails(runner, app, tmp_path):
    output = tmp_path / "none.xlsx"
    result = runner.invoke(args=["contest", "export", "999", "--format", "xlsx",
                                 "--output", str(output)])
    assert result.exit_code != 0
    assert "999" in result.output
    assert not output.exists()


def test_unknown_format_fails(runner, closed_round, tmp_path):
    result = runner.invoke(args=["contest", "export", str(closed_round.id), "--format", "pdf",
                                 "--output", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    assert not (tmp_path / "x.pdf").exists()
