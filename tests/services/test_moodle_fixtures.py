"""Moodle's own GIFT and Aiken test fixtures (tests/data/moodle/*_fixture_*.txt, copied
from github.com/moodle/moodle question/format/{gift,aiken}/tests/fixtures; each file's
header names its source and commit) read with Moodle's meaning: every supported question
with Moodle's key and grading, every unsupported one named by its line, and a file with
errors imports nothing and names every bad line."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Question
from quizapp.services import grading
from quizapp.services.bank.formats import aiken, gift

DATA = Path(__file__).resolve().parents[1] / "data" / "moodle"
SECTIONS = {"viewpoints", "breakthroughs"}


def _read(module, name: str, **kw):
    return module.parse((DATA / name).read_bytes(), name, "viewpoints", section_keys=SECTIONS, **kw)


def _right(q) -> list[str]:
    return [c.text for c in q.choices if c.correct]


def _credit(q, *picked: str) -> int:
    """Moodle's grade of these picks: choice ids are the positions."""
    ids = {c.text: i for i, c in enumerate(q.choices)}
    fractions = grading.choice_fractions([type("C", (), {"id": i, "fraction": c.fraction})
                                          for i, c in enumerate(q.choices)])
    return grading.credit(q.kind, {i for i, c in enumerate(q.choices) if c.correct},
                          {ids[t] for t in picked}, fractions)


def test_moodles_gift_fixture_reads_with_moodles_keys_and_grades():
    result = _read(gift, "gift_fixture_questions.txt")
    assert not result.errors, result.errors
    read = {q.origin: q for q in result.questions}
    assert [(q.origin, q.kind, _right(q)) for q in result.questions] == [
        ("line 20", "single", ["yellow"]),
        ("line 28", "multiple", ["yellow", "off-beige"]),
        ("line 47", "truefalse", ["Sai"]),
        ("line 52", "truefalse", ["Đúng"]),
        ("line 55", "truefalse", ["Đúng"]),
    ]
    # ::colours:: {~%50%yellow ~%-100%red ~%50%off-beige ~%-100%blue}: Moodle adds the
    # chosen weights, clamped to 0..100 %.
    colours = read["line 28"]
    assert [c.fraction for c in colours.choices] == [0.5, -1.0, 0.5, -1.0]
    assert (_credit(colours, "yellow"), _credit(colours, "yellow", "off-beige"),
            _credit(colours, "yellow", "red"), _credit(colours, "yellow", "off-beige", "red", "blue")) \
        == (50, 100, 0, 0)
    q2 = read["line 20"]
    assert all(c.fraction is None for c in q2.choices)   # =right ~wrong: classic, as in Moodle
    assert (_credit(q2, "yellow"), _credit(q2, "red")) == (100, 0)
    assert "yellow: right; good!" in q2.explanation and "red: wrong, it's yellow" in q2.explanation
    # True/false with general feedback ('####'); the fixture's stray '";' after the block
    # makes it a missing-word question in Moodle's reading too (text after the braces).
    q1 = read["line 47"]
    assert q1.explanation.startswith("This is, of course, a Hitchiker's Guide to the Galaxy reference.")
    assert q1.prompt == '42 is the Absolute Answer to everything._____";'
    # Two questions with one title live side by side, each with its own key.
    assert read["line 52"].key != read["line 55"].key
    assert any("line 55: the title or question text of line 52 again" in w for w in result.warnings)
    assert [s.split(" (")[0] for s in result.skipped] == [
        "line 8: skipped an essay question 'Q8'",
        "line 11: skipped a matching question 'Moodle activities'",
        "line 37: skipped a numerical question 'Q5'",
        "line 40: skipped a short-answer question 'Shortanswer'"]


def test_moodles_gift_category_fixture_and_its_escapes():
    result = _read(gift, "gift_fixture_in_category.txt")
    assert not result.errors, result.errors
    greeting, acronym = result.questions
    assert greeting.kind == "single" and _right(greeting) == ["French"]
    # [html] with escaped '=' and ':' inside the link: the text, without the markup.
    assert greeting.prompt == "Listen to this greeting:\nWhat language is being spoken?"
    assert "French: Yes, well done!" in greeting.explanation
    assert acronym.kind == "truefalse" and _right(acronym) == ["Đúng"]
    assert acronym.prompt == ("Moodle is an acronym for Modular Object-Oriented Dynamic "
                              "Learning Environment.")
    assert [s.split(" (")[0] for s in result.skipped] == [
        "line 10: skipped a matching question 'Moodle activities'",
        "line 27: skipped a short-answer question 'Moodle user'"]
    # The category '$course$/Default for New Features' matches no section: the default;
    # chosen for it, it places both questions there.
    assert {q.section for q in result.questions} == {"viewpoints"}
    chosen = _read(gift, "gift_fixture_in_category.txt",
                   category_sections={"$course$/Default for New Features": "breakthroughs"})
    assert {q.section for q in chosen.questions} == {"breakthroughs"}


def test_moodles_aiken_fixture_reads_with_its_keys():
    result = _read(aiken, "aiken_fixture_questions.txt")
    assert not result.errors, result.errors
    started, html = result.questions
    assert (started.kind, _right(started)) == ("single", ["Martin Dougiamas"])
    assert [c.text for c in started.choices] == ["Petr Skoda", "Martin Dougiamas", "Eloy Lafuente", "Tim Hunt"]
    # Aiken is plain text: the angle brackets and ampersand are kept as written.
    assert html.prompt == ("Moodle's abilities include handling user input that includes "
                           '<html class="cool"> & images:')
    assert _right(html) == ["True"]


def test_moodles_aiken_error_fixture_names_every_bad_question_and_reads_the_good_ones():
    """Moodle's aikenformat_test reads aiken_errors.txt: three good questions (one with
    'A)' and no space, one with < > & in its answers) and errors at the question with one
    answer, the answer without a question and the question never finished."""
    result = _read(aiken, "aiken_fixture_errors.txt")
    assert [e.split(":")[0] for e in result.errors] == ["line 1", "line 5", "line 14"]
    assert "at least 2 options" in result.errors[0] and "no 'ANSWER:' line" in result.errors[2]
    good = {q.prompt: q for q in result.questions}
    assert [c.text for c in good["A good question"].choices] == ["Correct", "Incorrect"]
    assert _right(good["A good question"]) == ["Correct"]
    assert _right(good["A second good question"]) == ["Correct (No space)"]
    assert _right(good["A third good question with HTML chars such as > < &"]) == ["Correct (< > &)"]


def test_a_moodle_fixture_with_errors_imports_nothing(runner, bank, tmp_path):
    before = db.session.scalar(select(func.count()).select_from(Question))
    path = tmp_path / "aiken_errors.txt"
    path.write_bytes((DATA / "aiken_fixture_errors.txt").read_bytes())
    result = runner.invoke(args=["bank", "import", str(path), "--format", "aiken",
                                 "--section", "viewpoint-1"])
    assert result.exit_code != 0
    assert "line 1" in result.output and "line 14" in result.output
    assert db.session.scalar(select(func.count()).select_from(Question)) == before


@pytest.mark.parametrize("name, module, imported", [
    ("gift_fixture_questions.txt", "gift", 5), ("gift_fixture_in_category.txt", "gift", 2),
    ("aiken_fixture_questions.txt", "aiken", 2)])
def test_the_good_moodle_fixtures_import_through_the_cli(runner, bank, tmp_path, name, module, imported):
    before = db.session.scalar(select(func.count()).select_from(Question))
    path = tmp_path / name
    path.write_bytes((DATA / name).read_bytes())
    result = runner.invoke(args=["bank", "import", str(path), "--format", module,
                                 "--section", "viewpoint-1"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Question)) == before + imported


# ---------------------------------------------------------------- Moodle's GIFT unit tests

# gift_test_functions.txt: the question texts of giftformat_test.php's test functions (the
# header and a comment per question name the source). Each supported one with Moodle's
# qtype and fractions as that test asserts them: (line, kind, right answers, fractions).
MOODLE_GIFT_TESTS = [
    ("line 21", "single", ["yellow"], [None, None, None]),             # test_import_multichoice: 1, 0, 0
    ("line 29", "multiple", ["yellow", "off-beige"], [0.5, -1.0, 0.5, -1.0]),  # ..._multi
    ("line 38", "multiple", ["yellow"], [1.0, -0.5, -0.5]),            # ..._multi_tricky
    ("line 64", "truefalse", ["Sai"], [None, None]),                   # test_import_truefalse
    ("line 68", "truefalse", ["Đúng"], [None, None]),                  # ..._true_answer1
    ("line 71", "truefalse", ["Đúng"], [None, None]),                  # ..._true_answer2
    ("line 93", "multiple", ["yellow"], [1.0, -0.5, -0.5]),            # test_export_multichoice_multi_tricky
    ("line 100", "truefalse", ["Đúng"], [None, None]),                 # test_export_truefalse
]
MOODLE_GIFT_SKIPPED = [   # (line, title, the Vietnamese reason)
    ("9", "Q8", "câu hỏi tự luận"), ("12", "Moodle activities", "câu hỏi ghép đôi"),
    ("46", "Q5", "câu hỏi số"), ("49", "Shortanswer", "câu hỏi trả lời ngắn"),
    ("56", "Shortanswer", "câu hỏi trả lời ngắn"), ("74", "double backslash", "câu hỏi tự luận"),
    ("77", "Q001", "câu hỏi tự luận"), ("90", "Question name", "câu hỏi tự luận")]


def test_moodles_gift_unit_test_questions_read_with_moodles_key_and_grades(app):
    result = _read(gift, "gift_test_functions.txt")
    assert not result.errors, result.errors
    assert [(q.origin, q.kind, _right(q), [c.fraction for c in q.choices]) for q in result.questions] \
        == MOODLE_GIFT_TESTS
    read = {q.origin: q for q in result.questions}
    # Moodle's grading of the weights: multi adds the chosen ones; tricky's 100 % yellow
    # is full credit alone and loses half with each wrong pick.
    assert (_credit(read["line 29"], "yellow"), _credit(read["line 29"], "yellow", "off-beige"),
            _credit(read["line 29"], "yellow", "off-beige", "red")) == (50, 100, 0)
    assert (_credit(read["line 38"], "yellow"), _credit(read["line 38"], "yellow", "red"),
            _credit(read["line 38"], "red")) == (100, 50, 0)
    assert (_credit(read["line 21"], "yellow"), _credit(read["line 21"], "blue")) == (100, 0)
    # test_import_truefalse: FALSE is right; the first feedback is the wrong answer's.
    assert read["line 64"].explanation == ("Đúng: 42 is the Ultimate Answer.\n"
                                           "Sai: You gave the right answer.")
    # Every unsupported one by its line and title, with a Vietnamese reason (the preview's
    # language), in the order of the file.
    with app.test_request_context("/"):
        shown = [s.localized() for s in result.skipped]
    assert len(shown) == len(MOODLE_GIFT_SKIPPED)
    for message, (line, title, reason) in zip(shown, MOODLE_GIFT_SKIPPED):
        assert message.startswith(f"dòng {line}: không nhập “{title}”: {reason}"), message
        assert message.endswith("ứng dụng chỉ có câu hỏi một đáp án, nhiều đáp án và đúng/sai")


def test_moodles_gift_unit_test_file_imports_only_its_supported_questions(runner, bank, tmp_path):
    before = db.session.scalar(select(func.count()).select_from(Question))
    path = tmp_path / "gift_test_functions.gift"
    path.write_bytes((DATA / "gift_test_functions.txt").read_bytes())
    result = runner.invoke(args=["bank", "import", str(path), "--section", "viewpoint-1"])
    assert result.exit_code == 0, result.output
    assert f"{len(MOODLE_GIFT_SKIPPED)} skipped" in result.output
    assert db.session.scalar(select(func.count()).select_from(Question)) == before + len(MOODLE_GIFT_TESTS)
    # Nothing of a skipped question reached the bank, not even its text.
    for prompt in ("How are you?", "Which is the best animal?", "What is a number from 1 to 5?"):
        assert db.session.scalar(select(func.count()).where(Question.prompt.like(f"%{prompt}%"))) == 0
