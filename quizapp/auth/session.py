"""Flask-Login wiring. The cookie carries "user_id.session_version": bumping the version
(password change, deactivation) ends every other session of that user. And the gate
that keeps a user whose password was reset on the change-password page."""
from __future__ import annotations

from flask import has_request_context, redirect, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from sqlalchemy.orm import joinedload

from ..errors import render_error, wants_json
from ..extensions import db
from ..models import User


def parse_token(token: object) -> tuple[int, int] | None:
    """(user_id, session_version) from the "user_id.session_version" id, or None."""
    if not isinstance(token, str):
        return None
    try:
        user_id, version = (int(part) for part in token.split("."))
    except ValueError:
        return None
    return user_id, version


def session_identity() -> tuple[int, int] | None:
    """Who the session cookie says is logged in, without loading the user: for a hot
    endpoint that checks the user in its own query (api.save_answer). None when the
    session has no user (then Flask-Login's remember cookie may still log one in)."""
    from flask import session
    return parse_token(session.get("_user_id"))


# In the session while the logged-in user must replace a password someone else gave
# (users.must_change_password): the gate below reads it without loading the user.
MUST_CHANGE = "must_change_password"


def load_user(token: str) -> User | None:
    identity = parse_token(token)
    if identity is None:
        return None
    user_id, version = identity
    # The unit comes along: every page's header shows it (a second query otherwise).
    user = db.session.get(User, user_id, options=[joinedload(User.unit)])
    if user is None or user.session_version != version or not user.active:
        return None
    if user.must_change_password and has_request_context():
        # Also when the login came from the remember-me cookie, not the form.
        session[MUST_CHANGE] = True
    return user


# What a user who must change the password may still reach.
OPEN_WHILE_CHANGING = {"auth.change_password", "auth.logout", "static", "readyz", "main.healthz"}


def password_change_first():
    """Before every request: while a given password is pending replacement, pages send
    the browser to the change-password page and JSON endpoints answer 403. Costs nothing
    (a session key) for everybody else, the autosave's fast path included."""
    if not session.get(MUST_CHANGE) or request.endpoint in OPEN_WHILE_CHANGING:
        return None
    if not current_user.is_authenticated or not current_user.must_change_password:
        session.pop(MUST_CHANGE, None)
        return None
    if wants_json():
        return render_error(403, gettext("Choose a new password first: your password was reset."))
    return redirect(url_for("auth.change_password"))


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
