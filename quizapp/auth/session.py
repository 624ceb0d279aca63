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


def unauthorized():
    """JSON endpoints answer 401; pages send the browser to the login form."""
    from flask import jsonify, redirect, request, url_for
    from flask_babel import gettext as _
    if request.path.startswith("/api/"):
        return jsonify(error=_("Please log in to continue.")), 401
    from flask import flash
    flash(_("Please log in to continue."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))


def configure_login(manager: LoginManager) -> None:
    manager.user_loader(load_user)
    manager.unauthorized_handler(unauthorized)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please log in to continue.")
    manager.login_message_category = "info"
    manager.session_protection = "basic"
