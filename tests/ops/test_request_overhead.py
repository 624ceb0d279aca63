"""The hooks every request pays, kept cheap without losing what they guard
(benchmarks/REPORT.md, "Throughput before and after"): Flask-Limiter's per-request check
is dropped only while no default or application limit exists, and the NUL-byte check
still refuses a NUL wherever it hides although it no longer parses every request."""
from __future__ import annotations

from flask import Flask

from quizapp.extensions import limiter
from quizapp.hardening import drop_idle_limit_check


def _limiter_hooks(app: Flask) -> list:
    return [f for f in app.before_request_funcs.get(None, [])
            if getattr(f, "__self__", None) is limiter]


def test_the_app_runs_no_idle_limit_check_but_the_login_limit_holds(app):
    assert _limiter_hooks(app) == []
    assert "auth.login" in app.view_functions


def test_the_limit_check_stays_when_a_default_or_application_limit_is_set():
    for key in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"):
        probe = Flask(__name__)
        probe.config[key] = "100 per minute"
        probe.before_request(limiter._check_request_limit)
        drop_idle_limit_check(probe)
        assert len(_limiter_hooks(probe)) == 1, key
    probe = Flask(__name__)
    probe.before_request(limiter._check_request_limit)
    drop_idle_limit_check(probe)
    assert _limiter_hooks(probe) == []


def test_nul_bytes_are_refused_in_query_strings_forms_and_paths(client):
    assert client.get("/login?next=%00").status_code == 400
    assert client.get("/login?lang=en&next=a%00b").status_code == 400
    # A literal "%00" (its percent sign encoded) is no NUL.
    assert client.get("/login?next=%2500").status_code == 200
    assert client.form_post("/login", {"login": "a\x00", "password": "x"}).status_code == 400
    assert client.form_post("/login", {"login": "a", "password": "x"}).status_code == 200
    assert client.get("/outline/a%00b").status_code in (400, 404)
    assert client.get("/healthz").status_code == 200


def test_every_response_carries_the_security_headers_once_and_a_view_may_set_its_own(app, client):
    @app.get("/_probe/own-frame-rule")
    def own_frame_rule():
        return "x", 200, {"X-Frame-Options": "SAMEORIGIN"}

    for path in ("/healthz", "/login", "/static/favicon.ico", "/no-such-page"):
        response = client.get(path)
        for key in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                    "Content-Security-Policy", "Permissions-Policy"):
            assert len(response.headers.getlist(key)) == 1, (path, key)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert len(response.headers["X-Request-ID"]) == 32
    own = client.get("/_probe/own-frame-rule")
    assert own.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert own.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_the_limiter_still_counts_and_says_so_where_a_limit_applies(app, client):
    """Its hooks run only for a request whose view carries a limit: the login's answer
    still says how many tries are left; /healthz leaves no limiter state behind."""
    response = client.form_post("/login", {"login": "nobody", "password": "wrong"})
    assert response.status_code == 200
    assert response.headers.get("X-RateLimit-Limit", "").isdigit()
    first = int(response.headers["X-RateLimit-Remaining"])
    again = client.form_post("/login", {"login": "nobody", "password": "wrong"})
    assert int(again.headers["X-RateLimit-Remaining"]) == first - 1
    with app.test_request_context("/healthz"):
        from flask.globals import request_ctx
        app.preprocess_request()
        response = app.process_response(app.make_response(app.dispatch_request()))
        assert not hasattr(request_ctx._get_current_object(), "_limiter_request_context")
        assert "X-RateLimit-Limit" not in response.headers


def test_compression_is_skipped_only_where_it_would_not_happen(client):
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
    assert "Accept-Encoding" in small.headers["Vary"]
    big = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert big.headers.get("Content-Encoding") == "gzip"
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]


def test_sessions_signed_with_an_old_key_still_open_after_a_key_rotation(app, client, make_user):
    make_user(username="rotate01")
    assert client.login("rotate01").status_code == 302
    assert client.get("/account/password").status_code == 200
    old = app.secret_key
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    app.secret_key = app.config["SECRET_KEY"] = "a-new-secret-key-0123456789abcdefgh"
    assert client.get("/account/password").status_code == 200, "the old key is a fallback"
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/account/password").status_code == 302, "no fallback: the cookie is not trusted"
