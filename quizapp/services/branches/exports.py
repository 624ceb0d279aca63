"""Round results and prize lists as .xlsx (openpyxl) and CSV, with Vietnamese headers.

Every file says what it is in its first lines, before the table: a title (for a prize
list: confirmed or not) and a second line — the ranking rule, or who confirmed the
prizes and when, or that the list is only a proposal. The file name says the same."""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ...models import Round
from .. import contests
from ..grading import points_value
from ..people import names
from ..spreadsheet_safety import append_xlsx_row, csv_bytes
from . import standings

RESULT_HEADERS = ["Hạng", "Đồng hạng", "Họ và tên", "Tên đăng nhập", "Chi bộ", "Điểm",
                  "Điểm tối đa", "Tỉ lệ điểm (%)", "Dự đoán", "Chênh lệch dự đoán", "Thời gian làm bài (giây)",
                  "Thời điểm nộp", "Mã bài thi", "Hình thức"]
PRIZE_HEADERS = ["Giải", "Hạng", "Họ và tên", "Tên đăng nhập", "Chi bộ", "Điểm",
                 "Điểm tối đa", "Tỉ lệ điểm (%)", "Thời gian làm bài (giây)", "Mã bài thi"]
COLLECTIVE_HEADERS = ["Giải", "Hạng", "Chi bộ", "Số đảng viên (tính tỉ lệ)", "Số tham gia",
                      "P", "S", "G (tiến bộ)", "Chỉ số thi đua", "Cách tính",
                      "Đồng hạng ở ranh giới giải"]
RANKING_RULE = ("Cách xếp hạng: tỉ lệ điểm = điểm ÷ điểm tối đa của chính bài thi (điểm là tổng "
                "điểm các câu, câu chấm điểm từng phần được tính phần đạt được, ví dụ 0,5 câu; "
                "câu bị hủy không tính vào điểm tối đa), cao trước → dự đoán gần đáp số hơn (nếu vòng có câu "
                "dự đoán; không dự đoán coi như xa nhất) → thời gian làm bài ngắn hơn → nộp sớm "
                "hơn; bằng nhau ở mọi tiêu chí thì đồng hạng. Phiếu giấy không đo được thời "
                "gian làm bài: được tính bằng trọn thời gian của vòng (ghi “—”), thời điểm nộp "
                "là lúc bí thư nhập phiếu.")
NOT_MEASURED = "—"


def _seconds(row) -> int | str:
    """A ranking row's time in seconds; "—" for a paper sheet (not measured)."""
    return NOT_MEASURED if row.measured_seconds is None else row.measured_seconds
UNCONFIRMED = "DỰ KIẾN — CHƯA XÁC NHẬN"
UNCONFIRMED_NOTE = ("Danh sách đề xuất từ bảng xếp hạng hiện tại, chưa được Ban tổ chức xác nhận "
                    "(hoặc đã bị hủy xác nhận sau khi chấm lại); không dùng để trao giải.")
TIER_NAMES = {"first": "Giải Nhất", "second": "Giải Nhì", "third": "Giải Ba",
              "consolation": "Giải Khuyến khích"}


def _local(value) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%d/%m/%Y %H:%M:%S")


def _percent(share) -> float:
    """A share of the maximum as printed: per cent, two decimals."""
    return round(float(share * 100), 2)


def result_rows(round_: Round) -> list[list]:
    """The ranking, each row saying whether the attempt was online or a paper sheet
    entered by the secretary (contests.paper)."""
    return [[r.rank, "=" if r.tied else "", r.user.full_name, r.user.username, r.unit.name,
             points_value(r.points), r.max_score, _percent(r.share), r.prediction if r.prediction is not None else "",
             r.distance if r.distance is not None else "", _seconds(r),
             _local(r.finished_at), r.attempt_id,
             "phiếu giấy (bí thư nhập)" if r.on_paper else "trực tuyến"]
            for r in contests.ranking(round_)]


def _confirmed_by(user, at) -> str:
    return f"Xác nhận bởi {user.full_name} ({user.username}) lúc {_local(at)}."


def prize_rows(round_: Round) -> tuple[bool, str, list[list]]:
    """(confirmed, note line, rows): the confirmed winners, or else the proposal."""
    prizes = contests.confirmed_prizes(round_)
    if prizes:
        by_attempt = {r.attempt_id: r for r in contests.ranking(round_)}
        rows = []
        for p in prizes:
            r = by_attempt.get(p.attempt_id)
            rows.append([TIER_NAMES[p.tier], p.rank, p.user.full_name, p.user.username,
                         r.unit.name if r else "", points_value(r.points) if r else "", r.max_score if r else "",
                         _percent(r.share) if r else "", _seconds(r) if r else "",
                         p.attempt_id])
        first = prizes[0]
        return True, _confirmed_by(first.confirmed_by, round_.prizes_confirmed_at or first.confirmed_at) \
            + " " + RANKING_RULE, rows
    return False, UNCONFIRMED_NOTE + " " + RANKING_RULE, [
        [TIER_NAMES[p.tier] + (" (đồng hạng ở ranh giới)" if p.tie_at_boundary else ""),
         p.row.rank, p.row.user.full_name, p.row.user.username, p.row.unit.name, points_value(p.row.points),
         p.row.max_score, _percent(p.row.share), _seconds(p.row), p.row.attempt_id]
        for p in contests.propose_prizes(round_)]


def collective_rows(round_: Round) -> tuple[bool, str, list[list]]:
    """(confirmed, note line, rows) for the branches' collective prizes, with each
    branch's figures and index arithmetic (as confirmed, or as proposed now)."""
    weights = standings.Weights.of(round_.contest)
    formula = (f"Chỉ số thi đua = ({weights.participation}×P + {weights.score}×S + "
               f"{weights.improvement}×G) ÷ 100; P, S, G làm tròn 2 chữ số thập phân trước khi tính.")
    prizes = standings.confirmed_collective_prizes(round_)
    if prizes:
        rows = [[TIER_NAMES[p.tier], p.rank, p.unit.name, p.roster, p.participants,
                 p.participation, p.score, p.improvement, p.index_value, p.arithmetic,
                 "có" if p.tie_flagged else ""] for p in prizes]
        return True, _confirmed_by(prizes[0].confirmed_by, prizes[0].confirmed_at) + " " + formula, rows
    rows = [[TIER_NAMES[p.tier], p.row.rank, p.row.unit.name, p.row.roster, p.row.participants,
             f"{p.row.P:.2f}", f"{p.row.S:.2f}", f"{p.row.G:.2f}",
             standings.format_index(p.row.index), p.row.arithmetic(weights),
             "có" if p.tie_at_boundary else ""] for p in standings.propose_collective_prizes(round_)]
    return False, UNCONFIRMED_NOTE + " " + formula, rows


def _sheet(ws, title: str, headers: list[str], rows: list[list], lines: list[str] = ()) -> None:
    """A table with bold headers frozen at the top, under `lines` (title lines, the first
    in bold). Written top to bottom: inserting the title lines afterwards moved every
    cell of the sheet (a third of a city round's results file)."""
    ws.title = title
    for line in lines:
        append_xlsx_row(ws, [line])
    if lines:
        ws.cell(row=1, column=1).font = Font(bold=True)
    append_xlsx_row(ws, headers)
    for cell in ws[len(lines) + 1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_xlsx_row(ws, row)
    for index, header in enumerate(headers, start=1):
        width = max([len(str(header))] + [len(str(r[index - 1])) for r in rows[:500]])
        ws.column_dimensions[get_column_letter(index)].width = min(45, width + 2)
    ws.freeze_panes = f"A{len(lines) + 2}"


def _title_lines(round_: Round, what: str, confirmed: bool, note: str) -> list[str]:
    kind = {"results": "Kết quả xếp hạng cá nhân", "prizes": "Giải thưởng cá nhân",
            "collective": "Giải thưởng tập thể (chi bộ)"}[what]
    if what != "results":
        kind += " — ĐÃ XÁC NHẬN" if confirmed else f" — {UNCONFIRMED}"
    return [f"{kind} — {round_.contest.title} — {round_.title}", note]


def export(round_: Round, what: str, fmt: str) -> tuple[bytes, str, str]:
    """(content, mimetype, filename) for what='results'|'prizes'|'collective',
    fmt='xlsx'|'csv'. Two title lines come before the headers (see the module
    docstring); a prize list not confirmed says so in its title and its file name."""
    if what == "results":
        headers, rows = RESULT_HEADERS, result_rows(round_)
        confirmed, note = True, RANKING_RULE
        stem = "ket-qua"
    else:
        headers, (confirmed, note, rows) = (
            (PRIZE_HEADERS, prize_rows(round_)) if what == "prizes"
            else (COLLECTIVE_HEADERS, collective_rows(round_)))
        stem = "giai-thuong" if what == "prizes" else "giai-tap-the"
        stem += "-da-xac-nhan" if confirmed else "-DU-KIEN-chua-xac-nhan"
    title = _title_lines(round_, what, confirmed, note)
    filename = f"vong-{round_.id}-{stem}.{fmt}"
    if fmt == "csv":
        # The title lines first, then the table; every cell through the safety helper.
        return (csv_bytes([title[0]], [title[1:], headers, *rows]), "text/csv; charset=utf-8",
                filename)
    workbook = Workbook()
    sheet_title = {"results": "Xếp hạng", "prizes": "Giải thưởng", "collective": "Giải tập thể"}[what]
    _sheet(workbook.active, sheet_title, headers, rows, title)
    if what == "results":
        by_name = sorted(rows, key=lambda r: names.sort_key(r[2]))
        _sheet(workbook.create_sheet(), "Theo tên (A-Z)", headers, by_name, title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return (buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename)


