"""Serving concerns: security headers, request ids and one log line per request,
proxy headers, bounded JSON bodies, readiness, and a Vietnamese 503 when the database
is unreachable."""
from __future__ import annotations

import functools
import json
import logging
import re
import secrets
import time

from flask import Flask, abort, g, jsonify, request
from flask.globals import request_ctx
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .clock import parse_request_start, utcnow
from .config import startup_warnings
from .errors import discard_session, render_error
from .extensions import compress, db, limiter

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

log = logging.getLogger("quizapp.requests")


class IdConverter(IntegerConverter):
    """<int:…> in URLs: database ids, so at most 2**31 − 1 (larger → 404, never a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2 ** 31 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_id_converter(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter


_JSON_SPECIAL = re.compile(rb'[\[\]{}"\\]')


def json_depth(raw: bytes, limit: int) -> int:
    """How deeply `raw` nests arrays and objects, counted without parsing it (so without
    recursion), in one pass, stopping as soon as `limit` is passed; 0 when it has too few
    brackets to pass `limit` at all. Brackets inside strings do not count. For malformed
    text it is an estimate; the parser judges that."""
    if raw.count(b"[") + raw.count(b"{") <= limit:   # every body the app's pages send
        return 0
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_SPECIAL.finditer(raw):
        at = match.start()
        if at == escaped_at:
            continue
        char = raw[at]
        if in_string:
            if char == 0x5C:          # backslash: the next character is escaped
                escaped_at = at + 1
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif char in (0x5D, 0x7D):
            depth -= 1
    return deepest


def check_json_body(max_bytes: int, max_depth: int) -> str | None:
    """Why this request's JSON body is refused (a message for the user), or None.
    Python's parser recurses once per level: thousands of levels would be a
    RecursionError (a 500), and a large body costs every worker that parses it."""
    length = request.content_length
    if length is not None and length > max_bytes:
        return _("The data sent is too large (at most %(n)d KB).", n=max_bytes // 1024)
    raw = request.get_data(cache=True)
    if len(raw) > max_bytes:
        return _("The data sent is too large (at most %(n)d KB).", n=max_bytes // 1024)
    if json_depth(raw, max_depth) > max_depth:
        return _("The data sent is nested too deeply (at most %(n)d levels).", n=max_depth)
    return None


def has_nul_byte() -> bool:
    """Whether the query string, a form field, a URL part or a JSON body carries a NUL
    byte. The query string is looked at raw first (a NUL reaches `request.args` only as
    %00 or a raw byte), so the common request parses nothing it would not parse anyway;
    a form is only parsed for a method that may carry one."""
    query = request.query_string
    if (b"\x00" in query or b"%00" in query) and \
            any("\x00" in v for values in request.args.listvalues() for v in values):
        return True
    if request.method not in SAFE_METHODS and request.content_length != 0 and \
            any("\x00" in v for values in request.form.listvalues() for v in values):
        return True
    if request.view_args and \
            any(isinstance(v, str) and "\x00" in v for v in request.view_args.values()):
        return True
    if request.is_json:
        raw = request.get_data(cache=True, as_text=True)
        if "\x00" in raw or "\\u0000" in raw:
            return True
    return False


def drop_idle_limit_check(app: Flask) -> None:
    """Flask-Limiter checks default and application-wide limits before every request;
    this app sets none (its limits are on the login view, whose decorator checks them
    itself), so that hook only costs time — 15 % of a /healthz in the profile
    (benchmarks/REPORT.md). Drop it then; keep it as soon as any such limit is set."""
    if limiter.limit_manager.default_limits or limiter.limit_manager.application_limits \
            or getattr(limiter, "_meta_limits", None) \
            or any(app.config.get(key) for key in
                   ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")):
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [f for f in hooks if getattr(f, "__func__", None)
                is not type(limiter)._check_request_limit or f.__self__ is not limiter]


def limiter_hooks_only_when_limited(app: Flask) -> None:
    """Flask-Limiter's after-request hook (rate-limit headers, deduct_when) and its
    teardown (reset its per-request context) run on every request, and each first makes
    that context. Only a request whose view carries a limit (the login, the meeting PIN)
    ever makes it before them, so on any other request both have nothing to do: run
    them only when the context exists (tests/ops/test_request_overhead.py checks the
    login's headers and the PIN's deduction still happen)."""
    def limited() -> bool:
        return hasattr(request_ctx._get_current_object(), "_limiter_request_context")

    def guard(hook, on_response: bool):
        if on_response:
            return functools.wraps(hook)(lambda response: hook(response) if limited() else response)
        return functools.wraps(hook)(lambda exc=None: hook(exc) if limited() else None)

    for funcs, on_response in ((app.after_request_funcs, True), (app.teardown_request_funcs, False)):
        hooks = funcs.get(None, [])
        hooks[:] = [guard(f, on_response) if _belongs_to_limiter(f) else f for f in hooks]


def _belongs_to_limiter(hook) -> bool:
    if isinstance(hook, functools.partial):
        return bool(hook.args) and hook.args[0] is limiter
    return getattr(hook, "__self__", None) is limiter


def compress_only_what_it_would(app: Flask) -> None:
    """Flask-Compress's after-request hook chooses an algorithm from Accept-Encoding for
    every response, then lets most go (JSON answers, redirects and small pages are under
    COMPRESS_MIN_SIZE). Say `Vary: Accept-Encoding` as it does and skip the rest when no
    encoding is accepted or the body is known to be too small to compress."""
    hooks = app.after_request_funcs.get(None, [])
    original = compress.after_request
    minimum = app.config.get("COMPRESS_MIN_SIZE", 500)

    def after_request(response):
        length = response.content_length
        if response and not response.is_streamed and (
                "Accept-Encoding" not in request.headers
                or (length is not None and length < minimum)):
            vary = response.headers.get("Vary")
            if not vary:
                response.headers["Vary"] = "Accept-Encoding"
            elif "accept-encoding" not in vary.lower():
                response.headers["Vary"] = f"{vary}, Accept-Encoding"
            return response
        return original(response)

    hooks[:] = [after_request if getattr(f, "__func__", None) is type(compress).after_request
                and getattr(f, "__self__", None) is compress else f for f in hooks]


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, without rebuilding its signer on every request
    (a fifth of a /healthz in the profile): one serializer per secret key and fallbacks,
    and a request without the cookie, or a session left empty and untouched, costs no
    signer at all. What is signed, checked and sent is Flask's own."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app: Flask):
        if not app.secret_key:
            return None
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer

    def open_session(self, app: Flask, request_):
        if app.secret_key and not request_.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request_)

    def save_session(self, app: Flask, session, response) -> None:
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


# The security headers every response carries (set unless the view set its own).
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy", CSP),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


class SecurityHeaders:
    """WSGI middleware: every response, the app's error pages and static files included,
    carries SECURITY_HEADERS unless the view set its own. Added to the plain list of
    header pairs, not through Werkzeug's Headers (which validates each value again and
    was a tenth of a /healthz in the profile): the values are constants."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.headers = tuple((key.lower(), key, value) for key, value in SECURITY_HEADERS)

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            present = {key.lower() for key, _value in headers}
            headers.extend((key, value) for lower, key, value in self.headers
                           if lower not in present)
            return start_response(status, headers, exc_info)
        return self.wsgi_app(environ, start)


def init_hardening(app: Flask) -> None:
    app.wsgi_app = SecurityHeaders(app.wsgi_app)
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    drop_idle_limit_check(app)
    limiter_hooks_only_when_limited(app)
    compress_only_what_it_would(app)
    app.session_interface = CachedSerializerSessionInterface()

    @app.before_request
    def guard_request():
        """One hook, not three (each hook costs Flask a dispatch): the request id and
        timer, NUL bytes refused (PostgreSQL refuses them in text), and every JSON body
        bounded before any view parses it (a 400 with a message when it is too large or
        too deep: check_json_body)."""
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if incoming.isascii() and 8 <= len(incoming) <= 64 and \
            incoming.replace("-", "").isalnum() else secrets.token_hex(16)
        g.started = time.perf_counter()
        if app.config["REQUEST_START_HEADER"]:
            header = request.headers.get("X-Request-Start")
            if header:
                g.received_at = parse_request_start(header, utcnow())
        if has_nul_byte():
            abort(400)
        if request.method in SAFE_METHODS or not request.is_json:
            return None
        problem = check_json_body(app.config["JSON_MAX_BYTES"], app.config["JSON_MAX_DEPTH"])
        if problem is None:
            return None
        discard_session()
        return render_error(400, problem)

    @app.after_request
    def headers_and_log(response):
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if app.config.get("REQUEST_LOG"):
            # A view that checked the login itself says so (no user load just to log it).
            user_id = g.get("log_user_id")
            if user_id is None and current_user and getattr(current_user, "is_authenticated", False):
                user_id = current_user.id
            log.info(json.dumps({
                "request_id": g.get("request_id"), "method": request.method, "path": request.path,
                "status": response.status_code, "user": user_id,
                "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                "remote": request.remote_addr}))
        return response

    @app.get("/readyz")
    def readyz():
        """Ready when the database answers (and Redis, when configured). Also says where
        the rate limits are counted, and what the operator should fix (warnings)."""
        checks = {}
        try:
            db.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except (OperationalError, DBAPIError):
            db.session.rollback()
            checks["database"] = "unreachable"
        if app.config.get("REDIS_URL"):
            import redis
            try:
                redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=1,
                                     socket_timeout=1).ping()
                checks["redis"] = "ok"
            except redis.RedisError:
                checks["redis"] = "unreachable"
        ready = all(v == "ok" for v in checks.values())
        storage = "memory" if app.config["RATELIMIT_STORAGE_URI"].startswith("memory") else "redis"
        return jsonify(status="ready" if ready else "not ready", checks=checks,
                       rate_limits={"storage": storage, "shared_by_workers": storage != "memory"},
                       warnings=startup_warnings(app.config)), 200 if ready else 503

    for warning in startup_warnings(app.config):
        if app.config.get("ENV_NAME") == "production":
            app.logger.warning(warning)

    if app.config.get("REQUEST_LOG") and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def bounded_int(value: str) -> int:
    """For ?page= and ?contest=: a whole number a database id column can hold."""
    number = int(value)
    if not 0 <= number <= 2 ** 31 - 1:
        raise ValueError(value)
    return number
