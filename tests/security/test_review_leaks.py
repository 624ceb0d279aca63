"""The daily review must not hand out the answers of a contest round that is scheduled
or open (issue 14, with the sealing rule of issue 10).

Each test plays the member who does his daily review while a round is scheduled or open,
harvests the right answers the review's feedback shows, then takes the round and counts
how many of its questions the harvest answers. The count must be zero. Without the
sealing filter in services.learning.review, the review serves the round's questions
first (they are due first, or first in outline order) and the count is not zero.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.security.test_practice_leaks import harvest_from_page, known, make_round, take_round

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def organizer(make_user):
    return make_user(role="organizer", username="btc")


@pytest.fixture
def member_client(client, make_user, bank):
    make_user(username="dangvien")
    client.login("dangvien")
    return client


def review_all(client) -> dict[str, set[str]]:
    """Start today's review and answer every question it serves with its first option;
    question key → the right answers its feedback showed."""
    client.form_post("/review/start", token_from="/home")
    harvest: dict[str, set[str]] = {}
    for _ in range(200):
        page = client.get("/review").get_data(as_text=True)
        form = re.search(r'<form method="post" action="(/review/cards/\d+)"', page)
        if not form:
            break
        fields = dict(re.findall(r'<input id="(csrf_token|ticket)" name="\1" type="hidden" value="([^"]*)"', page))
        choice = re.search(r'name="choice" value="(\d+)"', page).group(1)
        response = client.post(form.group(1), data={**fields, "choice": choice})
        assert response.status_code == 302, response.status_code
        harvest |= harvest_from_page(client, response.headers["Location"])
    return harvest


def test_due_cards_of_an_open_round_are_not_served(member_client, organizer, frozen_clock, app):
    app.config.update(REVIEW_DAILY_COUNT=40, REVIEW_NEW_PER_DAY=40)
    # Day 1, no round: the member reviews the first 40 questions of the outline (the
    # "letter" section among them), all due again tomorrow.
    assert len(review_all(member_client)) == 40
    frozen_clock.advance(days=1)
    # Day 2: a round drawing from "letter" opens; the review goes on without it.
    round_ = make_round(organizer, frozen_clock, draw_plan="letter: 9")
    harvest = review_all(member_client)
    assert harvest, "the review still serves the questions outside the round"
    assert known(harvest, take_round(member_client, round_)) == 0


def test_new_questions_of_a_scheduled_round_are_not_introduced(member_client, organizer, frozen_clock):
    # "letter" is the first section of the outline: the first new questions of a review.
    round_ = make_round(organizer, frozen_clock, draw_plan="letter: 9", open_now=False)
    harvest = review_all(member_client)
    assert len(harvest) == 3  # REVIEW_NEW_PER_DAY, from the next sections
    frozen_clock.set(round_.opens_at + timedelta(minutes=1))
    harvest |= review_all(member_client)
    assert known(harvest, take_round(member_client, round_)) == 0


def test_an_empty_review_says_which_round_holds_its_questions_back(member_client, organizer, frozen_clock, app):
    app.config.update(REVIEW_NEW_PER_DAY=0)
    page = member_client.get("/review").get_data(as_text=True)
    assert "Vòng tìm hiểu" not in page and 'class="plain small"' not in page
    make_round(organizer, frozen_clock, title="Vòng tìm hiểu", draw_plan="letter: 9")
    page = member_client.get("/review").get_data(as_text=True)
    assert "Vòng tìm hiểu" in page
