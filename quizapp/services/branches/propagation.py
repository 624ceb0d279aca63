"""The propagation report (.docx) the ward's letter asks units to send: how the
resolution was brought to members — rounds held, participation per branch, average
scores where the viewer may see them (results_visible_to, through standings), meeting
quizzes held and daily review activity, and the mastery of each part of the outline
(the share of right answers by top-level section, from the maintained section counters)
— in the usual administrative layout, ready to sign. Organizers get the whole ward, a secretary his branch (his unit's subtree).

The meeting and review figures belong to services.learning; the caller passes them in
(by unit id), so this package keeps importing only downwards.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from sqlalchemy import select

from ...extensions import db
from ...models import Contest, Unit
from ..contests import local_time, round_state
from ..grading import average_text
from .standings import (FULL_VIEW, branch_units, contest_rounds, hidden_rounds, mastery,
                        round_standings, top_sections)

HIDDEN = "chưa công bố"


@dataclass
class Activity:
    """What a branch did besides the contest, for the report's last columns."""
    meetings: int = 0          # meeting quizzes held
    meeting_members: int = 0   # members who played in one
    reviewers: int = 0         # members who did the daily review lately
    review_days: int = 30


@dataclass
class BranchLine:
    unit: Unit
    roster: int
    participants: dict[int, int]        # round id → members who took part
    averages: dict[int, float | None]   # round id → average score (None: hidden or nobody)


def place_of(ward: Unit | None) -> str:
    """The place name an administrative date line starts with ("Tây Mỗ, ngày …"): what
    follows "phường", "xã" or "thị trấn" in the ward's name, without a bracketed note."""
    name = re.sub(r"\s*\(.*?\)", "", ward.name if ward else "").strip()
    found = re.search(r"(?:phường|xã|thị trấn)\s+(.+)$", name, re.IGNORECASE)
    return found.group(1).strip() if found else ""


def _ward_root() -> Unit | None:
    return db.session.execute(select(Unit).where(Unit.parent_id.is_(None))
                              .order_by(Unit.position, Unit.id)).scalars().first()


def gather(contest: Contest, scope: Unit | None, viewer=FULL_VIEW) -> tuple[list, list[BranchLine]]:
    """The rounds held (opened) and one line per branch in `scope` (None: the ward), with
    the scores `viewer` may see."""
    rounds = [r for r in contest_rounds(contest) if round_state(r) not in ("draft", "scheduled")]
    lines = {u.id: BranchLine(u, u.active_roster, {}, {}) for u in branch_units(scope)}
    for round_ in rounds:
        for row in round_standings(round_, scope, viewer):
            line = lines.get(row.unit.id)
            if line is not None:
                line.participants[round_.id] = row.participants
                line.averages[round_.id] = row.average
    return rounds, list(lines.values())


@dataclass
class SectionLine:
    title: str
    per_round: dict[int, tuple[int, int]]   # round id → (answered, right), visible rounds only
    total: tuple[int, int]                  # over the visible rounds


def section_mastery(rounds: list, units: list[Unit], viewer=FULL_VIEW) -> list[SectionLine]:
    """One line per top-level section of the outline (quan điểm, đột phá, mục tiêu,
    nhiệm vụ, giải pháp…) that counted members answered in a round whose scores
    `viewer` may see: (answered, right) per round and in all, summed over `units` (the
    report's scope). Rounds whose scores are hidden contribute nothing here; the report
    prints them as "chưa công bố". Reads RoundSectionStats (counted members only)."""
    hidden = {r.id for r in hidden_rounds(rounds, viewer)}
    shown = [r for r in rounds if r.id not in hidden]
    per_round: dict[int, dict[int, list[int]]] = {}
    for round_ in shown:
        cells = per_round.setdefault(round_.id, {})
        for (_unit, section_id), (answered, right) in mastery([round_], units, viewer).items():
            cell = cells.setdefault(section_id, [0, 0])
            cell[0] += answered
            cell[1] += right
    lines = []
    for section in top_sections():
        mine = {rid: (c[section.id][0], c[section.id][1]) for rid, c in per_round.items()
                if c.get(section.id, (0, 0))[0]}
        if mine:
            lines.append(SectionLine(section.title, mine, (sum(a for a, _r in mine.values()),
                                                           sum(r for _a, r in mine.values()))))
    return lines


def _cell(cell, text: str, bold: bool = False, size: float = 10, center: bool = False) -> None:
    cell.text = ""
    paragraph = cell.paragraphs[0]
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold
    run.font.size = Pt(size)


def _para(document, text: str, bold: bool = False, size: float = 13, center: bool = False,
          italic: bool = False):
    paragraph = document.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    run.font.size = Pt(size)
    return paragraph


TEXT_WIDTH_CM = 16.0   # A4 (21 cm) less the 3 cm and 2 cm margins


def _widths(table, first: list[float]) -> None:
    """Fixed column widths (cm): `first` for the leading columns (number, name…), the
    rest of the text width shared by the others, so names do not wrap letter by letter
    while figures get half a line each (Word reads the cells, LibreOffice the grid)."""
    columns = len(table.columns)
    rest = (TEXT_WIDTH_CM - sum(first)) / max(1, columns - len(first))
    widths = [Cm(w) for w in first] + [Cm(rest)] * (columns - len(first))
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}".replace(".", ",") if whole else "0"


def _number(value: float | None, hidden: bool) -> str:
    if hidden:
        return HIDDEN
    return average_text(value)


def _share(answered: int, right: int) -> str:
    return f"{_rate(right, answered)} ({right}/{answered})"


def _mastery_table(document, rounds: list, sections: list[SectionLine], hidden: set[int]) -> None:
    """Part III: the share of right answers per part of the outline, per round and in all."""
    _para(document, "III. MỨC ĐỘ NẮM NỘI DUNG THEO TỪNG PHẦN CỦA ĐỀ CƯƠNG", bold=True)
    if not rounds:
        _para(document, "Chưa có vòng thi nào được mở.")
        return
    if all(r.id in hidden for r in rounds):
        _para(document, f"Tỉ lệ trả lời đúng theo từng phần: {HIDDEN} (kết quả các vòng thi chưa "
                        f"được công bố).")
        return
    if not sections:
        _para(document, "Chưa có câu trả lời nào được tính.")
        return
    headers = ["STT", "Phần của đề cương"] + [f"{r.title}: tỉ lệ đúng (%)" for r in rounds]
    if len(rounds) > 1:
        headers.append("Cả cuộc thi (%)")
    table = _table(document, headers)
    for n, line in enumerate(sections, 1):
        values = [str(n), line.title]
        for round_ in rounds:
            if round_.id in hidden:
                values.append(HIDDEN)
            elif round_.id in line.per_round:
                values.append(_share(*line.per_round[round_.id]))
            else:
                values.append("—")
        if len(rounds) > 1:
            values.append(_share(*line.total))
        for i, (cell, text) in enumerate(zip(table.add_row().cells, values)):
            _cell(cell, text, size=9, center=i != 1)
    _widths(table, [1.0, 5.5])
    lowest = min(sections, key=lambda line: (line.total[1] / line.total[0], line.title))
    note = ("Tỉ lệ đúng: số câu trả lời đúng ÷ số câu đã trả lời (trong ngoặc) của các đảng viên "
            "được tính thi đua; “—”: phần này không có trong đề của vòng")
    if hidden:
        note += f"; “{HIDDEN}”: kết quả vòng thi chưa được công bố"
        if len(rounds) > 1:
            note += " (cột “Cả cuộc thi” chỉ gồm các vòng đã công bố)"
    _para(document, note + ".", italic=True, size=11)
    _para(document, f"Phần có tỉ lệ đúng thấp nhất: {lowest.title} — nên trao đổi thêm trong "
                    f"sinh hoạt chi bộ.", size=13)


def _table(document, headers: list[str]):
    """A centred grid table with one bold header row."""
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers):
        _cell(cell, text, bold=True, size=9, center=True)
    return table


def report(contest: Contest, scope: Unit | None, activity: dict[int, Activity],
           viewer=FULL_VIEW, now: datetime | None = None) -> bytes:
    """The report as .docx bytes; `activity` by unit id. The averages of a round whose
    scores `viewer` may not see print as "chưa công bố"."""
    rounds, lines = gather(contest, scope, viewer)
    hidden_round_ids = {r.id for r in hidden_rounds(rounds, viewer)}
    ward = _ward_root()
    issuer = scope or ward
    document = Document()
    for section in document.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21)
        section.left_margin, section.right_margin = Cm(3), Cm(2)
        section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)

    header = document.add_table(rows=1, cols=2)
    left, right = header.rows[0].cells
    _cell(left, (ward.name if ward else "").upper(), size=12, center=True)
    if issuer is not None and issuer is not ward:
        left.add_paragraph().add_run(issuer.name.upper()).bold = True
        left.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    left.add_paragraph("*").alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The number is left blank for the office to write in when it files the report.
    left.add_paragraph(f"Số      -BC/{'CB' if issuer is not ward else 'ĐU'}").alignment = \
        WD_ALIGN_PARAGRAPH.CENTER
    _cell(right, "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True, size=13, center=True)
    when = local_time(now) if now else ""
    day = when.split(" ")[-1] if when else "…/…/……"
    d, m, y = (day.split("/") + ["", "", ""])[:3]
    dated = right.add_paragraph()
    dated.alignment = WD_ALIGN_PARAGRAPH.CENTER
    where = place_of(ward)
    place = dated.add_run(f"{where + ', ' if where else ''}ngày {d} tháng {m} năm {y}")
    place.italic = True

    _para(document, "BÁO CÁO", bold=True, size=15, center=True)
    _para(document, "Kết quả tuyên truyền, học tập, quán triệt Nghị quyết đến đảng viên",
          bold=True, size=13, center=True)
    _para(document, f"(qua cuộc thi “{contest.title}”)", italic=True, size=13, center=True)

    _para(document, "I. CÁC VÒNG THI ĐÃ TỔ CHỨC", bold=True)
    roster_total = sum(line.roster for line in lines)
    if not rounds:
        _para(document, "Chưa có vòng thi nào được mở.")
    for n, round_ in enumerate(rounds, 1):
        took = sum(line.participants.get(round_.id, 0) for line in lines)
        _para(document, f"{n}. {round_.title}: từ {local_time(round_.opens_at)} đến "
                        f"{local_time(round_.closes_at)}; {took}/{roster_total} đảng viên tham gia "
                        f"({_rate(took, roster_total)}%).", size=13)

    _para(document, "II. KẾT QUẢ THAM GIA THEO CHI BỘ", bold=True)
    headers = ["STT", "Chi bộ", "Số đảng viên"]
    for round_ in rounds:
        headers += [f"{round_.title}: tham gia (tỉ lệ %)", f"{round_.title}: điểm TB"]
    headers += ["Buổi thi tại sinh hoạt chi bộ", "Đảng viên ôn tập hằng ngày"]
    table = _table(document, headers)
    for n, line in enumerate(lines, 1):
        act = activity.get(line.unit.id, Activity())
        values = [str(n), line.unit.name, str(line.roster)]
        for round_ in rounds:
            took = line.participants.get(round_.id, 0)
            values += [f"{took} ({_rate(took, line.roster)})",
                       _number(line.averages.get(round_.id), round_.id in hidden_round_ids)]
        values += [str(act.meetings), str(act.reviewers)]
        row = table.add_row().cells
        for i, (cell, text) in enumerate(zip(row, values)):
            _cell(cell, text, size=9, center=i != 1)
    totals = ["", "Cộng", str(roster_total)]
    for round_ in rounds:
        took = sum(line.participants.get(round_.id, 0) for line in lines)
        totals += [f"{took} ({_rate(took, roster_total)})", ""]
    totals += [str(sum(activity.get(line.unit.id, Activity()).meetings for line in lines)),
               str(sum(activity.get(line.unit.id, Activity()).reviewers for line in lines))]
    for cell, text in zip(table.add_row().cells, totals):
        _cell(cell, text, bold=True, size=9, center=True)
    _widths(table, [1.0, 3.4, 1.5])
    days = next(iter(activity.values())).review_days if activity else 30
    _para(document, f"Điểm TB: điểm trung bình của các bài được tính; “{HIDDEN}”: kết quả vòng thi "
                    f"chưa được công bố. Ôn tập hằng ngày: số đảng viên có trả lời câu hỏi ôn tập "
                    f"trong {days} ngày qua.", italic=True, size=11)

    _mastery_table(document, rounds, section_mastery(rounds, [line.unit for line in lines], viewer),
                   hidden_round_ids)

    _para(document, "IV. ĐÁNH GIÁ, KIẾN NGHỊ", bold=True)
    for _ in range(3):
        _para(document, "." * 110, size=11)

    sign = document.add_table(rows=1, cols=2)
    _cell(sign.rows[0].cells[0], "Nơi nhận:", bold=True, size=11)
    sign.rows[0].cells[0].add_paragraph("- Đảng ủy phường (để báo cáo),").runs[0].font.size = Pt(11)
    sign.rows[0].cells[0].add_paragraph("- Lưu.").runs[0].font.size = Pt(11)
    who = "T/M CHI BỘ" if scope is not None and scope is not ward else "T/M BAN TỔ CHỨC"
    _cell(sign.rows[0].cells[1], who, bold=True, center=True)
    sign.rows[0].cells[1].add_paragraph("(Ký, ghi rõ họ tên)").alignment = WD_ALIGN_PARAGRAPH.CENTER
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
