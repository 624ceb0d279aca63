"""Issue 10, cases 7 and 8, played by the person who wants to break them: a secretary
resetting passwords he should not, a member who keeps a password someone else saw, a
guesser who spreads one account's guesses over many addresses or workers, a production
start that would silently count per process, a remember-me cookie that lives a year, and
a Host header that writes the link in the reminder a secretary pastes into Zalo."""
from __future__ import annotations

import html
import os
import re
import uuid
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from quizapp import create_app
from quizapp.extensions import db
from quizapp.models import AuditLog, User
from quizapp.services.branches import roster
from tests.conftest import PASSWORD, BrowserClient, _base_config, open_round_at_start

pytestmark = pytest.mark.usefixtures("isolated_requests")

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _hash(user_id: int) -> str | None:
    db.session.expire_all()
    return db.session.get(User, user_id).password_hash


def _post(browser: BrowserClient, path: str, data=None, **kw):
    return browser.form_post(path, data or {}, token_from="/home", **kw)


@pytest.fixture
def open_as(app):
    def open_as(username: str, password: str = PASSWORD, **environ) -> BrowserClient:
        browser = BrowserClient(app.test_client())
        if environ:
            browser.environ_base.update(environ)
        browser.login(username, password)
        return browser
    return open_as


@pytest.fixture
def tree(make_unit, make_user):
    """Branch A with a sub-branch A1; a secretary for each, a member in each, and staff
    accounts placed inside A's subtree (so scope alone would not protect them)."""
    a = make_unit("cb-a", name="Chi bộ Hoa Sen")
    a1 = make_unit("cb-a1", parent=a, name="Chi bộ Hoa Sen 1")
    return {
        "a": a, "a1": a1,
        "bt-a": make_user(role="secretary", unit=a, username="bt-a"),
        "bt-a1": make_user(role="secretary", unit=a1, username="bt-a1"),
        "dv-a": make_user(unit=a, username="dv-a"),
        "dv-a1": make_user(unit=a1, username="dv-a1"),
        "btc": make_user(role="organizer", unit=a, username="btc"),
        "qt": make_user(role="admin", unit=a1, username="qtv"),
    }


# ---------------------------------------------------------------- 7. roles

def test_a_secretary_resets_only_members_of_his_subtree_never_staff_nor_himself(open_as, tree):
    secretary = open_as("bt-a")
    before = {name: _hash(tree[name].id) for name in ("bt-a", "bt-a1", "btc", "qt")}
    for name in before:
        response = _post(secretary, f"/members/{tree[name].id}/reset_password")
        assert response.status_code in (403, 404), name
        assert "big-code" not in response.get_data(as_text=True), name
    assert {name: _hash(tree[name].id) for name in before} == before
    # The page offers no reset button for them either.
    page = secretary.get(f"/branch/{tree['a1'].id}").get_data(as_text=True)
    assert f"/members/{tree['bt-a1'].id}/reset_password" not in page
    assert f"/members/{tree['dv-a1'].id}/reset_password" in page
    # A member of the sub-branch: allowed, and logged.
    response = _post(secretary, f"/members/{tree['dv-a1'].id}/reset_password")
    assert response.status_code == 200 and "big-code" in response.get_data(as_text=True)
    entries = db.session.execute(select(AuditLog).where(AuditLog.action == "roster.reset_password")).scalars().all()
    assert [(e.actor_id, e.target) for e in entries] == [(tree["bt-a"].id, f"user:{tree['dv-a1'].id}")]
    # The service refuses as well, whatever view calls it.
    with pytest.raises(Exception):
        roster.reset_password(tree["bt-a"], tree["bt-a1"])


def test_a_reset_password_must_be_changed_at_the_next_login(app, open_as, tree):
    secretary = open_as("bt-a")
    page = _post(secretary, f"/members/{tree['dv-a'].id}/reset_password").get_data(as_text=True)
    temporary = html.unescape(re.findall(r'<p class="big-code"><code>([^<]+)</code>', page)[0])
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "roster.reset_password")).scalar_one()
    assert (entry.actor_id, entry.target) == (tree["bt-a"].id, f"user:{tree['dv-a'].id}")

    member = BrowserClient(app.test_client())
    response = member.login("dv-a", temporary)
    assert response.headers["Location"].endswith("/account/password")
    # Every other page, and the JSON API, wait until the password is changed.
    for path in ("/home", "/practice", "/outline", f"/branch/{tree['a'].id}"):
        response = member.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password"), path
    blocked = member.post("/api/attempts/1/answers", json={"question_id": 1, "choice_ids": []},
                          headers={"X-CSRFToken": member.csrf_token("/account/password")})
    assert blocked.status_code == 403 and blocked.is_json and blocked.get_json()["message"]
    # The forced page works on a phone: the viewport meta, one column, no current password
    # to type again (it was typed a moment ago), and it lets the member out when done.
    form_page = member.get("/account/password").get_data(as_text=True)
    assert 'name="viewport"' in form_page and 'name="current"' not in form_page
    response = member.form_post("/account/password", {"new": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"},
                                token_from="/account/password")
    assert response.status_code == 302
    assert member.get("/home").status_code == 200
    db.session.expire_all()
    assert not db.session.get(User, tree["dv-a"].id).must_change_password
    # The temporary password is dead; the new one works without any further detour.
    again = BrowserClient(app.test_client())
    assert again.form_post("/login", {"login": "dv-a", "password": temporary}).status_code == 200
    assert not again.login("dv-a", "mat-khau-moi-1").headers["Location"].endswith("/account/password")


# ---------------------------------------------------------------- 8. login limits

class TestPerAccountLimit:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_RATE_LIMIT": "100 per minute", "LOGIN_ACCOUNT_RATE_LIMIT": "5 per hour"}

    def test_guesses_at_one_account_from_many_addresses_are_limited(self, app, tree):
        statuses = []
        for n in range(7):
            guesser = BrowserClient(app.test_client())
            guesser.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
            # The username spelled differently each time is still the same account.
            login = ("dv-a", " DV-A ", "Dv-A")[n % 3]
            statuses.append(guesser.form_post("/login", {"login": login, "password": f"guess-{n}"}).status_code)
        assert statuses == [200] * 5 + [429] * 2
        # Another account, from an address that already guessed, is not held up.
        other = BrowserClient(app.test_client())
        other.environ_base["REMOTE_ADDR"] = "203.0.113.1"
        assert other.login("bt-a").status_code == 302


def _redis_available() -> bool:
    import redis
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_available(), reason=f"needs a Redis server at {REDIS_URL}")
def test_the_per_account_limit_is_shared_by_workers_through_redis(tmp_path, backend, _pg_schema):
    # A fresh account name per run, so earlier runs' counters do not interfere. (No
    # RATELIMIT_KEY_PREFIX: the limiter object keeps the first prefix it was given for
    # the whole process, which would break the other Redis test's own prefix.)
    login = f"someone-{uuid.uuid4().hex[:12]}"
    config = _base_config(tmp_path, backend, REDIS_URL=REDIS_URL, LOGIN_RATE_LIMIT="100 per minute",
                          LOGIN_ACCOUNT_RATE_LIMIT="3 per hour")
    worker_a, worker_b = create_app(config), create_app(config)
    with worker_a.app_context():
        if backend == "sqlite":
            db.create_all()
    statuses = []
    for n, worker in enumerate((worker_a, worker_b, worker_a, worker_b)):
        guesser = BrowserClient(worker.test_client())
        guesser.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        statuses.append(guesser.form_post("/login", {"login": login, "password": "guess"}).status_code)
    assert statuses == [200, 200, 200, 429]
    import redis
    assert redis.Redis.from_url(REDIS_URL).keys(f"*{login}*"), "the account's counter lives in Redis"
    with worker_a.app_context():
        ready = worker_a.test_client().get("/readyz").get_json()
        assert ready["rate_limits"]["storage"] == "redis"
        db.session.remove()
        db.engine.dispose()


def test_production_without_redis_refuses_to_start_unless_the_operator_opts_in(tmp_path, backend, _pg_schema):
    production = dict(ENV_NAME="production", SECRET_KEY="a-real-secret-0123456789", REDIS_URL=None,
                      PUBLIC_URL="https://thi.example.vn")
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        create_app(_base_config(tmp_path, backend, **production))
    app = create_app(_base_config(tmp_path, backend, ALLOW_MEMORY_RATE_LIMITS=True, **production))
    with app.app_context():
        if backend == "sqlite":
            db.create_all()
        ready = app.test_client().get("/readyz", base_url="https://localhost")
        body = ready.get_json()
        assert ready.status_code == 200
        assert body["rate_limits"]["storage"] == "memory"
        assert any("REDIS_URL" in w for w in body["warnings"])
        db.session.remove()
        db.engine.dispose()


class TestRememberCookie:
    def _remember_cookie(self, app, tree) -> str:
        browser = BrowserClient(app.test_client())
        response = browser.form_post("/login", {"login": "dv-a", "password": PASSWORD, "remember": "y"})
        assert response.status_code == 302
        cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
        assert len(cookies) == 1
        return cookies[0]

    def _days_left(self, cookie: str) -> float:
        expires = re.search(r"Expires=([^;]+)", cookie).group(1)
        return (parsedate_to_datetime(expires) - datetime.now(timezone.utc)).total_seconds() / 86400

    def test_samesite_lax_and_thirty_days_by_default(self, app, tree):
        cookie = self._remember_cookie(app, tree)
        assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
        assert 29.9 < self._days_left(cookie) <= 30.01

    @pytest.mark.parametrize("app_config", [{"REMEMBER_COOKIE_DAYS": 7}])
    def test_the_lifetime_is_configurable(self, app, tree, app_config):
        assert 6.9 < self._days_left(self._remember_cookie(app, tree)) <= 7.01


@pytest.fixture
def open_round(bank, tree, frozen_clock):
    return open_round_at_start(tree["btc"], frozen_clock, "Thi tìm hiểu Nghị quyết")


def _reminder(browser, unit_id) -> str:
    # Behind a proxy that passes the client's Host on (X-Forwarded-Host), as in docs/deploy.md.
    page = html.unescape(browser.get(f"/branch/{unit_id}", headers={"X-Forwarded-Host": "evil.example"})
                         .get_data(as_text=True))
    return re.search(r'<textarea id="reminder"[^>]*>(.*?)</textarea>', page, re.S).group(1)


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "https://thi.tay-mo.vn", "BEHIND_PROXY": True}])
def test_the_reminder_link_comes_from_public_url_never_from_the_host_header(app, tree, open_round, app_config):
    secretary = BrowserClient(app.test_client())
    secretary.login("bt-a")
    reminder = _reminder(secretary, tree["a"].id)
    assert "https://thi.tay-mo.vn/" in reminder
    assert "evil.example" not in reminder


@pytest.mark.parametrize("app_config", [{"BEHIND_PROXY": True}])
def test_without_public_url_the_reminder_has_no_host_from_the_request(app, tree, open_round, app_config):
    secretary = BrowserClient(app.test_client())
    secretary.login("bt-a")
    reminder = _reminder(secretary, tree["a"].id)
    assert "evil.example" not in reminder and "localhost" not in reminder
    assert "PUBLIC_URL" not in reminder   # a placeholder a member understands, not a setting name
