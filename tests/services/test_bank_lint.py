"""The bank linter: one small fixture per rule (each would pass a bank with the flaw
undetected if the rule were missing), the clean counterpart that must not be flagged,
and the bundled bank, which lints clean."""
from __future__ import annotations

from quizapp.services.bank import lint as bank_lint
from quizapp.services.bank import ChoiceData, QuestionData
from tests.conftest import BANK_PATH


def _q(key="q1", section="s", kind="single", prompt="Câu hỏi?", choices=None, explanation="Vì (L1)",
       status="approved", purpose="meaning", excludes=None, answer=True) -> QuestionData:
    if kind == "truefalse":
        choices = [("Đúng", answer), ("Sai", not answer)]
    choices = choices or [("Đáp án đúng", True), ("Đáp án sai", False), ("Đáp án khác", False)]
    return QuestionData(key=key, section=section, kind=kind, difficulty=1, status=status,
                        prompt=prompt, explanation=explanation,
                        choices=[ChoiceData(t, c) for t, c in choices], covers=[],
                        origin=f"test:{key}", purpose=purpose, excludes=excludes or [])


def _rules(questions, forbidden=(), require_purpose=False) -> list[tuple[str, str]]:
    return [(f.rule, f.key) for f in bank_lint.lint(questions, list(forbidden), require_purpose)]


# ---------------------------------------------------------------- positional

def test_an_explanation_pointing_at_the_last_option_is_flagged():
    bad = _q(explanation="Phương án cuối là tên nhóm giải pháp (1). (L214)")
    assert _rules([bad]) == [("positional", "q1")]


def test_respectively_and_option_letters_are_flagged_in_prompts_and_explanations():
    assert _rules([_q(explanation="Các phương án khác lần lượt là nhiệm vụ (2), (3).")]) == [("positional", "q1")]
    assert _rules([_q(prompt="Đáp án B có đúng không?")]) == [("positional", "q1")]
    assert _rules([_q(prompt="Theo câu trên, chỉ tiêu nào đúng?")]) == [("positional", "q1")]


def test_naming_the_option_is_not_positional():
    good = _q(explanation="«Phát triển kinh tế…» là tên nhóm giải pháp (1); các nội dung khác là nhiệm vụ.")
    assert _rules([good]) == []


# ---------------------------------------------------------------- page hints

def test_a_multiple_choice_prompt_repeating_the_page_hint_is_flagged():
    choices = [("A1", True), ("A2", True), ("A3", False)]
    bad = _q(kind="multiple", prompt="Những nơi nào có tên? (chọn tất cả ý đúng)", choices=choices)
    also = _q(key="q2", kind="multiple", prompt="Hãy chọn các đáp án đúng về chỉ tiêu", choices=choices)
    assert _rules([bad, also]) == [("page-hint", "q1"), ("page-hint", "q2")]
    assert _rules([_q(kind="multiple", prompt="Những nơi nào có tên?", choices=choices)]) == []


# ---------------------------------------------------------------- forbidden strings

def test_a_forbidden_string_in_a_choice_is_flagged_with_dashes_and_case_normalised():
    bad = _q(choices=[("Thành phố", True), ("Quận Nam Từ  Liêm", False)])
    assert _rules([bad], forbidden=["Nam Từ Liêm"]) == [("forbidden", "q1")]
    spaced = _q(prompt="Nông nghiệp: giảm từ 3%–2% đúng không?")
    assert _rules([spaced], forbidden=["giảm từ 3% - 2%"]) == [("forbidden", "q1")]


def test_a_forbidden_string_quoted_in_the_explanation_only_is_allowed():
    # Explanations quote the seed verbatim, typos included; only what a member answers is checked.
    assert _rules([_q(explanation="«Nông nghiệp: giảm từ 3% - 2%» (L167)")], forbidden=["giảm từ 3% - 2%"]) == []


def test_the_bundled_forbidden_list_is_read_without_its_comments():
    forbidden = bank_lint.bank_forbidden(BANK_PATH)
    assert "Nam Từ Liêm" in forbidden and "06/8/2025" in forbidden
    assert not any(line.startswith("#") for line in forbidden)


# ---------------------------------------------------------------- numeric overlap

def test_a_one_sided_distractor_that_is_also_true_of_the_key_is_flagged():
    bad = _q(choices=[("Trên 90%", True), ("Trên 92%", False), ("80%", False)])
    worse = _q(key="q2", prompt="Chỉ tiêu khác?", choices=[("Trên 90%", True), ("90,9%", False), ("80%", False)])
    assert _rules([bad, worse]) == [("numeric-overlap", "q1"), ("numeric-overlap", "q2")]


def test_the_exact_bound_and_disjoint_ranges_are_fair_distractors():
    fair = _q(choices=[("Trên 90%", True), ("90%", False), ("80%", False), ("Dưới 90%", False)])
    ranges = _q(key="q2", prompt="Tốc độ tăng?", choices=[("10,5% - 11%", True), ("10,5% - 12,5%", False), ("10,5% - 11,5%", False)])
    assert _rules([fair, ranges]) == []


# ---------------------------------------------------------------- duplicated prompts

def test_two_drawable_questions_with_the_same_prompt_are_flagged_but_not_a_retired_one():
    first = _q(key="a", prompt="Đại hội diễn ra ngày nào?")
    second = _q(key="b", prompt="Đại hội  diễn ra ngày nào ?")
    assert _rules([first, second]) == [("duplicate-prompt", "b")]
    second.status = "retired"
    assert _rules([first, second]) == []


# ---------------------------------------------------------------- giveaways

def test_a_figure_stated_by_a_sibling_gives_the_key_away():
    asker = _q(key="members", prompt="Các đại biểu đại diện cho bao nhiêu đảng viên?",
               choices=[("1.886", True), ("1.868", False), ("1.688", False)])
    teller = _q(key="tf", kind="truefalse", prompt="107 đại biểu đại diện cho 1.886 đảng viên.", answer=True)
    assert _rules([asker, teller]) == [("giveaway", "members")]


def test_a_false_statement_or_another_section_does_not_give_it_away():
    asker = _q(key="members", prompt="Bao nhiêu đảng viên?", choices=[("1.886", True), ("1.868", False)])
    false_tf = _q(key="tf", kind="truefalse", prompt="Đại hội đại diện cho 1.886 đảng viên khóa I.", answer=False)
    elsewhere = _q(key="other", section="t", prompt="Vì sao 1.886 đảng viên được đại diện?")
    assert _rules([asker, false_tf, elsewhere]) == []


def test_a_phrase_key_in_a_sibling_prompt_gives_it_away_until_they_are_kept_apart():
    asker = _q(key="bt3", prompt="Khâu (3) nâng cao quản lý loại công trình nào?",
               choices=[("Nhà chung cư", True), ("Trường học", False), ("Chợ dân sinh", False)])
    teller = _q(key="req", prompt="Việc quản lý nhà chung cư phải đảm bảo yêu cầu nào?")
    assert _rules([asker, teller]) == [("giveaway", "bt3")]
    teller.excludes = ["bt3"]
    assert _rules([asker, teller]) == []


def test_short_keys_and_years_are_not_giveaways():
    asker = _q(key="a", prompt="Nhiệm kỳ nào?", choices=[("2025", True), ("2030", False)])
    teller = _q(key="b", prompt="Nhiệm kỳ 2025 - 2030 có mấy khâu?")
    three = _q(key="c", prompt="Chỉ tiêu nào tăng?", choices=[("Giảm", True), ("Tăng", False)])
    assert _rules([asker, teller, three]) == []


# ---------------------------------------------------------------- purpose

def test_an_untagged_question_is_flagged_only_when_purposes_are_required():
    untagged = _q(purpose="")
    assert _rules([untagged]) == []
    assert _rules([untagged], require_purpose=True) == [("untagged", "q1")]


# ---------------------------------------------------------------- editor and import use

def test_lint_against_blocks_an_approved_candidate_and_warns_about_pairs_and_drafts():
    bank = [_q(key="old", prompt="Khâu (3) quản lý loại công trình nào?",
               choices=[("Nhà chung cư", True), ("Trường học", False)])]
    approved = _q(key="new", prompt="Quản lý nhà chung cư ra sao? (xem phương án cuối)")
    errors, warnings = bank_lint.lint_against([approved], bank)
    assert [(f.rule, f.key) for f in errors] == [("positional", "new")]
    assert [(f.rule, f.key, f.other) for f in warnings] == [("giveaway", "old", "new")]
    approved.status = "draft"
    errors, warnings = bank_lint.lint_against([approved], bank)
    assert errors == [] and {f.rule for f in warnings} == {"positional", "giveaway"}


# ---------------------------------------------------------------- the bundled bank

def test_the_bundled_bank_lints_clean(parsed_bank):
    findings = bank_lint.lint(parsed_bank.questions, bank_lint.bank_forbidden(BANK_PATH),
                              require_purpose=True)
    assert [str(f) for f in findings] == []


def test_the_bundled_bank_is_not_mostly_recall(parsed_bank):
    approved = [q for q in parsed_bank.questions if q.status == "approved"]
    recall = sum(q.purpose == "recall" for q in approved)
    understanding = sum(q.purpose in ("meaning", "application", "distinguish") for q in approved)
    assert recall / len(approved) < 0.35
    assert understanding > len(approved) / 2
    application = {q.section for q in approved if q.purpose == "application"}
    needed = ([f"viewpoint-{n}" for n in range(1, 6)] + [f"breakthrough-{n}" for n in range(1, 4)]
              + [f"key-task-{n}" for n in range(1, 4)] + [f"solution-{n}" for n in range(1, 6)])
    assert sorted(set(needed) - application) == []


def test_every_exclusion_names_a_question_of_the_bank(parsed_bank):
    keys = {q.key for q in parsed_bank.questions}
    assert [(q.key, k) for q in parsed_bank.questions for k in q.excludes if k not in keys] == []
