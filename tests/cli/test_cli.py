"""flask --app quizapp <group> <command>, through the CLI runner: the bank, accounts,
overdue attempts and the demo."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from flask_babel import gettext
from markupsafe import escape
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import Attempt, Question, Section, Unit, User
from quizapp.services import attempts as attempt_service
from quizapp.services.attempts import PracticeSpec
from quizapp.services.bank import read_bank
from quizapp.services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.conftest import BANK_PATH, BrowserClient

# Requests made by these tests get their own app context, as on a real server (see conftest).
pytestmark = pytest.mark.usefixtures("isolated_requests")

IMPORT_LINE = re.compile(r"questions: (\d+) new, (\d+) updated, (\d+) new versions, (\d+) unchanged")

# A valid question file; the line numbers below are those of this text.
VALID = """\
format: quizapp-questions/1
questions:
  - key: cli-test-one
    section: viewpoint-1
    kind: single
    difficulty: 1
    status: approved
    prompt: "Câu hỏi thử nghiệm số một?"
    choices:
      - text: "Phương án đúng"
        correct: true
      - text: "Phương án sai"
    explanation: "Giải thích thử nghiệm."
"""
#   line 3: "- key", 4: section, 5: kind, 8: prompt, 9: choices, 10-11: first choice,
#   12: second choice, 13: explanation


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _bank_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    """A bank directory: the bundled outline plus the given question files."""
    root = tmp_path / "bank-src"
    (root / "bank").mkdir(parents=True)
    shutil.copy(BANK_PATH / "outline.yaml", root / "outline.yaml")
    for name, text in files.items():
        (root / "bank" / name).write_text(text, encoding="utf-8")
    return root


def _import_counts(output: str) -> tuple[int, int, int, int]:
    match = IMPORT_LINE.search(output)
    assert match, output
    return tuple(int(g) for g in match.groups())  # type: ignore[return-value]


# ---------------------------------------------------------------- bank validate

def test_bank_validate_accepts_the_bundled_bank(runner):
    result = runner.invoke(args=["bank", "validate"])
    assert result.exit_code == 0, result.output
    bank = read_bank(BANK_PATH)
    assert f"OK: {len(bank.sections)} sections, {len(bank.questions)} questions" in result.output


def test_bank_validate_accepts_a_valid_single_file(runner, tmp_path):
    root = _bank_dir(tmp_path, {"good.yaml": VALID})
    result = runner.invoke(args=["bank", "validate", str(root / "bank" / "good.yaml")])
    assert result.exit_code == 0, result.output
    assert "1 questions" in result.output


def _replace_line(text: str, line: int, new: str) -> str:
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


BROKEN = {
    "yaml-syntax": (_replace_line(VALID, 8, '    prompt: "Câu hỏi" thừa chữ'), 8, "YAML syntax error"),
    "duplicate-key": (VALID.replace('    prompt: "Câu hỏi thử nghiệm số một?"\n',
                                    '    prompt: "Câu hỏi thử nghiệm số một?"\n    prompt: "Lần hai"\n'),
                      9, "duplicate key 'prompt'"),
    "single-two-right": (_replace_line(VALID, 12, '      - text: "Phương án sai"\n        correct: true'),
                         9, "exactly one right answer, found 2"),
    "single-no-right": (_replace_line(VALID, 11, '        correct: false'), 9,
                        "exactly one right answer, found 0"),
    "unknown-section": (_replace_line(VALID, 4, "    section: no-such-section"), 4,
                        "unknown section 'no-such-section'"),
    "truefalse-without-answer": (
        "format: quizapp-questions/1\nquestions:\n  - key: cli-tf\n    section: viewpoint-1\n"
        "    kind: truefalse\n    status: approved\n    prompt: \"Phát biểu.\"\n"
        "    explanation: \"Vì.\"\n", 3, "needs 'answer: true' or 'answer: false'"),
    "truefalse-answer-not-boolean": (
        "format: quizapp-questions/1\nquestions:\n  - key: cli-tf\n    section: viewpoint-1\n"
        "    kind: truefalse\n    status: approved\n    prompt: \"Phát biểu.\"\n"
        "    answer: \"Đúng\"\n    explanation: \"Vì.\"\n", 8, "needs 'answer: true' or 'answer: false'"),
    "multiple-no-right": (_replace_line(_replace_line(VALID, 5, "    kind: multiple"), 11,
                                        "        correct: false"), 9, "has no right answer"),
    "one-choice": (_replace_line(_replace_line(VALID, 12, ""), 11, "        correct: true"), 9,
                   "at least 2 choices"),
    "unknown-covers": (VALID.replace("    kind: single\n", "    kind: single\n    covers: [no-such-item]\n"),
                       6, "unknown outline item 'no-such-item'"),
    "unknown-field": (VALID.replace("    kind: single\n", "    kind: single\n    answr: true\n"),
                      6, "unknown field 'answr'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_bank_validate_reports_file_and_line(runner, tmp_path, case):
    text, line, message = BROKEN[case]
    root = _bank_dir(tmp_path, {"broken.yaml": text})
    path = root / "bank" / "broken.yaml"
    result = runner.invoke(args=["bank", "validate", str(path)])
    assert result.exit_code != 0
    errors = [e for e in result.stderr.splitlines() if e.startswith(f"{path}:")]
    assert errors, result.output
    assert any(e.startswith(f"{path}:{line}: ") and message in e for e in errors), result.output
    assert "OK:" not in result.output


def test_bank_validate_reports_duplicate_question_keys_across_files(runner, tmp_path):
    root = _bank_dir(tmp_path, {"a.yaml": VALID, "b.yaml": VALID})
    result = runner.invoke(args=["bank", "validate", str(root)])
    assert result.exit_code != 0
    assert f"{root / 'bank' / 'b.yaml'}:3: question key 'cli-test-one' already used at " \
           f"{root / 'bank' / 'a.yaml'}:3" in result.output


def test_bank_validate_missing_path_fails(runner, tmp_path):
    result = runner.invoke(args=["bank", "validate", str(tmp_path / "nothing-here")])
    assert result.exit_code != 0
    assert "no such file or directory" in result.output


# ---------------------------------------------------------------- bank import

def test_bank_import_is_all_or_nothing(runner, tmp_path):
    good = (BANK_PATH / "bank" / "10-viewpoints.yaml").read_text(encoding="utf-8")
    broken = BROKEN["single-two-right"][0]
    root = _bank_dir(tmp_path, {"10-viewpoints.yaml": good, "99-broken.yaml": broken})
    result = runner.invoke(args=["bank", "import", str(root)])
    assert result.exit_code != 0
    assert "nothing imported" in result.output
    assert f"{root / 'bank' / '99-broken.yaml'}:9:" in result.output
    db.session.rollback()
    assert _count(Question) == 0 and _count(Section) == 0

    (root / "bank" / "99-broken.yaml").unlink()
    result = runner.invoke(args=["bank", "import", str(root)])
    assert result.exit_code == 0, result.output
    assert _count(Question) == len(read_bank(root).questions) > 0


def test_bank_import_twice_changes_nothing(runner):
    bank = read_bank(BANK_PATH)
    first = runner.invoke(args=["bank", "import"])
    assert first.exit_code == 0, first.output
    assert _import_counts(first.output) == (len(bank.questions), 0, 0, 0)
    assert f"sections: {len(bank.sections)} new, 0 updated" in first.output
    questions, choices = _count(Question), db.session.scalar(
        select(func.count()).select_from(Question).join(Question.choices))

    second = runner.invoke(args=["bank", "import"])
    assert second.exit_code == 0, second.output
    assert _import_counts(second.output) == (0, 0, 0, len(bank.questions))
    assert "sections: 0 new, 0 updated" in second.output
    assert _count(Question) == questions
    assert db.session.scalar(select(func.count()).select_from(Question)
                             .join(Question.choices)) == choices


def test_changing_a_used_question_adds_version_2_and_old_attempts_keep_old_text(
        runner, tmp_path, client, make_user):
    root = _bank_dir(tmp_path, {"one.yaml": VALID})
    assert runner.invoke(args=["bank", "import", str(root)]).exit_code == 0
    first = db.session.execute(select(Question).where(Question.key == "cli-test-one")).scalar_one()
    member = make_user(username="dangvien")
    attempt = attempt_service.start_practice(member, PracticeSpec([], 1, None, "exam"),
                                             question_ids=[first.id])
    db.session.commit()
    attempt_id, old_id = attempt.id, first.id

    changed = VALID.replace("Câu hỏi thử nghiệm số một?", "Câu hỏi đã sửa lời?")
    (root / "bank" / "one.yaml").write_text(changed, encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(root)])
    assert result.exit_code == 0, result.output
    assert _import_counts(result.output) == (0, 0, 1, 0)

    db.session.expire_all()
    versions = db.session.execute(select(Question).where(Question.key == "cli-test-one")
                                  .order_by(Question.version)).scalars().all()
    assert [(q.version, q.is_current) for q in versions] == [(1, False), (2, True)]
    assert versions[0].id == old_id and versions[0].prompt == "Câu hỏi thử nghiệm số một?"
    assert versions[1].prompt == "Câu hỏi đã sửa lời?"
    assert [c.text for c in versions[1].choices] == ["Phương án đúng", "Phương án sai"]

    client.login("dangvien")
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert str(escape("Câu hỏi thử nghiệm số một?")) in page
    assert "Câu hỏi đã sửa lời?" not in page

    # A new practice asks the new version only.
    fresh = attempt_service.start_practice(member, PracticeSpec(["viewpoint-1"], 5, None, "exam"))
    assert [i.question_id for i in fresh.items] == [versions[1].id]

    # Importing the changed file again is a no-op.
    again = runner.invoke(args=["bank", "import", str(root)])
    assert _import_counts(again.output) == (0, 0, 0, 1)


def test_changing_an_unused_question_edits_it_in_place(runner, tmp_path):
    root = _bank_dir(tmp_path, {"one.yaml": VALID})
    assert runner.invoke(args=["bank", "import", str(root)]).exit_code == 0
    (root / "bank" / "one.yaml").write_text(
        VALID.replace("Giải thích thử nghiệm.", "Giải thích mới."), encoding="utf-8")
    result = runner.invoke(args=["bank", "import", str(root)])
    assert _import_counts(result.output) == (0, 1, 0, 0)
    db.session.expire_all()
    only = db.session.execute(select(Question).where(Question.key == "cli-test-one")).scalars().all()
    assert [(q.version, q.is_current, q.explanation) for q in only] == [(1, True, "Giải thích mới.")]


# ---------------------------------------------------------------- bank stats

def test_bank_stats_json_shape(runner, bank):
    result = runner.invoke(args=["bank", "stats", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"total", "approved", "by_section", "by_kind", "by_purpose"}
    assert isinstance(data["total"], int) and data["total"] >= 150
    assert data["total"] == len(bank.questions)
    assert 0 < data["approved"] <= data["total"]
    assert sum(data["by_section"].values()) == data["total"]
    assert sum(data["by_kind"].values()) == data["total"]
    assert set(data["by_kind"]) == {"single", "multiple", "truefalse"}
    assert set(data["by_section"]) <= {s.key for s in bank.sections}
    assert data["by_section"]["viewpoint-1"] >= 2
    # Every approved question of the bundled bank says what it tests.
    assert set(data["by_purpose"]) == {"meaning", "application", "distinguish", "target", "recall"}
    assert sum(data["by_purpose"].values()) == data["approved"]
    assert data["by_purpose"] == {p: sum(q.purpose == p for q in bank.questions if q.status == "approved")
                                  for p in data["by_purpose"]}


def test_bank_stats_on_an_empty_database(runner):
    result = runner.invoke(args=["bank", "stats", "--json"])
    assert json.loads(result.output) == {"total": 0, "approved": 0, "by_section": {}, "by_kind": {},
                                         "by_purpose": {}}


# ---------------------------------------------------------------- bank lint

def test_bank_lint_passes_on_the_bundled_bank(runner):
    result = runner.invoke(args=["bank", "lint"])
    assert result.exit_code == 0, result.output
    assert "no findings" in result.output


def test_bank_lint_exits_1_and_names_each_finding(runner, tmp_path):
    flawed = VALID.replace("explanation:", "purpose: recall\n    explanation:", 1)
    root = _bank_dir(tmp_path, {"flawed.yaml": flawed})
    (root / "contradictions.txt").write_text("# forbidden\nCâu hỏi\n", encoding="utf-8")
    result = runner.invoke(args=["bank", "lint", str(root)])
    assert result.exit_code == 1
    assert "[forbidden]" in result.output and "finding(s)" in result.output


# ---------------------------------------------------------------- users

def test_users_create_with_password_from_stdin_then_login(app, runner, ward):
    result = runner.invoke(args=["users", "create", "bantochuc2", "--role", "organizer",
                                 "--unit", "tay-mo", "--name", "Ban Tổ Chức Hai",
                                 "--phone", "0901234567", "--password-stdin"],
                           input="mat-khau-rat-dai-1\n")
    assert result.exit_code == 0, result.output
    assert "created bantochuc2 (organizer) in tay-mo" in result.output
    assert "mat-khau-rat-dai-1" not in result.output
    user = db.session.execute(select(User).where(User.username == "bantochuc2")).scalar_one()
    assert (user.role, user.unit_id, user.full_name, user.phone) == (
        "organizer", ward.id, "Ban Tổ Chức Hai", "0901234567")
    assert user.password_hash and "mat-khau-rat-dai-1" not in user.password_hash

    browser = BrowserClient(app.test_client())
    browser.login("bantochuc2", "mat-khau-rat-dai-1")
    assert browser.get("/home").status_code == 200
    phone = BrowserClient(app.test_client())
    phone.login("0901234567", "mat-khau-rat-dai-1")
    assert phone.get("/home").status_code == 200


def test_users_create_by_unit_id_without_password(runner, ward):
    result = runner.invoke(args=["users", "create", "chuadangnhap", "--unit", str(ward.id)])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.username == "chuadangnhap")).scalar_one()
    assert user.role == "member" and user.password_hash is None


def test_users_create_with_unknown_unit_fails(runner, ward):
    result = runner.invoke(args=["users", "create", "ai-do", "--unit", "no-such-unit",
                                 "--password-stdin"], input="mat-khau-rat-dai-1\n")
    assert result.exit_code != 0
    assert "unknown unit: no-such-unit" in result.output
    assert _count(User) == 0


@pytest.mark.parametrize("args, stdin, message", [
    (["--password-stdin"], "ngan\n", ("A password has at least %(n)d characters.", {"n": 8})),
    (["--password-stdin"], "\n", "no password on standard input"),
    (["--phone", "12345"], None, ("A phone number has 10 or 11 digits and starts with 0.", {})),
])
def test_users_create_refuses_bad_input(app, runner, ward, args, stdin, message):
    result = runner.invoke(args=["users", "create", "nguoimoi", "--unit", "tay-mo", *args],
                           input=stdin)
    assert result.exit_code != 0
    if isinstance(message, tuple):  # a service message, in the default language
        with app.test_request_context("/"):
            message = gettext(message[0], **message[1])
    assert message in result.output
    db.session.rollback()
    assert _count(User) == 0


def test_users_create_refuses_a_taken_username(runner, ward, make_user):
    make_user(username="datontai")
    result = runner.invoke(args=["users", "create", "DaTonTai", "--unit", "tay-mo"])
    assert result.exit_code != 0
    db.session.rollback()
    assert _count(User) == 1


# ---------------------------------------------------------------- attempts

def test_attempts_close_overdue_counts(runner, bank, make_user, frozen_clock):
    member = make_user()
    late = [attempt_service.start_practice(member, PracticeSpec([], 2, 1, "exam")) for _ in range(2)]
    still_open = attempt_service.start_practice(member, PracticeSpec([], 2, 30, "exam"))
    untimed = attempt_service.start_practice(member, PracticeSpec([], 2, None, "exam"))
    db.session.commit()

    frozen_clock.advance(seconds=60 + 3)  # inside the grace period: nothing to close
    result = runner.invoke(args=["attempts", "close-overdue"])
    assert result.exit_code == 0 and "finished 0 overdue attempt(s)" in result.output

    frozen_clock.advance(minutes=1)
    result = runner.invoke(args=["attempts", "close-overdue"])
    assert result.exit_code == 0, result.output
    assert "finished 2 overdue attempt(s)" in result.output
    db.session.expire_all()
    for attempt in late:
        attempt = db.session.get(Attempt, attempt.id)
        assert attempt.status == "finished" and attempt.finish_reason == "expired"
        assert attempt.score == 0 and attempt.finished_at == attempt.deadline
    assert db.session.get(Attempt, still_open.id).status == "in_progress"
    assert db.session.get(Attempt, untimed.id).status == "in_progress"

    result = runner.invoke(args=["attempts", "close-overdue"])
    assert "finished 0 overdue attempt(s)" in result.output


# ---------------------------------------------------------------- demo

@pytest.mark.slow
def test_demo_seed_builds_the_ward_once(app, runner):
    # The demo contest (the default --with-contest) takes 25-65 s to seed; the roster
    # is what this test checks.
    result = runner.invoke(args=["demo", "seed", "--if-empty", "--without-contest"])
    assert result.exit_code == 0, result.output
    assert "seeded 43 units and 1886 members" in result.output
    assert _count(Unit) == 43
    ward = db.session.execute(select(Unit).where(Unit.parent_id.is_(None))).scalar_one()
    roster = db.session.scalar(
        select(func.count()).select_from(User).join(Unit, Unit.id == User.unit_id)
        .where(Unit.path.startswith(ward.path), User.role.in_(["member", "secretary"])))
    assert roster == 1886
    branches = db.session.execute(
        select(Unit.id, func.count(User.id)).join(User, User.unit_id == Unit.id)
        .where(Unit.parent_id == ward.id, User.role.in_(["member", "secretary"]))
        .group_by(Unit.id)).all()
    assert len(branches) == 42 and all(20 <= size <= 80 for _, size in branches)

    for username, role, password in DEMO_ACCOUNTS:
        assert password == DEMO_PASSWORD
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        assert user.role == role
        browser = BrowserClient(app.test_client())
        browser.login(username, password)
        assert browser.get("/home").status_code == 200, username

    users_before = _count(User)
    again = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert again.exit_code == 0
    assert "not seeded" in again.output
    assert _count(User) == users_before and _count(Unit) == 43


@pytest.mark.slow
def test_demo_seed_on_a_seeded_database_says_so_and_changes_nothing(runner):
    """README's "Try it" names `demo seed` after `make run` has seeded: it used to end in
    a UNIQUE-constraint traceback (exit 1)."""
    first = runner.invoke(args=["demo", "seed", "--without-contest"])
    assert first.exit_code == 0, first.output
    users_before, units_before = _count(User), _count(Unit)

    again = runner.invoke(args=["demo", "seed"])  # as README writes it
    assert again.exit_code == 0, again.output
    assert again.exception is None, repr(again.exception)
    assert "already seeded" in again.output and "nothing changed" in again.output
    assert _count(User) == users_before and _count(Unit) == units_before

    # README: "The other N roster members of the demo have no password yet".
    without_password = db.session.scalar(select(func.count()).select_from(User)
                                         .where(User.password_hash.is_(None)))
    readme = (BANK_PATH.parent / "README.md").read_text(encoding="utf-8")
    assert f"The other {without_password:,} roster members" in readme, without_password


def test_demo_seed_over_someone_elses_accounts_refuses_with_a_message(runner, make_user):
    make_user(username="admin", role="admin")
    result = runner.invoke(args=["demo", "seed", "--without-contest"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a ClickException
    assert "already holds what the demo would create (admin, tay-mo)" in result.output
    db.session.rollback()
    assert _count(Unit) == 1 and _count(User) == 1  # make_user's unit and account only


def test_demo_seed_without_the_bank_fails_cleanly(runner):
    result = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a ClickException
    db.session.rollback()
    assert _count(User) == 0 and _count(Unit) == 0
