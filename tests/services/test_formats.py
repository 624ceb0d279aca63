"""Question file formats (services/bank/formats): each parser on examples written from the
published descriptions (Moodle's GIFT and Aiken pages), the xlsx sheet, errors with their
line/row, and dump → parse round trips on the whole bundled bank."""
from __future__ import annotations

import dataclasses
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from quizapp.services import grading
from quizapp.services.bank import ChoiceData, QuestionData
from quizapp.services.bank.formats import FORMATS, MAX_BYTES, aiken, detect, gift, xlsx, yaml_format

SECTIONS = {"viewpoints", "viewpoint-1", "viewpoint-2", "targets"}


def _gift(text: str, default: str | None = "viewpoints", keys: set[str] | None = SECTIONS,
          filename: str = ""):
    # Without a file name a title is the key as it is; see the identity tests for the prefix.
    return gift.parse(text.encode("utf-8"), filename, default, section_keys=keys)


def _one(result):
    assert not result.errors, result.errors
    assert len(result.questions) == 1, result.questions
    return result.questions[0]


def _choices(question: QuestionData) -> list[tuple[str, bool]]:
    return [(c.text, c.correct) for c in question.choices]


def _without_origin(questions: list[QuestionData]) -> list[QuestionData]:
    return [dataclasses.replace(q, origin="") for q in questions]


# ---------------------------------------------------------------- GIFT: kinds

def test_gift_multiple_choice_with_one_equals_is_single():
    q = _one(_gift("::Grant:: Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}"))
    assert (q.key, q.kind, q.section, q.status, q.difficulty) == ("grant", "single", "viewpoints", "draft", 1)
    assert q.prompt == "Who's buried in Grant's tomb?"
    assert _choices(q) == [("Grant", False), ("Jefferson", False), ("no one", True)]
    assert q.origin == "line 1"


def test_gift_answers_on_their_own_indented_lines():
    q = _one(_gift("Japanese characters originally came from\nwhat country? {\n"
                   "    ~India\n    =China\n    ~Korea\n    ~Egypt}"))
    assert q.prompt == "Japanese characters originally came from what country?"
    assert _choices(q) == [("India", False), ("China", True), ("Korea", False), ("Egypt", False)]


@pytest.mark.parametrize("answers, right", [
    ("~%50%Grant ~%50%Grant's wife ~%-100%Grant's father", [True, True, False]),
    ("~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d", [True, True, True, False]),
    ("~%100%a ~b ~%0%c", [True, False, False]),   # weights and no '=': Moodle's multi-answer
])
def test_gift_weights_without_equals_make_multiple(answers, right):
    q = _one(_gift("::m:: Which ones? {" + answers + "}"))
    assert q.kind == "multiple"
    assert [c.correct for c in q.choices] == right


def _fractions(q):
    return [(c.text, c.correct, c.fraction) for c in q.choices]


def _credit(q, *picked):
    """What Moodle's grading gives for these picked texts (choice ids = positions)."""
    ids = {c.text: i for i, c in enumerate(q.choices)}
    right = {i for i, c in enumerate(q.choices) if c.correct}
    fractions = {i: c.fraction for i, c in enumerate(q.choices)} if q.choices[0].fraction is not None else None
    return grading.credit(q.kind, right, {ids[t] for t in picked}, fractions)


def test_gift_partial_credit_with_one_equals_is_a_one_answer_question_with_credit():
    """Moodle's GIFT docs: one '=' makes a one-answer question and ~%50% options earn
    part of the mark. Before issue 12 this became "select all of Bethlehem, Galilee,
    Nazareth", so the right answer alone was graded wrong."""
    result = _gift("::jesus:: Where did Jesus grow up? "
                   "{~Jerusalem ~%25%Bethlehem ~%50%Galilee =Nazareth}")
    q = _one(result)
    assert q.kind == "single"
    assert _fractions(q) == [("Jerusalem", False, 0.0), ("Bethlehem", False, 0.25),
                             ("Galilee", False, 0.5), ("Nazareth", True, 1.0)]
    assert not result.warnings and not result.errors
    assert _credit(q, "Nazareth") == 100
    assert _credit(q, "Galilee") == 50
    assert _credit(q, "Bethlehem") == 25
    assert _credit(q, "Jerusalem") == 0
    assert _credit(q, "Nazareth", "Galilee") == 0  # one answer only


def test_gift_two_fully_right_answers_make_a_one_answer_question_where_either_is_right():
    """Moodle: {=A =B ~C} is one-answer; A alone or B alone earns the full mark."""
    q = _one(_gift("::m:: Which one? {=a =b ~c}"))
    assert q.kind == "single"
    assert _fractions(q) == [("a", True, 1.0), ("b", True, 1.0), ("c", False, 0.0)]
    assert (_credit(q, "a"), _credit(q, "b"), _credit(q, "c"), _credit(q, "a", "b")) == (100, 100, 0, 0)


def test_gift_weights_of_a_several_answers_question_are_kept():
    q = _one(_gift("::m:: Which? {~%50%a ~%50%b ~c}"))
    assert q.kind == "multiple"
    assert _fractions(q) == [("a", True, 0.5), ("b", True, 0.5), ("c", False, 0.0)]
    assert (_credit(q, "a"), _credit(q, "a", "b"), _credit(q, "a", "b", "c")) == (50, 100, 100)
    penalised = _one(_gift("::m:: Which? {~%50%a ~%50%b ~%-50%c ~%-50%d}"))
    assert (_credit(penalised, "a", "c"), _credit(penalised, "a", "b", "c", "d")) == (0, 0)
    assert _credit(penalised, "a", "b", "c") == 50
    # Equal shares with -100% for a wrong answer: Moodle's weights from anyone else (one
    # right answer of two earns 50 %) ...
    moodle = _one(_gift("::m:: Which? {~%50%a ~%50%b ~%-100%c}"))
    assert _fractions(moodle) == [("a", True, 0.5), ("b", True, 0.5), ("c", False, -1.0)]
    assert (_credit(moodle, "a"), _credit(moodle, "a", "b"), _credit(moodle, "a", "b", "c")) == (50, 100, 0)
    # ... and this app's all-or-nothing question when our export's comment says so.
    classic = _one(_gift("// quizapp: grading=all-or-nothing\n::m:: Which? {~%50%a ~%50%b ~%-100%c}"))
    assert [c.fraction for c in classic.choices] == [None, None, None]
    assert (_credit(classic, "a"), _credit(classic, "a", "b")) == (0, 100)


def test_gift_weights_that_cannot_grade_are_refused_by_line():
    result = _gift("::m:: Which? {~%50%a ~%30%b ~c}")
    assert not result.questions
    assert len(result.errors) == 1 and result.errors[0].startswith("line 1: the positive credits")


def test_gift_yaml_and_xlsx_round_trips_keep_the_fractions():
    source = ("::jesus:: Where? {~Jerusalem ~%25%Bethlehem ~%50%Galilee =Nazareth}\n\n"
              "::thirds:: Which? {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-50%d}\n\n"
              "::two:: Which one? {=a =b ~c}\n")
    questions = _gift(source).questions
    assert [c.fraction for c in questions[1].choices] == [0.3333333, 0.3333333, 0.3333333, -0.5]
    for name in ("gift", "yaml", "xlsx"):
        fmt = FORMATS[name]
        parsed = fmt.module.parse(fmt.dump(questions), "back." + name, "viewpoints", section_keys=SECTIONS)
        assert not parsed.errors, (name, parsed.errors)
        again = parsed.questions
        assert [_fractions(q) for q in again] == [_fractions(q) for q in questions], name
        assert [q.content_hash() for q in again] == [q.content_hash() for q in questions], name


@pytest.mark.parametrize("mark, value", [("T", True), ("TRUE", True), ("F", False),
                                         ("FALSE", False), ("true", True)])
def test_gift_true_false_variants(mark, value):
    q = _one(_gift(f"::tf:: Grant is buried in Grant's tomb.{{{mark}}}"))
    assert q.kind == "truefalse"
    assert _choices(q) == [("Đúng", value), ("Sai", not value)]


def test_gift_missing_word_question_gets_a_blank():
    q = _one(_gift("Grant is {~buried =entombed ~living} in Grant's tomb."))
    assert q.prompt == "Grant is _____ in Grant's tomb."
    assert q.kind == "single"


# ---------------------------------------------------------------- GIFT: titles, feedback

def test_gift_title_is_slugified_into_the_key():
    q = _one(_gift("::Câu 1\\: Quan điểm (số 3)!:: Nội dung? {=a ~b}"))
    assert q.key == "cau-1-quan-diem-so-3"


def test_gift_without_title_gets_a_stable_hash_key():
    first = _one(_gift("Một câu hỏi không có tiêu đề? {=a ~b}"))
    again = _one(_gift("// another file\n\nMột câu hỏi không có tiêu đề? {=x ~y}"))
    assert first.key == again.key
    assert first.key.startswith("gift-") and len(first.key) == len("gift-") + 8
    other = _one(_gift("Một câu hỏi khác? {=a ~b}"))
    assert other.key != first.key


def test_gift_feedback_goes_into_the_explanation():
    q = _one(_gift("::fb:: What's between orange and green in the spectrum?\n"
                   "{ =yellow # right; good! ~red # wrong, it's yellow ~blue # wrong, it's yellow\n"
                   "####Yellow lies between orange and green. }"))
    assert _choices(q) == [("yellow", True), ("red", False), ("blue", False)]
    assert q.explanation.split("\n") == ["Yellow lies between orange and green.",
                                        "yellow: right; good!", "red: wrong, it's yellow",
                                        "blue: wrong, it's yellow"]


def test_gift_true_false_feedback_first_is_for_the_wrong_answer():
    q = _one(_gift("::tf:: The sun rises in the West.{FALSE#No, in the East.#Right: the East.}"))
    assert _choices(q) == [("Đúng", False), ("Sai", True)]
    assert q.explanation.split("\n") == ["Đúng: No, in the East.", "Sai: Right: the East."]


def test_gift_general_feedback_alone():
    q = _one(_gift("::g:: 2 + 2 = 4? {T####Basic arithmetic.}"))
    assert q.explanation == "Basic arithmetic."
    assert q.prompt == "2 + 2 = 4?"


# ---------------------------------------------------------------- GIFT: categories, comments

def test_gift_category_last_component_is_the_section_when_it_is_one():
    result = _gift("$CATEGORY: $course$/top/viewpoint-2\n\n::a:: A? {=x ~y}\n\n"
                   "$CATEGORY: $course$/top/Default for Course\n\n::b:: B? {=x ~y}\n\n"
                   "$CATEGORY: quizapp/nowhere\n::c:: C? {=x ~y}",
                   default="targets")
    assert not result.errors
    assert [(q.key, q.section) for q in result.questions] == [
        ("a", "viewpoint-2"), ("b", "targets"), ("c", "targets")]


# Sections as the database gives them (formats.known_section_keys): key → title.
TITLED = {"viewpoints": "Năm quan điểm của Đại hội",
          "viewpoint-1": "Quan điểm (1): Bám sát, vận dụng sáng tạo chủ trương",
          "viewpoint-2": "Quan điểm (2): Phát huy giá trị văn hóa truyền thống",
          "theme": "1. Về chủ đề Đại hội", "targets": "Chỉ tiêu chủ yếu đến năm 2030"}


def test_gift_category_names_a_section_by_its_title_or_key_folded():
    result = _gift("$CATEGORY: $course$/Nghị quyết/NĂM QUAN ĐIỂM CỦA ĐẠI HỘI\n\n::a:: A? {=x ~y}\n\n"
                   "$CATEGORY: $course$/Nghị quyết/ve chu de dai hoi\n\n::b:: B? {=x ~y}\n\n"
                   "$CATEGORY: $course$/Nghị quyết/Viewpoint 2/\n\n::c:: C? {=x ~y}\n\n"
                   "$CATEGORY: $course$/Nghị quyết/Chỉ tiêu chủ yếu  đến năm 2030\n\n::d:: D? {=x ~y}",
                   default=None, keys=TITLED)
    assert not result.errors, result.errors
    assert [(q.key, q.section) for q in result.questions] == [
        ("a", "viewpoints"), ("b", "theme"), ("c", "viewpoint-2"), ("d", "targets")]
    assert result.unmatched_categories == {}


def test_gift_unmatched_categories_are_listed_and_go_to_the_default_section():
    # "Quan điểm" is neither a key nor a whole title; "top" names no section at all.
    text = ("$CATEGORY: $course$/Nghị quyết/Quan điểm\n\n::a:: A? {=x ~y}\n\n::b:: B? {=x ~y}\n\n"
            "$CATEGORY: $course$/top\n\n::c:: C? {=x ~y}\n\n"
            "$CATEGORY: $course$/top/viewpoint-1\n\n::d:: D? {=x ~y}")
    result = _gift(text, default="targets", keys=TITLED)
    assert not result.errors, result.errors
    assert [(q.key, q.section) for q in result.questions] == [
        ("a", "targets"), ("b", "targets"), ("c", "targets"), ("d", "viewpoint-1")]
    assert result.unmatched_categories == {"$course$/Nghị quyết/Quan điểm": 2, "$course$/top": 1}
    refused = _gift(text, default=None, keys=TITLED)
    assert refused.errors == [f"line {n}: question '{k}' has no section: name one in the file or "
                              "choose a default section" for n, k in ((3, "a"), (5, "b"), (9, "c"))]


def test_gift_category_matching_two_sections_places_nothing():
    # Two sections with one folded title: the category is ambiguous, so the default is used.
    keys = {"a-1": "Quan điểm", "a-2": "QUAN ĐIỂM"}
    result = _gift("$CATEGORY: x/quan diem\n\n::q:: Q? {=x ~y}", default="a-1", keys=keys)
    assert _one(result).section == "a-1"
    assert result.unmatched_categories == {"x/quan diem": 1}


def test_gift_without_known_keys_a_key_shaped_category_is_taken():
    result = _gift("$CATEGORY: top/viewpoint-2\n\n::a:: A? {=x ~y}", default=None, keys=None)
    assert _one(result).section == "viewpoint-2"


def test_gift_question_without_section_is_an_error_with_its_line():
    result = _gift("// no category\n\n::a:: A? {=x ~y}", default=None)
    assert result.errors == ["line 3: question 'a' has no section: name one in the file or "
                             "choose a default section"]
    assert result.questions == []


def test_gift_comments_are_ignored_anywhere_on_their_own_line():
    text = ("// header comment\n\n"
            "// comment right before\n"
            "::c:: What?\n"
            "// a comment inside the answers\n"
            "{=yes\n// another\n~no}\n\n"
            "// trailing comment\n")
    q = _one(_gift(text))
    assert q.origin == "line 4"
    assert _choices(q) == [("yes", True), ("no", False)]


def test_gift_quizapp_comment_keeps_difficulty_status_and_covers():
    q = _one(_gift("// quizapp: difficulty=3 status=approved covers=growth-overall,budget\n"
                   "::k:: Q? {=a ~b ####Because.}"))
    assert (q.difficulty, q.status, q.covers) == (3, "approved", ["growth-overall", "budget"])


def test_gift_bad_quizapp_comment_is_an_error():
    result = _gift("// quizapp: difficulty=9\n::k:: Q? {=a ~b}")
    assert result.errors and result.errors[0].startswith("line 1: cannot read 'difficulty=9'")


# ---------------------------------------------------------------- GIFT: escapes, markers

def test_gift_every_escape():
    q = _one(_gift(r"::e:: a\~b c\=d e\#f g\{h\} i\:j k\\l m\nn {=x\~y #fb \= ok ~z\}w ####gen\: \{x\}}"))
    assert q.prompt == "a~b c=d e#f g{h} i:j k\\l m\nn"
    assert _choices(q) == [("x~y", True), ("z}w", False)]
    assert q.explanation == "gen: {x}\nx~y: fb = ok"


def test_gift_html_marker_strips_tags_and_entities():
    q = _one(_gift("::h::[html]<p>Which <b>two</b> &amp; why?</p>{=<i>this</i> ~that&nbsp;one\n"
                   "####<p>Because</p><p>of this.</p>}"))
    assert q.prompt == "Which two & why?"
    assert _choices(q) == [("this", True), ("that one", False)]
    assert q.explanation == "Because\nof this."


@pytest.mark.parametrize("marker", ["[markdown]", "[plain]", "[moodle]", "[MARKDOWN]"])
def test_gift_other_markers_are_removed(marker):
    q = _one(_gift(f"::m:: {marker}Some *text*? {{={marker}yes ~no}}"))
    assert q.prompt == "Some *text*?"
    assert _choices(q) == [("yes", True), ("no", False)]


# ---------------------------------------------------------------- GIFT: what is skipped or wrong

UNSUPPORTED = """\
::ok1:: Supported? {=yes ~no}

::essay:: Write about the congress. {}

::match:: Which animal eats which food? { =cat -> cat food =dog -> dog food }

::num:: When was Ulysses S. Grant born? {#1822:5}

::range:: A number from 1 to 5? {#1..5}

::short:: Two plus {=two =2} equals four.

A description with no answers at all.

::ok2:: Still read? {T}
"""


def test_gift_unsupported_kinds_are_skipped_with_their_line():
    result = _gift(UNSUPPORTED)
    assert not result.errors
    assert [q.key for q in result.questions] == ["ok1", "ok2"]
    assert [s.split(" (")[0] for s in result.skipped] == [
        "line 3: skipped an essay question 'essay'",
        "line 5: skipped a matching question 'match'",
        "line 7: skipped a numerical question 'num'",
        "line 9: skipped a numerical question 'range'",
        "line 11: skipped a short-answer question 'short'",
        "line 13: skipped a description",
    ]


@pytest.mark.parametrize("text, error", [
    ("::a:: Open {=x ~y\n\n::b:: B? {=x ~y}", "line 1: '{' is never closed"),
    ("::a:: A?\n=x ~y}", "line 2: '}' without a '{' before it"),
    ("::a:: A? {=x ~y\n::b:: B? {=x ~y}", "line 2: '{' inside the answer block opened on line 1"),
    ("::a:: A? {=x ~y}\n::b:: B? {=x ~y}", "line 2: a second answer block"),
    ("::a:: A? {=x ~y} tail }", "line 1: '}' without a '{' before it"),
    ("::a A? {=x ~y}", "line 1: the question title '::…' is not closed"),
    ("::a:: A? {lead =x ~y}", "line 1: 'lead' before the first answer"),
    ("::a:: A? {=x ~%abc y}", "line 1: an answer weight is a number"),
    ("::a:: A? {=x ~%150%y}", "line 1: answer weight 150% is outside"),
    ("::a:: A? {=x ~ }", "line 1: an answer has no text"),
    ("::a:: A? {whatever}", "line 1: cannot tell the question kind"),
])
def test_gift_broken_syntax_is_an_error_with_its_line(text, error):
    result = _gift(text)
    assert any(e.startswith(error) for e in result.errors), result.errors
    assert all(q.key != "a" for q in result.questions)


@pytest.mark.parametrize("text, error", [
    ("::a:: A? {~x ~y}", "line 1: question 'a' has no right answer"),
    ("::a:: A? {=x ~x ~y}", "line 1: question 'a': choice 'x' appears twice"),
    ("::a:: A? {~%100%x}", "line 1: question 'a' needs at least 2 choices"),
    ("// quizapp: status=approved\n::a:: A? {=x ~y}", "line 2: question 'a' is approved but has no explanation"),
    ("::a:: {=x ~y}", "line 1: question 'a' has an empty prompt"),
])
def test_gift_question_rules(text, error):
    assert error in _gift(text).errors


# ---------------------------------------------------------------- GIFT: writing

TRICKY = [
    QuestionData(key="t-single", section="viewpoint-1", kind="single", difficulty=2, status="approved",
                 prompt="Braces {x}, tilde ~, equals =, hash #, colon: a\\b \\n literal\nand a line",
                 explanation="Multi\nline: explanation with ####, // and $CATEGORY: inside, "
                             "a tab\t, a \u2028 line separator, a \x85 and \"quotes\"",
                 choices=[ChoiceData("%5 là sai", False), ChoiceData("50%", True),
                          ChoiceData("[html]<b>not html</b>", False), ChoiceData("a -> b", False)],
                 covers=["item-a", "item-b"], origin="", purpose="application", excludes=["t-multi"]),
    QuestionData(key="t-multi", section="viewpoint-2", kind="multiple", difficulty=3, status="retired",
                 prompt="[markdown] is text here", explanation="",
                 choices=[ChoiceData(f"c{i}", i % 2 == 0) for i in range(7)], covers=[], origin=""),
    QuestionData(key="t-tf", section="viewpoint-2", kind="truefalse", difficulty=1, status="draft",
                 prompt="// not a comment", explanation="",
                 choices=[ChoiceData("Đúng", False), ChoiceData("Sai", True)], covers=[], origin=""),
    QuestionData(key="t-tf2", section="viewpoint-2", kind="truefalse", difficulty=1, status="approved",
                 prompt="=1+1", explanation="ok",
                 choices=[ChoiceData("Đúng", True), ChoiceData("Sai", False)], covers=[], origin=""),
]


@pytest.mark.parametrize("name", ["yaml", "gift", "xlsx"])
def test_tricky_texts_round_trip(name):
    fmt = FORMATS[name]
    result = fmt.parse(fmt.dump(TRICKY), f"x.{name}", None, section_keys=SECTIONS)
    assert not result.errors, result.errors
    assert _without_origin(result.questions) == TRICKY


def test_gift_dump_looks_like_gift():
    text = gift.dump(TRICKY[:1]).decode()
    assert "$CATEGORY: $course$/top/viewpoint-1" in text
    assert ("// quizapp: difficulty=2 status=approved purpose=application covers=item-a,item-b "
            "excludes=t-multi") in text
    assert "::t-single:: Braces \\{x\\}, tilde \\~, equals \\=, hash \\#, colon\\: a\\\\b" in text
    assert "~%0%%5 là sai" in text and "=50%" in text and "~[plain][html]" in text
    assert "####Multi\\nline\\: explanation" in text


# ---------------------------------------------------------------- Aiken

AIKEN = """\
Đại hội đưa ra bao nhiêu quan điểm?
A. 3 quan điểm
B. 5 quan điểm
C) 6 quan điểm
ANSWER: B

Câu hỏi có phần
nối dài?
A. Có
B. Không
ANSWER: a
Trạm Y tế phường đạt chuẩn quốc gia về y tế.
A. Đúng
B. Sai
ANSWER: A
"""


def test_aiken_reads_single_choice_drafts_in_the_default_section():
    result = aiken.parse(AIKEN.encode(), "a.txt", "viewpoints")
    assert not result.errors, result.errors
    first, second, third = result.questions
    assert (first.kind, first.section, first.status, first.difficulty) == ("single", "viewpoints", "draft", 1)
    assert first.prompt == "Đại hội đưa ra bao nhiêu quan điểm?"
    assert _choices(first) == [("3 quan điểm", False), ("5 quan điểm", True), ("6 quan điểm", False)]
    assert first.key.startswith("aiken-") and first.origin == "line 1"
    assert second.prompt == "Câu hỏi có phần nối dài?" and _choices(second)[0] == ("Có", True)
    assert third.kind == "truefalse" and _choices(third) == [("Đúng", True), ("Sai", False)]
    assert third.origin == "line 12"


@pytest.mark.parametrize("text, error", [
    ("Q1?\nA. x\nB. y\n\nQ2?\nA. x\nB. y\nANSWER: A\n", "line 1: the question has no 'ANSWER:' line"),
    ("Q1?\nA. x\nB. y\n", "line 1: the question has no 'ANSWER:' line"),
    ("Q1?\nA. x\nB. y\nANSWER: D\n", "line 4: the answer D is not among the options A, B"),
    ("Q1?\nA. x\nB. y\nANSWER: A, B\n", "line 4: 'ANSWER: A, B' must be one letter"),
    ("Q1?\nA. x\nB. y\nANSWER:\n", "line 4: 'ANSWER:' names no letter"),
    ("Q1?\nA. x\nANSWER: A\n", "line 1: a question needs at least 2 options"),
    ("ANSWER: A\n", "line 1: 'ANSWER:' without a question before it"),
    ("Q1?\nA. x\nA. y\nANSWER: A\n", "line 3: option A appears twice"),
    ("Q1?\nA. x\nB. x\nANSWER: A\n", "line 1: question 'aiken-"),
    ("Q1?\n\nQ2?\nA. x\nB. y\nANSWER: A\n", "line 1: the question has no options"),
])
def test_aiken_errors_have_their_line(text, error):
    result = aiken.parse(text.encode(), "a.txt", "viewpoints")
    assert any(e.startswith(error) for e in result.errors), result.errors


def test_aiken_needs_a_default_section():
    result = aiken.parse(AIKEN.encode(), "a.txt", None)
    assert result.errors == ["line 1: Aiken files name no section: choose the section to import into"]


def test_aiken_dump_skips_multiple_answer_questions(parsed_bank):
    questions = parsed_bank.questions
    fmt = FORMATS["aiken"]
    skipped = fmt.unsupported(questions)
    assert {q.kind for q in skipped} == {"multiple"}
    result = fmt.parse(fmt.dump(questions), "b.txt", "viewpoints")
    assert not result.errors, result.errors[:5]
    kept = [q for q in questions if q not in skipped]
    assert len(result.questions) == len(kept) == len(questions) - len(skipped)
    assert [(q.kind, q.prompt, _choices(q)) for q in result.questions] == \
        [(q.kind, " ".join(q.prompt.split()), _choices(q)) for q in kept]


# ---------------------------------------------------------------- xlsx

HEADER = ["Mã câu hỏi", "Mục", "Loại", "Độ khó", "Trạng thái", "Câu hỏi", "Phương án A",
          "Phương án B", "Phương án C", "Phương án D", "Đáp án đúng", "Giải thích"]


def _workbook(rows: list[list], header: list | None = None, above: list[list] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in above or []:
        sheet.append(row)
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_reads_rows_of_every_kind():
    content = _workbook([
        ["x-one", "viewpoint-1", "một lựa chọn", 2, "đã duyệt", "Câu một?", "a", "b", "c", None, "B", "Vì b."],
        [None, None, "nhiều lựa chọn", None, None, "Câu hai?", "a", "b", "c", "d", "A, C", None],
        ["x-tf", "targets", "Đúng / Sai", "3", "nháp", "Câu ba.", None, None, None, None, "Sai", None],
        [],
        ["x-en", "viewpoint-2", "multiple", 1, "retired", "Câu bốn?", 1, 2.5, "", "", "AB", ""],
        ["x-guess", "viewpoint-2", None, None, None, "Câu năm.", None, None, None, None, True, None],
    ])
    result = xlsx.parse(content, "q.xlsx", "viewpoints", section_keys=SECTIONS)
    assert not result.errors, result.errors
    one, two, tf, en, guess = result.questions
    assert (one.key, one.section, one.kind, one.difficulty, one.status) == \
        ("x-one", "viewpoint-1", "single", 2, "approved")
    assert _choices(one) == [("a", False), ("b", True), ("c", False)] and one.explanation == "Vì b."
    assert two.key.startswith("xlsx-") and two.section == "viewpoints" and two.kind == "multiple"
    assert [c.correct for c in two.choices] == [True, False, True, False]
    assert (tf.kind, _choices(tf), tf.difficulty, tf.status) == \
        ("truefalse", [("Đúng", False), ("Sai", True)], 3, "draft")
    assert en.origin == "row 6" and _choices(en) == [("1", True), ("2.5", True)]
    assert guess.kind == "truefalse" and _choices(guess) == [("Đúng", True), ("Sai", False)]


def test_xlsx_missing_columns_is_one_error_naming_them():
    content = _workbook([["Câu?", "a", "b"]], header=["Câu hỏi", "Phương án A", "Ghi chú"])
    result = xlsx.parse(content, "q.xlsx", "viewpoints")
    assert result.errors == ["row 1: missing column(s): Mã câu hỏi, Phương án B, Đáp án đúng"]
    assert result.questions == []


def test_xlsx_header_may_sit_below_title_rows_and_rows_keep_excel_numbers():
    content = _workbook([["k1", "", "", "", "", "Câu?", "a", "b", "", "", "E", ""]],
                        above=[["Ngân hàng câu hỏi"], []])
    result = xlsx.parse(content, "q.xlsx", "viewpoints")
    assert result.errors == ["row 4: the right answer E is not among the options (A, B)"]


@pytest.mark.parametrize("row, error", [
    (["k", "", "", "", "", "Q?", "a", "b", "", "", "C", ""], "the right answer C is not among the options (A, B)"),
    (["k", "", "", "", "", "Q?", "a", "b", "", "", "", ""], "no right answer"),
    (["k", "", "", "", "", "Q?", "a", "b", "", "", "A và B", ""], "'A và B' in 'Đáp án đúng' is not option letters"),
    (["k", "", "câu đố", "", "", "Q?", "a", "b", "", "", "A", ""], "Loại 'câu đố' must be"),
    (["k", "", "đúng/sai", "", "", "Q.", "", "", "", "", "Có", ""], "the answer of a true/false question is Đúng or Sai"),
    (["k", "", "đúng/sai", "", "", "Q.", "x", "y", "", "", "Đúng", ""], "a true/false question has no options"),
    (["k", "", "", "4", "", "Q?", "a", "b", "", "", "A", ""], "Độ khó '4' must be 1, 2 or 3"),
    (["k", "", "", "", "xong", "Q?", "a", "b", "", "", "A", ""], "Trạng thái 'xong' must be"),
    (["k", "", "một lựa chọn", "", "", "Q?", "a", "b", "", "", "A,B", ""], "a one-answer question has 2 right answers"),
    (["k", "", "", "", "", "Q?", "a", "A ", "", "", "A", ""], "choice 'A' appears twice"),
    (["k", "", "", "", "", "", "a", "b", "", "", "A", ""], "has an empty prompt"),
    (["k", "nowhere", "", "", "", "Q?", "a", "b", "", "", "A", ""], "unknown section 'nowhere'"),
    (["k", "", "", "", "đã duyệt", "Q?", "a", "b", "", "", "A", ""], "is approved but has no explanation"),
])
def test_xlsx_bad_rows_are_errors_with_their_row(row, error):
    good = ["ok", "", "", "", "", "Fine?", "a", "b", "", "", "A", ""]
    result = xlsx.parse(_workbook([good, row]), "q.xlsx", "viewpoints", section_keys=SECTIONS)
    assert len(result.errors) == 1 and result.errors[0].startswith("row 3: "), result.errors
    assert error in result.errors[0]
    assert [q.key for q in result.questions] == ["ok"]


def test_xlsx_duplicate_key_names_both_rows():
    row = ["same", "", "", "", "", "Q?", "a", "b", "", "", "A", ""]
    result = xlsx.parse(_workbook([row, row]), "q.xlsx", "viewpoints")
    assert result.errors == ["row 3: key 'same' is already used at row 2"]


def test_xlsx_that_is_not_a_workbook():
    result = xlsx.parse("Mã câu hỏi;Câu hỏi\n".encode(), "q.xlsx", "viewpoints")
    assert result.errors[0].startswith("row 1: not an Excel workbook (.xlsx)")


def test_xlsx_template_has_headers_an_example_and_a_guide():
    content = xlsx.template()
    workbook = load_workbook(BytesIO(content))
    assert workbook.sheetnames == ["Câu hỏi", "Hướng dẫn"]
    header = [c.value for c in workbook["Câu hỏi"][1]]
    assert header[:6] == ["Mã câu hỏi", "Mục", "Loại", "Độ khó", "Trạng thái", "Câu hỏi"]
    assert "Phương án F" in header and "Đáp án đúng" in header and "Giải thích" in header
    result = xlsx.parse(content, "mau.xlsx", "viewpoints")
    q = _one(result)
    assert (q.key, q.section, q.kind, q.status) == ("vi-du-1", "viewpoints", "single", "draft")


def test_xlsx_text_that_looks_like_a_formula_stays_text():
    content = xlsx.dump([TRICKY[3]])
    cell = load_workbook(BytesIO(content))["Câu hỏi"]["F2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


# ---------------------------------------------------------------- YAML

YAML_BROKEN = """\
format: quizapp-questions/1
questions:
  - key: y-one
    kind: single
    prompt: "Một?"
    choices:
      - text: "a"
        correct: true
      - text: "b"
    explanation: "Vì."
  - key: y-two
    section: nowhere
    kind: single
    prompt: "Hai?"
    choices:
      - text: "a"
    explanation: "Vì."
    colour: red
"""


def test_yaml_reads_without_an_outline_and_reports_lines():
    result = yaml_format.parse(YAML_BROKEN.encode(), "q.yaml", "viewpoint-1", section_keys=SECTIONS)
    q = result.questions[0]
    assert (q.key, q.section, q.origin) == ("y-one", "viewpoint-1", "line 3")
    assert result.errors == [
        "line 18: unknown field 'colour'",
        "line 12: question 'y-two': unknown section 'nowhere'",
        "line 15: question 'y-two' needs at least 2 choices",
        "line 15: question 'y-two': a single-choice question needs exactly one right answer, found 0",
    ]


def test_yaml_syntax_and_format_errors():
    assert yaml_format.parse(b"format: [", "q.yaml").errors[0].startswith("line 1: YAML syntax error")
    assert yaml_format.parse(b"", "q.yaml").errors == ["line 1: expected 'format: quizapp-questions/1'"]
    assert yaml_format.parse(b"format: other/1\n", "q.yaml").errors == [
        "line 1: expected 'format: quizapp-questions/1'"]


def test_yaml_allows_a_draft_without_explanation_but_checks_covers_shape():
    text = ("format: quizapp-questions/1\nquestions:\n"
            "  - {key: d, section: targets, kind: truefalse, prompt: P, answer: false,"
            " explanation: '', covers: [growth-overall]}\n"
            "  - {key: e, section: targets, kind: truefalse, prompt: P, answer: true,"
            " explanation: x, covers: ['Not A Key']}\n")
    result = yaml_format.parse(text.encode(), "q.yaml")
    assert _choices(result.questions[0]) == [("Đúng", False), ("Sai", True)]
    assert result.errors == ["line 4: question 'e': unknown outline item 'Not A Key'"]


# ---------------------------------------------------------------- every format

@pytest.mark.parametrize("name", ["yaml", "gift", "xlsx"])
def test_the_bundled_bank_round_trips(parsed_bank, name):
    fmt = FORMATS[name]
    questions = parsed_bank.questions
    result = fmt.parse(fmt.dump(questions), f"bank.{name}", None,
                       section_keys={s.key for s in parsed_bank.sections})
    assert not result.errors, result.errors[:5]
    assert not result.skipped
    assert _without_origin(result.questions) == _without_origin(questions)
    # Our classic several-answers questions (all or nothing, no weights) come back as
    # they went, not as Moodle's partial credit (GIFT writes grading=all-or-nothing).
    classic = [q.key for q in questions if q.kind == "multiple"
               and all(c.fraction is None for c in q.choices)]
    assert classic
    back = {q.key: q for q in result.questions}
    assert all(all(c.fraction is None for c in back[key].choices) for key in classic)


@pytest.mark.parametrize("name", ["yaml", "gift", "aiken"])
def test_text_in_another_encoding_is_one_error(name):
    text = {"yaml": "format: quizapp-questions/1\nquestions: []\n# Câu hỏi\n",
            "gift": "// đề\n::a:: Câu hỏi? {=Đúng ~Sai}\n",
            "aiken": "Câu hỏi?\nA. Một\nB. Hai\nANSWER: A\n"}[name]
    # A Windows-1258 file, as older Vietnamese Windows tools save it.
    result = FORMATS[name].parse(text.encode("cp1258", errors="replace"), "x", "viewpoints")
    assert len(result.errors) == 1 and "not UTF-8 text" in result.errors[0]
    assert result.errors[0].startswith("line ")
    assert result.questions == []
    utf16 = FORMATS[name].parse(text.encode("utf-16"), "x", "viewpoints")
    assert utf16.errors == ["line 1: not UTF-8 text (the file is UTF-16); save it as UTF-8"]


@pytest.mark.parametrize("name", ["yaml", "gift", "aiken"])
def test_a_utf8_bom_is_accepted(name):
    text = {"yaml": "format: quizapp-questions/1\nquestions:\n  - {key: b, section: targets, "
                    "kind: truefalse, prompt: P, answer: true, explanation: x}\n",
            "gift": "::b:: Câu hỏi? {=Đúng ~Sai}\n",
            "aiken": "Câu hỏi?\nA. Một\nB. Hai\nANSWER: A\n"}[name]
    result = FORMATS[name].parse(b"\xef\xbb\xbf" + text.encode(), "x", "targets")
    assert not result.errors and len(result.questions) == 1
    assert not result.questions[0].key.startswith("\ufeff")


@pytest.mark.parametrize("name", ["yaml", "gift", "aiken", "xlsx"])
def test_files_over_the_size_limit_are_refused(name):
    result = FORMATS[name].parse(b"x" * (MAX_BYTES + 1), "big", "viewpoints")
    assert len(result.errors) == 1 and f"larger than {MAX_BYTES // 1024 // 1024} MiB" in result.errors[0]
    assert result.questions == []


@pytest.mark.parametrize("filename, content, expected", [
    ("bank.yaml", None, "yaml"), ("BANK.YML", None, "yaml"), ("moodle.gift", None, "gift"),
    ("ngan-hang.gift.txt", None, "gift"), ("ngan-hang.aiken.txt", None, "aiken"),
    ("cau-hoi.xlsx", None, "xlsx"), ("cau-hoi.txt", None, "aiken"),
    ("cau-hoi.txt", b"::a:: Q? {=x ~y}", "gift"), ("cau-hoi.txt", b"Q?\nA. x\nB. y\nANSWER: A", "aiken"),
    ("cau-hoi.docx", None, None), ("", None, None),
])
def test_detect(filename, content, expected):
    assert detect(filename, content) == expected


def test_a_title_shaped_like_a_key_in_a_foreign_file_never_meets_another_files():
    """Two districts' files both titled ::q1:: are two questions; only our own export
    (a '// quizapp:' comment before the question) names the key by its title."""
    text = "::q1:: Đại hội họp năm nào? {=2025 ~2020}\n"
    assert [q.key for q in _gift(text, filename="huyen-a.gift").questions] == ["huyen-a-q1"]
    assert [q.key for q in _gift(text, filename="huyen-b.gift").questions] == ["huyen-b-q1"]
    ours = "// quizapp: difficulty=1 status=draft\n" + text
    assert [q.key for q in _gift(ours, filename="huyen-a.gift").questions] == ["q1"]
