"""How many SQL statements the hot requests of a contest run.

benchmarks/REPORT.md profiled the quiz page, the submit and the autosave under load:
lazy loading (two queries per question on the quiz page and the submit) and statements
that could be merged were most of their time. These budgets keep them from coming
back: a new N+1 fails here instead of in the next benchmark. The counts do not depend
on the number of questions."""
from __future__ import annotations

import random
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from quizapp.extensions import db
from quizapp.models import Attempt
from quizapp.services import contests
from quizapp.services.attempts import page as text_cache
from tests.conftest import BrowserClient, open_round_at_start
from tests.tokens import tokens_of

pytestmark = pytest.mark.usefixtures("isolated_requests")


@contextmanager
def statements():
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, executemany):
        first = statement.split(None, 1)[0].upper()
        if first == "SELECT" and re.fullmatch(r"(?is)\s*select\s+1\s*", statement):
            return  # the pool's pre-ping on PostgreSQL, not the request's own work
        seen.append(statement if not executemany else f"[many] {statement}")

    event.listen(Engine, "before_cursor_execute", record)  # every engine: autosave has its own
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


@pytest.fixture
def round_attempt(client, make_user, make_unit, bank, frozen_clock):
    """A member of a branch, logged in, with an attempt in progress at an open round of
    20 questions."""
    branch = make_unit()
    member = make_user(username="dangvien", unit=branch)
    round_ = _open_round(make_user, frozen_clock)
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(3))
    db.session.commit()
    client.login("dangvien")
    # The page's and the API's names of the choices: the attempt's tokens.
    return attempt.id, [(i.question_id, tokens_of(i, i.choice_ids)) for i in attempt.items]


def _open_round(make_user, clock):
    """An open round of 20 questions drawn from the whole bank, 30 minutes."""
    return open_round_at_start(make_user(role="organizer", username="btc"), clock,
                               opens_at=clock.now + timedelta(minutes=1),
                               closes_at=clock.now + timedelta(hours=2),
                               time_limit_minutes=30, question_count=20, draw_plan="")


def _answers(items):
    return {f"q-{qid}": str(choices[0]) for qid, choices in items}


def test_quiz_page_loads_its_questions_in_a_fixed_number_of_queries(client, round_attempt):
    attempt_id, items = round_attempt
    text_cache.clear_text_cache()
    with statements() as cold:
        page = client.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('data-question-id="') == 20
    # user; attempt + round + the items with their questions' kind and content hash (one
    # row each); the wording of all 20 questions and their choices; the extra minutes
    assert len(cold) <= 4, "\n".join(cold)
    with statements() as warm:
        again = client.get(f"/attempts/{attempt_id}")
    assert again.get_data(as_text=True).count('data-question-id="') == 20
    # the wording is cached per (question id, content_hash): one statement less
    assert len(warm) <= 3, "\n".join(warm)


def test_submit_of_a_round_runs_a_bounded_number_of_statements(client, round_attempt):
    attempt_id, items = round_attempt
    token = client.csrf_token(f"/attempts/{attempt_id}")
    with statements() as seen:
        response = client.post(f"/attempts/{attempt_id}", data={
            "csrf_token": token, "action": "submit", **_answers(items)})
    assert response.status_code == 302 and response.location.endswith("/result")
    assert db.session.get(Attempt, attempt_id).status == "finished"
    # user; attempt + round + items + questions; the finish's compare-and-set (the lock,
    # which also reads the key's revision); the answers read again under it (an
    # autosave that landed meanwhile is what is graded, and the page's changes merge
    # into it); the key (bank, corrections: the first finish of these questions only);
    # every item's answer and grade in ONE write, with the attempt's score on
    # PostgreSQL; the member's result, with the branch's counters and per-section
    # counters on PostgreSQL. It was 16 when the posted answers were saved first (lock,
    # read, write) and the grades written per item, 11 before the key was cached.
    if db.engine.dialect.name == "postgresql":
        assert len(seen) <= 8, "\n".join(seen)
    else:
        assert len(seen) <= 11, "\n".join(seen)
    item_writes = [s for s in seen if "UPDATE attempt_questions" in s]
    assert len(item_writes) == 1, "\n".join(item_writes)
    if db.engine.dialect.name == "postgresql":
        assert not item_writes[0].startswith("[many]"), "one execution, not one per item"


def test_a_submit_once_the_round_s_key_is_cached_reads_no_choice_and_no_correction(
        client, round_attempt, make_user, app):
    """The first finish of a round reads its key (the bank's choices, the round's
    corrections) and keeps it for the bank's revision; the next member's submit reads
    neither. PostgreSQL: six statements in all (user; attempt + round + items +
    questions; the compare-and-set, which also reads the key's revision; the answers
    again under it; every item's answer and grade with the attempt's totals; the
    result with the branch's counters and sections)."""
    attempt_id, items = round_attempt
    first = db.session.get(Attempt, attempt_id)
    other = make_user(username="dangvien2", unit=first.user.unit)
    # The same draw (the same seed): its questions are the ones the first finish read.
    second = contests.start_round_attempt(other, first.round, rng=random.Random(3))
    db.session.commit()
    second_items = [(i.question_id, tokens_of(i, i.choice_ids)) for i in second.items]
    token = client.csrf_token(f"/attempts/{attempt_id}")
    client.post(f"/attempts/{attempt_id}", data={"csrf_token": token, "action": "submit",
                                                  **_answers(items)})
    member = BrowserClient(app.test_client())
    member.login("dangvien2")
    token = member.csrf_token(f"/attempts/{second.id}")
    with statements() as seen:
        response = member.post(f"/attempts/{second.id}", data={
            "csrf_token": token, "action": "submit", **_answers(second_items)})
    assert response.status_code == 302 and response.location.endswith("/result")
    assert db.session.get(Attempt, second.id).max_score == 20
    reads = [s for s in seen if re.search(r"\bFROM (choices|round_question_changes)\b", s)]
    assert reads == [], "\n".join(reads)
    if db.engine.dialect.name == "postgresql":
        assert len(seen) <= 6, "\n".join(seen)
    else:  # the totals flushed apart; result, branch and sections one statement each
        assert len(seen) <= 9, "\n".join(seen)


def test_autosave_is_one_statement(client, round_attempt):
    attempt_id, items = round_attempt
    token = client.csrf_token(f"/attempts/{attempt_id}")
    qid, choices = items[0]
    with statements() as seen:
        response = client.post(f"/api/attempts/{attempt_id}/answers",
                               json={"question_id": qid, "choice_ids": [choices[1]], "seq": 1,
                                     "client": "page1"},
                               headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["saved"] is True
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("WITH"), "\n".join(seen)


@pytest.mark.postgres_only
def test_quiz_page_reads_without_a_transaction_and_gives_the_connection_back_as_it_was(
        client, round_attempt):
    """transaction.autocommit_read: the quiz page's statements run in autocommit (no
    BEGIN, no ROLLBACK round trips); a post after it runs in a transaction again, on
    whichever pooled connection it gets."""
    attempt_id, items = round_attempt
    modes: list[tuple[str, bool]] = []

    def record(_conn, cursor, statement, *_args):
        modes.append((statement.split(None, 1)[0].upper(), cursor.connection.autocommit))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            assert client.get(f"/attempts/{attempt_id}").status_code == 200
        page = list(modes)
        modes.clear()
        token = client.csrf_token(f"/attempts/{attempt_id}")
        modes.clear()
        response = client.post(f"/attempts/{attempt_id}", data={
            "csrf_token": token, "action": "save", **_answers(items)})
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert response.status_code == 302
    assert page and all(autocommit for _kind, autocommit in page), page
    writes = [(kind, autocommit) for kind, autocommit in modes if kind != "SELECT"]
    assert writes and not any(autocommit for _kind, autocommit in modes), modes


def test_start_of_a_round_loads_no_question_and_no_choice_once_the_pools_are_warm(
        client, make_user, make_unit, bank, frozen_clock):
    branch = make_unit()
    for name in ("dv1", "dv2"):
        make_user(username=name, unit=branch)
    round_ = _open_round(make_user, frozen_clock)
    counts = []
    for name in ("dv1", "dv2"):
        client.login(name)
        token = client.csrf_token("/account/password")
        with statements() as seen:
            response = client.post(f"/rounds/{round_.id}/start", data={"csrf_token": token})
        assert response.status_code == 302 and "/attempts/" in response.location
        counts.append(seen)
        client.post("/logout", data={"csrf_token": client.csrf_token("/account/password")})
    warm = counts[1]
    assert not [s for s in warm if "FROM questions" in s or "FROM choices" in s], "\n".join(warm)
    # user; round, contest, audience; the member's attempts; extra time; the bank's
    # revision; savepoint, the attempt, release; the branch's started counter (and the
    # 20 items: one batch on PostgreSQL, one statement per row on SQLite, which returns
    # their ids only that way)
    items = [s for s in warm if "INSERT INTO attempt_questions" in s]
    rest = [s for s in warm if s not in items]
    assert len(rest) <= 11, "\n".join(rest)
    if db.engine.dialect.name == "postgresql":
        assert len(items) == 1, "\n".join(items)
