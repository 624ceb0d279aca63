"""The contest journey a member finishes without help (issue 15): the home card, the
reminder link to the round, "check your answers" before the one irreversible submit, the
done page with the round's name, score and rank when visible, the prediction last and
optional, multiple-answer questions marked, "Save answers" only without JavaScript."""
from __future__ import annotations

import html
import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, User
from quizapp.services import attempts
from quizapp.services import contests
from quizapp.services.contests import RoundSettings
from tests.conftest import BrowserClient
from tests.tokens import tokens_of

pytestmark = pytest.mark.usefixtures("isolated_requests")


def _round(organizer, clock, **overrides):
    contest = contests.create_contest(organizer, "Cuộc thi tìm hiểu Nghị quyết", "", [])
    values = dict(title="Vòng 2", opens_at=clock.now + timedelta(hours=1),
                  closes_at=clock.now + timedelta(hours=3), time_limit_minutes=20,
                  question_count=5, draw_plan="viewpoint-1: 5")
    values.update(overrides)
    round_ = contests.create_round(organizer, contest, RoundSettings(**values))
    contests.schedule(organizer, round_)
    db.session.commit()
    clock.set(round_.opens_at)
    return round_


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _right(item) -> list[int]:
    return [c.id for c in item.question.choices if c.is_correct]


def _form(member, attempt, answered: int, action: str, extra=None):
    data = {"action": action}
    for item in attempt.items[:answered]:
        data[f"q-{item.question_id}"] = [str(t) for t in tokens_of(item, _right(item))]
    data.update(extra or {})
    return member.form_post(f"/attempts/{attempt.id}", data, token_from=f"/attempts/{attempt.id}")


def _start(member, round_) -> Attempt:
    response = member.form_post(f"/rounds/{round_.id}/start", {}, token_from=f"/rounds/{round_.id}")
    assert response.status_code == 302
    db.session.expire_all()
    return db.session.execute(select(Attempt)).scalar_one()


def test_home_leads_to_the_open_round_with_its_deadline(bank, organizer, frozen_clock, make_user,
                                                        open_as):
    make_user(username="dangvien")
    round_ = _round(organizer, frozen_clock)
    home = _text(open_as("dangvien").get("/home"))
    card = re.search(r'<section class="card contest-card[^"]*".*?</section>', home, re.S).group(0)
    assert f'href="/rounds/{round_.id}"' in card
    assert "Vào thi Vòng 2" in card
    assert "Hạn chót: 12:00 02/03/2026" in card  # closes 05:00 UTC = 12:00 in Hà Nội


@pytest.mark.parametrize("visibility, score_shown", [("at_submit", True), ("at_close", False)])
def test_home_says_submitted_and_shows_the_score_only_when_visible(
        bank, organizer, frozen_clock, make_user, open_as, visibility, score_shown):
    make_user(username="dangvien")
    round_ = _round(organizer, frozen_clock, results_visibility=visibility)
    member = open_as("dangvien")
    attempt = _start(member, round_)
    attempts.submit(attempt, {item.question_id: _right(item) for item in attempt.items[:4]})
    db.session.commit()
    home = _text(member.get("/home"))
    card = re.search(r'<section class="card contest-card done".*?</section>', home, re.S).group(0)
    assert "Đã nộp ✓" in card
    assert "Vào thi" not in card
    assert ("Điểm: 4/5" in card) is score_shown
    assert not score_shown or "4/5" in card
    if not score_shown:
        assert not re.search(r"\b4/5\b", home)


def test_the_contest_submit_goes_through_check_your_answers(bank, organizer, frozen_clock,
                                                            make_user, open_as):
    make_user(username="dangvien")
    round_ = _round(organizer, frozen_clock, results_visibility="at_submit",
                    prediction_kind="participants")
    member = open_as("dangvien")
    attempt = _start(member, round_)
    page = _text(member.get(f"/attempts/{attempt.id}"))
    # The visible button leads to the review; no button on the page submits directly.
    assert 'name="action" value="review"' in page
    assert not re.search(r'<button[^>]*value="submit"', page)
    # The prediction comes after the last question and says it is optional.
    last_question = page.rindex('class="card question')
    assert page.index('id="prediction"') > last_question
    assert "không bắt buộc" in page[last_question:]

    response = _form(member, attempt, answered=3, action="review", extra={"prediction": "40"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}/review")
    db.session.expire_all()
    assert attempt.status == "in_progress"           # not submitted yet
    assert sum(1 for i in attempt.items if i.selected_ids) == 3   # but saved
    assert attempt.prediction == 40

    review = _text(member.get(f"/attempts/{attempt.id}/review"))
    assert "Bạn đã trả lời 3/5 câu" in review
    missing = [item for item in attempt.items if not item.selected_ids]
    for item in missing:   # ?q=N: the question's own screen in one-per-screen mode
        n = attempt.items.index(item) + 1
        assert f'href="/attempts/{attempt.id}?q={n}#q-{item.question_id}"' in review
    answered = [item for item in attempt.items if item.selected_ids]
    assert f"#q-{answered[0].question_id}" not in review
    assert f'action="/attempts/{attempt.id}/submit"' in review
    assert "không thể sửa" in review   # irreversible: the page says so

    response = member.form_post(f"/attempts/{attempt.id}/submit", {},
                                token_from=f"/attempts/{attempt.id}/review")
    assert response.headers["Location"].endswith(f"/attempts/{attempt.id}/result")
    db.session.expire_all()
    assert attempt.status == "finished" and attempt.finish_reason == "submitted"
    assert attempt.score == 3   # what was saved, nothing lost nor cleared by the bare submit

    done = _text(member.get(f"/attempts/{attempt.id}/result"))
    assert "Vòng 2: Đã nộp ✓" in done
    assert '<p class="big-score">3/5</p>' in done
    assert 'href="/home"' in done and "Về trang chủ" in done
    assert "Luyện tập lại" not in done   # the practice button is not the way on
    # The round page and home now say it is done.
    assert "Đã nộp ✓" in _text(member.get("/home"))
    # After the submit the review page sends back to the result, never offers a second submit.
    assert member.get(f"/attempts/{attempt.id}/review").status_code == 302


def test_the_done_page_shows_the_rank_once_the_ranking_is_public(bank, organizer, frozen_clock,
                                                                 make_user, open_as):
    for n in range(3):
        make_user(username=f"dv{n}")
    round_ = _round(organizer, frozen_clock, results_visibility="at_close")
    by_name = {}
    for n, right in enumerate([5, 2, 4]):
        user = db.session.execute(select(User).where(User.username == f"dv{n}")).scalar_one()
        attempt = contests.start_round_attempt(user, round_, rng=random.Random(n))
        frozen_clock.advance(seconds=30)
        attempts.submit(attempt, {i.question_id: _right(i) for i in attempt.items[:right]})
        db.session.commit()
        by_name[f"dv{n}"] = attempt.id
    member = open_as("dv2")
    before = _text(member.get(f"/attempts/{by_name['dv2']}/result"))
    assert "Đã nộp ✓" in before and "Vòng 2" in before
    assert "Xếp hạng" not in before and "4/5" not in before   # hidden until the round closes
    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    after = _text(member.get(f"/attempts/{by_name['dv2']}/result"))
    assert "Xếp hạng của bạn: 2/3" in after
    assert '<p class="big-score">4/5</p>' in after


def test_a_submit_from_the_review_after_the_deadline_keeps_what_was_saved(
        bank, organizer, frozen_clock, make_user, open_as):
    make_user(username="dangvien")
    round_ = _round(organizer, frozen_clock, results_visibility="at_submit")
    member = open_as("dangvien")
    attempt = _start(member, round_)
    _form(member, attempt, answered=2, action="review")
    token = member.csrf_token(f"/attempts/{attempt.id}/review")
    frozen_clock.set(attempt.deadline + timedelta(minutes=1))
    member.post(f"/attempts/{attempt.id}/submit", data={"csrf_token": token},
                headers={"Referer": f"http://localhost/attempts/{attempt.id}/review"})
    db.session.expire_all()
    assert attempt.status == "finished" and attempt.finish_reason == "expired"
    assert attempt.score == 2


def test_practice_still_submits_from_the_page(bank, make_user, open_as, frozen_clock):
    make_user(username="dangvien")
    member = open_as("dangvien")
    page = _text(member.get("/practice"))
    assert page
    response = member.form_post("/practice", {"count": "3", "time_limit": "", "feedback": "exam"},
                                token_from="/practice")
    attempt_id = int(re.search(r"/attempts/(\d+)$", response.headers["Location"]).group(1))
    quiz = _text(member.get(f"/attempts/{attempt_id}"))
    assert 'id="submit-button"' in quiz and 'value="review"' not in quiz


def test_save_button_is_only_for_pages_without_javascript(bank, organizer, frozen_clock,
                                                          make_user, open_as):
    make_user(username="dangvien")
    round_ = _round(organizer, frozen_clock)
    member = open_as("dangvien")
    attempt = _start(member, round_)
    page = _text(member.get(f"/attempts/{attempt.id}"))
    button = re.search(r'<button[^>]*value="save"[^>]*>', page).group(0)
    assert "nojs-only" in button
    # The countdown's auto-submit field exists but is sent only when the script enables it.
    assert re.search(r'<input type="hidden" name="action" value="submit" id="auto-submit" disabled>', page)
    # The stale-tab merge fields are still there for each question.
    for item in attempt.items:
        assert f'name="base-q-{item.question_id}"' in page
        assert f'name="seq-q-{item.question_id}"' in page


def test_multiple_answer_questions_are_unmistakable(bank, make_user, open_as, frozen_clock):
    make_user(username="dangvien")
    member = open_as("dangvien")
    response = member.form_post("/practice", {"count": "40", "time_limit": "", "feedback": "exam"},
                                token_from="/practice")
    attempt_id = int(re.search(r"/attempts/(\d+)$", response.headers["Location"]).group(1))
    page = _text(member.get(f"/attempts/{attempt_id}"))
    attempt = db.session.get(Attempt, attempt_id)
    multi = [i for i in attempt.items if i.question.kind == "multiple"]
    single = [i for i in attempt.items if i.question.kind != "multiple"]
    assert multi and single, "the bundled bank has both kinds"
    for item in multi:
        block = re.search(rf'<fieldset class="card question" id="q-{item.question_id}"[^>]* data-multiple>.*?</fieldset>',
                          page, re.S).group(0)
        assert re.search(r'<p class="multi-note">[^<]*nhiều hơn một', block)  # bold by its class
        assert 'type="checkbox"' in block and 'type="radio"' not in block
    for item in single:
        block = re.search(rf'<fieldset class="card question" id="q-{item.question_id}"[^>]*>.*?</fieldset>',
                          page, re.S).group(0)
        assert "data-multiple" not in block and "multi-note" not in block and 'type="radio"' in block


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "https://thi.tay-mo.vn"}])
def test_the_reminder_links_to_the_round_itself(app, bank, organizer, frozen_clock, make_user,
                                                make_unit, open_as, app_config):
    branch = make_unit("cb-a")
    make_user(role="secretary", unit=branch, username="bithu")
    make_user(unit=branch, username="dangvien")
    round_ = _round(organizer, frozen_clock)
    page = _text(open_as("bithu").get(f"/branch/{branch.id}"))
    reminder = re.search(r'<textarea id="reminder"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert f"https://thi.tay-mo.vn/r/{round_.id}" in reminder
    assert f"/rounds/{round_.id}" not in reminder   # the public address, as posters carry
    # A member who follows it logged out sees the round and logs in from there...
    anonymous = BrowserClient(app.test_client())
    public = anonymous.get(f"/r/{round_.id}")
    assert public.status_code == 200 and round_.title in _text(public)
    login_page = re.search(r'href="([^"]*/login\?next=[^"]*)"', public.get_data(as_text=True)).group(1)
    response = anonymous.form_post(html.unescape(login_page), {"login": "dangvien", "password": "correct-horse-1"})
    assert response.headers["Location"].endswith(f"/rounds/{round_.id}")
    # ...and, logged in, the same link goes straight to the round.
    assert anonymous.get(f"/r/{round_.id}").headers["Location"].endswith(f"/rounds/{round_.id}")
