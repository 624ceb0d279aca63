"""Finishing once under real concurrency (PostgreSQL): twenty submits of one attempt, and
saves racing a submit. Each thread has its own app context, so its own session and
connection, as separate gunicorn workers would."""
from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptQuestion, Choice
from quizapp.services import attempts, grading
from quizapp.services.attempts import PracticeSpec
from quizapp.services.errors import Conflict

pytestmark = pytest.mark.postgres_only

THREADS = 20


@pytest.fixture
def app_config():
    # One connection per thread plus the test's own, without waiting on the pool.
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 5, "max_overflow": 5,
                                          "pool_timeout": 10}}


def _run(app, workers) -> list[tuple[str, object]]:
    """Run each worker in its own thread and app context, all released at once; returns
    (outcome, value) per worker: ("ok", return value) or ("error", exception)."""
    barrier = threading.Barrier(len(workers))
    outcomes: list[tuple[str, object] | None] = [None] * len(workers)

    def run(index, work):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                outcomes[index] = ("ok", work())
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                db.session.rollback()
                outcomes[index] = ("error", exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung (lock wait?)"
    assert all(o is not None for o in outcomes)
    return outcomes  # type: ignore[return-value]


def _regrade(attempt_id: int) -> tuple[int, dict[int, bool]]:
    """Score and per-item results computed from scratch from the stored rows."""
    items = db.session.execute(select(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt_id)).scalars().all()
    results = {}
    for item in items:
        right = set(db.session.execute(select(Choice.id).where(
            Choice.question_id == item.question_id, Choice.is_correct.is_(True))).scalars())
        results[item.id] = grading.grade(item.question.kind, right, item.selected_ids)
    return sum(results.values()), results


def _start(member, count: int) -> tuple[int, list[AttemptQuestion]]:
    attempt = attempts.start_practice(member, PracticeSpec([], count, 30, "exam"),
                                      rng=random.Random(7))
    db.session.commit()
    return attempt.id, list(attempt.items)


def test_twenty_concurrent_submits_finish_once(app, bank, make_user):
    member = make_user()
    attempt_id, items = _start(member, 6)
    for n, item in enumerate(items[:4]):  # two right, two wrong
        right = [c.id for c in item.question.choices if c.is_correct]
        wrong = [next(c.id for c in item.question.choices if not c.is_correct)]
        attempts.save_answer(db.session.get(Attempt, attempt_id), item.question_id,
                             right if n % 2 == 0 else wrong)
    db.session.commit()

    def submit():
        attempt = db.session.get(Attempt, attempt_id)  # loaded in this thread's session
        return attempts.submit(attempt)

    outcomes = _run(app, [submit] * THREADS)
    errors = [value for kind, value in outcomes if kind == "error"]
    assert errors == []
    assert sorted(value for _, value in outcomes) == [False] * (THREADS - 1) + [True]

    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    score, per_item = _regrade(attempt_id)
    assert attempt.status == "finished" and attempt.finish_reason == "submitted"
    assert attempt.score == score == 2 and attempt.max_score == 6
    assert {item.id: item.is_correct for item in attempt.items} == per_item


def test_saves_racing_a_submit_never_land_after_grading(app, bank, make_user):
    member = make_user()
    attempt_id, items = _start(member, THREADS)
    plan = {item.question_id: [item.choice_ids[0]] for item in items}

    def saver(question_id, choice_ids):
        def work():
            attempt = db.session.get(Attempt, attempt_id)
            attempts.save_answer(attempt, question_id, choice_ids)
            return question_id
        return work

    def submitter():
        return attempts.submit(db.session.get(Attempt, attempt_id))

    workers = [saver(qid, ids) for qid, ids in plan.items()]
    workers.insert(THREADS // 2, submitter)
    outcomes = _run(app, workers)
    submit_outcome = outcomes.pop(THREADS // 2)
    assert submit_outcome == ("ok", True)

    saved, refused = set(), set()
    for (kind, value), question_id in zip(outcomes, plan):
        if kind == "ok":
            saved.add(question_id)
        else:
            # The only acceptable failure is "already finished".
            assert isinstance(value, Conflict), repr(value)
            refused.add(question_id)
    assert saved | refused == set(plan)

    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "finished"
    stored = {item.question_id: item for item in attempt.items}
    # Every save that reported success is in the graded attempt; every refused one is not.
    for question_id in saved:
        assert stored[question_id].selected_ids == set(plan[question_id])
    for question_id in refused:
        assert stored[question_id].selected is None
    # Grading saw the final answers: nothing was written after it.
    assert all(item.is_correct is not None for item in attempt.items)
    score, per_item = _regrade(attempt_id)
    assert attempt.score == score
    assert {item.id: item.is_correct for item in attempt.items} == per_item


def test_fast_autosaves_racing_a_submit_never_land_after_grading(app, bank, make_user):
    """The one-statement autosave (attempts.autosave) takes the attempt's row lock before
    it writes, like save_answer: a save either lands before the grading and is graded,
    or finds the attempt finished and writes nothing."""
    member = make_user()
    member_id, version = member.id, member.session_version
    attempt_id, items = _start(member, THREADS)
    plan = {item.question_id: [item.choice_ids[0]] for item in items}

    def saver(question_id, choice_ids):
        def work():
            return attempts.autosave(member_id, version, attempt_id, question_id, choice_ids,
                                     seq=1, client="page")
        return work

    workers = [saver(qid, ids) for qid, ids in plan.items()]
    workers.insert(THREADS // 2, lambda: attempts.submit(db.session.get(Attempt, attempt_id)))
    outcomes = _run(app, workers)
    assert outcomes.pop(THREADS // 2) == ("ok", True)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    saved = {qid for (_, value), qid in zip(outcomes, plan) if value is not None}

    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    stored = {item.question_id: item for item in attempt.items}
    for question_id in plan:
        expected = set(plan[question_id]) if question_id in saved else set()
        assert stored[question_id].selected_ids == expected
    assert all(item.is_correct is not None for item in attempt.items)
    score, per_item = _regrade(attempt_id)
    assert attempt.score == score
    assert {item.id: item.is_correct for item in attempt.items} == per_item


def test_fast_autosaves_of_one_question_from_two_pages_keep_each_pages_order(app, bank, make_user):
    """Forty saves of one answer from two pages at once: the stored answer is the
    last-written one, and no page's older save overwrote its newer one."""
    member = make_user()
    member_id, version = member.id, member.session_version
    attempt_id, items = _start(member, 3)
    item = next(i for i in items if len(i.choice_ids) >= 2)
    a, b = item.choice_ids[0], item.choice_ids[1]

    def saver(page, seq):
        return lambda: attempts.autosave(member_id, version, attempt_id, item.question_id,
                                         [a if page == "A" else b], seq=seq, client=page)

    workers = [saver(page, seq) for seq in range(1, THREADS + 1) for page in ("A", "B")]
    outcomes = _run(app, workers)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    db.session.expire_all()
    row = db.session.get(AttemptQuestion, item.id)
    # The row names the page and number of the save it holds; that save was accepted.
    accepted = {(w_page, seq) for (kind, value), (seq, w_page) in zip(
        outcomes, [(s, p) for s in range(1, THREADS + 1) for p in ("A", "B")]) if value is not None}
    assert (row.save_client, row.save_seq) in accepted
    assert row.selected == str(a if row.save_client == "A" else b)
