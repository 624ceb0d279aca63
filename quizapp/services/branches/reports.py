"""Branch and ward reports: .xlsx, CSV and JSON."""
from __future__ import annotations

import io
import json

from openpyxl import Workbook

from ...models import Contest, Round
from ..grading import points_text
from ..people import names
from ..spreadsheet_safety import csv_bytes, set_xlsx_cell
from .exports import _local, _sheet
from .standings import BranchPage, BranchRow, Weights

WARD_HEADERS = ["Hạng", "Đồng hạng", "Chi bộ", "Số đảng viên (tính tỉ lệ)", "Số tham gia",
                "Tỉ lệ tham gia (%)", "Điểm trung bình", "Điểm tối đa", "Số bài đạt điểm tối đa",
                "P", "S", "G (tiến bộ)", "R (ôn tập hằng ngày)", "Chỉ số thi đua", "Cách tính"]


def _figure(value, digits: int = 2):
    """A figure rounded, or empty when there is none (no participant, or results hidden)."""
    return "" if value is None else round(value, digits)


def ward_rows(rows: list[BranchRow], weights: Weights) -> list[list]:
    return [[r.rank, "=" if r.tied else "", r.unit.name, r.roster, r.participants,
             round(r.rate * 100, 2), _figure(r.average), r.max_score,
             "" if r.full_scores is None else r.full_scores, round(r.P, 2), _figure(r.S),
             _figure(r.G), _figure(r.R), _figure(r.index, 4), r.arithmetic(weights)] for r in rows]


def ward_report(rows: list[BranchRow], weights: Weights, title: str, fmt: str) -> bytes:
    """The branch standings as xlsx, csv or json."""
    data = ward_rows(rows, weights)
    if fmt == "json":
        return json.dumps({
            "title": title,
            "weights": vars(weights),
            "branches": [dict(zip(["rank", "tied", "unit", "roster", "participants", "rate_percent",
                                   "average", "max_score", "full_scores", "P", "S", "G", "R", "index",
                                   "arithmetic"], [row[0], bool(row[1])] + [None if v == "" else v
                                                                            for v in row[2:]]))
                         for row in data],
        }, ensure_ascii=False, indent=2).encode("utf-8")
    if fmt == "csv":
        return csv_bytes(WARD_HEADERS, data)
    workbook = Workbook()
    sheet = workbook.active
    _sheet(sheet, "Bảng thi đua", WARD_HEADERS, data)
    sheet.insert_rows(1)
    set_xlsx_cell(sheet["A1"], title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _seconds(cell) -> int | str:
    """A member's time in seconds; "—" for a paper sheet, whose time is not measured."""
    return "—" if cell.time_taken is None else cell.time_taken


def branch_report(page: BranchPage) -> bytes:
    """One branch: members × rounds, then the branch's figures per round."""
    workbook = Workbook()
    headers = ["Họ và tên", "Tên đăng nhập", "Số điện thoại", "Trạng thái"]
    for r in page.rounds:
        headers += [f"{r.title} — điểm", f"{r.title} — thời gian (giây)"]
    rows = []
    for m in sorted(page.members, key=lambda u: names.sort_key(u.full_name)):
        status = "Đang sinh hoạt" if m.active else "Đã ngừng"
        if m.exempt:
            status += " (miễn thi đua)"
        row = [m.full_name, m.username, m.phone or "", status]
        for r in page.rounds:
            cell = page.cells.get((m.id, r.id))
            if cell is None or not cell.finished:
                row += ["đang làm" if cell and cell.in_progress else "chưa tham gia", ""]
            elif cell.score is None:  # took part; the round's results are not shown yet
                row += ["đã nộp bài", _seconds(cell)]
            else:
                row += [f"{points_text(cell.points)}/{cell.max_score}", _seconds(cell)]
        rows.append(row)
    _sheet(workbook.active, "Đảng viên", headers, rows)
    trend_headers = ["Vòng thi", "Đóng lúc", "Số tham gia", "Số đảng viên", "Tỉ lệ (%)",
                     "Điểm trung bình", "Số bài điểm tối đa"]
    trend = [[r.title, _local(r.closes_at), row.participants if row else 0, row.roster if row else 0,
              round(row.rate * 100, 2) if row else 0,
              _figure(row.average) if row else "",
              (row.full_scores if row.full_scores is not None else "") if row else 0]
             for r, row in page.trend]
    _sheet(workbook.create_sheet(), "Theo vòng", trend_headers, trend)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_title(round_: Round | None = None, contest: Contest | None = None) -> str:
    if round_ is not None:
        return f"Bảng thi đua các chi bộ — {round_.contest.title} — {round_.title}"
    return f"Bảng thi đua các chi bộ — {contest.title} (cộng dồn)"
