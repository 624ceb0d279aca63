#!/usr/bin/env python3
"""Autosave under load: how does POST /api/attempts/<id>/answers compare with GET /healthz?

`make bench` runs this. It
1. drops and recreates a PostgreSQL database (BENCH_DATABASE_URL), runs the migrations
   and imports the bundled bank with the app's own CLI;
2. creates BENCH_MEMBERS members with a password through the services;
3. starts gunicorn (production settings, BENCH_WORKERS sync workers) on a free loopback
   port and waits for /healthz;
4. drives it with a small asyncio HTTP/1.1 client (no third-party client): phase (a)
   GET /healthz, phase (b) autosave, each BENCH_DURATION seconds with BENCH_CONCURRENCY
   virtual users after a short warm-up; in (b) every virtual user has logged in,
   started a 10-question, 30-minute practice through the form and read the question
   and choice ids from the attempt page, and then saves answers in a loop with the
   X-CSRFToken header, as the quiz page's script does;
5. prints a table and writes benchmarks/REPORT.md; gunicorn is stopped on every path.

Settings come from the environment: BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/quizapp_bench), BENCH_MEMBERS (200),
BENCH_CONCURRENCY (20), BENCH_DURATION (20 s), BENCH_WARMUP (2 s), BENCH_WORKERS (2).
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
OUT_DIR = ROOT / "benchmarks" / "out"          # gitignored: the gunicorn log
REPORT = ROOT / "benchmarks" / "REPORT.md"

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:5432/quizapp_bench")
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "200"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))
DURATION = float(os.environ.get("BENCH_DURATION", "20"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
QUESTIONS = 10
TIME_LIMIT_MINUTES = 30
PASSWORD = "bench-password-1"
SECRET_KEY = "bench-secret-0123456789abcdefghij"  # 32 characters, not a real secret
REQUEST_TIMEOUT = 15.0

if MEMBERS < CONCURRENCY:
    raise SystemExit(f"BENCH_MEMBERS ({MEMBERS}) must be at least BENCH_CONCURRENCY ({CONCURRENCY})")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- database and data

def recreate_database(url: str) -> str:
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


def server_env(port: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "QUIZAPP_ENV": "production",
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": DATABASE_URL,
        # Plain http on loopback: a Secure cookie would never be sent back.
        "SESSION_COOKIE_SECURE": "0",
        # All virtual users log in from 127.0.0.1; the default 10/minute would refuse them.
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("REDIS_URL", None)
    return env


def flask_cli(*args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), "--app", "quizapp", *args], cwd=ROOT,
                          env=server_env(), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def create_members(count: int) -> list[str]:
    """`count` members in one branch, through the services. The password is hashed once
    (scrypt costs ~0.1 s) and the hash shared: same password, same stored hash."""
    from quizapp import create_app
    from quizapp.config import normalize_database_url
    from quizapp.extensions import db
    from quizapp.services import users

    app = create_app({"ENV_NAME": "development", "SECRET_KEY": SECRET_KEY,
                      "SQLALCHEMY_DATABASE_URI": normalize_database_url(DATABASE_URL)})
    names = [f"bench{n:04d}" for n in range(1, count + 1)]
    with app.app_context():
        ward = users.create_unit("bench-ward", "Đảng bộ phường (benchmark)", kind="committee")
        branch = users.create_unit("bench-cb", "Chi bộ benchmark", parent=ward)
        first = users.create_user(names[0], "Đảng Viên 1", branch, password=PASSWORD)
        for n, username in enumerate(names[1:], start=2):
            member = users.create_user(username, f"Đảng Viên {n}", branch)
            member.password_hash = first.password_hash
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return names


def saved_answer_counts(names: list[str]) -> tuple[int, int]:
    """(answers saved, questions) over the virtual users' attempts, read directly."""
    import psycopg
    with psycopg.connect(DATABASE_URL) as conn:
        row = conn.execute(
            "SELECT count(aq.selected), count(*) FROM attempt_questions aq "
            "JOIN attempts a ON a.id = aq.attempt_id JOIN users u ON u.id = a.user_id "
            "WHERE u.username = ANY(%s)", (names,)).fetchone()
    return int(row[0]), int(row[1])


# ---------------------------------------------------------------- gunicorn

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, log_file) -> subprocess.Popen:
    cmd = [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
           "quizapp:create_app()"]
    log(" ".join(cmd))
    return subprocess.Popen(cmd, cwd=ROOT, env=server_env(port), stdout=log_file,
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


# ---------------------------------------------------------------- a small HTTP/1.1 client

@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class HTTPError(Exception):
    pass


@dataclass
class Session:
    """One virtual user: one connection (kept alive when the server allows it) and a
    cookie jar."""
    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    connects: int = 0

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.connects += 1

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> Response:
        return await asyncio.wait_for(self._request(method, path, body, headers or {}),
                                      REQUEST_TIMEOUT)

    async def _request(self, method, path, body, headers) -> Response:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Connection: keep-alive", "User-Agent: quizapp-bench"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        reused = self.writer is not None
        if not reused:
            await self._connect()
        try:
            self.writer.write(raw)
            await self.writer.drain()
            response = await self._read_response(method)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            await self.close()
            if not reused:
                raise HTTPError(f"{method} {path}: {exc!r}") from exc
            # The server closed a kept-alive connection between requests: once more.
            await self._connect()
            self.writer.write(raw)
            await self.writer.drain()
            response = await self._read_response(method)
        self._store_cookies(response)
        if (response.header("connection") or "").lower() == "close":
            await self.close()
        return response

    async def _read_response(self, method: str) -> Response:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = []
        for line in header_lines:
            if ":" in line:
                key, value = line.split(":", 1)
                headers.append((key.strip().lower(), value.strip()))
        found = dict(headers)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in found.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(chunks)
        elif "content-length" in found:
            body = await self.reader.readexactly(int(found["content-length"]))
        else:
            body = await self.reader.read()
            await self.close()
        return Response(status, headers, body)

    def _store_cookies(self, response: Response) -> None:
        for key, value in response.headers:
            if key != "set-cookie":
                continue
            pair, _, attributes = value.partition(";")
            name, _, cookie_value = pair.strip().partition("=")
            attrs = attributes.lower()
            if "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = cookie_value

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def post_form(self, path: str, data: dict[str, str]) -> Response:
        return await self.request("POST", path, urlencode(data).encode(), {
            "Content-Type": "application/x-www-form-urlencoded"})

    async def post_json(self, path: str, payload, csrf: str) -> Response:
        return await self.request("POST", path, json.dumps(payload).encode(), {
            "Content-Type": "application/json", "Accept": "application/json",
            "X-CSRFToken": csrf})


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    if not match:
        raise HTTPError(f"no {name} field on the page")
    return unescape(match.group(1))


def meta_csrf(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    if not match:
        raise HTTPError("no csrf-token meta tag on the page")
    return unescape(match.group(1))


def expect(response: Response, status: int, what: str) -> Response:
    if response.status != status:
        raise HTTPError(f"{what}: HTTP {response.status}: {response.text[:300]}")
    return response


# ---------------------------------------------------------------- virtual users

@dataclass
class Quizzer:
    session: Session
    attempt_path: str = ""
    csrf: str = ""
    questions: list[tuple[int, list[int]]] = field(default_factory=list)
    turn: int = 0

    async def log_in_and_start(self, username: str) -> None:
        s = self.session
        page = expect(await s.get("/login"), 200, "GET /login").text
        expect(await s.post_form("/login", {"csrf_token": hidden_value(page, "csrf_token"),
                                            "login": username, "password": PASSWORD}),
               302, "POST /login")
        page = expect(await s.get("/practice"), 200, "GET /practice").text
        started = expect(await s.post_form("/practice", {
            "csrf_token": hidden_value(page, "csrf_token"),
            "start_token": hidden_value(page, "start_token"),
            "count": str(QUESTIONS), "time_limit": str(TIME_LIMIT_MINUTES),
            "feedback": "exam"}), 302, "POST /practice")
        location = urlsplit(started.header("location") or "").path
        match = re.fullmatch(r"/attempts/(\d+)", location)
        if not match:
            raise HTTPError(f"POST /practice went to {location!r}")
        page = expect(await s.get(location), 200, "GET attempt page").text
        self.csrf = meta_csrf(page)
        self.attempt_path = f"/api/attempts/{match.group(1)}/answers"
        for qid, block in re.findall(
                r'<fieldset[^>]*data-question-id="(\d+)"[^>]*>(.*?)</fieldset>', page, re.S):
            choices = [int(c) for c in re.findall(rf'name="q-{qid}" value="(\d+)"', block)]
            self.questions.append((int(qid), choices))
        if len(self.questions) != QUESTIONS or not all(c for _, c in self.questions):
            raise HTTPError(f"attempt page: expected {QUESTIONS} questions with choices, "
                            f"read {len(self.questions)}")

    async def autosave(self) -> bool:
        qid, choices = self.questions[self.turn % len(self.questions)]
        choice = choices[(self.turn // len(self.questions)) % len(choices)]
        self.turn += 1
        response = await self.session.post_json(
            self.attempt_path, {"question_id": qid, "choice_ids": [choice]}, self.csrf)
        return response.status == 200 and b'"saved":true' in response.body.replace(b" ", b"")


# ---------------------------------------------------------------- measuring

@dataclass
class Result:
    name: str
    duration: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.duration

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


async def measure(name: str, actors: list, operation) -> Result:
    """Run `operation(actor)` in a loop for every actor: WARMUP seconds unrecorded, then
    DURATION seconds recorded (requests that start inside the window)."""
    result = Result(name, DURATION)
    loop = asyncio.get_running_loop()
    record_from = loop.time() + WARMUP
    stop_at = record_from + DURATION

    async def run(actor) -> None:
        while (started := loop.time()) < stop_at:
            t0 = time.perf_counter()
            try:
                ok = await operation(actor)
                problem = None if ok else "unexpected answer"
            except (OSError, HTTPError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                    ValueError) as exc:
                ok, problem = False, repr(exc)
                session = actor if isinstance(actor, Session) else actor.session
                await session.close()
            elapsed = time.perf_counter() - t0
            if started < record_from:
                continue
            if ok:
                result.latencies.append(elapsed)
            else:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(problem)

    log(f"phase {name}: {len(actors)} concurrent, {WARMUP:g} s warm-up + {DURATION:g} s")
    await asyncio.gather(*(run(a) for a in actors))
    return result


async def healthz(session: Session) -> bool:
    response = await session.get("/healthz")
    return response.status == 200


async def quizzer_save(quizzer: Quizzer) -> bool:
    return await quizzer.autosave()


async def run_load(port: int, names: list[str]) -> tuple[Result, Result, int]:
    sessions = [Session("127.0.0.1", port) for _ in range(CONCURRENCY)]
    health = await measure("healthz", sessions, healthz)
    for s in sessions:
        await s.close()

    quizzers = [Quizzer(Session("127.0.0.1", port)) for _ in range(CONCURRENCY)]
    t0 = time.perf_counter()
    await asyncio.gather(*(q.log_in_and_start(n) for q, n in zip(quizzers, names)))
    log(f"{CONCURRENCY} virtual users logged in and started a {QUESTIONS}-question attempt "
        f"in {time.perf_counter() - t0:.1f} s")
    saves = await measure("autosave", quizzers, quizzer_save)
    connects = sum(q.session.connects for q in quizzers)
    for q in quizzers:
        await q.session.close()
    return health, saves, connects


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


def table(health: Result, saves: Result) -> str:
    rows = ["| endpoint | requests | req/s | p50 ms | p99 ms | mean ms | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r, label in ((health, "GET /healthz"), (saves, "POST /api/attempts/<id>/answers")):
        rows.append(f"| {label} | {r.count} | {r.rps:.1f} | {r.pct(50):.1f} | {r.pct(99):.1f} "
                    f"| {r.mean_ms:.1f} | {r.errors} |")
    return "\n".join(rows)


def ratios(health: Result, saves: Result) -> tuple[float, float]:
    rps_ratio = saves.rps / health.rps if health.rps else float("nan")
    p50_ratio = saves.pct(50) / health.pct(50) if health.latencies else float("nan")
    return rps_ratio, p50_ratio


def write_report(health: Result, saves: Result, info: dict) -> None:
    rps_ratio, p50_ratio = ratios(health, saves)
    m = info["machine"]
    errors = ""
    for r in (health, saves):
        if r.error_samples:
            errors += f"\nError samples ({r.name}): " + "; ".join(r.error_samples) + "\n"
    REPORT.write_text(f"""# Autosave benchmark — report

Written by `benchmarks/autosave.py` (see benchmarks/README.md); re-run with `make bench`.

- **Date:** {info['date']}
- **Command:** `{info['command']}` (what `make bench` runs)
- **Machine:** {m['nproc']} CPUs (nproc), {m['cpu']}; {m['os']}; Python {m['python']}
- **Server:** gunicorn {info['gunicorn']}, {WORKERS} sync workers, `QUIZAPP_ENV=production`,
  no Redis (rate limits in memory), PostgreSQL {info['postgres']} on the same machine
  (`{info['database']}`, dropped and recreated for the run); the load generator shares
  the machine too
- **Data:** the bundled bank ({info['bank']}), {MEMBERS} members; {CONCURRENCY} of them are
  the virtual users, each with one practice attempt of {QUESTIONS} questions,
  {TIME_LIMIT_MINUTES}-minute limit, exam mode
- **Load:** {CONCURRENCY} concurrent virtual users per phase, {WARMUP:g} s warm-up (not
  recorded) then {DURATION:g} s recorded; each user sends its next request as soon as the
  previous one is answered (closed loop, no think time). Client: own asyncio HTTP/1.1
  client; gunicorn's sync workers close the connection after every response, so each
  request includes a TCP connect on loopback ({info['connects']} connects in the autosave
  phase)
- **Autosave request:** `POST /api/attempts/<id>/answers` with
  `{{"question_id": …, "choice_ids": [one id]}}`, session cookie and `X-CSRFToken`,
  cycling over the attempt's questions and choices (every save changes the row)

## Results

{table(health, saves)}

Autosave relative to healthz: **{rps_ratio:.2f}×** the requests per second,
**{p50_ratio:.1f}×** the median latency.

After the run {info['saved']} of the virtual users' {info['items']} attempt questions held a
saved answer (read back from the database).
{errors}
## Reading it

`/healthz` is the floor of this stack: routing, a JSON body, no session, no database.
An autosave adds the signed session cookie, loading the user (Flask-Login), the CSRF
check, loading the attempt with its questions, the owner/state/deadline checks, the
attempt row lock (`UPDATE attempts … WHERE status = 'in_progress'`), the answer
`UPDATE` and a commit. The ratio is the price of all that per request on this machine;
the absolute numbers depend on the machine, and with {m['nproc']} CPUs shared by two
workers, PostgreSQL and the load generator, they are a lower bound for a real server.
""", encoding="utf-8")


# ---------------------------------------------------------------- main

def main() -> int:
    started = time.monotonic()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log(f"database {DATABASE_URL}: drop and recreate")
    pg_version = recreate_database(DATABASE_URL)
    log("flask db upgrade")
    flask_cli("db", "upgrade")
    log("flask bank import")
    bank_summary = flask_cli("bank", "import")
    log(bank_summary)
    log(f"creating {MEMBERS} members")
    names = create_members(MEMBERS)

    port = free_port()
    log_path = OUT_DIR / "gunicorn.log"
    with open(log_path, "w") as gunicorn_log:
        proc = start_gunicorn(port, gunicorn_log)
        try:
            asyncio.run(wait_healthy(port, proc))
            log(f"gunicorn answers on 127.0.0.1:{port} (log: {log_path.relative_to(ROOT)})")
            health, saves, connects = asyncio.run(run_load(port, names[:CONCURRENCY]))
        except BaseException:
            log(f"failed; last lines of {log_path}:")
            gunicorn_log.flush()
            print("\n".join(log_path.read_text(errors="replace").splitlines()[-30:]))
            raise
        finally:
            stop_gunicorn(proc)
            log("gunicorn stopped")

    saved, items = saved_answer_counts(names[:CONCURRENCY])
    rps_ratio, p50_ratio = ratios(health, saves)
    print()
    print(table(health, saves))
    print(f"\nautosave / healthz: {rps_ratio:.2f}x req/s, {p50_ratio:.1f}x p50 latency")
    for r in (health, saves):
        if r.error_samples:
            print(f"error samples ({r.name}): {r.error_samples}")
    match = re.search(r"questions: (\d+) new", bank_summary)
    write_report(health, saves, {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/autosave.py",
        "machine": machine(),
        "gunicorn": package_version("gunicorn"),
        "postgres": pg_version,
        "database": without_password(DATABASE_URL),
        "bank": f"{match.group(1)} questions" if match else bank_summary,
        "connects": connects, "saved": saved, "items": items,
    })
    log(f"wrote {REPORT.relative_to(ROOT)} in {time.monotonic() - started:.0f} s total")
    return 1 if (health.errors or saves.errors or not saves.latencies) else 0


if __name__ == "__main__":
    sys.exit(main())
