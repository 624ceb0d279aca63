"""A GET never writes (the engine redesign, issue 13).

Reading a page must not change the database: not the ranking of a closed round that
still has an attempt past its deadline (before, `contests.ranking` finished it and the
two ranking pages committed), not the prediction's actual value, not the counters. The
test plays every audience through the main GET pages of a contest in that state and
counts, for each request, the statements that write (INSERT, UPDATE, DELETE, and the
one-statement autosave's WITH … UPDATE) and the commits of the request's session.
Settling the expired attempt stays an explicit step: the test then runs the organizer's
settle action (a POST) and checks it did what the pages did not.
"""
from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from quizapp.extensions import db
from quizapp.models import Attempt, Round
from quizapp.services import attempts, contests

pytestmark = pytest.mark.usefixtures("isolated_requests")

WRITES = ("INSERT", "UPDATE", "DELETE", "WITH", "REPLACE")


@contextmanager
def writes():
    """Statements that write, and session commits, while the block runs."""
    seen: list[str] = []

    def statement(_conn, _cursor, text, _params, _context, _many):
        if text.lstrip().split(None, 1)[0].upper() in WRITES:
            seen.append(text)

    def commit(_session):
        seen.append("COMMIT (session)")

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Session, "after_commit", commit)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Session, "after_commit", commit)


@pytest.fixture
def contest_world(bank, make_user, make_unit, frozen_clock):
    """A public contest whose round 1 (with a prediction question, results at close) has
    closed: one member submitted, another's attempt is still in progress past its
    deadline + grace (nobody has finished it yet). Round 2 is open, a member is taking it."""
    organizer = make_user(role="organizer", username="btc")
    branch = make_unit("cb-a", name="Chi bộ Hoa Sen")
    secretary = make_user(role="secretary", unit=branch, username="bithu")
    done = make_user(unit=branch, username="dv-xong")
    late = make_user(unit=branch, username="dv-tre")
    busy = make_user(unit=branch, username="dv-dang")
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    contest.public_standings = True
    first = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now + timedelta(minutes=1),
        closes_at=frozen_clock.now + timedelta(hours=1), time_limit_minutes=20,
        question_count=5, prediction_kind="participants", results_visibility="at_close"))
    second = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng 2", opens_at=frozen_clock.now + timedelta(hours=2),
        closes_at=frozen_clock.now + timedelta(days=2), time_limit_minutes=20,
        question_count=5))
    contests.schedule(organizer, first)
    contests.schedule(organizer, second)
    db.session.commit()
    frozen_clock.advance(minutes=2)
    rng = random.Random(5)
    submitted = contests.start_round_attempt(done, first, rng=rng)
    contests.set_prediction(submitted, 2)
    attempts.submit(submitted, {i.question_id: [i.choice_ids[0]] for i in submitted.items})
    unsettled = contests.start_round_attempt(late, first, rng=rng)
    attempts.save_answers(unsettled, {unsettled.items[0].question_id: [unsettled.items[0].choice_ids[0]]})
    db.session.commit()
    frozen_clock.advance(hours=2, minutes=5)
    taking = contests.start_round_attempt(busy, second, rng=rng)
    db.session.commit()
    return {"contest": contest.id, "first": first.id, "second": second.id, "branch": branch.id,
            "submitted": submitted.id, "unsettled": unsettled.id, "taking": taking.id,
            "secretary": secretary, "organizer": organizer}


def _pages(world) -> dict[str, list[str]]:
    c, r1, r2, unit = world["contest"], world["first"], world["second"], world["branch"]
    return {
        "btc": ["/home", "/organize/", f"/organize/contests/{c}",
                f"/organize/contests/{c}/ranking", f"/organize/rounds/{r1}",
                f"/organize/rounds/{r1}/results", f"/organize/rounds/{r1}/items",
                f"/organize/rounds/{r1}/live.json", f"/organize/rounds/{r2}/live.json",
                f"/organize/rounds/{r1}/export.xlsx?what=results",
                f"/organize/rounds/{r1}/export.csv?what=prizes",
                f"/organize/rounds/{r1}/export.csv?what=collective",
                f"/rounds/{r1}/ranking", f"/standings/round/{r1}", f"/standings/contest/{c}",
                "/branches", f"/branch/{unit}"],
        "bithu": ["/home", f"/branch/{unit}", f"/branch/{unit}/report.xlsx",
                  f"/standings/round/{r1}", f"/rounds/{r1}", f"/rounds/{r1}/ranking"],
        "dv-xong": ["/home", f"/rounds/{r1}", f"/rounds/{r1}/ranking", f"/rounds/{r2}",
                    f"/attempts/{world['submitted']}/result", f"/api/attempts/{world['submitted']}",
                    "/outline"],
        "dv-dang": ["/home", f"/attempts/{world['taking']}", f"/api/attempts/{world['taking']}",
                    f"/rounds/{r2}"],
        # The owner of the expired attempt: his quiz page says time is up, and still writes
        # nothing (the last exception to "a GET never writes" is gone).
        "dv-tre": ["/home", f"/attempts/{world['unsettled']}", f"/rounds/{r1}"],
    }


def test_no_get_page_writes_even_with_an_expired_attempt_unsettled(client, contest_world):
    for login, paths in _pages(contest_world).items():
        client.login(login)
        for path in paths:
            with writes() as seen:
                response = client.get(path)
            assert response.status_code == 200, (login, path, response.status_code)
            assert seen == [], (login, path, seen)
        client.post("/logout", data={"csrf_token": client.csrf_token("/home")})
    # Anonymous visitors of the public standings.
    for path in (f"/standings/round/{contest_world['first']}",
                 f"/standings/contest/{contest_world['contest']}", "/login"):
        with writes() as seen:
            response = client.get(path)
        assert response.status_code == 200 and seen == [], (path, seen)

    db.session.expire_all()
    assert db.session.get(Attempt, contest_world["unsettled"]).status == "in_progress"
    assert db.session.get(Round, contest_world["first"]).prediction_actual is None


def test_the_member_settles_his_expired_attempt_with_a_post(client, contest_world):
    attempt_id = contest_world["unsettled"]
    client.login("dv-tre")
    with writes() as seen:
        result = client.get(f"/attempts/{attempt_id}/result")
    assert result.status_code == 302 and result.headers["Location"].endswith(f"/attempts/{attempt_id}")
    assert seen == []
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Hết giờ làm bài" in page and "đã trả lời 1/" in page
    response = client.form_post(f"/attempts/{attempt_id}/finish", {}, token_from=f"/attempts/{attempt_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/attempts/{attempt_id}/result")
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert (attempt.status, attempt.finish_reason) == ("finished", "expired")
    # Another member cannot settle it.
    client.post("/logout", data={"csrf_token": client.csrf_token("/home")})
    client.login("dv-xong")
    assert client.form_post(f"/attempts/{attempt_id}/finish", {}, token_from="/home").status_code == 404


def test_the_ranking_reads_the_settled_results_and_names_the_unsettled(client, contest_world):
    round_ = db.session.get(Round, contest_world["first"])
    rows = contests.ranking(round_)
    assert [r.attempt_id for r in rows] == [contest_world["submitted"]]
    assert contests.unsettled_count(round_) == 1
    client.login("btc")
    page = client.get(f"/organize/rounds/{round_.id}/results").get_data(as_text=True)
    assert "chưa được chốt" in page

    # The explicit step: the organizer settles the expired attempts (a POST).
    response = client.form_post(f"/organize/rounds/{round_.id}/settle", {},
                                token_from=f"/organize/rounds/{round_.id}/results")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Attempt, contest_world["unsettled"]).status == "finished"
    assert sorted(r.attempt_id for r in contests.ranking(round_)) == sorted(
        [contest_world["submitted"], contest_world["unsettled"]])
    assert contests.unsettled_count(round_) == 0
