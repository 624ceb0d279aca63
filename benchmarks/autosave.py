#!/usr/bin/env python3
"""Autosave, the quiz page and a contest submit under load, next to GET /healthz.

`make bench` runs this. It
1. drops and recreates a PostgreSQL database (BENCH_DATABASE_URL), runs the migrations
   and imports the bundled bank with the app's own CLI;
2. creates BENCH_MEMBERS members with a password through the services, spread over
   BENCH_AUTOSAVE_BRANCHES branches, and a contest with BENCH_SUBMIT_ROUNDS open rounds
   in which each virtual user has an attempt (started in-process);
3. starts gunicorn (production settings, BENCH_WORKERS sync workers) on a free loopback
   port and waits for /healthz;
4. drives it with the benchmarks' own asyncio HTTP/1.1 client (httpclient.py): phases
   GET /healthz, autosave and the quiz page, each BENCH_DURATION seconds with
   BENCH_CONCURRENCY virtual users after a short warm-up (every virtual user has logged
   in, started a 10-question, 30-minute practice through the form and read the question
   and choice ids from the attempt page, and saves answers with the X-CSRFToken header,
   as the quiz page's script does); then the submit phase: each user submits its round
   attempts one after another, until all are submitted;
5. prints a table and rewrites its section of benchmarks/REPORT.md; gunicorn is stopped
   on every path (harness.py holds the database, gunicorn and report plumbing).
   With BENCH_PROFILE=1 the workers are sampled with py-spy in every phase
   (benchmarks/out/profile-<phase>.txt; summarize with profile_summary.py).

Settings come from the environment: BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/quizapp_bench), BENCH_MEMBERS (200),
BENCH_CONCURRENCY (20), BENCH_DURATION (20 s), BENCH_WARMUP (2 s), BENCH_WORKERS (4),
BENCH_SUBMIT_ROUNDS (30), BENCH_AUTOSAVE_BRANCHES (20), BENCH_PROFILE (off).
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

from harness import (command_line, BARE_APP_SPEC, DATABASE_URL, PASSWORD, WORKERS, bench_app, end_profile, gunicorn,
                     load_average, start_profile,
                     log, machine_line, mean_ms, package_version, percentile, prepare_database,
                     without_password, write_report_section)
from httpclient import REQUEST_ERRORS, HTTPError, Session, expect, hidden_value, meta_csrf

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "200"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))
DURATION = float(os.environ.get("BENCH_DURATION", "20"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
SUBMIT_ROUNDS = int(os.environ.get("BENCH_SUBMIT_ROUNDS", "30"))
BRANCHES = int(os.environ.get("BENCH_AUTOSAVE_BRANCHES", "20"))
QUESTIONS = 10
ROUND_QUESTIONS = 20
TIME_LIMIT_MINUTES = 30
ROUND_DRAW_PLAN = "targets: rest"

if MEMBERS < CONCURRENCY:
    raise SystemExit(f"BENCH_MEMBERS ({MEMBERS}) must be at least BENCH_CONCURRENCY ({CONCURRENCY})")


# ---------------------------------------------------------------- data

def create_members(count: int) -> list[str]:
    """`count` members in one branch, through the services. The password is hashed once
    (scrypt costs ~0.1 s) and the hash shared: same password, same stored hash."""
    from quizapp.extensions import db
    from quizapp.services.people import users

    app = bench_app()
    names = [f"bench{n:04d}" for n in range(1, count + 1)]
    with app.app_context():
        ward = users.create_unit("bench-ward", "Đảng bộ phường (benchmark)", kind="committee")
        # Members spread round-robin over the branches, so the virtual users do not all
        # update one branch's counters (contention on them is contest_storm.py's subject).
        branches = [users.create_unit(f"bench-cb-{b:02d}", f"Chi bộ benchmark số {b}",
                                      parent=ward, position=b) for b in range(1, BRANCHES + 1)]
        first = users.create_user(names[0], "Đảng Viên 1", branches[0], password=PASSWORD)
        for n, username in enumerate(names[1:], start=2):
            member = users.create_user(username, f"Đảng Viên {n}", branches[(n - 1) % BRANCHES])
            member.password_hash = first.password_hash
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return names


@dataclass
class RoundAttempt:
    attempt_id: int
    questions: list[tuple[int, list[int]]]


def create_round_attempts(names: list[str]) -> dict[str, list[RoundAttempt]]:
    """For the submit phase: one contest for the members' ward with SUBMIT_ROUNDS open
    rounds of ROUND_QUESTIONS questions, and each virtual user's attempt in every round,
    started in-process through services.contest (a submit needs an attempt in
    progress, and a member has at most one per round). Returns username → attempts."""
    from datetime import timedelta

    from sqlalchemy import select

    from quizapp.clock import utcnow
    from quizapp.extensions import db
    from quizapp.models import Unit, User
    from quizapp.services.attempts import choice_tokens
    from quizapp.services import contests
    from quizapp.services.people import users

    app = bench_app()
    out: dict[str, list[RoundAttempt]] = {name: [] for name in names}
    with app.app_context():
        ward = db.session.execute(select(Unit).where(Unit.code == "bench-ward")).scalar_one()
        organizer = users.create_user("bench-organizer", "Ban tổ chức (benchmark)", ward,
                                      role="organizer")
        contest = contests.create_contest(organizer, "Hội thi (benchmark)", "", [ward])
        now = utcnow()
        members = db.session.execute(select(User).where(User.username.in_(names))).scalars().all()
        for n in range(1, SUBMIT_ROUNDS + 1):
            round_ = contests.create_round(organizer, contest, contests.RoundSettings(
                title=f"Vòng {n} (benchmark)", opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(hours=2), time_limit_minutes=TIME_LIMIT_MINUTES,
                question_count=ROUND_QUESTIONS, results_visibility="at_close",
                # The rounds draw from one part of the outline only: while a round is
                # open its questions are sealed for practice (contests.sealing), and
                # the virtual users practise on the rest.
                draw_plan=ROUND_DRAW_PLAN))
            contests.schedule(organizer, round_)
            for member in members:
                attempt = contests.start_round_attempt(member, round_)
                # The page's names of the choices (the attempt's tokens), as it posts them.
                out[member.username].append(RoundAttempt(attempt.id, [
                    (item.question_id, choice_tokens.tokens(attempt.id, item.question_id,
                                                            item.choice_ids))
                    for item in attempt.items]))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return out


def _two_counts(sql: str, names: list[str]) -> tuple[int, int]:
    import psycopg
    with psycopg.connect(DATABASE_URL) as conn:
        row = conn.execute(sql, (names,)).fetchone()
    return int(row[0]), int(row[1])


def finished_round_attempts(names: list[str]) -> tuple[int, int]:
    """(finished, all) round attempts of the virtual users, read directly."""
    return _two_counts(
        "SELECT count(*) FILTER (WHERE a.status = 'finished'), count(*) FROM attempts a "
        "JOIN users u ON u.id = a.user_id WHERE u.username = ANY(%s) "
        "AND a.round_id IS NOT NULL", names)


def saved_answer_counts(names: list[str]) -> tuple[int, int]:
    """(answers saved, questions) over the virtual users' practice attempts, read directly."""
    return _two_counts(
        "SELECT count(aq.selected), count(*) FROM attempt_questions aq "
        "JOIN attempts a ON a.id = aq.attempt_id JOIN users u ON u.id = a.user_id "
        "WHERE u.username = ANY(%s) AND a.round_id IS NULL", names)


# ---------------------------------------------------------------- virtual users

@dataclass
class Quizzer:
    session: Session
    attempt_path: str = ""   # the autosave endpoint
    page_path: str = ""      # the quiz page
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
        self.page_path = location
        for qid, block in re.findall(
                r'<fieldset[^>]*data-question-id="(\d+)"[^>]*>(.*?)</fieldset>', page, re.S):
            choices = [int(c) for c in re.findall(rf'name="q-{qid}" value="(\d+)"', block)]
            self.questions.append((int(qid), choices))
        if len(self.questions) != QUESTIONS or not all(c for _, c in self.questions):
            raise HTTPError(f"attempt page: expected {QUESTIONS} questions with choices, "
                            f"read {len(self.questions)}")

    round_attempts: list[RoundAttempt] = field(default_factory=list)
    submitted: int = 0

    async def quiz_page(self) -> bool:
        response = await self.session.get(self.page_path)
        return response.status == 200 and b'data-question-id="' in response.body

    async def submit(self) -> bool | None:
        """Submit the next round attempt with every question answered; None when this
        user has none left."""
        if self.submitted >= len(self.round_attempts):
            return None
        attempt = self.round_attempts[self.submitted]
        self.submitted += 1
        form = [("csrf_token", self.csrf), ("action", "submit")]
        form += [(f"q-{qid}", str(choices[(qid + self.submitted) % len(choices)]))
                 for qid, choices in attempt.questions]
        response = await self.session.post_form(f"/attempts/{attempt.attempt_id}", form)
        return response.status == 302 and (response.header("location") or "").endswith(
            f"/attempts/{attempt.attempt_id}/result")

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


async def measure(name: str, actors: list, operation, timed: bool = True) -> Result:
    """Run `operation(actor)` in a loop for every actor. Timed: WARMUP seconds
    unrecorded, then DURATION seconds recorded (requests that start inside the window).
    Not timed: until `operation` returns None (nothing left to do), all recorded, the
    phase's duration measured."""
    result = Result(name, DURATION)
    loop = asyncio.get_running_loop()
    began = loop.time()
    record_from = began + WARMUP if timed else began
    stop_at = record_from + DURATION if timed else float("inf")

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
            if ok is None:
                return
            if started < record_from:
                continue
            if ok:
                result.latencies.append(elapsed)
            else:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(problem)

    log(f"phase {name}: {len(actors)} concurrent, " + (
        f"{WARMUP:g} s warm-up + {DURATION:g} s" if timed else "until each has no more to do"))
    await asyncio.gather(*(run(a) for a in actors))
    if not timed:
        result.duration = loop.time() - began
    return result


async def healthz(session: Session) -> bool:
    return (await session.get("/healthz")).status == 200


async def run_bare(port: int) -> Result:
    """The ceiling: GET /healthz of the bare Flask app (bare_app.py), same gunicorn,
    same workers, same load as the app's /healthz phase."""
    sessions = [Session("127.0.0.1", port) for _ in range(CONCURRENCY)]
    profiler = start_profile("bare", WARMUP + DURATION)
    bare = await measure("bare", sessions, healthz)
    end_profile(profiler)
    for s in sessions:
        await s.close()
    return bare


async def run_load(port: int, names: list[str],
                   round_attempts: dict[str, list[RoundAttempt]]) -> tuple[list[Result], int]:
    sessions = [Session("127.0.0.1", port) for _ in range(CONCURRENCY)]
    profiler = start_profile("healthz", WARMUP + DURATION)
    health = await measure("healthz", sessions, healthz)
    end_profile(profiler)
    for s in sessions:
        await s.close()

    quizzers = [Quizzer(Session("127.0.0.1", port)) for _ in range(CONCURRENCY)]
    t0 = time.perf_counter()
    await asyncio.gather(*(q.log_in_and_start(n) for q, n in zip(quizzers, names)))
    log(f"{CONCURRENCY} virtual users logged in and started a {QUESTIONS}-question attempt "
        f"in {time.perf_counter() - t0:.1f} s")
    results = [health]
    for name, operation in (("autosave", Quizzer.autosave), ("quiz page", Quizzer.quiz_page)):
        connects = sum(q.session.connects for q in quizzers)
        profiler = start_profile(name.replace(" ", "-"), WARMUP + DURATION)
        results.append(await measure(name, quizzers, operation))
        end_profile(profiler)
        if name == "autosave":
            autosave_connects = sum(q.session.connects for q in quizzers) - connects
    for quizzer, name in zip(quizzers, names):
        quizzer.round_attempts = round_attempts[name]
    profiler = start_profile("submit", 10)
    results.append(await measure("submit", quizzers, Quizzer.submit, timed=False))
    end_profile(profiler)
    for q in quizzers:
        await q.session.close()
    return results, autosave_connects


# ---------------------------------------------------------------- reporting

LABELS = {"bare": "GET /healthz of a bare Flask app (the ceiling, benchmarks/bare_app.py)",
          "healthz": "GET /healthz",
          "autosave": "POST /api/attempts/<id>/answers (autosave)",
          "quiz page": "GET /attempts/<id> (quiz page, 10 questions)",
          "submit": f"POST /attempts/<id> (submit a contest round, {ROUND_QUESTIONS} answers)"}


def _ratio(a: Result, b: Result) -> float:
    return a.rps / b.rps if b.rps else float("nan")


def table(results: list[Result]) -> str:
    bare, health = results[0], results[1]
    rows = ["| request | requests | seconds | req/s | × bare | × healthz | p50 ms | p99 ms | mean ms | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        rows.append(f"| {LABELS[r.name]} | {r.count} | {r.duration:.1f} | {r.rps:.1f} | "
                    f"{_ratio(r, bare):.2f} | {_ratio(r, health):.2f} | {r.pct(50):.1f} | "
                    f"{r.pct(99):.1f} | {r.mean_ms:.1f} | {r.errors} |")
    return "\n".join(rows)


# Issue 13's throughput targets: (what, measured request, reference, at least).
TARGETS = (("the app's per-request overhead: /healthz vs the bare route", "healthz", "bare", 0.85),
           ("autosave vs the bare route", "autosave", "bare", 0.40),
           ("quiz page vs /healthz", "quiz page", "healthz", 0.25),
           (f"{ROUND_QUESTIONS}-answer submit vs /healthz", "submit", "healthz", 0.15))


def target_rows(results: list[Result]) -> list[tuple[str, float, float, bool]]:
    by_name = {r.name: r for r in results}
    rows = []
    for what, name, reference, target in TARGETS:
        measured = _ratio(by_name[name], by_name[reference])
        rows.append((what, target, measured, measured >= target))
    return rows


def target_table(results: list[Result]) -> str:
    rows = ["| ratio of requests per second | target | measured | verdict |",
            "| --- | ---: | ---: | --- |"]
    for what, target, measured, ok in target_rows(results):
        rows.append(f"| {what} | ≥ {target:.2f}× | {measured:.2f}× | "
                    f"{'pass' if ok else '**fail**'} |")
    return "\n".join(rows)


def ratios(health: Result, other: Result) -> tuple[float, float]:
    rps_ratio = other.rps / health.rps if health.rps else float("nan")
    p50_ratio = other.pct(50) / health.pct(50) if health.latencies else float("nan")
    return rps_ratio, p50_ratio


def write_report(results: list[Result], info: dict) -> None:
    bare, health, saves, page, submits = results
    save_ratio, save_p50 = ratios(health, saves)
    errors = ""
    for r in results:
        if r.error_samples:
            errors += f"\nError samples ({r.name}): " + "; ".join(r.error_samples) + "\n"
    write_report_section("autosave", f"""## Autosave, quiz page and submit next to /healthz and a bare Flask route (`autosave.py`)

- **Date:** {info['date']}
- **Command:** `{info['command']}` (run by `make bench`)
- **Machine:** {info['machine']}; load average (1/5/15 min) before the run
  {info['load_before']}, after it {info['load_after']}
- **Server:** gunicorn {info['gunicorn']}, {WORKERS} sync workers, `QUIZAPP_ENV=production`,
  no Redis (rate limits in memory), PostgreSQL {info['postgres']} on the same machine
  (`{info['database']}`, dropped and recreated for the run); the load generator shares
  the machine too
- **Data:** the bundled bank ({info['bank']}), {MEMBERS} members in {BRANCHES} branches
  (round-robin); {CONCURRENCY} of them are
  the virtual users, each with one practice attempt of {QUESTIONS} questions
  ({TIME_LIMIT_MINUTES}-minute limit, exam mode) for the autosave and quiz-page phases,
  and an attempt in each of {SUBMIT_ROUNDS} open contest rounds of {ROUND_QUESTIONS}
  questions (started in-process before the server) for the submit phase
- **Load:** {CONCURRENCY} concurrent virtual users per phase; healthz, autosave and quiz page:
  {WARMUP:g} s warm-up (not recorded) then {DURATION:g} s recorded; submit: until every user
  has submitted all its round attempts, all recorded. Each user sends its next request
  as soon as the previous one is answered (closed loop, no think time). Client: own
  asyncio HTTP/1.1 client (`benchmarks/httpclient.py`); gunicorn's sync workers close the
  connection after every response, so each request includes a TCP connect on loopback
  ({info['connects']} connects in the autosave phase)
- **Requests:** autosave `POST /api/attempts/<id>/answers` with
  `{{"question_id": …, "choice_ids": [one choice token]}}`, session cookie and `X-CSRFToken`,
  cycling over the attempt's questions and choices (every save changes the row); quiz
  page `GET /attempts/<id>` (the whole page with its 10 questions); submit: the quiz
  form posted with `action=submit` and all {ROUND_QUESTIONS} answers, which saves them,
  grades, and updates the member's round result and the branch's counters, then
  answers 302 to the result page (not followed)

### Results

{table(results)}

Issue 13's targets, each a ratio of two rows above (measured in this one run):

{target_table(results)}

Autosave relative to the app's /healthz: {save_ratio:.2f}× the requests per second,
{save_p50:.1f}× the median latency.

After the run {info['saved']} of the virtual users' {info['items']} practice questions held a
saved answer, and {info['finished']} of their {info['round_attempts']} round attempts were
finished (read back from the database).
{errors}
### Reading it

The bare route is the ceiling of this stack: the same gunicorn and workers serving a
Flask app with one route and nothing else (`benchmarks/bare_app.py`, started only by
this script, so never reachable in production). The app's `/healthz` adds what every
request of the app pays: its before/after-request hooks (security headers, request id
and log line, NUL-byte and JSON-body checks, locale, session and login loading, rate
limiter), no database.
An autosave adds the signed session cookie, the CSRF check and one database statement
(`attempts.autosave`: a single `UPDATE` of the answer row that checks the session's user,
owner, state, deadline, choices and retry number in its `WHERE` and locks the attempt
row first, committed on its own without waiting for the WAL flush: its engine's
connections have `synchronous_commit = off`, and no pre-ping). The quiz page loads the
user, then the attempt with its questions as rows in one statement (their wording from
the worker's cache after the first load), with no BEGIN or ROLLBACK around them, plus the
pool's pre-ping, and renders the template; a submit
saves every answer under the attempt's lock, grades, and maintains the round result
and branch counters in one transaction. The absolute numbers depend on the machine;
with {info['nproc']} CPUs shared by the workers, PostgreSQL and the load generator, they
are a lower bound for a real server.
""")


# ---------------------------------------------------------------- main

def main() -> int:
    started = time.monotonic()
    load_before = load_average()
    pg_version, bank = prepare_database()
    log(f"creating {MEMBERS} members")
    names = create_members(MEMBERS)
    users = names[:CONCURRENCY]
    t0 = time.monotonic()
    round_attempts = create_round_attempts(users)
    log(f"{SUBMIT_ROUNDS} rounds, {SUBMIT_ROUNDS * CONCURRENCY} round attempts started "
        f"in-process in {time.monotonic() - t0:.1f} s")

    with gunicorn("gunicorn-bare.log", BARE_APP_SPEC) as port:
        bare = asyncio.run(run_bare(port))
    with gunicorn() as port:
        results, connects = asyncio.run(run_load(port, users, round_attempts))
        load_after = load_average()
    results.insert(0, bare)

    saved, items = saved_answer_counts(users)
    finished, total_round = finished_round_attempts(users)
    print()
    print(table(results))
    print()
    print(target_table(results))
    for r in results:
        if r.error_samples:
            print(f"error samples ({r.name}): {r.error_samples}")
    write_report(results, {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line("benchmarks/autosave.py"),
        "machine": machine_line(), "nproc": os.cpu_count(),
        "load_before": load_before, "load_after": load_after,
        "gunicorn": package_version("gunicorn"),
        "postgres": pg_version,
        "database": without_password(DATABASE_URL),
        "bank": bank,
        "connects": connects, "saved": saved, "items": items,
        "finished": finished, "round_attempts": total_round,
    })
    log(f"wrote the autosave section of benchmarks/REPORT.md in "
        f"{time.monotonic() - started:.0f} s total")
    failed = any(r.errors or not r.latencies for r in results) or finished != total_round
    if os.environ.get("BENCH_STRICT_TARGETS", "") not in ("", "0"):
        failed = failed or not all(ok for *_, ok in target_rows(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
