"""flask --app quizapp bank import|export PATH --format yaml|gift|aiken|xlsx, through the
CLI runner: all or nothing, skipped kinds listed, export → import gives the same bank."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest
from sqlalchemy import delete, func, select

from quizapp.extensions import db
from quizapp.models import Choice, Question
from quizapp.services.bank import current_questions, to_data

pytestmark = pytest.mark.usefixtures("isolated_requests")

COUNTS = re.compile(r"questions: (\d+) new, (\d+) updated, (\d+) new versions, (\d+) unchanged")


def _counts(output: str) -> tuple[int, ...]:
    match = COUNTS.search(output)
    assert match, output
    return tuple(int(g) for g in match.groups())


def _questions() -> int:
    return db.session.scalar(select(func.count()).select_from(Question)) or 0


def _stats(runner) -> dict:
    result = runner.invoke(args=["bank", "stats", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _bank_data() -> list:
    """Every current question as format-neutral data (origin blanked)."""
    db.session.expire_all()
    return [dataclasses.replace(to_data(q), origin="") for q in current_questions()]


@pytest.mark.parametrize("fmt, name", [("yaml", "bank.yaml"), ("gift", "bank.gift"),
                                       ("xml", "bank.xml"), ("xlsx", "bank.xlsx")])
def test_export_then_import_gives_back_the_same_bank(runner, bank, tmp_path, fmt, name):
    before = _stats(runner)
    path = tmp_path / name
    result = runner.invoke(args=["bank", "export", str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert f"wrote {path} ({fmt}): {len(bank.questions)} questions" in result.output

    result = runner.invoke(args=["bank", "import", str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (0, 0, 0, len(bank.questions))
    assert _stats(runner) == before


@pytest.mark.parametrize("fmt", ["yaml", "gift", "xml", "xlsx"])
def test_export_then_import_into_an_empty_bank_recreates_every_question(runner, bank, tmp_path, fmt):
    original = _bank_data()
    path = tmp_path / f"bank.{fmt}"
    assert runner.invoke(args=["bank", "export", str(path), "--format", fmt]).exit_code == 0
    db.session.execute(delete(Choice))
    db.session.execute(delete(Question))
    db.session.commit()

    result = runner.invoke(args=["bank", "import", str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (len(original), 0, 0, 0)
    assert _bank_data() == original


GIFT_WITH_ONE_BROKEN = """\
$CATEGORY: $course$/top/viewpoint-1

::cli-gift-ok:: Câu hỏi đúng cú pháp? {=Có ~Không}

::cli-gift-essay:: Viết cảm nghĩ. {}

::cli-gift-broken:: Thiếu ngoặc đóng {=Có ~Không

::cli-gift-ok2:: Câu nữa? {T}
"""


def test_a_broken_gift_file_imports_nothing_and_prints_every_error(runner, bank, tmp_path):
    path = tmp_path / "broken.gift"
    path.write_text(GIFT_WITH_ONE_BROKEN, encoding="utf-8")
    before = _questions()
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code != 0
    assert "line 7: '{' is never closed" in result.output
    assert "1 error(s)" in result.output and "nothing imported" in result.output
    assert "line 5: skipped an essay question 'cli-gift-essay'" in result.output
    assert _questions() == before

    path.write_text(GIFT_WITH_ONE_BROKEN.replace("{=Có ~Không\n", "{=Có ~Không}\n"), encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (3, 0, 0, 0)
    assert "1 skipped" in result.output
    assert _questions() == before + 3


def test_gift_category_that_is_no_section_falls_back_to_section_option(runner, bank, tmp_path):
    path = tmp_path / "moodle.gift"
    path.write_text("$CATEGORY: $course$/top/Default for Course\n\n::cli-cat:: Q? {=a ~b}\n",
                    encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code != 0
    # A foreign file's title, even one shaped like a key, is prefixed with the file's name.
    assert "line 3: question 'moodle-cli-cat' has no section" in result.output
    result = runner.invoke(args=["bank", "import", str(path), "--section", "targets"])
    assert result.exit_code == 0, result.output
    question = db.session.execute(select(Question).where(Question.key == "moodle-cli-cat")).scalar_one()
    assert (question.section.key, question.status) == ("targets", "draft")


def test_unknown_section_in_a_yaml_file_is_reported_by_line(runner, bank, tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text("format: quizapp-questions/1\nquestions:\n"
                    "  - key: cli-yaml\n    section: nowhere\n    kind: truefalse\n"
                    "    prompt: P\n    answer: true\n    explanation: E\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(path), "--format", "yaml"])
    assert result.exit_code != 0
    assert "line 4: question 'cli-yaml': unknown section 'nowhere'" in result.output


def test_aiken_import_needs_a_section(runner, bank, tmp_path):
    path = tmp_path / "cau-hoi.txt"
    path.write_text("Đại hội đưa ra bao nhiêu quan điểm?\nA. 4\nB. 5\nANSWER: B\n\n"
                    "Có bao nhiêu khâu đột phá?\nA) 3\nB) 4\nANSWER: A\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code != 0
    assert "line 1: Aiken files name no section" in result.output

    result = runner.invoke(args=["bank", "import", str(path), "--section", "nowhere"])
    assert result.exit_code != 0 and "unknown section 'nowhere'" in result.output

    result = runner.invoke(args=["bank", "import", str(path), "--section", "viewpoints"])
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (2, 0, 0, 0)
    again = runner.invoke(args=["bank", "import", str(path), "--section", "viewpoints"])
    assert _counts(again.output) == (0, 0, 0, 2)


def test_aiken_export_says_how_many_questions_it_left_out(runner, bank, tmp_path):
    multiple = sum(q.kind == "multiple" for q in bank.questions)
    path = tmp_path / "out.txt"
    result = runner.invoke(args=["bank", "export", str(path), "--format", "aiken"])
    assert result.exit_code == 0, result.output
    assert f"{len(bank.questions) - multiple} questions" in result.output
    assert f"skipped {multiple} question(s) Aiken cannot hold" in result.output
    assert path.read_text(encoding="utf-8").count("ANSWER: ") == len(bank.questions) - multiple


def test_xlsx_with_a_bad_row_imports_nothing(runner, bank, tmp_path):
    from openpyxl import Workbook
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Mã câu hỏi", "Mục", "Câu hỏi", "Phương án A", "Phương án B", "Đáp án đúng"])
    sheet.append(["cli-x1", "targets", "Một?", "a", "b", "A"])
    sheet.append(["cli-x2", "targets", "Hai?", "a", "b", "C"])
    path = tmp_path / "q.xlsx"
    workbook.save(path)
    before = _questions()
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code != 0
    assert "row 3: the right answer C is not among the options (A, B)" in result.output
    assert _questions() == before


def test_a_file_in_another_encoding_is_refused(runner, bank, tmp_path):
    path = tmp_path / "legacy.gift"
    path.write_bytes("::cli-enc:: Câu hỏi? {=Đúng ~Sai}\n".encode("cp1258", errors="replace"))
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code != 0
    assert "line 1: not UTF-8 text" in result.output


def test_a_file_over_the_size_limit_is_refused(runner, bank, tmp_path):
    from quizapp.services.bank.formats import MAX_BYTES
    path = tmp_path / "huge.gift"
    path.write_bytes(b"// padding\n" * (MAX_BYTES // 10))
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code != 0
    assert f"line 1: the file is larger than {MAX_BYTES // 1024 // 1024} MiB" in result.output


def test_format_options_are_checked(runner, bank, tmp_path):
    result = runner.invoke(args=["bank", "import", str(tmp_path), "--format", "gift"])
    assert result.exit_code != 0 and "not a file" in result.output
    result = runner.invoke(args=["bank", "export", str(tmp_path / "bank.docx")])
    assert result.exit_code != 0 and "give --format" in result.output
    result = runner.invoke(args=["bank", "import", "--section", "targets"])
    assert result.exit_code != 0 and "--category-section go with --format" in result.output


def test_directory_import_without_format_is_unchanged(runner, parsed_bank):
    result = runner.invoke(args=["bank", "import"])
    assert result.exit_code == 0, result.output
    assert (f"sections: {len(parsed_bank.sections)} new, 0 updated; "
            f"questions: {len(parsed_bank.questions)} new") in result.output


def test_validate_and_import_of_a_file_run_the_bank_linter(runner, bank, tmp_path):
    """A file read by `bank validate` or `bank import --format` is linted like the editor's
    upload: a draft's finding is a warning, an approved question's finding refuses the file."""
    path = tmp_path / "lint.gift"
    draft = ("::cli-lint:: Đáp án A đúng hay sai về khâu đột phá? {=Đúng ~Sai ####Giải thích.}\n"
             "// quizapp: status=draft\n")
    path.write_text("$CATEGORY: targets\n\n" + draft, encoding="utf-8")
    before = _questions()
    result = runner.invoke(args=["bank", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"(?m)^warning: .*\[positional\] cli-lint", result.output), result.output
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "[positional] cli-lint" in result.output
    assert _questions() == before + 1

    path.write_text("$CATEGORY: targets\n\n" + draft.replace("draft", "approved")
                    .replace("cli-lint", "cli-lint-2").replace("khâu", "nhiệm vụ"), encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", str(path)])
    assert result.exit_code == 1
    assert "[positional] cli-lint-2" in result.output and "1 error(s)" in result.output
    result = runner.invoke(args=["bank", "import", str(path)])
    assert result.exit_code == 1 and "nothing imported" in result.output
    assert _questions() == before + 1


def test_gift_category_names_a_section_by_its_title_and_the_rest_are_named(runner, bank, tmp_path):
    path = tmp_path / "nghi-quyet.gift"
    path.write_text("$CATEGORY: $course$/Nghị quyết/NĂM QUAN ĐIỂM CỦA ĐẠI HỘI\n\n"
                    "::cli-cat-vp:: Đại hội đưa ra mấy quan điểm? {=5 ~4}\n\n"
                    "$CATEGORY: $course$/Nghị quyết/Quan điểm\n\n"
                    "::cli-cat-other:: Câu không rõ mục? {=Có ~Không}\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", str(path)])
    assert result.exit_code == 1
    assert ("category '$course$/Nghị quyết/Quan điểm' names no section (key or title): "
            "1 question(s) need --section") in result.output
    assert "line 7: question 'nghi-quyet-cli-cat-other' has no section" in result.output
    result = runner.invoke(args=["bank", "import", str(path), "--section", "targets"])
    assert result.exit_code == 0, result.output
    assert "1 question(s) go to section 'targets'" in result.output
    sections = {q.key: q.section.key for q in current_questions()}
    assert (sections["nghi-quyet-cli-cat-vp"], sections["nghi-quyet-cli-cat-other"]) == ("viewpoints", "targets")


def test_a_category_is_given_its_section_on_the_command_line(runner, bank, tmp_path):
    """The web preview's choice per category, in the CLI: --category-section PATH=KEY."""
    path = tmp_path / "de-cu.gift"
    path.write_text("$CATEGORY: $course$/Đề thi cũ/Phần 1\n\n::cli-old-1:: Câu một? {=Có ~Không}\n\n"
                    "$CATEGORY: $course$/Đề thi cũ/Phần 2\n\n::cli-old-2:: Câu hai? {=Có ~Không}\n",
                    encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", str(path)])
    assert result.exit_code == 1
    assert "--category-section '$course$/Đề thi cũ/Phần 1=SECTION_KEY'" in result.output
    result = runner.invoke(args=["bank", "import", str(path), "--section", "targets",
                                 "--category-section", "$course$/Đề thi cũ/Phần 1=viewpoints"])
    assert result.exit_code == 0, result.output
    sections = {q.key: q.section.key for q in current_questions()}
    assert (sections["de-cu-cli-old-1"], sections["de-cu-cli-old-2"]) == ("viewpoints", "targets")
    for bad, said in (("Phần 1", "write CATEGORY=SECTION_KEY"), ("Phần 1=nowhere", "unknown section 'nowhere'")):
        result = runner.invoke(args=["bank", "validate", str(path), "--category-section", bad])
        assert result.exit_code == 1 and said in result.output
    result = runner.invoke(args=["bank", "validate", "--category-section", "a=viewpoints"])
    assert result.exit_code == 1 and "go with a question file" in result.output


def test_validate_lists_each_questions_answers_with_key_and_credit(runner, bank, tmp_path):
    path = tmp_path / "moodle.gift"
    path.write_text("::Quê:: Chúa Giê-su quê ở đâu? {~Jerusalem ~%25%Bethlehem ~%50%Galilee =Nazareth}\n\n"
                    "::Chẵn:: Số chẵn? {~%50%2 ~%50%4 ~%-100%5}\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", str(path), "--section", "viewpoints", "--answers"])
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[lines.index("Chúa Giê-su quê ở đâu?") + 1:][:4] == [
        "A. Jerusalem (0 %)", "B. Bethlehem (25 %)", "C. Galilee (50 %)", "D. Nazareth ✓ (100 %)"]
    assert "A. 2 ✓ (50 %)" in lines and "C. 5 (-100 %)" in lines
    # Without the flag the answers stay out of the output (a whole bank would be long).
    quiet = runner.invoke(args=["bank", "validate", str(path), "--section", "viewpoints"])
    assert "Nazareth ✓" not in quiet.output
