"""Issue 12, Moodle XML through the CLI: `bank export PATH.xml`, `bank validate PATH.xml`
and `bank import PATH.xml` work like the other formats, the format told by the extension
(or by the <quiz> root), categories placing questions by section title."""
from __future__ import annotations

import pytest

from quizapp.services.bank import current_questions

pytestmark = pytest.mark.usefixtures("isolated_requests")

MOODLE_FILE = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Nghị quyết/Năm quan điểm của Đại hội</text></category></question>
  <question type="multichoice">
    <name><text>Câu 1</text></name>
    <questiontext format="html"><text><![CDATA[<p>Đại hội đưa ra mấy quan điểm?</p>]]></text></questiontext>
    <single>true</single>
    <answer fraction="100"><text>5</text></answer>
    <answer fraction="0"><text>4</text></answer>
  </question>
  <question type="category"><category><text>$course$/top/Nghị quyết/Lạ</text></category></question>
  <question type="truefalse">
    <name><text>Câu 2</text></name>
    <questiontext format="plain_text"><text>Đại hội họp năm 2025.</text></questiontext>
    <answer fraction="100"><text>true</text></answer>
    <answer fraction="0"><text>false</text></answer>
  </question>
  <question type="essay"><name><text>Tự luận</text></name><questiontext><text>Viết.</text></questiontext></question>
</quiz>
"""


def test_export_to_an_xml_name_needs_no_format_option(runner, bank, tmp_path):
    path = tmp_path / "ngan-hang.xml"
    result = runner.invoke(args=["bank", "export", str(path)])
    assert result.exit_code == 0, result.output
    assert f"wrote {path} (xml): {len(bank.questions)} questions" in result.output
    text = path.read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>') and "<quiz>" in text
    # Categories are the sections' titles, under their parents.
    assert "$course$/top/Năm quan điểm của Đại hội/Quan điểm (1)" in text


def test_validate_then_import_an_xml_file(runner, bank, tmp_path):
    path = tmp_path / "de-thi.xml"
    path.write_text(MOODLE_FILE, encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", str(path)])
    assert result.exit_code == 1, result.output
    assert "line 18: skipped a question of type 'essay' 'Tự luận'" in result.output
    assert "category '$course$/top/Nghị quyết/Lạ' names no section" in result.output
    before = len(current_questions())
    result = runner.invoke(args=["bank", "import", str(path), "--section", "targets"])
    assert result.exit_code == 0, result.output
    sections = {q.key: q.section.key for q in current_questions()}
    assert len(sections) == before + 2
    assert sections["de-thi-nghi-quyet-nam-quan-diem-cua-dai-hoi-cau-1"] == "viewpoints"
    assert sections["de-thi-nghi-quyet-la-cau-2"] == "targets"
    # The same file again changes nothing.
    again = runner.invoke(args=["bank", "import", str(path), "--section", "targets"])
    assert again.exit_code == 0 and "0 new, 0 updated, 0 new versions, 2 unchanged" in again.output


def test_an_xml_file_with_another_extension_is_told_by_its_root(runner, bank, tmp_path):
    path = tmp_path / "de-thi.txt"
    path.write_text(MOODLE_FILE, encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", str(path), "--section", "targets"])
    assert "YAML" not in result.output and "ANSWER" not in result.output
    assert result.exit_code == 0, result.output


def test_a_hostile_xml_file_is_one_line_not_a_traceback(runner, bank, tmp_path):
    path = tmp_path / "xxe.xml"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                    "<quiz>&x;</quiz>\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "line 2: a document type declaration" in result.output
