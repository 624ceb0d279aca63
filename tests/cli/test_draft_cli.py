"""flask --app quizapp bank draft, through the CLI runner."""
from __future__ import annotations

import yaml

from quizapp.services.bank import read_bank
from tests.conftest import BANK_PATH, ROOT

OTHER_WARD = ROOT / "tests" / "data" / "outline_other_ward.txt"


def test_bank_draft_writes_draft_questions_and_counts_per_section(runner, tmp_path):
    out = tmp_path / "bank" / "drafts.yaml"
    out.parent.mkdir()
    result = runner.invoke(args=["bank", "draft", str(BANK_PATH / "outline.yaml"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "targets-economy: " in result.stderr and "viewpoint-3: " in result.stderr
    assert result.stdout == ""
    (tmp_path / "outline.yaml").write_bytes((BANK_PATH / "outline.yaml").read_bytes())
    bank = read_bank(tmp_path)
    assert bank.errors == []
    assert bank.questions and {q.status for q in bank.questions} == {"draft"}
    assert not any("06/8/2025" in q.prompt for q in bank.questions)


def test_bank_draft_converts_a_plain_outline_and_prints_to_stdout(runner, tmp_path):
    outline = tmp_path / "outline.yaml"
    result = runner.invoke(args=["bank", "draft", str(OTHER_WARD), "--no-contradictions",
                                 "--outline-output", str(outline)])
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(result.stdout)
    assert document["format"] == "quizapp-questions/1" and document["questions"]
    assert "solution-6: " in result.stderr
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "drafts.yaml").write_text(result.stdout, encoding="utf-8")
    assert read_bank(tmp_path).errors == []


def test_bank_draft_reads_the_given_contradictions(runner, tmp_path):
    strings = tmp_path / "c.txt"
    strings.write_text("Hòa Bình Mới\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "draft", str(OTHER_WARD), "--contradictions", str(strings)])
    assert result.exit_code == 0, result.output
    assert "Hòa Bình Mới" not in "".join(
        q["prompt"] for q in yaml.safe_load(result.stdout)["questions"])


def test_bank_draft_refuses_an_unreadable_outline(runner, tmp_path):
    bad = tmp_path / "outline.txt"
    bad.write_bytes("Văn hóa".encode("cp1258"))
    result = runner.invoke(args=["bank", "draft", str(bad)])
    assert result.exit_code == 1
    assert "not UTF-8" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: quizapp-outline/1\nversion: 1\nsections: []\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "draft", str(broken)])
    assert result.exit_code == 1 and "'sections' must be a non-empty list" in result.stderr


def test_bank_draft_never_applies_the_bundled_list_to_another_wards_outline(app, runner, tmp_path):
    """The app's bank list belongs to the bundled outline: with a bank whose list names
    the other ward, that ward's drafts are still all there."""
    bank = tmp_path / "bank-dir"
    bank.mkdir()
    (bank / "contradictions.txt").write_text("Hòa Bình Mới\n", encoding="utf-8")
    app.config["BANK_PATH"] = str(bank)
    default = runner.invoke(args=["bank", "draft", str(OTHER_WARD)])
    assert default.exit_code == 0, default.output
    unfiltered = runner.invoke(args=["bank", "draft", str(OTHER_WARD), "--no-contradictions"])
    assert default.stdout == unfiltered.stdout
    assert "Hòa Bình Mới" in default.stdout and "(0 contradicted strings avoided)" in default.stderr


def test_bank_draft_applies_the_list_an_outline_ships(runner, tmp_path):
    ward = tmp_path / "ward.txt"
    ward.write_bytes(OTHER_WARD.read_bytes())
    (tmp_path / "ward.contradictions.txt").write_text("Hòa Bình Mới\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "draft", str(ward)])
    assert result.exit_code == 0, result.output
    prompts = "".join(q["prompt"] for q in yaml.safe_load(result.stdout)["questions"])
    assert prompts and "Hòa Bình Mới" not in prompts
    seed = runner.invoke(args=["bank", "draft", str(BANK_PATH / "source" / "02-CV-DU-de-cuong-tuyen-truyen.txt")])
    assert seed.exit_code == 0 and "06/8/2025" not in seed.stdout
