"""Issue 15: the propagation report (.docx) — the ward's for organizers, a branch's for
its secretary — from participation, results (only where visible), meetings and review."""
from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from docx import Document

from quizapp.extensions import db
from quizapp.services import attempts, contests
from quizapp.services.contests import RoundSettings
from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")


def docx_text(content: bytes) -> tuple[str, list[list[str]]]:
    document = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    tables = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    return text, tables


@pytest.fixture
def ward_with_results(app, bank, frozen_clock, make_unit, make_user):
    organizer = make_user(role="organizer", username="btc")
    one, two = make_unit("cb-1", name="Chi bộ số 1"), make_unit("cb-2", name="Chi bộ số 2")
    make_user(role="secretary", unit=one, username="bithu1")
    takers = [make_user(unit=one, username=f"dva{n}") for n in range(3)] + [make_user(unit=two, username="dvb0")]
    contest = contests.create_contest(organizer, "Tìm hiểu Nghị quyết Đại hội", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now - timedelta(hours=1),
        closes_at=frozen_clock.now + timedelta(hours=2), time_limit_minutes=20, question_count=4,
        results_visibility="on_publish"))
    contests.schedule(organizer, round_)
    db.session.commit()
    for user in takers:
        attempt = contests.start_round_attempt(user, round_, rng=random.Random(user.id))
        key = contests.answer_key([i.question_id for i in attempt.items], round_.id)
        attempts.submit(attempt, {i.question_id: sorted(key[i.question_id]) for i in attempt.items})
    db.session.commit()
    frozen_clock.advance(hours=3)
    return {"round": round_, "one": one, "two": two, "organizer": organizer, "contest": contest}


def _client(app, username):
    client = BrowserClient(app.test_client())
    client.login(username)
    return client


def test_the_ward_report_has_every_branch_and_hides_unpublished_scores(app, ward_with_results):
    s = ward_with_results
    secretary = _client(app, "bithu1")
    response = secretary.get(f"/branch/{s['one'].id}/propagation.docx?contest={s['contest'].id}")
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    text, rows = docx_text(response.data)
    assert "BÁO CÁO" in text and "Tìm hiểu Nghị quyết Đại hội" in text and "Vòng 1" in text
    branch_rows = [r for r in rows if "Chi bộ số 1" in r]
    assert branch_rows and "3 (75,0)" in branch_rows[0]        # 3 of 4 (the secretary too)
    assert "chưa công bố" in branch_rows[0] and "4,00" not in branch_rows[0]
    assert not [r for r in rows if "Chi bộ số 2" in r], "a secretary's report is his branch only"
    # Another branch's report is not his to download; the ward's is for organizers.
    assert secretary.get(f"/branch/{s['two'].id}/propagation.docx").status_code == 404
    assert secretary.get("/branches/propagation.docx").status_code == 403

    contests.publish_results(s["organizer"], db.session.get(type(s["round"]), s["round"].id))
    db.session.commit()
    organizer = _client(app, "btc")
    text, rows = docx_text(organizer.get("/branches/propagation.docx").data)
    one = [r for r in rows if "Chi bộ số 1" in r][0]
    two = [r for r in rows if "Chi bộ số 2" in r][0]
    assert "4,00" in one and "1 (100,0)" in two
    assert any("Cộng" in r and "4 (80,0)" in r for r in rows)
    assert "T/M BAN TỔ CHỨC" in "\n".join(c for r in rows for c in r)
