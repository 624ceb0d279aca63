"""What the benchmark scripts share besides the HTTP client: the database they drop and
recreate, the gunicorn they start and always stop, latency statistics, the machine
description and REPORT.md, in which each script rewrites its own section.

Settings from the environment (all scripts): BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/quizapp_bench) and BENCH_WORKERS (4).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from httpclient import Session

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
OUT_DIR = ROOT / "benchmarks" / "out"          # gitignored: the gunicorn logs
REPORT = ROOT / "benchmarks" / "REPORT.md"

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:5432/quizapp_bench")
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))  # as docs/deploy.md (2 × CPUs)
# gunicorn --backlog (empty: its default, 2048). The kernel caps it at net.core.somaxconn.
BACKLOG = os.environ.get("BENCH_BACKLOG", "")
PASSWORD = "bench-password-1"
SECRET_KEY = "bench-secret-0123456789abcdefghij"  # 32 characters, not a real secret


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- database

def recreate_database(url: str = DATABASE_URL) -> str:
    """Drop and create the database named in `url` (through the server's `postgres`
    database, autocommit). Returns the server version."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit(f"no database name in {url}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return conn.execute("SHOW server_version").fetchone()[0]


def server_env() -> dict[str, str]:
    """The environment of gunicorn and of the app's CLI: production settings."""
    env = dict(os.environ)
    env.update({
        "QUIZAPP_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": DATABASE_URL,
        # Plain http on loopback: a Secure cookie would never be sent back.
        "SESSION_COOKIE_SECURE": "0",
        # All virtual users log in from 127.0.0.1; the default 10/minute would refuse them.
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "10000 per minute",
        # One host, no Redis: production settings need the explicit opt-in.
        "ALLOW_MEMORY_RATE_LIMITS": "1",
        "PYTHONUNBUFFERED": "1",
    })
    if os.environ.get("BENCH_REQUEST_START", "") not in ("", "0"):
        # The client stamps each request as nginx would (httpclient.STAMP_REQUESTS).
        env.update({"REQUEST_START_HEADER": "1", "BEHIND_PROXY": "1"})
    env.pop("REDIS_URL", None)
    return env


def flask_cli(*args: str, timeout: float = 120) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "quizapp", *args], cwd=ROOT,
                          env=server_env(), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def prepare_database() -> tuple[str, str]:
    """Recreate the database, migrate, import the bundled bank. Returns (PostgreSQL
    version, bank summary such as '249 questions')."""
    log(f"database {DATABASE_URL}: drop and recreate")
    pg_version = recreate_database(DATABASE_URL)
    log("flask db upgrade")
    flask_cli("db", "upgrade")
    log("flask bank import")
    summary = flask_cli("bank", "import")
    log(summary)
    match = re.search(r"questions: (\d+) new", summary)
    return pg_version, (f"{match.group(1)} questions" if match else summary)


def bench_app():
    """The app bound to the benchmark database, for creating data in-process."""
    from quizapp import create_app
    from quizapp.config import normalize_database_url
    return create_app({"ENV_NAME": "development", "SECRET_KEY": SECRET_KEY,
                       "SQLALCHEMY_DATABASE_URI": normalize_database_url(DATABASE_URL)})


# ---------------------------------------------------------------- gunicorn

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


APP_SPEC = "quizapp:create_app()"
# The ceiling: a bare Flask app (benchmarks/bare_app.py), served by the same gunicorn
# with the same workers. It lives in benchmarks/, so production never imports it.
BARE_APP_SPEC = "bare_app:app"


def start_gunicorn(port: int, log_file, app_spec: str = APP_SPEC) -> subprocess.Popen:
    # No control socket: its default path is one per user, shared with any other server.
    cmd = [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
           "--no-control-socket"]
    if BACKLOG:  # connections the kernel queues for the workers (gunicorn's default 2048)
        cmd += ["--backlog", BACKLOG]
    if app_spec == BARE_APP_SPEC:
        cmd += ["--pythonpath", str(ROOT / "benchmarks")]
    cmd.append(app_spec)
    log(" ".join(cmd))
    return subprocess.Popen(cmd, cwd=ROOT, env=server_env(), stdout=log_file,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


async def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            response = await Session("127.0.0.1", port).get("/healthz")
            if response.status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
_master_pid: int | None = None


def start_profile(name: str, seconds: float) -> subprocess.Popen | None:
    """With BENCH_PROFILE=1: sample every gunicorn worker with py-spy for `seconds`,
    collapsed stacks to benchmarks/out/profile-<name>.txt (summarize them with
    benchmarks/profile_summary.py). None (and nothing runs) otherwise."""
    if not PROFILE or _master_pid is None:
        return None
    path = OUT_DIR / f"profile-{name}.txt"
    log(f"py-spy: sampling the workers for {seconds:g} s into {path.relative_to(ROOT)}")
    return subprocess.Popen(
        [str(BIN / "py-spy"), "record", "--pid", str(_master_pid), "--subprocesses",
         "--duration", str(int(seconds + 0.999)), "--rate", "250", "--format", "raw",
         "--nolineno", "--output", str(path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def end_profile(proc: subprocess.Popen | None) -> None:
    if proc is not None:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def gunicorn(log_name: str = "gunicorn.log", app_spec: str = APP_SPEC):
    """Start gunicorn serving `app_spec` on a free loopback port, wait for /healthz, yield
    the port; stop it on every path (also on failure or Ctrl-C), showing the log's tail on
    failure."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = OUT_DIR / log_name
    with open(log_path, "w") as log_file:
        proc = start_gunicorn(port, log_file, app_spec)
        global _master_pid
        _master_pid = proc.pid
        try:
            asyncio.run(wait_healthy(port, proc))
            log(f"gunicorn answers on 127.0.0.1:{port} (log: {log_path.relative_to(ROOT)})")
            yield port
        except BaseException:
            log(f"failed; last lines of {log_path}:")
            log_file.flush()
            print("\n".join(log_path.read_text(errors="replace").splitlines()[-30:]))
            raise
        finally:
            _master_pid = None
            stop_gunicorn(proc)
            log("gunicorn stopped")


def gunicorn_log_errors(log_name: str = "gunicorn.log") -> list[str]:
    """Tracebacks and worker timeouts in a gunicorn log (lines worth reporting)."""
    path = OUT_DIR / log_name
    if not path.exists():
        return []
    return [line for line in path.read_text(errors="replace").splitlines()
            if "Traceback" in line or "WORKER TIMEOUT" in line or "Unhandled error" in line]


# ---------------------------------------------------------------- statistics

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of `values` (seconds) in milliseconds; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def mean_ms(values: list[float]) -> float:
    return statistics.fmean(values) * 1000 if values else float("nan")


# ---------------------------------------------------------------- reporting

def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "os": platform.platform(),
            "python": platform.python_version()}


def machine_line() -> str:
    m = machine()
    return f"{m['nproc']} CPUs (nproc), {m['cpu']}; {m['os']}; Python {m['python']}"


def load_average() -> str:
    """The 1/5/15-minute load averages: how busy the machine was (other work included)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":…@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


REPORT_HEADER = """# Benchmarks — report

Written by the scripts in `benchmarks/` (see benchmarks/README.md). `make bench` runs
them all; each rewrites only its own section below, with the date, command and machine
of its last run.
"""
SECTION_ORDER = ("throughput", "autosave", "contest", "scale")
_SECTION_RE = re.compile(r"<!-- begin:(\w+) -->\n(.*?)<!-- end:\1 -->\n", re.S)


def command_line(script: str) -> str:
    """The command as run: the script with the BENCH_* settings given to it (not the
    database address), so a report says which variant it measured."""
    settings = [f"{key}={value}" for key, value in sorted(os.environ.items())
                if key.startswith("BENCH_") and key != "BENCH_DATABASE_URL"]
    return " ".join(settings + [f"python {script}"])


def write_report_section(name: str, text: str) -> None:
    """Replace (or add) one script's section of REPORT.md, keeping the others."""
    sections: dict[str, str] = {}
    if REPORT.exists():
        sections = {m.group(1): m.group(2)
                    for m in _SECTION_RE.finditer(REPORT.read_text(encoding="utf-8"))}
    sections[name] = text.rstrip("\n") + "\n"
    order = [n for n in SECTION_ORDER if n in sections] + \
        [n for n in sections if n not in SECTION_ORDER]
    body = "\n".join(f"<!-- begin:{n} -->\n{sections[n]}<!-- end:{n} -->\n" for n in order)
    REPORT.write_text(REPORT_HEADER + "\n" + body, encoding="utf-8")
