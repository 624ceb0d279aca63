"""The organizers' question editor through its services (services.bank.editor): search that
ignores Vietnamese diacritics, filters, the create/edit rules, versioning of questions
attempts have used, status transitions and what is drawn, duplicates, the audit log,
coverage and the quality flags (static ones and those from closed-round statistics)."""
from __future__ import annotations

import json
import random
from collections import Counter
import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Attempt, AttemptQuestion, AuditLog, Question
from quizapp.services import attempts
from quizapp.services import contests
from quizapp.services.bank import editor
from quizapp.services.attempts import PracticeSpec
from quizapp.services.bank import ChoiceData, QuestionData
from quizapp.services.contests import RoundSettings
from quizapp.services.errors import DomainError, NotFound

STAT_FLAGS = {"too_easy", "too_hard", "negative_discrimination"}
# viewpoint-1 holds exactly five approved questions in the bundled bank, and vp1-basis,
# retired (its key was given away by vp1-motto).
VIEWPOINT_1_APPROVED = {"vp1-motto", "vp1-opening", "vp1-speed", "vp1-long-term", "vp1-apply-decide"}
VIEWPOINT_1 = VIEWPOINT_1_APPROVED | {"vp1-basis"}
VIEWPOINTS_SUBTREE = {"viewpoints", "viewpoint-1", "viewpoint-2", "viewpoint-3", "viewpoint-4",
                      "viewpoint-5"}


# ---------------------------------------------------------------- helpers

@pytest.fixture
def make_user(make_user):
    """People without passwords: the services never need one, and hashing is slow."""
    def make(**kw):
        kw.setdefault("password", None)
        return make_user(**kw)
    return make


def plain(text: str) -> str:
    """An independent spelling of the search rule: no diacritics, đ → d, lower case."""
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def question_data(**overrides) -> QuestionData:
    """A valid new single-choice draft in `viewpoints`, through the form's normaliser."""
    values = dict(key="qa-new", section="viewpoints", kind="single", difficulty=2, status="draft",
                  prompt="Đại hội đưa ra bao nhiêu quan điểm mới?",
                  explanation="Văn bản ghi: «Đại hội đưa ra 5 quan điểm». (L141)",
                  choices=[("5 quan điểm", True), ("4 quan điểm", False), ("6 quan điểm", False)],
                  covers=[])
    values.update(overrides)
    return editor.form_data(**values)


def data_of(question: Question, **overrides) -> QuestionData:
    data = QuestionData(
        key=question.key, section=question.section.key, kind=question.kind,
        difficulty=question.difficulty, status=question.status, prompt=question.prompt,
        explanation=question.explanation,
        choices=[ChoiceData(c.text, c.is_correct) for c in question.choices],
        covers=[c for c in question.covers.split(",") if c], origin="test")
    for name, value in overrides.items():
        setattr(data, name, value)
    return data


def current(key: str) -> Question:
    return db.session.execute(select(Question).where(
        Question.key == key, Question.is_current.is_(True))).scalar_one()


def versions(key: str) -> list[Question]:
    return list(db.session.execute(select(Question).where(Question.key == key)
                                   .order_by(Question.version)).scalars())


def question_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Question))


def audit_rows(target: str | None = None) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.id)
    if target is not None:
        query = query.where(AuditLog.target == target)
    return list(db.session.execute(query).scalars())


def found(text: str = "", **filters) -> list[str]:
    """Every key `editor.search` returns, over all its pages; checks the total."""
    keys: list[str] = []
    page = 1
    while True:
        rows, total = editor.search(text, page=page, **filters)
        keys.extend(q.key for q in rows)
        if not rows or len(keys) >= total:
            break
        page += 1
    assert len(keys) == total
    return keys


def expected_text_matches(text: str) -> set[str]:
    words = plain(text).split()
    out = set()
    for q in db.session.execute(select(Question).where(Question.is_current.is_(True))).scalars():
        haystack = plain(" ".join([q.prompt, *(c.text for c in q.choices), q.key]))
        if all(w in haystack for w in words):
            out.add(q.key)
    return out


def right_ids(question: Question) -> list[int]:
    return [c.id for c in question.choices if c.is_correct]


def wrong_ids(question: Question) -> list[int]:
    return [c.id for c in question.choices if not c.is_correct][:1]


# ---------------------------------------------------------------- search and filters

@pytest.mark.parametrize("query", ["quan diem", "QUAN DIEM", "Quan điểm", "quan  điểm", "QUAN ĐIỂM"])
def test_search_ignores_diacritics_and_case_quan_diem(bank, query):
    keys = set(found(query))
    assert {"vp-count", "vp1-motto", "vp5-system"} <= keys
    assert keys == expected_text_matches("quan điểm")


@pytest.mark.parametrize("query", ["dang bo", "Đảng bộ", "ĐẢNG BỘ", "dAnG bO"])
def test_search_ignores_diacritics_and_case_dang_bo(bank, query):
    keys = set(found(query))
    assert {"cong-date", "cong-members", "goal-2030"} <= keys
    assert keys == expected_text_matches("Đảng bộ")


def test_search_words_match_in_any_order_and_all_must_match(bank):
    assert set(found("diem quan")) == set(found("quan diem"))
    assert set(found("quan diem tay mo")) == expected_text_matches("quan điểm Tây Mỗ")
    assert set(found("quan diem tay mo")) < set(found("quan diem"))
    assert found("zzzz khong co") == []


def test_search_treats_like_wildcards_literally(bank):
    assert found("_") == []
    assert found("q%m") == []


def test_filter_by_section_takes_the_subtree(bank):
    keys = set(found(section="viewpoints"))
    sections = {current(k).section.key for k in keys}
    assert sections == VIEWPOINTS_SUBTREE
    expected = {q.key for q in bank.questions if q.section in VIEWPOINTS_SUBTREE}
    assert keys == expected
    assert set(found(section="viewpoint-1")) == VIEWPOINT_1


def test_filter_by_unknown_section_is_a_domain_error(bank):
    with pytest.raises(DomainError):
        editor.search(section="no-such-section")


@pytest.mark.parametrize("kind", ["single", "multiple", "truefalse"])
def test_filter_by_kind(bank, kind):
    keys = set(found(kind=kind))
    assert keys == {q.key for q in bank.questions if q.kind == kind}
    assert keys


def test_filter_by_status(bank, organizer):
    editor.set_status(organizer, current("vp-count"), "retired")
    editor.set_status(organizer, current("vp1-motto"), "draft")
    db.session.commit()
    retired = {q.key for q in bank.questions if q.status == "retired" and q.section in VIEWPOINTS_SUBTREE}
    assert set(found(status="retired", section="viewpoints")) == retired | {"vp-count"}
    assert found(status="draft") == ["vp1-motto"]
    approved = sum(q.status == "approved" for q in bank.questions)
    assert editor.search(status="approved")[1] == approved - 2


def test_filter_by_quality_flag(bank, organizer):
    editor.save(organizer, question_data(key="qa-no-explanation", explanation=""))
    db.session.commit()
    assert found(flag="no_explanation") == ["qa-no-explanation"]
    # A question carrying several flags is found by each of them.
    q = current("vp-count")
    q.flags = "few_choices,no_explanation,too_hard"
    db.session.commit()
    assert set(found(flag="no_explanation")) == {"qa-no-explanation", "vp-count"}
    assert found(flag="too_hard") == ["vp-count"]
    assert found(flag="few_choices") == ["vp-count"]
    # An unknown flag name filters nothing out.
    assert len(found(flag="bogus")) == len(bank.questions) + 1


def test_filters_combine(bank):
    keys = set(found("quan diem", section="viewpoint-1", kind="truefalse", status="approved"))
    assert keys == {q.key for q in bank.questions if q.section == "viewpoint-1"
                    and q.kind == "truefalse" and q.key in expected_text_matches("quan điểm")}
    assert keys


def test_search_lists_only_current_versions(bank, organizer, make_user):
    member = make_user()
    old = current("vp1-motto")
    attempts.start_practice(member, PracticeSpec([], 1, None, "exam"), question_ids=[old.id])
    editor.save(organizer, data_of(old, prompt=old.prompt + " (sửa)"), original_key="vp1-motto")
    db.session.commit()
    assert found("vp1-motto") == ["vp1-motto"]
    rows, _total = editor.search("vp1-motto")
    assert rows[0].version == 2


# ---------------------------------------------------------------- create

def test_create_saves_a_draft_and_logs_it(bank, organizer):
    before = question_count()
    question = editor.save(organizer, question_data())
    db.session.commit()
    assert question_count() == before + 1
    saved = current("qa-new")
    assert (saved.version, saved.status, saved.section.key, saved.kind) == (1, "draft", "viewpoints", "single")
    assert [(c.text, c.is_correct) for c in saved.choices] == [
        ("5 quan điểm", True), ("4 quan điểm", False), ("6 quan điểm", False)]
    assert saved.id == question.id
    [entry] = audit_rows("question:qa-new")
    assert (entry.actor_id, entry.action) == (organizer.id, "question.create")
    assert json.loads(entry.detail)["after"]["prompt"] == "Đại hội đưa ra bao nhiêu quan điểm mới?"
    # It is searchable right away, without diacritics.
    assert "qa-new" in found("bao nhieu quan diem moi")


def test_create_lowercases_and_trims_the_key(bank, organizer):
    editor.save(organizer, question_data(key="  QA-Upper-1 "))
    db.session.commit()
    assert current("qa-upper-1").version == 1


@pytest.mark.parametrize("key", ["", "có-dấu", "has space", "-leading-dash", "under_score", "dot.key", "a/b"])
def test_create_refuses_a_bad_key(bank, organizer, key):
    before, logged = question_count(), len(audit_rows())
    with pytest.raises(DomainError) as caught:
        editor.save(organizer, question_data(key=key))
    db.session.rollback()
    assert editor.validate(question_data(key=key))[0] in caught.value.message
    assert (question_count(), len(audit_rows())) == (before, logged)


def test_create_refuses_a_key_in_use(bank, organizer):
    before = question_count()
    with pytest.raises(DomainError) as caught:
        editor.save(organizer, question_data(key="vp-count"))
    db.session.rollback()
    assert "vp-count" in caught.value.message
    assert question_count() == before
    assert len(versions("vp-count")) == 1 and current("vp-count").prompt.startswith("Đại hội đại biểu")


def test_create_refuses_a_key_only_an_old_version_uses(bank, organizer, make_user):
    member = make_user()
    old = current("vp-count")
    attempts.start_practice(member, PracticeSpec([], 1, None, "exam"), question_ids=[old.id])
    editor.save(organizer, data_of(old, prompt="Câu hỏi đã sửa?"), original_key="vp-count")
    db.session.commit()
    with pytest.raises(DomainError):
        editor.save(organizer, question_data(key="vp-count"))
    db.session.rollback()


@pytest.mark.parametrize("kind, choices", [
    ("single", [("A", False), ("B", False), ("C", False)]),
    ("single", [("A", True), ("B", True), ("C", False)]),
    ("multiple", [("A", False), ("B", False), ("C", False)]),
], ids=["single-no-right", "single-two-right", "multiple-no-right"])
def test_create_refuses_a_wrong_number_of_right_answers(bank, organizer, kind, choices):
    before, logged = question_count(), len(audit_rows())
    with pytest.raises(DomainError):
        editor.save(organizer, question_data(kind=kind, choices=choices))
    db.session.rollback()
    assert (question_count(), len(audit_rows())) == (before, logged)


def test_create_accepts_multiple_with_two_right_answers(bank, organizer):
    editor.save(organizer, question_data(kind="multiple", choices=[("A", True), ("B", True), ("C", False)]))
    db.session.commit()
    assert sum(c.is_correct for c in current("qa-new").choices) == 2


@pytest.mark.parametrize("statement_is_true", [True, False])
def test_create_true_false_keeps_dung_then_sai(bank, organizer, statement_is_true):
    editor.save(organizer, question_data(kind="truefalse", choices=[("", statement_is_true)]))
    db.session.commit()
    assert [(c.text, c.is_correct) for c in current("qa-new").choices] == [
        ("Đúng", statement_is_true), ("Sai", not statement_is_true)]


@pytest.mark.parametrize("choices", [[("Chỉ một", True)], [("Trùng", True), ("Trùng", False)]],
                         ids=["one-choice", "same-text"])
def test_create_refuses_bad_choices(bank, organizer, choices):
    with pytest.raises(DomainError):
        editor.save(organizer, question_data(choices=choices))
    db.session.rollback()
    assert not versions("qa-new")


def test_create_refuses_approved_without_explanation(bank, organizer):
    with pytest.raises(DomainError) as caught:
        editor.save(organizer, question_data(status="approved", explanation="   "))
    db.session.rollback()
    assert caught.value.message
    assert not versions("qa-new")
    # The same question as a draft is fine, and flagged.
    editor.save(organizer, question_data(status="draft", explanation=""))
    db.session.commit()
    assert "no_explanation" in current("qa-new").flags.split(",")


def test_create_refuses_an_unknown_section(bank, organizer):
    with pytest.raises(DomainError):
        editor.save(organizer, question_data(section="no-such-section"))
    db.session.rollback()
    assert not versions("qa-new")


def test_create_lists_every_problem_at_once(bank, organizer):
    with pytest.raises(DomainError) as caught:
        editor.save(organizer, question_data(key="Bad Key", status="approved", explanation="",
                                             choices=[("A", False), ("B", False)]))
    db.session.rollback()
    problems = editor.validate(question_data(key="Bad Key", status="approved", explanation="",
                                             choices=[("A", False), ("B", False)]))
    assert len(problems) == 3
    for problem in problems:
        assert problem in caught.value.message


# ---------------------------------------------------------------- edit and versions

def test_edit_of_an_unused_question_is_in_place(bank, organizer):
    old = current("vp-count")
    old_id = old.id
    editor.save(organizer, data_of(old, prompt="Đại hội đưa ra mấy quan điểm?", difficulty=3),
                original_key="vp-count")
    db.session.commit()
    [only] = versions("vp-count")
    assert (only.id, only.version, only.is_current) == (old_id, 1, True)
    assert (only.prompt, only.difficulty) == ("Đại hội đưa ra mấy quan điểm?", 3)
    assert "vp-count" in found("may quan diem")
    [entry] = audit_rows("question:vp-count")
    assert (entry.actor_id, entry.action) == (organizer.id, "question.edit")
    detail = json.loads(entry.detail)
    assert detail["before"]["prompt"].startswith("Đại hội đại biểu")
    assert detail["after"]["prompt"] == "Đại hội đưa ra mấy quan điểm?"


def test_edit_of_a_used_question_adds_a_version(bank, organizer, make_user):
    member = make_user()
    old = current("vp-count")
    old_id, old_prompt = old.id, old.prompt
    attempt = attempts.start_practice(member, PracticeSpec([], 1, None, "exam"), question_ids=[old_id])
    db.session.commit()
    saved = editor.save(organizer, data_of(old, prompt="Nhiệm kỳ 2025 – 2030 có mấy quan điểm?"),
                        original_key="vp-count")
    db.session.commit()
    first, second = versions("vp-count")
    assert (first.id, first.version, first.is_current, first.prompt) == (old_id, 1, False, old_prompt)
    assert (second.id, second.version, second.is_current) == (saved.id, 2, True)
    assert second.prompt == "Nhiệm kỳ 2025 – 2030 có mấy quan điểm?"
    assert {c.id for c in first.choices}.isdisjoint({c.id for c in second.choices})
    assert [item.question_id for item in attempt.items] == [old_id]
    [entry] = audit_rows("question:vp-count")
    assert entry.action == "question.new_version"
    assert json.loads(entry.detail)["version"] == 2
    # A second edit of version 2 (not yet used) stays version 2.
    editor.save(organizer, data_of(second, difficulty=3), original_key="vp-count")
    db.session.commit()
    assert [v.version for v in versions("vp-count")] == [1, 2]


def test_an_old_attempt_grades_with_the_old_key_and_new_ones_draw_the_new_version(bank, organizer, make_user):
    member = make_user()
    old = current("vp-count")
    old_id, old_right = old.id, right_ids(old)
    attempt = attempts.start_practice(member, PracticeSpec([], 1, None, "exam"), question_ids=[old_id])
    attempts.save_answer(attempt, old_id, old_right)
    db.session.commit()
    # The organizer moves the right answer: "3 quan điểm" becomes the key.
    choices = [ChoiceData(c.text, c.text == "3 quan điểm") for c in old.choices]
    editor.save(organizer, data_of(old, choices=choices, prompt="Sửa: bao nhiêu quan điểm?"),
                original_key="vp-count")
    db.session.commit()
    attempts.submit(attempt)
    db.session.commit()
    assert (attempt.score, attempt.max_score) == (1, 1)
    assert attempt.items[0].question.prompt == old.prompt
    new = current("vp-count")
    assert [c.text for c in new.choices if c.is_correct] == ["3 quan điểm"]
    # New attempts draw only the current version.
    for seed in range(5):
        drawn = attempts.draw_questions(["viewpoints"], 50, random.Random(seed))
        ids = {q.id for q in drawn}
        assert new.id in ids and old_id not in ids
    fresh = attempts.start_practice(member, PracticeSpec(["viewpoints"], 50, None, "exam"))
    assert new.id in {i.question_id for i in fresh.items}
    assert old_id not in {i.question_id for i in fresh.items}
    # Answering the new version with the old key is wrong.
    attempts.submit(fresh, {new.id: [c.id for c in new.choices if c.text == "5 quan điểm"]})
    item = next(i for i in fresh.items if i.question_id == new.id)
    assert item.is_correct is False


def test_a_regrade_of_the_old_attempt_still_uses_the_old_key(bank, organizer, make_user):
    member = make_user()
    old = current("vp-count")
    attempt = attempts.start_practice(member, PracticeSpec([], 1, None, "exam"), question_ids=[old.id])
    attempts.submit(attempt, {old.id: right_ids(old)})
    db.session.commit()
    choices = [ChoiceData(c.text, not c.is_correct and c.text == "4 quan điểm") for c in old.choices]
    editor.save(organizer, data_of(old, choices=choices), original_key="vp-count")
    db.session.commit()
    attempts.regrade(attempt, {})
    assert attempt.score == 1


def test_the_key_cannot_change(bank, organizer):
    old = current("vp-count")
    with pytest.raises(DomainError):
        editor.save(organizer, data_of(old, key="vp-count-renamed", prompt="Khác?"), original_key="vp-count")
    db.session.rollback()
    assert not versions("vp-count-renamed")
    assert current("vp-count").prompt == old.prompt


def test_edit_of_an_unknown_question_is_not_found(bank, organizer):
    with pytest.raises(NotFound):
        editor.save(organizer, question_data(key="nope"), original_key="nope")


def test_edit_checks_the_status_transition(bank, organizer):
    editor.set_status(organizer, current("vp-count"), "retired")
    db.session.commit()
    with pytest.raises(DomainError):
        editor.save(organizer, data_of(current("vp-count"), status="approved"), original_key="vp-count")
    db.session.rollback()
    assert current("vp-count").status == "retired"


def test_edit_to_approved_without_explanation_is_refused(bank, organizer):
    old = current("vp-count")
    with pytest.raises(DomainError):
        editor.save(organizer, data_of(old, explanation=""), original_key="vp-count")
    db.session.rollback()
    assert current("vp-count").explanation == old.explanation


def test_history_lists_versions_newest_first_and_the_log(bank, organizer, make_user):
    member = make_user()
    old = current("vp1-motto")
    attempts.start_practice(member, PracticeSpec([], 1, None, "exam"), question_ids=[old.id])
    editor.save(organizer, data_of(old, prompt="Phương châm nào (sửa)?"), original_key="vp1-motto")
    editor.set_status(organizer, current("vp1-motto"), "retired")
    db.session.commit()
    found_versions, log = editor.history("vp1-motto")
    assert [(v.version, v.is_current) for v in found_versions] == [(2, True), (1, False)]
    assert [e.action for e in log] == ["question.status", "question.new_version"]
    assert all(e.actor_id == organizer.id for e in log)


# ---------------------------------------------------------------- statuses and drawing

def test_status_cycle_draft_approved_retired_draft(bank, organizer):
    editor.save(organizer, question_data())
    db.session.commit()
    for new in ["approved", "retired", "draft", "retired", "draft", "approved", "draft"]:
        editor.set_status(organizer, current("qa-new"), new)
        db.session.commit()
        assert current("qa-new").status == new
    entries = [json.loads(e.detail) for e in audit_rows("question:qa-new") if e.action == "question.status"]
    assert [(e["from"], e["to"]) for e in entries] == [
        ("draft", "approved"), ("approved", "retired"), ("retired", "draft"), ("draft", "retired"),
        ("retired", "draft"), ("draft", "approved"), ("approved", "draft")]
    assert all(e.actor_id == organizer.id for e in audit_rows("question:qa-new"))


@pytest.mark.parametrize("start, target", [
    ("retired", "approved"), ("approved", "approved"), ("draft", "draft"),
    ("retired", "retired"), ("approved", "published")])
def test_illegal_status_changes_are_refused(bank, organizer, start, target):
    question = current("vp-count")
    question.status = start
    db.session.commit()
    logged = len(audit_rows())
    with pytest.raises(DomainError):
        editor.set_status(organizer, question, target)
    db.session.rollback()
    assert current("vp-count").status == start
    assert len(audit_rows()) == logged


def test_approving_a_draft_without_explanation_is_refused(bank, organizer):
    editor.save(organizer, question_data(explanation=""))
    db.session.commit()
    with pytest.raises(DomainError):
        editor.set_status(organizer, current("qa-new"), "approved")
    db.session.rollback()
    assert current("qa-new").status == "draft"


def test_only_approved_questions_are_drawn(bank, organizer, make_user):
    member = make_user()
    editor.set_status(organizer, current("vp1-motto"), "retired")
    editor.set_status(organizer, current("vp1-basis"), "draft")
    editor.save(organizer, question_data(key="qa-draft", section="viewpoint-1"))
    db.session.commit()
    for seed in range(10):
        drawn = {q.key for q in attempts.draw_questions(["viewpoint-1"], 50, random.Random(seed))}
        assert drawn == VIEWPOINT_1 - {"vp1-motto", "vp1-basis"}
    practice = attempts.start_practice(member, PracticeSpec([], 50, None, "exam"))
    keys = {i.question.key for i in practice.items}
    assert keys.isdisjoint({"vp1-motto", "vp1-basis", "qa-draft"})
    # Back to approved: drawn again.
    editor.set_status(organizer, current("vp1-motto"), "draft")
    editor.set_status(organizer, current("vp1-motto"), "approved")
    db.session.commit()
    drawn = {q.key for q in attempts.draw_questions(["viewpoint-1"], 50, random.Random(1))}
    assert "vp1-motto" in drawn


def test_a_retired_question_is_never_in_a_new_practice(bank, organizer, make_user):
    member = make_user()
    editor.set_status(organizer, current("vp-count"), "retired")
    db.session.commit()
    retired_id = current("vp-count").id
    for seed in range(8):
        attempt = attempts.start_practice(member, PracticeSpec(["viewpoints"], 50, None, "exam"),
                                          rng=random.Random(seed))
        assert retired_id not in {i.question_id for i in attempt.items}
        assert len(attempt.items) == sum(
            q.section in VIEWPOINTS_SUBTREE and q.status == "approved" for q in bank.questions) - 1


# ---------------------------------------------------------------- duplicate

def test_duplicate_makes_a_draft_copy_with_a_new_key(bank, organizer):
    original = current("vp-count")
    copy = editor.duplicate(organizer, original)
    db.session.commit()
    assert (copy.key, copy.version, copy.status, copy.is_current) == ("vp-count-copy", 1, "draft", True)
    assert copy.id != original.id
    assert (copy.prompt, copy.section_id, copy.kind, copy.difficulty, copy.explanation) == (
        original.prompt, original.section_id, original.kind, original.difficulty, original.explanation)
    assert [(c.text, c.is_correct) for c in copy.choices] == [(c.text, c.is_correct) for c in original.choices]
    assert {c.id for c in copy.choices}.isdisjoint({c.id for c in original.choices})
    assert current("vp-count").status == "approved"
    [entry] = audit_rows("question:vp-count-copy")
    assert (entry.actor_id, entry.action) == (organizer.id, "question.duplicate")
    assert json.loads(entry.detail) == {"from": "vp-count"}
    # Further copies, also of the copy, get fresh keys.
    second = editor.duplicate(organizer, current("vp-count"))
    third = editor.duplicate(organizer, current("vp-count-copy"))
    db.session.commit()
    assert (second.key, third.key) == ("vp-count-copy-2", "vp-count-copy-3")


def test_duplicate_of_a_long_key_keeps_the_key_within_80_characters(bank, organizer):
    long_key = "q-" + "a" * 78
    editor.save(organizer, question_data(key=long_key))
    db.session.commit()
    copy = editor.duplicate(organizer, current(long_key))
    db.session.commit()
    assert len(copy.key) <= 80 and copy.key != long_key


# ---------------------------------------------------------------- coverage

def test_coverage_counts_approved_current_questions_per_section(bank, organizer):
    rows = {r.section.key: r for r in editor.coverage()}
    assert list(rows) == [s.key for s in bank.sections]
    for section in bank.sections:
        own = [q for q in bank.questions if q.section == section.key and q.status == "approved"]
        row = rows[section.key]
        assert row.total == len(own)
        for kind in ("single", "multiple", "truefalse"):
            assert row.by_kind.get(kind, 0) == sum(q.kind == kind for q in own)
        for level in (1, 2, 3):
            assert row.by_difficulty.get(level, 0) == sum(q.difficulty == level for q in own)
        assert row.by_purpose == dict(Counter(q.purpose for q in own))
    # Own questions only: the viewpoints row does not add its children.
    assert rows["viewpoints"].total == 8
    mix = editor.purpose_mix(list(rows.values()))
    assert mix == {p: sum(q.purpose == p for q in bank.questions if q.status == "approved")
                   for p in (*editor.PURPOSES, "")}


def test_coverage_leaves_out_drafts_retired_and_old_versions(bank, organizer, make_user):
    before = {r.section.key: r.total for r in editor.coverage()}
    member = make_user()
    old = current("vp1-motto")
    attempts.start_practice(member, PracticeSpec([], 1, None, "exam"), question_ids=[old.id])
    editor.save(organizer, data_of(old, prompt="Phương châm (sửa)?"), original_key="vp1-motto")
    editor.set_status(organizer, current("vp1-speed"), "retired")
    editor.set_status(organizer, current("vp1-opening"), "draft")
    editor.save(organizer, question_data(key="qa-draft", section="viewpoint-1"))
    db.session.commit()
    after = {r.section.key: r for r in editor.coverage()}
    assert after["viewpoint-1"].total == before["viewpoint-1"] - 2 == 3
    assert sum(after["viewpoint-1"].by_kind.values()) == 3


# ---------------------------------------------------------------- quality flags

def test_refresh_flags_marks_no_explanation_and_duplicate_prompts(bank, organizer):
    baseline = editor.refresh_flags()   # the bundled bank's own flags, if any
    editor.save(organizer, question_data(key="qa-bare", explanation=""))
    editor.duplicate(organizer, current("vp-count"))
    db.session.commit()
    flagged = editor.refresh_flags()
    db.session.commit()
    assert flagged == baseline + 3
    assert current("qa-bare").flags.split(",") == ["no_explanation"]
    assert current("vp-count").flags.split(",") == ["duplicate_prompt"]
    assert current("vp-count-copy").flags.split(",") == ["duplicate_prompt"]
    assert current("vp-count-copy").flags and not current("vp1-motto").flags
    # Diacritics and case do not hide a duplicate.
    editor.save(organizer, question_data(key="qa-shouting", prompt=current("vp1-motto").prompt.upper()))
    db.session.commit()
    editor.refresh_flags()
    assert "duplicate_prompt" in current("vp1-motto").flags.split(",")
    # Fixing the question clears its flag.
    editor.save(organizer, data_of(current("qa-bare"), explanation="Trích L141."), original_key="qa-bare")
    editor.refresh_flags()
    assert current("qa-bare").flags == ""


def test_refresh_flags_marks_few_choices(bank, organizer):
    editor.save(organizer, question_data(key="qa-two", choices=[("Có", True), ("Không", False)]))
    db.session.commit()
    editor.refresh_flags()
    assert current("qa-two").flags.split(",") == ["few_choices"]


# Roles of viewpoint-1's five questions in the scripted round below.
EASY, HARD, NEGATIVE, GOOD_1, GOOD_2 = ("vp1-motto", "vp1-apply-decide", "vp1-opening", "vp1-speed",
                                        "vp1-long-term")


def _closed_round(organizer, make_user, ward, clock, members: int, *, close: bool = True):
    """A round drawing viewpoint-1's five questions, taken by `members` members: the first
    half answer EASY, GOOD_1, GOOD_2 right (3 points), the others EASY and NEGATIVE (2);
    nobody gets HARD right. Then the clock passes the close."""
    contest = contests.create_contest(organizer, "Cuộc thi", "Thể lệ", [ward])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=clock.now + timedelta(hours=1), closes_at=clock.now + timedelta(hours=3),
        time_limit_minutes=20, question_count=5, draw_plan="viewpoint-1: 5"))
    contests.schedule(organizer, round_)
    db.session.commit()
    clock.set(round_.opens_at)
    for n in range(members):
        member = make_user()
        attempt = contests.start_round_attempt(member, round_, rng=random.Random(n))
        right = {EASY, GOOD_1, GOOD_2} if n < (members + 1) // 2 else {EASY, NEGATIVE}
        answers = {item.question_id: right_ids(item.question) if item.question.key in right
                   else wrong_ids(item.question) for item in attempt.items}
        clock.advance(seconds=30)
        attempts.submit(attempt, answers)
        db.session.commit()
    if close:
        clock.set(round_.closes_at + timedelta(minutes=1))
    return round_


def _stat_flags(key: str) -> set[str]:
    return set(current(key).flags.split(",")) & STAT_FLAGS


def test_refresh_flags_reads_closed_round_statistics(bank, organizer, make_user, ward, frozen_clock):
    round_ = _closed_round(organizer, make_user, ward, frozen_clock, 12)
    assert contests.round_state(round_) == "closed"
    finished = db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.round_id == round_.id, Attempt.status == "finished"))
    assert finished == 12
    flagged = editor.refresh_flags()
    db.session.commit()
    assert flagged == 3 + sum(1 for q in db.session.execute(select(Question).where(
        Question.is_current.is_(True), Question.key.not_in(VIEWPOINT_1))).scalars() if q.flags)
    assert _stat_flags(EASY) == {"too_easy"}
    assert _stat_flags(HARD) == {"too_hard"}
    assert _stat_flags(NEGATIVE) == {"negative_discrimination"}
    assert _stat_flags(GOOD_1) == _stat_flags(GOOD_2) == set()
    assert found(flag="too_easy") == [EASY]
    assert found(flag="negative_discrimination") == [NEGATIVE]
    # An in-place edit (here: of a question no attempt used) keeps the statistics' flags.
    editor.save(organizer, question_data(key="qa-unused"))
    current("qa-unused").flags = "too_hard"
    editor.save(organizer, data_of(current("qa-unused"), difficulty=3), original_key="qa-unused")
    assert current("qa-unused").flags == "too_hard"


def test_a_new_version_does_not_inherit_the_old_versions_statistics(bank, organizer, make_user, ward,
                                                                    frozen_clock):
    _closed_round(organizer, make_user, ward, frozen_clock, 12)
    editor.refresh_flags()
    assert _stat_flags(HARD) == {"too_hard"}
    old = current(HARD)
    editor.save(organizer, data_of(old, prompt=old.prompt + " (đã sửa cho rõ)"), original_key=HARD)
    db.session.commit()
    assert current(HARD).version == 2
    editor.refresh_flags()
    assert _stat_flags(HARD) == set()


def test_refresh_flags_ignores_rounds_still_open(bank, organizer, make_user, ward, frozen_clock):
    round_ = _closed_round(organizer, make_user, ward, frozen_clock, 12, close=False)
    assert contests.round_state(round_) == "open"
    editor.refresh_flags()
    assert all(not _stat_flags(key) for key in VIEWPOINT_1)


def test_refresh_flags_needs_ten_answers(bank, organizer, make_user, ward, frozen_clock):
    _closed_round(organizer, make_user, ward, frozen_clock, 9)
    editor.refresh_flags()
    assert all(not _stat_flags(key) for key in VIEWPOINT_1)


def test_refresh_flags_ignores_practice_attempts(bank, organizer, make_user):
    member = make_user()
    easy = current(EASY)
    for _ in range(12):
        attempt = attempts.start_practice(member, PracticeSpec([], 1, None, "exam"), question_ids=[easy.id])
        attempts.submit(attempt, {easy.id: right_ids(easy)})
    db.session.commit()
    editor.refresh_flags()
    assert not _stat_flags(EASY)
    assert db.session.scalar(select(func.count()).select_from(AttemptQuestion)) == 12


# ---------------------------------------------------------------- lint and purpose

def test_an_approved_question_that_points_at_an_option_by_position_is_refused(bank, organizer):
    data = question_data(key="qa-lint", status="approved",
                         explanation="Phương án cuối là đáp án đúng. (L143)")
    with pytest.raises(DomainError) as caught:
        editor.save(organizer, data)
    assert "Phương án cuối" in caught.value.message
    db.session.rollback()
    assert not db.session.execute(select(Question).where(Question.key == "qa-lint")).first()


def test_a_draft_with_a_lint_finding_is_saved_and_warned_about(bank, organizer):
    data = question_data(key="qa-lint-draft", status="draft",
                         explanation="Phương án cuối là đáp án đúng. (L143)")
    editor.save(organizer, data)
    db.session.commit()
    errors, warnings = editor.lint(data)
    assert errors == [] and any("Phương án cuối" in w for w in warnings)
    with pytest.raises(DomainError):
        editor.set_status(organizer, current("qa-lint-draft"), "approved")


def test_the_editor_saves_purpose_and_exclusions_in_place(bank, organizer):
    question = current("vp1-speed")
    editor.save(organizer, data_of(question, purpose="application", excludes=["vp1-motto"]),
                original_key="vp1-speed")
    db.session.commit()
    again = current("vp1-speed")
    assert (again.version, again.purpose, again.excludes) == (question.version, "application", "vp1-motto")
    with pytest.raises(DomainError):
        editor.save(organizer, data_of(again, purpose="trivia"), original_key="vp1-speed")
