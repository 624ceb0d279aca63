"""The draw pools (contests.draw_plan) are built once per bank revision and round pool,
not at every start of a spike; any write to the bank — through objects, bulk
statements or an import — makes the next start build them again, on every worker
(models.bank.BankRevision), and a round's own edits are read at each start."""
from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from quizapp.extensions import db
from quizapp.models import Attempt, Question, Section
from quizapp.models.bank import bank_revision_token
from quizapp.services import contests
from quizapp.services.contests import RoundSettings, draw_plan


@contextmanager
def statements():
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _subtree_ids(key: str) -> set[int]:
    pools = draw_plan.pools_for("all")
    return set(pools.subtree(pools.sections[key]))


def test_pools_are_built_once_per_bank_revision_and_pool(bank):
    draw_plan._POOLS.clear()
    first = draw_plan.pools_for("all")
    with statements() as seen:
        again = draw_plan.pools_for("all")
    assert again is first
    assert len(seen) == 1 and "bank_revision" in seen[0]  # the token, nothing else
    reserve = draw_plan.pools_for("reserve")
    assert reserve is not first and set(reserve.all_ids()) < set(first.all_ids())


def test_a_question_retired_is_not_drawn_by_the_next_start(bank):
    rules, _errors = draw_plan.parse("congress: 3")
    before = _subtree_ids("congress")
    token = bank_revision_token(db.session)
    retired = db.session.get(Question, min(before))
    retired.status = "retired"
    db.session.commit()
    assert bank_revision_token(db.session) != token
    assert _subtree_ids("congress") == before - {retired.id}
    for seed in range(20):
        assert retired.id not in draw_plan.draw(rules, 3, random.Random(seed))


def test_a_bulk_update_of_the_bank_is_seen_by_the_next_start(bank):
    before = _subtree_ids("letter")
    db.session.execute(update(Question).where(Question.id.in_(before)).values(status="draft"))
    db.session.commit()
    assert _subtree_ids("letter") == set()
    db.session.execute(update(Question).where(Question.id.in_(before)).values(status="approved"))
    db.session.commit()
    assert _subtree_ids("letter") == before


def test_a_section_moved_is_seen_by_the_next_start(bank):
    letter = set(_subtree_ids("letter"))
    token = bank_revision_token(db.session)
    congress = db.session.execute(select(Section).where(Section.key == "congress")).scalar_one()
    letter_section = db.session.execute(select(Section).where(Section.key == "letter")).scalar_one()
    letter_section.parent_id = congress.id
    db.session.commit()
    assert bank_revision_token(db.session) != token
    assert letter <= _subtree_ids("congress")


def test_a_round_edit_is_seen_by_the_next_start(bank, make_user, make_unit, frozen_clock):
    organizer = make_user(role="organizer", username="btc")
    member = make_user(username="dv1", unit=make_unit())
    contest = contests.create_contest(organizer, "Hội thi", "", [])

    def settings(plan: str) -> RoundSettings:
        return RoundSettings(title="Vòng 1", opens_at=frozen_clock.now + timedelta(minutes=10),
                             closes_at=frozen_clock.now + timedelta(hours=2),
                             time_limit_minutes=30, question_count=3, draw_plan=plan)

    round_ = contests.create_round(organizer, contest, settings("congress: 3"))
    db.session.commit()
    draw_plan.draw(draw_plan.parse("congress: 3")[0], 3, random.Random(1))  # pools cached
    contests.update_round(organizer, round_, settings("letter: 3"))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.advance(minutes=11)
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(2))
    db.session.commit()
    drawn = {item.question_id for item in db.session.get(Attempt, attempt.id).items}
    assert len(drawn) == 3 and drawn <= _subtree_ids("letter")


def test_choice_orders_come_with_the_pools_and_follow_a_change_of_a_choice(bank):
    """A contest start takes each drawn question's kind and choice ids from the pools
    (no question or choice loaded per start); a choice renamed or added is seen by the
    next start, through objects or a bulk statement alike."""
    from quizapp.models import Choice
    draw_plan._POOLS.clear()
    question = db.session.execute(select(Question).where(
        Question.is_current.is_(True), Question.status == "approved", Question.kind == "single",
        Question.reserve.is_(False)).order_by(Question.id)).scalars().first()
    authored = [c.id for c in question.choices]
    first = draw_plan.pools_for("all").orders([question.id])[0]
    assert (first.question_id, first.fixed, list(first.authored)) == (question.id, False, authored)
    with statements() as seen:
        assert draw_plan.pools_for("all").orders([question.id])[0] is first
    assert not any("FROM choices" in s or "FROM questions" in s for s in seen), seen
    # Renamed so that it sorts first in natural order, through the ORM.
    last = question.choices[-1]
    last.text = "0 " + last.text
    db.session.commit()
    renamed = draw_plan.pools_for("all").orders([question.id])[0]
    assert renamed.natural[0] == last.id
    # A choice added with a bulk statement.
    db.session.execute(Choice.__table__.insert().values(
        question_id=question.id, position=99, text="Phương án thêm", is_correct=False))
    db.session.commit()
    added = draw_plan.pools_for("all").orders([question.id])[0]
    assert len(added.authored) == len(authored) + 1
