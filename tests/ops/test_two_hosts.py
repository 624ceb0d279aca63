"""Two hosts, one system: two gunicorn instances on different ports over one private
PostgreSQL database and one Redis, started the way docs/deploy.md starts a host
(production settings, `flask db upgrade`, `flask bank import`).

A member logs in on A, starts a practice attempt, saves answers alternately on A and B
with the same cookie, submits on B and gets the right result; the login rate limit is one
limit across both hosts; a password change on A ends the session on B.
"""
from __future__ import annotations

import pytest
import requests

from tests.ops._support import (PASSWORD, REDIS_URL, Gunicorn, attempt_id_from, csrf_meta,
                                flush_redis, hidden_fields, local_app, migrate_and_import,
                                private_database, redis_available,
                                server_env)
from tests.tokens import tokens_of

pytestmark = [
    pytest.mark.postgres_only, pytest.mark.slow,
    pytest.mark.skipif(not redis_available(), reason=f"needs a Redis server at {REDIS_URL}"),
]

LIMIT = 5


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(host A, host B, local app): two single-worker gunicorns sharing one database and
    Redis db 14."""
    from quizapp.extensions import db
    from quizapp.services import users
    logs = tmp_path_factory.mktemp("two-hosts")
    with private_database() as url:
        migrate_and_import(url)
        app = local_app(url)
        with app.app_context():
            ward = users.create_unit("tay-mo", "Đảng bộ phường Tây Mỗ", kind="committee")
            users.create_user("dangvien", "Nguyễn Văn An", ward, password=PASSWORD)
            users.create_user("doimatkhau", "Trần Thị Bình", ward, password=PASSWORD)
            db.session.commit()
        env = server_env(url, REDIS_URL=REDIS_URL, LOGIN_RATE_LIMIT=f"{LIMIT} per minute")
        hosts = []
        try:
            for name in ("a", "b"):
                hosts.append(Gunicorn(env, logs / f"gunicorn-{name}.log", workers=1))
            for host in hosts:
                host.wait_ready()
            yield hosts[0], hosts[1], app
        finally:
            for host in hosts:
                host.stop()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            flush_redis()


def _login(session, host, username: str, password: str = PASSWORD):
    page = session.get(host.url + "/login", timeout=10).text
    response = session.post(host.url + "/login", data={
        "csrf_token": hidden_fields(page)["csrf_token"], "login": username, "password": password},
        allow_redirects=False, timeout=10)
    return response


def _logged_in(session, host) -> bool:
    response = session.get(host.url + "/home", allow_redirects=False, timeout=10)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
    return False


def test_attempt_started_on_a_saved_on_both_submitted_on_b(cluster):
    from quizapp.extensions import db
    from quizapp.models import Attempt
    a, b, app = cluster
    flush_redis()
    browser = requests.Session()
    assert _login(browser, a, "dangvien").status_code == 302
    assert _logged_in(browser, b), "the cookie set by A is accepted by B"

    fields = hidden_fields(browser.get(a.url + "/practice", timeout=10).text)
    response = browser.post(a.url + "/practice", data={
        "csrf_token": fields["csrf_token"], "start_token": fields["start_token"], "count": "6",
        "feedback": "exam", "time_limit": "10"}, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    attempt_id = attempt_id_from(response.headers["Location"])
    assert browser.get(b.url + f"/attempts/{attempt_id}", timeout=10).status_code == 200

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        plan = []
        for n, item in enumerate(attempt.items):
            right = sorted(c.id for c in item.question.choices if c.is_correct)
            wrong = [next(c.id for c in item.question.choices if not c.is_correct)]
            chosen = right if n % 3 else wrong
            # (question, choice ids, the same choices as the page names them)
            plan.append((item.question_id, chosen, tokens_of(item, chosen)))
        expected_score = sum(1 for n in range(len(plan)) if n % 3)
        db.session.remove()

    token = csrf_meta(browser.get(a.url + f"/attempts/{attempt_id}", timeout=10).text)
    for n, (question_id, _ids, tokens) in enumerate(plan):
        saver, reader = (a, b) if n % 2 == 0 else (b, a)
        response = browser.post(saver.url + f"/api/attempts/{attempt_id}/answers",
                                json={"question_id": question_id, "choice_ids": tokens, "seq": n + 1},
                                headers={"X-CSRFToken": token}, timeout=10)
        assert response.status_code == 200, (saver.url, response.text)
        assert response.json()["choice_ids"] == sorted(tokens)
        # The other host sees the save at once: no state lives in a worker.
        state = browser.get(reader.url + f"/api/attempts/{attempt_id}", timeout=10).json()
        assert state["answered"] == n + 1 and state["status"] == "in_progress"

    # Submit on B, with the form as the browser posts it (the checked answers).
    page = browser.get(b.url + f"/attempts/{attempt_id}", timeout=10).text
    data = {"csrf_token": hidden_fields(page)["csrf_token"], "action": "submit"}
    for question_id, _ids, tokens in plan:
        data[f"q-{question_id}"] = [str(c) for c in tokens]
    response = browser.post(b.url + f"/attempts/{attempt_id}", data=data, allow_redirects=False,
                            timeout=10)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/attempts/{attempt_id}/result")

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.status == "finished" and attempt.finish_reason == "submitted"
        assert (attempt.score, attempt.max_score) == (expected_score, len(plan))
        stored = {i.question_id: sorted(i.selected_ids) for i in attempt.items}
        assert stored == {qid: sorted(ids) for qid, ids, _tokens in plan}
        db.session.remove()
    for host in (a, b):
        result = browser.get(host.url + f"/attempts/{attempt_id}/result", timeout=10)
        assert result.status_code == 200
        assert f'<p class="big-score">{expected_score}/{len(plan)}</p>' in result.text


def test_login_rate_limit_is_one_limit_across_hosts(cluster):
    import redis
    a, b, _app = cluster
    flush_redis()
    browser = requests.Session()
    token = hidden_fields(browser.get(a.url + "/login", timeout=10).text)["csrf_token"]
    statuses = []
    for host in (a, b, a, b, a):
        response = browser.post(host.url + "/login", data={
            "csrf_token": token, "login": "dangvien", "password": "wrong-password"},
            allow_redirects=False, timeout=10)
        statuses.append(response.status_code)
    assert statuses == [200] * LIMIT  # the login page again, with its message
    # The limit of 5 holds in total, not 5 per host: the 6th is refused on either host,
    # the right password included.
    for host in (b, a):
        response = browser.post(host.url + "/login", data={
            "csrf_token": token, "login": "dangvien", "password": PASSWORD},
            allow_redirects=False, timeout=10)
        assert response.status_code == 429, host.url
        assert "Traceback" not in response.text
    assert not _logged_in(browser, a)
    assert redis.Redis.from_url(REDIS_URL).keys("*"), "the counters live in Redis"


def test_password_change_on_a_ends_the_session_on_b(cluster):
    a, b, _app = cluster
    flush_redis()
    phone, laptop = requests.Session(), requests.Session()
    assert _login(phone, a, "doimatkhau").status_code == 302
    assert _login(laptop, b, "doimatkhau").status_code == 302
    assert _logged_in(phone, b) and _logged_in(laptop, a)
    old_phone_cookie = phone.cookies.get("session")

    page = phone.get(a.url + "/account/password", timeout=10).text
    response = phone.post(a.url + "/account/password", data={
        "csrf_token": hidden_fields(page)["csrf_token"], "current": PASSWORD,
        "new": "a-brand-new-pass-2", "confirm": "a-brand-new-pass-2"}, allow_redirects=False,
        timeout=10)
    assert response.status_code == 302 and response.headers["Location"].endswith("/home")

    assert not _logged_in(laptop, b), "the other device is logged out on B"
    assert not _logged_in(laptop, a)
    assert _logged_in(phone, b), "the device that changed it stays logged in, on both hosts"
    replay = requests.Session()
    replay.cookies.set("session", old_phone_cookie)
    assert not _logged_in(replay, b), "the cookie from before the change is dead"
