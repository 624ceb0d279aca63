"""Issue 12, partial credit: a member who ticks every option of a multiple-answer
question earns at most the full mark (wrong options carry negative weights and the
total is clamped to 0..100 %), and on a classic multiple-answer question ticking
everything still earns nothing. Fails on the old code: grading had no credit and the
engine no `credit` per answer."""
from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptQuestion, Question, RoundResult, RoundUnitStats
from quizapp.services import attempts, contests
from quizapp.services.attempts import PracticeSpec, choice_tokens
from quizapp.services.branches import counters
from quizapp.services.grading import points_text
from tests.conftest import BrowserClient
from tests.tokens import tokens_of


def _multiple_attempt(member):
    """A practice attempt holding every multiple-answer question of the bank."""
    count = db.session.scalar(select(db.func.count()).select_from(Question).where(
        Question.kind == "multiple", Question.is_current.is_(True)))
    assert count >= 1
    attempt = attempts.start_practice(member, PracticeSpec(section_keys=[], count=200,
                                      time_limit_minutes=None, feedback="exam"), rng=random.Random(3))
    return attempt, [i for i in attempt.items if i.question.kind == "multiple"]


def _weigh(question: Question, wrong: float) -> None:
    right = [c for c in question.choices if c.is_correct]
    for choice in question.choices:
        choice.fraction = 1 / len(right) if choice.is_correct else wrong
    question.partial_credit = True


def test_ticking_everything_never_earns_more_than_the_full_mark(bank, make_user, frozen_clock):
    member = make_user()
    attempt, items = _multiple_attempt(member)
    assert items
    for item in items:
        _weigh(item.question, wrong=-0.5)
    db.session.flush()
    attempts.submit(attempt, {i.question_id: i.choice_ids for i in items})
    for item in items:
        assert 0 <= item.credit < 100, (item.question.key, item.credit)
        assert item.is_correct is False
    # Only the right picks: the full mark, exactly.
    again, items = _multiple_attempt(member)
    for item in items:
        _weigh(item.question, wrong=0.0)
    attempts.submit(again, {i.question_id: sorted(c.id for c in i.question.choices if c.is_correct)
                            for i in items})
    assert all(i.credit == 100 and i.is_correct for i in items)


def test_weights_without_penalty_are_clamped_at_the_full_mark(bank, make_user, frozen_clock):
    member = make_user()
    attempt, items = _multiple_attempt(member)
    for item in items:
        _weigh(item.question, wrong=0.0)
    db.session.flush()
    attempts.submit(attempt, {i.question_id: i.choice_ids for i in items})
    stored = db.session.scalars(select(AttemptQuestion.credit).where(
        AttemptQuestion.attempt_id == attempt.id,
        AttemptQuestion.question_id.in_([i.question_id for i in items]))).all()
    assert stored and max(stored) == 100


def test_ticking_everything_on_a_classic_question_scores_nothing(bank, make_user, frozen_clock):
    member = make_user()
    attempt, items = _multiple_attempt(member)
    attempts.submit(attempt, {i.question_id: i.choice_ids for i in items})
    assert all(i.credit == 0 and i.is_correct is False for i in items)
    assert attempt.score == sum(1 for i in attempt.items if i.is_correct)


def test_ticking_everything_in_a_round_never_lifts_the_total_or_the_branch(
        bank, make_user, make_unit, frozen_clock):
    """The same attack in a contest round: the attempt's points, the counting result and
    the branch's points never pass the maximum, and a rebuild agrees with what the finish
    wrote. Every question the member drew carries weights; wrong options give nothing
    back, so each answer is clamped at 100 % and the total at max_score × 100."""
    organizer = make_user(role="organizer", username="btc")
    branch = make_unit("cb-tick", name="Chi bộ Tích Hết")
    member = make_user(unit=branch, username="tichhet")
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now - timedelta(minutes=1),
        closes_at=frozen_clock.now + timedelta(hours=1), time_limit_minutes=30, question_count=8))
    contests.schedule(organizer, round_)
    db.session.commit()
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(5))
    for item in attempt.items:
        if item.question.kind != "truefalse":
            _weigh(item.question, wrong=0.0)
    db.session.flush()
    attempts.submit(attempt, {i.question_id: (i.choice_ids if i.question.kind == "multiple"
                                              else i.choice_ids[:1]) for i in attempt.items})
    db.session.commit()
    assert 0 <= attempt.points <= attempt.max_score * 100
    assert attempt.points == sum(i.credit for i in attempt.items if i.credit is not None)
    result = db.session.execute(select(RoundResult).where(RoundResult.user_id == member.id)).scalar_one()
    stats = db.session.execute(select(RoundUnitStats).where(RoundUnitStats.unit_id == branch.id)).scalar_one()
    assert result.points == attempt.points and stats.points_sum == attempt.points
    assert stats.points_sum <= stats.max_sum * 100
    assert counters.recompute(check=True) == []


# ---------------------------------------------------------------- over HTTP
# What a member can actually send: the quiz form (tokens in q-<id> fields) and the
# autosave's JSON. Duplicated tokens, every token at once, a second pick on a
# single-answer question, and tokens or ids that belong to another question or another
# attempt. None may lift a question above its credit, the attempt above its maximum,
# or the branch above its maximum sum; the maintained counters must equal a rebuild.

def _fields(page: str) -> dict[str, list[str]]:
    """What a browser posts of the quiz form: its hidden fields (the page's own markers)
    and the options the page shows ticked."""
    out: dict[str, list[str]] = {}
    for tag in re.findall(r"<input([^>]*)>", page):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        ticked = re.search(r"\schecked\b", tag) is not None
        if attrs.get("name") and (attrs.get("type") == "hidden" or ticked):
            out.setdefault(attrs["name"], []).append(attrs.get("value", ""))
    return out


def _moodle_weights(question: Question) -> None:
    """Moodle's usual weights: a single-answer question's right option 100 % and one
    wrong option 50 %; a multiple-answer question's right options sharing 100 % and its
    wrong ones a penalty of −100 % shared."""
    right = [c for c in question.choices if c.is_correct]
    wrong = [c for c in question.choices if not c.is_correct]
    for choice in question.choices:
        if question.kind == "multiple":
            choice.fraction = 1 / len(right) if choice.is_correct else -1 / len(wrong)
        else:
            choice.fraction = 1.0 if choice.is_correct else (0.5 if choice is wrong[0] else 0.0)
    question.partial_credit = True


@pytest.fixture
def weighted_round(app, bank, make_user, make_unit, frozen_clock):
    organizer = make_user(role="organizer", username="btc")
    branch = make_unit("cb-post", name="Chi bộ Gửi Thêm")
    member = make_user(unit=branch, username="guithem")
    other = make_user(unit=branch, username="hangxom")
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now - timedelta(minutes=1),
        closes_at=frozen_clock.now + timedelta(hours=1), time_limit_minutes=30,
        question_count=20, results_visibility="at_submit"))
    contests.schedule(organizer, round_)
    db.session.commit()
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(11))
    foreign = contests.start_round_attempt(other, round_, rng=random.Random(12))
    for item in attempt.items + foreign.items:
        if item.question.kind != "truefalse" and not item.question.partial_credit:
            _moodle_weights(item.question)
    db.session.commit()
    client = BrowserClient(app.test_client())
    client.login("guithem")
    return {"attempt_id": attempt.id, "foreign_id": foreign.id, "branch": branch,
            "member": member, "client": client}


def _items(attempt_id: int) -> list[AttemptQuestion]:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id).items


def _post(client, attempt_id: int, answers: dict[int, list[int]], action: str = "save"):
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    data = _fields(page)
    data["action"] = [action]
    for qid, values in answers.items():
        data[f"q-{qid}"] = [str(v) for v in values]
    return client.post(f"/attempts/{attempt_id}", data=data)


def _json(client, attempt_id: int, payload: dict):
    return client.post(f"/api/attempts/{attempt_id}/answers", json=payload,
                       headers={"X-CSRFToken": client.csrf_token("/home")})


def _right(item: AttemptQuestion) -> list[int]:
    return [c.id for c in item.question.choices if c.is_correct]


def _half(item: AttemptQuestion) -> int:
    return next(c.id for c in item.question.choices if c.fraction == 0.5)


def test_duplicate_every_and_foreign_choices_posted_never_lift_a_credit_or_the_totals(
        weighted_round):
    w = weighted_round
    client, attempt_id = w["client"], w["attempt_id"]
    items = _items(attempt_id)
    multiples = [i for i in items if i.question.kind == "multiple" and len(_right(i)) >= 2]
    singles = [i for i in items if i.question.kind == "single"]
    assert multiples and len(singles) >= 3
    twice, everything = multiples[0], multiples[1:]

    # One right option of a two-or-more-right question, its token posted three times:
    # counted once (a share of the question), never as three right picks.
    one = _right(twice)[0]
    response = _post(client, attempt_id, {twice.question_id: tokens_of(twice, [one] * 3)})
    assert response.status_code == 302
    # Every option of the other multiple-answer questions, each token twice.
    response = _post(client, attempt_id, {i.question_id: tokens_of(i, i.choice_ids * 2)
                                          for i in everything})
    assert response.status_code == 302
    # The JSON autosave with the half option of a single-answer question, duplicated.
    half_item = singles[0]
    response = _json(client, attempt_id, {
        "question_id": half_item.question_id,
        "choice_ids": tokens_of(half_item, [_half(half_item)] * 2)})
    assert response.status_code == 200, response.get_data(as_text=True)

    # Refused, storing nothing: two picks on a single-answer question (50 % + 100 %);
    # the right option's token of another question; the member's own token for the
    # right option of the neighbour's attempt; a bare database id.
    two_picks = singles[1]
    stolen = singles[2]
    neighbour = next(i for i in _items(w["foreign_id"]) if i.question.kind == "single")
    attacks = [
        {two_picks.question_id: tokens_of(two_picks, [_right(two_picks)[0], _half(two_picks)])},
        {stolen.question_id: tokens_of(twice, [one])},
        {stolen.question_id: [choice_tokens.token(attempt_id, neighbour.question_id,
                                                  _right(neighbour)[0])]},
        {stolen.question_id: [_right(stolen)[0]]},
    ]
    for attack in attacks:
        before = {i.question_id: i.selected for i in _items(attempt_id)}
        _post(client, attempt_id, attack)
        after = {i.question_id: i.selected for i in _items(attempt_id)}
        for qid in attack:
            assert after[qid] is None or set(map(int, after[qid].split(","))) <= set(
                next(i for i in _items(attempt_id) if i.question_id == qid).choice_ids)
            assert after[qid] == before[qid], (attack, after[qid])

    response = _post(client, attempt_id, {}, action="submit")
    assert response.status_code == 302 and response.location.endswith("/result")
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    credits = {i.question_id: i.credit for i in attempt.items}
    assert attempt.status == "finished"
    assert all(0 <= c <= 100 for c in credits.values())
    assert credits[twice.question_id] == round(100 / len(_right(twice)))  # one share, once
    assert credits[half_item.question_id] == 50
    assert all(credits[i.question_id] < 100 for i in everything)  # penalties: never full
    assert credits[two_picks.question_id] == 0 and credits[stolen.question_id] == 0
    # The totals: the sum of the credits, within the maximum, in the attempt, the counting
    # result and the branch; a rebuild from the answers agrees.
    assert attempt.points == sum(credits.values()) <= attempt.max_score * 100
    result = db.session.execute(select(RoundResult).where(
        RoundResult.user_id == w["member"].id)).scalar_one()
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.unit_id == w["branch"].id)).scalar_one()
    assert result.points == attempt.points and stats.points_sum == attempt.points
    assert stats.points_sum <= stats.max_sum * 100 and stats.full_scores == 0
    assert counters.recompute(check=True) == []
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert f"{points_text(attempt.points)}/{attempt.max_score}" in page


def test_a_second_submit_with_other_choices_changes_nothing(weighted_round):
    """The finish is once: posting the right answers after submitting neither regrades
    the attempt nor adds its points to the branch a second time."""
    w = weighted_round
    client, attempt_id = w["client"], w["attempt_id"]
    items = _items(attempt_id)
    half_item = next(i for i in items if i.question.kind == "single")
    _post(client, attempt_id, {half_item.question_id: tokens_of(half_item, [_half(half_item)])},
          action="submit")
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    points = attempt.points
    assert points == 50
    _post(client, attempt_id, {i.question_id: tokens_of(i, _right(i)) for i in items}, action="submit")
    _json(client, attempt_id, {
        "question_id": half_item.question_id, "choice_ids": tokens_of(half_item, _right(half_item))})
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.unit_id == w["branch"].id)).scalar_one()
    assert attempt.points == points and stats.points_sum == points and stats.participants == 1
    assert counters.recompute(check=True) == []
