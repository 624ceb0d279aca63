"""Who may do what: role decorators for views, functions for objects and scope."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .models import Unit, User
from .models.org import ROLE_RANK


def role_required(role: str):
    """View decorator: logged in, with at least `role` (member < secretary < organizer <
    admin). A lower role gets 403."""
    if role not in ROLE_RANK:
        raise ValueError(role)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def can_view_unit(user: User, unit: Unit) -> bool:
    """Organizers and admins see every unit; a secretary sees their unit's subtree;
    a member sees only their own unit."""
    if user.has_role("organizer"):
        return True
    if user.role == "secretary":
        return unit.path.startswith(user.unit.path)
    return unit.id == user.unit_id


def can_reset_password(actor: User, target: User) -> bool:
    """Who may give whom a new password: a secretary, the members (role `member`) of his
    unit's subtree; an organizer, members and secretaries; an admin, anyone. Nobody
    their own account (that is "change password", which asks for the current one), and
    never a peer or a higher role: a secretary cannot take over another secretary."""
    if target.id == actor.id or not actor.has_role("secretary") or not can_view_unit(actor, target.unit):
        return False
    if actor.has_role("admin"):
        return True
    if actor.has_role("organizer"):
        return target.role in ("member", "secretary")
    return target.role == "member"


def owns_attempt(user: User, attempt) -> bool:
    return attempt.user_id == user.id
