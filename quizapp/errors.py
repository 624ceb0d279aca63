"""Error pages and the handler that turns domain errors into answers. Pages are in the
user's language and never show a traceback."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import (Flask, current_app, flash, g, jsonify, make_response, redirect,
                   render_template, request)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .services.errors import DomainError


def wants_json() -> bool:
    return request.is_json or request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json")


def _titles() -> dict[int, str]:
    return {
        400: _("Bad request"),
        403: _("You do not have access to this page"),
        404: _("Page not found"),
        405: _("This action is not allowed here"),
        409: _("This cannot be done now"),
        413: _("The upload is too large"),
        429: _("Too many requests"),
        500: _("Something went wrong on our side"),
        503: _("The service is temporarily unavailable"),
    }


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Go back and try again."),
        403: _("Your account does not have permission for this."),
        404: _("The page you asked for does not exist or is not yours to see."),
        405: _("Go back and use the buttons on the page."),
        409: _("The state has changed; reload the page."),
        413: _("Send a smaller file or less text."),
        429: _("Please wait a minute before trying again."),
        500: _("The error has been logged. Please try again in a moment."),
        503: _("Please try again in a moment."),
    }


def discard_session() -> None:
    """Roll back, or drop the session when its connection is already dead."""
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.registry.clear()


def render_error(status: int, message: str | None = None):
    title = _titles().get(status, _("Error"))
    message = message or _messages().get(status, "")
    if wants_json():
        return jsonify(error=title, message=message), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_errors(app: Flask) -> None:
    @app.teardown_appcontext
    def _drop_dead_session(_exc):
        # Runs before Flask-SQLAlchemy's own teardown (registered earlier): if the
        # connection died after the view's last query, closing it raises; drop the
        # session instead so the member still gets the answer already made. A request
        # that never used the database has no session: nothing to close (creating one
        # just to close it was 13 % of a /healthz in the profile).
        if not db.session.registry.has():
            return
        try:
            db.session.close()
        except DBAPIError:
            db.session.registry.clear()

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if not exc.commit:  # a kept DomainError was committed by transaction.py
            discard_session()
        if wants_json() or request.method == "GET" or exc.status_code == 404 \
                or not _same_host_referrer():
            return render_error(exc.status_code, exc.message)
        flash(exc.message, "error")
        return redirect(request.referrer)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        discard_session()
        message = _("The form has expired or is missing its security token. "
                    "Go back, reload the page and try again.")
        if wants_json():
            # The quiz script tells an ended session (no token any more) from other errors.
            return jsonify(error=_titles()[400], message=message, code="csrf"), 400
        return render_error(400, message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        discard_session()
        if exc.code == 404:
            without_slash = _page_without_trailing_slash()
            if without_slash is not None:
                return redirect(without_slash, code=308)
        return render_error(exc.code or 500)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        # The database is down or unreachable: a readable 503, and the pool recovers by
        # itself (pool_pre_ping) once it is back.
        app.logger.error("Database unavailable on %s %s: %s", request.method, request.path,
                         str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        discard_session()
        # The page must not ask the dead database who is logged in.
        g._login_user = app.login_manager.anonymous_user()
        response = make_response(render_error(503))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        discard_session()
        return render_error(500)


def _page_without_trailing_slash() -> str | None:
    """For a GET or HEAD of "/branch/" (typed, or a link someone wrote by hand) where
    the page is "/branch": that address with the query kept, else None. Only a path
    that exists without its slash is redirected, so a 404 stays a 404."""
    path = request.path
    if request.method not in ("GET", "HEAD") or len(path) < 2 or not path.endswith("/"):
        return None
    bare = path.rstrip("/")
    if not bare or bare.startswith("//"):
        return None   # "//host" would leave the site
    try:
        current_app.url_map.bind("localhost").match(bare, method="GET")
    except HTTPException:
        return None
    # Sent again as it came: the path re-encoded (a "%3F" in it stays one, not a "?"),
    # the query's bytes percent-encoded where they are not URL characters.
    query = quote(request.query_string, safe="=&;%+/?:@!$'()*,~")
    return quote(request.script_root + bare, safe="/:@!$&'()*+,;=~") + (f"?{query}" if query else "")


def _same_host_referrer() -> bool:
    ref = request.referrer
    if not ref:
        return False
    parts = urlsplit(ref)
    return parts.netloc == request.host and parts.scheme in ("http", "https")
