#!/usr/bin/env python3
"""Meeting mode under a full room: BENCH_MEETING_PLAYERS (100) phones in one live
session on BENCH_WORKERS (4) gunicorn workers, with short polling.

1. recreates a PostgreSQL database (BENCH_DATABASE_URL, by default its own
   quizapp_bench_meeting), migrates, imports the bank; creates a branch, its secretary
   and the members, and a points session of BENCH_MEETING_QUESTIONS (5) questions;
2. starts gunicorn (production settings) and logs every virtual user in; each joins by
   PIN through the form;
3. for each question: the host presses "start"/"next"; every phone polls its state
   once a second (as static/meeting.js does), takes the question (its id and choice
   tokens) from that JSON when the version changes, without loading the page, and
   answers at a random moment within 3 s of the question's start by the script's
   request (Accept: application/json; the page itself is loaded once, after joining); the host
   screen polls its state once a second and reloads its page after each of its
   actions; when all have answered the host reveals, shows the leaderboard, and goes
   on; the last "next" ends the session;
4. prints p50/p95/p99 of the answer POST, the phone's state poll, the host's state poll
   and the host's page, and checks in the database that every answer was recorded once.

Latencies are measured by the client (asyncio, one connection per virtual user).
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sys
import time

os.environ.setdefault("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/quizapp_bench_meeting")

from harness import (DATABASE_URL, PASSWORD, WORKERS, bench_app, gunicorn, gunicorn_log_errors,  # noqa: E402
                     load_average, log, machine_line, percentile, prepare_database)
from httpclient import Session, expect, hidden_value  # noqa: E402

PLAYERS = int(os.environ.get("BENCH_MEETING_PLAYERS", "100"))
QUESTIONS = int(os.environ.get("BENCH_MEETING_QUESTIONS", "5"))
ANSWER_WINDOW = 3.0
POLL = 1.0


def create_data() -> tuple[int, str]:
    from quizapp.extensions import db
    from quizapp.services.people import users
    from quizapp.services.learning import meeting

    app = bench_app()
    with app.app_context():
        ward = users.create_unit("bench-ward", "Đảng bộ phường (benchmark)", kind="committee")
        branch = users.create_unit("bench-cb", "Chi bộ benchmark", parent=ward)
        host = users.create_user("bench-host", "Bí Thư", branch, role="secretary", password=PASSWORD)
        for n in range(1, PLAYERS + 1):
            member = users.create_user(f"bench{n:04d}", f"Đảng Viên {n}", branch)
            member.password_hash = host.password_hash
        live = meeting.create_session(host, branch, meeting.SessionSpec(
            title="Benchmark", format="points", question_seconds=20, count=QUESTIONS),
            rng=random.Random(1))
        db.session.commit()
        out = live.id, live.pin
        db.session.remove()
        db.engine.dispose()
    return out


async def log_in(port: int, username: str) -> Session:
    s = Session("127.0.0.1", port)
    page = expect(await s.get("/login"), 200, "GET /login").text
    expect(await s.post_form("/login", {"csrf_token": hidden_value(page, "csrf_token"),
                                        "login": username, "password": PASSWORD}), 302, "POST /login")
    return s


class Timings(dict):
    def add(self, name: str, seconds: float) -> None:
        self.setdefault(name, []).append(seconds)


async def timed(timings: Timings, name: str, call):
    start = time.perf_counter()
    response = await call
    timings.add(name, time.perf_counter() - start)
    if response.status >= 500:
        timings.add("errors", 0)
    return response


async def run(port: int, session_id: int, pin: str) -> Timings:
    timings = Timings()
    log(f"{PLAYERS} players log in and join by PIN")
    gate = asyncio.Semaphore(4)   # logins hash a password (scrypt): not what is measured here

    async def gated(username: str) -> Session:
        async with gate:
            return await log_in(port, username)
    phones = await asyncio.gather(*(gated(f"bench{n:04d}") for n in range(1, PLAYERS + 1)))
    for phone in phones:
        page = expect(await phone.get("/join"), 200, "GET /join").text
        expect(await phone.post_form("/join", {"csrf_token": hidden_value(page, "csrf_token"), "pin": pin}),
               302, "POST /join")
    host = await log_in(port, "bench-host")
    host_poller = host.fork()
    host_page = expect(await host.get(f"/meetings/{session_id}/host"), 200, "host page").text
    done = asyncio.Event()

    async def poll_host() -> None:
        while not done.is_set():
            await timed(timings, "host state poll", host_poller.get(f"/meetings/{session_id}/host/state"))
            await asyncio.sleep(POLL)

    async def host_action(action: str) -> None:
        nonlocal host_page
        token = hidden_value(host_page, "csrf_token")
        await timed(timings, "host action POST", host.post_form(
            f"/meetings/{session_id}/host/{action}", {"csrf_token": token}))
        response = await timed(timings, "host page", host.get(f"/meetings/{session_id}/host"))
        host_page = response.text

    async def phone_question(phone: Session, poller: Session, csrf: str, started: float) -> None:
        # The phone notices the new question at its next poll and draws it from the JSON;
        # each poll names the version the phone shows (?v=), the question comes only with
        # a new one.
        state_url = f"/play/{session_id}/state"
        await asyncio.sleep(random.uniform(0, POLL))
        state = json.loads((await timed(timings, "phone state poll",
                                        poller.get(f"{state_url}?v={shown[id(phone)]}"))).text)
        question = state.get("question")
        if not question or not question.get("choices"):
            timings.add("no question in state", 0)
            return
        shown[id(phone)] = state["v"]
        wait = started + random.uniform(0.3, ANSWER_WINDOW) - time.perf_counter()
        while wait > POLL:   # keep polling while thinking, as the page does
            await asyncio.sleep(POLL)
            await timed(timings, "phone state poll", poller.get(f"{state_url}?v={shown[id(phone)]}"))
            wait = started + random.uniform(0.3, ANSWER_WINDOW) - time.perf_counter()
        await asyncio.sleep(max(0.0, wait))
        response = await timed(timings, "answer POST", phone.post_form(
            f"/play/{session_id}/answer?v={shown[id(phone)]}",
            {"csrf_token": csrf, "q": question["id"], "choice": random.choice(question["choices"])["token"]},
            accept="application/json"))
        if response.status != 200:
            timings.add("answer refused", 0)

    pollers = [phone.fork() for phone in phones]
    csrfs: list[str] = []
    shown: dict[int, str] = {}   # the version each phone's screen shows
    for phone in phones:   # the page a phone lands on after joining (the lobby)
        page = (await timed(timings, "phone page", phone.get(f"/play/{session_id}"))).text
        csrfs.append(hidden_value(page, "csrf_token"))
        shown[id(phone)] = re.search(r'data-version="([^"]*)"', page).group(1)
    host_task = asyncio.create_task(poll_host())
    for number in range(QUESTIONS):
        log(f"question {number + 1}")
        await host_action("start" if number == 0 else "next")
        started = time.perf_counter()
        await asyncio.gather(*(phone_question(p, q, c, started) for p, q, c in zip(phones, pollers, csrfs)))
        await host_action("reveal")
        await host_action("leaderboard")
    await host_action("next")
    done.set()
    await host_task
    for s in [*phones, *pollers, host, host_poller]:
        await s.close()
    return timings


def recorded_answers(session_id: int) -> tuple[int, int]:
    from sqlalchemy import func, select

    from quizapp.extensions import db
    from quizapp.models import MeetingAnswer, MeetingQuestion
    app = bench_app()
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(MeetingAnswer).join(
            MeetingQuestion, MeetingQuestion.id == MeetingAnswer.meeting_question_id)
            .where(MeetingQuestion.session_id == session_id))
        distinct = db.session.scalar(select(func.count(func.distinct(
            MeetingAnswer.player_id * 100000 + MeetingAnswer.meeting_question_id))))
        db.session.remove()
        db.engine.dispose()
    return rows, distinct


def main() -> int:
    pg_version, bank = prepare_database()
    session_id, pin = create_data()
    with gunicorn("gunicorn-meeting.log") as port:
        began = time.perf_counter()
        timings = asyncio.run(run(port, session_id, pin))
        elapsed = time.perf_counter() - began
    rows, distinct = recorded_answers(session_id)
    print(f"\nmeeting: {PLAYERS} players, {QUESTIONS} questions, {WORKERS} workers, "
          f"PostgreSQL {pg_version}, {bank}; {elapsed:.0f} s; load {load_average()}")
    print(machine_line())
    print(f"{'request':22} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name in ("answer POST", "phone state poll", "phone page", "host state poll", "host page",
                 "host action POST"):
        values = timings.get(name, [])
        print(f"{name:22} {len(values):6d} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} "
              f"{percentile(values, 99):8.1f} {max(values) * 1000 if values else float('nan'):8.1f}")
    problems = {k: len(v) for k, v in timings.items() if k in ("errors", "answer refused", "no question in state")}
    print(f"answers recorded: {rows} rows, {distinct} distinct (expected {PLAYERS * QUESTIONS}); problems: {problems}")
    errors = gunicorn_log_errors("gunicorn-meeting.log")
    if errors:
        print("gunicorn log:", *errors[:5], sep="\n  ")
    ok = rows == distinct == PLAYERS * QUESTIONS and not problems and not errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
