"""What the operations tests share: a private PostgreSQL database created on the server
named by TEST_DATABASE_URL (and dropped afterwards), gunicorn processes on loopback
ports that are always stopped, Redis db 14, and small HTML helpers.

Nothing here touches the shared `test` database, the PostgreSQL server itself or any
other Redis database.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# Redis database 14 belongs to these tests (tests/views uses 15).
REDIS_URL = os.environ.get("TEST_OPS_REDIS_URL", "redis://127.0.0.1:6379/14")
SECRET_KEY = "ops-test-secret-0123456789abcdef"
PASSWORD = "correct-horse-1"

def redis_available(url: str = REDIS_URL) -> bool:
    import redis
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def flush_redis(url: str = REDIS_URL) -> None:
    import redis
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    return free_port()


# ---------------------------------------------------------------- private PostgreSQL database

def _admin_url(url: str) -> str:
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return urlunsplit(parts._replace(path="/postgres"))


def database_url_for(name: str) -> str:
    parts = urlsplit(TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"))
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_execute(sql_text: str, *params) -> list:
    import psycopg
    with psycopg.connect(_admin_url(TEST_DATABASE_URL), autocommit=True) as conn:
        cursor = conn.execute(sql_text, params or None)
        return cursor.fetchall() if cursor.description else []


@contextlib.contextmanager
def private_database(prefix: str = "test_ops"):
    """Create a database of our own on TEST_DATABASE_URL's server; yield its URL
    (postgresql://…); drop it (WITH FORCE) on every path."""
    import psycopg
    from psycopg import sql
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _admin_url(TEST_DATABASE_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url_for(name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def terminate_connections(url: str) -> int:
    """pg_terminate_backend every session of that database; returns how many."""
    rows = admin_execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", database_name(url))
    return sum(1 for (ok,) in rows if ok)


def allow_connections(url: str, allowed: bool) -> None:
    from psycopg import sql
    import psycopg
    with psycopg.connect(_admin_url(TEST_DATABASE_URL), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(database_name(url)), sql.SQL("true" if allowed else "false")))


# ---------------------------------------------------------------- the app's own commands

def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings for gunicorn and the CLI (only loopback, plain http)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QUIZAPP_ENV", "DATABASE_URL", "REDIS_URL", "LOGIN_RATE_LIMIT",
                        "LOGIN_ACCOUNT_RATE_LIMIT", "ALLOW_MEMORY_RATE_LIMITS", "PUBLIC_URL",
                        "BEHIND_PROXY", "REQUEST_LOG", "SESSION_COOKIE_SECURE")}
    # Without REDIS_URL (the CLI, single-host tests) production needs the explicit opt-in.
    env.update({"QUIZAPP_ENV": "production", "SECRET_KEY": SECRET_KEY,
                "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": "0",
                "ALLOW_MEMORY_RATE_LIMITS": "1", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def flask_cli(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "quizapp", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def migrate_and_import(database_url: str) -> None:
    """`flask db upgrade` and `flask bank import`, as docs/deploy.md does."""
    env = server_env(database_url)
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "bank", "import")


def local_app(database_url: str, **extra):
    """The app bound to that database in this process, for setting up and checking rows."""
    from quizapp import create_app
    from quizapp.config import normalize_database_url
    config = {"ENV_NAME": "development", "SECRET_KEY": SECRET_KEY, "REDIS_URL": None,
              "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url)}
    config.update(extra)
    return create_app(config)


# ---------------------------------------------------------------- gunicorn

class Gunicorn:
    """One gunicorn master (own process group) on 127.0.0.1:<port>."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 1,
                 port: int | None = None, extra_args: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.log_path = log_path
        self._log = open(log_path, "w")
        # No control socket: its default path is one per user, so servers started
        # together (two hosts here, a benchmark, a dev server) would take it from each other.
        cmd = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
               "--no-control-socket", *extra_args, "quizapp:create_app()"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pgid = self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 40, workers: int = 1) -> None:
        import requests
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200 \
                        and len(self.worker_pids()) >= workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in time:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """Children of the master (read from /proc)."""
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                out.append(int(entry))
        return sorted(out)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pgid, 0)
            return True
        except ProcessLookupError:
            return False

    def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL what is left; never anything else."""
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                break
            give_up = time.monotonic() + wait
            while time.monotonic() < give_up and self.group_alive():
                if self.proc.poll() is None:
                    try:
                        self.proc.wait(timeout=0.1)
                    except subprocess.TimeoutExpired:
                        pass
                else:
                    time.sleep(0.1)
            if not self.group_alive():
                break
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")


# ---------------------------------------------------------------- HTML helpers

class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def hidden_fields(page: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(page)
    return {i["name"]: i.get("value") or "" for i in parser.inputs
            if i.get("type") == "hidden" and i.get("name")}


def csrf_meta(page: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, "no csrf meta tag on the page"
    return match.group(1)


def attempt_id_from(location: str) -> int:
    match = re.search(r"/attempts/(\d+)$", urlsplit(location).path)
    assert match, location
    return int(match.group(1))
