"""Issue 12, question identity: what a file is keyed by, through the CLI. Our own export
in any format re-imports with zero changes; another file's "Câu 1" is another question;
one title or stem twice in a file is two questions (flagged); an NFD copy is the same."""
from __future__ import annotations

import dataclasses
import re
import unicodedata

import pytest
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Question
from quizapp.services.bank import current_questions, to_data
from quizapp.services.bank.formats import FORMATS

pytestmark = pytest.mark.usefixtures("isolated_requests")

COUNTS = re.compile(r"questions: (\d+) new, (\d+) updated, (\d+) new versions, (\d+) unchanged")


def _counts(output: str) -> tuple[int, ...]:
    match = COUNTS.search(output)
    assert match, output
    return tuple(int(g) for g in match.groups())


def _bank_data() -> list:
    db.session.expire_all()
    return [dataclasses.replace(to_data(q), origin="") for q in current_questions()]


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Question)) or 0


@pytest.mark.parametrize("fmt, name", [("yaml", "bank.yaml"), ("gift", "bank.gift"), ("xml", "bank.xml"),
                                       ("aiken", "bank.aiken"), ("xlsx", "bank.xlsx")])
def test_our_own_export_in_every_format_reimports_with_zero_changes(runner, bank, tmp_path, fmt, name):
    # How a question is used survives too: purpose and exclusions (the bundled bank has
    # them) and the contest reserve flag (set here on every third question; only YAML
    # writes it, and a file that does not say it keeps the bank's).
    for question in current_questions()[::3]:
        question.reserve = True
    db.session.commit()
    before, rows = _bank_data(), _rows()
    assert any(q.reserve for q in before) and any(not q.reserve for q in before)
    assert any(q.purpose for q in before) and any(q.excludes for q in before)
    path = tmp_path / name
    exported = runner.invoke(args=["bank", "export", str(path), "--format", fmt])
    assert exported.exit_code == 0, exported.output
    written = int(re.search(r"\): (\d+) questions", exported.output).group(1))
    # Aiken names no section: --section is required, and matched questions keep theirs.
    args = ["bank", "import", str(path), "--format", fmt] + (
        ["--section", "viewpoint-1"] if fmt == "aiken" else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (0, 0, 0, written)
    assert _bank_data() == before and _rows() == rows


def test_an_nfd_copy_of_our_export_changes_nothing(runner, bank, tmp_path):
    path = tmp_path / "bank.yaml"
    assert runner.invoke(args=["bank", "export", str(path), "--format", "yaml"]).exit_code == 0
    path.write_text(unicodedata.normalize("NFD", path.read_text(encoding="utf-8")), encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(path), "--format", "yaml"])
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (0, 0, 0, len(bank.questions))


def test_two_files_with_one_title_are_two_questions(runner, bank, tmp_path):
    first, second = tmp_path / "quan-diem.gift", tmp_path / "muc-tieu.gift"
    first.write_text("::Câu 1:: Đại hội đưa ra bao nhiêu quan điểm? {=5 ~3 ~6}\n", encoding="utf-8")
    second.write_text("::Câu 1:: Nhiệm kỳ nào? {=2025 – 2030 ~2020 – 2025}\n", encoding="utf-8")
    for path in (first, second):
        result = runner.invoke(args=["bank", "import", str(path), "--section", "viewpoint-1"])
        assert result.exit_code == 0, result.output
        assert _counts(result.output) == (1, 0, 0, 0)
    keys = set(db.session.execute(select(Question.key).where(Question.key.like("%cau-1"))).scalars())
    assert keys == {"quan-diem-cau-1", "muc-tieu-cau-1"}
    again = runner.invoke(args=["bank", "import", str(first), "--section", "viewpoint-1"])
    assert _counts(again.output) == (0, 0, 0, 1)


def test_one_title_or_stem_twice_in_a_file_is_two_questions_flagged(runner, bank, tmp_path):
    path = tmp_path / "moodle.gift"
    path.write_text("::Câu 1:: Thủ đô? {=Hà Nội ~Huế}\n\n::Câu 1:: Sông nào? {=Hồng ~Mekong}\n\n"
                    "Thủ đô? {=Hà Nội ~Huế ~Vinh}\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "validate", str(path), "--section", "viewpoint-1"])
    assert result.exit_code == 0, result.output
    assert ("warning: line 3: the title or question text of line 1 again: imported as a "
            "separate question 'moodle-cau-1-2'") in result.output
    assert "warning: line 5: possible duplicate: the same question text as line 1" in result.output
    result = runner.invoke(args=["bank", "import", str(path), "--section", "viewpoint-1"])
    assert _counts(result.output) == (3, 0, 0, 0)



def test_a_matched_question_keeps_the_status_its_file_states(runner, bank, tmp_path):
    """A file without our keys (no title, no key column) whose question is word for word
    one of the bank's is that question; what the file does not say is kept from the
    bank, but a status it states (an Excel 'Trạng thái' cell, a GIFT 'quizapp:' token)
    is what the organizer meant and is imported."""
    question = next(q for q in current_questions() if q.kind == "single" and q.status == "approved")
    right = next(c.text for c in question.choices if c.is_correct)
    wrong = [c.text for c in question.choices if not c.is_correct]

    def escape(text: str) -> str:
        return re.sub(r"([~=#{}:\\])", r"\\\1", text)

    gift = tmp_path / "retire.gift"
    gift.write_text("// quizapp: status=retired\n" + escape(question.prompt) + " {\n="
                    + escape(right) + "\n" + "\n".join("~" + escape(w) for w in wrong) + "\n}\n",
                    encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(gift), "--format", "gift", "--section", "viewpoint-1"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    stored = db.session.execute(select(Question).where(Question.key == question.key,
                                                       Question.is_current.is_(True))).scalar_one()
    assert stored.status == "retired"
    assert stored.section.key == question.section.key   # the file's --section is only a default
    # Without the token the bank's status stays (the file says nothing about it).
    gift.write_text(escape(stored.prompt) + " {\n=" + escape(right) + "\n"
                    + "\n".join("~" + escape(w) for w in wrong) + "\n}\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(gift), "--format", "gift", "--section", "viewpoint-1"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.execute(select(Question.status).where(
        Question.key == question.key, Question.is_current.is_(True))).scalar_one() == "retired"


@pytest.mark.parametrize("fmt, name", [("yaml", "retire.yaml"), ("xlsx", "retire.xlsx"),
                                       ("xml", "retire.xml"), ("gift", "retire.gift")])
def test_a_status_the_file_states_stands_when_its_key_is_not_the_banks(runner, bank, tmp_path, fmt, name):
    """A file whose question carries another key (a copy kept elsewhere, renamed) but is
    word for word one of the bank's re-imports as that question; the status the file
    states explicitly (YAML 'status:', the 'Trạng thái' cell, the 'quizapp:' tag or
    comment) is imported, never replaced by the bank's."""
    question = next(q for q in current_questions() if q.kind == "single" and q.status == "approved")
    data = dataclasses.replace(to_data(question), key="ban-sao-khac-ma", status="retired")
    path = tmp_path / name
    path.write_bytes(FORMATS[fmt].dump([data]))
    result = runner.invoke(args=["bank", "import", str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (0, 1, 0, 0)    # the bank's question, updated in place
    db.session.expire_all()
    stored = db.session.execute(select(Question).where(Question.key == question.key,
                                                       Question.is_current.is_(True))).scalar_one()
    assert stored.status == "retired"
    assert db.session.scalar(select(func.count()).where(Question.key == "ban-sao-khac-ma")) == 0
