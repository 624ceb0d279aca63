"""Issue 15: the organizer decides whether paper answer sheets (entered by a secretary)
count for prizes; they count for participation and the standings either way."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Round, RoundUnitStats
from quizapp.services import attempts, contests
from quizapp.services.contests import RoundSettings
from tests.conftest import BrowserClient
from tests.views.test_contest_reserve import round_form
from tests.views.test_paper_sheets import _letters_for, paper_attempts

pytestmark = pytest.mark.usefixtures("isolated_requests")


# participants, finished, score sum, maximum sum, full scores of the branch in both rounds
STANDING_FIGURES = (2, 2, 6, 10, 1)


def play(app, frozen_clock, make_unit, make_user, paper_prizes: bool):
    """A round with one prize place: a paper sheet all right, an online attempt with one
    question right; the round is then closed and its prizes confirmed."""
    organizer = make_user(role="organizer", username="btc")
    branch = make_unit("cb-giay", name="Chi bộ Khu dân cư số 4")
    make_user(role="secretary", unit=branch, username="bithu")
    on_paper = make_user(unit=branch, username="giay", full_name="Nguyễn Thị Hường")
    online = make_user(unit=branch, username="mang", full_name="Trần Văn Đức")
    contest = contests.create_contest(organizer, "Tìm hiểu Nghị quyết", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 2", opens_at=frozen_clock.now - timedelta(hours=1),
        closes_at=frozen_clock.now + timedelta(days=2), time_limit_minutes=20, question_count=5,
        prize_first=1, prize_second=0, prize_third=0, prize_consolation=0,
        paper_prizes=paper_prizes))
    contests.schedule(organizer, round_)
    db.session.commit()
    client = BrowserClient(app.test_client())
    client.login("bithu")
    url = f"/branch/{branch.id}/rounds/{round_.id}/paper"
    client.form_post(url + "/sheets.pdf", {"member": [str(on_paper.id)]}, token_from=url)
    sheet = paper_attempts(round_)[0]
    data = {"sheet": [str(sheet.id)]}
    data.update({f"a{sheet.id}_{n}": text for n, text in enumerate(_letters_for(sheet, right=True))})
    assert client.form_post(url + "/enter", data, token_from=url).status_code == 302
    attempt = contests.start_round_attempt(online, round_)
    key = contests.answer_key([i.question_id for i in attempt.items], round_.id)
    first = attempt.items[0].question_id
    attempts.save_answers(attempt, {first: sorted(key[first])})
    attempts.finish(attempt)
    db.session.commit()
    frozen_clock.set(round_.closes_at + timedelta(hours=49))
    round_ = db.session.get(Round, round_.id)
    prizes = contests.confirm_prizes(organizer, round_)
    db.session.commit()
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.round_id == round_.id, RoundUnitStats.unit_id == branch.id)).scalar_one()
    figures = (stats.participants, stats.finished, stats.score_sum, stats.max_sum, stats.full_scores)
    return {"round": round_, "figures": figures, "client": client, "paper": on_paper, "online": online, "prizes": prizes,
            "ranking": contests.ranking(round_), "stats": stats}


def test_by_default_a_paper_sheet_wins_like_an_online_attempt(app, bank, frozen_clock, make_unit, make_user):
    s = play(app, frozen_clock, make_unit, make_user, paper_prizes=True)
    assert [(p.tier, p.user_id) for p in s["prizes"]] == [("first", s["paper"].id)]
    assert [(r.user.id, r.rank, r.on_paper) for r in s["ranking"]] == [
        (s["paper"].id, 1, True), (s["online"].id, 2, False)]
    assert s["figures"] == STANDING_FIGURES


def test_when_off_the_prize_goes_to_the_best_online_attempt_and_nothing_else_moves(
        app, bank, frozen_clock, make_unit, make_user):
    s = play(app, frozen_clock, make_unit, make_user, paper_prizes=False)
    assert [(p.tier, p.user_id, p.rank) for p in s["prizes"]] == [("first", s["online"].id, 2)]
    # participation, counters and the ranking are those of the default round
    assert [(r.user.id, r.rank, r.score, r.on_paper) for r in s["ranking"]] == [
        (s["paper"].id, 1, 5, True), (s["online"].id, 2, 1, False)]
    assert s["figures"] == STANDING_FIGURES
    page = s["client"].get(f"/rounds/{s['round'].id}/ranking").get_data(as_text=True)
    assert "phiếu giấy (không xét giải)" in page


def test_the_round_form_sets_it_ticked_by_default(client, organizer, bank):
    org_client = client
    org_client.login("btc")
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    db.session.commit()
    path = f"/organize/contests/{contest.id}/rounds/new"
    page = org_client.get(path).get_data(as_text=True)
    assert "Bài thi trên giấy được xét giải" in page
    assert 'name="paper_prizes"' in page and re.search(r"<input checked[^>]*name=\"paper_prizes\"", page)
    values = round_form(question_pool="all", draw_plan="")
    assert org_client.form_post(path, values, token_from="/home").status_code == 302
    round_ = db.session.execute(select(Round)).scalar_one()
    assert round_.paper_prizes is False     # an unticked box is an unticked box
    values["paper_prizes"] = "y"
    values["title"] = "Vòng hai"
    assert org_client.form_post(path, values, token_from="/home").status_code == 302
    assert db.session.execute(select(Round).where(Round.title == "Vòng hai")).scalar_one().paper_prizes is True
