"""The bundled bank covers the outline: enough approved questions, every part of the
resolution asked about, every target checked twice, and no answer resting on the seed's
known mistakes (questions/source/facts.md, "Mâu thuẫn")."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from quizapp.services.grading import KINDS

SECTION_KEYS = (
    ["letter", "congress", "theme", "review", "strengths", "limitations", "viewpoints", "goals",
     "targets", "targets-economy", "targets-culture-society", "targets-party", "projects",
     "breakthroughs", "key-tasks", "solutions", "follow-up"]
    + [f"viewpoint-{n}" for n in range(1, 6)]
    + [f"breakthrough-{n}" for n in range(1, 4)]
    + [f"key-task-{n}" for n in range(1, 4)]
    + [f"solution-{n}" for n in range(1, 6)]
)
NEEDS_TWO = ([f"viewpoint-{n}" for n in range(1, 6)] + [f"breakthrough-{n}" for n in range(1, 4)]
             + [f"key-task-{n}" for n in range(1, 4)] + [f"solution-{n}" for n in range(1, 6)])
TARGET_SECTIONS = ["targets-economy", "targets-culture-society", "targets-party"]

# Facts the seed gets wrong or never states; none may be a right answer.
CONTRADICTED = {
    "official session date 06/8/2025 (C-1)": re.compile(r"06\s*/\s*0?8\s*/\s*2025"),
    "127 delegates, a sum the text never makes (C-23)": re.compile(r"(?<![\w.,])127(?![\w.,])"),
    "'Đảng bộ xã' instead of 'phường' (C-4)": re.compile(r"Đảng\s+bộ\s+xã", re.IGNORECASE),
}


def _approved(bank):
    return [q for q in bank.questions if q.status == "approved"]


def _asserted_true(question) -> list[str]:
    """The texts a question presents as true: its right choices, and for a true/false
    question judged true, the statement itself."""
    texts = [c.text for c in question.choices if c.correct]
    if question.kind == "truefalse":
        texts = [question.prompt] if question.choices[0].correct else []
    return texts


def test_bank_parses_without_errors(parsed_bank):
    assert parsed_bank.errors == []
    assert parsed_bank.outline_key and parsed_bank.outline_version >= 1


def test_at_least_150_approved_questions(parsed_bank):
    assert len(_approved(parsed_bank)) >= 150


def test_question_keys_are_unique(parsed_bank):
    keys = Counter(q.key for q in parsed_bank.questions)
    assert [k for k, n in keys.items() if n > 1] == []


def test_every_expected_section_exists(parsed_bank):
    keys = {s.key for s in parsed_bank.sections}
    assert set(SECTION_KEYS) - keys == set()


def test_every_question_names_an_existing_section(parsed_bank):
    keys = {s.key for s in parsed_bank.sections}
    assert [q.key for q in parsed_bank.questions if q.section not in keys] == []


@pytest.mark.parametrize("section", NEEDS_TWO)
def test_each_viewpoint_breakthrough_task_and_solution_has_two_approved(parsed_bank, section):
    count = sum(1 for q in _approved(parsed_bank) if q.section == section)
    assert count >= 2, f"{section}: {count} approved question(s)"


@pytest.mark.parametrize("section", TARGET_SECTIONS)
def test_every_target_is_checked_by_two_approved_questions(parsed_bank, section):
    items = next(s.items for s in parsed_bank.sections if s.key == section)
    assert items, f"{section} lists no targets"
    covered = Counter(item for q in _approved(parsed_bank) for item in q.covers)
    thin = {item["key"]: covered[item["key"]] for item in items if covered[item["key"]] < 2}
    assert thin == {}


def test_all_kinds_are_present(parsed_bank):
    kinds = {q.kind for q in _approved(parsed_bank)}
    assert kinds == set(KINDS) == {"single", "multiple", "truefalse"}


def test_every_question_has_a_right_answer_shaped_for_its_kind(parsed_bank):
    for q in parsed_bank.questions:
        right = sum(c.correct for c in q.choices)
        if q.kind in ("single", "truefalse"):
            assert right == 1, q.key
        else:
            assert right >= 1, q.key
        if q.kind == "truefalse":
            assert [c.text for c in q.choices] == ["Đúng", "Sai"], q.key
        assert q.explanation.strip(), q.key


@pytest.mark.parametrize("fact", sorted(CONTRADICTED))
def test_no_right_answer_rests_on_a_contradicted_fact(parsed_bank, fact):
    pattern = CONTRADICTED[fact]
    offending = [(q.key, text) for q in parsed_bank.questions
                 for text in _asserted_true(q) if pattern.search(text)]
    assert offending == []


def test_contradiction_patterns_do_match_what_they_look_for():
    """The check above would be empty if a pattern never matched; make sure they do."""
    assert CONTRADICTED["official session date 06/8/2025 (C-1)"].search("Phiên chính thức 06/8/2025")
    assert CONTRADICTED["127 delegates, a sum the text never makes (C-23)"].search("127 đại biểu")
    assert not CONTRADICTED["127 delegates, a sum the text never makes (C-23)"].search("(L127)")
    assert not CONTRADICTED["127 delegates, a sum the text never makes (C-23)"].search("1.127")
    assert CONTRADICTED["'Đảng bộ xã' instead of 'phường' (C-4)"].search("Ban Chấp hành Đảng bộ xã khoá I")


def test_asserted_true_reads_true_false_questions_by_their_answer(parsed_bank):
    true_statement = next(q for q in parsed_bank.questions
                          if q.kind == "truefalse" and q.choices[0].correct)
    false_statement = next(q for q in parsed_bank.questions
                           if q.kind == "truefalse" and q.choices[1].correct)
    assert _asserted_true(true_statement) == [true_statement.prompt]
    assert _asserted_true(false_statement) == []
