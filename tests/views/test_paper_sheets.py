"""Issue 15, members without a phone: printed answer sheets (A4 PDF, the member's own
drawn questions, a QR reference) and the secretary's entry grid, graded by the engine."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, AuditLog, RoundResult, RoundUnitStats
from quizapp.services import contests
from quizapp.services.branches import exports
from quizapp.services.contests import RoundSettings
from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")


def open_round(organizer, clock, count=5, attempts_allowed=1):
    contest = contests.create_contest(organizer, "Tìm hiểu Nghị quyết", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 2", opens_at=clock.now - timedelta(hours=1), closes_at=clock.now + timedelta(days=2),
        time_limit_minutes=20, question_count=count, attempts_allowed=attempts_allowed))
    contests.schedule(organizer, round_)
    db.session.commit()
    return round_


@pytest.fixture
def setting(app, bank, frozen_clock, make_unit, make_user):
    organizer = make_user(role="organizer", username="btc")
    branch = make_unit("cb-giay", name="Chi bộ Khu dân cư số 4")
    secretary = make_user(role="secretary", unit=branch, username="bithu")
    members = [make_user(unit=branch, username=f"dv{n}", full_name=name)
               for n, name in enumerate(["Nguyễn Thị Hường", "Trần Văn Đức", "Lê Quang Vũ"])]
    round_ = open_round(organizer, frozen_clock)
    client = BrowserClient(app.test_client())
    client.login("bithu")
    return {"round": round_, "branch": branch, "secretary": secretary, "members": members,
            "client": client, "organizer": organizer, "clock": frozen_clock}


def paper_url(s):
    return f"/branch/{s['branch'].id}/rounds/{s['round'].id}/paper"


def print_sheets(s, member_ids=()):
    return s["client"].form_post(paper_url(s) + "/sheets.pdf", {"member": [str(i) for i in member_ids]},
                                 token_from=paper_url(s))


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def paper_attempts(round_):
    return list(db.session.execute(select(Attempt).where(
        Attempt.round_id == round_.id, Attempt.on_paper.is_(True)).order_by(Attempt.id)).scalars())


def test_the_sheets_pdf_has_each_members_own_questions_and_no_key(setting):
    s = setting
    response = print_sheets(s)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    sheets = paper_attempts(s["round"])
    assert len(sheets) == 4           # the secretary is a member of his branch too
    for member in s["members"]:
        assert member.full_name in text          # Vietnamese glyphs came out as text
    assert "Chi bộ Khu dân cư số 4" in text and "Vòng 2" in text and "PHIẾU TRẢ LỜI" in text
    orders = set()
    for attempt in sheets:
        assert attempt.status == "in_progress" and attempt.kind == "contest" and len(attempt.items) == 5
        orders.add(tuple(i.question_id for i in attempt.items))
        for item in attempt.items:
            assert item.question.prompt.split()[0] in text
    assert len(orders) > 1, "each member is drawn and shuffled on his own"
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.round_id == s["round"].id, RoundUnitStats.unit_id == s["branch"].id)).scalar_one()
    assert stats.started == 4 and stats.finished == 0


def test_printing_again_gives_the_same_sheets_and_some_members_only(setting):
    s = setting
    first = print_sheets(s, [s["members"][0].id])
    assert first.status_code == 200
    assert [a.user_id for a in paper_attempts(s["round"])] == [s["members"][0].id]
    again = print_sheets(s, [s["members"][0].id])
    assert again.status_code == 200 and len(paper_attempts(s["round"])) == 1
    assert s["members"][1].full_name not in pdf_text(again.data)


def _letters_for(attempt, right: bool):
    key = contests.answer_key([i.question_id for i in attempt.items], attempt.round_id)
    out = []
    for item in attempt.items:
        ids = item.choice_ids
        chosen = [n for n, cid in enumerate(ids) if (cid in key[item.question_id]) == right]
        if not right:
            chosen = chosen[:1]
        out.append("".join("ABCDEFGHIJ"[n] for n in chosen).lower())
    return out


def test_the_secretary_enters_a_sheet_and_it_counts_like_an_online_attempt(setting):
    s = setting
    print_sheets(s)
    attempt = paper_attempts(s["round"])[0]
    letters = _letters_for(attempt, right=True)
    data = {"sheet": [str(attempt.id)]}
    data.update({f"a{attempt.id}_{n}": text for n, text in enumerate(letters)})
    response = s["client"].form_post(paper_url(s) + "/enter", data, token_from=paper_url(s))
    assert response.status_code == 302
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    assert attempt.status == "finished" and attempt.score == 5
    result = db.session.execute(select(RoundResult).where(RoundResult.attempt_id == attempt.id)).scalar_one()
    assert result.score == 5
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "paper.enter")).scalar_one()
    assert log.actor_id == s["secretary"].id and log.target == f"attempt:{attempt.id}"
    page = s["client"].get(paper_url(s)).get_data(as_text=True)
    assert "đã nhập" in page


def test_a_wrong_letter_saves_nothing_and_says_which_question(setting):
    s = setting
    print_sheets(s)
    first, second = paper_attempts(s["round"])[:2]
    data = {"sheet": [str(first.id), str(second.id)]}
    data.update({f"a{first.id}_{n}": "A" for n in range(5)})
    data.update({f"a{second.id}_{n}": "A" for n in range(5)})
    data[f"a{second.id}_3"] = "Z"
    response = s["client"].form_post(paper_url(s) + "/enter", data, token_from=paper_url(s))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Câu 4" in page and "Không có gì được lưu" in page
    assert 'value="Z"' in page            # what was typed is still there
    db.session.expire_all()
    assert all(a.status == "in_progress" for a in paper_attempts(s["round"]))


def test_the_qr_reference_opens_that_sheet_only(setting):
    s = setting
    print_sheets(s)
    sheets = paper_attempts(s["round"])
    token = contests.paper.sheet_token(sheets[1])
    page = s["client"].get(paper_url(s), query_string={"ref": token}).get_data(as_text=True)
    assert f'id="sheet-{sheets[1].id}"' in page and f'id="sheet-{sheets[0].id}"' not in page


def test_entry_stays_open_after_close_for_the_window_then_stops(setting, app):
    s = setting
    print_sheets(s)
    attempt = paper_attempts(s["round"])[0]
    round_ = db.session.get(type(s["round"]), s["round"].id)
    assert attempt.deadline == round_.closes_at + timedelta(hours=app.config["PAPER_ENTRY_HOURS"])
    data = {"sheet": [str(attempt.id)], **{f"a{attempt.id}_{n}": "B" for n in range(5)}}
    s["clock"].set(round_.closes_at + timedelta(hours=47))
    assert s["client"].form_post(paper_url(s) + "/enter", data, token_from=paper_url(s)).status_code == 302
    second = paper_attempts(s["round"])[1]
    late = {"sheet": [str(second.id)], **{f"a{second.id}_{n}": "B" for n in range(5)}}
    s["clock"].set(round_.closes_at + timedelta(hours=49))
    response = s["client"].form_post(paper_url(s) + "/enter", late, token_from=paper_url(s))
    assert response.status_code in (400, 409)
    db.session.expire_all()
    assert db.session.get(Attempt, second.id).score in (None, 0)


def test_the_results_export_marks_the_paper_sheet(setting, app):
    s = setting
    print_sheets(s, [s["members"][0].id])
    attempt = paper_attempts(s["round"])[0]
    data = {"sheet": [str(attempt.id)], **{f"a{attempt.id}_{n}": "A" for n in range(5)}}
    assert s["client"].form_post(paper_url(s) + "/enter", data, token_from=paper_url(s)).status_code == 302
    with app.test_request_context():
        rows = exports.result_rows(db.session.get(type(s["round"]), s["round"].id))
    assert [row[-1] for row in rows if row[-2] == attempt.id] == ["phiếu giấy (bí thư nhập)"]
