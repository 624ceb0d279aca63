"""The printed answer sheets of a round (A4 PDF), one per member with his own drawn
questions (contests.paper draws them), and the letters a secretary types back.

What a sheet shows: the round, the member and his branch, each of his questions with
its choices in his frozen order, a box per choice, and a QR code holding the sheet's
signed reference. Never the key. The font is DejaVu Sans from static/fonts (its licence
beside it), so nothing is fetched and Vietnamese prints right anywhere.
"""
from __future__ import annotations

import io
import os

import segno
from flask import current_app
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ...models import Attempt, Round
from .. import grading
from ..contests import local_time, paper

FONT = "DejaVu"
QR_SIZE = 32  # mm


def _font_dir() -> str:
    return os.path.join(current_app.static_folder, "fonts")


class _SheetPDF(FPDF):
    """A4 portrait; the footer names the member whose sheet the page belongs to."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_text_color(0, 0, 0)


def sheets_pdf(round_: Round, sheets: list[Attempt]) -> bytes:
    """One or more pages per sheet, each sheet starting on a new page."""
    pdf = _SheetPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(15, 14, 15)
    pdf.add_font(FONT, "", os.path.join(_font_dir(), "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", os.path.join(_font_dir(), "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Phiếu trả lời — {round_.title}")
    for attempt in sheets:
        _sheet(pdf, round_, attempt)
    return bytes(pdf.output())


def _sheet(pdf: _SheetPDF, round_: Round, attempt: Attempt) -> None:
    member = attempt.user
    pdf.add_page()  # closes the previous sheet's last page (its footer) first
    pdf.footer_text = (f"{member.full_name} — {member.unit.name} — {round_.title} — "
                       f"phiếu số {attempt.id}")
    top = pdf.get_y()
    qr = segno.make(paper.sheet_token(attempt), error="m")
    image = io.BytesIO()
    qr.save(image, kind="png", scale=6, border=2)
    image.seek(0)
    pdf.image(image, x=pdf.w - pdf.r_margin - QR_SIZE, y=top, w=QR_SIZE, h=QR_SIZE)
    width = pdf.w - pdf.l_margin - pdf.r_margin - QR_SIZE - 4
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(width, 7, "PHIẾU TRẢ LỜI", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(width, 6, f"{round_.contest.title} — {round_.title}",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    for label, value in (("Họ và tên", member.full_name), ("Chi bộ", member.unit.name),
                         ("Hạn nộp phiếu", local_time(round_.closes_at)),
                         ("Phiếu số", str(attempt.id))):
        pdf.multi_cell(width, 5.5, f"{label}: {value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE) + 2)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 4.5, "Đánh dấu X vào ô trước đáp án đúng. Câu ghi “chọn tất cả đáp án đúng” "
                   "có thể có nhiều đáp án đúng: đánh dấu tất cả. Muốn sửa, gạch bỏ và ghi rõ "
                   "đáp án chọn bên cạnh. Nộp phiếu cho bí thư chi bộ.",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    for item in attempt.items:
        _question(pdf, item)


def _question(pdf: _SheetPDF, item) -> None:
    question = item.question
    choices = item.ordered_choices
    # Keep a question with its choices on one page when it fits on a fresh one.
    needed = 7 + 7 * len(choices) + (5 if grading.SELECTS_MANY[question.kind] else 0)
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.set_font(FONT, "B", 10.5)
    pdf.multi_cell(0, 5.5, f"Câu {item.position + 1}. {question.prompt}",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if grading.SELECTS_MANY[question.kind]:
        pdf.set_font(FONT, "B", 9.5)
        pdf.multi_cell(0, 5, "(Chọn tất cả đáp án đúng — có thể nhiều hơn một)",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    for n, choice in enumerate(choices):
        y = pdf.get_y() + 0.6
        x = pdf.l_margin + 4
        pdf.rect(x, y, 4.6, 4.6)
        pdf.set_x(x + 7)
        pdf.multi_cell(0, 5.8, f"{paper.LETTERS[n]}. {choice.text}", align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
