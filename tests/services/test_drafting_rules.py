"""Drafts that hold on any outline (issue 11, part 3): numbered and lettered headings
kept apart, heading numbers out of prompts, a draft from every fact type, numeric
distractors that are false (not merely different), contradiction lists per outline."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from quizapp.services.bank import drafting
from quizapp.services.bank import SectionData, read_bank
from quizapp.services.bank.drafting.figures import near_figures
from tests.conftest import BANK_PATH, ROOT

SEED_TEXT = BANK_PATH / "source" / "02-CV-DU-de-cuong-tuyen-truyen.txt"
OTHER_WARD = ROOT / "tests" / "data" / "outline_other_ward.txt"
NUMBERED = ROOT / "tests" / "data" / "outline_numbered_headings.txt"
OUTLINES = {"structured-seed": None, "seed-text": SEED_TEXT, "other-ward": OTHER_WARD,
            "numbered-headings": NUMBERED}


def _sections(name: str) -> list[SectionData]:
    if name == "structured-seed":
        return read_bank(BANK_PATH).sections
    return drafting.parse_plain_outline(OUTLINES[name].read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=list(OUTLINES))
def drafted(request):
    sections = _sections(request.param)
    own = drafting.default_contradictions(BANK_PATH) if "seed" in request.param else set()
    return request.param, sections, drafting.draft_questions(sections, own)


def _tree(sections: list[SectionData]) -> dict[str | None, list[SectionData]]:
    children: dict[str | None, list[SectionData]] = {}
    for s in sections:
        children.setdefault(s.parent_key, []).append(s)
    return children


# ---------------------------------------------------------------- headings

def test_numbered_headings_in_sequence_keep_their_sections_apart():
    sections = _sections("numbered-headings")
    children = _tree(sections)
    assert [s.title for s in children["part-2"]] == [
        "1. Chủ đề Đại hội", "2. Đại hội đưa ra 3 quan điểm", "3. Kết quả nhiệm kỳ 2020 - 2025",
        "4. Chỉ tiêu chủ yếu đến năm 2030", "5. Đại hội xác định 3 nhiệm vụ trọng tâm:",
        "6. Danh mục dự án đầu tư công giai đoạn 2025 - 2030"]
    by_key = {s.key: s for s in sections}
    # "6. Danh mục dự án …: Gồm 12 dự án …" is its own section, not the third key task's text
    assert [i["value"] for i in by_key["part-2-6"].items] == ["12 dự án", "05 dự án", "04 dự án", "03 dự án"]
    assert not any(by_key[f"key-task-{n}"].items for n in (1, 2, 3))
    assert "dự án" not in by_key["key-task-3"].body
    assert [s.title for s in children["part-2-6"]] == ["a) Về khâu đột phá", "b) Về tổ chức thực hiện"]
    assert [s.title for s in children["part-2-2"]][0].startswith("Quan điểm (1): Người dân")
    made = drafting.draft_questions(sections)
    assert not [q.key for q in made if q.section.startswith("key-task") and "dự án" in q.prompt]


def test_a_part_or_member_list_numbered_like_headings_is_read_as_such():
    text = ("I. KẾT QUẢ\nĐại hội đã thành công.\nII. NỘI DUNG\n1. Đại hội đưa ra 3 quan điểm:\n"
            "1. Người dân là trung tâm của mọi quyết định.\n2. Phát triển đô thị gắn với cảnh quan.\n"
            "3. Kỷ cương hành chính là điều kiện phát triển.\n2. Đại hội xác định 2 khâu đột phá.\n"
            "a) Chuyển đổi số trong cải cách hành chính.\nb) Phát triển hạ tầng giao thông nội phường.\n"
            "III. Tổ chức thực hiện.\nCác chi bộ quán triệt Nghị quyết.\n")
    children = _tree(drafting.parse_plain_outline(text))
    assert [s.key for s in children[None]] == ["part-1", "part-2", "part-3"]
    assert [s.key for s in children["part-2"]] == ["part-2-1", "part-2-2"]
    assert [s.key for s in children["part-2-1"]] == ["viewpoint-1", "viewpoint-2", "viewpoint-3"]
    assert [s.key for s in children["part-2-2"]] == ["breakthrough-1", "breakthrough-2"]


HEADING_NUMBER = re.compile(r"(?:^|[«“]|^Theo «[^»]*», )(?:[IVX]{1,4}|\d{1,2})\.\s+\S|(?:^|[«“])[a-zđ]\)\s")


def test_heading_numbers_never_reach_a_prompt_or_choice(drafted):
    _name, _sections_, made = drafted
    for q in made:
        for text in [q.prompt] + [c.text for c in q.choices]:
            assert not HEADING_NUMBER.search(text), (q.key, text)


def test_the_count_of_a_numbered_heading_is_asked_without_its_number():
    made = drafting.draft_questions(_sections("numbered-headings"))
    prompts = {q.prompt for q in made}
    assert "Đại hội đưa ra bao nhiêu quan điểm?" in prompts
    assert "Đại hội xác định bao nhiêu nhiệm vụ trọng tâm?" in prompts


# ---------------------------------------------------------------- fact types

FACTS = {  # the right answer of at least one draft, per fact type
    "seed-text": {"date": "19/8/2025", "delegates": "107", "members": "1.886", "percent": "80%",
                  "x/y": "81,8% = 9/11 trường", "list total": "26 dự án"},
    "other-ward": {"date": "25/8/2025", "delegates": "98", "members": "1.342", "percent": "92,5%",
                   "x/y in prose": "14/16", "x/y": "100% = 7/7 trường", "list total": "18 dự án"},
    "numbered-headings": {"date": "22/8/2025", "delegates": "112", "members": "1.524",
                          "percent": "93,5%", "x/y in prose": "15/17", "x/y": "87,5% = 7/8 trường",
                          "list total": "12 dự án"},
}


@pytest.mark.parametrize("name", list(FACTS))
def test_every_fact_type_of_the_outline_yields_a_draft(name):
    sections = _sections(name)
    own = drafting.default_contradictions(BANK_PATH) if name == "seed-text" else set()
    made = drafting.draft_questions(sections, own)
    answers = {c.text for q in made if q.kind == "single" for c in q.choices if c.correct}
    missing = {kind: value for kind, value in FACTS[name].items() if value not in answers}
    assert not missing, missing
    themes = [q for q in made if "-theme-" in q.key]
    assert len(themes) == 1
    right = next(c.text for c in themes[0].choices if c.correct)
    theme_text = themes[0].explanation.split("“", 1)[1]
    assert right.lower() in theme_text.lower()
    assert not any(c.text.lower() in theme_text.lower() for c in themes[0].choices if not c.correct)


def test_a_fill_in_fact_blanks_only_its_own_figure(drafted):
    _name, _sections_, made = drafted
    assert any("-fact-" in q.key for q in made)
    for q in made:
        if "-fact-" not in q.key:
            continue
        right = next(c.text for c in q.choices if c.correct)
        assert q.prompt.count("……") == 1 and right not in q.prompt, q.key
        assert right in q.explanation, q.key


# ---------------------------------------------------------------- numeric distractors

QUALIFIED = re.compile(r"^(trên|dưới|khoảng|tối thiểu|ít nhất|không quá)?\s*(.+)$")


def _numbers(text: str) -> list[Decimal]:
    return [Decimal(n.replace(".", "").replace(",", "."))
            for n in re.findall(r"\d{1,3}(?:\.\d{3})+(?![\d,])|\d+(?:,\d+)?", text)]


def _claims(text: str) -> tuple[Decimal, Decimal, bool, bool] | None:
    """The values a figure claims as (low, high, low_open, high_open), read independently
    of the drafting code; None for a date or a share."""
    if "/" in text:
        return None
    qualifier, rest = QUALIFIED.match(text).groups()
    numbers = _numbers(rest)
    inf = Decimal("Infinity")
    if len(numbers) == 2:
        return numbers[0], numbers[1], False, False
    value = numbers[0]
    return {"trên": (value, inf, True, True), "tối thiểu": (value, inf, False, True),
            "ít nhất": (value, inf, False, True), "dưới": (-inf, value, True, True),
            "không quá": (-inf, value, True, False),
            "khoảng": (value * Decimal("0.9"), value * Decimal("1.1"), False, False)}.get(
        qualifier, (value, value, False, False))


def _false_where_right(wrong: str, right: str) -> bool:
    """No value claimed by the wrong answer is claimed by the right one ("trên 95%" and
    "trên 92%" share 96 %; "90%" and "trên 90%" share nothing; ranges must not touch)."""
    a, b = _claims(wrong), _claims(right)
    if a is None or b is None:
        return wrong != right
    low, high = max(a[0], b[0]), min(a[1], b[1])
    if low != high:
        return low > high
    return (a[0] == low and a[2]) or (a[1] == low and a[3]) or (b[0] == low and b[2]) or (b[1] == low and b[3])


def test_numeric_distractors_are_false_where_the_key_is_true(drafted):
    _name, sections, made = drafted
    values = {i["key"]: i["value"] for s in sections for i in s.items}
    checked = 0
    for q in made:
        if "-num-" in q.key:
            right = next(c.text for c in q.choices if c.correct)
            for c in q.choices:
                if not c.correct:
                    assert _false_where_right(c.text, right), (q.key, c.text, right)
                    checked += 1
        if "-numtf-" in q.key and not q.choices[0].correct:
            stated = re.search(r"(?:(?:trên|dưới|khoảng|tối thiểu|ít nhất|không quá) )?"
                               r"[\d.,]+%(?: - [\d.,]+%)?|[\d.,/]+(?: \w+)*\.$", q.prompt)
            own = values[q.covers[0]]
            if stated and "%" in own:
                assert _false_where_right(stated.group(0).rstrip("."), own), (q.key, q.prompt)
    assert checked


def test_a_lower_bound_never_gets_a_weaker_bound_as_a_wrong_answer():
    section = SectionData(key="targets", title="Chỉ tiêu", kind="target", lines="1-3",
                          body="- (1) Tỷ lệ A: trên 92%;\n- (2) Tỷ lệ B: trên 90%;\n- (3) Tỷ lệ C: trên 95%.",
                          parent_key=None, position=1, depth=0,
                          items=[{"key": "a", "label": "Tỷ lệ A", "value": "trên 92%"},
                                 {"key": "b", "label": "Tỷ lệ B", "value": "trên 90%"},
                                 {"key": "c", "label": "Tỷ lệ C", "value": "trên 95%"}])
    made = drafting.draft_questions([section])
    question = next(q for q in made if q.covers == ["a"] and q.kind == "single")
    wrong = {c.text for c in question.choices if not c.correct}
    assert "trên 90%" not in wrong and "trên 95%" not in wrong and len(wrong) >= 2
    assert all(not w.startswith("trên") and int(w.rstrip("%")) <= 92 for w in wrong)
    ranges = [f.text() for f in near_figures(drafting.parse_figure("8% - 9%"))]
    assert ranges and all(not (8 <= Decimal(r.split("%")[0]) <= 9) for r in ranges)


# ---------------------------------------------------------------- contradictions per outline

def test_a_contradiction_list_belongs_to_the_outline_it_was_written_for(tmp_path):
    bundled = drafting.default_contradictions(BANK_PATH)
    assert bundled
    assert drafting.own_contradictions(BANK_PATH) == bundled
    assert drafting.own_contradictions(BANK_PATH / "outline.yaml") == bundled
    assert drafting.own_contradictions(SEED_TEXT) == bundled  # named on its '# outlines:' line
    assert drafting.own_contradictions(OTHER_WARD) == set()   # Tây Mỗ's list is not theirs
    ward = tmp_path / "ward.txt"
    ward.write_text(OTHER_WARD.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "contradictions.txt").write_text("Hòa Bình Mới\n", encoding="utf-8")
    assert drafting.own_contradictions(ward) == set()  # a list beside it that does not name it
    (tmp_path / "contradictions.txt").write_text("# outlines: ward.txt\nHòa Bình Mới\n", encoding="utf-8")
    assert drafting.own_contradictions(ward) == {"Hòa Bình Mới"}
    (tmp_path / "ward.contradictions.txt").write_text("Lê Minh Khôi\n", encoding="utf-8")
    assert drafting.own_contradictions(ward) == {"Lê Minh Khôi"}
