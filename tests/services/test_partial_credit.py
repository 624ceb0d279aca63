"""Issue 12, partial credit as Moodle means it: the bank keeps each choice's fraction,
grading gives the credit, the member's review says "partly correct: 50 %"."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Question
from quizapp.services import attempts, grading
from quizapp.services.attempts import PracticeSpec
from quizapp.services.attempts.finish import credit_for
from quizapp.services.bank import Bank, ChoiceData, QuestionData, current_data, editor, upsert_questions
from quizapp.services.bank import yamlpos
from quizapp.services.bank.schema import read_questions_data


def _jerusalem(key="jesus", section="viewpoints"):
    return QuestionData(
        key=key, section=section, kind="single", difficulty=1, status="approved",
        prompt="Where did Jesus grow up?", explanation="Nazareth (Luke 2:39).",
        choices=[ChoiceData("Jerusalem", False, 0.0), ChoiceData("Bethlehem", False, 0.25),
                 ChoiceData("Galilee", False, 0.5), ChoiceData("Nazareth", True, 1.0)],
        covers=[], origin="test")


def test_registry_is_the_one_list_of_kinds():
    assert list(grading.REGISTRY) == ["single", "multiple", "truefalse"]
    assert [k for k, spec in grading.REGISTRY.items() if spec.selects_many] == ["multiple"]
    assert grading.REGISTRY["truefalse"].fixed_choices == ("Đúng", "Sai")
    assert not grading.REGISTRY["truefalse"].partial_credit


@pytest.mark.parametrize("picked, credit", [({4}, 100), ({3}, 50), ({2}, 25), ({1}, 0),
                                            ({3, 4}, 0), (set(), 0)])
def test_single_answer_credit_is_the_picked_choice_fraction(picked, credit):
    fractions = {1: 0.0, 2: 0.25, 3: 0.5, 4: 1.0}
    assert grading.credit("single", {4}, picked, fractions) == credit


def test_classic_grading_is_unchanged():
    assert grading.credit("single", {2}, {2}) == 100
    assert grading.credit("single", {2}, {1}) == 0
    assert grading.credit("multiple", {1, 2}, {1, 2}) == 100
    assert grading.credit("multiple", {1, 2}, {1}) == 0
    assert grading.credit("multiple", {1, 2}, {1, 2, 3}) == 0


def test_a_third_each_sums_to_the_full_mark_exactly():
    fractions = {1: 0.3333333, 2: 0.3333333, 3: 0.3333333, 4: -1.0}
    assert grading.credit("multiple", {1, 2, 3}, {1, 2, 3}, fractions) == 100
    assert grading.credit("multiple", {1, 2, 3}, {1}, fractions) == 33
    assert grading.credit("multiple", {1, 2, 3}, {1, 2, 3, 4}, fractions) == 0


def test_yaml_credit_is_read_checked_and_explained():
    text = """format: quizapp-questions/1
questions:
  - key: jesus
    section: viewpoints
    kind: single
    prompt: Where?
    explanation: Nazareth.
    choices:
      - {text: Nazareth, credit: 100}
      - {text: Galilee, credit: 50}
      - {text: Jerusalem}
  - key: bad-sum
    section: viewpoints
    kind: multiple
    prompt: Which?
    explanation: x
    choices:
      - {text: a, credit: 50}
      - {text: b, credit: 30}
  - key: bad-correct
    section: viewpoints
    kind: single
    prompt: Which?
    explanation: x
    choices:
      - {text: a, credit: 100}
      - {text: b, credit: 50, correct: true}
"""
    bank = Bank()
    read_questions_data(yamlpos.load(text), "q.yaml", bank, set(), None)
    assert [(c.text, c.correct, c.fraction) for c in bank.questions[0].choices] == [
        ("Nazareth", True, 1.0), ("Galilee", False, 0.5), ("Jerusalem", False, 0.0)]
    assert any("bad-sum" in e and "add up to 100" in e for e in bank.errors), bank.errors
    assert any("bad-correct" in e and "contradicts" in e for e in bank.errors), bank.errors
    assert len(bank.questions) == 1


def test_the_bank_keeps_fractions_and_a_member_earns_half(bank, make_user, frozen_clock, client):
    section_key = db.session.scalar(select(Question).limit(1)).section.key
    upsert_questions([_jerusalem(section=section_key)])
    db.session.commit()
    stored = next(q for q in current_data() if q.key == "jesus")
    assert [c.fraction for c in stored.choices] == [0.0, 0.25, 0.5, 1.0]
    question = db.session.scalar(select(Question).where(Question.key == "jesus", Question.is_current))
    assert question.partial_credit
    member = make_user(username="dangvien")
    attempt = attempts.start_practice(member, PracticeSpec(section_keys=[section_key], count=500,
                                      time_limit_minutes=None, feedback="exam"), rng=random.Random(2))
    item = next(i for i in attempt.items if i.question_id == question.id)
    galilee = next(c.id for c in question.choices if c.text == "Galilee")
    attempts.submit(attempt, {question.id: [galilee]})
    db.session.commit()
    assert (item.credit, item.is_correct) == (50, False)
    client.login("dangvien")
    page = client.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    assert "Đúng một phần: 50 %" in page


def test_the_editor_keeps_credits_and_refuses_ones_that_do_not_fit():
    data = editor.form_data("q1", "viewpoints", "single", 1, "draft", "Where?", "",
                            [("Nazareth", False, 1.0), ("Galilee", False, 0.5), ("Jerusalem", False, None)],
                            [])
    assert [(c.correct, c.fraction) for c in data.choices] == [(True, 1.0), (False, 0.5), (False, 0.0)]
    assert not [e for e in editor.validate(data) if "credit" in e.lower() or "right answer" in e]
    bad = editor.form_data("q1", "viewpoints", "multiple", 1, "draft", "Which?", "",
                           [("a", True, 0.5), ("b", True, 0.3)], [])
    assert any("100 %" in e for e in editor.validate(bad))


def test_a_rekeyed_weighted_question_is_graded_by_the_correction():
    """A round's correction that re-keys a weighted question grades it classic by the
    new key; the choices' fractions apply only while the key is theirs."""
    fractions = {1: 0.0, 2: 0.5, 3: 1.0}
    assert credit_for("single", {3}, {2}, fractions) == 50           # the bank's key
    assert credit_for("single", {2}, {2}, fractions) == 100          # re-keyed to choice 2
    assert credit_for("single", {2}, {3}, fractions) == 0
