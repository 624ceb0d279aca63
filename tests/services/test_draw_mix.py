"""Draw plans and what questions test: contest rounds keep the purpose mix (default: at
most 20 % recall) and never put two questions that give each other away into one attempt."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Question
from quizapp.services import draw_plan
from quizapp.services import contest as contests
from quizapp.services.contest import RoundSettings

# The demo contest's first round (services/demo.py).
DEMO_PLAN = "viewpoints: 1 each\nbreakthroughs: 1 each\nkey-tasks: 1 each\ntargets: rest"
PLANS = ["", DEMO_PLAN, "viewpoints: 2 each\nbreakthroughs: 1 each\ntargets: rest",
         "congress: 2\nletter: 2\nsolutions: rest"]


def _purposes(ids: list[int]) -> list[str]:
    return list(db.session.execute(select(Question.purpose).where(Question.id.in_(ids))).scalars())


def _apart_pairs() -> set[frozenset[int]]:
    rows = db.session.execute(select(Question.id, Question.key, Question.excludes).where(
        Question.is_current.is_(True), Question.status == "approved")).all()
    ids = {key: qid for qid, key, _ex in rows}
    return {frozenset((qid, ids[k])) for qid, _key, ex in rows for k in ex.split(",") if k in ids}


@pytest.mark.parametrize("plan", PLANS)
def test_contest_draws_keep_recall_at_most_a_fifth_by_default(bank, plan):
    rules, errors = draw_plan.parse(plan)
    assert errors == []
    assert draw_plan.check(rules, 20) == []
    for seed in range(12):
        drawn = draw_plan.draw(rules, 20, random.Random(seed))
        assert len(set(drawn)) == 20
        assert _purposes(drawn).count("recall") <= 4, (plan, seed)


def test_draws_never_hold_both_questions_of_a_pair_kept_apart(bank):
    pairs = _apart_pairs()
    assert len(pairs) >= 15  # the bundled bank declares its giveaway pairs
    # Small sections full of pairs: the draw must work around them every time.
    rules, _errors = draw_plan.parse("targets-party: 5\ntargets-economy: 5\nprojects: 4\nlimitations: 4")
    assert draw_plan.check(rules, 18) == []
    for seed in range(25):
        drawn = set(draw_plan.draw(rules, 18, random.Random(seed)))
        assert [sorted(p) for p in pairs if p <= drawn] == []


def test_a_plan_can_ask_for_its_own_mix(bank):
    rules, errors = draw_plan.parse("purpose application: at least 40%\npurpose recall: at most 0%\n"
                                    "viewpoints: 1 each\nsolutions: rest")
    assert errors == [] and draw_plan.check(rules, 10) == []
    for seed in range(10):
        purposes = _purposes(draw_plan.draw(rules, 10, random.Random(seed)))
        assert purposes.count("application") >= 4 and "recall" not in purposes


def test_an_explicit_mix_the_bank_cannot_meet_is_refused_up_front(bank):
    # The letter holds recall questions and one application question only.
    rules, errors = draw_plan.parse("purpose recall: at most 10%\nletter: 4")
    assert errors == []
    problems = draw_plan.check(rules, 4)
    assert problems and "recall" in problems[0]


def test_the_default_mix_yields_to_a_section_rule_that_only_recall_can_fill(bank):
    # "congress: 5" asks for a section of recall and distinguish questions: the organiser's
    # explicit rule wins over the soft default, and the draw still prefers the others.
    rules, _errors = draw_plan.parse("congress: 5")
    assert draw_plan.check(rules, 5) == []
    drawn = draw_plan.draw(rules, 5, random.Random(1))
    assert len(drawn) == 5 and _purposes(drawn).count("distinguish") == 3


@pytest.mark.parametrize("line", ["purpose nonsense: at most 20%", "purpose recall: at most 120%",
                                  "purpose recall: 20%"])
def test_malformed_mix_lines_are_errors(line):
    _rules, errors = draw_plan.parse(line)
    assert errors


def test_a_contest_round_started_by_members_stays_within_the_mix(bank, make_user, frozen_clock):
    organizer = make_user(role="organizer", username="btc-mix", password=None)
    contest = contests.create_contest(organizer, "Cuộc thi", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now + timedelta(hours=1),
        closes_at=frozen_clock.now + timedelta(hours=3), time_limit_minutes=20,
        question_count=20, draw_plan=DEMO_PLAN, attempts_allowed=1))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.set(round_.opens_at)
    pairs = _apart_pairs()
    for n in range(8):
        member = make_user(username=f"dv-mix-{n}", password=None)
        attempt = contests.start_round_attempt(member, round_, random.Random(n))
        ids = [item.question_id for item in attempt.items]
        assert len(ids) == 20
        assert _purposes(ids).count("recall") <= 4
        assert not any(p <= set(ids) for p in pairs)


def test_a_reserve_round_keeps_the_mix_and_its_purpose_lines_do_not_change_what_it_seals(bank):
    """The two features together: a round drawing from the reserve only still keeps the
    questions apart and the mix, and the plan's purpose lines do not change the pool a
    round holds back from practice (services/sealing.py asks draw_plan.pool_ids)."""
    from sqlalchemy import update
    from quizapp.models import Section
    viewpoints = db.session.execute(select(Section.id).where(
        Section.key.like("viewpoint-%"))).scalars().all()
    db.session.execute(update(Question).where(Question.section_id.in_(viewpoints))
                       .values(reserve=True))
    db.session.commit()
    reserve = set(db.session.execute(select(Question.id).where(
        Question.reserve.is_(True), Question.is_current.is_(True),
        Question.status == "approved")).scalars())
    rules, errors = draw_plan.parse("viewpoints: rest\npurpose recall: at most 20%")
    assert errors == []
    assert draw_plan.pool_ids(rules, "reserve") == reserve
    assert draw_plan.pool_ids(rules) == draw_plan.pool_ids(draw_plan.parse("viewpoints: rest")[0])
    assert draw_plan.check(rules, 10, "reserve") == []
    pairs = _apart_pairs()
    for seed in range(8):
        drawn = draw_plan.draw(rules, 10, random.Random(seed), "reserve")
        assert len(set(drawn)) == 10 and set(drawn) <= reserve
        assert _purposes(drawn).count("recall") <= 2
        assert not any(pair <= set(drawn) for pair in pairs)
    # More than the reserve holds: refused, and the message says the numbers count the reserve.
    errors = draw_plan.check(draw_plan.parse("viewpoints: rest")[0], len(reserve) + 1, "reserve")
    assert errors and "dự trữ" in errors[-1]
