"""Moodle XML (services/bank/formats/moodle_xml.py), issue 12: a file as Moodle writes it
(tests/data/moodle/moodle_export.xml, written after Moodle's format.php and its test
fixtures), grades as Moodle means them, categories → sections, keys, text formats, what
is skipped by name and line, and our own export read back unchanged."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from quizapp.services.bank import ChoiceData, QuestionData
from quizapp.services.bank.formats import FORMATS, common, detect, moodle_xml

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "moodle" / "moodle_export.xml"
SECTIONS = {"viewpoints": "Năm quan điểm của Đại hội", "quan-diem": "Quan điểm",
            "targets": "Chỉ tiêu chủ yếu đến năm 2030",
            "letter": "Công văn số 02-CV/ĐU về tuyên truyền kết quả Đại hội"}


def _xml(body: str, filename: str = "de-thi.xml", default: str | None = "viewpoints", keys=SECTIONS,
         chosen=None):
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n{body}\n</quiz>\n'
    return moodle_xml.parse(text.encode("utf-8"), filename, default, section_keys=keys,
                            category_sections=chosen)


def _mc(name: str, answers: str, single: str = "true", text: str = "Câu hỏi?", extra: str = "") -> str:
    return (f'<question type="multichoice"><name><text>{name}</text></name>'
            f'<questiontext format="plain_text"><text>{text}</text></questiontext>'
            f"<single>{single}</single>{answers}{extra}</question>")


def _answers(*grades_and_texts) -> str:
    return "".join(f'<answer fraction="{g}"><text>{t}</text></answer>' for g, t in grades_and_texts)


@pytest.fixture(scope="module")
def fixture_result():
    return moodle_xml.parse(FIXTURE.read_bytes(), "de-thi.xml", "viewpoints", section_keys=SECTIONS)


def _by_name(result, suffix: str) -> QuestionData:
    [question] = [q for q in result.questions if q.key.endswith(suffix)]
    return question


# ---------------------------------------------------------------- Moodle's own shapes

def test_the_fixture_reads_every_supported_question_and_names_the_others(fixture_result):
    r = fixture_result
    assert not r.errors, r.errors
    assert [(q.origin, q.kind) for q in r.questions] == [
        ("line 26", "single"), ("line 78", "single"), ("line 121", "multiple"), ("line 139", "multiple"),
        ("line 153", "single"), ("line 186", "truefalse"), ("line 212", "truefalse")]
    # Two answers at 100 % in a one-answer question: either alone is fully right (partial
    # credit, issue 12). Every other kind by its line and name; the question Moodle itself
    # would refuse to save is skipped with the reason, never imported changed.
    two = r.questions[4]
    assert [(c.correct, c.fraction) for c in two.choices][:2] == [(True, 1.0), (True, 1.0)]
    assert r.skipped == [
        "line 167: skipped the question 'Tổng sai': the positive grades add up to 80 %, not 100 % "
        "(Moodle refuses such a several-answers question too)",
        *[f"line {line}: skipped {what} (this app has single, multiple and true/false questions)"
          for line, what in [(224, "a question of type 'shortanswer' 'Trả lời ngắn'"),
                             (230, "a question of type 'numerical' 'Số'"),
                             (235, "a question of type 'matching' 'Ghép'"),
                             (240, "a question of type 'essay' 'Tự luận'"),
                             (244, "a question of type 'cloze' 'Điền khuyết'"),
                             (248, "a description 'Mô tả'"),
                             (252, "a question of type 'ddwtos' 'Kéo thả'"),
                             (256, "a question of type 'calculatedsimple' 'Tính'")]]]


def test_html_text_and_per_answer_feedback(fixture_result):
    q = _by_name(fixture_result, "quan-diem-cau-1")
    assert q.prompt == "Đại hội đưa ra bao nhiêu quan điểm?"
    assert [(c.text, c.correct, c.fraction) for c in q.choices] == [
        ("Năm", True, None), ("Bốn", False, None), ("Ba", False, None)]
    assert q.explanation == "Văn bản ghi «năm quan điểm».\nNăm: Đúng."
    assert (q.status, q.difficulty) == ("draft", 1)


def test_one_answer_with_partial_credit_keeps_moodle_grades(fixture_result):
    q = _by_name(fixture_result, "quan-diem-cau-2")
    # moodle_auto_format keeps its line breaks; an answer without text is left out, as
    # Moodle does.
    assert q.prompt == "Khâu đột phá thứ hai là gì?\nChọn câu đầy đủ nhất."
    assert [(c.text, c.correct, c.fraction) for c in q.choices] == [
        ("Chuyển đổi số", True, 1.0), ("Công nghệ", False, 0.5), ("Hạ tầng", False, -0.25)]
    assert q.explanation == "Công nghệ: Chưa đủ."


def test_several_answers_moodle_style_and_classic(fixture_result):
    moodle_style = _by_name(fixture_result, "2030-cau-1")
    assert [(c.text, c.correct, c.fraction) for c in moodle_style.choices] == [
        ("Tăng trưởng", True, 0.5), ("Thu ngân sách", True, 0.5), ("Tỷ lệ đảng viên", False, 0.0)]
    shared = _by_name(fixture_result, "2030-cau-2")
    # The right answers share 100 % and a wrong one costs 100 %: in a Moodle user's file
    # these are Moodle's weights (one right answer alone earns 50 %); only our export's
    # tag `grading=all-or-nothing` makes them this app's all-or-nothing grading.
    assert [(c.text, c.correct, c.fraction) for c in shared.choices] == [
        ("Kết nạp đảng viên", True, 0.5), ("Thu ngân sách", False, -1.0), ("Chi bộ trong sạch", True, 0.5)]


def test_true_false_images_pre_and_old_answer_names(fixture_result):
    tf = _by_name(fixture_result, "dung-sai-1")
    assert [(c.text, c.correct) for c in tf.choices] == [("Đúng", False), ("Sai", True)]
    # The image is gone (with a warning); the lines of the <pre> stay lines.
    assert tf.prompt == "Logo Công văn ban hành ngày 19/8/2025.\nDòng một\nDòng hai"
    assert tf.explanation == "Ngày 21/8/2025.\nĐúng: Sai rồi.\nSai: Chính xác."
    assert any(w.startswith("line 186: 1 image(s) or file(s)") for w in fixture_result.warnings)
    old = _by_name(fixture_result, "dung-sai-2")
    assert [(c.text, c.correct) for c in old.choices] == [("Đúng", True), ("Sai", False)]
    assert any(w.startswith("line 212: the answers are not named 'true' and 'false'")
               for w in fixture_result.warnings)


def test_what_is_not_kept_gets_one_note_each(fixture_result):
    notes = [w for w in fixture_result.warnings if "is not kept" in w or "are not kept" in w]
    assert len(notes) == 4
    assert any("<defaultgrade>" in n and "(1 question(s): line 78)" in n for n in notes)
    assert any("<shuffleanswers>false</shuffleanswers>" in n for n in notes)
    assert any("<answernumbering>" in n for n in notes)
    assert any(n.startswith("line 26: Moodle tags are not kept") for n in notes)


# ---------------------------------------------------------------- categories and keys

def test_categories_place_questions_by_title_and_slash_in_a_name(fixture_result):
    assert [q.section for q in fixture_result.questions] == [
        "quan-diem", "quan-diem", "targets", "targets", "targets", "letter", "letter"]
    assert not fixture_result.unmatched_categories
    assert _by_name(fixture_result, "dung-sai-1").section == "letter"   # "02-CV//ĐU" is one name


def test_names_are_keyed_by_file_category_and_name():
    body = ('<question type="category"><category><text>$course$/top/A</text></category></question>'
            + _mc("Câu 1", _answers((100, "x"), (0, "y")))
            + '<question type="category"><category><text>$course$/top/B</text></category></question>'
            + _mc("Câu 1", _answers((100, "x"), (0, "y")), text="Khác?"))
    first = _xml(body, "mot.xml")
    assert [q.key for q in first.questions] == ["mot-a-cau-1", "mot-b-cau-1"]
    assert [q.key for q in _xml(body, "hai.xml").questions] == ["hai-a-cau-1", "hai-b-cau-1"]
    # A name that only looks like a key ("q1") is still another file's: two files' "q1"
    # are two questions; our own export (with its quizapp: tag) keeps the name as the key.
    plain = _mc("q1", _answers((100, "x"), (0, "y")))
    assert [q.key for q in _xml(plain, "mot.xml").questions] == ["mot-q1"]
    assert [q.key for q in _xml(plain, "hai.xml").questions] == ["hai-q1"]
    ours = _mc("vp-count", _answers((100, "x"), (0, "y")),
               extra="<tags><tag><text>quizapp: difficulty=2</text></tag></tags>")
    assert [q.key for q in _xml(ours, "mot.xml").questions] == ["vp-count"]


def test_a_long_path_keeps_its_start_and_a_digest():
    def long(name):
        return ('<question type="category"><category><text>$course$/top/' + "Nghị quyết " * 10
                + "</text></category></question>" + _mc(name, _answers((100, "x"), (0, "y")), text=name))
    one, two = _xml(long("Câu 1")), _xml(long("Câu 2"))
    assert len(one.questions[0].key) <= 80 and len(two.questions[0].key) <= 80
    assert one.questions[0].key != two.questions[0].key


def test_a_name_twice_in_one_category_is_two_questions_with_a_warning():
    result = _xml(_mc("Câu 1", _answers((100, "x"), (0, "y")))
                  + _mc("Câu 1", _answers((100, "x"), (0, "y")), text="Khác?"))
    assert [q.key for q in result.questions] == ["de-thi-cau-1", "de-thi-cau-1-2"]
    assert any("imported as a separate question 'de-thi-cau-1-2'" in w for w in result.warnings)


def test_unmatched_categories_are_listed_and_a_chosen_section_places_them():
    body = ('<question type="category"><category><text>$course$/top/Lạ</text></category></question>'
            + _mc("Câu 1", _answers((100, "x"), (0, "y"))))
    listed = _xml(body, default=None)
    assert listed.unmatched_categories == {"$course$/top/Lạ": 1}
    assert listed.errors and "has no section" in listed.errors[0]
    chosen = _xml(body, default=None, chosen={"$course$/top/Lạ": "targets"})
    assert not chosen.errors and chosen.questions[0].section == "targets"
    assert chosen.unmatched_categories == {}


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("body, error", [
    ("<question", "line 4: not well-formed XML"),
    (_mc("a", _answers(("half", "x"), (100, "y"))), 'answer grade fraction="half" is not a number'),
    (_mc("a", _answers((150, "x"), (0, "y"))), 'fraction="150" is not a number between -100 and 100'),
    (_mc("a", _answers(*[(100 if i == 0 else 0, f"c{i}") for i in range(21)])),
     "more than 20 answers in one question"),
    ('<question type="truefalse"><name><text>a</text></name>'
     '<questiontext><text>Q</text></questiontext></question>', "a true/false question without its answers"),
    (_mc("a", _answers((100, "x"), (0, "y")), extra="<tags><tag><text>quizapp: difficulty=9</text></tag></tags>"),
     "cannot read 'difficulty=9'"),
])
def test_errors_have_their_line(body, error):
    result = _xml(body)
    assert result.errors and error in result.errors[0], result.errors
    assert result.errors[0].startswith("line ")
    assert result.questions == []


def test_a_file_whose_root_is_not_quiz():
    result = moodle_xml.parse(b'<?xml version="1.0"?>\n<questions/>', "x.xml", "viewpoints")
    assert result.errors == ["line 2: the file's root element is <questions>, not <quiz>: this is not "
                             "a Moodle XML question file"]


def test_too_many_questions_is_one_error(monkeypatch):
    monkeypatch.setattr(moodle_xml, "MAX_QUESTIONS", 2)
    monkeypatch.setattr(common, "MAX_QUESTIONS", 2)
    result = _xml("".join(_mc(f"q{i}", _answers((100, "x"), (0, "y")), text=f"Q{i}?") for i in range(3)))
    assert [e for e in result.errors] == ["line 3: more than 2 questions in one file: split it"]


# ---------------------------------------------------------------- writing and reading back

TRICKY = [
    QuestionData(key="t-single", section="viewpoints", kind="single", difficulty=2, status="approved",
                 prompt="<b>A & B</b> \"quoted\" ]]> {=x}\nline two", explanation="Giải thích <i>đây</i>",
                 choices=[ChoiceData("%50% <x>", True), ChoiceData("a & b", False)],
                 covers=["item-a", "item-b"], origin="", purpose="recall", excludes=["t-multi"]),
    QuestionData(key="t-multi", section="targets", kind="multiple", difficulty=3, status="draft",
                 prompt="Chọn ba", explanation="",
                 choices=[ChoiceData(f"c{i}", i % 2 == 0) for i in range(7)], covers=[], origin=""),
    QuestionData(key="t-tf", section="letter", kind="truefalse", difficulty=1, status="retired",
                 prompt="Sai?", explanation="", choices=[ChoiceData("Đúng", False), ChoiceData("Sai", True)],
                 covers=[], origin=""),
    QuestionData(key="t-credit", section="targets", kind="single", difficulty=1, status="draft",
                 prompt="Một phần điểm", explanation="",
                 choices=[ChoiceData("a", True, 1.0), ChoiceData("b", False, 0.5), ChoiceData("c", False, -0.3333333)],
                 covers=[], origin=""),
]


def test_tricky_texts_and_grades_round_trip():
    content = moodle_xml.dump(TRICKY, section_paths={"letter": [SECTIONS["letter"]]})
    result = moodle_xml.parse(content, "bank.xml", None, section_keys=SECTIONS)
    assert not result.errors and not result.skipped and not result.warnings, result
    assert [dataclasses.replace(q, origin="") for q in result.questions] == TRICKY


def test_our_multiple_answer_grades_make_choosing_everything_worth_nothing():
    # Moodle adds the grades of the chosen answers and clamps to 0…100 %.
    text = moodle_xml.dump([TRICKY[1]]).decode()
    grades = [float(g) for g in re.findall(r'fraction="([-0-9.]+)"', text)]
    right = [g for g in grades if g > 0]
    assert round(sum(right), 2) == 100 and len(right) == 4
    assert max(0, sum(grades)) == 0


def test_the_bundled_bank_round_trips_with_sections_by_title(parsed_bank):
    by_key = {s.key: s for s in parsed_bank.sections}
    paths = {}
    for section in parsed_bank.sections:
        path, at = [], section
        while at is not None:
            path.append(at.title)
            at = by_key.get(at.parent_key)
        paths[section.key] = path[::-1]
    content = moodle_xml.dump(parsed_bank.questions, section_paths=paths)
    assert "Công văn số 02-CV//ĐU" in content.decode()
    result = moodle_xml.parse(content, "bank.xml", None,
                              section_keys={s.key: s.title for s in parsed_bank.sections})
    assert not result.errors and not result.skipped and not result.warnings
    assert not result.unmatched_categories
    assert ([dataclasses.replace(q, origin="") for q in result.questions]
            == [dataclasses.replace(q, origin="") for q in parsed_bank.questions])
    # Moodle reads a several-answers question by its grades alone, so our classic
    # all-or-nothing ones carry the quizapp tag grading=all-or-nothing, and come back so.
    classic = {q.key for q in parsed_bank.questions if q.kind == "multiple"
               and all(c.fraction is None for c in q.choices)}
    assert classic and content.decode().count("grading=all-or-nothing") == len(classic)
    assert all(c.fraction is None for q in result.questions if q.key in classic for c in q.choices)


@pytest.mark.parametrize("filename, content, expected", [
    ("de-thi.xml", None, "xml"), ("DE-THI.XML", None, "xml"),
    ("de-thi", b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- question: 0 -->\n<quiz>', "xml"),
    ("de-thi.txt", b"\xef\xbb\xbf<quiz>\n<question", "xml"),
    ("de-thi.txt", b"<quizzes>", "aiken"),
])
def test_detect_xml_by_name_or_quiz_root(filename, content, expected):
    assert detect(filename, content) == expected


def test_the_format_is_registered():
    assert FORMATS["xml"].label == "Moodle XML" and FORMATS["xml"].extension == "xml"
