"""The question file readers' messages: the English string stays what the command line
prints, and each also says itself in Vietnamese (the import page's language) with its
line or row, for every message a broken file of any format can produce."""
from __future__ import annotations

import pickle
import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from openpyxl import Workbook

from quizapp.services.bank import read_bank
from quizapp.services.bank.formats import aiken, gift, moodle_xml, xlsx, yaml_format
from quizapp.services.bank.formats.common import MAX_ANSWERS, MAX_BYTES, ParseResult, Skipped
from quizapp.services.bank.messages import Message, Places, Where, localize_where

ROOT = Path(__file__).resolve().parents[2]
VI = ROOT / "quizapp" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
READERS = [ROOT / "quizapp" / "services" / "bank" / name for name in (
    "schema.py", "store.py", "formats/common.py", "formats/aiken.py", "formats/gift.py",
    "formats/moodle_xml.py", "formats/xlsx.py", "formats/yaml_format.py")]
SECTIONS = {"s"}


def vietnamese(app, fn):
    """`fn()` as a page computes it (Vietnamese, the default language)."""
    with app.test_request_context("/"):
        return fn()


# ---------------------------------------------------------------- a corpus of broken files

def workbook(rows: list[list], headers: list[str] | None = None, edit=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers or ["Mã câu hỏi", "Mục", "Loại", "Độ khó", "Trạng thái", "Mục đích", "Câu hỏi",
                             "Phương án A", "Phương án B", "Phương án C", "Đáp án đúng",
                             "Điểm từng phương án", "Giải thích"])
    for row in rows:
        sheet.append(row)
    if edit:
        edit(sheet)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _merged_and_formula(sheet) -> None:
    sheet.append(["k-m", "s", "", "", "", "", "Câu?", "x", "y", "", "A", "", ""])
    sheet.merge_cells("B2:B3")
    sheet["G4"] = "=CONCAT(\"a\",\"b\")"   # a formula openpyxl saves without a value


AIKEN = [
    "Câu một?\nA. Có\nA. Không\nANSWER: C\n\nCâu hai?\n",
    "Câu?\nA. x\nB. y\nANSWER:\n\nCâu ba?\nA. x\nB. y\nANSWER: AB\n\nCâu bốn?\nA. x\nB. y\nANSWER: D\n\n"
    "ANSWER: A\n\nCâu năm?\nA. x\nB. y\n",
    "Câu sáu?\nA. x\nB. y\nANSWER: A\n\nCâu sáu?\nA. x\nB. y\nANSWER: A\n\nCâu bảy?\nA. x\nB. x\nANSWER: A\n",
    "Câu \x01 tám?\nA. x\nB. y\nANSWER: A\n",
]
GIFT = [
    "::t Câu {=A ~B}",
    "Câu } {=A ~B}",
    "Câu {=A ~B",
    "Câu {=A {~B}",
    "Câu {=A ~B} còn {=C ~D}",
    "Câu {=A ~B} x }",
    "Câu {abc}",
    "Câu {x =A ~B}",
    "Câu {=A ~%200%B}",
    "Câu {=A ~%abc%B}",
    "Câu {=A ~}",
    "Câu nhiều {~%50%A ~%20%B ~C}",
    "Câu một {=%50%A ~B}",
    "Câu đúng sai {T ~%50%x}",
    "Câu nhiều lắm {" + " ".join(f"~a{n}" for n in range(MAX_ANSWERS + 1)) + "}",
    "// quizapp: bogus=1\n::k0:: Câu {=A ~B}",
    "// quizapp: status=approved covers=Bad_Item excludes=BAD\n::k1:: Câu duyệt {=A ~B}",
    "// quizapp:\n::k3:: Câu một {=A ~B}\n\n// quizapp:\n::k3:: Câu hai {=A ~B}",
]


def xml(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n{body}\n</quiz>\n'.encode()


def _question(name: str, extra: str = "", answers: str = "", kind: str = "multichoice") -> str:
    answers = answers or '<answer fraction="100"><text>A</text></answer><answer fraction="0"><text>B</text></answer>'
    return (f'<question type="{kind}"><name><text>{name}</text></name>'
            f'<questiontext format="html"><text>Câu {name}?</text></questiontext>{extra}{answers}</question>')


MOODLE = [
    b'<?xml version="1.0"?>\n<!DOCTYPE quiz>\n<quiz></quiz>\n',
    b"<quiz>\n<question>\n</quiz>\n",
    b"<quizz/>\n",
    xml(_question("q1", answers='<answer fraction="abc"><text>A</text></answer>')),
    xml(_question("q2", answers="".join(f'<answer fraction="0"><text>a{n}</text></answer>'
                                        for n in range(MAX_ANSWERS + 1)))),
    xml(_question("q3", answers=" ", kind="truefalse")),
    xml(_question("q4", answers='<answer fraction="100"><text>yes</text></answer>'
                               '<answer fraction="0"><text>no</text></answer>', kind="truefalse")),
    xml("\n".join(_question(f"n{n}", "<tags><tag><text>chương 1</text></tag></tags><defaultgrade>2</defaultgrade>"
                                     "<shuffleanswers>false</shuffleanswers><answernumbering>123</answernumbering>")
                  for n in range(7))),
    xml('<question type="multichoice"><name><text>ảnh</text></name><questiontext format="html"><text>'
        '<![CDATA[<p>Xem hình <img src="@@PLUGINFILE@@/a.png"></p>]]></text></questiontext>'
        '<answer fraction="100"><text>A</text></answer><answer fraction="0"><text>B</text></answer></question>'),
    xml(_question("k1", answers='<answer fraction="50"><text>A</text></answer>'
                                '<answer fraction="0"><text>B</text></answer>')),
    xml(_question("k2", "<single>false</single>", '<answer fraction="50"><text>A</text></answer>'
                                                   '<answer fraction="0"><text>B</text></answer>')),
]
XLSX = [
    b"not a workbook",
    workbook([], headers=["Mã câu hỏi", "Câu hỏi", "Phương án A", "Câu hỏi"]),
    workbook([], headers=["Mã câu hỏi", "Câu hỏi", "Đáp án đúng"]
             + [f"Phương án {chr(ord('A') + n)}" for n in range(MAX_ANSWERS + 1)]),
    workbook([
        ["k-a", "s", "lạ", "", "", "", "Câu?", "x", "y", "", "A", "", ""],
        ["k-b", "s", "đúng/sai", "", "", "", "Câu?", "x", "y", "", "Có lẽ", "", ""],
        ["k-c", "s", "", "", "", "", "Câu?", "x", "y", "", "", "", ""],
        ["k-d", "s", "", "", "", "", "Câu?", "x", "y", "", "1", "", ""],
        ["k-e", "s", "", "", "", "", "Câu?", "x", "y", "", "E", "", ""],
        ["k-f", "s", "", "", "", "", "Câu?", "", "", "", "A", "", ""],
        ["k-g", "s", "", "", "", "", "Câu?", "x", "y", "", "A", "Z:50", ""],
        ["k-h", "s", "", "9", "lạ", "lạ", "Câu?", "x", "y", "", "A", "", ""],
        ["!!!", "s", "", "", "", "", "Câu?", "x", "y", "", "A", "", ""],
    ]),
    workbook([["k-i", "s", "", "", "", "", "Câu?", "x", "y", "", "A", "", ""]], edit=_merged_and_formula),
    workbook([["k-j", "", "một lựa chọn", "", "", "", "Câu?", "x", "y", "", "A,B", "", ""],
              ["k-k", "Bad Section", "", "", "", "", "Câu?", "x", "y", "", "A", "", ""]]),
]
YAML = [
    "format: [\n",
    "questions: []\n",
    "format: quizapp-questions/1\nquestions: 3\n",
    """format: quizapp-questions/1
questions:
  - 3
  - key: Bad Key
    section: nowhere
    kind: odd
    difficulty: 9
    status: odd
    purpose: odd
    excludes: 3
    reserve: maybe
    prompt: ""
    covers: 3
    colour: red
  - key: y-tf
    kind: truefalse
    choices: []
    prompt: Đúng không?
  - key: y-single
    kind: single
    answer: true
    prompt: Câu?
    choices:
      - 3
      - {text: "", correct: true}
      - {text: A, correct: 3, colour: red}
      - {text: A, credit: 500}
  - key: y-credit
    kind: single
    prompt: Câu?
    covers: [Bad_Item]
    choices:
      - {text: A, correct: false, credit: 100}
      - {text: B, credit: 20}
  - key: y-partial
    kind: multiple
    prompt: Câu?
    choices:
      - {text: A, credit: 50}
      - {text: B, credit: 20}
  - key: y-two
    kind: single
    prompt: Câu?
    choices:
      - {text: A, correct: true}
      - {text: B, correct: true}
  - key: y-none
    kind: multiple
    prompt: Câu?
    choices:
      - {text: A}
      - {text: B}
  - key: y-%s
    section: s
    kind: multiple
    prompt: Câu dài?
    covers: [%s]
    excludes: [%s]
    choices: [%s]
""" % ("k" * 90, ", ".join(f"item-{n:04d}" for n in range(100)), ", ".join(f"cau-{n:04d}" for n in range(100)),
       ", ".join(f"{{text: a{n}, correct: true}}" for n in range(MAX_ANSWERS + 1))),
]


def outline_folder(tmp_path: Path) -> Path:
    """A bank folder whose outline breaks every outline rule."""
    folder = tmp_path / "bad-bank"
    (folder / "bank").mkdir(parents=True)
    (folder / "outline.yaml").write_text("""format: quizapp-outline/1
version: 0
sections:
  - 3
  - key: Bad
  - key: a
    title: A
    kind: odd
    colour: red
    items:
      - 3
      - {key: i1, colour: red}
      - {key: i1}
    children: 3
  - key: a
    title: again
    kind: goal
  - key: b
    kind: goal
""", encoding="utf-8")
    (folder / "bank" / "q.yaml").write_text("""format: quizapp-questions/1
questions:
  - {key: dup, section: a, kind: truefalse, answer: true, prompt: P, explanation: E}
  - {key: dup, section: a, kind: truefalse, answer: false, prompt: Q, explanation: E, excludes: [ghost]}
  - {key: bare, section: a, kind: truefalse, answer: false, prompt: R}
""", encoding="utf-8")
    (folder / "bank" / "latin1.yaml").write_bytes("format: quizapp-questions/1 # Câu".encode("latin-1"))
    return folder


def corpus(tmp_path: Path) -> list[str]:
    """Every error, warning and skipped item the broken files above give."""
    results: list[ParseResult] = []
    for text in AIKEN:
        results.append(aiken.parse(text.encode(), "a.txt", None))
        results.append(aiken.parse(text.encode(), "a.txt", "nowhere", section_keys=SECTIONS))
    results += [aiken.parse(b"\xff\xfeC\x00", "a.txt", "s"), aiken.parse(b"C\xffu?", "a.txt", "s")]
    results += [gift.parse(text.encode(), "g.gift", "s", section_keys=SECTIONS) for text in GIFT]
    results += [moodle_xml.parse(content, "m.xml", "s", section_keys=SECTIONS) for content in MOODLE]
    results += [xlsx.parse(content, "x.xlsx", None) for content in XLSX]
    too_large = b"x" * (MAX_BYTES + 1)
    results += [aiken.parse(too_large, "a.txt", "s"), xlsx.parse(too_large, "x.xlsx", "s")]
    results += [yaml_format.parse(text.encode(), "y.yaml", None, section_keys=SECTIONS) for text in YAML]
    messages = [m for r in results for m in [*r.errors, *r.warnings, *r.skipped]]
    messages += read_bank(outline_folder(tmp_path)).errors
    messages += read_bank(tmp_path / "no-such-bank").errors
    (tmp_path / "no-sections").mkdir()
    (tmp_path / "no-sections" / "outline.yaml").write_text("format: quizapp-outline/1\nversion: 1\nsections: []\n")
    messages += read_bank(tmp_path / "no-sections").errors
    empty = tmp_path / "empty-bank"
    empty.mkdir()
    messages += read_bank(empty).errors
    return messages


def templates(message) -> list[str]:
    """The templates of a message and of the messages put into it."""
    if not isinstance(message, Message):
        return []
    return [message.template] + [t for value in message.params.values() for t in templates(value)]


@pytest.fixture
def messages(tmp_path):
    return corpus(tmp_path)


def test_every_message_of_the_broken_files_is_a_message_not_a_plain_string(messages):
    plain = [m for m in messages if not isinstance(m, (Message, Skipped))]
    assert plain == []


def test_every_message_of_the_broken_files_has_a_vietnamese_translation(app, messages):
    with VI.open("rb") as handle:
        catalog = {m.id: m.string for m in read_po(handle) if m.id}
    used = {t for m in messages for t in templates(m)}
    # The corpus reaches most of the readers' messages (a shrinking corpus would test little).
    assert len(used) >= 115, len(used)
    assert sorted(t for t in used if not catalog.get(t)) == []
    shown = vietnamese(app, lambda: [(m, m.localized()) for m in messages if isinstance(m, Message)])
    for english, localized in shown:
        # Its place in Vietnamese ("dòng", "hàng"), never the English words.
        assert not re.match(r"(line|row) \d+:", localized), localized
        assert localized != english
    # No English words but the file's own text, field names and tags (quoted or in <…>).
    english_words = [localized for english, localized in shown
                     if re.search(r"\b(question|must be|is not|cannot|answer|the file)\b",
                                  re.sub(r"'[^']*'|<[^>]*>", "", localized))]
    assert english_words == []


def test_the_english_text_is_what_the_command_line_printed_before():
    result = aiken.parse("Câu?\nA. x\nB. y\n".encode(), "a.txt", "s", section_keys=SECTIONS)
    assert list(result.errors) == ["line 1: the question has no 'ANSWER:' line"]
    result = gift.parse("::t:: Câu {=A ~%200%B}".encode(), "g.gift", "s", section_keys=SECTIONS)
    assert list(result.errors) == ["line 1: answer weight 200% is outside -100%…100%"]
    result = gift.parse("Câu {~%50%A ~%20%B ~C}".encode(), "g.gift", "s", section_keys=SECTIONS)
    assert list(result.errors) == ["line 1: the positive credits of a several-answers question must add "
                                   "up to 100 (A 50%, B 20%, C 0%)"]
    result = xlsx.parse(workbook([["k-e", "s", "", "", "", "", "Câu?", "x", "y", "", "E", "", ""]]),
                        "x.xlsx", "s", section_keys=SECTIONS)
    assert list(result.errors) == ["row 2: the right answer E is not among the options (A, B)"]
    result = yaml_format.parse(b"format: quizapp-questions/1\nquestions:\n  - key: k\n    kind: odd\n",
                               "y.yaml", "s", section_keys=SECTIONS)
    assert result.errors[0] == "line 4: question 'k': kind must be one of single, multiple, truefalse"
    result = moodle_xml.parse(MOODLE[7], "m.xml", "s", section_keys=SECTIONS)
    assert ("line 3: Moodle tags are not kept (this app has none; only 'quizapp:' tags are read) "
            "(7 question(s): line 3, line 4, line 5, line 6, line 7 and 2 more)") in result.warnings
    result = aiken.parse("Câu?\nA. x\nB. y\nANSWER: A\n\nCâu?\nA. x\nB. y\nANSWER: A\n".encode(), "a.txt", "s",
                         section_keys=SECTIONS)
    assert result.warnings == ["line 6: the title or question text of line 1 again: imported as a separate "
                               "question 'aiken-" + result.questions[0].key[6:] + "-2'",
                               "line 6: possible duplicate: the same question text as line 1"]


def test_a_message_says_itself_in_vietnamese_with_its_place_and_the_files_own_text(app):
    message = Message("line 12", "option %(letter)s appears twice", letter="B")
    assert str(message) == "line 12: option B appears twice"
    assert vietnamese(app, message.localized) == "dòng 12: phương án B xuất hiện hai lần"
    # The file's own text is never translated, a place inside a message is.
    quoted = Message("row 4", "column '%(column)s' appears twice", column="Câu hỏi (line 2)")
    assert vietnamese(app, quoted.localized) == "hàng 4: cột 'Câu hỏi (line 2)' xuất hiện hai lần"
    again = Message("line 9", "key '%(key)s' is already used at %(first)s", key="k", first=Where("line 2"))
    assert vietnamese(app, again.localized) == "dòng 9: mã 'k' đã được dùng ở dòng 2"
    assert vietnamese(app, lambda: localize_where("bank/a.yaml:7")) == "bank/a.yaml, dòng 7"
    places = Places([f"line {n}" for n in range(1, 8)])
    assert vietnamese(app, places.localized) == "dòng 1, dòng 2, dòng 3, dòng 4, dòng 5 và 2 câu khác"


def test_a_message_keeps_its_translation_through_pickle():
    message = Message("line 3", "%(note)s (%(count)d question(s): %(places)s)",
                      note=Message("", "Moodle tags are not kept (this app has none; only 'quizapp:' tags are read)"),
                      count=2, places=Places(["line 3", "line 9"]))
    copy = pickle.loads(pickle.dumps(message))
    assert copy == message and isinstance(copy, Message)
    assert (copy.where, copy.template, copy.params) == (message.where, message.template, message.params)
    assert isinstance(copy.params["places"], Places) and isinstance(copy.params["note"], Message)


def test_no_reader_writes_an_error_or_warning_as_a_plain_string():
    """A new check written as an f-string would be shown in English on the page."""
    plain = re.compile(r"\.(errors|warnings|skipped)\.append\(\s*f?[\"']|\berrors\.append\(\s*f?[\"']")
    found = [(path.name, n) for path in READERS
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if plain.search(line)]
    assert found == []
