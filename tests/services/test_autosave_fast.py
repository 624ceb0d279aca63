"""attempts.autosave: the one-statement common case of the quiz page's autosave.

It must store exactly what `save_answer` stores when it accepts, and write nothing and
return None for every save that the general path has to judge (the API then falls back
to `save_answer`, which gives the member the reason)."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from quizapp.db_setup import _asynchronous_commit, autosave_engine
from quizapp.extensions import db
from quizapp.models import Attempt, AttemptQuestion
from quizapp.services import attempts
from quizapp.services.attempts import PracticeSpec

from tests.tokens import tokens_of


@pytest.fixture
def started(bank, make_user, frozen_clock):
    member = make_user()
    attempt = attempts.start_practice(
        member, PracticeSpec(section_keys=[], count=30, time_limit_minutes=10, feedback="exam"),
        rng=random.Random(7))
    db.session.commit()
    return member, attempt


def _item(attempt, kind):
    return next(i for i in attempt.items if i.question.kind == kind)


def _row(item_id):
    db.session.expire_all()
    return db.session.get(AttemptQuestion, item_id)


def _save(member, attempt, item, choice_ids, **kw):
    kw.setdefault("version", member.session_version)
    version = kw.pop("version")
    return attempts.autosave(member.id, version, attempt.id, item.question_id, choice_ids, **kw)


def test_accepts_a_single_choice_and_stores_it_like_save_answer(started, frozen_clock):
    member, attempt = started
    item = _item(attempt, "single")
    choice = item.choice_ids[2]
    outcome = _save(member, attempt, item, [choice], seq=1, client="pageA")
    assert outcome is not None
    assert outcome.choice_ids == [choice]
    assert outcome.seconds_left == 600
    row = _row(item.id)
    assert row.selected == str(choice)
    assert row.answered_at == frozen_clock.now
    assert (row.save_seq, row.save_client) == (1, "pageA")


def test_same_answer_again_keeps_the_time_it_was_first_given(started, frozen_clock):
    member, attempt = started
    item = _item(attempt, "single")
    _save(member, attempt, item, [item.choice_ids[0]], seq=1, client="p")
    first = frozen_clock.now
    frozen_clock.advance(seconds=30)
    assert _save(member, attempt, item, [item.choice_ids[0]], seq=2, client="p") is not None
    assert _row(item.id).answered_at == first
    assert _save(member, attempt, item, [item.choice_ids[1]], seq=3, client="p") is not None
    assert _row(item.id).answered_at == frozen_clock.now


def test_accepts_several_choices_only_for_a_multiple_choice_question(started):
    member, attempt = started
    multiple, single = _item(attempt, "multiple"), _item(attempt, "single")
    two = sorted(multiple.choice_ids[:2])
    assert _save(member, attempt, multiple, list(reversed(two))).choice_ids == two
    assert _row(multiple.id).selected == ",".join(map(str, two))
    assert _save(member, attempt, single, single.choice_ids[:2]) is None
    assert _row(single.id).selected is None


def test_an_empty_list_clears_the_answer(started):
    member, attempt = started
    item = _item(attempt, "truefalse")
    _save(member, attempt, item, [item.choice_ids[0]])
    assert _save(member, attempt, item, []).choice_ids == []
    assert _row(item.id).selected is None


def test_retry_rule_same_page_older_refused_other_page_applies(started):
    member, attempt = started
    item = _item(attempt, "single")
    a, b = item.choice_ids[0], item.choice_ids[1]
    assert _save(member, attempt, item, [a], seq=5, client="pageA") is not None
    assert _save(member, attempt, item, [b], seq=5, client="pageA") is None   # a retry
    assert _save(member, attempt, item, [b], seq=4, client="pageA") is None   # arrived late
    assert _row(item.id).selected == str(a)
    # Another page or device starts its own numbering: the last to arrive wins.
    assert _save(member, attempt, item, [b], seq=1, client="phoneB") is not None
    assert _row(item.id).selected == str(b)
    # Without a client id, the stored number decides.
    assert _save(member, attempt, item, [a], seq=1) is None
    assert _save(member, attempt, item, [a], seq=2) is not None
    assert (_row(item.id).save_seq, _row(item.id).save_client) == (2, None)


@pytest.mark.parametrize("case", ["other user", "old session", "deactivated", "finished",
                                  "past grace", "foreign choice", "foreign question",
                                  "locked", "unknown attempt"])
def test_refusals_write_nothing_and_leave_the_judgement_to_the_general_path(
        started, make_user, frozen_clock, case):
    member, attempt = started
    item = _item(attempt, "single")
    choice = [item.choice_ids[0]]
    kwargs = {}
    attempt_id, question_id, user_id = attempt.id, item.question_id, member.id
    if case == "other user":
        user_id = make_user().id
    elif case == "old session":
        kwargs["version"] = member.session_version + 1
    elif case == "deactivated":
        member.active = False
        db.session.commit()
    elif case == "finished":
        attempts.finish(attempt)
        db.session.commit()
    elif case == "past grace":
        frozen_clock.advance(seconds=600 + attempts.grace().seconds + 1)
    elif case == "foreign choice":
        other = next(i for i in attempt.items if i.id != item.id)
        choice = [other.choice_ids[0]]
    elif case == "foreign question":
        used = {i.question_id for i in attempt.items}
        question_id = next(q for q in range(1, 10_000) if q not in used)
    elif case == "locked":
        item.locked = True
        db.session.commit()
    elif case == "unknown attempt":
        attempt_id = attempt.id + 1000
    version = kwargs.get("version", member.session_version)
    before = _row(item.id).selected
    assert attempts.autosave(user_id, version, attempt_id, question_id, choice) is None
    assert _row(item.id).selected == before


def test_inside_the_grace_the_save_is_accepted(started, frozen_clock):
    member, attempt = started
    item = _item(attempt, "single")
    frozen_clock.advance(seconds=600 + attempts.grace().seconds - 1)
    outcome = _save(member, attempt, item, [item.choice_ids[0]])
    assert outcome is not None and outcome.seconds_left == 0


def test_an_untimed_practice_has_no_seconds_left(bank, make_user):
    member = make_user()
    attempt = attempts.start_practice(member, PracticeSpec([], 3, None, "exam"))
    db.session.commit()
    item = attempt.items[0]
    outcome = _save(member, attempt, item, [item.choice_ids[0]])
    assert outcome is not None and outcome.seconds_left is None


def test_one_statement_per_save(started):
    """The point of the fast path (benchmarks/REPORT.md): a save is one UPDATE, committed
    on its own — no SELECT of the user, the attempt or the question, no BEGIN."""
    member, attempt = started
    item = _item(attempt, "single")
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    event.listen(Engine, "before_cursor_execute", record)  # every engine: autosave has its own
    try:
        assert _save(member, attempt, item, [item.choice_ids[1]], seq=9, client="x") is not None
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    # "WITH target AS (SELECT … FOR UPDATE) UPDATE …": one statement; the pool's ping
    # (SELECT 1, PostgreSQL) may precede it.
    assert [s for s in statements if s != "SELECT"] == ["WITH"]
    assert len(statements) <= 2
    assert db.session.scalar(select(Attempt.status).where(Attempt.id == attempt.id)) == "in_progress"


def test_deadline_is_reported_from_the_attempt(started, frozen_clock):
    member, attempt = started
    item = _item(attempt, "single")
    frozen_clock.advance(minutes=4)
    assert _save(member, attempt, item, [item.choice_ids[0]]).seconds_left == 360


@pytest.mark.postgres_only
def test_a_connection_the_database_dropped_is_handed_to_the_general_path(
        started, isolated_requests, client):
    """autosave's pool does not ping (that was half its database time): a connection
    the server dropped fails one statement, autosave returns None, the API's general
    path (whose pool pings) saves, and the next autosave has a fresh connection."""
    from sqlalchemy import text

    from tests.conftest import BrowserClient

    member, attempt = started
    item = _item(attempt, "single")
    assert _save(member, attempt, item, [item.choice_ids[0]]) is not None  # pools a connection

    def drop_other_connections():
        db.session.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        db.session.commit()

    drop_other_connections()
    assert _save(member, attempt, item, [item.choice_ids[1]]) is None
    assert _row(item.id).selected == str(item.choice_ids[0])
    assert _save(member, attempt, item, [item.choice_ids[1]]) is not None
    assert _row(item.id).selected == str(item.choice_ids[1])

    browser = BrowserClient(client)
    browser.login(member.username)
    token = browser.csrf_token(f"/attempts/{attempt.id}")
    drop_other_connections()
    response = browser.post(f"/api/attempts/{attempt.id}/answers",
                            json={"question_id": item.question_id,
                                  "choice_ids": tokens_of(item, [item.choice_ids[2]])},
                            headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["saved"] is True
    assert _row(item.id).selected == str(item.choice_ids[2])


def test_a_save_committed_after_the_page_loaded_the_attempt_is_what_gets_graded(
        started, frozen_clock):
    """The quiz page loads the attempt with its questions, then finishes it if overdue:
    an autosave (inside the grace) that committed in between must be what is graded."""
    member, attempt = started
    item = _item(attempt, "single")
    right = next(c.id for c in item.question.choices if c.is_correct)
    frozen_clock.advance(seconds=600 + attempts.grace().seconds - 1)
    db.session.expire_all()
    loaded = attempts.get_own_attempt(member, attempt.id, with_questions=True)
    assert next(i for i in loaded.items if i.id == item.id).selected is None
    # Another request's save, on its own connection, after this one loaded the items.
    assert attempts.autosave(member.id, member.session_version, attempt.id,
                             item.question_id, [right]) is not None
    frozen_clock.advance(seconds=2)
    assert attempts.expire_if_overdue(loaded)
    db.session.commit()
    graded = _row(item.id)
    assert graded.selected == str(right) and graded.is_correct is True
    assert db.session.get(Attempt, attempt.id).score >= 1


def test_a_prediction_changed_after_the_attempt_was_loaded_is_the_one_finished(
        bank, make_user, frozen_clock):
    from quizapp.models import RoundResult
    from quizapp.services import contests

    organizer = make_user(role="organizer")
    member = make_user()
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now + timedelta(minutes=1),
        closes_at=frozen_clock.now + timedelta(hours=2), time_limit_minutes=30,
        question_count=5, prediction_kind="participants"))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.advance(minutes=2)
    attempt_id = contests.start_round_attempt(member, round_).id
    db.session.commit()
    db.session.expire_all()
    loaded = attempts.get_own_attempt(member, attempt_id, with_questions=True)
    assert loaded.prediction is None
    with db.engine.connect() as other:  # another request sets the prediction meanwhile
        other.execute(Attempt.__table__.update().where(Attempt.__table__.c.id == attempt_id)
                      .values(prediction=42))
        other.commit()
    assert attempts.finish(loaded)
    db.session.commit()
    result = db.session.execute(select(RoundResult).where(
        RoundResult.attempt_id == attempt_id)).scalar_one()
    assert result.prediction == 42 and loaded.prediction == 42


def _synchronous_commit(connection) -> str:
    return connection.exec_driver_sql("SHOW synchronous_commit").scalar()


@pytest.fixture
def synchronous_database(app):
    """The test database's connections as production has them: the suite turns
    synchronous_commit off for the whole test database (conftest), which would hide
    the difference this test is about. Restored afterwards."""
    def set_default(value: str) -> None:
        db.session.remove()
        with db.engine.connect() as connection:
            connection.exec_driver_sql(
                f"DO $$ BEGIN EXECUTE format('ALTER DATABASE %%I SET synchronous_commit = {value}', "
                "current_database()); END $$")
            connection.commit()
        db.engine.dispose()  # the autosave engine's pool too: new connections see it
    set_default("on")
    yield
    set_default("off")


@pytest.mark.postgres_only
def test_only_the_autosave_commits_without_waiting_for_the_wal_flush(synchronous_database, started,
                                                                     frozen_clock):
    """PostgreSQL: the autosave engine's connections have synchronous_commit off (a
    server crash may lose the last ~0.6 s of autosaves, never corrupt); the main engine,
    which every other write and the submit use, keeps the database's setting (on)."""
    member, attempt = started
    item = _item(attempt, "single")
    assert _save(member, attempt, item, [item.choice_ids[0]]) is not None
    with autosave_engine().connect() as connection:
        assert _synchronous_commit(connection) == "off"
    assert _synchronous_commit(db.session.connection()) == "on"
    attempts.submit(attempt, {})
    assert _synchronous_commit(db.session.connection()) == "on"
    db.session.commit()
    assert db.session.get(Attempt, attempt.id).status == "finished"


@pytest.mark.sqlite_only
def test_sqlite_autosave_sets_nothing_postgresql_only(app, started, frozen_clock):
    """SQLite: the autosave runs on the main engine in autocommit; no connection of it
    gets PostgreSQL's setting (it would be a syntax error there)."""
    member, attempt = started
    item = _item(attempt, "single")
    assert _save(member, attempt, item, [item.choice_ids[0]]) is not None
    engine = autosave_engine()
    assert engine.pool is db.engine.pool  # the main engine, in autocommit
    assert not event.contains(db.engine, "connect", _asynchronous_commit)
