"""The maintained branch counters against a rebuild, after random sequences of what
members and organizers do to one open round (Hypothesis).

The world: two branches of three (one a secretary), the organizer (who may take the round
too: counted in started/finished only), one open round allowing two attempts, counting
the best, first or last. Steps: start, save random choices, submit, let time pass, close
overdue attempts, exempt or deactivate someone (and back), answer daily review questions
(sometimes posting the same serving twice: the branch's review days). At the end the round closes
and a question may be voided or re-keyed. After every step `counters.recompute(check=True)`
must find nothing to correct; at the end every finished attempt's score and points must
equal a regrade from its stored answers (the single-answer questions of the pools carry
partial credit: one wrong option is worth 50 %; the multiple-answer ones share 100 %
among their right options and take 50 % for each wrong one), and the counting results and branch counters must equal
what an independent oracle in this file computes.
"""
from __future__ import annotations

import random
from fractions import Fraction
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from quizapp.extensions import db
from quizapp.models import (Attempt, AttemptQuestion, Question, ReviewLog, Round,
                            RoundQuestionChange, RoundResult, RoundUnitStats, Section, Unit, User)
from quizapp.models.attempts import FINISHED, IN_PROGRESS
from quizapp.services import attempts, learning
from quizapp.services.branches import counters, roster
from quizapp.services import contests
from quizapp.services.people import users as user_service
from quizapp.services.contests import RoundSettings
from quizapp.services.errors import DomainError

# Four questions drawn from ten (each pool has one multiple-choice question), so attempts
# differ and a voided question touches some attempts only.
PLAN = "viewpoint-2: 2\nbreakthrough-2: 2"
MEMBERS = 7  # six on the rosters, and the organizer (index 6)


# ---------------------------------------------------------------- world

BANK_TABLES = {"sections", "questions", "choices"}


def _wipe() -> None:
    """Every table but the question bank's (imported once per test), children first, so
    each example starts from a clean database."""
    db.session.rollback()
    db.session.execute(update(Unit).values(parent_id=None))
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in BANK_TABLES:
            db.session.execute(delete(table))
    db.session.commit()
    db.session.expunge_all()


def _build(clock, counting: str):
    clock.set(clock.start)
    ward = user_service.create_unit("tay-mo", "Đảng bộ phường", kind="committee")
    a = user_service.create_unit("cb-a", "Chi bộ A", parent=ward)
    b = user_service.create_unit("cb-b", "Chi bộ B", parent=ward)
    people = []
    for index in range(6):
        unit = a if index < 3 else b
        role = "secretary" if index in (0, 3) else "member"
        people.append(user_service.create_user(f"dv{index}", f"Đảng Viên {index}", unit, role=role))
    organizer = user_service.create_user("btc", "Ban Tổ Chức", ward, role="organizer")
    people.append(organizer)
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=clock.now + timedelta(minutes=10),
        closes_at=clock.now + timedelta(minutes=70), time_limit_minutes=10, question_count=4,
        draw_plan=PLAN, attempts_allowed=2, counting=counting))
    contests.schedule(organizer, round_)
    db.session.commit()
    clock.set(round_.opens_at)
    return round_, organizer, [p.id for p in people]


# ---------------------------------------------------------------- steps

def _handle(exc: DomainError) -> None:
    """What the app's error handler does with a refused action."""
    if exc.commit:
        db.session.commit()
    else:
        db.session.rollback()


def _open_attempt(user_id: int, round_id: int) -> Attempt | None:
    return db.session.execute(select(Attempt).where(
        Attempt.user_id == user_id, Attempt.round_id == round_id,
        Attempt.status == IN_PROGRESS)).scalars().first()


def _run(step, round_id: int, organizer_id: int, user_ids: list[int], clock) -> None:
    kind, who = step[0], step[1] if len(step) > 1 else None
    round_ = db.session.get(Round, round_id)
    organizer = db.session.get(User, organizer_id)
    user = db.session.get(User, user_ids[who]) if who is not None and kind != "advance" else None
    if kind == "advance":
        clock.advance(minutes=step[1])
        return
    if kind == "close_overdue":
        attempts.close_overdue()
        db.session.commit()
        return
    if kind in ("exempt", "deactivate"):
        if user.id == organizer.id:
            return
        if kind == "exempt":
            roster.set_exempt(organizer, user, not user.exempt, "thử")
        else:
            roster.set_active(organizer, user, not user.active)
        db.session.commit()
        return
    if not user.active:
        return  # a deactivated member cannot log in
    if kind == "review":
        learning.start_today(user)
        db.session.commit()
        for card in learning.today(user).due[:step[2]]:
            serving = learning.serve(card)
            clock.advance(seconds=3)
            for _post in range(1 + step[3]):  # a double post of the same serving
                learning.answer(user, card, serving.ticket, [str(serving.choices[0][0])])
                db.session.commit()
        return
    try:
        if kind == "start":
            contests.start_round_attempt(user, round_, rng=random.Random(step[2]))
        elif kind == "take":
            # A member's whole sitting: start (or resume), answer everything, maybe submit.
            attempt = contests.start_round_attempt(user, round_, rng=random.Random(step[2]))
            db.session.commit()
            answers = {}
            for item, mask in zip(attempt.items, step[3]):
                chosen = [cid for bit, cid in enumerate(item.choice_ids) if mask >> bit & 1]
                answers[item.question_id] = chosen if item.question.kind == "multiple" else chosen[:1]
            clock.advance(seconds=step[4])
            if step[5]:
                attempts.submit(attempt, answers)
            else:
                attempts.save_answers(attempt, answers)
        else:
            attempt = _open_attempt(user.id, round_id)
            if attempt is None:
                return
            if kind == "save":
                item = attempt.items[step[2] % len(attempt.items)]
                chosen = [cid for bit, cid in enumerate(item.choice_ids) if step[3] >> bit & 1]
                if item.question.kind != "multiple":
                    chosen = chosen[:1]
                attempts.save_answers(attempt, {item.question_id: chosen})
            else:
                attempts.submit(attempt)
        db.session.commit()
    except DomainError as exc:
        _handle(exc)


# ---------------------------------------------------------------- oracles

def _overrides(round_id: int) -> dict[int, set[int] | None]:
    out: dict[int, set[int] | None] = {}
    for change in db.session.execute(select(RoundQuestionChange).where(
            RoundQuestionChange.round_id == round_id).order_by(RoundQuestionChange.id)).scalars():
        out[change.question_id] = None if change.action == "void" else {
            int(x) for x in change.correct_choice_ids.split(",") if x}
    return out


def _half_credit_pools() -> None:
    """The pools' questions get Moodle-style weights: a single-answer question's right
    option 100 %, its first wrong one 50 %, the others 0 %; a multiple-answer question's
    right options share 100 % and each wrong one costs 50 %."""
    for question in db.session.execute(select(Question).join(Section).where(
            Section.key.in_(["viewpoint-2", "breakthrough-2"]),
            Question.kind.in_(["single", "multiple"]))).scalars():
        right = [c for c in question.choices if c.is_correct]
        wrong = [c for c in question.choices if not c.is_correct]
        for choice in question.choices:
            if question.kind == "multiple":
                choice.fraction = 1 / len(right) if choice.is_correct else -0.5
            else:
                choice.fraction = 1.0 if choice.is_correct else (0.5 if choice is wrong[0] else 0.0)
        question.partial_credit = True
    db.session.commit()


def _weighted_points(question: Question, selected: set[int]) -> int:
    """Moodle's grade of a weighted question, computed here: the picked fractions
    (one pick on a single-answer question), summed, kept within 0..1, in whole percent
    rounded half up."""
    if not selected or (question.kind != "multiple" and len(selected) != 1):
        return 0
    total = sum((Fraction(c.fraction).limit_denominator(1000) for c in question.choices
                 if c.id in selected), Fraction(0))
    total = min(Fraction(1), max(Fraction(0), total))
    return int(total * 100 + Fraction(1, 2))


def _regrade(attempt: Attempt, overrides) -> tuple[int, int, int]:
    """(score, max, points) from the stored answers: right only when exactly the right
    choices; points in hundredths, a weighted question's pick earning its weight unless
    a correction re-keyed it to other right answers (then right or wrong as classic)."""
    score = counted = points = 0
    for item in attempt.items:
        if item.question_id in overrides and overrides[item.question_id] is None:
            continue
        natural = {c.id for c in item.question.choices if c.is_correct}
        right = overrides.get(item.question_id) or natural
        counted += 1
        exact = bool(item.selected_ids) and item.selected_ids == right
        score += int(exact)
        if item.question.partial_credit and right == natural:
            points += _weighted_points(item.question, item.selected_ids)
        else:
            points += 100 * int(exact)
    return score, counted, points


def _check_regrade(round_id: int) -> list[Attempt]:
    overrides = _overrides(round_id)
    finished = db.session.execute(select(Attempt).where(
        Attempt.round_id == round_id, Attempt.status == FINISHED)).scalars().all()
    for attempt in finished:
        assert (attempt.score, attempt.max_score, attempt.points) == _regrade(attempt, overrides), \
            attempt.id
    return list(finished)


def _check_oracle(round_: Round, finished: list[Attempt]) -> None:
    """Counting results, branch counters and rosters computed here, independently."""
    by_user: dict[int, list[Attempt]] = {}
    for attempt in finished:
        by_user.setdefault(attempt.user_id, []).append(attempt)
    chosen = {}
    for user_id, mine in by_user.items():
        if round_.counting == "best":
            # Best = the highest share of the attempt's own maximum (voids and re-keys
            # change maxima per attempt), then the shorter time, the earlier finish.
            chosen[user_id] = min(mine, key=lambda a: (
                -(Fraction(a.points, a.max_score * 100) if a.max_score else Fraction(0)),
                a.time_taken_seconds, a.finished_at, a.id))
        elif round_.counting == "first":
            chosen[user_id] = min(mine, key=lambda a: (a.finished_at, a.id))
        else:
            chosen[user_id] = max(mine, key=lambda a: (a.finished_at, a.id))
    stored = {r.user_id: r for r in db.session.execute(select(RoundResult).where(
        RoundResult.round_id == round_.id)).scalars()}
    assert {u: r.attempt_id for u, r in stored.items()} == {u: a.id for u, a in chosen.items()}
    for user_id, result in stored.items():
        assert (result.score, result.max_score, result.points) == (
            chosen[user_id].score, chosen[user_id].max_score, chosen[user_id].points)

    expected: dict[int, list[int]] = {}
    for attempt in db.session.execute(select(Attempt).where(Attempt.round_id == round_.id)).scalars():
        row = expected.setdefault(attempt.unit_id, [0] * 8)
        row[0] += 1
        row[1] += attempt.status == FINISHED
    for user_id, attempt in chosen.items():
        if attempt.user.counts_in_movement:
            row = expected[attempt.unit_id]
            row[2] += 1
            row[3] += attempt.score
            row[4] += attempt.max_score
            row[5] += int(attempt.max_score > 0 and attempt.score == attempt.max_score)
            row[7] += attempt.points
    # Review days: each counting member's local days with an answer in the round's period.
    days = {(log.user_id, log.day, log.unit_id) for log in db.session.execute(select(ReviewLog))
            .scalars() if round_.opens_at <= log.reviewed_at < round_.closes_at
            and db.session.get(User, log.user_id).counts_in_movement}
    for _user, _day, unit_id in days:
        expected.setdefault(unit_id, [0] * 8)[6] += 1
    have = {s.unit_id: [s.started, s.finished, s.participants, s.score_sum, s.max_sum, s.full_scores,
                        s.review_days, s.points_sum]
            for s in db.session.execute(select(RoundUnitStats).where(
                RoundUnitStats.round_id == round_.id)).scalars() if s.started or s.review_days}
    assert have == expected

    for unit in db.session.execute(select(Unit)).scalars():
        members = db.session.execute(select(User).where(User.unit_id == unit.id)).scalars()
        assert unit.active_roster == sum(1 for m in members if m.counts_in_movement), unit.code


def _consistent() -> None:
    db.session.expire_all()
    assert counters.recompute(check=True) == []


# ---------------------------------------------------------------- the property

member = st.integers(0, MEMBERS - 1)


def take():
    return st.tuples(st.just("take"), member, st.integers(0, 2 ** 16),
                     st.lists(st.integers(0, 15), min_size=4, max_size=4), st.integers(0, 660),
                     st.sampled_from([True, True, False]))


# A whole sitting ("take") is drawn three times as often as each single step.
steps = st.lists(st.one_of(
    take(), take(), take(),
    st.tuples(st.just("start"), member, st.integers(0, 2 ** 16)),
    st.tuples(st.just("save"), member, st.integers(0, 3), st.integers(0, 15)),
    st.tuples(st.just("save"), member, st.integers(0, 3), st.integers(0, 15)),
    st.tuples(st.just("submit"), member),
    st.tuples(st.just("advance"), st.integers(1, 15)),
    st.tuples(st.just("close_overdue")),
    st.tuples(st.just("exempt"), member),
    st.tuples(st.just("deactivate"), member),
    st.tuples(st.just("review"), member, st.integers(1, 3), st.integers(0, 1)),
), min_size=6, max_size=20)
corrections = st.lists(st.tuples(st.sampled_from(["void", "rekey"]), st.integers(0, 100),
                                 st.integers(0, 15)), max_size=2)


@pytest.fixture
def world(app, bank, frozen_clock):
    _half_credit_pools()
    frozen_clock.start = frozen_clock.now
    return frozen_clock


@pytest.mark.slow
@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(counting=st.sampled_from(["best", "first", "last"]), script=steps, fixes=corrections)
def test_counters_equal_a_recompute_after_any_sequence(world, counting, script, fixes):
    clock = world
    _wipe()
    round_, organizer, user_ids = _build(clock, counting)
    round_id, organizer_id = round_.id, organizer.id
    for step in script:
        _run(step, round_id, organizer_id, user_ids, clock)
        if step[0] != "advance":
            _consistent()
    round_ = db.session.get(Round, round_id)
    _check_oracle(round_, _check_regrade(round_id))

    # The round closes; whatever was left open is finished by the cron job.
    clock.set(round_.closes_at + timedelta(seconds=30))
    attempts.close_overdue()
    db.session.commit()
    _consistent()
    assert not db.session.execute(select(Attempt).where(Attempt.status == IN_PROGRESS)).first()

    # Corrections after close regrade everything and rebuild the round's counters.
    asked = sorted(contests.round_question_ids(round_))
    organizer = db.session.get(User, organizer_id)
    for action, pick, mask in fixes:
        if not asked:
            break
        question_id = asked[pick % len(asked)]
        question = db.session.get(AttemptQuestion, db.session.execute(select(AttemptQuestion.id).where(
            AttemptQuestion.question_id == question_id)).scalars().first()).question
        ids = [c.id for c in question.choices]
        keyed = [cid for bit, cid in enumerate(ids) if mask >> bit & 1] or ids[:1]
        if question.kind != "multiple":
            keyed = keyed[:1]
        contests.correct_question(organizer, round_, question_id, action, "sai đáp án",
                                  correct_choice_ids=keyed if action == "rekey" else None)
        db.session.commit()
        _consistent()
    db.session.expire_all()
    round_ = db.session.get(Round, round_id)
    _check_oracle(round_, _check_regrade(round_id))
