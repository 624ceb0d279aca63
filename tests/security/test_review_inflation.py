"""A secretary must not inflate his branch's daily review figure (issue 14, the review
weight of the emulation index).

He plays through the web form: he posts every answer of today's set three times (the
same serving, same ticket), answers more questions the same day, tries to answer another
member's card (as if for a guest or an absent member), and reviews again before the
round opens and after it closes. The branch's maintained review figure must count one
member-day — his own day within the round — and `standings recompute --check` must
agree. On the code before the review weight there is no review figure to read at all.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import ReviewCard, RoundUnitStats
from quizapp.services import learning
from quizapp.services.branches import counters, standings
from tests.security.test_practice_leaks import make_round

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def organizer(make_user):
    return make_user(role="organizer", username="btc")


@pytest.fixture
def branch(make_unit):
    return make_unit("cb-on", name="Chi bộ Ôn Tập")


def post_every_answer(client, times: int) -> int:
    """Start today's review and post each served question's first choice `times` times;
    how many questions were served."""
    client.form_post("/review/start", token_from="/home")
    served = 0
    for _ in range(50):
        page = client.get("/review").get_data(as_text=True)
        form = re.search(r'<form method="post" action="(/review/cards/\d+)"', page)
        if not form:
            break
        served += 1
        fields = dict(re.findall(r'<input id="(csrf_token|ticket)" name="\1" type="hidden" value="([^"]*)"', page))
        choice = re.search(r'name="choice" value="(\d+)"', page).group(1)
        for _post in range(times):
            response = client.post(form.group(1), data={**fields, "choice": choice})
            assert response.status_code == 302, response.status_code
    return served


def review_days(round_, unit) -> int:
    db.session.expire_all()
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.round_id == round_.id, RoundUnitStats.unit_id == unit.id)).scalar_one_or_none()
    return stats.review_days if stats else 0


def test_a_secretary_cannot_inflate_his_branchs_review_figure(client, make_user, organizer, branch,
                                                             bank, frozen_clock, app):
    app.config.update(REVIEW_DAILY_COUNT=5, REVIEW_NEW_PER_DAY=5)
    make_user(role="secretary", unit=branch, username="bithu")
    absent = make_user(unit=branch, username="vangmat")
    client.login("bithu")
    # Before the round: reviews do not count for it.
    assert post_every_answer(client, times=1) == 5
    frozen_clock.advance(days=1)
    round_ = make_round(organizer, frozen_clock, draw_plan="letter: 9")
    # In the round: every answer posted three times, then more of the day's questions.
    assert post_every_answer(client, times=3) >= 1
    app.config.update(REVIEW_DAILY_COUNT=15, REVIEW_NEW_PER_DAY=15)
    post_every_answer(client, times=2)
    assert review_days(round_, branch) == 1
    # Another member's card (a guest has none): refused, nothing counted.
    learning.start_today(absent)
    db.session.commit()
    card = db.session.execute(select(ReviewCard).where(ReviewCard.user_id == absent.id)).scalars().first()
    page = client.get("/review").get_data(as_text=True)
    token = re.search(r'csrf_token[^>]*value="([^"]*)"', page).group(1)
    response = client.post(f"/review/cards/{card.id}", data={"csrf_token": token, "ticket": "x", "choice": "1"})
    assert response.status_code == 404
    assert review_days(round_, branch) == 1
    # After the close: nothing more.
    frozen_clock.set(round_.closes_at + timedelta(hours=20))
    post_every_answer(client, times=1)
    assert review_days(round_, branch) == 1
    assert counters.recompute(check=True) == []
    row = next(r for r in standings.round_standings(round_) if r.unit.id == branch.id)
    assert row.review_days == 1
