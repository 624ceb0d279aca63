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


def owns_attempt(user: User, attempt) -> bool:
    return attempt.user_id == user.id
