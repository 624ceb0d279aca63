"""Accounts: creating, authenticating, changing passwords."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from ...clock import utcnow
from ...extensions import db
from ...models import ROLES, Unit, User
from ...models.org import ROSTER_ROLES
from ..errors import DomainError

USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,80}$")
# A dummy hash so that a login for an unknown account costs the same as a wrong password.
_DUMMY = User(username="-", full_name="-", unit_id=0)
_DUMMY.set_password("not-a-real-password")
MIN_PASSWORD = 8


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s.\-()]", "", value or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    return digits


def create_user(username: str, full_name: str, unit: Unit, role: str = "member",
                password: str | None = None, phone: str | None = None) -> User:
    """Add an account. Raises DomainError on a bad or taken username/phone, unknown
    role or too-short password."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise DomainError(_("A username has 3–80 characters: letters a–z, digits, '.', '_' or '-'."))
    if role not in ROLES:
        raise DomainError(_("Unknown role: %(role)s", role=role))
    phone = normalize_phone(phone) if phone else None
    if phone and not re.fullmatch(r"0\d{9,10}", phone):
        raise DomainError(_("A phone number has 10 or 11 digits and starts with 0."))
    taken = db.session.execute(select(User.id).where(or_(
        User.username == username, User.phone == phone if phone else False))).first()
    if taken:
        raise DomainError(_("That username or phone number is already in use."))
    user = User(username=username, full_name=full_name.strip(), unit_id=unit.id, role=role,
                phone=phone, active=True, session_version=1)
    if password is not None:
        check_password_strength(password)
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    refresh_rosters([unit.id])
    return user


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(_("A password has at least %(n)d characters.", n=MIN_PASSWORD))


def find_by_login(login: str) -> User | None:
    login = (login or "").strip()
    if not login:
        return None
    phone = normalize_phone(login)
    return db.session.execute(select(User).where(or_(
        User.username == login.lower(), User.phone == phone))).scalars().first()


def authenticate(login: str, password: str) -> User | None:
    """The user if `login` (username or phone) and `password` match an active account.
    Always does one password hash check, so timing does not tell which part was wrong."""
    user = find_by_login(login)
    if user is None or not user.password_hash:
        _DUMMY.check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password and end every other session of this user."""
    if not user.check_password(current):
        raise DomainError(_("The current password is not correct."))
    check_password_strength(new)
    user.set_password(new)
    user.must_change_password = False
    user.session_version += 1
    db.session.flush()


def replace_given_password(user: User, new: str) -> None:
    """The first change after a reset: the member typed the given password to log in a
    moment ago, so it is not asked again; the new one must differ from it. Ends every
    other session. Raises DomainError when no change is pending or the password is weak."""
    if not user.must_change_password:
        raise DomainError(_("The current password is not correct."))
    check_password_strength(new)
    if user.check_password(new):
        raise DomainError(_("Choose a password different from the one you were given."))
    user.set_password(new)
    user.must_change_password = False
    user.session_version += 1
    db.session.flush()


QUIZ_LAYOUTS = ("one", "long")


def set_quiz_layout(user: User, layout: str) -> None:
    """The member's own choice of quiz layout, kept for his next quizzes: "one" question
    per screen or the "long" page."""
    if layout not in QUIZ_LAYOUTS:
        raise DomainError(_("Unknown quiz layout."))
    user.quiz_layout = layout


def login_limit_key(login: str) -> str:
    """What the per-account login limit counts: the account that `login` (username or
    phone, in any spelling) names, or the normalized text when it names none (so the
    answer does not tell whether an account exists)."""
    user = find_by_login(login)
    if user is not None:
        return f"account:{user.id}"
    text = (login or "").strip().lower()[:80]
    phone = normalize_phone(text)
    return "login:" + (phone if re.fullmatch(r"\+?\d{6,15}", phone) else text)


def set_password(user: User, new: str) -> None:
    check_password_strength(new)
    user.set_password(new)
    user.session_version += 1
    db.session.flush()


def find_unit(code_or_id: str) -> Unit | None:
    if code_or_id.isdigit():
        unit = db.session.get(Unit, int(code_or_id))
        if unit:
            return unit
    return db.session.execute(select(Unit).where(Unit.code == code_or_id)).scalar_one_or_none()


def create_unit(code: str, name: str, parent: Unit | None = None, kind: str = "branch",
                position: int = 0) -> Unit:
    path = (parent.path if parent else "/") + code + "/"
    unit = Unit(code=code, name=name, parent_id=parent.id if parent else None, kind=kind,
                path=path, position=position)
    db.session.add(unit)
    db.session.flush()
    return unit


def refresh_rosters(unit_ids: list[int]) -> None:
    """Recount the active roster of these units (after any roster change). The unit rows
    are locked first, so two concurrent roster changes cannot both count before either
    commits and leave the count one off."""
    if not unit_ids:
        return
    db.session.execute(select(Unit.id).where(Unit.id.in_(unit_ids)).order_by(Unit.id).with_for_update())
    counts = dict(db.session.execute(select(User.unit_id, func.count()).where(
        User.unit_id.in_(unit_ids), User.active.is_(True), User.exempt.is_(False),
        User.role.in_(ROSTER_ROLES)).group_by(User.unit_id)).all())
    for unit_id in unit_ids:
        db.session.execute(update(Unit).where(Unit.id == unit_id)
                           .values(active_roster=counts.get(unit_id, 0))
                           .execution_options(synchronize_session=False))
    db.session.flush()
