#!/usr/bin/env python3
"""A contest round under load: the start spike and the deadline storm.

`make bench` runs this after autosave.py. It
1. drops and recreates the PostgreSQL database (BENCH_DATABASE_URL), migrates and
   imports the bundled bank with the app's CLI;
2. creates a ward, BENCH_BRANCHES branches under it and BENCH_STORM_MEMBERS members
   spread over the branches (one bulk INSERT with precomputed scrypt hashes: the app's
   cost for the first BENCH_LOGIN_SAMPLE members, a cheaper work factor for the others,
   or the logins alone would outlast the benchmark), an organizer, a contest for the
   ward and one open round (BENCH_ROUND_QUESTIONS questions drawn from the whole bank,
   30-minute limit, results at close), through the services;
3. starts gunicorn (production settings, BENCH_WORKERS sync workers, LOGIN_RATE_LIMIT
   raised) and logs every member in through the login form, then opens the round page
   for the CSRF token (not measured, except the login rate of the full-cost sample);
4. start spike (measured): BENCH_SPIKE_MEMBERS members each double-click "Start the
   round": two concurrent POST /rounds/<id>/start with the same session, at most
   BENCH_START_IN_FLIGHT requests in flight; then checks in the database that every
   member has exactly one attempt and the branch counters say so;
5. the other members' attempts are started in-process through
   services.contests.start_round_attempt (not measured); late and absent members save
   a full form of answers (action=save, not measured);
6. deadline storm (measured): the round's close time and every attempt's deadline are
   set in the database to BENCH_STORM_WINDOW seconds from now, and every member who
   submits sends the whole form (action=submit with the answers) at a random moment of
   that last window (open loop: at its time, whatever the server's backlog); some
   double-click (two concurrent submits), some submit again after the answer; a few
   send within the grace period, a few after deadline + grace (they must be refused
   and finished with what they had saved), a few never come back;
7. follows the duplicates' redirects to the result page (not measured), runs
   `flask --app quizapp attempts close-overdue` (twice), stops gunicorn, checks every
   attempt, answer, score, counting result and branch counter in the database, and
   compares the maintained counters with services.contests.rebuild_round's (rolled back);
8. prints the figures and rewrites its section of benchmarks/REPORT.md. Exit status 1
   when a request failed or a check did not hold.

Settings from the environment: BENCH_SPIKE_MEMBERS (1000), BENCH_STORM_MEMBERS (2000),
BENCH_BRANCHES (40), BENCH_START_IN_FLIGHT (100), BENCH_STORM_WINDOW (60 s),
BENCH_ROUND_QUESTIONS (20), BENCH_LOGIN_CONCURRENCY (8), BENCH_LOGIN_SAMPLE (20), and
those of harness.py
(BENCH_DATABASE_URL, BENCH_WORKERS). QUIZ_GRACE_SECONDS, if set, reaches the server
too.
"""
from __future__ import annotations

import asyncio
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html import unescape

from harness import (command_line, DATABASE_URL, PASSWORD, WORKERS, bench_app, end_profile, flask_cli,
                     gunicorn, start_profile,
                     gunicorn_log_errors, load_average, log, machine_line, mean_ms,
                     package_version, percentile, prepare_database, without_password,
                     write_report_section)
from httpclient import REQUEST_ERRORS, HTTPError, Session, expect, hidden_value

SPIKE_MEMBERS = int(os.environ.get("BENCH_SPIKE_MEMBERS", "1000"))
STORM_MEMBERS = int(os.environ.get("BENCH_STORM_MEMBERS", "2000"))
BRANCHES = int(os.environ.get("BENCH_BRANCHES", "40"))
START_IN_FLIGHT = int(os.environ.get("BENCH_START_IN_FLIGHT", "100"))
STORM_WINDOW = float(os.environ.get("BENCH_STORM_WINDOW", "60"))
ROUND_QUESTIONS = int(os.environ.get("BENCH_ROUND_QUESTIONS", "20"))
LOGIN_CONCURRENCY = int(os.environ.get("BENCH_LOGIN_CONCURRENCY", "8"))
LOGIN_SAMPLE = int(os.environ.get("BENCH_LOGIN_SAMPLE", "20"))
CHEAP_SCRYPT = "scrypt:1024:8:1"   # werkzeug's default is scrypt:32768:8:1
GRACE = int(os.environ.get("QUIZ_GRACE_SECONDS") or 5)  # the app's default is 5
ROUND_MINUTES = 30
START_BATCH = 500           # in-process starts per transaction (set-up)
SETUP_CONCURRENCY = 16      # unmeasured set-up requests in flight
LEAD_SECONDS = 2.0          # between setting the deadline and the window's first send
REQUEST_TIMEOUT = 60.0      # set-up and start requests
STORM_TIMEOUT = 180.0       # submits: a browser waits minutes; the outcome is the point
SEED = 2025
# Shares of the storm's members (the rest submit once, on time).
SHARES = {"late": 0.05, "absent": 0.03, "in_grace": 0.02, "double": 0.10, "resubmit": 0.03}
ON_TIME_ROLES = ("once", "double", "resubmit")
HOST = "127.0.0.1"

if not 0 < SPIKE_MEMBERS <= STORM_MEMBERS:
    raise SystemExit("need 0 < BENCH_SPIKE_MEMBERS <= BENCH_STORM_MEMBERS")
if START_IN_FLIGHT < 2:
    raise SystemExit("BENCH_START_IN_FLIGHT must be at least 2 (one double click)")


# ---------------------------------------------------------------- data

@dataclass
class Member:
    number: int
    username: str
    user_id: int
    unit_id: int
    session: Session | None = None
    csrf: str = ""
    attempt_id: int | None = None
    questions: list[tuple[int, str, list[int]]] = field(default_factory=list)  # id, kind, choices
    # (question, choice) -> the token the page names it by (quizapp.services.choice_tokens)
    tokens: dict[tuple[int, int], int] = field(default_factory=dict)
    role: str = ""
    saved: dict[int, list[int]] = field(default_factory=dict)      # saved before the storm
    submitted: dict[int, list[int]] = field(default_factory=dict)  # in the submit form
    send_at: float = 0.0                                            # wall clock
    clicks: list["Sample"] = field(default_factory=list)


@dataclass
class Population:
    round_id: int
    members: list[Member]
    units: int


def create_population(count: int) -> Population:
    """Ward, branches, members (bulk insert, one shared scrypt hash: same password, same
    stored hash), organizer, contest and an open round, through the services."""
    from sqlalchemy import insert, select
    from werkzeug.security import generate_password_hash

    from quizapp.clock import utcnow
    from quizapp.extensions import db
    from quizapp.models import User
    from quizapp.services import contests
    from quizapp.services.people import users

    app = bench_app()
    with app.app_context():
        ward = users.create_unit("bench-ward", "Đảng bộ phường (benchmark)", kind="committee")
        branches = [users.create_unit(f"bench-cb-{n:02d}", f"Chi bộ benchmark số {n}",
                                      parent=ward, position=n) for n in range(1, BRANCHES + 1)]
        organizer = users.create_user("bench-organizer", "Ban tổ chức (benchmark)", ward,
                                      role="organizer")
        # The app's own cost (what set_password stores) for the login sample; a cheaper
        # scrypt work factor for everybody else, or logging 2,000 members in would take
        # minutes (check_password_hash reads the parameters from the stored hash).
        full_cost = generate_password_hash(PASSWORD, method="scrypt")
        cheap = generate_password_hash(PASSWORD, method=CHEAP_SCRYPT)
        db.session.execute(insert(User), [
            {"username": f"cs{n:04d}", "full_name": f"Đảng Viên {n}",
             "unit_id": branches[(n - 1) % BRANCHES].id, "role": "member",
             "password_hash": full_cost if n <= LOGIN_SAMPLE else cheap, "active": True,
             "session_version": 1}
            for n in range(1, count + 1)])
        try:  # the branches' active rosters, recounted as services.roster does
            from quizapp.services.branches.counters import refresh_rosters
        except ImportError:
            pass
        else:
            refresh_rosters([b.id for b in branches])
        contest = contests.create_contest(organizer, "Hội thi tìm hiểu Nghị quyết (benchmark)",
                                          "", [ward])
        now = utcnow()
        round_ = contests.create_round(organizer, contest, contests.RoundSettings(
            title="Vòng 1 (benchmark)", opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(hours=2), time_limit_minutes=ROUND_MINUTES,
            question_count=ROUND_QUESTIONS, results_visibility="at_close"))
        contests.schedule(organizer, round_)
        db.session.commit()
        rows = db.session.execute(select(User.id, User.username, User.unit_id).where(
            User.username.like("cs%")).order_by(User.username)).all()
        members = [Member(n, name, uid, unit) for n, (uid, name, unit) in enumerate(rows, 1)]
        round_id = round_.id
        db.session.remove()
        db.engine.dispose()
    return Population(round_id, members, BRANCHES)


def pg():
    import psycopg
    return psycopg.connect(DATABASE_URL)


# ---------------------------------------------------------------- requests

@dataclass
class Sample:
    """One measured request."""
    latency: float
    status: int | None
    location: str = ""
    error: str = ""
    flashes: list[tuple[str, str]] = field(default_factory=list)
    sent_at: float = 0.0   # wall clock
    done_at: float = 0.0
    session: Session | None = None
    outcome: str = ""


class InFlight:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    def __enter__(self):
        self.now += 1
        self.peak = max(self.peak, self.now)

    def __exit__(self, *exc):
        self.now -= 1


def error_page_message(html: str) -> str:
    """The message of the app's error page (templates/errors/error.html)."""
    match = re.search(r'class="card error-page">\s*<h1>(.*?)</h1>\s*<p>(.*?)</p>', html, re.S)
    return unescape(match.group(2).strip()) if match else ""


async def timed_post(session: Session, path: str, data, in_flight: InFlight,
                     referer: str) -> Sample:
    """POST a form as the browser would from the page `referer`; a timeout or a broken
    connection is a Sample with status None."""
    sent = time.time()
    t0 = time.perf_counter()
    with in_flight:
        try:
            response = await session.post_form(path, data, referer=referer)
        except REQUEST_ERRORS as exc:
            return Sample(time.perf_counter() - t0, None, error=repr(exc)[:200], sent_at=sent,
                          done_at=time.time(), session=session)
        finally:
            await session.close()
    flashes = session.flashes()
    if response.status >= 400:  # the app answers with its error page
        flashes = [("page", error_page_message(response.text))]
    return Sample(time.perf_counter() - t0, response.status, response.location_path,
                  flashes=flashes, sent_at=sent, done_at=time.time(), session=session)


async def run_pool(items: list, concurrency: int, operation) -> None:
    """`operation(item)` for every item, `concurrency` at a time."""
    iterator = iter(items)

    async def worker() -> None:
        for item in iterator:
            await operation(item)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(items))))))


def answer_form(member: Member, answers: dict[int, list[int]],
                action: str) -> list[tuple[str, str]]:
    data = [("csrf_token", member.csrf)]
    data += [(f"q-{qid}", str(member.tokens[qid, cid])) for qid, ids in answers.items() for cid in ids]
    data.append(("action", action))
    return data


def pick_answers(rng: random.Random, member: Member) -> dict[int, list[int]]:
    """An answer for every question (one choice, one or two for 'multiple'), about one
    in twelve left blank."""
    out = {}
    for qid, kind, choices in member.questions:
        if rng.random() < 0.08:
            out[qid] = []
        elif kind == "multiple":
            out[qid] = sorted(rng.sample(choices, rng.randint(1, min(2, len(choices)))))
        else:
            out[qid] = [rng.choice(choices)]
    return out


# ---------------------------------------------------------------- set-up over HTTP

async def log_in_all(port: int, members: list[Member], round_id: int
                     ) -> tuple[float, list[float]]:
    """Every member: GET /login (?lang=en: readable flashes), POST the form, open the round
    page for the session's CSRF token. Returns the seconds it took and the latencies of
    the login POSTs."""
    round_path = f"/rounds/{round_id}"
    posts: list[float] = []

    async def log_in(member: Member) -> None:
        s = Session(HOST, port, timeout=REQUEST_TIMEOUT)
        page = expect(await s.get("/login?lang=en"), 200, "GET /login").text
        t0 = time.perf_counter()
        response = expect(await s.post_form("/login", {
            "csrf_token": hidden_value(page, "csrf_token"), "login": member.username,
            "password": PASSWORD}, referer="/login?lang=en"), 302, "POST /login")
        posts.append(time.perf_counter() - t0)
        if response.location_path.startswith("/login"):
            raise HTTPError(f"login of {member.username} refused")
        page = expect(await s.get(round_path), 200, f"GET {round_path}").text
        if f'action="/rounds/{round_id}/start"' not in page:
            raise HTTPError(f"{member.username}: no start button on the round page")
        member.csrf = hidden_value(page, "csrf_token")
        member.session = s
        await s.close()

    t0 = time.perf_counter()
    await run_pool(members, LOGIN_CONCURRENCY, log_in)
    return time.perf_counter() - t0, posts


def mint_sessions(port: int, round_id: int, members: list[Member]) -> float:
    """The session cookie and CSRF token a login would give each member, made in-process
    by the app's own code (Flask-Login's login_user, Flask-WTF's generate_csrf, the
    app's session serializer, the same SECRET_KEY as the server) instead of three HTTP
    requests per member: set-up for 20,000 members in seconds rather than minutes. The
    login sample still logs in through the form (timed), so the login path stays
    measured. Returns the seconds it took."""
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import select

    from quizapp.extensions import db
    from quizapp.models import User

    t0 = time.perf_counter()
    app = bench_app()
    serializer = app.session_interface.get_signing_serializer(app)
    cookie = app.config["SESSION_COOKIE_NAME"]
    with app.app_context():
        people = {u.id: u for u in db.session.execute(select(User).where(
            User.id.in_([m.user_id for m in members]))).scalars()}
        db.session.expunge_all()
        db.session.remove()
        db.engine.dispose()
    for member in members:
        # A request context of its own, outside any app context: its own `g`, where
        # Flask-Login and Flask-WTF keep the user and the token of one request.
        with app.test_request_context(
                f"/rounds/{round_id}", base_url=f"http://{HOST}:{port}",
                headers={"User-Agent": "quizapp-bench"}, environ_base={"REMOTE_ADDR": HOST}):
            session["lang"] = "en"   # as the sample's GET /login?lang=en
            login_user(people[member.user_id])
            member.csrf = generate_csrf()
            member.session = Session(HOST, port, {cookie: serializer.dumps(dict(session))},
                                     timeout=REQUEST_TIMEOUT)
    return time.perf_counter() - t0


def start_in_process(round_id: int, members: list[Member]) -> float:
    """services.contests.start_round_attempt for each member, in one session, a
    transaction per START_BATCH members (set-up for the storm; the HTTP path is what the
    spike measures)."""
    from sqlalchemy import select

    from quizapp.extensions import db
    from quizapp.models import Round, User
    from quizapp.services import contests

    t0 = time.perf_counter()
    app = bench_app()
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        people = {u.id: u for u in db.session.execute(select(User).where(
            User.id.in_([m.user_id for m in members]))).scalars()}
        for n, member in enumerate(members, 1):
            member.attempt_id = contests.start_round_attempt(people[member.user_id], round_).id
            if n % START_BATCH == 0:
                # One transaction per batch: each start takes a savepoint (the INSERT's
                # race with a double click), and thousands of them in one transaction
                # slowed every start down (half of 19,000 starts in the profile).
                db.session.commit()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - t0


@dataclass
class Spike:
    samples: list[Sample]
    seconds: float
    pairs: int
    bad_pairs: list[str]
    peak_in_flight: int


async def start_spike(port: int, members: list[Member], round_id: int) -> Spike:
    path = f"/rounds/{round_id}/start"
    in_flight = InFlight()
    samples: list[Sample] = []
    bad: list[str] = []

    async def double_click(member: Member) -> None:
        data = {"csrf_token": member.csrf}
        page = f"/rounds/{round_id}"
        pair = await asyncio.gather(
            timed_post(member.session.fork(), path, data, in_flight, page),
            timed_post(member.session.fork(), path, data, in_flight, page))
        samples.extend(pair)
        ids = set()
        for sample in pair:
            match = re.fullmatch(r"/attempts/(\d+)", sample.location)
            if sample.status != 302 or not match:
                sample.outcome = "error"
                bad.append(f"{member.username}: {sample.status} {sample.location or sample.error}")
            else:
                sample.outcome = "ok"
                ids.add(int(match.group(1)))
        if len(ids) > 1:
            bad.append(f"{member.username}: two attempts {sorted(ids)}")
        if ids:
            member.attempt_id = min(ids)

    log(f"start spike: {len(members)} members double-click, "
        f"{START_IN_FLIGHT} requests in flight at most")
    t0 = time.perf_counter()
    await run_pool(members, START_IN_FLIGHT // 2, double_click)
    return Spike(samples, time.perf_counter() - t0, len(members), bad, in_flight.peak)


async def save_before(port: int, members: list[Member]) -> float:
    """The form's "Save answers" (action=save) with each member's `saved` answers."""
    in_flight = InFlight()

    async def save(member: Member) -> None:
        path = f"/attempts/{member.attempt_id}"
        sample = await timed_post(member.session.fork(), path,
                                  answer_form(member, member.saved, "save"), in_flight, path)
        if sample.status != 302 or sample.location != path:
            raise HTTPError(f"save for {member.username}: {sample.status} "
                            f"{sample.location or sample.error}")

    t0 = time.perf_counter()
    await run_pool(members, SETUP_CONCURRENCY, save)
    return time.perf_counter() - t0


# ---------------------------------------------------------------- the storm

@dataclass
class Storm:
    deadline: float                   # wall clock
    window_start: float
    samples: list[Sample]
    peak_in_flight: int
    seconds: float


def assign_roles(members: list[Member], rng: random.Random) -> dict[str, list[Member]]:
    shuffled = list(members)
    rng.shuffle(shuffled)
    groups: dict[str, list[Member]] = {}
    at = 0
    for role, share in SHARES.items():
        n = max(1, round(len(members) * share))
        groups[role] = shuffled[at:at + n]
        at += n
    groups["once"] = shuffled[at:]
    for role, group in groups.items():
        for member in group:
            member.role = role
    return groups


def set_deadline(round_id: int, deadline: datetime) -> int:
    """The round closes at `deadline`, and so does every attempt in progress: what
    start_round_attempt gives (min(start + limit, close)) when the close falls inside the
    members' time limit. Returns how many attempts moved."""
    with pg() as conn:
        conn.execute("UPDATE rounds SET closes_at = %s WHERE id = %s", (deadline, round_id))
        moved = conn.execute("UPDATE attempts SET deadline = %s WHERE round_id = %s "
                             "AND status = 'in_progress'", (deadline, round_id)).rowcount
    return moved


async def deadline_storm(port: int, members: list[Member], round_id: int,
                         rng: random.Random) -> Storm:
    deadline = time.time() + LEAD_SECONDS + STORM_WINDOW
    moved = set_deadline(round_id, datetime.fromtimestamp(deadline, timezone.utc))
    window_start = deadline - STORM_WINDOW
    log(f"deadline storm: round and {moved} attempts close at "
        f"{datetime.fromtimestamp(deadline).strftime('%H:%M:%S.%f')[:-3]}; "
        f"{STORM_WINDOW:g} s window, grace {GRACE} s")
    for member in members:
        if member.role in ON_TIME_ROLES:
            member.send_at = window_start + rng.random() * STORM_WINDOW
        elif member.role == "in_grace":
            member.send_at = deadline + rng.uniform(0.2, GRACE / 2)
        elif member.role == "late":
            member.send_at = deadline + GRACE + rng.uniform(0.5, 3.0)
    in_flight = InFlight()
    samples: list[Sample] = []

    async def submit(member: Member) -> None:
        await asyncio.sleep(max(0.0, member.send_at - time.time()))
        path = f"/attempts/{member.attempt_id}"
        data = answer_form(member, member.submitted, "submit")

        def click():
            session = member.session.fork()
            session.timeout = STORM_TIMEOUT
            return timed_post(session, path, data, in_flight, path)

        if member.role == "double":
            clicks = list(await asyncio.gather(click(), click()))
        elif member.role == "resubmit":
            first = await click()
            await asyncio.sleep(0.3)
            clicks = [first, await click()]
        else:
            clicks = [await click()]
        for sample in clicks:
            if sample.status == 302 and sample.location == f"{path}/result":
                sample.outcome = "result"
            elif (sample.status == 302 and sample.location == path) or sample.status == 409:
                sample.outcome = "refused"   # flash and back to the quiz page, or error page
            else:
                sample.outcome = "error"
        member.clicks = clicks
        samples.extend(clicks)

    takers = [m for m in members if m.role != "absent"]
    t0 = time.perf_counter()
    await asyncio.gather(*(submit(m) for m in takers))
    return Storm(deadline, window_start, samples, in_flight.peak, time.perf_counter() - t0)


async def follow_to_result(port: int, members: list[Member]) -> dict[str, int]:
    """Each duplicate click's redirect followed (with its own cookies) to the page the
    member lands on: the result page, with the score shown."""
    out = {"followed": 0, "same_result": 0, "different": 0}
    problems: list[str] = []

    async def follow(member: Member) -> None:
        scores = []
        for sample in member.clicks:
            s = sample.session
            # After an error page (409) the member goes back to the quiz page.
            path = sample.location or (f"/attempts/{member.attempt_id}"
                                       if sample.status == 409 else "")
            score = None
            for _hop in range(4):
                if not path:
                    break
                response = await s.get(path)
                if response.status == 302:
                    path = response.location_path
                    continue
                match = re.search(r'class="big-score">(\d+)/(\d+)<', response.text)
                if response.status == 200 and path.endswith("/result") and match:
                    score = (int(match.group(1)), int(match.group(2)))
                break
            await s.close()
            scores.append(score)
            out["followed"] += 1
        if None not in scores and len(set(scores)) == 1:
            out["same_result"] += 1
        else:
            out["different"] += 1
            problems.append(f"{member.username}: {scores}")

    await run_pool(members, SETUP_CONCURRENCY, follow)
    if problems:
        log(f"duplicates that did not land on the same result: {problems[:5]}")
    return out


# ---------------------------------------------------------------- database checks

@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def load_questions(round_id: int, members: list[Member]) -> None:
    from quizapp.services.attempts import choice_tokens
    by_attempt = {m.attempt_id: m for m in members}
    with pg() as conn:
        for attempt_id, qid, kind, order in conn.execute(
                "SELECT aq.attempt_id, aq.question_id, q.kind, aq.choice_order "
                "FROM attempt_questions aq JOIN attempts a ON a.id = aq.attempt_id "
                "JOIN questions q ON q.id = aq.question_id WHERE a.round_id = %s "
                "ORDER BY aq.attempt_id, aq.position", (round_id,)):
            member = by_attempt.get(attempt_id)
            if member is not None:
                member.questions.append((qid, kind, [int(x) for x in order.split(",") if x]))
    # The form posts the attempt's choice tokens, as the page does (same SECRET_KEY).
    with bench_app().app_context():
        for member in members:
            for qid, _kind, choices in member.questions:
                member.tokens.update(zip([(qid, c) for c in choices],
                                         choice_tokens.tokens(member.attempt_id, qid, choices)))


def spike_checks(round_id: int, members: list[Member]) -> tuple[list[Check], dict]:
    with pg() as conn:
        attempts, people, max_no = conn.execute(
            "SELECT count(*), count(DISTINCT user_id), coalesce(max(attempt_no), 0) "
            "FROM attempts WHERE round_id = %s", (round_id,)).fetchone()
        started = conn.execute("SELECT coalesce(sum(started), 0) FROM round_unit_stats "
                               "WHERE round_id = %s", (round_id,)).fetchone()[0]
        unit_rows = conn.execute(
            "SELECT coalesce(s.unit_id, a.unit_id), coalesce(s.started, 0), coalesce(a.n, 0) "
            "FROM (SELECT * FROM round_unit_stats WHERE round_id = %(r)s) s FULL JOIN "
            "(SELECT unit_id, count(*) AS n FROM attempts WHERE round_id = %(r)s "
            "GROUP BY unit_id) a ON a.unit_id = s.unit_id", {"r": round_id}).fetchall()
        owners = dict(conn.execute("SELECT user_id, id FROM attempts WHERE round_id = %s",
                                   (round_id,)).fetchall())
        seq = conn.execute("SELECT pg_get_serial_sequence('attempts', 'id')").fetchone()[0]
        last, called = conn.execute(f"SELECT last_value, is_called FROM {seq}").fetchone()
    ids_used = last if called else 0
    n = len(members)
    wrong_units = [u for u, s, a in unit_rows if s != a]
    wrong_owner = [m.username for m in members if owners.get(m.user_id) != m.attempt_id]
    checks = [
        Check("attempts for the round", attempts == n and people == n and max_no == 1,
              f"{attempts} attempts, {people} members, highest attempt_no {max_no} "
              f"(expected {n}, {n}, 1)"),
        Check("RoundUnitStats.started summed", started == n, f"{started} (expected {n})"),
        Check("started per branch = attempts per branch", not wrong_units,
              f"{len(unit_rows)} branches, {len(wrong_units)} differ"),
        Check("both clicks' redirect = the member's attempt", not wrong_owner,
              f"{n - len(wrong_owner)} of {n} members"),
    ]
    # attempts.id comes from a sequence: an INSERT that lost the unique-constraint race
    # (the IntegrityError path of start_round_attempt) still used an id.
    return checks, {"raced": ids_used - attempts, "ids_used": ids_used}


def final_checks(round_id: int, groups: dict[str, list[Member]], deadline: float
                 ) -> tuple[list[Check], dict]:
    members = [m for g in groups.values() for m in g]
    deadline_dt = datetime.fromtimestamp(deadline, timezone.utc)
    with pg() as conn:
        rows = conn.execute(
            "SELECT id, user_id, status, finish_reason, finished_at, score, max_score "
            "FROM attempts WHERE round_id = %s", (round_id,)).fetchall()
        items: dict[int, list[tuple[int, str | None]]] = {}
        for attempt_id, qid, selected in conn.execute(
                "SELECT aq.attempt_id, aq.question_id, aq.selected FROM attempt_questions aq "
                "JOIN attempts a ON a.id = aq.attempt_id WHERE a.round_id = %s", (round_id,)):
            items.setdefault(attempt_id, []).append((qid, selected))
        right: dict[int, set[int]] = {}
        for qid, cid in conn.execute(
                "SELECT c.question_id, c.id FROM choices c WHERE c.is_correct AND c.question_id "
                "IN (SELECT DISTINCT aq.question_id FROM attempt_questions aq JOIN attempts a "
                "ON a.id = aq.attempt_id WHERE a.round_id = %s)", (round_id,)):
            right.setdefault(qid, set()).add(cid)
        stats = conn.execute(
            "SELECT coalesce(sum(started), 0), coalesce(sum(finished), 0), "
            "coalesce(sum(participants), 0), coalesce(sum(score_sum), 0) "
            "FROM round_unit_stats WHERE round_id = %s", (round_id,)).fetchone()
        results = {user_id: (attempt_id, score) for user_id, attempt_id, score in conn.execute(
            "SELECT user_id, attempt_id, score FROM round_results WHERE round_id = %s",
            (round_id,))}
    by_id = {r[0]: r for r in rows}
    n = len(members)
    finished = sum(1 for r in rows if r[2] == "finished")
    outcome: dict[str, dict[str, int]] = {}   # role → finish reason → members
    late_accepted, wrong_kept, wrong_stored, wrong_time, wrong_score, wrong_result = \
        [], [], [], [], [], []
    refused_in_time = []
    for m in members:
        attempt_id, _user, status, reason, finished_at, score, _max = by_id[m.attempt_id]
        per_role = outcome.setdefault(m.role, {})
        per_role[reason or "-"] = per_role.get(reason or "-", 0) + 1
        stored = {qid: sorted(int(x) for x in (sel or "").split(",") if x)
                  for qid, sel in items[attempt_id]}
        if reason == "submitted":
            if m.role in ("late", "absent"):
                late_accepted.append(m.username)
            if stored != {qid: sorted(m.submitted.get(qid, [])) for qid in stored}:
                wrong_stored.append(f"{m.username} ({m.role})")
            if finished_at is None or finished_at > deadline_dt:
                wrong_time.append(f"{m.username} ({m.role}, submitted): {finished_at}")
        else:
            if m.role not in ("late", "absent"):
                refused_in_time.append(m)
            if stored != {qid: sorted(m.saved.get(qid, [])) for qid in stored}:
                wrong_kept.append(f"{m.username} ({m.role})")
            if finished_at != deadline_dt:
                wrong_time.append(f"{m.username} ({m.role}, {reason}): {finished_at}")
        graded = sum(1 for qid, sel in items[attempt_id]
                     if {int(x) for x in (sel or "").split(",") if x} == right.get(qid, set()))
        if score != graded:
            wrong_score.append(f"{m.username}: stored {score}, regraded {graded}")
        if results.get(m.user_id) != (attempt_id, score):
            wrong_result.append(m.username)

    def eg(items_: list) -> str:
        return f"; e.g. {items_[:3]}" if items_ else ""

    n_expired = sum(v.get("expired", 0) for v in outcome.values())
    checks = [
        Check("one attempt per member, all finished",
              len(rows) == n and finished == n and len({r[1] for r in rows}) == n,
              f"{len(rows)} attempts, {finished} finished, "
              f"{sum(1 for r in rows if r[2] != 'finished')} in progress"),
        Check("finished exactly once (RoundUnitStats.finished summed = finished attempts)",
              stats[1] == finished, f"{stats[1]} counted, {finished} finished"),
        Check("RoundUnitStats.started summed = attempts", stats[0] == len(rows),
              f"{stats[0]} (expected {len(rows)})"),
        Check("RoundResult rows = participants = RoundUnitStats.participants summed",
              len(results) == n and stats[2] == n,
              f"{len(results)} results, {stats[2]} counted, {n} participants"),
        Check("each RoundResult = the member's attempt and score", not wrong_result,
              f"{n - len(wrong_result)} of {n}"),
        Check("no submit accepted after deadline + grace (late members all refused)",
              not late_accepted, f"{len(late_accepted)} accepted{eg(late_accepted)}"),
        Check("accepted submits stored the form's answers, finished by the deadline",
              not wrong_stored, f"{n - n_expired - len(wrong_stored)} of {n - n_expired}"
              + eg(wrong_stored)),
        Check("expired attempts kept what was saved before (not the refused form), "
              "finished_at = deadline", not wrong_kept,
              f"{n_expired - len(wrong_kept)} of {n_expired}" + eg(wrong_kept)),
        Check("finished_at ≤ deadline (submitted), = deadline (expired)", not wrong_time,
              f"{n - len(wrong_time)} of {n}" + eg(wrong_time)),
        Check("score = answers regraded from the bank", not wrong_score,
              f"{n - len(wrong_score)} of {n}" + eg(wrong_score)),
    ]
    return checks, {"outcome": outcome, "refused_in_time": refused_in_time,
                    "score_sum": stats[3]}


# The maintained per-round tables and their natural keys (those that exist: the schema
# grows), compared column by column, whatever the columns are.
COUNTER_TABLES = (("RoundUnitStats", ("unit_id",)), ("RoundResult", ("user_id",)),
                  ("RoundSectionStats", ("unit_id", "section_id")))


def rebuild_check(round_id: int) -> tuple[list[Check], float]:
    """The maintained counters and counting results next to services.contests.rebuild_round's
    recomputation, in one transaction that is rolled back."""
    from sqlalchemy import select

    from quizapp import models
    from quizapp.extensions import db
    from quizapp.services import contests

    tables = [(name, getattr(models, name), key) for name, key in COUNTER_TABLES
              if hasattr(models, name)]

    def snapshot() -> dict[str, dict[tuple, tuple]]:
        out = {}
        for name, model, key in tables:
            columns = [c for c in model.__table__.c if c.name not in ("id", "round_id")]
            rows = db.session.execute(select(*columns).where(
                model.__table__.c.round_id == round_id)).mappings()
            out[name] = {tuple(r[k] for k in key): tuple(r[c.name] for c in columns)
                         for r in rows}
        return out

    app = bench_app()
    with app.app_context():
        before = snapshot()
        t0 = time.perf_counter()
        contests.rebuild_round(db.session.get(models.Round, round_id))
        db.session.flush()
        seconds = time.perf_counter() - t0
        after = snapshot()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    checks = []
    for name, _model, _key in tables:
        old, new = before[name], after[name]
        diff = [k for k in set(old) | set(new) if old.get(k) != new.get(k)]
        detail = f"{len(old)} rows maintained, {len(new)} rebuilt, {len(diff)} differ"
        if diff:
            k = sorted(diff, key=str)[0]
            detail += f" (e.g. {k}: maintained {old.get(k)}, rebuilt {new.get(k)})"
        checks.append(Check(f"{name} = rebuild_round's", not diff, detail))
    return checks, seconds


# ---------------------------------------------------------------- running it

@dataclass
class Run:
    pop: Population
    groups: dict[str, list[Member]] = field(default_factory=dict)
    login_seconds: float = 0.0
    login_sample_seconds: float = 0.0
    login_sample_posts: list[float] = field(default_factory=list)
    spike: Spike | None = None
    spike_checks: list[Check] = field(default_factory=list)
    spike_info: dict = field(default_factory=dict)
    extra_start_seconds: float = 0.0
    save_seconds: float = 0.0
    storm: Storm | None = None
    follow: dict = field(default_factory=dict)
    close_overdue: list[tuple[int, float]] = field(default_factory=list)
    final_info: dict = field(default_factory=dict)
    load: dict = field(default_factory=dict)


async def http_phases(port: int, run: Run) -> None:
    pop = run.pop
    rng = random.Random(SEED)
    sample, rest = pop.members[:LOGIN_SAMPLE], pop.members[LOGIN_SAMPLE:]
    log(f"logging {len(pop.members)} members in (login form, then the round page), "
        f"{LOGIN_CONCURRENCY} at a time; the first {len(sample)} with the app's scrypt cost")
    run.login_sample_seconds, run.login_sample_posts = await log_in_all(
        port, sample, pop.round_id)
    run.login_seconds = mint_sessions(port, pop.round_id, rest)
    log(f"logged in {len(sample)} members (full scrypt cost) in "
        f"{run.login_sample_seconds:.1f} s; sessions of {len(rest)} made in-process in "
        f"{run.login_seconds:.1f} s")

    spike_members = pop.members[:SPIKE_MEMBERS]
    profiler = start_profile("spike", 30)
    run.spike = await start_spike(port, spike_members, pop.round_id)
    end_profile(profiler)
    run.load["spike"] = load_average()
    run.spike_checks, run.spike_info = spike_checks(pop.round_id, spike_members)
    log(f"spike: {len(run.spike.samples)} POSTs in {run.spike.seconds:.1f} s; "
        + "; ".join(f"{c.name}: " + ("ok" if c.ok else f"FAILED ({c.detail})")
                    for c in run.spike_checks))

    extra = pop.members[SPIKE_MEMBERS:]
    if extra:
        run.extra_start_seconds = start_in_process(pop.round_id, extra)
        log(f"{len(extra)} more members started in-process in "
            f"{run.extra_start_seconds:.1f} s")

    load_questions(pop.round_id, pop.members)
    run.groups = assign_roles(pop.members, rng)
    for member in pop.members:
        if member.role in ("late", "absent"):
            member.saved = pick_answers(rng, member)
        if member.role != "absent":
            member.submitted = pick_answers(rng, member)
            for _try in range(10):  # a late form that differs from what was saved
                if member.role != "late" or member.submitted != member.saved:
                    break
                member.submitted = pick_answers(rng, member)
    savers = run.groups["late"] + run.groups["absent"]
    run.save_seconds = await save_before(port, savers)
    log(f"{len(savers)} late or absent members saved answers in {run.save_seconds:.1f} s")

    profiler = start_profile("storm", STORM_WINDOW + GRACE + 10)
    run.storm = await deadline_storm(port, pop.members, pop.round_id, rng)
    end_profile(profiler)
    run.load["storm"] = load_average()
    log(f"storm: {len(run.storm.samples)} submit POSTs, peak {run.storm.peak_in_flight} "
        f"in flight")
    wait = run.storm.deadline + GRACE + 0.5 - time.time()
    if wait > 0:
        await asyncio.sleep(wait)
    dup = run.groups["double"] + run.groups["resubmit"]
    run.follow = await follow_to_result(port, dup)


def close_overdue_cli() -> tuple[int, float]:
    t0 = time.perf_counter()
    out = flask_cli("attempts", "close-overdue")
    seconds = time.perf_counter() - t0
    match = re.search(r"finished (\d+) overdue", out)
    if not match:
        raise SystemExit(f"unexpected close-overdue output: {out!r}")
    return int(match.group(1)), seconds


# ---------------------------------------------------------------- reporting

def stats_row(label: str, samples: list[Sample], seconds: float | None = None) -> str:
    ok = [s.latency for s in samples if s.outcome != "error"]
    errors = sum(1 for s in samples if s.outcome == "error")
    rate = f"{len(samples) / seconds:.1f}" if seconds else "–"
    return (f"| {label} | {len(samples)} | {rate} | {percentile(ok, 50):.1f} | "
            f"{percentile(ok, 99):.1f} | {mean_ms(ok):.1f} | "
            f"{max(ok) * 1000 if ok else float('nan'):.1f} | {errors} |")


HEAD = ("| request | requests | req/s | p50 ms | p99 ms | mean ms | max ms | errors |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


ROLE_TEXT = {
    "once": "submit once, at a uniform moment of the window",
    "double": "double-click: two concurrent submits",
    "resubmit": "submit, then again 0.3 s after the answer",
    "in_grace": "submit 0.2–{half:g} s after the deadline (inside the grace)",
    "late": "saved answers before; submit other answers 0.5–3 s after deadline + grace",
    "absent": "saved answers before; never come back",
}


def role_rows(run: Run) -> str:
    """One row per kind of member: how many, what the responses were, what the database
    says happened to the attempt."""
    rows = ["| members | what they do | count | responses | attempt in the database |",
            "| --- | --- | ---: | --- | --- |"]
    outcome = run.final_info["outcome"]
    for role in ("once", "double", "resubmit", "in_grace", "late", "absent"):
        members = run.groups[role]
        responses: dict[str, int] = {}
        for m in members:
            for sample in m.clicks:
                if sample.outcome == "result":
                    key = "302 → result page"
                elif sample.outcome == "refused" and sample.status == 302:
                    key = "302 → quiz page + flash"
                elif sample.outcome == "refused":
                    key = f"{sample.status} error page"
                elif sample.status is None:
                    key = "no answer (timeout or connection error)"
                else:
                    key = f"unexpected {sample.status}"
                responses[key] = responses.get(key, 0) + 1
        db = outcome.get(role, {})
        db_text = ", ".join(f"{v} {'accepted (submitted)' if k == 'submitted' else k}"
                            for k, v in sorted(db.items()))
        resp_text = ", ".join(f"{v}× {k}" for k, v in sorted(responses.items())) or "–"
        rows.append(f"| {role.replace('_', ' ')} | {ROLE_TEXT[role].format(half=GRACE / 2)} "
                    f"| {len(members)} | {resp_text} | {db_text} |")
    return "\n".join(rows)


def flash_lines(run: Run) -> str:
    texts: dict[str, int] = {}
    for m in run.pop.members:
        for sample in m.clicks:
            if sample.outcome == "refused":
                for cat, text in sample.flashes[-1:]:
                    key = f"{m.role.replace('_', ' ')}: [{cat}] {text}"
                    texts[key] = texts.get(key, 0) + 1
    return "\n".join(f"  - {k} — {v}×" for k, v in sorted(texts.items())) or "  - none"


def error_samples(samples: list[Sample], limit: int = 5) -> list[str]:
    return [f"{s.status} {s.location or s.error}" for s in samples if s.outcome == "error"][:limit]


def write_report(run: Run, info: dict, checks: list[Check], rebuild_seconds: float) -> str:
    spike, storm = run.spike, run.storm
    n_storm = len(run.pop.members)
    outcome = run.final_info["outcome"]
    accepted = sum(v.get("submitted", 0) for v in outcome.values())
    refused_in_time = run.final_info["refused_in_time"]
    window = [s for s in storm.samples if storm.window_start <= s.sent_at < storm.deadline]
    sent_in_time = [s for m in run.pop.members if m.role != "late" for s in m.clicks]
    after_deadline = [s.done_at - storm.deadline for s in sent_in_time
                      if s.done_at > storm.deadline]
    dups = run.groups["double"] + run.groups["resubmit"]
    co = run.close_overdue
    all_checks = run.spike_checks + checks
    failed = [c for c in all_checks if not c.ok]
    sample_posts = run.login_sample_posts
    errors_text = ""
    for label, samples in (("start", spike.samples), ("submit", storm.samples)):
        if error_samples(samples):
            errors_text += f"\nError samples ({label}): {error_samples(samples)}\n"
    if info["log_errors"]:
        errors_text += (f"\ngunicorn log: {len(info['log_errors'])} traceback/timeout lines, "
                        f"first: `{info['log_errors'][0][:200]}`\n")
    check_rows = "\n".join(f"| {c.name} | {'yes' if c.ok else '**NO**'} | {c.detail} |"
                           for c in all_checks)
    if refused_in_time:
        in_time_text = (
            f"**{len(refused_in_time)} members who pressed submit before the deadline (or "
            f"inside the grace) were refused**: their request waited in the server's queue "
            f"past deadline + {GRACE} s, so their attempt was finished with what had been "
            f"saved before (nothing, for them) and the answers in the form were dropped.")
    else:
        in_time_text = ("No member who sent a submit before deadline + grace was refused.")
    stored = next((c for c in checks if c.name.startswith("accepted submits stored")), None)
    match = re.match(r"(\d+) of (\d+)", stored.detail) if stored else None
    wrong_answers = int(match.group(2)) - int(match.group(1)) if match else 0
    lost = len(refused_in_time) + wrong_answers
    n5xx = sum(1 for s in storm.samples if s.status is not None and s.status >= 500)
    storm_p99 = percentile([s.latency for s in storm.samples], 99)
    summary = (
        f"**Summary:** accepted **{accepted}** members' submits; lost **{lost}** (must be 0: "
        f"{len(refused_in_time)} members refused although they submitted before deadline + "
        f"grace, {wrong_answers} accepted submits whose stored answers differ from the form); "
        f"5xx **{n5xx}** (must be 0); all submit requests p50 "
        f"**{percentile([s.latency for s in storm.samples], 50):.0f} ms**, p99 "
        f"**{storm_p99:.0f} ms** (target ≤ 1,000 ms: {'met' if storm_p99 <= 1000 else 'missed'}).")
    late_after = (f"{len(after_deadline)} of the {len(sent_in_time)} requests sent in time were "
                  f"answered after the deadline, the last {max(after_deadline):.2f} s after it"
                  if after_deadline else
                  f"all {len(sent_in_time)} requests sent in time were answered before the "
                  f"deadline")
    text = f"""## Contest round: start spike and deadline storm (`contest_storm.py`)

- **Date:** {info['date']}
- **Command:** `{info['command']}` (run by `make bench`)
- **Machine:** {info['machine']}; load average (1/5/15 min) before the run
  {run.load['before']}, after the spike {run.load['spike']}, after
  the storm {run.load['storm']}
- **Server:** gunicorn {info['gunicorn']}, {WORKERS} sync workers, `QUIZAPP_ENV=production`,
  `LOGIN_RATE_LIMIT=10000 per minute`, `QUIZ_GRACE_SECONDS={GRACE}`, no Redis; PostgreSQL
  {info['postgres']} on the same machine (`{info['database']}`, dropped and recreated
  for the run); the load generator shares the machine too
- **Data:** the bundled bank ({info['bank']}); a ward with {run.pop.units} branches and
  {n_storm} members spread evenly over them (one bulk insert); one contest for the
  ward with one open round: {ROUND_QUESTIONS} questions drawn from the whole bank,
  {ROUND_MINUTES}-minute limit, one attempt, results at close
- **Set-up, not measured:** the first {len(sample_posts)} members log in through the
  form (GET /login, POST /login, then GET of the round page for the CSRF token),
  {LOGIN_CONCURRENCY} at a time, with the password hash `set_password` stores (werkzeug's
  scrypt, n=2¹⁵): their logins took {run.login_sample_seconds:.1f} s, **{len(sample_posts) / run.login_sample_seconds:.1f}
  logins/s**, login POST p50 {percentile(sample_posts, 50):.0f} ms. The session cookie and
  CSRF token of the other {n_storm - len(sample_posts)} are made in-process by the app's
  own code (Flask-Login's `login_user`, Flask-WTF's `generate_csrf`, the app's session
  serializer and secret) in {run.login_seconds:.1f} s, instead of three requests each;
  every session is reused for everything after. Client:
  `benchmarks/httpclient.py`; gunicorn closes the connection after every response, so
  each request includes a TCP connect on loopback

### 1. Start spike

{SPIKE_MEMBERS} members each double-click "Start the round": two concurrent
`POST /rounds/<id>/start` (same session and CSRF token, sent together), at most
{START_IN_FLIGHT} requests in flight (peak seen: {spike.peak_in_flight}). Each POST must
answer 302 to `/attempts/<id>`, both clicks to the same attempt.

{HEAD}
{stats_row("POST /rounds/<id>/start", spike.samples, spike.seconds)}

{len(spike.samples)} requests in {spike.seconds:.1f} s; {len(spike.bad_pairs)} problems
among {spike.pairs} double clicks. In **{run.spike_info['raced']}** of the {spike.pairs} double
clicks both requests reached the INSERT together and the second lost on the unique
constraint (`IntegrityError` path of `start_round_attempt`; counted from the gaps in
`attempts.id`); in the others the second click found the first one's attempt committed
and resumed it.

Then the other {n_storm - SPIKE_MEMBERS} members' attempts were started in-process
through `services.contests.start_round_attempt` ({run.extra_start_seconds:.1f} s, not
measured), and the {len(run.groups['late']) + len(run.groups['absent'])} late and absent
members below saved a full form of answers (action=save, {run.save_seconds:.1f} s).

### 2. Deadline storm

The round's `closes_at` and every attempt's `deadline` were set in the database to
{STORM_WINDOW:g} s after the window opened (an attempt's deadline is
`min(start + limit, closes_at)`, fixed at start, so moving the round alone would not
move it). {n_storm} members have an attempt in progress; each one who submits sends the
whole form (`POST /attempts/<id>`, `action=submit`, `q-<question_id>` = its answers,
about 1 in 12 left blank) at its own moment, open loop: the request leaves at its time
whatever the server's backlog (peak {storm.peak_in_flight} requests in flight).

{role_rows(run)}

{HEAD}
{stats_row("POST /attempts/<id> (submit), all", storm.samples)}
{stats_row("… answered 302 → result page", [s for s in storm.samples if s.outcome == "result"])}
{stats_row("… refused (302 → quiz page + flash, or 409)", [s for s in storm.samples if s.outcome == "refused"])}

{summary}

- {len(storm.samples)} submit requests, {len(window)} of them sent inside the
  {STORM_WINDOW:g} s window ({len(window) / STORM_WINDOW:.1f}/s on average); {late_after}.
- **Accepted: {accepted}** members (finish reason `submitted`). Duplicates (double
  clicks and resubmits) that led to the same result page with the same score, each
  click's redirect followed with its own cookies after the round closed:
  **{run.follow.get('same_result', 0)} of {len(dups)}**. Late submits refused:
  **{outcome.get('late', {}).get('expired', 0)} of {len(run.groups['late'])}**.
- {in_time_text}
- Messages on the refused answers (the last flash in the session cookie, or the error
  page's text):
{flash_lines(run)}
- `flask --app quizapp attempts close-overdue` afterwards finished **{co[0][0]}**
  attempt(s) in {co[0][1]:.1f} s (the {len(run.groups['absent'])} absent members'); run again,
  {co[1][0]}.
{errors_text}
### Checks in the database

| check | holds | detail |
| --- | --- | --- |
{check_rows}

`rebuild_round` took {rebuild_seconds:.1f} s in-process; its transaction was rolled back.
{"" if not failed else chr(10) + "**Failed checks:** " + "; ".join(c.name for c in failed) + chr(10)}
### Reading it

- A start draws the questions, inserts the attempt with its {ROUND_QUESTIONS} frozen
  questions and bumps the branch counter. The second click of a pair either resumes the committed attempt or,
  when both clicks reach the INSERT together, waits on the unique index until the first
  commits, so the pair holds two of the {WORKERS} sync workers for one start. With
  {START_IN_FLIGHT} requests in flight and {WORKERS} workers, latency is mostly queueing:
  p50 ≈ requests in flight ÷ throughput.
- A submit saves all {ROUND_QUESTIONS} answers under the attempt's row lock, grades,
  updates the branch counters and the member's `RoundResult`, in one transaction. The
  deadline is checked when a worker reaches the request, not when it arrived: the grace
  ({GRACE} s) has to cover the server's queue as well as the network.
- The figures are for {info['nproc']} CPUs shared by the workers, PostgreSQL and the
  load generator (and by whatever else ran then: see the load averages).
"""
    write_report_section("contest", text)
    return text


# ---------------------------------------------------------------- main

def main() -> int:
    started = time.monotonic()
    load_before = load_average()
    pg_version, bank = prepare_database()
    log(f"creating {BRANCHES} branches, {STORM_MEMBERS} members and an open round")
    pop = create_population(STORM_MEMBERS)
    run = Run(pop)
    run.load["before"] = load_before
    log_name = "gunicorn-contest.log"
    with gunicorn(log_name) as port:
        asyncio.run(http_phases(port, run))
        for _n in range(2):
            run.close_overdue.append(close_overdue_cli())
        log(f"close-overdue finished {run.close_overdue[0][0]}, then "
            f"{run.close_overdue[1][0]} attempt(s)")
    checks, run.final_info = final_checks(pop.round_id, run.groups, run.storm.deadline)
    rebuild, rebuild_seconds = rebuild_check(pop.round_id)
    checks += rebuild
    checks.append(Check("close-overdue finished the absent members' attempts, then none",
                        run.close_overdue[0][0] == len(run.groups["absent"])
                        and run.close_overdue[1][0] == 0,
                        f"{run.close_overdue[0][0]} then {run.close_overdue[1][0]} "
                        f"(expected {len(run.groups['absent'])} then 0)"))
    checks.append(Check("each duplicate's clicks led to the same result page and score",
                        run.follow.get("different", 1) == 0,
                        f"{run.follow.get('same_result', 0)} of "
                        f"{len(run.groups['double']) + len(run.groups['resubmit'])}"))
    log_errors = gunicorn_log_errors(log_name)
    text = write_report(run, {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line("benchmarks/contest_storm.py"),
        "machine": machine_line(), "nproc": os.cpu_count(),
        "gunicorn": package_version("gunicorn"), "postgres": pg_version,
        "database": without_password(DATABASE_URL), "bank": bank, "log_errors": log_errors,
    }, checks, rebuild_seconds)
    print()
    print(text.split("### Reading it")[0])
    log(f"wrote the contest section of benchmarks/REPORT.md in "
        f"{time.monotonic() - started:.0f} s total")
    failed = [c for c in run.spike_checks + checks if not c.ok]
    errors = sum(1 for s in run.spike.samples + run.storm.samples if s.outcome == "error")
    return 1 if (failed or errors or run.spike.bad_pairs or log_errors) else 0


if __name__ == "__main__":
    sys.exit(main())
