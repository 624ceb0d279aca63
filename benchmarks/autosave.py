#!/usr/bin/env python3
"""Autosave under load: how does POST /api/attempts/<id>/answers compare with GET /healthz?

`make bench` runs this. It
1. drops and recreates a PostgreSQL database (BENCH_DATABASE_URL), runs the migrations
   and imports the bundled bank with the app's own CLI;
2. creates BENCH_MEMBERS members with a password through the services;
3. starts gunicorn (production settings, BENCH_WORKERS sync workers) on a free loopback
   port and waits for /healthz;
4. drives it with the benchmarks' own asyncio HTTP/1.1 client (httpclient.py): phase (a)
   GET /healthz, phase (b) autosave, each BENCH_DURATION seconds with BENCH_CONCURRENCY
   virtual users after a short warm-up; in (b) every virtual user has logged in,
   started a 10-question, 30-minute practice through the form and read the question
   and choice ids from the attempt page, and then saves answers in a loop with the
   X-CSRFToken header, as the quiz page's script does;
5. prints a table and rewrites its section of benchmarks/REPORT.md; gunicorn is stopped
   on every path (harness.py holds the database, gunicorn and report plumbing).

Settings come from the environment: BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/quizapp_bench), BENCH_MEMBERS (200),
BENCH_CONCURRENCY (20), BENCH_DURATION (20 s), BENCH_WARMUP (2 s), BENCH_WORKERS (2).
"""
from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from harness import (DATABASE_URL, PASSWORD, WORKERS, bench_app, gunicorn, load_average,
                     log, machine_line, mean_ms, package_version, percentile, prepare_database,
                     without_password, write_report_section)
from httpclient import REQUEST_ERRORS, HTTPError, Session, expect, hidden_value, meta_csrf

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "200"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))
DURATION = float(os.environ.get("BENCH_DURATION", "20"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
QUESTIONS = 10
TIME_LIMIT_MINUTES = 30

if MEMBERS < CONCURRENCY:
    raise SystemExit(f"BENCH_MEMBERS ({MEMBERS}) must be at least BENCH_CONCURRENCY ({CONCURRENCY})")


# ---------------------------------------------------------------- data

def create_members(count: int) -> list[str]:
    """`count` members in one branch, through the services. The password is hashed once
    (scrypt costs ~0.1 s) and the hash shared: same password, same stored hash."""
    from quizapp.extensions import db
    from quizapp.services import users

    app = bench_app()
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
        return percentile(self.latencies, p)

    @property
    def mean_ms(self) -> float:
        return mean_ms(self.latencies)


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
            except REQUEST_ERRORS as exc:
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
    errors = ""
    for r in (health, saves):
        if r.error_samples:
            errors += f"\nError samples ({r.name}): " + "; ".join(r.error_samples) + "\n"
    write_report_section("autosave", f"""## Autosave next to /healthz (`autosave.py`)

- **Date:** {info['date']}
- **Command:** `{info['command']}` (run by `make bench`)
- **Machine:** {info['machine']}; load average (1/5/15 min) before the run
  {info['load_before']}, after it {info['load_after']}
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
  client (`benchmarks/httpclient.py`); gunicorn's sync workers close the connection after
  every response, so each request includes a TCP connect on loopback ({info['connects']}
  connects in the autosave phase)
- **Autosave request:** `POST /api/attempts/<id>/answers` with
  `{{"question_id": …, "choice_ids": [one id]}}`, session cookie and `X-CSRFToken`,
  cycling over the attempt's questions and choices (every save changes the row)

### Results

{table(health, saves)}

Autosave relative to healthz: **{rps_ratio:.2f}×** the requests per second,
**{p50_ratio:.1f}×** the median latency.

After the run {info['saved']} of the virtual users' {info['items']} attempt questions held a
saved answer (read back from the database).
{errors}
### Reading it

`/healthz` is the floor of this stack: routing, a JSON body, no session, no database.
An autosave adds the signed session cookie, loading the user (Flask-Login), the CSRF
check, loading the attempt with its questions, the owner/state/deadline checks, the
attempt row lock (`UPDATE attempts … WHERE status = 'in_progress'`), the answer
`UPDATE` and a commit. The ratio is the price of all that per request on this machine;
the absolute numbers depend on the machine, and with {info['nproc']} CPUs shared by two
workers, PostgreSQL and the load generator, they are a lower bound for a real server.
""")


# ---------------------------------------------------------------- main

def main() -> int:
    started = time.monotonic()
    load_before = load_average()
    pg_version, bank = prepare_database()
    log(f"creating {MEMBERS} members")
    names = create_members(MEMBERS)

    with gunicorn() as port:
        health, saves, connects = asyncio.run(run_load(port, names[:CONCURRENCY]))
        load_after = load_average()

    saved, items = saved_answer_counts(names[:CONCURRENCY])
    rps_ratio, p50_ratio = ratios(health, saves)
    print()
    print(table(health, saves))
    print(f"\nautosave / healthz: {rps_ratio:.2f}x req/s, {p50_ratio:.1f}x p50 latency")
    for r in (health, saves):
        if r.error_samples:
            print(f"error samples ({r.name}): {r.error_samples}")
    write_report(health, saves, {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/autosave.py",
        "machine": machine_line(), "nproc": os.cpu_count(),
        "load_before": load_before, "load_after": load_after,
        "gunicorn": package_version("gunicorn"),
        "postgres": pg_version,
        "database": without_password(DATABASE_URL),
        "bank": bank,
        "connects": connects, "saved": saved, "items": items,
    })
    log(f"wrote the autosave section of benchmarks/REPORT.md in "
        f"{time.monotonic() - started:.0f} s total")
    return 1 if (health.errors or saves.errors or not saves.latencies) else 0


if __name__ == "__main__":
    sys.exit(main())
