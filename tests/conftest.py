"""Fixtures: the app on SQLite (default) or PostgreSQL (--db=postgresql), a client that
speaks CSRF like a browser, a frozen clock, and factories."""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from quizapp import clock, create_app
from quizapp.extensions import db
from quizapp.services import users as user_service
from quizapp.services.bank import import_bank
from quizapp.services.bank_format import read_bank

ROOT = Path(__file__).resolve().parent.parent
BANK_PATH = ROOT / "questions"
PASSWORD = "correct-horse-1"


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=["sqlite", "postgresql"],
                     help="database for the suite (postgresql needs TEST_DATABASE_URL)")


def pytest_configure(config):
    if config.getoption("--db") == "postgresql" and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("--db=postgresql needs TEST_DATABASE_URL")


# Tests that belong to the other database's run are deselected, not skipped: a skip
# means a service this run lacks, and under CI=true that fails the run (below).
_NOT_IN_RUN = {
    "sqlite": [("postgres_only", "PostgreSQL-only")],
    "postgresql": [("sqlite_only", "SQLite-only"), ("e2e", "browser (e2e)")],
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config, items):
    backend = config.getoption("--db")
    kept, dropped, counts = [], [], {}
    for item in items:
        label = next((label for marker, label in _NOT_IN_RUN[backend]
                      if marker in item.keywords), None)
        if label is None:
            kept.append(item)
        else:
            dropped.append(item)
            counts[label] = counts.get(label, 0) + 1
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    config._quizapp_deselected = counts


def pytest_report_collectionfinish(config, start_path, items):
    counts = getattr(config, "_quizapp_deselected", {})
    if not counts:
        return []
    other = "the --db=postgresql run" if config.getoption("--db") == "sqlite" else "the default SQLite run"
    what = ", ".join(f"{n} {label}" for label, n in counts.items())
    return [f"deselected {what} test(s): this run is {config.getoption('--db')}; they run in {other}"]


def _fail_skip_in_ci(report) -> None:
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"skipped under CI=true ({reason}): CI must provide every service "
                           "a test needs (.ci/run), so nothing skips there")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _fail_skip_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    _fail_skip_in_ci(report)
    return report


@pytest.fixture(scope="session")
def backend(pytestconfig) -> str:
    return pytestconfig.getoption("--db")


@pytest.fixture(scope="session")
def parsed_bank():
    bank = read_bank(BANK_PATH)
    assert not bank.errors, bank.errors[:5]
    return bank


@pytest.fixture(scope="session")
def _pg_schema(backend):
    """Create the schema once per PostgreSQL run; tests truncate instead of recreating."""
    if backend != "postgresql":
        yield None
        return
    app = create_app(_base_config(None, backend))
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _base_config(tmp_path: Path | None, backend: str, **extra) -> dict:
    from quizapp.config import normalize_database_url
    if backend == "postgresql":
        uri = normalize_database_url(os.environ["TEST_DATABASE_URL"])
    else:
        uri = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        "SQLALCHEMY_DATABASE_URI": uri,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute",
        "QUIZ_GRACE_SECONDS": 5,
        "REDIS_URL": None,
        "SERVER_NAME": None,
    }
    config.update(extra)
    return config


def _truncate_all() -> None:
    names = ", ".join(f'"{t.name}"' for t in reversed(db.metadata.sorted_tables))
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app_config():
    """Extra settings for the `app` fixture; override in a test module."""
    return {}


@pytest.fixture
def app(tmp_path, backend, _pg_schema, app_config):
    app = create_app(_base_config(tmp_path, backend, **app_config))
    with app.app_context():
        if backend == "postgresql":
            _truncate_all()
        else:
            db.create_all()
        yield app
        db.session.remove()
        if backend == "postgresql":
            _truncate_all()
        db.engine.dispose()


class BrowserClient:
    """Wraps Flask's test client: fetches a CSRF token the way a page does."""

    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        return getattr(self.client, name)

    def csrf_token(self, path: str = "/login") -> str:
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, f"no csrf meta tag on {path}"
        return match.group(1)

    def form_post(self, path: str, data: dict | None = None, token_from: str | None = None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from or "/login"))
        return self.client.post(path, data=data, **kw)

    def json_post(self, path: str, payload, **kw):
        token = self.csrf_token("/login")
        return self.client.post(path, json=payload, headers={"X-CSRFToken": token}, **kw)

    def login(self, login: str, password: str = PASSWORD):
        response = self.form_post("/login", {"login": login, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response


@pytest.fixture
def client(app):
    return BrowserClient(app.test_client())


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class FrozenClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


@pytest.fixture
def frozen_clock():
    frozen = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc))
    clock.set_clock(frozen)
    yield frozen
    clock.reset_clock()


@pytest.fixture
def ward(app):
    unit = user_service.create_unit("tay-mo", "Đảng bộ phường Tây Mỗ", kind="committee")
    db.session.commit()
    return unit


@pytest.fixture
def make_unit(app, ward):
    counter = [0]

    def make(code: str | None = None, parent=None, name: str | None = None):
        counter[0] += 1
        code = code or f"cb-{counter[0]:02d}"
        unit = user_service.create_unit(code, name or f"Chi bộ {counter[0]}", parent=parent or ward)
        db.session.commit()
        return unit
    return make


@pytest.fixture
def make_user(app, ward):
    counter = [0]

    def make(role: str = "member", unit=None, username: str | None = None,
             password: str | None = PASSWORD, full_name: str | None = None, phone: str | None = None):
        counter[0] += 1
        user = user_service.create_user(username or f"user{counter[0]}", full_name or f"Người Dùng {counter[0]}",
                                        unit or ward, role=role, password=password, phone=phone)
        db.session.commit()
        return user
    return make


@pytest.fixture
def bank(app, parsed_bank):
    """The bundled bank, imported."""
    import_bank(parsed_bank)
    db.session.commit()
    return parsed_bank


# ---------------------------------------------------------------- request isolation
# Added for the view and CLI tests. The `app` fixture keeps one app context pushed for the
# whole test, and Flask reuses a pushed app context for every test-client request. So all
# requests of a test, from every client, share one `g` and one database session: Flask-Login
# caches the logged-in user in `g._login_user`, and that user then "leaks" into the next
# request of any other client (a second browser, a logged-out client). A real server gives
# each request a fresh app context; this client does the same by running each request in an
# empty contextvars context.
import contextvars  # noqa: E402

from flask.testing import FlaskClient  # noqa: E402


class IsolatedFlaskClient(FlaskClient):
    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def isolated_requests(app):
    """Make `app.test_client()` (and so `client`) give each request its own app context,
    `g` and database session, as in production. Request it before `client` (e.g.
    `pytestmark = pytest.mark.usefixtures("isolated_requests")`). The test's own
    `db.session` then does not see a request's changes until it expires its objects
    (`db.session.expire_all()`); commit before a request that writes the same rows."""
    app.test_client_class = IsolatedFlaskClient
    return app
