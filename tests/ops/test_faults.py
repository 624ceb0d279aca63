"""Faults: workers and the master killed with SIGKILL while members autosave, retried
saves, PostgreSQL unreachable or cutting connections, Redis down, and fifty concurrent
writers on the embedded SQLite file.

Every check is about what a member sees or keeps: an answer acknowledged with 2xx is in
the database; an outage is a readable Vietnamese 503 (with Retry-After), never a
traceback; the app recovers by itself without a restart.
"""
from __future__ import annotations

import logging
import os
import random
import re
import signal
import threading
import time
from collections import Counter, defaultdict

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from quizapp import create_app
from quizapp.extensions import db
from quizapp.models import Attempt, AttemptQuestion
from quizapp.services import attempts as attempt_service
from quizapp.services import users as user_service
from quizapp.services.attempts import PracticeSpec
from tests.conftest import PASSWORD, BrowserClient, _base_config
from tests.ops._support import (Gunicorn, allow_connections, attempt_id_from, closed_port,
                                csrf_meta, hidden_fields, local_app, migrate_and_import,
                                private_database, server_env,
                                terminate_connections)
from tests.tokens import tokens_of


def _vi(app, message: str) -> str:
    with app.test_request_context("/"), force_locale("vi"):
        return gettext(message)


def _assert_vietnamese_503(app, response) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, (response.status_code, body[:300])
    assert response.headers.get("Retry-After", "").isdigit()
    title = _vi(app, "The service is temporarily unavailable")
    assert title != "The service is temporarily unavailable", "the Vietnamese catalog is compiled"
    if response.mimetype == "application/json":
        assert response.get_json()["error"] == title
    else:
        assert '<html lang="vi">' in body and title in body
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "127.0.0.1"):
        assert leak not in body, leak


# ---------------------------------------------------------------- (a) kill -9 under autosave

MEMBERS = 10


class AutosavingMember:
    """One member's browser: logs in, starts a practice, then autosaves random answers
    with increasing sequence numbers, one request at a time, recording each outcome."""

    def __init__(self, index: int, base_url: str):
        import requests
        self.index = index
        self.http = requests.Session()
        self.base_url = base_url
        self.seq = 0
        # (question id, seq, value, acknowledged, http status or None)
        self.log: list[tuple[int, int, str, bool, int | None]] = []

    def start(self) -> None:
        page = self.http.get(self.base_url + "/login", timeout=10).text
        response = self.http.post(self.base_url + "/login", data={
            "csrf_token": hidden_fields(page)["csrf_token"], "login": f"dv{self.index:02d}",
            "password": PASSWORD}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:300]
        fields = hidden_fields(self.http.get(self.base_url + "/practice", timeout=10).text)
        response = self.http.post(self.base_url + "/practice", data={
            "csrf_token": fields["csrf_token"], "start_token": fields["start_token"],
            "count": "10", "feedback": "exam", "time_limit": ""}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:300]
        self.attempt_id = attempt_id_from(response.headers["Location"])
        self.token = csrf_meta(self.http.get(f"{self.base_url}/attempts/{self.attempt_id}",
                                             timeout=10).text)

    def run(self, choices: dict[int, list[tuple[int, int]]], stop: threading.Event, max_saves: int = 400) -> None:
        import requests
        rng = random.Random(self.index)
        questions = sorted(choices)
        while not stop.is_set() and len(self.log) < max_saves:
            question_id = rng.choice(questions)
            token, choice = rng.choice(choices[question_id])  # the page's name, the id
            self.seq += 1
            status = None
            try:
                response = self.http.post(
                    f"{self.base_url}/api/attempts/{self.attempt_id}/answers",
                    json={"question_id": question_id, "choice_ids": [token], "seq": self.seq},
                    headers={"X-CSRFToken": self.token}, timeout=5)
                status = response.status_code
                acknowledged = 200 <= status < 300 and response.json().get("saved") is True
            except requests.RequestException:
                acknowledged = False
            self.log.append((question_id, self.seq, str(choice), acknowledged, status))
            time.sleep(0.01 if acknowledged else 0.05)


@pytest.mark.postgres_only
@pytest.mark.slow
def test_acknowledged_saves_survive_kill_9_of_a_worker_and_then_the_master(tmp_path, capsys):
    import requests
    with private_database() as url:
        migrate_and_import(url)
        app = local_app(url)
        with app.app_context():
            ward = user_service.create_unit("tay-mo", "Đảng bộ phường Tây Mỗ", kind="committee")
            first = user_service.create_user("dv00", "Người 0", ward, password=PASSWORD)
            for n in range(1, MEMBERS):  # one password hash, copied (hashing is slow)
                user = user_service.create_user(f"dv{n:02d}", f"Người {n}", ward)
                user.password_hash = first.password_hash
            db.session.commit()
        env = server_env(url, LOGIN_RATE_LIMIT="1000 per minute")
        server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2, extra_args=("--timeout", "20"))
        restarted = None
        try:
            server.wait_ready(workers=2)
            members = [AutosavingMember(n, server.url) for n in range(MEMBERS)]
            for member in members:
                member.start()
            with app.app_context():
                choices = {}
                for member in members:
                    attempt = db.session.get(Attempt, member.attempt_id)
                    choices[member.index] = {i.question_id: list(zip(tokens_of(i, i.choice_ids), i.choice_ids))
                                             for i in attempt.items}
                db.session.remove()

            stop = threading.Event()
            threads = [threading.Thread(target=m.run, args=(choices[m.index], stop)) for m in members]
            for thread in threads:
                thread.start()
            time.sleep(2.0)
            workers_before = server.worker_pids()
            victim = workers_before[0]
            os.kill(victim, signal.SIGKILL)
            marks = {"worker_killed": sum(len(m.log) for m in members)}
            time.sleep(2.5)
            workers_after = server.worker_pids()
            assert victim not in workers_after and len(workers_after) == 2, \
                "the master replaced the killed worker"
            os.kill(server.proc.pid, signal.SIGKILL)
            marks["master_killed"] = sum(len(m.log) for m in members)
            # Orphaned sync workers keep serving while requests keep coming (gunicorn checks
            # the parent only when idle): the host dies for good when they are killed too.
            time.sleep(2.0)
            marks["workers_killed"] = sum(len(m.log) for m in members)
            os.killpg(server.pgid, signal.SIGKILL)  # the master's group: only its workers
            time.sleep(1.0)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            assert not any(t.is_alive() for t in threads)
            server.stop()

            # A fresh master on the same database: the members' cookies still work.
            restarted = Gunicorn(env, tmp_path / "gunicorn-2.log", workers=1)
            restarted.wait_ready()
            with app.app_context():
                lost, in_doubt_applied, acknowledged = [], 0, 0
                for member in members:
                    items = {i.question_id: i for i in db.session.execute(select(AttemptQuestion).where(
                        AttemptQuestion.attempt_id == member.attempt_id)).scalars()}
                    by_question = defaultdict(list)
                    for entry in member.log:
                        by_question[entry[0]].append(entry)
                    for question_id, entries in by_question.items():
                        acked = [e for e in entries if e[3]]
                        acknowledged += len(acked)
                        if not acked:
                            continue
                        last = max(acked, key=lambda e: e[1])
                        later = {e[1]: e for e in entries if e[1] > last[1]}  # all unacknowledged
                        item = items[question_id]
                        if item.save_seq == last[1] and item.selected == last[2]:
                            continue
                        if item.save_seq in later and item.selected == later[item.save_seq][2]:
                            in_doubt_applied += 1  # a save whose answer was lost, yet applied
                            continue
                        lost.append((member.attempt_id, question_id, last, item.save_seq, item.selected))
                    answered = sum(1 for i in items.values() if i.selected)
                    state = member.http.get(f"{restarted.url}/api/attempts/{member.attempt_id}",
                                            timeout=10)
                    assert state.status_code == 200 and state.json()["answered"] == answered
                db.session.remove()
            sent = sum(len(m.log) for m in members)
            failed = sum(1 for m in members for e in m.log if not e[3])
            statuses = Counter(e[4] for m in members for e in m.log)
            with capsys.disabled():
                print(f"\n[kill -9] saves sent {sent}, acknowledged {acknowledged}, not acknowledged "
                      f"{failed} (statuses {dict(statuses)}), sent before the worker kill "
                      f"{marks['worker_killed']}, before the master kill {marks['master_killed']}, before "
                      f"the orphaned workers were killed {marks['workers_killed']}; "
                      f"acknowledged answers lost: {len(lost)}; unacknowledged saves that were "
                      f"nevertheless applied: {in_doubt_applied}")
            assert acknowledged > 100, "enough saves were acknowledged to mean something"
            assert failed > 0, "the kills interrupted some saves"
            assert not [s for s in statuses if s is not None and s >= 500], statuses
            assert not lost, lost[:5]
        finally:
            server.stop()
            if restarted is not None:
                restarted.stop()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


# ---------------------------------------------------------------- (b) retries are harmless

@pytest.fixture
def member_attempt(app, bank, make_user, isolated_requests):
    """A logged-in member's client and an exam-mode practice attempt of three questions."""
    member = make_user(username="dangvien")
    attempt = attempt_service.start_practice(member, PracticeSpec([], 3, None, "exam"))
    db.session.commit()
    client = BrowserClient(app.test_client())
    client.login("dangvien")
    return client, attempt.id


def _item(attempt_id: int, position: int = 0) -> tuple:
    db.session.expire_all()
    item = db.session.get(Attempt, attempt_id).items[position]
    return item.question_id, item.choice_ids, item


def _row(attempt_id: int, question_id: int) -> tuple:
    db.session.expire_all()
    item = db.session.execute(select(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.question_id == question_id)).scalar_one()
    return item.selected, item.answered_at, item.save_seq


@pytest.mark.parametrize("seq", [None, 17])
def test_the_same_autosave_retried_gives_the_same_stored_state(member_attempt, frozen_clock, seq):
    client, attempt_id = member_attempt
    question_id, choice_ids, item = _item(attempt_id)
    body = {"question_id": question_id, "choice_ids": tokens_of(item, [choice_ids[1]])}
    if seq is not None:
        body["seq"] = seq
    token = client.csrf_token("/home")
    first = client.post(f"/api/attempts/{attempt_id}/answers", json=body, headers={"X-CSRFToken": token})
    assert first.status_code == 200
    stored = _row(attempt_id, question_id)
    for _ in range(3):
        frozen_clock.advance(seconds=2)  # the retry arrives later
        again = client.post(f"/api/attempts/{attempt_id}/answers", json=body,
                            headers={"X-CSRFToken": token})
        assert again.status_code == 200
        assert again.get_json()["choice_ids"] == first.get_json()["choice_ids"]
        assert _row(attempt_id, question_id) == stored  # not even answered_at moves


def test_a_late_retry_of_an_older_save_does_not_overwrite_a_newer_answer(member_attempt):
    client, attempt_id = member_attempt
    question_id, choice_ids, item = _item(attempt_id)
    token = client.csrf_token("/home")
    older = {"question_id": question_id, "choice_ids": tokens_of(item, [choice_ids[0]]), "seq": 100}
    newer = {"question_id": question_id, "choice_ids": tokens_of(item, [choice_ids[1]]), "seq": 101}
    assert client.post(f"/api/attempts/{attempt_id}/answers", json=newer,
                       headers={"X-CSRFToken": token}).status_code == 200
    late = client.post(f"/api/attempts/{attempt_id}/answers", json=older, headers={"X-CSRFToken": token})
    assert late.status_code == 200
    assert late.get_json()["choice_ids"] == tokens_of(item, [choice_ids[1]]), \
        "the answer tells the stored value"
    assert _row(attempt_id, question_id)[0] == str(choice_ids[1])


def test_an_acknowledged_save_from_a_second_device_is_stored(app, member_attempt):
    """The member moves from a phone whose clock runs 5 minutes ahead to a laptop: the
    laptop's change is acknowledged, so it must be what is stored (or the answer must
    not say saved)."""
    client, attempt_id = member_attempt
    question_id, choice_ids, item = _item(attempt_id)
    now_ms = int(time.time() * 1000)
    token = client.csrf_token("/home")
    phone = {"question_id": question_id, "choice_ids": tokens_of(item, [choice_ids[0]]),
             "seq": now_ms + 300_000}
    assert client.post(f"/api/attempts/{attempt_id}/answers", json=phone,
                       headers={"X-CSRFToken": token}).status_code == 200
    laptop = BrowserClient(app.test_client())
    laptop.login("dangvien")
    change = {"question_id": question_id, "choice_ids": tokens_of(item, [choice_ids[1]]),
              "seq": now_ms + 1_000}
    response = laptop.post(f"/api/attempts/{attempt_id}/answers", json=change,
                           headers={"X-CSRFToken": laptop.csrf_token("/home")})
    acknowledged = response.status_code == 200 and response.get_json().get("saved") is True
    assert not acknowledged or _row(attempt_id, question_id)[0] == str(choice_ids[1])


# ---------------------------------------------------------------- (c) PostgreSQL unreachable

def _app_on_a_closed_port(tmp_path, **extra):
    return create_app(_base_config(tmp_path, "sqlite", SQLALCHEMY_DATABASE_URI=(
        f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/quizapp"),
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
        # What a member gets from gunicorn: no exception propagated to the test.
        PROPAGATE_EXCEPTIONS=False, **extra))


def _logged_in(client) -> None:
    """A browser whose cookie names a user, who must be loaded from the database."""
    with client.session_transaction() as session:
        session["_user_id"] = "1.1"
        session["_fresh"] = True


def test_database_on_a_closed_port_answers_a_vietnamese_503(tmp_path):
    app = _app_on_a_closed_port(tmp_path)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process is alive…
    ready = client.get("/readyz")
    assert ready.status_code == 503  # …but not ready
    assert ready.get_json()["checks"]["database"] == "unreachable"
    _assert_vietnamese_503(app, client.get("/login"))  # the login page lists public contests
    _logged_in(client)
    _assert_vietnamese_503(app, client.get("/api/attempts/1"))
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("request_log", [False, True])
def test_logged_in_pages_during_an_outage_answer_the_vietnamese_503(tmp_path, request_log):
    app = _app_on_a_closed_port(tmp_path, REQUEST_LOG=request_log)
    client = app.test_client()
    _logged_in(client)
    try:
        for path in ("/home", "/outline", "/attempts/1", "/api/attempts/1"):
            try:
                response = client.get(path)
            except OperationalError as exc:
                raise AssertionError(f"{path}: the error escaped the app's handlers, so gunicorn "
                                     "answers its bare 500") from exc
            _assert_vietnamese_503(app, response)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.postgres_only
@pytest.mark.slow
def test_postgres_cut_off_and_back_under_load_recovers_without_restart(tmp_path):
    with private_database() as url:
        app = local_app(url, LOGIN_RATE_LIMIT="1000 per minute",
                        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 8, "max_overflow": 4,
                                                   "pool_timeout": 10,
                                                   "connect_args": {"connect_timeout": 3}})
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
        try:
            with app.app_context():
                db.create_all()
                ward = user_service.create_unit("tay-mo", "Đảng bộ phường Tây Mỗ", kind="committee")
                user_service.create_user("dangvien", "Nguyễn Văn An", ward, password=PASSWORD)
                db.session.commit()
            clients = []
            for _ in range(4):
                client = BrowserClient(app.test_client())
                client.login("dangvien")
                clients.append(client)
            # Anonymous pages that read the database (the login page lists public contests)
            # and a logged-in member's JSON; logged-in HTML pages are the xfail above.
            anonymous = [app.test_client() for _ in clients]

            phase = ["up"]
            seen: dict[str, Counter] = defaultdict(Counter)
            bad: list = []
            raced: list = []
            stop = threading.Event()

            def load(client, stranger):
                while not stop.is_set():
                    for who, path in ((stranger, "/login"), (client, "/api/attempts/999999")):
                        current = phase[0]
                        try:
                            response = who.get(path)
                        except OperationalError:
                            # The connection died after the request's last query and the
                            # session teardown's rollback raised (the xfail above).
                            if current == "back":
                                raise
                            raced.append(path)
                            continue
                        seen[current][response.status_code] += 1
                        if response.status_code == 503:
                            try:
                                _assert_vietnamese_503(app, response)
                            except AssertionError as exc:
                                bad.append((path, str(exc)[:200]))
                        elif response.status_code == 500 and current != "back":
                            # A connection cut between the view's query and the error
                            # handler's rollback: the race that
                            # test_connection_lost_after_the_last_query_still_gets_its_answer
                            # pins down (xfail). Counted, not failed here.
                            raced.append(path)
                        elif response.status_code not in (200, 404):
                            bad.append((path, response.status_code,
                                        response.get_data(as_text=True)[:200]))
                    time.sleep(0.01)

            threads = [threading.Thread(target=load, args=pair) for pair in zip(clients, anonymous)]
            for thread in threads:
                thread.start()
            time.sleep(1.0)
            # 1. Every connection of the pool is cut (a failover, a restart of the server):
            #    the pool's pre-ping replaces them, members see nothing.
            phase[0] = "terminated"
            killed = terminate_connections(url)
            time.sleep(1.0)
            # 2. The database refuses connections (stopped): a Vietnamese 503.
            phase[0] = "down"
            allow_connections(url, False)
            terminate_connections(url)
            time.sleep(1.5)
            down_ready = clients[0].get("/readyz")
            # 3. It is back: the same app serves again, without a restart.
            allow_connections(url, True)
            phase[0] = "recovering"
            time.sleep(1.0)
            phase[0] = "back"
            time.sleep(1.0)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            print(f"\n[postgres cut] terminated {killed} connections; statuses by phase: "
                  f"{ {k: dict(v) for k, v in seen.items()} }; 500s from the rollback races: {len(raced)}")
            assert not bad, bad[:5]
            assert len(raced) <= 10, "a race around the cut, not a systematic failure"
            assert killed >= 1
            assert down_ready.status_code == 503
            assert seen["down"][503] > 0, "the outage was seen as 503"
            assert seen["back"][200] > 0 and seen["back"][503] == 0, seen["back"]
            assert clients[0].get("/readyz").status_code == 200
            assert not [s for phase_counts in seen.values() for s in phase_counts
                        if s > 500 and s != 503]
            # Terminated connections alone are invisible to members (pool_pre_ping), apart
            # from requests that were running at the moment of the cut.
            assert seen["terminated"][200] > 0
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.mark.postgres_only
@pytest.mark.parametrize("then", ["refuse", "answer"])
def test_connection_lost_after_the_last_query_still_gets_its_answer(app, isolated_requests, then):
    import psycopg
    from sqlalchemy import text
    from quizapp.services.errors import NotFound

    def lose_the_connection():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        if then == "refuse":
            raise NotFound("gone")  # any domain error: its handler rolls back first
        return {"status": "ok"}  # the teardown rolls back afterwards

    app.add_url_rule("/api/_test/lose-connection", "test_lose_connection", lose_the_connection)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # what gunicorn's member would get
    try:
        response = app.test_client().get("/api/_test/lose-connection")
    except OperationalError as exc:
        raise AssertionError("the error escaped the app: gunicorn answers its bare 500") from exc
    assert response.status_code == (404 if then == "refuse" else 200), response.status_code


# ---------------------------------------------------------------- (d) Redis down

class TestRedisDown:
    @pytest.fixture
    def app_config(self):
        return {"REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0", "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_logins_and_pages_work_and_limits_fall_back_to_memory(self, isolated_requests, client,
                                                                  bank, make_user, caplog):
        make_user(username="dangvien")
        app = isolated_requests
        assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
        caplog.set_level(logging.WARNING, logger="flask-limiter")
        client.login("dangvien")  # the first limited request meets the dead Redis
        assert any("falling back to in-memory" in r.getMessage() for r in caplog.records), \
            "the log says the limits fell back"
        for path in ("/home", "/outline", "/practice"):
            assert client.get(path).status_code == 200, path
        fields = hidden_fields(client.get("/practice").get_data(as_text=True))
        response = client.post("/practice", data={
            "csrf_token": fields["csrf_token"], "start_token": fields["start_token"],
            "count": "3", "feedback": "exam"})
        assert response.status_code == 302 and "/attempts/" in response.headers["Location"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["checks"]["redis"] == "unreachable"
        # The limit still holds, per process: two more tries, then 429.
        stranger = BrowserClient(app.test_client())
        token = stranger.csrf_token()
        statuses = [stranger.post("/login", data={"csrf_token": token, "login": "dangvien",
                                                  "password": "wrong"}).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


# ---------------------------------------------------------------- (e) SQLite, 50 writers

WRITERS = 50


@pytest.mark.sqlite_only
@pytest.mark.slow
def test_fifty_concurrent_writers_on_sqlite_never_see_database_is_locked(tmp_path, parsed_bank, caplog):
    from quizapp.services.bank import import_bank
    app = create_app(_base_config(tmp_path, "sqlite", LOGIN_RATE_LIMIT="1000 per minute"))
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    with app.app_context():
        db.create_all()
        import_bank(parsed_bank)
        ward = user_service.create_unit("tay-mo", "Đảng bộ phường Tây Mỗ", kind="committee")
        first = user_service.create_user("dv00", "Người 0", ward, password=PASSWORD)
        for n in range(1, WRITERS):
            user = user_service.create_user(f"dv{n:02d}", f"Người {n}", ward)
            user.password_hash = first.password_hash
        db.session.commit()
    caplog.set_level(logging.ERROR)
    barrier = threading.Barrier(WRITERS)
    results: list[list] = [[] for _ in range(WRITERS)]
    errors: list = []

    def writer(index: int):
        client = BrowserClient(app.test_client())
        out = results[index]
        try:
            client.login(f"dv{index:02d}")
            fields = hidden_fields(client.get("/practice").get_data(as_text=True))
            barrier.wait(timeout=60)
            response = client.post("/practice", data={
                "csrf_token": fields["csrf_token"], "start_token": fields["start_token"],
                "count": "5", "feedback": "exam"})
            out.append(("start", response.status_code, response.get_data(as_text=True)))
            attempt_id = attempt_id_from(response.headers["Location"])
            page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
            token = csrf_meta(page)
            question_ids = [int(q) for q in re.findall(r'id="q-(\d+)"', page)]
            chosen = {}
            for seq, question_id in enumerate(question_ids, start=1):
                values = re.findall(rf'name="q-{question_id}" value="(\d+)"', page)
                chosen[question_id] = values[index % len(values)]
                response = client.post(f"/api/attempts/{attempt_id}/answers", json={
                    "question_id": question_id, "choice_ids": [int(chosen[question_id])], "seq": seq},
                    headers={"X-CSRFToken": token})
                out.append(("save", response.status_code, response.get_data(as_text=True)))
            data = {"csrf_token": token, "action": "submit"}
            data.update({f"q-{qid}": value for qid, value in chosen.items()})
            response = client.post(f"/attempts/{attempt_id}", data=data)
            out.append(("submit", response.status_code, response.get_data(as_text=True)))
            response = client.get(f"/attempts/{attempt_id}/result")
            out.append(("result", response.status_code, response.get_data(as_text=True)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append((index, repr(exc)))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[:5]
    statuses = Counter((kind, status) for out in results for kind, status, _ in out)
    print(f"\n[sqlite x{WRITERS}] {dict(statuses)} in {elapsed:.1f} s")
    unexpected = [(kind, status, body[:200]) for out in results for kind, status, body in out
                  if status >= 500 or "database is locked" in body or (kind, status) not in {
                      ("start", 302), ("save", 200), ("submit", 302), ("result", 200)}]
    assert not unexpected, unexpected[:5]
    assert not [r for r in caplog.records if "locked" in r.getMessage() or r.exc_info]
    with app.app_context():
        finished = db.session.execute(select(Attempt).where(Attempt.status == "finished")).scalars().all()
        assert len(finished) == WRITERS
        assert all(sum(1 for i in a.items if i.selected) == len(a.items) for a in finished)
        db.session.remove()
        db.engine.dispose()
