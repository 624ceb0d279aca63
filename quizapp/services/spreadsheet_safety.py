"""Cells a spreadsheet will not run: the one helper every .csv and .xlsx the app writes
goes through (round results and prizes, ward and branch reports, the roster template,
the bank's Excel files).

A name, title or question typed by a user may start with what Excel, LibreOffice or
Google Sheets read as a formula: ``=HYPERLINK("http://x","y")``, ``+1+1``, ``-2+3``,
``@SUM(A1)``, or a tab or carriage return before one. Opened, such a cell runs (links,
DDE, data sent away). The rule (OWASP "CSV injection"):

- .csv has no cell types: a text that starts with one of ``= + - @ \\t \\r`` gets a
  leading apostrophe, which spreadsheets show as text and never run;
- .xlsx has them: the text is kept exactly (so that a file read back gives what was
  written, as the bank's round trip needs) and stored as a string cell marked "quote
  prefix", Excel's own flag for text that looks like a formula, which stays text even
  when the cell is edited. Characters XML cannot hold are dropped (openpyxl refuses them).

Only strings are touched: numbers (a negative score or distance too) stay numbers. A
string of one character ("=" for a tie, "-" for nothing) cannot run and is kept as is
in .csv.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value) -> bool:
    """True for a string a spreadsheet would read as a formula (see the module docstring)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value):
    """The value to write in a .csv cell: formula-like text behind an apostrophe,
    anything else unchanged."""
    if is_formula_like(value) and len(value) > 1:
        return "'" + value
    return value


def csv_bytes(headers: list, rows: Iterable[list]) -> bytes:
    """A whole .csv file, UTF-8 with a BOM (so that Excel reads the Vietnamese text), every
    cell through `csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(v) for v in headers])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_text(value):
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _mark_text(cell) -> None:
    cell.data_type = "s"     # openpyxl makes "=…" a formula
    cell.quotePrefix = True  # and Excel keeps it text when the cell is edited


def set_xlsx_cell(cell, value) -> None:
    """Put `value` in an openpyxl cell: text kept exactly, formula-like text stored as
    quote-prefixed text (never a formula), numbers and dates unchanged. Judged on the
    text as stored: a control character in front of "=…" is stripped, and must not
    uncover a formula."""
    cell.value = text = _xlsx_text(value)
    if is_formula_like(text):
        _mark_text(cell)


def append_xlsx_row(sheet, values: Iterable) -> None:
    """`sheet.append(values)`, each cell as `set_xlsx_cell` writes it. A formula-like
    value goes in as a cell already marked as text (openpyxl's append takes cells), not
    found again afterwards: `sheet.max_row` scans every cell of the sheet, which made a
    20,000-row export take minutes."""
    row = []
    for value in values:
        text = _xlsx_text(value)
        if is_formula_like(text):  # as stored, as set_xlsx_cell judges it
            cell = Cell(sheet, value=text)
            _mark_text(cell)
            row.append(cell)
        else:
            row.append(text)
    sheet.append(row)
