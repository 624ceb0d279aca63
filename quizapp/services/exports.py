"""Round results and prize lists as .xlsx (openpyxl) and CSV, with Vietnamese headers."""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..models import Round
from . import contest, names
from .spreadsheet_safety import append_xlsx_row, csv_bytes

RESULT_HEADERS = ["Hạng", "Đồng hạng", "Họ và tên", "Tên đăng nhập", "Chi bộ", "Điểm",
                  "Điểm tối đa", "Dự đoán", "Chênh lệch dự đoán", "Thời gian làm bài (giây)",
                  "Thời điểm nộp", "Mã bài thi"]
PRIZE_HEADERS = ["Giải", "Hạng", "Họ và tên", "Tên đăng nhập", "Chi bộ", "Điểm",
                 "Thời gian làm bài (giây)", "Mã bài thi"]
TIER_NAMES = {"first": "Giải Nhất", "second": "Giải Nhì", "third": "Giải Ba",
              "consolation": "Giải Khuyến khích"}


def _local(value) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%d/%m/%Y %H:%M:%S")


def result_rows(round_: Round) -> list[list]:
    return [[r.rank, "=" if r.tied else "", r.user.full_name, r.user.username, r.unit.name,
             r.score, r.max_score, r.prediction if r.prediction is not None else "",
             r.distance if r.distance is not None else "", r.time_taken_seconds,
             _local(r.finished_at), r.attempt_id] for r in contest.ranking(round_)]


def prize_rows(round_: Round) -> list[list]:
    prizes = contest.confirmed_prizes(round_)
    if prizes:
        by_attempt = {r.attempt_id: r for r in contest.ranking(round_)}
        return [[TIER_NAMES[p.tier], p.rank, p.user.full_name, p.user.username,
                 by_attempt[p.attempt_id].unit.name if p.attempt_id in by_attempt else "",
                 by_attempt[p.attempt_id].score if p.attempt_id in by_attempt else "",
                 by_attempt[p.attempt_id].time_taken_seconds if p.attempt_id in by_attempt else "",
                 p.attempt_id] for p in prizes]
    return [[TIER_NAMES[p.tier] + (" (đồng hạng ở ranh giới)" if p.tie_at_boundary else ""),
             p.row.rank, p.row.user.full_name, p.row.user.username, p.row.unit.name, p.row.score,
             p.row.time_taken_seconds, p.row.attempt_id] for p in contest.propose_prizes(round_)]


def _sheet(ws, title: str, headers: list[str], rows: list[list]) -> None:
    ws.title = title
    append_xlsx_row(ws, headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_xlsx_row(ws, row)
    for index, header in enumerate(headers, start=1):
        width = max([len(str(header))] + [len(str(r[index - 1])) for r in rows[:500]])
        ws.column_dimensions[get_column_letter(index)].width = min(45, width + 2)
    ws.freeze_panes = "A2"


def export(round_: Round, what: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, mimetype, filename) for what='results'|'prizes', fmt='xlsx'|'csv'."""
    if what == "prizes":
        headers, rows = PRIZE_HEADERS, prize_rows(round_)
    else:
        headers, rows = RESULT_HEADERS, result_rows(round_)
    filename = f"vong-{round_.id}-{'giai-thuong' if what == 'prizes' else 'ket-qua'}.{fmt}"
    if fmt == "csv":
        return csv_bytes(headers, rows), "text/csv; charset=utf-8", filename
    workbook = Workbook()
    _sheet(workbook.active, "Giải thưởng" if what == "prizes" else "Xếp hạng", headers, rows)
    if what == "results":
        by_name = sorted(rows, key=lambda r: names.sort_key(r[2]))
        _sheet(workbook.create_sheet(), "Theo tên (A-Z)", headers, by_name)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return (buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename)
