"""Issue 10, case 5: one answer key. After a re-key correction the result and review
pages showed the old right answer (templates read Choice.is_correct) while grading used
the correction. Now grading, the result page's review, its "Right answer:" line and
the item analysis's correction form all read services.answer_key."""
from __future__ import annotations

import html
import random
import re
from datetime import timedelta

import pytest

from quizapp.extensions import db
from quizapp.models import Attempt
from quizapp.services import attempts as attempt_service
from quizapp.services import contest as contests
from quizapp.services.answer_key import answer_key

pytestmark = pytest.mark.usefixtures("isolated_requests")


def _sections(page: str) -> list[str]:
    return re.findall(r'<section class="card question">(.*?)</section>', page, re.S)


def _marked_right(section: str) -> set[str]:
    """The option texts the review marks right (class "right" and a ✔)."""
    out = set()
    for classes, body in re.findall(r'<li class="([^"]*)">(.*?)</li>', section, re.S):
        if "right" in classes.split():
            assert "✔" in body
            out.add(html.unescape(re.sub(r"<[^>]+>|▶|✔", "", body)).strip())
    return out


def _right_answer_line(section: str) -> set[str]:
    line = re.search(r"<p>[^<]*:\s*(.*?)</p>", section.split('class="feedback', 1)[1], re.S).group(1)
    return {html.unescape(t) for t in re.findall(r"<strong>(.*?)</strong>", line)}


@pytest.fixture
def closed_round(bank, make_user, frozen_clock):
    organizer = make_user(role="organizer", username="btc")
    member = make_user(username="dangvien")
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now + timedelta(minutes=1),
        closes_at=frozen_clock.now + timedelta(hours=1), time_limit_minutes=30, question_count=5))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.advance(minutes=2)
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(5))
    # Every answer is the bank's right one.
    attempt_service.submit(attempt, {i.question_id: sorted(
        c.id for c in i.question.choices if c.is_correct) for i in attempt.items})
    db.session.commit()
    frozen_clock.advance(hours=2)
    return organizer, round_, attempt


def test_after_a_rekey_result_and_review_show_the_key_grading_used(client, closed_round):
    organizer, round_, attempt = closed_round
    item = next(i for i in attempt.items if i.question.kind == "single")
    old = next(c for c in item.question.choices if c.is_correct)
    new = next(c for c in item.question.choices if not c.is_correct)
    contests.correct_question(organizer, round_, item.question_id, "rekey", "Đáp án in sai",
                              [new.id])
    db.session.commit()
    attempt_id, position, question_id = attempt.id, attempt.items.index(item), item.question_id
    old_text, new_text = old.text, new.text

    db.session.expire_all()
    regraded = db.session.get(Attempt, attempt_id)
    assert regraded.score == regraded.max_score - 1  # grading used the new key
    assert answer_key([question_id], round_.id)[question_id] == {new.id}

    client.login("dangvien")
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    section = _sections(page)[position]
    assert _marked_right(section) == {new_text}
    assert _right_answer_line(section) == {new_text}
    assert "✘" in section and old_text not in _marked_right(section)


def test_a_voided_question_is_shown_as_voided_not_with_the_old_key(app, client, closed_round):
    organizer, round_, attempt = closed_round
    item = attempt.items[0]
    contests.correct_question(organizer, round_, item.question_id, "void", "Câu hỏi sai")
    db.session.commit()
    attempt_id = attempt.id
    client.login("dangvien")
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    section = _sections(page)[0]
    assert _marked_right(section) == set()
    with app.test_request_context("/"):
        from flask_babel import force_locale, gettext
        with force_locale("vi"):
            voided = gettext("This question was voided: it counts for nobody.")
    assert html.escape(voided, quote=False) in section or voided in html.unescape(section)


def test_item_analysis_marks_the_corrected_key_as_current(client, closed_round):
    organizer, round_, attempt = closed_round
    item = next(i for i in attempt.items if i.question.kind == "single")
    new = next(c for c in item.question.choices if not c.is_correct)
    contests.correct_question(organizer, round_, item.question_id, "rekey", "Đáp án in sai",
                              [new.id])
    db.session.commit()
    prefix, new_text = f"q{item.question_id}", new.text
    client.login("btc")
    page = client.get(f"/organize/rounds/{round_.id}/items").get_data(as_text=True)
    form = re.search(rf'name="{prefix}-correct".*?</fieldset>', page, re.S).group(0)
    current = [html.unescape(re.sub(r"<[^>]+>", "", label)).strip() for label in re.findall(
        r'<label class="option">(.*?)</label>', form, re.S) if "<small" in label]
    assert len(current) == 1 and current[0].startswith(new_text)
