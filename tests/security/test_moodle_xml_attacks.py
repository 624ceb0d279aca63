"""Issue 12, Moodle XML: a hostile .xml must cost nothing and reveal nothing. Entity
expansion (the "billion laughs"), external entities that would read a server file
(XXE), a DTD, a NUL written raw or as a character reference, a file of millions of
elements, a question with too many answers, a file over the size limit: each is refused
quickly with a clear message naming its line, and nothing is imported, by the parser,
the CLI or the web preview. (On the code before this branch there was no XML format:
`FORMATS["xml"]` did not exist and an .xml upload could not be read.)"""
from __future__ import annotations

import io
import time
import tracemalloc

import pytest

from quizapp.services.bank.formats import FORMATS, MAX_BYTES, moodle_xml
from tests.conftest import BrowserClient
from tests.views.test_editor_views import question_count

pytestmark = pytest.mark.usefixtures("isolated_requests")

SECTIONS = {"viewpoint-1"}
BANK = "/organize/bank"

LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE quiz [\n <!ENTITY lol "lol">\n'
          + "".join(f' <!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">\n' for i in range(1, 10))
          + ']>\n<quiz><question type="multichoice"><name><text>&lol9;</text></name></question></quiz>\n')
ENTITY_ONLY = ('<?xml version="1.0"?>\n<quiz>\n<!-- no DTD, just a reference -->\n'
               '<question type="multichoice"><name><text>&xxe;</text></name></question></quiz>\n')


def _parse(content: bytes):
    return FORMATS["xml"].parse(content, "x.xml", "viewpoint-1", section_keys=SECTIONS)


def _timed(content: bytes):
    tracemalloc.start()
    started = time.perf_counter()
    result = _parse(content)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, elapsed, peak


def test_billion_laughs_is_refused_before_any_expansion():
    result, elapsed, peak = _timed(LAUGHS.encode())
    assert result.errors == ["line 2: a document type declaration (<!DOCTYPE …>) is refused: Moodle "
                             "XML needs none, and it can hide entities that expand without end; "
                             "delete it"]
    assert result.questions == []
    assert elapsed < 0.5 and peak < 20 * 1024 * 1024


@pytest.mark.parametrize("target", ["file:///etc/passwd", "http://127.0.0.1:9/secret"])
def test_an_external_entity_is_refused_and_nothing_is_read(target):
    content = (f'<?xml version="1.0"?>\n<!DOCTYPE quiz [<!ENTITY xxe SYSTEM "{target}">]>\n'
               '<quiz><question type="multichoice"><name><text>&xxe;</text></name>'
               '<questiontext><text>&xxe;</text></questiontext></question></quiz>').encode()
    result = _parse(content)
    assert len(result.errors) == 1 and "<!DOCTYPE" in result.errors[0]
    assert "root:" not in str(result) and result.questions == []


def test_an_undeclared_entity_is_a_syntax_error_with_its_line():
    result = _parse(ENTITY_ONLY.encode())
    assert result.errors == ["line 4: not well-formed XML (undefined entity); check the tags around it"]


@pytest.mark.parametrize("nul, line", [("\x00", 3), ("\x1b", 3)])
def test_a_raw_control_character_is_refused_with_its_line(nul, line):
    content = ('<?xml version="1.0"?>\n<quiz>\n<question type="truefalse"><name><text>a</text></name>'
               f'<questiontext format="plain_text"><text>Câu{nul} một</text></questiontext>'
               '<answer fraction="100"><text>true</text></answer></question>\n</quiz>\n').encode()
    result = _parse(content)
    assert result.errors[0].startswith(f"line {line}: control character U+{ord(nul):04X}")
    assert result.questions == []


def test_a_nul_written_as_a_character_reference_is_refused():
    content = ('<?xml version="1.0"?>\n<quiz>\n<question type="truefalse"><name><text>a</text></name>'
               '<questiontext format="plain_text"><text>Câu&#0; một</text></questiontext>'
               '<answer fraction="100"><text>true</text></answer></question>\n</quiz>\n').encode()
    result = _parse(content)
    assert result.errors and result.errors[0].startswith("line 3: not well-formed XML")
    assert result.questions == []


def test_millions_of_empty_elements_stop_at_the_element_limit():
    content = b'<?xml version="1.0"?>\n<quiz>\n' + b"<a/>" * (MAX_BYTES // 4 - 100) + b"\n</quiz>\n"
    assert len(content) <= MAX_BYTES
    result, elapsed, peak = _timed(content)
    assert len(result.errors) == 1 and f"more than {moodle_xml.MAX_ELEMENTS:,} XML elements" in result.errors[0]
    assert elapsed < 10 and peak < 400 * 1024 * 1024, (elapsed, peak)


def test_a_question_with_thousands_of_answers_is_refused():
    answers = "".join(f'<answer fraction="0"><text>c{i}</text></answer>' for i in range(100_000))
    content = (f'<?xml version="1.0"?>\n<quiz>\n<question type="multichoice"><name><text>a</text></name>'
               f'<questiontext><text>Q</text></questiontext>{answers}</question></quiz>').encode()
    result, elapsed, _peak = _timed(content)
    assert result.errors == ["line 3: more than 20 answers in one question"]
    assert elapsed < 10


def test_a_file_over_the_size_limit_is_refused_unread():
    result, elapsed, _peak = _timed(b"<quiz>" + b" " * MAX_BYTES + b"</quiz>")
    assert len(result.errors) == 1 and "larger than 8 MiB" in result.errors[0]
    assert elapsed < 1


def test_the_cli_refuses_billion_laughs_in_one_line(runner, bank, tmp_path):
    path = tmp_path / "lol.xml"
    path.write_text(LAUGHS, encoding="utf-8")
    started = time.perf_counter()
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code != 0 and time.perf_counter() - started < 5
    assert "<!DOCTYPE" in result.output and "Traceback" not in result.output
    assert "nothing imported" in result.output


def test_the_web_preview_refuses_an_external_entity(app, client, make_user):
    make_user("organizer", username="org-xxe")
    browser = BrowserClient(client)
    browser.login("org-xxe")
    before = question_count()
    page = browser.get(f"{BANK}/import").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    content = ('<?xml version="1.0"?>\n<!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
               '<quiz><question type="multichoice"><name><text>&xxe;</text></name></question></quiz>').encode()
    response = browser.post(f"{BANK}/import", data={
        "csrf_token": token, "format": "auto", "section": "",
        "file": (io.BytesIO(content), "de-thi.xml")}, content_type="multipart/form-data")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "DOCTYPE" in text and "root:" not in text
    assert f"{BANK}/import/" not in text   # no import button
    assert question_count() == before
