"""Fixtures: the app on SQLite (default) or PostgreSQL (--db=postgresql), a client that
speaks CSRF like a browser, a frozen clock, and factories."""
from __future__ import annotations

import os
import random
import re
import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql as psql
from jinja2 import BytecodeCache
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from quizapp import clock, create_app
from quizapp.extensions import db
from quizapp.models import User
from quizapp.services import attempts as attempt_service
from quizapp.services.attempts.page import clear_text_cache
from quizapp.services import contests as contest_service
from quizapp.services.people import users as user_service
from quizapp.services.bank import import_bank, read_bank

ROOT = Path(__file__).resolve().parent.parent
BANK_PATH = ROOT / "questions"
PASSWORD = "correct-horse-1"


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=["sqlite", "postgresql"],
                     help="database for the suite (postgresql needs TEST_DATABASE_URL)")


def pytest_configure(config):
    if config.getoption("--db") == "postgresql" and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("--db=postgresql needs TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        _services_of_worker(int(worker.removeprefix("gw")))


# ---------------------------------------------------------------- parallel workers
# `make test` runs the suite on pytest-xdist workers (TEST_WORKERS, one per core by default).
# Each worker is a process of its own with its own temporary folder (so its own SQLite files)
# and here gets its own PostgreSQL database and Redis databases, so that workers never share
# a row or a key: worker N uses TEST_DATABASE_URL's database with the suffix "_gwN" (created
# here when missing) and the Redis databases 2*N below the ones a single run uses.
# Everything that reads these variables later (the fixtures, tests/ops/_support.py, the
# backup and migration tests) then sees the worker's own.
_REDIS_DEFAULTS = {"TEST_REDIS_URL": "redis://127.0.0.1:6379/15",
                   "TEST_OPS_REDIS_URL": "redis://127.0.0.1:6379/14"}


def _services_of_worker(number: int) -> None:
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        parts = urlsplit(base)
        name = f"{parts.path.lstrip('/')}_gw{number}"
        admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                connection.execute(psql.SQL("CREATE DATABASE {}").format(psql.Identifier(name)))
        os.environ["TEST_DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    for variable, default in _REDIS_DEFAULTS.items():
        parts = urlsplit(os.environ.get(variable, default))
        index = int(parts.path.lstrip("/") or 0) - 2 * number
        if index < 0:
            raise pytest.UsageError(f"{variable}: too many workers for Redis's 16 databases")
        os.environ[variable] = urlunsplit(parts._replace(path=f"/{index}"))


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


def _deselected_line(config, counts: dict[str, int]) -> str:
    other = "the --db=postgresql run" if config.getoption("--db") == "sqlite" else "the default SQLite run"
    what = ", ".join(f"{n} {label}" for label, n in counts.items())
    return f"deselected {what} test(s): this run is {config.getoption('--db')}; they run in {other}"


def pytest_report_collectionfinish(config, start_path, items):
    counts = getattr(config, "_quizapp_deselected", {})
    return [_deselected_line(config, counts)] if counts else []


# Under pytest-xdist the workers collect and deselect, and the line above is never printed:
# each worker hands its counts to the controller, which prints them after the results.
def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["quizapp_deselected"] = getattr(
            session.config, "_quizapp_deselected", {})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    counts = getattr(node, "workeroutput", {}).get("quizapp_deselected")
    if counts:
        node.config._quizapp_worker_deselected = counts


def pytest_terminal_summary(terminalreporter, config):
    counts = getattr(config, "_quizapp_worker_deselected", None)
    if counts:
        terminalreporter.write_line(_deselected_line(config, counts))


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


# ---------------------------------------------------------------- the database per test
# Every test starts from one of two states: the empty schema, or the schema with the bundled
# bank imported (when the test asks for `bank`). Both are built once per session, and each
# test gets a fresh copy: on SQLite a copy of a template file, on PostgreSQL the rows emptied
# and the bank's rows put back with COPY (DELETE and COPY measured ~20x faster than
# TRUNCATE and an import through the ORM, and ~4x faster than CREATE DATABASE ... TEMPLATE).
# Ids are those a fresh import gives (sequences are reset as TRUNCATE ... RESTART IDENTITY
# did). Only the questions' `updated_at` differs: it is the time the template was built.
_BANK_LOADED = "tests.bank_loaded"


def _build_sqlite_template(path: Path, parsed_bank) -> None:
    app = create_app(_base_config(path.parent, "sqlite", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        if parsed_bank is not None:
            import_bank(parsed_bank)
            db.session.commit()
        # Fold the WAL into the main file so that copying that one file copies everything.
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory):
    """The two SQLite starting states as files, each built on first use."""
    folder = tmp_path_factory.mktemp("db-templates")
    built: dict[bool, Path] = {}

    def template(with_bank: bool, parsed_bank=None) -> Path:
        if with_bank not in built:
            path = folder / ("bank.sqlite3" if with_bank else "schema.sqlite3")
            _build_sqlite_template(path, parsed_bank if with_bank else None)
            wal = path.with_name(path.name + "-wal")
            assert not wal.exists() or wal.stat().st_size == 0, "template left a WAL behind"
            built[with_bank] = path
        return built[with_bank]
    return template


class _PostgresStates:
    """Puts the shared PostgreSQL database back into one of the two starting states."""

    def __init__(self):
        self.tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        # Sequences owned by a column (serial or identity): the ones RESTART IDENTITY reset.
        self.sequences = db.session.execute(text(
            "SELECT s.oid::regclass::text, t.relname, q.seqstart FROM pg_class s"
            " JOIN pg_sequence q ON q.seqrelid = s.oid"
            " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
            " JOIN pg_class t ON t.oid = d.refobjid"
            " WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace")).all()
        self.bank_tables: list[str] = []  # those the import writes, parents first
        self.bank_rows: dict[str, bytes] | None = None
        self.bank_sequences: dict[str, tuple[int, bool]] = {}

    def _copy(self, sql: str, data: bytes | None = None) -> bytes:
        cursor = db.session.connection().connection.driver_connection.cursor()
        with cursor.copy(sql) as copy:
            if data is not None:
                copy.write(data)
                return b""
            return b"".join(bytes(chunk) for chunk in copy)

    def capture_bank(self, parsed_bank) -> None:
        self.reset(with_bank=False)
        import_bank(parsed_bank)
        db.session.commit()
        self.bank_tables = [name for name in reversed(self.tables) if db.session.execute(
            text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')).scalar()]
        self.bank_rows = {name: self._copy(f'COPY "{name}" TO STDOUT (FORMAT binary)')
                          for name in self.bank_tables}
        for sequence, table, _start in self.sequences:
            if table in self.bank_tables:
                value, called = db.session.execute(
                    text(f"SELECT last_value, is_called FROM {sequence}")).one()
                self.bank_sequences[sequence] = (value, called)
        db.session.commit()

    def reset(self, with_bank: bool) -> None:
        for name in self.tables:
            db.session.execute(text(f'DELETE FROM "{name}"'))
        values = [(sequence, *(self.bank_sequences[sequence] if with_bank and table in self.bank_tables
                               else (start, False)))
                  for sequence, table, start in self.sequences]
        if values:
            db.session.execute(text("SELECT " + ", ".join(
                f"setval('{sequence}', {value}, {'true' if called else 'false'})"
                for sequence, value, called in values)))
        if with_bank:
            for name in self.bank_tables:  # parents first: the foreign keys hold row by row
                self._copy(f'COPY "{name}" FROM STDIN (FORMAT binary)', self.bank_rows[name])
        db.session.commit()


@pytest.fixture(scope="session")
def _pg_schema(backend):
    """Create the schema once per PostgreSQL run; tests empty the tables instead of recreating."""
    if backend != "postgresql":
        yield None
        return
    app = create_app(_base_config(None, backend))
    with app.app_context():
        # A test database needs no durability: commits that do not wait for the WAL to reach
        # the disk make the per-test reset and every test's commits several times cheaper
        # (a crash loses at most the last moments of a throw-away database). It holds for
        # every later connection, those of the app's engine included.
        db.session.execute(text(
            "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = off',"
            " current_database()); END $$"))
        db.session.commit()
        db.engine.dispose()
        db.drop_all()
        db.create_all()
        app.extensions["tests.pg_states"] = _PostgresStates()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for the whole test process. Every test builds a new app, and
    each app's Jinja environment would otherwise parse and compile every template it renders
    again. Jinja keys a bucket by template name and checks the source's checksum, so an edited
    template is compiled afresh."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _SharedTemplateCode()


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


@pytest.fixture
def app_config():
    """Extra settings for the `app` fixture; override in a test module."""
    return {}


@pytest.fixture
def app(request, tmp_path, backend, _pg_schema, _sqlite_templates, app_config):
    """The app on a database in its starting state: with the bundled bank already imported
    when the test (or one of its fixtures) asks for `bank`, else empty."""
    with_bank = "bank" in request.fixturenames
    parsed = request.getfixturevalue("parsed_bank") if with_bank else None
    if backend == "sqlite":
        shutil.copyfile(_sqlite_templates(with_bank, parsed), tmp_path / "test.sqlite3")
    app = create_app(_base_config(tmp_path, backend, **app_config))
    app.jinja_env.bytecode_cache = _TEMPLATE_CODE
    # The quiz page's wording cache trusts content_hash, which only the bank's store
    # writes; tests that edit a question's text in place (the stored-XSS ones) would
    # otherwise leave their text to the next test's fresh database in this process.
    clear_text_cache()
    with app.app_context():
        if backend == "postgresql":
            states = _pg_schema.extensions["tests.pg_states"]
            if with_bank and states.bank_rows is None:
                states.capture_bank(parsed)
            states.reset(with_bank)
        app.extensions[_BANK_LOADED] = with_bank
        app.test_client_class = IsolatedFlaskClient
        yield app
        db.session.remove()
        if backend == "postgresql":
            states.reset(with_bank=False)
            db.session.remove()
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


def open_round_at_start(organizer, clock, contest_title: str = "Cuộc thi", **settings):
    """A contest with one scheduled round (defaults: 5 questions of viewpoint-1, 20
    minutes, opening in an hour for two hours; `settings` override RoundSettings), and
    the frozen clock set to its opening."""
    values = dict(title="Vòng 1", opens_at=clock.now + timedelta(hours=1),
                  closes_at=clock.now + timedelta(hours=3), time_limit_minutes=20,
                  question_count=5, draw_plan="viewpoint-1: 5")
    values.update(settings)
    contest = contest_service.create_contest(organizer, contest_title, "", [])
    round_ = contest_service.create_round(organizer, contest, contest_service.RoundSettings(**values))
    contest_service.schedule(organizer, round_)
    db.session.commit()
    clock.set(round_.opens_at)
    return round_


def run_in_thread(app, work, done: threading.Event, failures: list,
                  name: str = "") -> threading.Thread:
    """Run `work` in a thread with its own app context (so its own session and
    connection, as another gunicorn worker would), commit it, and set `done` at the end
    either way; an exception it raises is appended to `failures` (rolled back). For the
    races on PostgreSQL: one side held inside its transaction while the other runs."""
    def run():
        with app.app_context():
            try:
                work()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                failures.append(exc)
            finally:
                db.session.remove()
                done.set()
    thread = threading.Thread(target=run, name=name or None)
    thread.start()
    return thread


def while_a_finish_is_held(app, finishing, other, wait: float = 3) -> list:
    """Run `finishing` (it finishes a round attempt) in a thread held inside its
    transaction once the attempt is graded and counted (a receiver of
    hooks.attempt_finished connected after the app's: the branch counters are written);
    meanwhile run `other` in another thread, and let the first go on once `other` is
    done or `wait` seconds have passed (`other` is then waiting for it). Returns the
    exceptions either side raised."""
    from quizapp.services.attempts import hooks
    held, finished, other_done = threading.Event(), threading.Event(), threading.Event()
    failures: list = []

    def hold(_attempt):
        if threading.current_thread().name == "finisher":
            held.set()
            other_done.wait(wait)
    hooks.attempt_finished.connect(hold)
    try:
        finisher = run_in_thread(app, finishing, finished, failures, "finisher")
        assert held.wait(10)
        beside = run_in_thread(app, other, other_done, failures)
        for thread in (finisher, beside):
            thread.join(30)
            assert not thread.is_alive(), "a side hung"
    finally:
        hooks.attempt_finished.disconnect(hold)
    return failures


def one_submitted_one_saved(make_user, organizer, frozen_clock):
    """An open 5-question round of one branch: member dv-a submitted everything right
    (which fills the key caches of this revision), dv-b answered everything right and
    left it saved, unsubmitted. Returns (the round, dv-b's attempt)."""
    round_ = open_round_at_start(organizer, frozen_clock, question_count=5,
                                 draw_plan="viewpoint-1: 5", time_limit_minutes=20)
    first = contest_service.start_round_attempt(make_user(username="dv-a"), round_,
                                                rng=random.Random(1))
    second = contest_service.start_round_attempt(make_user(username="dv-b"), round_,
                                                 rng=random.Random(1))
    db.session.commit()
    key = contest_service.answer_key([i.question_id for i in first.items])
    attempt_service.submit(first, {i.question_id: sorted(key[i.question_id]) for i in first.items})
    attempt_service.save_answers(second, {i.question_id: sorted(key[i.question_id])
                                          for i in second.items})
    db.session.commit()
    return round_, second


def closed_round_taken(organizer, make_user, frozen_clock, members: int, seed: int = 5,
                       questions: int = 5, right_share: float = 0.6, prefix: str = "dv"):
    """A round of `questions` questions drawn from the viewpoints, taken by `members`
    members who answer a random mix right and wrong (same seed, same answers), then
    closed (the clock half an hour past its close)."""
    round_ = open_round_at_start(organizer, frozen_clock, question_count=questions,
                                 draw_plan=f"viewpoints: {questions}", time_limit_minutes=20)
    rng = random.Random(seed)
    for n in range(members):
        take_round(make_user(username=f"{prefix}{seed}-{n}"), round_, frozen_clock,
                   right=lambda item, rng=rng: rng.random() < right_share)
    frozen_clock.set(round_.closes_at + timedelta(minutes=30))
    return round_


def assert_member_rank_agrees(round_, outsider=None):
    """contest_service.member_rank (counted in SQL) gives every member his row of the full
    ranking: rank, tie, and the values that placed him; an outsider gets no row."""
    rows = contest_service.ranking(round_)
    assert rows, "a ranking to compare with"
    for row in rows:
        mine, total = contest_service.member_rank(round_, row.user)
        assert total == len(rows)
        assert (mine.rank, mine.tied, mine.attempt_id, mine.score, mine.points, mine.max_score,
                mine.share, mine.distance, mine.time_taken_seconds, mine.finished_at,
                mine.on_paper, mine.unit.id) == (
            row.rank, row.tied, row.attempt_id, row.score, row.points, row.max_score,
            row.share, row.distance, row.time_taken_seconds, row.finished_at,
            row.on_paper, row.unit.id), row.user.username
    if outsider is not None:
        assert contest_service.member_rank(round_, outsider) == (None, len(rows))
    assert_ranking_pages_agree(round_, rows, outsider)


def assert_ranking_pages_agree(round_, rows, outsider=None):
    """contest_service.ranking_page (ordered and cut by the database) gives, page after
    page, the full ranking's rows in its order with its ranks and ties, for page sizes
    that cut a tie; each member is told the page holding his row."""
    def seen(row):
        return (row.rank, row.tied, row.attempt_id, row.user.id, row.unit.id, row.points,
                row.max_score, row.share, row.distance, row.time_taken_seconds,
                row.finished_at, row.on_paper)
    for size in (1, 2, 3, len(rows) + 1):
        listing = contest_service.ranking_page(round_, 1, size=size)
        assert (listing.total, listing.pages) == (len(rows), -(-len(rows) // size))
        paged = [r for n in range(1, listing.pages + 1)
                 for r in contest_service.ranking_page(round_, n, size=size).rows]
        assert [seen(r) for r in paged] == [seen(r) for r in rows], size
    for position, row in enumerate(rows):
        listing = contest_service.ranking_page(round_, 1, user=row.user, size=2)
        assert listing.own_page == position // 2 + 1, row.user.username
    if outsider is not None:
        assert contest_service.ranking_page(round_, 1, user=outsider).own_page is None
    assert_prize_places_agree(round_, rows)


def assert_contest_ranking_agrees(contest):
    """contest_ranking (shares added as integers over a common denominator, members
    loaded afterwards) against an oracle written here with plain fractions from the
    stored results; and its pages (contest_ranking_page) against it, page after page,
    for sizes that cut a tie."""
    from fractions import Fraction

    from quizapp.models import RoundResult
    rows = contest_service.contest_ranking(contest)
    oracle: dict[int, list] = {}
    for round_ in contest.rounds:
        if contest_service.round_state(round_) not in ("closed", "finalized"):
            continue
        actual = contest_service.prediction_actual(round_) if round_.prediction_kind else None
        for result in db.session.execute(db.select(RoundResult).where(
                RoundResult.round_id == round_.id)).scalars():
            keys = oracle.setdefault(result.user_id, [Fraction(0), 0, 0, 0, None, result.attempt_id])
            keys[0] -= Fraction(result.points, result.max_score * 100) if result.max_score else 0
            if actual is not None:
                if result.prediction is None:
                    keys[1] += 1
                else:
                    keys[2] += abs(result.prediction - actual)
            keys[3] += result.time_taken_seconds
            keys[4] = max(keys[4] or result.finished_at, result.finished_at)
            keys[5] = min(keys[5], result.attempt_id)
    expected = sorted(oracle, key=lambda user_id: (oracle[user_id], ))
    assert [r.user.id for r in rows] == expected
    for row in rows:
        key = oracle[row.user.id]
        assert row.share == -key[0]
        assert row.tied == any(oracle[o][:5] == key[:5] for o in oracle if o != row.user.id)
    def seen(row):
        return (row.rank, row.tied, row.user.id, row.unit.id, row.points, row.max_score,
                row.share, row.distance, row.time_taken_seconds, row.extra)
    for size in (1, 2, 3, len(rows) + 1):
        first = contest_service.contest_ranking_page(contest, 1, size=size)
        assert (first.total, first.pages) == (len(rows), max(1, -(-len(rows) // size)))
        paged = [r for n in range(1, first.pages + 1)
                 for r in contest_service.contest_ranking_page(contest, n, size=size).rows]
        assert [seen(r) for r in paged] == [seen(r) for r in rows], size


def assert_prize_places_agree(round_, rows):
    """The prize places drawn from the head of the ranking (contests.ranking_head, what
    propose_prizes reads) are those drawn from the full ranking, tie flags included, for
    quotas whose last place cuts a tie, with and without paper sheets; and
    propose_prizes gives the round's own."""
    from quizapp.services.contests.prizes import allot_prizes

    def places(ranked, quota):
        return [(tier, row.attempt_id, row.rank, row.tied, flag)
                for tier, row, flag in allot_prizes(ranked, quota)]
    tiers = ("first", "second", "third", "consolation")
    quotas = [list(zip(tiers, counts)) for counts in
              ((1, 0, 0, 0), (1, 1, 1, 0), (0, 2, 0, 1), (1, 1, 1, len(rows)))]
    for online_only in (False, True):
        eligible = [r for r in rows if not (online_only and r.on_paper)]
        for quota in quotas:
            head = contest_service.ranking_head(round_, sum(n for _t, n in quota) + 1,
                                                online_only=online_only)
            assert places(head, quota) == places(eligible, quota), (online_only, quota)
    quota = [(tier, getattr(round_, f"prize_{tier}")) for tier in tiers]
    eligible = [r for r in rows if round_.paper_prizes or not r.on_paper]
    assert [(p.tier, p.row.attempt_id, p.row.rank, p.tie_at_boundary)
            for p in contest_service.propose_prizes(round_)] == [
        (tier, attempt_id, rank, flag) for tier, attempt_id, rank, _tied, flag
        in places(eligible, quota)]


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
        if password is not None:
            user_service.check_password_strength(password)
        user = user_service.create_user(username or f"user{counter[0]}", full_name or f"Người Dùng {counter[0]}",
                                        unit or ward, role=role, password=None, phone=phone)
        if password is not None:
            user.password_hash = _password_hash(password)
        db.session.commit()
        return user
    return make


# Test accounts get a real scrypt hash with a small work factor (N = 2**10 instead of the
# app's 2**15): check_password_hash reads the parameters from the stored hash, so every login
# in the suite still verifies the password for real, at ~2 ms instead of ~70 ms. The app's
# own set_password (tests/services/test_users.py and every account it makes) keeps the default.
TEST_HASH_METHOD = "scrypt:1024:8:1"


def _password_hash(password: str) -> str:
    return generate_password_hash(password, method=TEST_HASH_METHOD)


@pytest.fixture
def bank(app, parsed_bank):
    """The bundled bank, imported (the `app` fixture starts from a copy that has it)."""
    if not app.extensions.get(_BANK_LOADED):  # asked for late, by getfixturevalue
        import_bank(parsed_bank)
        db.session.commit()
        app.extensions[_BANK_LOADED] = True
    return parsed_bank


# ---------------------------------------------------------------- scenario helpers
# Shared by the service, view and ops tests that build contest scenarios.

@pytest.fixture
def organizer(make_user):
    return make_user(role="organizer", username="btc", full_name="Ban Tổ Chức")


@pytest.fixture
def browser(app):
    """Another browser (its own cookies), logged in as `username`."""
    def open_as(username: str) -> BrowserClient:
        other = BrowserClient(app.test_client())
        other.login(username)
        return other
    return open_as


@pytest.fixture
def open_as(browser):
    """The same as `browser`, under the name most view tests use."""
    return browser


def right_ids(item) -> list[int]:
    """The right choices of an attempt's question (an AttemptQuestion)."""
    return [c.id for c in item.question.choices if c.is_correct]


def wrong_ids(item) -> list[int]:
    """One wrong choice of an attempt's question."""
    return [next(c.id for c in item.question.choices if not c.is_correct)]


def take_round(user, round_, clock, right, seconds: int = 60, prediction=None):
    """`user` takes `round_` through the services: starts (questions drawn with a seed of
    the user's id), answers `prediction` if given, spends `seconds` on the frozen `clock`
    and submits with `right` answers right: the first n questions by position (an int),
    the questions with these ids (a set) or those an AttemptQuestion predicate accepts."""
    attempt = contest_service.start_round_attempt(user, round_, rng=random.Random(user.id))
    db.session.commit()
    if prediction is not None:
        contest_service.set_prediction(attempt, prediction)
    clock.advance(seconds=seconds)
    answers = {}
    for index, item in enumerate(attempt.items):
        if callable(right):
            ok = right(item)
        elif isinstance(right, int):
            ok = index < right
        else:
            ok = item.question_id in right
        answers[item.question_id] = right_ids(item) if ok else wrong_ids(item)
    attempt_service.submit(attempt, answers)
    db.session.commit()
    return attempt


# ---------------------------------------------------------------- request isolation
# The `app` fixture keeps one app context pushed for the whole test, and Flask reuses a
# pushed app context for every test-client request. So all requests of a test, from every
# client, would share one `g` and one database session: Flask-Login caches the logged-in
# user in `g._login_user`, and that user then "leaks" into the next request of any other
# client (a second browser, a logged-out client). A real server gives each request a fresh
# app context; the clients of the `app` fixture do the same (the default, see `app`) by
# running each request in an empty contextvars context. The test's own `db.session` then
# does not see a request's changes until it expires its objects (`db.session.expire_all()`);
# commit before a request that writes the same rows.
import contextvars  # noqa: E402

from flask.testing import FlaskClient  # noqa: E402


class IsolatedFlaskClient(FlaskClient):
    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def isolated_requests(app):
    """The app, whose test clients give each request its own app context, `g` and database
    session, as in production. This is now what every test gets; the fixture stays for the
    tests that name it (`pytest.mark.usefixtures("isolated_requests")`)."""
    app.test_client_class = IsolatedFlaskClient
    return app
