"""Draft questions derived from an outline (services.bank.drafting): the seed's structured
outline, the seed's plain text and a second, invented outline (tests/data)."""
from __future__ import annotations

import copy
import io
import re
import unicodedata
from pathlib import Path

import pytest

from quizapp.services.bank import drafting as drafts
from quizapp.services.bank import KEY_RE
from quizapp.services.bank.drafting.documents import MAX_DOCX_UNPACKED_BYTES
from quizapp.services.bank.drafting.figures import NUM_RE, near_figures
from quizapp.services.bank import SectionData, read_bank
from tests.conftest import BANK_PATH, ROOT

# The source document of the bundled bank, as plain text (questions/source/README.md).
SEED_TEXT = BANK_PATH / "source" / "02-CV-DU-de-cuong-tuyen-truyen.txt"
OTHER_WARD = ROOT / "tests" / "data" / "outline_other_ward.txt"

OUTLINES = ["structured-seed", "seed-text", "other-ward"]


def _sections(name: str) -> list[SectionData]:
    if name == "structured-seed":
        bank = read_bank(BANK_PATH)
        assert not bank.errors, bank.errors[:5]
        return bank.sections
    path = SEED_TEXT if name == "seed-text" else OTHER_WARD
    return drafts.parse_plain_outline(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def contradictions() -> set[str]:
    found = drafts.default_contradictions(BANK_PATH)
    assert found, "questions/contradictions.txt is missing or empty"
    return found


@pytest.fixture(scope="module", params=OUTLINES)
def drafted(request, contradictions):
    sections = _sections(request.param)
    return request.param, sections, drafts.draft_questions(sections, contradictions)


def _norm(text: str) -> str:
    """An independent spelling of the comparison rule: NFC, case-folded, one space,
    any dash as '-' with no spaces around it or around '/'."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = re.sub(r"\s*[-\u2013\u2014]\s*", "-", re.sub(r"\s+", " ", text))
    return re.sub(r"\s*/\s*", "/", text).strip()


# ---------------------------------------------------------------- every outline

def test_a_useful_number_of_drafts_in_every_kind(drafted):
    name, _sections, made = drafted
    assert len(made) >= 60, name
    assert {q.kind for q in made} == {"single", "multiple", "truefalse"}
    assert all(q.status == "draft" for q in made)
    codes = {q.key.split("-")[-2] for q in made}
    assert {"num", "numtf", "count", "counttf", "one", "many", "tf", "fill", "in"} <= codes


def test_drafts_read_back_through_the_bank_reader_without_errors(drafted, tmp_path):
    _name, sections, made = drafted
    (tmp_path / "bank").mkdir()
    (tmp_path / "outline.yaml").write_text(drafts.dump_outline_yaml(sections), encoding="utf-8")
    (tmp_path / "bank" / "drafts.yaml").write_text(drafts.dump_questions_yaml(made), encoding="utf-8")
    bank = read_bank(tmp_path)
    assert bank.errors == []
    assert [q.key for q in bank.questions] == [q.key for q in made]
    for back, original in zip(bank.questions, made):
        assert back.content_hash() == original.content_hash()
        assert back.status == "draft"


def test_no_draft_has_zero_or_two_right_answers(drafted):
    for q in drafted[2]:
        right = sum(c.correct for c in q.choices)
        if q.kind == "multiple":
            assert right >= 1, q.key
        else:
            assert right == 1, q.key
        assert len({c.text for c in q.choices}) == len(q.choices) >= 2, q.key


def test_drafting_is_deterministic(drafted, contradictions):
    _name, sections, made = drafted
    again = drafts.draft_questions(copy.deepcopy(sections), set(contradictions))
    assert drafts.dump_questions_yaml(again) == drafts.dump_questions_yaml(made)


def test_no_draft_rests_on_a_contradiction(drafted, contradictions):
    for q in drafted[2]:
        texts = [q.prompt] + [c.text for c in q.choices]
        for needle in contradictions:
            assert not any(_norm(needle) in _norm(t) for t in texts), (q.key, needle)


def test_every_draft_names_an_existing_section_and_quotes_it(drafted):
    _name, sections, made = drafted
    keys = {s.key for s in sections}
    items = {i["key"] for s in sections for i in s.items}
    for q in made:
        assert q.section in keys, q.key
        assert set(q.covers) <= items, q.key
        assert ("«" in q.explanation or "“" in q.explanation), q.key
        assert q.key.startswith(f"draft-{q.section[:20]}") and len(q.key) <= 80, q.key


def test_numeric_distractors_differ_from_the_right_value_and_from_other_right_values(drafted):
    _name, sections, made = drafted
    by_label: dict[str, list[drafts.Figure]] = {}
    labels = {}
    for s in sections:
        for item in s.items:
            figure = drafts.parse_figure(item["value"])
            labels[item["key"]] = _norm(item["label"])
            if figure:
                by_label.setdefault(_norm(item["label"]), []).append(figure)
    numeric = [q for q in made if "-num-" in q.key]
    assert numeric
    for q in numeric:
        right = drafts.parse_figure(next(c.text for c in q.choices if c.correct))
        assert right is not None, q.key
        also_right = by_label[labels[q.covers[0]]]
        for choice in q.choices:
            if choice.correct:
                continue
            wrong = drafts.parse_figure(choice.text)
            # a bound's wrong answers are the exact values it excludes ("90%" for "trên 90%")
            assert wrong is not None and wrong.template in (right.template, right.bare_template), (
                q.key, choice.text)
            assert wrong.numbers != right.numbers, (q.key, choice.text)
            assert not any(wrong.same(r) for r in also_right), (q.key, choice.text)


def test_false_statements_swap_in_a_figure_of_another_label(drafted):
    """A false numeric statement carries a sibling's figure, never the item's own."""
    _name, sections, made = drafted
    values = {i["key"]: i["value"] for s in sections for i in s.items}
    for q in made:
        if "-numtf-" in q.key and not q.choices[0].correct:
            own = drafts.parse_figure(values[q.covers[0]])
            assert own is not None
            stated = tuple(drafts.parse_figure(n).numbers[0]
                           for n in NUM_RE.findall(q.prompt)[-len(own.numbers):])
            assert stated != own.numbers, q.key


# ---------------------------------------------------------------- the rules, one by one

def _mini_outline(value: str, label: str = "Ngày diễn ra Đại hội") -> list[SectionData]:
    return [SectionData(key="congress", title="I. Đại hội", kind="info", lines="1-3",
                        body=f"{label}: {value}.", parent_key=None, position=1, depth=0,
                        items=[{"key": "date", "label": label, "value": value}])]


def test_a_contradicted_right_answer_drops_the_draft():
    assert drafts.draft_questions(_mini_outline("06/8/2025"), {"06/8/2025"}) == []
    assert drafts.draft_questions(_mini_outline("06/8/2025"), set())


def test_a_contradicted_distractor_is_replaced_not_used():
    made = drafts.draft_questions(_mini_outline("19/8/2025"), {"20/8/2025"})
    single = next(q for q in made if q.kind == "single")
    texts = [c.text for c in single.choices]
    assert "19/8/2025" in texts and "20/8/2025" not in texts and len(texts) == 4


def test_two_values_for_one_label_make_no_numeric_question():
    sections = _mini_outline("58%", "Tỷ trọng dịch vụ chiếm")
    sections[0].items.append({"key": "again", "label": "Tỷ trọng dịch vụ chiếm", "value": "60%"})
    assert not [q for q in drafts.draft_questions(sections) if "-num-" in q.key]


def test_a_distractor_close_to_a_member_of_the_list_is_never_offered():
    """Key task (1) and solution group (5) of the seed both say "xây dựng, chỉnh đốn
    Đảng": neither may be the wrong answer of a question about the other list."""
    made = drafts.draft_questions(_sections("structured-seed"))
    for q in made:
        if q.section.startswith(("key-task", "solution")) and ("-one-" in q.key or "-many-" in q.key):
            wrong = [c.text for c in q.choices if not c.correct]
            assert not any("chỉnh đốn Đảng" in w for w in wrong), q.key


def test_figures_keep_the_vietnamese_number_style():
    assert drafts.parse_figure("1.886").text() == "1.886"
    assert drafts.parse_figure("10,5% - 11%").template == "{}% - {}%"
    near = [f.text() for f in near_figures(drafts.parse_figure("02"))]
    assert near[:2] == ["03", "01"]
    assert all(f != "10,5% - 11%" for f in
               (n.text() for n in near_figures(drafts.parse_figure("10,5% - 11%"))))
    assert drafts.parse_figure("giảm từ 3% - 2%") is None
    assert drafts.parse_figure("81,8% = 9/11 trường") is None


# ---------------------------------------------------------------- plain outlines

def test_the_seed_text_becomes_the_outline_structure():
    sections = _sections("seed-text")
    by_key = {s.key: s for s in sections}
    children = {}
    for s in sections:
        children.setdefault(s.parent_key, []).append(s)
    tops = [s.title.split(".")[0] for s in children[None]]
    assert tops == ["Công văn số 02-CV/ĐU", "I", "II", "III", "IV"]
    assert [s.key for s in children["part-2"]] == [f"part-2-{n}" for n in range(1, 7)]
    for group, count, kind in (("viewpoints", 5, "viewpoint"), ("breakthroughs", 3, "breakthrough"),
                               ("key-tasks", 3, "task"), ("solutions", 5, "solution")):
        assert by_key[group].kind == kind
        assert [c.key for c in children[group]] == [f"{kind if kind != 'task' else 'key-task'}-{n}"
                                                     for n in range(1, count + 1)]
    assert children["breakthroughs"][1].title == "Khâu đột phá (2): Chuyển đổi số"
    assert "(1) Thực hiện chuyển đổi số" in by_key["key-task-2"].body  # nested list stays body
    values = {i["label"]: i["value"] for s in sections for i in s.items}
    assert values["Tốc độ tăng giá trị sản xuất bình quân các ngành kinh tế giai đoạn 2025 - 2030"] == "10,5% - 11%"
    assert values["Thương mại, dịch vụ tăng"] == "10,5% - 12,5%"
    assert values["Tỷ trọng thương mại, dịch vụ chiếm"] == "58%"
    assert values["Nông nghiệp chiếm"] == "0,1%"
    assert values["Tỷ lệ trường công lập đạt chuẩn quốc gia"] == "81,8% = 9/11 trường"
    assert values["Tỷ lệ trẻ em dưới 5 tuổi bị suy dinh dưỡng giảm còn"] == "5,9%"
    assert values["Tỷ lệ tổ chức đảng đạt tiêu chuẩn “4 tốt” hằng năm"] == "80%"
    assert values["Lĩnh vực giáo dục và đào tạo"] == "11 dự án"
    assert values["Lĩnh vực phát triển quỹ đất"] == "03 dự án"
    assert values["Danh mục dự kiến các dự án đầu tư công trung hạn 5 năm giai đoạn 2025-2030 gồm"] == "26 dự án"
    target_items = [i for s in sections if s.parent_key == "targets" for i in s.items]
    assert len(target_items) == 7 + 2 + 4
    assert by_key["projects"].kind == "project" and len(by_key["projects"].items) == 7
    # page breaks joined, markdown and LaTeX gone
    assert "đảng viên với nhiều cách làm mới" in by_key["part-2-3"].body
    assert "*" not in "".join(s.body for s in sections) and "$" not in by_key["targets-van-hoa-xa-hoi"].body


def test_the_other_ward_outline_becomes_the_outline_structure():
    sections = _sections("other-ward")
    children = {}
    for s in sections:
        children.setdefault(s.parent_key, []).append(s)
    assert [len(children[k]) for k in ("viewpoints", "breakthroughs", "key-tasks", "solutions")] == [4, 2, 4, 6]
    assert [s.title for s in children["part-2-3"]] == ["a) Về kinh tế", "b) Về văn hóa - xã hội",
                                                        "c) Về xây dựng Đảng"]
    values = {i["label"]: i["value"] for s in sections for i in s.items}
    assert values["Thu nhập bình quân đầu người đến năm 2030"] == "160 triệu đồng/năm"
    assert values["Kết nạp đảng viên mới giai đoạn 2025 - 2030"] == "150 đảng viên"
    assert values["Lĩnh vực giao thông, hạ tầng"] == "05 dự án"


@pytest.mark.parametrize("name", ["structured-seed", "seed-text",
                                  "other-ward"])
def test_dump_outline_yaml_reads_back_equal(name, tmp_path):
    sections = _sections(name)
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "none.yaml").write_text("format: quizapp-questions/1\nquestions: []\n",
                                                 encoding="utf-8")
    (tmp_path / "outline.yaml").write_text(drafts.dump_outline_yaml(sections, key="x"), encoding="utf-8")
    bank = read_bank(tmp_path)
    assert bank.errors == []
    assert bank.sections == sections
    assert drafts.load_outline(tmp_path / "outline.yaml") == sections


def test_parsing_never_fails_on_odd_text():
    assert drafts.parse_plain_outline("") == []
    odd = drafts.parse_plain_outline("just words\n\n(1) (2) (3)\n* \n**\nI.\n- : 5%\n")
    assert all(KEY_RE.match(s.key) for s in odd)


# ---------------------------------------------------------------- documents

def _docx(paragraphs: list[tuple[str, str | None]], table: list[list[str]] | None = None) -> bytes:
    import docx
    document = docx.Document()
    for text, style in paragraphs:
        document.add_paragraph(text, style=style)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_read_document_reads_a_docx_and_its_word_numbering():
    content = _docx([("II. NỘI DUNG CHỦ YẾU", None), ("1. Về quan điểm", None),
                     ("* Đại hội đưa ra 3 quan điểm:", None),
                     ("Lấy người dân làm trung tâm.", "List Number"),
                     ("Phát triển đô thị xanh.", "List Number"),
                     ("Giữ vững kỷ cương.", "List Number"),
                     ("* Về chỉ tiêu chủ yếu đến năm 2030", None),
                     ("Chỉ tiêu về kinh tế:", None)],
                    table=[["Tỷ trọng dịch vụ chiếm", "72%"], ["Tỷ trọng công nghiệp chiếm", "27,5%"]])
    text = drafts.read_document(content, "de-cuong.DOCX")
    assert "(2) Phát triển đô thị xanh." in text.splitlines()
    assert "Tỷ trọng dịch vụ chiếm: 72%" in text.splitlines()
    sections = drafts.parse_plain_outline(text)
    assert [s.title for s in sections if s.parent_key == "viewpoints"][0].startswith("Quan điểm (1): Lấy người dân")
    assert len([s for s in sections if s.parent_key == "viewpoints"]) == 3


def test_read_document_reads_markdown_and_text_as_utf8():
    text = "\ufeff## II. NỘI DUNG\r\n\r\n**1. Về chủ đề Đại hội**\r\n".encode("utf-8")
    assert drafts.read_document(text, "outline.md").splitlines()[0] == "## II. NỘI DUNG"
    sections = drafts.parse_plain_outline(drafts.read_document(text, "outline.md"))
    assert [s.key for s in sections] == ["part-2", "part-2-1"]
    decomposed = unicodedata.normalize("NFD", "Quan điểm").encode("utf-8")
    assert drafts.read_document(decomposed, "a.txt") == "Quan điểm"  # NFC


def test_read_document_refuses_text_that_is_not_utf8():
    with pytest.raises(drafts.DocumentError, match="not UTF-8"):
        drafts.read_document("Văn hóa".encode("cp1258"), "outline.txt")


def test_read_document_refuses_an_oversized_file():
    with pytest.raises(drafts.DocumentError, match="larger than 2 MB"):
        drafts.read_document(b"a" * (drafts.MAX_DOCUMENT_BYTES + 1), "outline.txt")


@pytest.mark.parametrize("content, name, message", [
    (b"%PDF-1.7", "outline.pdf", "unsupported file type"),
    (b"not a zip", "outline.docx", "not a .docx"),
    (b"", "outline", "unsupported file type"),
])
def test_read_document_refuses_other_files(content, name, message):
    with pytest.raises(drafts.DocumentError, match=message):
        drafts.read_document(content, name)


def test_read_document_refuses_a_zip_bomb_docx():
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (MAX_DOCX_UNPACKED_BYTES + 1))
    with pytest.raises(drafts.DocumentError, match="unpacks to more than"):
        drafts.read_document(out.getvalue(), "bomb.docx")


# ---------------------------------------------------------------- the contradictions file

def test_the_contradictions_file_lists_spots_of_the_seed(contradictions):
    seed = _norm(SEED_TEXT.read_text(encoding="utf-8").replace("*", ""))
    for needle in contradictions:
        if not needle.isdigit():  # "127" is a sum readers make, not a string of the text
            assert _norm(needle) in seed, needle
    for must in ("06/8/2025", "Đảng bộ xã", "tồn tại trong nhiệm kỳ 2025-2030"):
        assert must in contradictions


def test_read_contradictions_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("# a comment\n\n06/8/2025\n  Đảng bộ xã  \n", encoding="utf-8")
    assert drafts.read_contradictions(path) == {"06/8/2025", "Đảng bộ xã"}
    assert drafts.default_contradictions(tmp_path) == set()
