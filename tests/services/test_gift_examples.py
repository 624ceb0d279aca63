"""Moodle's own GIFT examples (tests/data/moodle/gift_examples.txt, written out from
question/format/gift/examples.txt and the GIFT documentation page) read with Moodle's
meaning: every supported question with its kind and right answers, every other one
named by its line, nothing refused."""
from __future__ import annotations

from pathlib import Path

from quizapp.services.bank.formats import gift

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "moodle" / "gift_examples.txt"


def _read():
    return gift.parse(EXAMPLES.read_bytes(), "examples.txt", "viewpoints", section_keys={"viewpoints"})


def test_moodles_examples_read_as_moodle_means_them():
    result = _read()
    assert not result.errors, result.errors
    read = [(q.origin, q.kind, [c.text for c in q.choices if c.correct]) for q in result.questions]
    assert read == [
        ("line 8", "single", ["no one"]),
        ("line 11", "single", ["entombed"]),               # missing word
        ("line 14", "truefalse", ["Sai"]),                 # {FALSE}
        ("line 16", "truefalse", ["Đúng"]),                # {T}
        ("line 25", "single", ["fourth"]),
        ("line 40", "single", ["China"]),
        ("line 44", "single", ["right answer"]),
        ("line 50", "single", ["full credit answer"]),     # one '=': one answer, partial credit
        ("line 52", "single", ["Nazareth"]),
        ("line 59", "multiple", ["Grant", "Grant's wife"]),  # no '=': several answers
        ("line 66", "single", ["= 2 + 3"]),
        ("line 71", "single", ["\\"]),
    ]
    assert [s.split(":")[0] + ": " + s.split(": ", 1)[1].split(" (")[0] for s in result.skipped] == [
        "line 19: skipped a short-answer question", "line 22: skipped a numerical question",
        "line 32: skipped a matching question", "line 79: skipped an essay question"]


def test_titles_texts_and_feedback_of_the_examples():
    by_line = {q.origin: q for q in _read().questions}
    assert by_line["line 11"].prompt == "Grant is _____ in Grant's tomb."
    assert by_line["line 40"].key == "examples-kanji-origins"
    assert by_line["line 40"].prompt == "Japanese characters originally came from what country?"
    assert by_line["line 52"].prompt == "Jesus Christ was from _____."
    assert "Nazareth: Yes! That's right!" in by_line["line 52"].explanation
    assert [c.text for c in by_line["line 71"].choices] == ["~", "=", "\\"]
    # Questions without a title get a key from their text; the same text again is the same key.
    assert by_line["line 8"].key.startswith("gift-") and len(by_line["line 8"].key) == 13
