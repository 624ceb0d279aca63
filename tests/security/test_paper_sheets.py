"""Paper answer sheets (issue 15): a secretary enters only his branch's sheets, a sheet
counts once, its member neither answers it online nor finds its key, and the QR
reference cannot be forged or altered."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from pypdf import PdfReader
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Attempt, Choice, RoundResult, RoundUnitStats
from quizapp.services import attempts, contests
from quizapp.services.contests import RoundSettings
from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def two_branches(app, bank, frozen_clock, make_unit, make_user):
    organizer = make_user(role="organizer", username="btc")
    mine, other = make_unit("cb-a", name="Chi bộ A"), make_unit("cb-b", name="Chi bộ B")
    make_user(role="secretary", unit=mine, username="bithu-a")
    member_a = make_user(unit=mine, username="dv-a", full_name="Phạm Văn An")
    member_b = make_user(unit=other, username="dv-b", full_name="Đỗ Thị Bình")
    contest = contests.create_contest(organizer, "Tìm hiểu Nghị quyết", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now - timedelta(hours=1),
        closes_at=frozen_clock.now + timedelta(days=1), time_limit_minutes=20, question_count=4))
    contests.schedule(organizer, round_)
    sheet_a = contests.paper.draw_sheets(organizer, round_, [member_a]).sheets[0]
    sheet_b = contests.paper.draw_sheets(organizer, round_, [member_b]).sheets[0]
    db.session.commit()
    secretary = BrowserClient(app.test_client())
    secretary.login("bithu-a")
    return {"round": round_, "mine": mine, "other": other, "sheet_a": sheet_a, "sheet_b": sheet_b,
            "secretary": secretary, "member_a": member_a, "app": app}


def _url(s, unit):
    return f"/branch/{unit.id}/rounds/{s['round'].id}/paper"


def _enter(s, unit, sheet, letter="A"):
    data = {"sheet": [str(sheet.id)], **{f"a{sheet.id}_{n}": letter for n in range(4)}}
    return s["secretary"].form_post(_url(s, unit) + "/enter", data, token_from=_url(s, s["mine"]))


def test_a_secretary_cannot_enter_or_open_another_branchs_sheet(two_branches):
    s = two_branches
    assert _enter(s, s["mine"], s["sheet_a"]).status_code == 302          # his own: entered
    assert _enter(s, s["mine"], s["sheet_b"]).status_code == 404          # B's sheet via his page
    assert _enter(s, s["other"], s["sheet_b"]).status_code == 404         # B's page
    assert s["secretary"].get(_url(s, s["other"])).status_code == 404
    token_b = contests.paper.sheet_token(s["sheet_b"])
    assert s["secretary"].get(_url(s, s["mine"]), query_string={"ref": token_b}).status_code == 404
    printed = s["secretary"].form_post(_url(s, s["other"]) + "/sheets.pdf", {},
                                       token_from=_url(s, s["mine"]))
    assert printed.status_code == 404
    db.session.expire_all()
    assert db.session.get(Attempt, s["sheet_b"].id).status == "in_progress"


def test_entering_a_sheet_twice_counts_it_once(two_branches):
    s = two_branches
    assert _enter(s, s["mine"], s["sheet_a"], "A").status_code == 302
    db.session.expire_all()
    first_score = db.session.get(Attempt, s["sheet_a"].id).score
    assert _enter(s, s["mine"], s["sheet_a"], "B").status_code == 302      # a second save
    db.session.expire_all()
    assert db.session.get(Attempt, s["sheet_a"].id).score == first_score
    stats = db.session.execute(select(RoundUnitStats).where(
        RoundUnitStats.round_id == s["round"].id, RoundUnitStats.unit_id == s["mine"].id)).scalar_one()
    assert (stats.started, stats.finished, stats.participants) == (1, 1, 1)
    assert db.session.scalar(select(func.count()).select_from(RoundResult).where(
        RoundResult.user_id == s["member_a"].id)) == 1


def test_a_member_cannot_answer_or_read_his_sheet_online(two_branches):
    s = two_branches
    member = BrowserClient(s["app"].test_client())
    member.login("dv-a")
    sheet = s["sheet_a"]
    assert member.get(f"/attempts/{sheet.id}").status_code == 404
    assert member.get(f"/attempts/{sheet.id}/result").status_code == 404
    assert member.get(_url(s, s["mine"])).status_code == 403
    assert member.form_post(_url(s, s["mine"]) + "/sheets.pdf", {}, token_from="/home").status_code == 403
    started = member.form_post(f"/rounds/{s['round'].id}/start", {}, token_from="/home")
    assert started.status_code in (302, 409) and f"/attempts/{sheet.id}" not in started.headers.get("Location", "")
    item = db.session.get(Attempt, sheet.id).items[0]
    user = s["member_a"]
    assert attempts.autosave(user.id, user.session_version, sheet.id, item.question_id,
                             item.choice_ids[:1]) is None


def test_the_sheet_does_not_carry_the_key(two_branches):
    """The same sheet printed under two different keys is the same text: nothing on it
    depends on which choices are right."""
    s = two_branches
    url = _url(s, s["mine"]) + "/sheets.pdf"

    def text():
        response = s["secretary"].form_post(url, {}, token_from=_url(s, s["mine"]))
        assert response.status_code == 200
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)

    before = text()
    sheet = db.session.get(Attempt, s["sheet_a"].id)
    for item in sheet.items:
        for choice in db.session.execute(select(Choice).where(
                Choice.question_id == item.question_id)).scalars():
            choice.is_correct = not choice.is_correct
    db.session.commit()
    assert text() == before
    assert "Phạm Văn An" in before


def test_a_tampered_or_forged_qr_reference_is_refused(two_branches):
    s = two_branches
    token = contests.paper.sheet_token(s["sheet_a"])
    page = s["secretary"].get(_url(s, s["mine"]), query_string={"ref": token})
    assert page.status_code == 200 and f'id="sheet-{s["sheet_a"].id}"' in page.get_data(as_text=True)
    payload, signature = token.split(".", 1)
    tampered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    forged = URLSafeSerializer("not-the-secret-key", salt="paper-sheet").dumps({"a": s["sheet_a"].id})
    for bad in (tampered, forged, str(s["sheet_a"].id)):
        response = s["secretary"].get(_url(s, s["mine"]), query_string={"ref": bad})
        body = response.get_data(as_text=True)
        assert response.status_code == 400 and f'id="sheet-{s["sheet_a"].id}"' not in body
