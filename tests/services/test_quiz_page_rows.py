"""The quiz page's questions as rows (services.attempts.page): the same options, tokens
and saved answers as the ORM objects say, and wording cached per (question id,
content_hash) so that no change of a question's text is ever shown stale."""
from __future__ import annotations

import random

import pytest

from quizapp.extensions import db
from quizapp.models import Attempt
from quizapp.services import attempts
from quizapp.services.attempts import PracticeSpec, choice_tokens, page
from quizapp.services.bank import to_data
from quizapp.services.bank.store import save_question
from quizapp.services.errors import NotFound
from tests.conftest import right_ids


def _practice(make_user, count=6, feedback="exam"):
    member = make_user()
    attempt = attempts.start_practice(member, PracticeSpec(section_keys=[], count=count,
                                                           time_limit_minutes=None,
                                                           feedback=feedback),
                                      rng=random.Random(5))
    db.session.commit()
    return member, attempt


def test_rows_show_what_the_frozen_items_hold(bank, make_user):
    member, attempt = _practice(make_user)
    first = attempt.items[0]
    attempts.save_answer(attempt, first.question_id, [first.choice_ids[-1]])
    db.session.commit()
    page.clear_text_cache()
    items = page.own_attempt_page(member, attempt.id)[1]
    assert [i.question_id for i in items] == [i.question_id for i in attempt.items]
    for row, item in zip(items, attempt.items):
        assert row.prompt == item.question.prompt and row.kind == item.question.kind
        values = choice_tokens.tokens(attempt.id, item.question_id, item.choice_ids)
        assert [(v, t) for v, t, _checked in row.options] == \
            [(v, c.text) for v, c in zip(values, item.ordered_choices)]
        assert {v for v, _t, checked in row.options if checked} == \
            set(choice_tokens.tokens(attempt.id, item.question_id, sorted(item.selected_ids)))
        assert row.answered == bool(item.selected_ids) and row.feedback is None
    assert items[0].base == str(choice_tokens.token(attempt.id, first.question_id, first.choice_ids[-1]))
    assert all(row.base == "" for row in items[1:])


def test_the_cache_holds_wording_only(bank, make_user):
    member, attempt = _practice(make_user)
    page.clear_text_cache()
    page.own_attempt_page(member, attempt.id)[1]
    assert len(page._TEXTS) == len(attempt.items)
    for (qid, digest), (prompt, texts) in page._TEXTS.items():
        question = next(i.question for i in attempt.items if i.question_id == qid)
        assert digest == question.content_hash and prompt == question.prompt
        # choice id → text, nothing else: no is_correct, no fraction
        assert texts == {c.id: c.text for c in question.choices}
        assert all(isinstance(t, str) for t in texts.values())


def _page_then_edit(make_user, prompt: str):
    """A practice attempt's page read once (cache cleared first), then its first
    question's data to edit with a new prompt: (member, attempt, rows before, question,
    data)."""
    member, attempt = _practice(make_user)
    page.clear_text_cache()
    before = page.own_attempt_page(member, attempt.id)[1]
    question = attempt.items[0].question
    data = to_data(question)
    data.prompt = prompt
    return member, attempt, before, question, data


def test_a_changed_text_is_never_served_from_the_cache(bank, make_user):
    """An edit in place (what the bank does to a question no attempt has used) changes
    content_hash: the next page reads the new wording, not the cached one."""
    member, attempt, before, question, data = _page_then_edit(make_user, "Câu hỏi đã sửa lại?")
    data.choices[0].text = "Phương án đã sửa"
    save_question(data, question.section, question, used=False)
    db.session.commit()
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt.id)
    after = page.own_attempt_page(member, attempt.id)[1]
    assert before[0].prompt != "Câu hỏi đã sửa lại?"
    assert after[0].prompt == "Câu hỏi đã sửa lại?"
    # The edit replaced the choice rows; the page shows what the ORM objects would.
    assert [t for _v, t, _c in after[0].options] == [c.text for c in attempt.items[0].ordered_choices]
    assert [r.prompt for r in after[1:]] == [r.prompt for r in before[1:]]


def test_a_new_version_does_not_change_the_attempts_page(bank, make_user):
    """A used question gets a new version (a new id) when edited: the attempt keeps the
    wording it froze, cached or not."""
    member, attempt, before, question, data = _page_then_edit(make_user, "Phiên bản mới?")
    newer = save_question(data, question.section, question, used=True)
    db.session.commit()
    assert newer.id != question.id
    assert page.own_attempt_page(member, attempt.id)[1][0].prompt == before[0].prompt


def test_checked_answers_carry_their_feedback_item(bank, make_user):
    member, attempt = _practice(make_user, feedback="immediate")
    item = attempt.items[1]
    attempts.check_answer(attempt, item.question_id, right_ids(item))
    db.session.commit()
    rows = page.own_attempt_page(member, attempt.id)[1]
    assert [r.locked for r in rows] == [i.question_id == item.question_id for i in attempt.items]
    assert rows[1].feedback is not None and rows[1].feedback.question_id == item.question_id
    assert all(r.feedback is None for r in rows if not r.locked)


def test_another_members_attempt_is_not_found(bank, make_user):
    _member, attempt = _practice(make_user)
    other = make_user()
    with pytest.raises(NotFound):
        page.own_attempt_page(other, attempt.id)
    with pytest.raises(NotFound):
        page.own_attempt_page(other, attempt.id + 1000)
