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
