"""Organisation: the unit tree and the people in it."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String, Boolean, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..clock import utcnow
from ..extensions import db
from .types import UTCDateTime

ROLES = ("member", "secretary", "organizer", "admin")
# Roles that make up a branch roster (organizers and admins are staff accounts).
ROSTER_ROLES = ("member", "secretary")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
UNIT_KINDS = ("committee", "branch", "sub_branch")


class Unit(db.Model):
    """A node of the Party organisation: the ward committee, a branch, a sub-branch.

    `path` is the chain of codes from the root ("/tay-mo/cb-01/"), so a subtree is
    one indexed prefix query.
    """

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="branch")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Active, non-exempt members and secretaries: the denominator of participation.
    # Recounted by services.roster whenever the unit's roster changes.
    active_roster: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped["Unit | None"] = relationship(remote_side="Unit.id", back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.position")

    def is_within(self, other: "Unit") -> bool:
        return self.path.startswith(other.path)


class User(UserMixin, db.Model):
    """A person. A roster entry may exist before its first login (no password yet)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="member")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Exempt from the emulation movement (illness, work abroad…): out of the denominator.
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    # Bumped on password change or deactivation: cookies carrying the old value die.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Set when someone else gave this account its password (a secretary's reset): the
    # next login must choose a new one before anything else (someone else has seen it).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Large-text mode ("Chữ lớn"): larger type and controls, no sticky bars; set once by
    # the member or his secretary.
    large_text: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The quiz page's layout the member chose: "one" (one question per screen, with a map
    # of the questions) or "long" (every question on one page); None: one per screen in
    # large-text mode, the long page otherwise (User.one_per_screen).
    quiz_layout: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()

    @property
    def one_per_screen(self) -> bool:
        """Whether the quiz shows one question per screen: the member's own choice, else
        what his text size suggests (large text: one per screen)."""
        if self.quiz_layout is None:
            return self.large_text
        return self.quiz_layout == "one"

    # Flask-Login
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    @property
    def counts_in_movement(self) -> bool:
        """Whether this person's results count in the branch's participation figures."""
        return bool(self.active) and not self.exempt and self.role in ROSTER_ROLES

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]
