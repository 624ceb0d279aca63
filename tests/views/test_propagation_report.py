"""Issue 15: the propagation report (.docx) — the ward's for organizers, a branch's for
its secretary — from participation, results (only where visible), meetings and review."""
from __future__ import annotations

import io
import random
from datetime import timedelta
from types import SimpleNamespace

import pytest
from docx import Document

from quizapp.extensions import db
from quizapp.services import attempts, contests
from quizapp.services.branches import propagation
from quizapp.services.contests import RoundSettings
from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")


def docx_text(content: bytes) -> tuple[str, list[list[str]]]:
    document = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    tables = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    return text, tables


def _open_round(organizer, clock, questions: int):
    """A contest with one round open for two more hours, results shown on publishing."""
    contest = contests.create_contest(organizer, "Tìm hiểu Nghị quyết Đại hội", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=clock.now - timedelta(hours=1),
        closes_at=clock.now + timedelta(hours=2), time_limit_minutes=20, question_count=questions,
        results_visibility="on_publish"))
    contests.schedule(organizer, round_)
    db.session.commit()
    return contest, round_


@pytest.fixture
def ward_with_results(app, bank, frozen_clock, make_unit, make_user):
    organizer = make_user(role="organizer", username="btc")
    one, two = make_unit("cb-1", name="Chi bộ số 1"), make_unit("cb-2", name="Chi bộ số 2")
    make_user(role="secretary", unit=one, username="bithu1")
    takers = [make_user(unit=one, username=f"dva{n}") for n in range(3)] + [make_user(unit=two, username="dvb0")]
    contest, round_ = _open_round(organizer, frozen_clock, questions=4)
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


# ---------------------------------------------------------------- mastery by section

def _top_title(section) -> str:
    while section.parent is not None:
        section = section.parent
    return section.title


def _by_section(attempt_list) -> dict[str, tuple[int, int]]:
    """Top-level section title → (answered, right), counted from the attempts' own items
    (not from the maintained counters the report reads)."""
    out: dict[str, list[int]] = {}
    for attempt in attempt_list:
        for item in attempt.items:
            cell = out.setdefault(_top_title(item.question.section), [0, 0])
            cell[0] += 1
            cell[1] += int(bool(item.is_correct))
    return {k: (v[0], v[1]) for k, v in out.items()}


def _section_rows(rows: list[list[str]]) -> dict[str, str]:
    """Section title → its cell for "Vòng 1", read from part III's table (STT, part, round)."""
    start = next(n for n, r in enumerate(rows) if len(r) > 1 and r[1] == "Phần của đề cương")
    out = {}
    for row in rows[start + 1:]:
        if not row[0].isdigit():
            break
        out[row[1]] = row[2]
    return out


@pytest.fixture
def mixed_results(app, bank, frozen_clock, make_unit, make_user):
    """Two branches, a round of 8 questions: in each, one member all right and one with
    every other answer right; an exempt member (not counted) all wrong."""
    organizer = make_user(role="organizer", username="btc")
    one, two = make_unit("cb-1", name="Chi bộ số 1"), make_unit("cb-2", name="Chi bộ số 2")
    make_user(role="secretary", unit=one, username="bithu1")
    contest, round_ = _open_round(organizer, frozen_clock, questions=8)
    taken = {one.id: [], two.id: []}
    exempt = make_user(unit=one, username="mien")
    exempt.exempt = True
    for unit, name, every in [(one, "a", 1), (one, "b", 2), (two, "c", 1), (two, "d", 2), (one, "mien", 0)]:
        user = exempt if name == "mien" else make_user(unit=unit, username=f"dv-{name}")
        attempt = contests.start_round_attempt(user, round_, rng=random.Random(user.id))
        key = contests.answer_key([i.question_id for i in attempt.items], round_.id)
        answers = {}
        for n, item in enumerate(attempt.items):
            right = every and n % every == 0
            answers[item.question_id] = sorted(key[item.question_id]) if right else \
                [c for c in item.choice_ids if c not in key[item.question_id]][:1]
        attempts.submit(attempt, answers)
        if name != "mien":
            taken[unit.id].append(attempt)
    db.session.commit()
    frozen_clock.advance(hours=3)
    return {"round": round_, "one": one, "two": two, "organizer": organizer, "contest": contest,
            "taken": taken}


def test_the_report_gives_the_share_of_right_answers_per_part_of_the_outline(app, mixed_results):
    s = mixed_results
    secretary = _client(app, "bithu1")
    url = f"/branch/{s['one'].id}/propagation.docx?contest={s['contest'].id}"
    text, rows = docx_text(secretary.get(url).data)
    assert "III. MỨC ĐỘ NẮM NỘI DUNG THEO TỪNG PHẦN CỦA ĐỀ CƯƠNG" in text
    assert "Tỉ lệ trả lời đúng theo từng phần: chưa công bố" in text
    assert not any(len(r) > 1 and r[1] == "Phần của đề cương" for r in rows)

    contests.publish_results(s["organizer"], db.session.get(type(s["round"]), s["round"].id))
    db.session.commit()
    db.session.expire_all()
    taken = {unit: [db.session.get(type(a), a.id) for a in lst] for unit, lst in s["taken"].items()}

    # the branch's report: its own counted members only (not the exempt one, not branch 2)
    text, rows = docx_text(secretary.get(url).data)
    expected = _by_section(taken[s["one"].id])
    assert _section_rows(rows) == {
        title: f"{100 * right / answered:.1f}".replace(".", ",") + f" ({right}/{answered})"
        for title, (answered, right) in expected.items()}
    assert sum(a for a, _r in expected.values()) == 16 and sum(r for _a, r in expected.values()) == 12
    assert "Phần có tỉ lệ đúng thấp nhất:" in text

    # the ward's: both branches
    text, rows = docx_text(_client(app, "btc").get(f"/branches/propagation.docx?contest={s['contest'].id}").data)
    both = _by_section(taken[s["one"].id] + taken[s["two"].id])
    assert _section_rows(rows) == {
        title: f"{100 * right / answered:.1f}".replace(".", ",") + f" ({right}/{answered})"
        for title, (answered, right) in both.items()}
    assert len(both) > 1, "the round's questions came from several parts"


def test_the_header_reads_as_an_administrative_report_ready_to_number_and_sign(app, ward_with_results):
    """Left: the issuing committee, a star and the number line to fill in; right: the Party's
    name and the date line starting with the place."""
    s = ward_with_results
    ward_doc = Document(io.BytesIO(_client(app, "btc").get("/branches/propagation.docx").data))
    left, right = (cell.text for cell in ward_doc.tables[0].rows[0].cells)
    assert "ĐẢNG BỘ PHƯỜNG TÂY MỖ" in left and "-BC/ĐU" in left and left.index("*") < left.index("Số")
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in right and "Tây Mỗ, ngày" in right
    branch = _client(app, "bithu1").get(f"/branch/{s['one'].id}/propagation.docx?contest={s['contest'].id}")
    left = Document(io.BytesIO(branch.data)).tables[0].rows[0].cells[0].text
    assert "CHI BỘ SỐ 1" in left and "-BC/CB" in left


@pytest.mark.parametrize("name, place", [
    ("Đảng bộ phường Tây Mỗ", "Tây Mỗ"), ("Đảng bộ phường Tây Mỗ (dữ liệu mẫu)", "Tây Mỗ"),
    ("Đảng bộ xã Đông Anh", "Đông Anh"), ("Ban chỉ đạo", "")])
def test_the_place_comes_from_the_wards_name(name, place):
    assert propagation.place_of(SimpleNamespace(name=name)) == place
