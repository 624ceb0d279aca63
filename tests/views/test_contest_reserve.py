"""The contest reserve: organizers mark questions contest-only in the editor, the YAML
format keeps the mark, the coverage page shows both pools (and what practice has now),
and a round draws from the whole bank or from the reserve only."""
from __future__ import annotations

import html
import random
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from quizapp.extensions import db
from quizapp.models import AuditLog, Question, Round, Section
from quizapp.services import bank as bank_service
from quizapp.services import contests
from quizapp.services.contests import RoundSettings
from quizapp.services.bank.formats import yaml_format
from tests.views.test_editor_views import BANK, coverage_rows, form_values, post_form

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def organizer(make_user):
    return make_user(role="organizer", username="btc")


@pytest.fixture
def org_client(client, organizer, bank):
    client.login("btc")
    return client


def vi(message: str, **values) -> str:
    with force_locale("vi"):
        return gettext(message, **values)


def current(key: str) -> Question:
    db.session.expire_all()
    return db.session.execute(select(Question).where(
        Question.key == key, Question.is_current.is_(True))).scalar_one()


def mark_reserve(section_key: str, limit: int | None = None) -> list[str]:
    ids = list(db.session.execute(select(Question.id).join(Section).where(
        Section.key == section_key, Question.status == "approved", Question.is_current.is_(True))
        .order_by(Question.key)).scalars())[:limit]
    db.session.execute(update(Question).where(Question.id.in_(ids)).values(reserve=True))
    db.session.commit()
    return [db.session.get(Question, i).key for i in ids]


# ---------------------------------------------------------------- the editor

def test_organizer_marks_a_question_as_contest_reserve_and_back(org_client):
    page = org_client.get(f"{BANK}/q/vp1-motto/edit")
    values = form_values(page)
    assert "reserve" not in values  # unticked
    values["reserve"] = "y"
    assert post_form(org_client, f"{BANK}/q/vp1-motto/edit", values).status_code == 302
    question = current("vp1-motto")
    assert question.reserve is True and question.version == 1  # a use flag: no new version
    detail = org_client.get(f"{BANK}/q/vp1-motto").get_data(as_text=True)
    assert html.escape(vi("Contest reserve")) in detail
    log = db.session.execute(select(AuditLog).where(AuditLog.target == "question:vp1-motto")
                             .order_by(AuditLog.id.desc())).scalars().first()
    assert '"reserve": true' in log.detail
    values = form_values(org_client.get(f"{BANK}/q/vp1-motto/edit"))
    assert values.get("reserve") == "y"
    del values["reserve"]
    post_form(org_client, f"{BANK}/q/vp1-motto/edit", values)
    assert current("vp1-motto").reserve is False


def test_yaml_export_and_import_keep_the_reserve(org_client):
    mark_reserve("viewpoint-1", limit=2)
    exported = org_client.get(f"{BANK}/export.yaml").data
    parsed = yaml_format.parse(exported)
    assert parsed.ok, parsed.errors
    reserved = {q.key for q in parsed.questions if q.reserve}
    assert reserved == {q.key for q in parsed.questions if current(q.key).reserve} and len(reserved) == 2
    # Back into a bank where the flag was lost: the file restores it.
    db.session.execute(update(Question).values(reserve=False))
    db.session.commit()
    bank_service.upsert_questions(parsed.questions)
    db.session.commit()
    assert {k for k in reserved if current(k).reserve} == reserved


def test_an_import_without_the_field_never_unreserves_and_false_does(app, bank):
    key = mark_reserve("viewpoint-1", limit=1)[0]
    data = bank_service.to_data(current(key))
    without = yaml_format.dump([data]).decode().replace("    reserve: true\n", "")
    assert "reserve" not in without
    parsed = yaml_format.parse(without.encode())
    assert parsed.ok and parsed.questions[0].reserve is None
    bank_service.upsert_questions(parsed.questions)
    db.session.commit()
    assert current(key).reserve is True
    parsed = yaml_format.parse(without.replace("    status:", "    reserve: false\n    status:").encode())
    bank_service.upsert_questions(parsed.questions)
    db.session.commit()
    assert current(key).reserve is False
    bad = yaml_format.parse(without.replace("    status:", "    reserve: maybe\n    status:").encode())
    assert any("'reserve' must be true or false" in e for e in bad.errors)


def test_purpose_excludes_and_reserve_travel_together_and_each_edits_in_place(app, bank):
    """A question's purpose, exclusions and reserve flag all go through YAML, and a file
    changing any one of them edits the question in place; a file silent on `reserve` keeps
    the bank's flag while it changes the purpose."""
    key = mark_reserve("viewpoint-1", limit=1)[0]
    other = next(k for k in ("vp1-motto", "vp1-opening") if k != key)
    data = bank_service.to_data(current(key))
    data.purpose, data.excludes = "distinguish", [other]
    text = yaml_format.dump([data]).decode()
    assert "    purpose: distinguish\n" in text and "    reserve: true\n" in text
    assert f'    excludes: ["{other}"]\n' in text
    parsed = yaml_format.parse(text.encode())
    assert parsed.ok, parsed.errors
    assert (parsed.questions[0].purpose, parsed.questions[0].excludes, parsed.questions[0].reserve) \
        == ("distinguish", [other], True)
    first = current(key).id

    def upsert(yaml_text: str):
        result = bank_service.upsert_questions(yaml_format.parse(yaml_text.encode()).questions)
        db.session.commit()
        question = current(key)
        assert question.id == first and question.version == 1  # metadata: no new version
        return result, (question.purpose, question.excludes, question.reserve)

    result, state = upsert(text)
    assert result.updated == 1 and state == ("distinguish", other, True)
    result, state = upsert(text)
    assert result.unchanged == 1 and state == ("distinguish", other, True)
    silent = text.replace("    reserve: true\n", "").replace("distinguish", "recall")
    result, state = upsert(silent)
    assert result.updated == 1 and state == ("recall", other, True)
    result, state = upsert(silent.replace("    status:", "    reserve: false\n    status:"))
    assert result.updated == 1 and state == ("recall", other, False)
    result, state = upsert(silent.replace(f'    excludes: ["{other}"]\n', ""))
    assert result.updated == 1 and state == ("recall", "", False)


# ---------------------------------------------------------------- coverage

def test_coverage_shows_both_pools_and_what_practice_has_now(org_client, organizer, frozen_clock):
    mark_reserve("viewpoint-1", limit=2)
    rows = coverage_rows(org_client.get(f"{BANK}/coverage"))
    # Total, practice, reserve, practice now, then kinds and difficulties.
    assert rows["viewpoint-1"][1][:4] == [5, 3, 2, 3]
    assert rows["viewpoint-2"][1][:4] == [5, 5, 0, 5]
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng mở", opens_at=frozen_clock.now + timedelta(minutes=5),
        closes_at=frozen_clock.now + timedelta(hours=2), time_limit_minutes=20,
        # 4 of viewpoint-2 (two of its 5 are kept apart by `excludes`): the round may
        # still draw any of the 5, so all 5 leave practice.
        question_count=5, draw_plan="viewpoint-1: 1\nviewpoint-2: 4"))
    contests.schedule(organizer, round_)
    db.session.commit()
    page = org_client.get(f"{BANK}/coverage")
    rows = coverage_rows(page)
    assert rows["viewpoint-1"][1][:4] == [5, 3, 2, 0]
    assert rows["viewpoint-2"][1][:4] == [5, 5, 0, 0]
    assert rows["viewpoint-3"][1][:4] == [5, 5, 0, 5]
    assert "Vòng mở" in page.get_data(as_text=True)


# ---------------------------------------------------------------- rounds

def round_form(**overrides) -> dict:
    values = {"title": "Vòng dự trữ", "opens_at": "2026-03-02T10:00", "closes_at": "2026-03-02T12:00",
              "time_limit_minutes": "20", "question_count": "3", "draw_plan": "viewpoint-1: 3",
              "question_pool": "reserve", "shuffle_questions": "y", "shuffle_choices": "y",
              "attempts_allowed": "1", "counting": "best", "results_visibility": "at_close",
              "prediction_kind": "", "prize_first": "1", "prize_second": "2", "prize_third": "3",
              "prize_consolation": "5"}
    values.update(overrides)
    return values


def test_a_reserve_round_is_checked_against_the_reserve_and_draws_only_from_it(
        org_client, organizer, frozen_clock, make_user):
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    db.session.commit()
    path = f"/organize/contests/{contest.id}/rounds/new"
    form = org_client.get(path).get_data(as_text=True)
    assert 'name="question_pool"' in form
    response = org_client.form_post(path, round_form(), token_from="/home")
    assert response.status_code == 200  # no reserve yet: the plan cannot be served
    page = html.unescape(response.get_data(as_text=True))
    assert vi("this round draws from the contest reserve only: the numbers above count "
              "reserve questions") in page
    assert db.session.execute(select(Round)).first() is None
    reserved = set(mark_reserve("viewpoint-1", limit=3))
    response = org_client.form_post(path, round_form(), token_from="/home")
    assert response.status_code == 302
    round_ = db.session.execute(select(Round)).scalar_one()
    assert round_.question_pool == "reserve"
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.set(round_.opens_at + timedelta(minutes=1))
    member = make_user(username="dangvien")
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(1))
    assert {item.question.key for item in attempt.items} == reserved


def test_an_unknown_pool_is_a_form_error(org_client, organizer):
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    db.session.commit()
    response = org_client.form_post(f"/organize/contests/{contest.id}/rounds/new",
                                    round_form(question_pool="secret"), token_from="/home")
    assert response.status_code == 200
    assert db.session.execute(select(Round)).first() is None
    assert re.search(r'class="error"', response.get_data(as_text=True))
