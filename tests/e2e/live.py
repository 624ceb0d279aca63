"""What the browser tests share: an app on a temporary SQLite database, served on a free
127.0.0.1 port by a daemon thread that stops with the test module, a log-in form filler,
and the folder screenshots go to (SCREENS_DIR)."""
from __future__ import annotations

import contextlib
import os
import re
import threading
from pathlib import Path

from werkzeug.serving import make_server

from quizapp import create_app
from quizapp.extensions import db
from quizapp.services.bank import import_bank, read_bank
from quizapp.services.people import users as user_service

BANK_PATH = Path(__file__).resolve().parents[2] / "questions"
PASSWORD = "correct-horse-1"
TIMEOUT_MS = 15_000


def make_app(tmp_path_factory, name: str, **config):
    """A testing app on a fresh SQLite file in a temporary folder, log-in limits lifted."""
    tmp = tmp_path_factory.mktemp(name)
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / (name + '.sqlite3')}",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute",
        "REDIS_URL": None,
        **config,
    })


@contextlib.contextmanager
def serve(app, name: str = "e2e-server", public_url: bool = False):
    """Serve `app` on a free port in a daemon thread; yields its base URL. On leaving, the
    server stops, the thread is joined and the database connections are closed."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    if public_url:
        app.config["PUBLIC_URL"] = url   # links in reminders point at this server
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def new_context(browser, url: str, viewport: dict | None = None, **options):
    """A browser context on `url` with the tests' timeout (Playwright's default viewport
    when `viewport` is not given)."""
    if viewport is not None:
        options["viewport"] = viewport
    context = browser.new_context(base_url=url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def fill_login(page, username: str, password: str = PASSWORD) -> None:
    """Fill and send the log-in form of the page already open at /login."""
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").click()


def screens_dir(default: Path | None = None) -> Path | None:
    """The folder named by SCREENS_DIR (created), else `default` (created if given)."""
    folder = os.environ.get("SCREENS_DIR")
    path = Path(folder) if folder else default
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
    return path


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in from /login and wait for the home page."""
    page.goto("/login")
    fill_login(page, username, password)
    page.wait_for_url(re.compile(r"/home$"))


def tables_bank_and_ward():
    """Inside an app context: create the tables, import the question bank (which must read
    without errors) and create the ward every test world hangs its branches on."""
    db.create_all()
    bank = read_bank(BANK_PATH)
    assert not bank.errors, bank.errors[:5]
    import_bank(bank)
    return user_service.create_unit("tay-mo", "Đảng bộ phường Tây Mỗ", kind="committee")
