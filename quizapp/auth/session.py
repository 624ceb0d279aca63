"""Flask-Login wiring. The cookie carries "user_id.session_version": bumping the version
(password change, deactivation) ends every other session of that user."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import LoginManager

from ..extensions import db
from ..models import User


def load_user(token: str) -> User | None:
    try:
        user_id, version = (int(part) for part in token.split("."))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def configure_login(manager: LoginManager) -> None:
    manager.user_loader(load_user)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please log in to continue.")
    manager.login_message_category = "info"
    manager.session_protection = "basic"
