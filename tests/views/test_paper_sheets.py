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
from quizapp.services import attempts, contests
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


# ---------------------------------------------------------------- time tie-breaks

def _enter_all_right(s, attempt):
    data = {"sheet": [str(attempt.id)]}
    data.update({f"a{attempt.id}_{n}": text for n, text in enumerate(_letters_for(attempt, right=True))})
    assert s["client"].form_post(paper_url(s) + "/enter", data, token_from=paper_url(s)).status_code == 302


def _online_all_right(member, round_, clock, minutes):
    attempt = contests.start_round_attempt(member, round_)
    key = contests.answer_key([i.question_id for i in attempt.items], round_.id)
    clock.advance(minutes=minutes)
    attempts.submit(attempt, {i.question_id: sorted(key[i.question_id]) for i in attempt.items})
    db.session.commit()
    return attempt


def _organizer(app):
    client = BrowserClient(app.test_client())
    client.login("btc")
    return client


def _time_cells(page: str) -> dict[str, str]:
    """Member name → the text of the ranking's time cell (the first cell after the score)."""
    cells = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S):
        tds = re.findall(r"<td>(.*?)</td>", row, re.S)
        for name in ("Nguyễn Thị Hường", "Trần Văn Đức", "Lê Quang Vũ"):
            if tds and name in tds[1]:
                cells[name] = tds[3].strip()
    return cells


def test_a_paper_sheet_counts_the_whole_time_limit_and_shows_no_time(setting, app):
    """A paper sheet all right, entered first, and an online attempt all right in 5
    minutes: the online one ranks first on time (the sheet counts as the round's whole 20
    minutes, not the minutes between printing and entry), and every page and file shows
    "—" for the sheet's time, with the rule stated."""
    s = setting
    hường, đức = s["members"][0], s["members"][1]
    print_sheets(s, [hường.id])
    sheet = paper_attempts(s["round"])[0]
    s["clock"].advance(minutes=2)        # printed, then entered 2 minutes later
    _enter_all_right(s, sheet)
    online = _online_all_right(đức, s["round"], s["clock"], minutes=5)
    db.session.expire_all()
    round_ = db.session.get(type(s["round"]), s["round"].id)
    assert db.session.get(Attempt, sheet.id).time_taken_seconds == 20 * 60
    rows = contests.ranking(round_)
    assert [(r.user.id, r.rank, r.tied, r.on_paper, r.time_taken_seconds, r.measured_seconds)
            for r in rows] == [(đức.id, 1, False, False, 300, 300),
                               (hường.id, 2, False, True, 1200, None)]
    assert online.id == rows[0].attempt_id

    organizer = _organizer(app)
    results = organizer.get(f"/organize/rounds/{round_.id}/results").get_data(as_text=True)
    assert _time_cells(results) == {"Trần Văn Đức": "5:00", "Nguyễn Thị Hường": "—"}
    assert "Bài làm trên phiếu giấy không đo được thời gian" in results
    ranking = organizer.get(f"/rounds/{round_.id}/ranking").get_data(as_text=True)
    assert _time_cells(ranking) == {"Trần Văn Đức": "5:00", "Nguyễn Thị Hường": "—"}
    with app.test_request_context():
        exported = exports.result_rows(round_)
        assert "Phiếu giấy không đo được thời gian" in exports.RANKING_RULE
    assert [(row[2], row[10], row[-1]) for row in exported] == [
        ("Trần Văn Đức", 300, "trực tuyến"), ("Nguyễn Thị Hường", "—", "phiếu giấy (bí thư nhập)")]
    branch_page = s["client"].get(f"/branch/{s['branch'].id}").get_data(as_text=True)
    assert "5:00" in branch_page and "20:00" not in branch_page

    # across the contest (closed rounds): the sheet's total time is not a measure either
    s["clock"].set(round_.closes_at + timedelta(minutes=1))
    contest = organizer.get(f"/organize/contests/{round_.contest.id}/ranking").get_data(as_text=True)
    totals = {name: re.findall(r"<td>(.*?)</td>", row, re.S)[-1] for row in
              re.findall(r"<tr>(.*?)</tr>", contest, re.S) for name in ("Trần Văn Đức", "Nguyễn Thị Hường")
              if name in row}
    assert totals == {"Trần Văn Đức": "5:00", "Nguyễn Thị Hường": "—"}


def test_a_paper_sheet_and_an_online_attempt_at_the_full_limit_go_by_finish_time(setting, app):
    """Equal score and equal time (the online attempt used the whole 20 minutes): the
    earlier finish ranks first, and for a sheet the finish is its entry — the same order
    whichever was printed or started first."""
    s = setting
    hường, đức, vũ = s["members"]
    print_sheets(s, [hường.id, vũ.id])
    early_sheet, late_sheet = paper_attempts(s["round"])
    _enter_all_right(s, early_sheet)                  # entered at T
    online = _online_all_right(đức, s["round"], s["clock"], minutes=20)   # finished T+20, the whole limit
    s["clock"].advance(minutes=1)
    _enter_all_right(s, late_sheet)                   # entered at T+21
    db.session.expire_all()
    rows = contests.ranking(db.session.get(type(s["round"]), s["round"].id))
    assert [(r.user.id, r.rank, r.time_taken_seconds) for r in rows] == [
        (hường.id, 1, 1200), (đức.id, 2, 1200), (vũ.id, 3, 1200)]
    assert rows[1].attempt_id == online.id and not any(r.tied for r in rows)


# ---------------------------------------------------------------- finalize with work left

def _waiting_round(s, app):
    """Two sheets printed and not entered, one member on 30 extra minutes who started 5
    minutes before the close; the clock 10 minutes after the close."""
    hường, đức, vũ = s["members"]
    print_sheets(s, [hường.id, vũ.id])
    round_ = db.session.get(type(s["round"]), s["round"].id)
    contests.extra_time.grant(s["organizer"], round_, đức, 30)
    s["clock"].set(round_.closes_at - timedelta(minutes=5))
    working = contests.start_round_attempt(đức, round_)
    db.session.commit()
    s["clock"].set(round_.closes_at + timedelta(minutes=10))
    return round_, working


def _flash_text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", m) for m in re.findall(
        r'<p class="flash flash-error"[^>]*>(.*?)</p>', page, re.S))


def test_finalize_is_refused_while_sheets_wait_and_extra_time_runs(setting, app):
    s = setting
    round_, working = _waiting_round(s, app)
    organizer = _organizer(app)
    detail = f"/organize/rounds/{round_.id}"
    page = organizer.get(detail).get_data(as_text=True)
    assert "Chi bộ Khu dân cư số 4: 2 phiếu giấy chưa nhập" in page
    assert "1 đảng viên vẫn đang làm bài trong thời gian cộng thêm" in page
    assert 'id="confirm-finalize-box"' in page and "Vẫn chốt vòng" in page

    response = organizer.form_post(detail + "/finalize", {}, token_from=detail, follow_redirects=True)
    assert response.status_code == 200
    message = _flash_text(response.get_data(as_text=True))
    assert "Chưa chốt vòng" in message
    assert "2 phiếu giấy đã in nhưng chưa nhập (Chi bộ Khu dân cư số 4: 2)" in message
    assert "1 đảng viên vẫn đang làm bài trong thời gian cộng thêm" in message
    db.session.expire_all()
    assert contests.round_state(db.session.get(type(round_), round_.id)) == "closed"
    assert [a.status for a in paper_attempts(round_)] == ["in_progress", "in_progress"]
    assert db.session.get(Attempt, working.id).status == "in_progress"
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "round.finalize")) is None

    # nothing was lost: the sheet can still be entered, and counts
    sheet = paper_attempts(round_)[0]
    _enter_all_right(s, sheet)
    db.session.expire_all()
    assert db.session.get(Attempt, sheet.id).score == 5


def test_finalize_anyway_finishes_what_is_left_and_logs_it(setting, app):
    s = setting
    round_, working = _waiting_round(s, app)
    organizer = _organizer(app)
    detail = f"/organize/rounds/{round_.id}"
    response = organizer.form_post(detail + "/finalize", {"confirm": "y"}, token_from=detail)
    assert response.status_code == 302
    db.session.expire_all()
    assert contests.round_state(db.session.get(type(round_), round_.id)) == "finalized"
    assert [(a.status, a.score) for a in paper_attempts(round_)] == [("finished", 0), ("finished", 0)]
    assert db.session.get(Attempt, working.id).status == "finished"
    log = db.session.execute(select(AuditLog).where(AuditLog.action == "round.finalize")).scalar_one()
    assert log.actor_id == s["organizer"].id
    assert '"unentered_sheets": 2' in log.detail and '"extra_time_cut": 1' in log.detail


def test_finalize_needs_no_box_when_nothing_waits(setting, app):
    s = setting
    print_sheets(s, [s["members"][0].id])
    _enter_all_right(s, paper_attempts(s["round"])[0])
    round_ = db.session.get(type(s["round"]), s["round"].id)
    s["clock"].set(round_.closes_at + timedelta(minutes=1))
    organizer = _organizer(app)
    detail = f"/organize/rounds/{round_.id}"
    assert 'id="confirm-finalize-box"' not in organizer.get(detail).get_data(as_text=True)
    assert organizer.form_post(detail + "/finalize", {}, token_from=detail).status_code == 302
    db.session.expire_all()
    assert contests.round_state(db.session.get(type(round_), round_.id)) == "finalized"


def test_sheets_whose_entry_window_is_over_do_not_hold_the_finalize(setting, app):
    s = setting
    print_sheets(s, [s["members"][0].id])
    round_ = db.session.get(type(s["round"]), s["round"].id)
    s["clock"].set(round_.closes_at + timedelta(hours=app.config["PAPER_ENTRY_HOURS"], minutes=1))
    assert not contests.finalize_blockers(round_)
    organizer = _organizer(app)
    detail = f"/organize/rounds/{round_.id}"
    assert organizer.form_post(detail + "/finalize", {}, token_from=detail).status_code == 302
    db.session.expire_all()
    assert [(a.status, a.score) for a in paper_attempts(round_)] == [("finished", 0)]
