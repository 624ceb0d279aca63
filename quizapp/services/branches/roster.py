"""Branch rosters: adding, deactivating, exempting members, resetting passwords, and
importing a roster from .xlsx (all rows checked first; all or nothing)."""
from __future__ import annotations

import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass, field

from flask_babel import gettext
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from ...clock import utcnow
from ...extensions import db
from ...models import Unit, User
from ...policy import can_reset_password, can_view_unit
from .. import workbook_limits
from ..errors import DomainError, Forbidden, NotFound
from ..people import audit
from ..people.names import sort_key
from ..people.users import create_user, normalize_phone, refresh_rosters, set_password
from ..spreadsheet_safety import append_xlsx_row
from . import counters

IMPORT_HEADERS = ["Họ và tên", "Số điện thoại", "Chi bộ", "Năm sinh"]
# Bounds on what one upload may cost a worker, whatever the file holds:
MAX_IMPORT_ROWS = 5000          # rows of any kind (blank ones too) after the header
MAX_LISTED_ERRORS = 100         # error messages kept; the rest are only counted
# Checked before openpyxl parses anything (it reads every sheet once when it opens a
# workbook, and spends tens of microseconds on each cell, wherever the cell is):
# the unpacked size (the sum of the zip members' sizes; a 5,000-member roster is about
# 1.4 MB, and a few kilobytes of zip can declare gigabytes), then the number of cells
# in all worksheets and of shared strings (a 5,000-member roster has 20,000 cells).
MAX_UNPACKED_BYTES = 3 * 1024 * 1024
MAX_ZIP_MEMBERS = 200
MAX_CELLS = 30_000


def subtree_units(root: Unit) -> list[Unit]:
    return list(db.session.execute(select(Unit).where(Unit.path.startswith(root.path, autoescape=True))
                                   .order_by(Unit.position, Unit.id)).scalars())


def get_unit_in_scope(actor: User, unit_id: int) -> Unit:
    """The unit if the actor may manage it (organizers: any; secretaries: their
    subtree); NotFound otherwise, so ids outside the scope are not confirmed."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or not actor.has_role("secretary") or not can_view_unit(actor, unit):
        raise NotFound(_("Unit not found."))
    return unit


def get_member_in_scope(actor: User, user_id: int) -> User:
    member = db.session.get(User, user_id)
    if member is None:
        raise NotFound(_("Member not found."))
    get_unit_in_scope(actor, member.unit_id)
    if member.role not in ("member", "secretary") and not actor.has_role("admin"):
        raise NotFound(_("Member not found."))
    return member


def _username_from(full_name: str) -> str:
    base = unicodedata.normalize("NFD", full_name.lower().replace("đ", "d"))
    base = "".join(ch for ch in base if unicodedata.category(ch) != "Mn")
    parts = re.findall(r"[a-z0-9]+", base)
    stem = (parts[-1] + "".join(p[0] for p in parts[:-1])) if parts else "dv"
    stem = stem[:20] or "dv"
    candidate = stem
    n = 1
    while db.session.execute(select(User.id).where(User.username == candidate)).first():
        n += 1
        candidate = f"{stem}{n}"
    return candidate


def add_member(actor: User, unit: Unit, full_name: str, phone: str | None = None,
               birth_year: int | None = None, username: str | None = None) -> User:
    """Add a member to a branch roster (no password: they get one from the secretary)."""
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise DomainError(_("A full name is required."))
    check_birth_year(birth_year)
    user = create_user(username or _username_from(full_name), full_name, unit, role="member",
                       phone=phone or None)
    user.birth_year = birth_year
    refresh_rosters([unit.id])
    audit.log(actor, "roster.add", f"user:{user.id}", {"unit": unit.code, "name": full_name})
    return user


def check_birth_year(year: int | None) -> None:
    if year is not None and not 1900 <= year <= utcnow().year - 16:
        raise DomainError(_("The birth year must be between 1900 and %(max)d.", max=utcnow().year - 16))


def set_active(actor: User, member: User, active: bool) -> None:
    """Deactivate (leaves the roster and the denominator, cannot log in) or reactivate."""
    if member.id == actor.id:
        raise DomainError(_("You cannot deactivate your own account."))
    if member.active == active:
        return
    counted_before = member.counts_in_movement
    member.active = active
    member.session_version += 1  # a deactivated member's sessions end at once
    counters.member_changed(member, counted_before)
    audit.log(actor, "roster.activate" if active else "roster.deactivate", f"user:{member.id}")


def set_exempt(actor: User, member: User, exempt: bool, reason: str = "") -> None:
    if member.exempt == exempt:
        return
    counted_before = member.counts_in_movement
    member.exempt = exempt
    counters.member_changed(member, counted_before)
    audit.log(actor, "roster.exempt" if exempt else "roster.unexempt", f"user:{member.id}", reason=reason)


def set_large_text(actor: User, member: User, on: bool) -> None:
    """Large-text mode for `member`, set by himself or by a secretary whose scope holds
    him (the caller checks the scope, as for the other roster actions). Logged."""
    if member.large_text == on:
        return
    member.large_text = on
    audit.log(actor, "user.large_text" if on else "user.normal_text", f"user:{member.id}")


def reset_password(actor: User, member: User) -> str:
    """Give the member a new random password, shown once to the actor, that the member
    must change at the next login (the actor has seen it). Every other session of the
    member ends. Logged in the audit log (never the password). Raises Forbidden when
    the actor may not reset this account (policy.can_reset_password)."""
    if not can_reset_password(actor, member):
        raise Forbidden(_("You cannot reset the password of this account."))
    password = "-".join(secrets.token_hex(2) for _ in range(3))
    set_password(member, password)
    member.must_change_password = True
    audit.log(actor, "roster.reset_password", f"user:{member.id}",
              {"role": member.role, "unit": member.unit.code, "by_role": actor.role})
    return password


def roster(unit: Unit) -> list[User]:
    members = db.session.execute(select(User).where(
        User.unit_id == unit.id, User.role.in_(("member", "secretary")))).scalars().all()
    return sorted(members, key=lambda u: sort_key(u.full_name))


# ---------------------------------------------------------------- import

def import_template() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách đảng viên"
    append_xlsx_row(sheet, IMPORT_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    append_xlsx_row(sheet, ["Nguyễn Văn An", "0912345678", "cb-01", 1980])
    for column, width in zip("ABCD", (30, 16, 14, 10)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class ImportRow:
    row: int
    full_name: str
    phone: str | None
    unit: Unit | None
    birth_year: int | None


@dataclass
class ImportPreview:
    rows: list[ImportRow] = field(default_factory=list)
    # The first MAX_LISTED_ERRORS messages; error_count counts them all.
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    last_row: int = 0   # the last sheet row read (Excel numbering)

    @property
    def ok(self) -> bool:
        return not self.error_count and bool(self.rows)

    @property
    def more_errors(self) -> int:
        return self.error_count - len(self.errors)

    def add_error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(message)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def workbook_cost_error(content: bytes) -> str | None:
    """Why the workbook is refused before parsing, or None: not a zip, too many members,
    more than MAX_UNPACKED_BYTES once unpacked, more than MAX_IMPORT_ROWS rows after the
    header, or more than MAX_CELLS cells (or shared strings); see
    services.workbook_limits for how they are measured."""
    too_large = _("The workbook is too large (more than %(mb)d MB unpacked or %(cells)d cells): "
                  "keep only the member list, at most %(n)d rows, and save it again.",
                  mb=MAX_UNPACKED_BYTES // (1024 * 1024), cells=MAX_CELLS, n=MAX_IMPORT_ROWS)
    try:
        size = workbook_limits.measure(content, MAX_ZIP_MEMBERS, MAX_UNPACKED_BYTES)
    except workbook_limits.NotAWorkbook:
        return _("The file is not an Excel workbook (.xlsx).")
    if size.too_large(MAX_ZIP_MEMBERS, MAX_UNPACKED_BYTES):
        return too_large
    if size.rows > MAX_IMPORT_ROWS + 1:   # the header, then rows of any kind
        return _("More than %(n)d rows: split the file.", n=MAX_IMPORT_ROWS)
    if size.cells > MAX_CELLS or size.shared_strings > MAX_CELLS:
        return too_large
    return None


def parse_import(content: bytes, scope: Unit | None = None) -> ImportPreview:
    """Check the rows of a roster workbook; nothing is written. Errors name the row (as
    numbered in Excel). Bounded whatever the file: its size and cell count are checked first,
    reading stops after MAX_IMPORT_ROWS rows of any kind, only the first
    MAX_LISTED_ERRORS messages are kept (the others are counted), and broken sheet XML
    is a sheet error."""
    preview = ImportPreview()
    refused = workbook_cost_error(content)
    if refused:
        preview.add_error(refused)
        return preview
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a file that is not .xlsx
        preview.add_error(_("The file is not an Excel workbook (.xlsx)."))
        return preview
    try:
        # Four columns whatever the sheet claims (a claimed width of 16,384 columns
        # would otherwise pad every row).
        rows = workbook.worksheets[0].iter_rows(max_col=len(IMPORT_HEADERS), values_only=True)
        header = [_cell_text(v) for v in next(rows, [])]
        preview.last_row = 1
        _check_rows(preview, header, rows, scope)
    except (SyntaxError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile, EOFError):
        # Broken XML (SyntaxError: xml.etree's ParseError, lxml's XMLSyntaxError) or a
        # broken zip member part-way through the sheet: the rows read so far keep their
        # messages; nothing can be imported.
        preview.rows.clear()
        preview.add_error(_("The sheet is damaged after row %(n)d; open it in Excel and save it "
                            "again.", n=preview.last_row))
    finally:
        workbook.close()
    if not preview.rows and not preview.error_count:
        preview.add_error(_("The file has no member rows."))
    return preview


def _unlisted(message: str, **_values) -> str:
    return message


def _check_rows(preview: ImportPreview, header: list[str], rows, scope: Unit | None) -> None:
    if header[:4] != IMPORT_HEADERS:
        preview.add_error(gettext("Row 1: the columns must be exactly: %(cols)s (found: %(found)s).",
                            cols=", ".join(IMPORT_HEADERS), found=", ".join(h for h in header if h) or "—"))
        return
    units = {u.code: u for u in db.session.execute(select(Unit)).scalars()}
    units_by_name = {u.name.lower(): u for u in units.values()}
    existing_phones = set(db.session.execute(select(User.phone).where(User.phone.is_not(None))).scalars())
    seen_phones: dict[str, int] = {}
    max_year = utcnow().year - 16
    for number, values in enumerate(rows, start=2):
        preview.last_row = number
        if number - 1 > MAX_IMPORT_ROWS:
            preview.rows.clear()
            preview.add_error(gettext("More than %(n)d rows: split the file.", n=MAX_IMPORT_ROWS))
            return
        values = list(values) + [None] * 4
        name, phone_raw, unit_raw, year_raw = (_cell_text(v) for v in values[:4])
        if not any((name, phone_raw, unit_raw, year_raw)):
            continue
        # Past the listed errors a row's problems are only counted: no message is built
        # (translating them was half the cost of a file of bad rows).
        _ = gettext if len(preview.errors) < MAX_LISTED_ERRORS else _unlisted
        row_errors = []
        if not name:
            row_errors.append(_("the full name is empty"))
        phone = normalize_phone(phone_raw) if phone_raw else None
        if phone:
            if not re.fullmatch(r"0\d{9,10}", phone):
                row_errors.append(_("phone '%(p)s' is not a Vietnamese phone number", p=phone_raw[:40]))
            elif phone in existing_phones:
                row_errors.append(_("phone %(p)s already belongs to an account", p=phone))
            elif phone in seen_phones:
                row_errors.append(_("phone %(p)s repeats row %(r)d", p=phone, r=seen_phones[phone]))
            else:
                seen_phones[phone] = number
        unit = units.get(unit_raw) or units_by_name.get(unit_raw.lower())
        if unit is None:
            row_errors.append(_("unknown branch '%(b)s'", b=unit_raw[:80] or "—"))
        elif scope is not None and not unit.path.startswith(scope.path):
            row_errors.append(_("branch '%(b)s' is outside your units", b=unit_raw))
        year = None
        if year_raw:
            if not year_raw.isdigit() or not 1900 <= int(year_raw) <= max_year:
                row_errors.append(_("birth year '%(y)s' is not a year from 1900 to %(max)d",
                                    y=year_raw[:20], max=max_year))
            else:
                year = int(year_raw)
        if row_errors:
            preview.add_error(_("Row %(n)d: %(errors)s", n=number, errors="; ".join(row_errors)))
        else:
            preview.rows.append(ImportRow(number, " ".join(name.split()), phone, unit, year))


def commit_import(actor: User, preview: ImportPreview) -> int:
    """Create every previewed member, or none (raises DomainError if anything is off)."""
    if not preview.ok:
        raise DomainError(_("The file has errors; nothing was imported."))
    for row in preview.rows:
        user = create_user(_username_from(row.full_name), row.full_name, row.unit, role="member",
                           phone=row.phone)
        user.birth_year = row.birth_year
    refresh_rosters(sorted({row.unit.id for row in preview.rows}))
    audit.log(actor, "roster.import", "roster", {"rows": len(preview.rows)})
    db.session.flush()
    return len(preview.rows)


def roster_sizes(unit_ids: list[int]) -> dict[int, int]:
    return dict(db.session.execute(select(Unit.id, Unit.active_roster).where(Unit.id.in_(unit_ids))).all())


def count_members() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0
