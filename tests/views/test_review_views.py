"""The daily review pages: plain forms (no JavaScript), own cards only, one count per
answer, clear messages for bad input."""
from __future__ import annotations

import html
import re

import pytest
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Question, ReviewCard, ReviewLog
from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")


def vi(message: str) -> str:
    with force_locale("vi"):
        return gettext(message)


def text_of(client, path: str) -> str:
    return html.unescape(client.get(path).get_data(as_text=True))


@pytest.fixture
def member_client(client, make_user, bank, frozen_clock):
    make_user(username="dangvien")
    client.login("dangvien")
    return client


def start(client):
    response = client.form_post("/review/start", token_from="/home")
    assert response.status_code == 302 and response.headers["Location"].endswith("/review")


def question_page(client) -> dict:
    """The review page as a browser without JavaScript sees it: its form's action,
    hidden fields and options (value → text)."""
    page = client.get("/review").get_data(as_text=True)
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    action = re.search(r'<form method="post" action="(/review/cards/\d+)"', page).group(1)
    hidden = dict(re.findall(r'<input id="(csrf_token|ticket)" name="\1" type="hidden" value="([^"]*)"', page))
    options = {v: html.unescape(t) for v, t in re.findall(
        r'<input type="radio" name="choice" value="(\d+)">\s*<span>(.*?)</span>', page, re.S)}
    return {"action": action, "fields": hidden, "options": options, "page": page}


def card_of(action: str) -> ReviewCard:
    db.session.expire_all()
    return db.session.get(ReviewCard, int(action.rsplit("/", 1)[1]))


def logs() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ReviewLog))


def test_home_shows_the_set_and_the_review_works_without_javascript(member_client):
    home = member_client.get("/home").get_data(as_text=True)
    assert 'id="daily-review"' in home and "/review/start" in home
    start(member_client)
    form = question_page(member_client)
    card = card_of(form["action"])
    question = db.session.execute(select(Question).where(
        Question.key == card.question_key, Question.is_current.is_(True))).scalar_one()
    value = next(v for v, t in form["options"].items()
                 if t in {c.text for c in question.choices if c.is_correct})
    response = member_client.post(form["action"], data={**form["fields"], "choice": value})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/review/cards/{card.id}/feedback")
    feedback = text_of(member_client, response.headers["Location"])
    assert vi("Correct") in feedback and vi("Right answer:") in feedback
    assert logs() == 1
    with force_locale("vi"):
        streak = ngettext("%(num)d day in a row", "%(num)d days in a row", 1)
    assert streak in text_of(member_client, "/home")


def test_a_post_for_someone_elses_card_is_404(member_client, client, make_user, app):
    start(member_client)
    form = question_page(member_client)
    other = BrowserClient(app.test_client())
    make_user(username="khac")
    other.login("khac")
    value = next(iter(form["options"]))
    response = other.form_post(form["action"], {"ticket": form["fields"]["ticket"], "choice": value},
                               token_from="/home")
    assert response.status_code == 404
    assert other.get(form["action"] + "/feedback").status_code == 404
    assert logs() == 0 and card_of(form["action"]).reps == 0


def test_a_double_submit_counts_once(member_client):
    start(member_client)
    form = question_page(member_client)
    data = {**form["fields"], "choice": next(iter(form["options"]))}
    first = member_client.post(form["action"], data=data)
    second = member_client.post(form["action"], data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert logs() == 1 and card_of(form["action"]).reps == 1
    page = text_of(member_client, second.headers["Location"])
    assert vi("This answer was already counted.") in page


@pytest.mark.parametrize("change, message", [
    ({"choice": None}, "Choose an answer first."),
    ({"choice": "not-a-number"}, "That choice is not part of this question."),
    ({"choice": "999999999"}, "That choice is not part of this question."),
    ({"ticket": "forged"}, "This question page is out of date. Here is today's review again."),
])
def test_bad_input_gets_a_clear_message_and_saves_nothing(member_client, change, message):
    start(member_client)
    form = question_page(member_client)
    data = {**form["fields"], "choice": next(iter(form["options"])), **change}
    data = {k: v for k, v in data.items() if v is not None}
    response = member_client.post(form["action"], data=data, headers={"Referer": "http://localhost/review"})
    assert response.status_code == 302 and response.headers["Location"] == "http://localhost/review"
    assert vi(message) in text_of(member_client, "/review")
    assert logs() == 0 and card_of(form["action"]).reps == 0


def test_the_branch_page_shows_review_activity(member_client, make_user, ward, client):
    start(member_client)
    form = question_page(member_client)
    member_client.post(form["action"], data={**form["fields"], "choice": next(iter(form["options"]))})
    member_client.post("/logout", data={"csrf_token": member_client.csrf_token("/home")})
    make_user(role="secretary", username="bithu")
    client.login("bithu")
    page = client.get(f"/branch/{ward.id}").get_data(as_text=True)
    assert 'id="review-activity"' in page
    with force_locale("vi"):
        expected = gettext("In the last %(days)d days: %(n)d of %(total)d members reviewed, "
                           "%(reviews)d questions answered.", days=7, n=1, total=2, reviews=1)
    assert expected in html.unescape(page)
