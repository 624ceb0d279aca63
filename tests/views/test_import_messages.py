"""The import page says what is wrong with a question file in Vietnamese, the page's
language, with the line or row, whatever the format: an organizer who does not read
English must be able to fix the file. The command line keeps printing English."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.views.test_editor_views import commit_action, generate, text_of, upload, xlsx_file

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture(autouse=True)
def own_instance_folder(app, tmp_path):
    """Uploads go to instance/uploads: each test its own folder (none should be written)."""
    app.instance_path = str(tmp_path / "instance")
    Path(app.instance_path).mkdir()


@pytest.fixture
def org_client(client, organizer, bank):
    client.login("btc")
    return client


def listed(response, css_class: str) -> list[str]:
    """The items of the preview's list with that class ("errors", "small warnings")."""
    page = text_of(response)
    found = re.search(rf'<ul class="{css_class}">(.*?)</ul>', page, re.S)
    assert found, page[-2000:]
    return [re.sub(r"\s+", " ", item).strip() for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def skipped(response) -> list[str]:
    page = text_of(response)
    found = re.search(r'</p><ul class="small">(.*?)</ul>', page, re.S)
    assert found, page[-2000:]
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S)


def assert_refused_in_vietnamese(response, vietnamese: str, english: str) -> None:
    assert response.status_code == 200
    errors = listed(response, "errors")
    assert vietnamese in errors, errors
    assert english not in text_of(response)
    assert not [e for e in errors if re.match(r"(line|row) \d+:", e)], errors
    assert commit_action(response) is None


def test_an_aiken_file_without_its_answer_line(org_client):
    response = upload(org_client, "Đại hội họp năm nào?\nA. 2020\nB. 2025\n".encode(), "de.aiken.txt",
                      section="viewpoints")
    assert_refused_in_vietnamese(response, "dòng 1: câu hỏi không có dòng 'ANSWER:'",
                                 "the question has no 'ANSWER:' line")


def test_an_aiken_file_with_an_option_twice(org_client):
    response = upload(org_client, "Câu hỏi?\nA. Một\nA. Hai\nANSWER: A\n".encode(), "de.aiken.txt",
                      section="viewpoints")
    assert_refused_in_vietnamese(response, "dòng 3: phương án A xuất hiện hai lần", "option A appears twice")


def test_a_gift_file_with_a_weight_out_of_range(org_client):
    response = upload(org_client, "::c1:: Câu hỏi? {=Đúng ~%200%Sai}\n".encode(), "de.gift", section="viewpoints")
    assert_refused_in_vietnamese(response, "dòng 1: trọng số đáp án 200% nằm ngoài khoảng -100%…100%",
                                 "is outside -100%")


def test_a_gift_file_whose_partial_credit_does_not_add_up(org_client):
    response = upload(org_client, "Chọn các ý đúng {~%50%Một ~%20%Hai ~Ba}\n".encode(), "de.gift",
                      section="viewpoints")
    # A problem put into another message is translated too; the answers are the file's.
    assert_refused_in_vietnamese(
        response, "dòng 1: tổng các điểm dương của câu nhiều đáp án phải bằng 100 (Một 50%, Hai 20%, Ba 0%)",
        "must add up to 100")


MOODLE_BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<question type="multichoice"><name><text>Câu 1</text></name>
<questiontext format="plain_text"><text>Đại hội họp năm nào?</text></questiontext>
<answer fraction="một trăm"><text>2025</text></answer><answer fraction="0"><text>2020</text></answer></question>
</quiz>
""".encode()

MOODLE_NOTES = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<question type="multichoice"><name><text>Câu 1</text></name>
<questiontext format="html"><text><![CDATA[<p>Xem hình <img src="@@PLUGINFILE@@/a.png"></p>]]></text></questiontext>
<tags><tag><text>chương 1</text></tag></tags>
<answer fraction="100"><text>2025</text></answer><answer fraction="0"><text>2020</text></answer></question>
<question type="multichoice"><name><text>Câu 2</text></name>
<questiontext format="plain_text"><text>Chọn một</text></questiontext>
<answer fraction="50"><text>A</text></answer><answer fraction="0"><text>B</text></answer></question>
</quiz>
""".encode()


def test_a_moodle_xml_file_with_a_grade_that_is_not_a_number(org_client):
    response = upload(org_client, MOODLE_BROKEN, "de.xml", section="viewpoints")
    assert_refused_in_vietnamese(
        response, 'dòng 5: điểm của đáp án fraction="một trăm" không phải là số từ -100 đến 100',
        "is not a number between -100 and 100")


def test_a_moodle_xml_files_warnings_and_skipped_questions_are_in_vietnamese(org_client):
    response = upload(org_client, MOODLE_NOTES, "de.xml", section="viewpoints")
    assert response.status_code == 200
    warnings = listed(response, "small warnings")
    assert ("dòng 3: 1 hình ảnh hoặc tệp đính kèm trong câu hỏi 'Câu 1' không nhập được (ứng dụng chỉ giữ "
            "văn bản): hãy kiểm tra nội dung vẫn rõ nghĩa khi không có chúng") in warnings
    assert ("dòng 3: không giữ thẻ (tag) của Moodle (ứng dụng không dùng thẻ; chỉ đọc thẻ 'quizapp:') "
            "(1 câu hỏi: dòng 3)") in warnings
    assert skipped(response) == ["dòng 7: bỏ qua câu hỏi 'Câu 2': không có đáp án nào được 100 % (cao nhất "
                                 "được 50 %); Moodle yêu cầu phải có một đáp án như vậy"]
    page = text_of(response)
    assert "cannot be imported" not in page and "Moodle tags are not kept" not in page
    assert "skipped the question" not in page
    assert commit_action(response)   # warnings do not stop the import


def test_an_xlsx_file_with_a_right_answer_that_is_no_option(org_client):
    content = xlsx_file([["qa-x1", "goals", "", "", "", "Câu hỏi?", "Một", "Hai", "", "D", ""]])
    response = upload(org_client, content, "cau-hoi.xlsx", section="goals")
    assert_refused_in_vietnamese(response, "hàng 2: đáp án đúng D không có trong các phương án (A, B)",
                                 "is not among the options")


def test_an_xlsx_file_with_a_column_twice_and_missing_ones(org_client):
    content = xlsx_file([], headers=["Mã câu hỏi", "Câu hỏi", "Câu hỏi", "Phương án A"])
    response = upload(org_client, content, "cau-hoi.xlsx", section="goals")
    assert_refused_in_vietnamese(response, "hàng 1: cột 'Câu hỏi' xuất hiện hai lần", "appears twice")
    assert "hàng 1: thiếu cột: Phương án B, Đáp án đúng" in listed(response, "errors")


YAML_BROKEN = """format: quizapp-questions/1
questions:
  - key: qa-yaml-1
    section: viewpoints
    kind: single
    prompt: Đại hội họp năm nào?
    choices:
      - {text: "2025", correct: true}
      - {text: "2020", correct: true}
""".encode()


def test_a_yaml_file_whose_one_answer_question_has_two(org_client):
    response = upload(org_client, YAML_BROKEN, "cau-hoi.yaml", section="viewpoints")
    assert_refused_in_vietnamese(
        response, "dòng 7: câu hỏi 'qa-yaml-1': câu một lựa chọn cần đúng một đáp án đúng, nhưng có 2",
        "needs exactly one right answer")


def test_a_yaml_syntax_error_names_its_line_in_vietnamese(org_client):
    response = upload(org_client, b"format: quizapp-questions/1\nquestions: [\n", "cau-hoi.yaml",
                      section="viewpoints")
    errors = listed(response, "errors")
    assert len(errors) == 1 and errors[0].startswith("dòng 2: lỗi cú pháp YAML: "), errors
    assert commit_action(response) is None


def test_a_lint_finding_names_its_line_in_vietnamese(org_client):
    content = ("::a:: Câu hỏi về đại hội? {=Một ~Hai}\n\n"
               "::b:: Câu hỏi về đại hội? {=Một ~Ba}\n").encode()
    response = upload(org_client, content, "de.gift", section="viewpoints")
    warnings = listed(response, "small warnings")
    # The parser's warning and the linter's finding (whose text the linter translates).
    assert "dòng 3: có thể bị trùng: nội dung câu hỏi giống câu ở dòng 1" in warnings
    assert [w for w in warnings if "[duplicate-prompt]" in w] == [
        "dòng 3: [duplicate-prompt] de-b: trùng nội dung câu hỏi với de-a"]


def test_an_outline_with_errors_says_them_in_vietnamese(org_client):
    response = generate(org_client, "format: quizapp-outline/1\nversion: 0\nsections: []\n".encode(), "outline.yaml")
    page = text_of(org_client.get(response.headers["Location"]))
    assert "outline.yaml, dòng 2: 'version' phải là một số nguyên dương" in page
    assert "must be a positive integer" not in page


def test_the_command_line_keeps_printing_english(runner, bank, tmp_path):
    path = tmp_path / "de.aiken.txt"
    path.write_text("Đại hội họp năm nào?\nA. 2020\nB. 2025\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(path), "--section", "viewpoints"])
    assert result.exit_code != 0
    assert "line 1: the question has no 'ANSWER:' line" in result.output
    assert "dòng" not in result.output
