"""Log in, log out, change password."""
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter
from ..forms import EmptyForm
from ..services import roster, users
from ..services.errors import DomainError
from . import bp
from .forms import GivenPasswordForm, LoginForm, PasswordForm
from .session import MUST_CHANGE, password_change_first

bp.before_app_request(password_change_first)


def _safe_next(target: str | None) -> str:
    """Only a local path: never a URL with a scheme or host (no open redirect)."""
    if not target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return url_for("main.home")
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _account_key() -> str:
    return users.login_limit_key(request.form.get("login", ""))


# Two limits, both in the shared storage (Redis when REDIS_URL is set): per client
# address, and per account whatever the address (a guesser with many addresses).
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="too many logins")
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], scope="login-account",
               error_message="too many logins")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.login.data, form.password.data)
        if user is None:
            flash(_("Wrong username/phone or password."), "error")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session at login: nothing from before carries over
            if lang:
                session["lang"] = lang
            login_user(user, remember=form.remember.data)
            db.session.commit()
            if user.must_change_password:
                session[MUST_CHANGE] = True
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    from ..services.standings import public_contests
    return render_template("auth/login.html", form=form, public=public_contests())


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        # A cookie copied before logout must not work after it: end every session of
        # this account (its other devices too), then clear this one.
        current_user.session_version += 1
        db.session.commit()
        session.clear()
        logout_user()
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's password; after a reset (must_change_password) the only page open,
    and the given password is not asked again (it was typed to log in)."""
    given = bool(current_user.must_change_password)
    form = GivenPasswordForm() if given else PasswordForm()
    if form.validate_on_submit():
        try:
            if given:
                users.replace_given_password(current_user, form.new.data)
            else:
                users.change_password(current_user, form.current.data, form.new.data)
        except DomainError as exc:
            db.session.rollback()
            (form.new if given else form.current).errors.append(exc.message)
        else:
            db.session.commit()
            session.pop(MUST_CHANGE, None)
            login_user(current_user)  # keep this session; the others end
            flash(_("Password changed. Other devices have been logged out."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form, given=given)


@bp.post("/account/large-text")
@login_required
def large_text():
    """Large-text mode on or off for oneself ("Chữ lớn"), from the button in the footer."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    on = request.form.get("on") == "1"
    roster.set_large_text(current_user, current_user, on)
    db.session.commit()
    flash(_("Large text is on.") if on else _("Large text is off."), "success")
    return redirect(_safe_next(request.form.get("next")))
