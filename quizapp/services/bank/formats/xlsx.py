"""Excel .xlsx: one row per question on the first sheet, Vietnamese headers.

Columns (any order; the header row is the first of the top 10 rows that has "Câu hỏi";
English names such as key, section, kind, prompt, answer are accepted too):

    Mã câu hỏi*  Mục  Loại  Độ khó  Trạng thái  Câu hỏi*  Phương án A*  Phương án B*
    Phương án C … F (more letters allowed)  Đáp án đúng*  Giải thích  Ý đề cương
    Mục đích  Không cùng đề với

(* the column must exist.) An empty key gets "xlsx-" and 8 hex digits of the prompt's
hash; an empty section the default section. Loại is "một lựa chọn", "nhiều lựa chọn",
"đúng/sai" (or single, multiple, truefalse; guessed from the answer when empty). Đáp án
đúng holds option letters ("A", "A,C"), or Đúng/Sai for true/false. Độ khó 1–3 (empty:
1), Trạng thái nháp / đã duyệt / ngừng dùng (or draft, approved, retired; empty: draft).
Ý đề cương lists outline item keys separated by commas. Mục đích is what the question
tests: hiểu ý nghĩa / vận dụng / phân biệt / chỉ tiêu / ghi nhớ (or meaning, application,
distinguish, target, recall; empty: not tagged). Không cùng đề với lists the keys of
questions never drawn into one attempt with this one. Errors say "row N" with Excel's
row numbers.
"""
from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from io import BytesIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..messages import Message, at_row
from ..schema import TRUE_FALSE_TEXTS, ChoiceData, QuestionData, credit_to_fraction, fraction_to_credit
from ... import grading
from ...spreadsheet_safety import append_xlsx_row, set_xlsx_cell
from ... import workbook_limits
from .common import MAX_ANSWERS, MAX_QUESTIONS, Errors, ParseResult, check_size, collect, fold, hash_key, \
    nfc, slugify

MAX_ROWS = MAX_QUESTIONS
# Bounds checked before openpyxl reads anything (services.workbook_limits). Our own export
# of MAX_ROWS questions with MAX_ANSWERS answers each stays well inside them.
MAX_COLUMNS = 64           # columns read; further ones are ignored like unknown headers
MAX_CELLS = (MAX_ROWS + 10) * (MAX_ANSWERS + 12)
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ZIP_MEMBERS = 200
_ROW_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\br=\"(\d{1,9})\"")
_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref=\"([^\"]{1,40})\"")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b([^>]*?)(?<!/)>(.*?)</(?:[A-Za-z_][\w.-]*:)?c>", re.DOTALL)
_REF = re.compile(rb"\br=\"([A-Za-z]{1,3}\d{1,7})\"")
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|is)>\s*[^<\s]")
MIN_OPTIONS = 6
SHEET_TITLE = "Câu hỏi"

HEADERS = {  # field → the Vietnamese header written
    "key": "Mã câu hỏi", "section": "Mục", "kind": "Loại", "difficulty": "Độ khó",
    "status": "Trạng thái", "prompt": "Câu hỏi", "answer": "Đáp án đúng",
    "explanation": "Giải thích", "covers": "Ý đề cương", "purpose": "Mục đích",
    "excludes": "Không cùng đề với", "credit": "Điểm từng phương án",
}
ALIASES = {  # folded header text → field
    "ma cau hoi": "key", "ma": "key", "key": "key",
    "muc": "section", "section": "section",
    "loai": "kind", "loai cau hoi": "kind", "kind": "kind", "type": "kind",
    "do kho": "difficulty", "difficulty": "difficulty",
    "trang thai": "status", "status": "status",
    "cau hoi": "prompt", "noi dung cau hoi": "prompt", "prompt": "prompt", "question": "prompt",
    "dap an dung": "answer", "dap an": "answer", "answer": "answer", "correct": "answer",
    "giai thich": "explanation", "explanation": "explanation",
    "y de cuong": "covers", "covers": "covers",
    "muc dich": "purpose", "purpose": "purpose",
    "khong cung de voi": "excludes", "excludes": "excludes",
    "diem tung phuong an": "credit", "credit": "credit",
}
OPTION_HEADER_RE = re.compile(r"^(?:phuong an|lua chon|choice|option) ([a-z])$")
REQUIRED = ["key", "prompt", "option:A", "option:B", "answer"]

KIND_NAMES = {"single": "một lựa chọn", "multiple": "nhiều lựa chọn", "truefalse": "đúng/sai"}
KIND_VALUES = {"mot lua chon": "single", "mot dap an": "single", "single": "single",
               "nhieu lua chon": "multiple", "nhieu dap an": "multiple", "multiple": "multiple",
               "dung/sai": "truefalse", "dung sai": "truefalse", "truefalse": "truefalse",
               "true/false": "truefalse"}
STATUS_NAMES = {"draft": "nháp", "approved": "đã duyệt", "retired": "ngừng dùng"}
STATUS_VALUES = {"": "draft", "draft": "draft", "nhap": "draft", "ban nhap": "draft",
                 "approved": "approved", "da duyet": "approved", "duyet": "approved",
                 "retired": "retired", "ngung dung": "retired", "da loai": "retired"}
PURPOSE_NAMES = {"meaning": "hiểu ý nghĩa", "application": "vận dụng", "distinguish": "phân biệt",
                 "target": "chỉ tiêu", "recall": "ghi nhớ"}
PURPOSE_VALUES = {"": "", **{p: p for p in PURPOSE_NAMES},
                  **{_n: p for p, _n in (("meaning", "hieu y nghia"), ("application", "van dung"),
                                          ("distinguish", "phan biet"), ("target", "chi tieu"),
                                          ("recall", "ghi nho"))}}
DIFFICULTY_VALUES = {"": 1, "1": 1, "de": 1, "2": 2, "trung binh": 2, "3": 3, "kho": 3}
TRUE_FALSE_VALUES = {"dung": True, "d": True, "true": True, "t": True,
                     "sai": False, "s": False, "false": False, "f": False}


def _norm(value: str) -> str:
    """Folded, single-spaced, no spaces around '/': "Đúng / Sai" → "dung/sai"."""
    return re.sub(r"\s*/\s*", "/", " ".join(fold(value).split()))


def _label(field: str) -> str:
    return f"Phương án {field[7:]}" if field.startswith("option:") else HEADERS[field]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return nfc(str(value).strip())


def _first_sheet_problems(archive_path: str | None, content: bytes) -> tuple[int, list, set]:
    """From the first sheet's XML: the largest row number, the merged ranges
    ((first row, first column, last row, last column, "B2:B5")), and the cells holding a
    formula without a saved value ((row, column), 1-based). openpyxl's read-only mode
    says neither (merged cells read as empty, such formulas as None)."""
    if archive_path is None:
        return 0, [], set()
    with zipfile.ZipFile(BytesIO(content)) as archive:
        xml = archive.read(archive_path.lstrip("/"))
    last_row = max((int(n) for n in _ROW_NUMBER.findall(xml)), default=0)
    merges = []
    for ref in _MERGE.findall(xml):
        first, _, last = ref.decode("ascii", "replace").partition(":")
        try:
            top_col, top_row = coordinate_to_tuple_safe(first)
            end_col, end_row = coordinate_to_tuple_safe(last or first)
        except ValueError:
            continue
        merges.append((top_row, top_col, end_row, end_col, ref.decode("ascii", "replace")))
    empty_formulas = set()
    if _FORMULA.search(xml):
        for attrs, body in _CELL.findall(xml):
            ref = _REF.search(attrs)
            if ref and _FORMULA.search(body) and not _VALUE.search(body):
                try:
                    column, row = coordinate_to_tuple_safe(ref.group(1).decode("ascii"))
                except ValueError:
                    continue
                empty_formulas.add((row, column))
    return last_row, merges, empty_formulas


def coordinate_to_tuple_safe(ref: str) -> tuple[int, int]:
    """"B5" → (2, 5): column then row; ValueError for anything else."""
    match = re.fullmatch(r"([A-Z]{1,3})(\d{1,7})", ref.strip().upper())
    if not match:
        raise ValueError(ref)
    return column_index_from_string(match.group(1)), int(match.group(2))


def too_many_rows(row: int) -> Message:
    return Message(at_row(row), "more than %(limit)d rows; split the file", limit=MAX_ROWS)


@dataclass
class _Sheet:
    rows: list[tuple]
    merges: list[tuple]
    empty_formulas: set


def _read_rows(content: bytes, result: ParseResult) -> _Sheet | None:
    """The first sheet's rows (values, at most MAX_COLUMNS wide), with what openpyxl does
    not say (see _first_sheet_problems), or None after one error. The workbook's cost is
    measured before openpyxl reads anything (services.workbook_limits), then the sheet is
    streamed (read-only mode), never past MAX_ROWS + 10 rows."""
    try:
        size = workbook_limits.measure(content, MAX_ZIP_MEMBERS, MAX_UNPACKED_BYTES)
    except workbook_limits.NotAWorkbook:
        result.errors.append(Message(at_row(1), "not an Excel workbook (.xlsx); save the file as "
                                     "'Excel Workbook (*.xlsx)'"))
        return None
    if size.too_large(MAX_ZIP_MEMBERS, MAX_UNPACKED_BYTES):
        result.errors.append(Message(at_row(1), "the workbook unpacks to more than %(size)d MiB (or has "
                                     "more than %(parts)d parts); keep only the question sheet",
                                     size=MAX_UNPACKED_BYTES // 1024 // 1024, parts=MAX_ZIP_MEMBERS))
        return None
    if size.rows > MAX_ROWS + 10:
        result.errors.append(too_many_rows(MAX_ROWS + 11))
        return None
    if size.cells > MAX_CELLS or size.shared_strings > MAX_CELLS:
        result.errors.append(Message(at_row(1), "more than %(limit)d cells; keep only the question sheet "
                                     "and its columns", limit=MAX_CELLS))
        return None
    try:
        with warnings.catch_warnings():
            # openpyxl warns about workbook features it drops (extensions, styles).
            warnings.simplefilter("ignore")
            workbook = load_workbook(BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # an uploaded file: any damage is the file's, reported, not raised
        result.errors.append(Message(at_row(1), "cannot read the workbook (%(reason)s)",
                                     reason=type(exc).__name__))
        return None
    rows: list[tuple] = []
    try:
        if not workbook.worksheets:
            result.errors.append(Message(at_row(1), "the workbook has no sheet"))
            return None
        sheet = workbook.worksheets[0]
        # openpyxl's read-only sheet knows the path of its XML in the zip.
        last_row, merges, empty_formulas = _first_sheet_problems(
            getattr(sheet, "_worksheet_path", None), content)
        if last_row > MAX_ROWS + 10:
            result.errors.append(too_many_rows(last_row))
            return None
        for row in sheet.iter_rows(max_row=MAX_ROWS + 10, max_col=MAX_COLUMNS, values_only=True):
            rows.append(tuple(row))
    except (SyntaxError, ValueError, KeyError, TypeError, IndexError, EOFError, *workbook_limits.ZIP_ERRORS):
        # Broken XML part-way through the sheet (xml.etree's ParseError is a SyntaxError).
        result.errors.append(Message(at_row(len(rows) + 1), "the sheet is damaged here; open it in "
                                     "Excel and save it again"))
        return None
    finally:
        workbook.close()
    return _Sheet(rows, merges, empty_formulas)


def _columns(header: tuple, number: int, errors: list[Message]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, value in enumerate(header):
        name = _norm(_cell_text(value))
        option = OPTION_HEADER_RE.match(name)
        field = f"option:{option.group(1).upper()}" if option else ALIASES.get(name)
        if field is None:
            continue  # organizers' own columns (notes, …) are ignored
        if field in columns:
            errors.append(Message(at_row(number), "column '%(column)s' appears twice",
                                  column=_cell_text(value)))
        columns[field] = index
    return columns


def _letters(answer: str) -> list[str] | None:
    tokens = [t for t in re.split(r"[\s,;]+", answer.upper()) if t]
    if len(tokens) == 1 and re.fullmatch(r"[A-Z]+", tokens[0]):
        tokens = list(tokens[0])
    if not tokens or not all(re.fullmatch(r"[A-Z]", t) for t in tokens):
        return None
    return list(dict.fromkeys(tokens))


CREDIT_RE = re.compile(r"^([A-Za-z])\s*[:=]\s*(-?\d+(?:[.,]\d+)?)\s*%?$")


def _read_credit(text: str, kind: str, options: list[tuple[str, str]], choices: list[ChoiceData],
                 fault) -> None:
    """Partial credit "A:25; B:50; D:100" (percent per option letter; unnamed options
    earn 0): sets each choice's fraction, and `correct` from it."""
    letters = [letter for letter, _ in options]
    fractions: dict[str, float] = {}
    for part in (p.strip() for p in re.split(r"[;\n]+", text) if p.strip()):
        match = CREDIT_RE.match(part)
        fraction = credit_to_fraction(match.group(2)) if match else None
        if fraction is None or match.group(1).upper() not in letters:
            fault("'%(part)s' in 'Điểm từng phương án' is not an option letter and a percent between "
                  "-100 and 100 (e.g. A:50; B:100)", part=part)
            return
        fractions[match.group(1).upper()] = fraction
    for letter, choice in zip(letters, choices):
        choice.fraction = fractions.get(letter, 0.0)
        choice.correct = grading.is_correct_choice(kind, choice.fraction, choice.correct)


def _read_row(cells: dict[str, str], options: list[tuple[str, str]], where: str,
              default_section: str | None, errors: Errors) -> QuestionData | None:
    before = len(errors)

    def fault(template: str, **params) -> None:
        errors.append(Message(where, template, **params))

    prompt, answer = cells.get("prompt", ""), cells.get("answer", "")
    options = [(letter, text) for letter, text in options if text]
    texts = [text for _, text in options]
    true_false = TRUE_FALSE_VALUES.get(_norm(answer))
    kind_text = cells.get("kind", "")
    kind = KIND_VALUES.get(_norm(kind_text))
    if kind_text and kind is None:
        fault("Loại '%(value)s' must be một lựa chọn, nhiều lựa chọn or đúng/sai", value=kind_text)
    elif not kind_text:
        letters = _letters(answer)
        if true_false is not None and (not options or texts == list(TRUE_FALSE_TEXTS)):
            kind = "truefalse"
        else:
            kind = "multiple" if letters and len(letters) > 1 else "single"

    choices: list[ChoiceData] = []
    if kind == "truefalse":
        if options and texts != list(TRUE_FALSE_TEXTS):
            fault("a true/false question has no options (its answer is Đúng or Sai)")
        if true_false is None:
            fault("the answer of a true/false question is Đúng or Sai, not '%(answer)s'", answer=answer)
        else:
            choices = [ChoiceData(TRUE_FALSE_TEXTS[0], true_false),
                       ChoiceData(TRUE_FALSE_TEXTS[1], not true_false)]
    elif kind is not None:
        letters = _letters(answer)
        present = [letter for letter, _ in options]
        if not answer:
            fault("no right answer: write its letter in 'Đáp án đúng'")
        elif letters is None:
            fault("'%(answer)s' in 'Đáp án đúng' is not option letters (e.g. A or A,C)", answer=answer)
        else:
            for letter in letters:
                if letter not in present:
                    if present:
                        fault("the right answer %(letter)s is not among the options (%(letters)s)",
                              letter=letter, letters=", ".join(present))
                    else:
                        fault("the right answer %(letter)s is not among the options (none)", letter=letter)
            choices = [ChoiceData(text, letter in letters) for letter, text in options]
            if cells.get("credit") and choices:
                _read_credit(cells["credit"], kind, options, choices, fault)

    difficulty = DIFFICULTY_VALUES.get(_norm(cells.get("difficulty", "")))
    if difficulty is None:
        fault("Độ khó '%(value)s' must be 1, 2 or 3", value=cells["difficulty"])
    status = STATUS_VALUES.get(_norm(cells.get("status", "")))
    if status is None:
        fault("Trạng thái '%(value)s' must be nháp, đã duyệt or ngừng dùng", value=cells["status"])
    purpose = PURPOSE_VALUES.get(_norm(cells.get("purpose", "")))
    if purpose is None:
        fault("Mục đích '%(value)s' must be one of %(purposes)s", value=cells["purpose"],
              purposes=", ".join(PURPOSE_NAMES.values()))
    key_text = cells.get("key", "")
    key = slugify(key_text) if key_text else hash_key("xlsx", prompt)
    if key_text and not key:
        fault("key '%(key)s' has no letters or digits", key=key_text)
    if len(errors) > before:
        return None
    return QuestionData(
        key=key, section=cells.get("section") or default_section or "", kind=str(kind),
        difficulty=difficulty or 1, status=status or "draft", prompt=prompt,
        explanation=cells.get("explanation", ""), choices=choices,
        covers=[c for c in re.split(r"[\s,;]+", cells.get("covers", "")) if c], origin=where,
        purpose=purpose or "", excludes=[c for c in re.split(r"[\s,;]+", cells.get("excludes", "")) if c],
        stated=frozenset(name for name in ("difficulty", "status", "covers", "purpose", "excludes")
                         if str(cells.get(name, "")).strip()))


def parse(content: bytes, filename: str = "", default_section: str | None = None, *,
          section_keys: set[str] | None = None) -> ParseResult:
    """Read the first sheet of an .xlsx workbook (see the module docstring)."""
    result = ParseResult()
    if not check_size(content, result, unit="row"):
        return result
    sheet = _read_rows(content, result)
    if sheet is None:
        return result
    rows = sheet.rows
    header_at = next((i for i, row in enumerate(rows[:10])
                      if "prompt" in _columns(row, i + 1, [])), 0)
    columns = _columns(rows[header_at], header_at + 1, result.errors) if rows else {}
    missing = [_label(f) for f in REQUIRED if f not in columns]
    if missing:
        result.errors.append(Message(at_row(header_at + 1), "missing column(s): %(columns)s",
                                     columns=", ".join(missing)))
        return result
    option_columns = sorted((f[7:], i) for f, i in columns.items() if f.startswith("option:"))
    if len(option_columns) > MAX_ANSWERS:
        result.errors.append(Message(at_row(header_at + 1), "%(count)d option columns, more than "
                                     "%(limit)d", count=len(option_columns), limit=MAX_ANSWERS))
    _check_cells(sheet, header_at + 1, {i + 1 for i in columns.values()}, result)
    if result.errors:
        return result
    items: list[tuple[QuestionData, str]] = []
    derived: set[str] = set()
    for index in range(header_at + 1, len(rows)):
        row = rows[index]
        texts = [_cell_text(v) for v in row]
        if not any(texts):
            continue

        def cell(column: int) -> str:
            return texts[column] if column < len(texts) else ""

        cells = {f: cell(i) for f, i in columns.items() if not f.startswith("option:")}
        options = [(letter, cell(i)) for letter, i in option_columns]
        where = f"row {index + 1}"
        question = _read_row(cells, options, where, default_section, result.errors)
        if question is not None:
            items.append((question, where))
            if not cells.get("key"):
                derived.add(where)
    collect(result, items, section_keys, derived=derived)
    return result


def _check_cells(sheet: _Sheet, header_row: int, read_columns: set[int], result: ParseResult) -> None:
    """Name, by cell, the merged ranges and the formulas without a saved value below the
    header in the columns read: a merged cell reads as empty (a merged section would
    silently fall back to the default section), such a formula as an empty cell."""
    for top_row, top_col, end_row, end_col, ref in sorted(sheet.merges):
        if end_row > header_row and any(top_col <= c <= end_col for c in read_columns):
            result.errors.append(Message(at_row(max(top_row, header_row + 1)), "cells %(cells)s are "
                                         "merged: unmerge them and fill every cell", cells=ref))
    for row, column in sorted(sheet.empty_formulas):
        if row > header_row and column in read_columns:
            result.errors.append(Message(at_row(row), "cell %(cell)s holds a formula without a saved "
                                         "value: open the file in Excel and save it, or paste the "
                                         "values", cell=get_column_letter(column) + str(row)))


# ---------------------------------------------------------------- writing

def can_dump(question: QuestionData) -> bool:
    return True


def _put(sheet, row: int, column: int, value) -> None:
    set_xlsx_cell(sheet.cell(row=row, column=column), value)  # text, never a formula


def _sheet(workbook: Workbook, option_count: int) -> tuple:
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    fields = (["key", "section", "kind", "difficulty", "status", "prompt"]
              + [f"option:{chr(ord('A') + i)}" for i in range(option_count)]
              + ["answer", "explanation", "covers", "purpose", "excludes", "credit"])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for column, field in enumerate(fields, 1):
        cell = sheet.cell(row=1, column=column, value=_label(field))
        cell.font, cell.fill = bold, fill
        width = {"prompt": 60, "explanation": 50, "key": 22, "section": 18}.get(
            field, 28 if field.startswith("option:") else 14)
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    for field, values in (("kind", KIND_NAMES.values()), ("difficulty", ("1", "2", "3")),
                          ("status", STATUS_NAMES.values()), ("purpose", PURPOSE_NAMES.values())):
        column = get_column_letter(fields.index(field) + 1)
        check = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
        check.add(f"{column}2:{column}{MAX_ROWS + 1}")
        sheet.add_data_validation(check)
    return sheet, fields


def _row_values(question: QuestionData, option_count: int) -> list:
    if question.kind == "truefalse":
        right = next((c.correct for c in question.choices if c.text == TRUE_FALSE_TEXTS[0]), True)
        options, answer = [""] * option_count, TRUE_FALSE_TEXTS[0 if right else 1]
    else:
        options = [c.text for c in question.choices] + [""] * (option_count - len(question.choices))
        answer = ",".join(chr(ord("A") + i) for i, c in enumerate(question.choices) if c.correct)
    credit = "; ".join(f"{chr(ord('A') + i)}:{fraction_to_credit(c.fraction)}"
                       for i, c in enumerate(question.choices) if c.fraction)
    return [question.key, question.section, KIND_NAMES.get(question.kind, question.kind),
            question.difficulty, STATUS_NAMES.get(question.status, question.status),
            question.prompt, *options, answer, question.explanation, ",".join(question.covers),
            PURPOSE_NAMES.get(question.purpose, question.purpose), ",".join(question.excludes), credit]


def _write(questions: list[QuestionData]) -> Workbook:
    option_count = max([MIN_OPTIONS] + [len(q.choices) for q in questions if q.kind != "truefalse"])
    workbook = Workbook()
    sheet, _fields = _sheet(workbook, option_count)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, question in enumerate(questions, 2):
        for column, value in enumerate(_row_values(question, option_count), 1):
            _put(sheet, row, column, value)
            sheet.cell(row=row, column=column).alignment = wrap
    return workbook


def _bytes(workbook: Workbook) -> bytes:
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def dump(questions: list[QuestionData]) -> bytes:
    """The questions as an .xlsx workbook that parse reads back unchanged."""
    return _bytes(_write(questions))


GUIDE = [
    ("Cột", "Cách điền"),
    ("Mã câu hỏi", "Chữ thường không dấu, số và dấu '-', không trùng (vd. vp1-khau-hieu). "
                   "Để trống: hệ thống tự đặt mã. Giữ nguyên mã để sửa một câu hỏi đã có."),
    ("Mục", "Mã mục trong đề cương (vd. viewpoint-1). Để trống: dùng mục chọn khi nhập."),
    ("Loại", "một lựa chọn | nhiều lựa chọn | đúng/sai"),
    ("Độ khó", "1 (dễ), 2 (trung bình), 3 (khó). Để trống: 1."),
    ("Trạng thái", "nháp | đã duyệt | ngừng dùng. Để trống: nháp. Câu đã duyệt phải có giải thích."),
    ("Câu hỏi", "Nội dung câu hỏi."),
    ("Phương án A … F", "Các phương án trả lời (ít nhất 2, không trùng nhau). "
                        "Câu đúng/sai: để trống."),
    ("Đáp án đúng", "Chữ cái của phương án đúng: A; nhiều đáp án: A,C. Câu đúng/sai: Đúng hoặc Sai."),
    ("Giải thích", "Trích dẫn đề cương làm căn cứ cho đáp án."),
    ("Ý đề cương", "Không bắt buộc: mã các ý trong đề cương mà câu hỏi kiểm tra, cách nhau bởi dấu phẩy."),
    ("", "Mỗi dòng là một câu hỏi. Không đổi tên các cột ở dòng 1. Có lỗi ở bất kỳ dòng nào "
         "thì không câu nào được nhập. Hãy xoá dòng ví dụ trước khi nhập."),
]


def template() -> bytes:
    """A workbook with the headers, one example row and a guide sheet (Hướng dẫn)."""
    example = QuestionData(
        key="vi-du-1", section="", kind="single", difficulty=1, status="draft",
        prompt="Đại hội đưa ra bao nhiêu quan điểm cho nhiệm kỳ 2025 – 2030?",
        explanation="Văn bản ghi: «Đại hội đưa ra 5 quan điểm».",
        choices=[ChoiceData("3 quan điểm", False), ChoiceData("5 quan điểm", True),
                 ChoiceData("6 quan điểm", False)],
        covers=[], origin="template")
    workbook = _write([example])
    guide = workbook.create_sheet("Hướng dẫn")
    for row in GUIDE:
        append_xlsx_row(guide, row)
    guide["A1"].font = guide["B1"].font = Font(bold=True)
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 100
    return _bytes(workbook)
