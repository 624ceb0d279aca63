"""Draft questions derived from an outline, and plain outlines turned into structured ones.

Three jobs (issue 5, items 4 and 5):

* `draft_questions(sections, contradictions)` writes draft questions from a structured
  outline (the `SectionData` that `bank_format.read_bank` returns): numeric targets,
  "which of these is one of the N …", counts, completion of quoted slogans and
  true/false statements. The output depends only on the input: every random choice is
  seeded from the section key and the subject of the question.
* `parse_plain_outline(text)` turns a plain-text outline such as the seed (Roman parts,
  "1." sections, "a)" sub-sections, "* …" headings, "(1)" lists, "label: 10,5%" lines)
  into sections; `dump_outline_yaml(sections)` writes them in the questions/ format.
* `read_document(content, filename)` reads an uploaded .txt, .md or .docx as text.

Nothing here touches the database; `draft_store` stores what this module makes.
"""
from __future__ import annotations

import hashlib
import io
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal
from pathlib import Path

import yaml

from .bank_format import (KEY_RE, OUTLINE_FORMAT, QUESTIONS_FORMAT, Bank, ChoiceData,
                          QuestionData, SectionData)

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
# A .docx is a zip: refuse archives that would inflate past this (zip bombs).
MAX_DOCX_UNPACKED_BYTES = 40 * 1024 * 1024
DOCUMENT_SUFFIXES = (".txt", ".md", ".docx")
CONTRADICTIONS_FILE = "contradictions.txt"
MAX_KEY_LENGTH = 80  # Question.key is String(80)


class DocumentError(ValueError):
    """An uploaded outline that cannot be read (type, encoding, size, broken .docx)."""


class OutlineError(ValueError):
    """An outline file that cannot be turned into sections; `errors` lists why."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors[:5]))
        self.errors = errors


# ====================================================================== text helpers

DASHES = "\u2013\u2014\u2212"  # en dash, em dash, minus


def _fold(text: str) -> str:
    """Lowercase ASCII-ish form ("Quan điểm" → "quan diem") for keys and comparisons."""
    text = unicodedata.normalize("NFC", text).lower().replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if unicodedata.category(ch) != "Mn")


def _slug(text: str, words: int = 5) -> str:
    parts = re.findall(r"[a-z0-9]+", _fold(text))
    return "-".join(parts[:words])


def _norm_for_match(text: str) -> str:
    """How contradiction strings and draft texts are compared: NFC, case-folded, one
    space, any dash as '-', no spaces around '-' and '/'."""
    text = unicodedata.normalize("NFC", text).casefold()
    for dash in DASHES:
        text = text.replace(dash, "-")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([-/])\s*", r"\1", text).strip()


def _lower_first(text: str) -> str:
    """'Thương mại, dịch vụ' → 'thương mại, dịch vụ' inside a sentence; acronyms
    ('UBND …') and proper names in capitals keep their case."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        first = text.split(" ", 1)[0]
        # Vietnamese proper nouns inside labels (Đảng, Nhân dân…) start the label rarely;
        # lowering the first word is right for the common "Tỷ lệ …", "Thương mại …".
        if first not in {"Đảng", "Đại", "Nhà", "Thành", "Thủ", "Nhân"}:
            return text[0].lower() + text[1:]
    return text


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _display_title(title: str) -> str:
    """A section title as a reader would name it: no 'II.' / '3.' / 'a)' prefix, and
    sentence case for an all-capitals heading."""
    title = re.sub(r"^(?:[IVXLC]+|\d{1,2}|[a-zđ])[.)]\s+", "", title.strip())
    letters = [ch for ch in title if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters):
        title = title[:1] + title[1:].lower()
    return title.rstrip(" :")


def _seed(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16], 16)


def _rng(*parts: str) -> random.Random:
    return random.Random(_seed(*parts))


def _short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:6]


# Similarity on syllable bigrams: Vietnamese words are several syllables long, so single
# syllables ("phát", "triển") match everywhere while bigrams ("chuyen doi") carry meaning.
@lru_cache(maxsize=8192)
def _grams(text: str) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"\w+", _fold(text))
    if len(words) == 1:
        return frozenset({(words[0],)})
    return frozenset(zip(words, words[1:]))


def _contained(part: str, whole: str) -> float:
    """Share of `part`'s bigrams that also occur in `whole` (0..1)."""
    a = _grams(part)
    return len(a & _grams(whole)) / len(a) if a else 0.0


# Words that say little about what a passage is about; a shared three-word phrase counts
# only when at least two of its words are not among them.
GENERIC_WORDS = set("""thuc hien hieu qua cac va cua ve trong voi de theo cho la co nhung duoc
tren mot da tang cuong nang cao day manh tiep tuc dam bao xay dung phat trien doi moi chat luong
nham gan nhu tai tu den khi thi nay do sau hon rat moi toan dien""".split())


@lru_cache(maxsize=8192)
def _phrases(text: str) -> frozenset[tuple[str, str, str]]:
    words = re.findall(r"\w+", _fold(text))
    return frozenset(t for t in zip(words, words[1:], words[2:])
                     if sum(w not in GENERIC_WORDS for w in t) >= 2)


def _shares_phrase(part: str, whole: str) -> bool:
    """Whether `part` and `whole` share a telling three-word phrase ("chuyển đổi số",
    "an sinh xã hội"): then `part` is too close to `whole` to be a wrong answer."""
    return bool(_phrases(part) & _phrases(whole))


# ====================================================================== figures

NUM_RE = re.compile(r"\d{1,3}(?:\.\d{3})+(?![\d,])|\d+(?:,\d+)?")
QUALIFIERS = ("trên", "dưới", "khoảng", "tối thiểu", "ít nhất", "không quá")
_QUAL = "|".join(QUALIFIERS)
_UNIT = r"(?:\s[^\W\d_]+){1,3}(?:/[^\W\d_]+)?"
SIMPLE_TEMPLATES = [
    re.compile(rf"(?:(?:{_QUAL})\s)?\{{\}}%"),                             # 58%, trên 90%
    re.compile(rf"(?:(?:{_QUAL})\s)?\{{\}}% - \{{\}}%(?:/[^{{}}]+)?"),     # 10,5% - 11%
    re.compile(rf"(?:(?:{_QUAL})\s)?\{{\}}(?:{_UNIT})?"),                  # 26, 11 dự án
    re.compile(r"\{\}/\{\}/\{\}"),                                         # 19/8/2025
]


@dataclass(frozen=True)
class _NumFormat:
    decimals: int
    width: int
    grouped: bool

    @classmethod
    def of(cls, text: str) -> "_NumFormat":
        decimals = len(text.split(",", 1)[1]) if "," in text else 0
        width = len(text) if text.startswith("0") and len(text) > 1 and "," not in text else 0
        return cls(decimals, width, "." in text)

    def render(self, value: Decimal) -> str:
        """Vietnamese style: decimal comma, '.' between thousands when the source had it,
        leading zeros kept ("02"), no trailing ",0"."""
        value = Decimal(value)
        places = max(-value.normalize().as_tuple().exponent, 0)  # type: ignore[operator]
        whole, _, frac = f"{value:.{places}f}".partition(".")
        frac = frac.rstrip("0")
        if self.grouped and len(whole) > 3:
            whole = f"{int(whole):,}".replace(",", ".")
        if self.width:
            whole = whole.zfill(self.width)
        return whole + ("," + frac if frac else "")


@dataclass(frozen=True)
class Figure:
    """A value such as "10,5% - 11%" split into a template ("{}% - {}%") and numbers."""

    template: str
    numbers: tuple[Decimal, ...]
    formats: tuple[_NumFormat, ...]

    @property
    def is_percent(self) -> bool:
        return "%" in self.template

    @property
    def is_date(self) -> bool:
        return self.template == "{}/{}/{}"

    @property
    def unit(self) -> str:
        """The words after a count ("dự án" in "11 dự án"), or ''."""
        match = re.fullmatch(rf"(?:(?:{_QUAL})\s)?\{{\}}((?:{_UNIT})?)", self.template)
        return match.group(1).strip() if match and not self.is_percent else ""

    def same(self, other: "Figure") -> bool:
        return self.template == other.template and self.numbers == other.numbers

    def render(self, numbers: tuple[Decimal, ...]) -> str:
        return self.template.format(*(fmt.render(n) for fmt, n in zip(self.formats, numbers)))

    def text(self) -> str:
        return self.render(self.numbers)


def parse_figure(value: str) -> Figure | None:
    """The figure in an item value when it is a plain one (a percent, a percent range, a
    count with an optional unit, a date); None for anything else ("giảm từ 3% - 2%",
    "81,8% = 9/11 trường", text), which the numeric generator leaves alone."""
    value = value.strip().rstrip(".;,")
    for dash in DASHES:
        value = value.replace(dash, "-")
    value = re.sub(r"\s*-\s*", " - ", value)
    numbers = NUM_RE.findall(value)
    if not numbers:
        return None
    template = NUM_RE.sub("{}", value)
    if not any(p.fullmatch(template) for p in SIMPLE_TEMPLATES):
        return None
    parsed = tuple(Decimal(n.replace(".", "").replace(",", ".")) for n in numbers)
    return Figure(template, parsed, tuple(_NumFormat.of(n) for n in numbers))


def _near_figures(fig: Figure) -> list[Figure]:
    """Plausible wrong values near `fig`, in a fixed order (never equal to it)."""
    out: list[tuple[Decimal, ...]] = []
    nums = fig.numbers
    if fig.is_date:
        day, month, year = nums
        for dd, dm in ((1, 0), (-1, 0), (2, 0), (-2, 0), (0, 1), (0, -1)):
            d, m = day + dd, month + dm
            if 1 <= d <= 28 and 1 <= m <= 12:
                out.append((d, m, year))
    else:
        decimals = max(f.decimals for f in fig.formats)
        if decimals:
            unit = Decimal(1).scaleb(-decimals)
            steps = [5 * unit, -5 * unit, 10 * unit, -10 * unit, unit, 2 * unit]
        elif len(nums) == 2 and fig.is_percent:
            steps = [Decimal("0.5"), Decimal(1), Decimal(-1), Decimal(2)]
        elif fig.is_percent:
            steps = [Decimal(s) for s in (2, -2, 5, -5, 1, -1, 10)]
        else:
            delta = max(1, round(nums[0] * Decimal("0.05")))
            steps = [Decimal(s * delta) for s in (1, -1, 2, -2, 3, 4)]
        for step in steps:
            if len(nums) == 1:
                out.append((nums[0] + step,))
            else:
                low, high = nums
                out.extend([(low, high + step), (low + step, high + step),
                            (low - step, high - step), (low, high - step)])
    result: list[Figure] = []
    for candidate in out:
        if any(n < 0 for n in candidate) or (fig.is_percent and any(n > 100 for n in candidate)):
            continue
        if any(n == 0 for n in candidate) and not any(n == 0 for n in nums):
            continue
        if len(candidate) == 2 and not fig.is_date and candidate[0] >= candidate[1]:
            continue
        figure = Figure(fig.template, tuple(Decimal(n) for n in candidate), fig.formats)
        if figure.same(fig) or any(figure.same(r) for r in result):
            continue
        result.append(figure)
    return result


# ====================================================================== reading documents

def read_document(content: bytes, filename: str) -> str:
    """The text of an uploaded outline: .txt and .md as UTF-8 (a BOM is allowed), .docx
    through python-docx with paragraphs (and table rows, cells joined by ': ') one per
    line. Raises DocumentError for another type, text that is not UTF-8, a file over
    MAX_DOCUMENT_BYTES or a broken .docx. Nothing in the file is ever executed."""
    name = Path(filename or "").name
    suffix = Path(name).suffix.lower()
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{name}: the file is larger than "
                            f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")
    if suffix in (".txt", ".md"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{name}: not UTF-8 text (invalid byte at position {exc.start}); "
                                "save the file as UTF-8") from None
    elif suffix == ".docx":
        text = _read_docx(content, name)
    else:
        raise DocumentError(f"{name}: unsupported file type '{suffix or name}'; "
                            f"use {', '.join(DOCUMENT_SUFFIXES)}")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text.replace("\x00", "")


def _read_docx(content: bytes, name: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_DOCX_UNPACKED_BYTES:
                raise DocumentError(f"{name}: the document unpacks to more than "
                                    f"{MAX_DOCX_UNPACKED_BYTES // (1024 * 1024)} MB")
            if "word/document.xml" not in archive.namelist():
                raise DocumentError(f"{name}: not a Word document (no word/document.xml)")
    except zipfile.BadZipFile:
        raise DocumentError(f"{name}: not a .docx file (not a zip archive)") from None
    try:
        import docx  # python-docx; its XML parser does not resolve entities
        from docx.table import Table
        document = docx.Document(io.BytesIO(content))
        lines: list[str] = []
        numbered = 0
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells = [c.text.strip() for c in row.cells]
                    # merged cells repeat their text; keep one copy
                    unique = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
                    if unique:
                        lines.append(": ".join(unique))
                lines.append("")
                continue
            text = block.text.strip()
            style = (block.style.name if block.style is not None else "") or ""
            # Word's automatic numbering is not part of the paragraph text: give list
            # paragraphs the markers a typed outline would have.
            if style.startswith("List Bullet") and text:
                text = "- " + text
            elif (style.startswith("List Number") or _has_numbering(block)) and text:
                numbered += 1
                text = f"({numbered}) {text}"
            if not style.startswith("List Number") and not _has_numbering(block):
                numbered = 0
            lines.append(text)
        return "\n".join(lines)
    except DocumentError:
        raise
    except Exception as exc:  # python-docx/lxml raise many types for a broken file
        raise DocumentError(f"{name}: cannot read the Word document ({exc.__class__.__name__})") from None


def _has_numbering(paragraph) -> bool:
    ppr = paragraph._p.pPr
    return ppr is not None and ppr.numPr is not None and not paragraph.style.name.startswith("List Bullet")


# ====================================================================== plain outlines

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
         "X": 10, "XI": 11, "XII": 12, "XIII": 13, "XIV": 14, "XV": 15}
ROMAN_RE = re.compile(r"^([IVX]{1,5})\.\s+(\S.*)$")
NUMBERED_RE = re.compile(r"^(\d{1,2})\.\s+(\S.*)$")
LETTERED_RE = re.compile(r"^([a-zđ])\)\s+(\S.*)$")
STAR_RE = re.compile(r"^\*\s+(\S.*)$")
ENUM_ITEM_RE = re.compile(r"^(?:[-–•+]\s+)?\(\s*(\d{1,2})\s*\)\.?\s*(\S.*)$")
MARKER_RE = re.compile(r"^(?:[-–•+]\s+)?(?:\(\s*\d{1,2}\s*\)\.?|\d{1,2}[.)](?=\s)|[a-zđ]\)(?=\s))?\s*")
LIST_LINE_RE = re.compile(r"^(?:[-–•+]\s+\S|\(\s*\d{1,2}\s*\))")
NUMBER_WORDS = {"hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8,
                "chín": 9, "mười": 10}
ENUM_RE = re.compile(
    r"(?:^|\s)(\d{1,2}|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười)\s+"
    r"((?:[^\W\d_]+\s?){1,6}?)\s*(?:gồm|bao gồm)?\s*:?\s*$", re.IGNORECASE)
KIND_WORDS = [("breakthrough", ("đột phá",)), ("viewpoint", ("quan điểm",)),
              ("solution", ("giải pháp",)), ("task", ("nhiệm vụ",)), ("project", ("dự án",)),
              ("target", ("chỉ tiêu",)), ("goal", ("mục tiêu", "tầm nhìn", "mục đến năm"))]
GROUP_KEYS = {"viewpoint": "viewpoints", "breakthrough": "breakthroughs", "task": "key-tasks",
              "solution": "solutions", "target": "targets", "goal": "goals", "project": "projects"}
CHILD_KEYS = {"viewpoint": "viewpoint", "breakthrough": "breakthrough", "task": "key-task",
              "solution": "solution", "target": "target", "goal": "goal", "project": "project"}
LEVEL_ROMAN, LEVEL_NUMBERED, LEVEL_LETTERED, LEVEL_STAR, LEVEL_SUB = 1, 2, 3, 4, 5
TERMINAL = ".;,!?…"


@dataclass
class _Node:
    key: str
    title: str
    kind: str
    level: int
    start: int
    end: int
    parent: "_Node | None" = None
    paragraphs: list[tuple[str, bool]] = field(default_factory=list)  # (text, blank line before)
    children: list["_Node"] = field(default_factory=list)
    enum: tuple[int, str] | None = None
    next_enum: int = 1


def _clean_line(raw: str) -> tuple[str, bool]:
    """A source line without markdown emphasis and LaTeX; True when it is a '* …' heading."""
    line = unicodedata.normalize("NFC", raw).replace("\t", " ").strip()
    line = re.sub(r"^#{1,6}\s+", "", line)
    line = line.replace("**", "")
    star = bool(STAR_RE.match(line))
    if star:
        line = STAR_RE.match(line).group(1)  # type: ignore[union-attr]
    line = re.sub(r"\$([^$]*)\$", lambda m: m.group(1).replace("\\%", "%"), line)
    line = line.replace("*", "")  # what is left of *italic* (outlines use '*' for nothing else)
    return re.sub(r"\s+", " ", line).strip(), star


def _kind_of(text: str, default: str) -> str:
    folded = text.lower()
    for kind, words in KIND_WORDS:
        if any(w in folded for w in words):
            return kind
    return default


def _enum_of(text: str) -> tuple[int, str] | None:
    match = ENUM_RE.search(text.rstrip(" :"))
    if not match:
        return None
    raw, noun = match.group(1).lower(), match.group(2).strip()
    count = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
    if not noun or noun.split()[0].lower() in {"năm", "tháng", "ngày"} or count < 2:
        return None
    return count, noun


def _headline(text: str, max_words: int = 22) -> str:
    """The first clause of a list item or heading, without its marker ("(2). …")."""
    text = MARKER_RE.sub("", text.strip(), count=1)
    nested = re.search(r"\s\(\d{1,2}\)\s", text)
    if nested:
        text = text[:nested.start()]
    stop = re.search(r"[.;:](?=\s|$)", text)
    if stop:
        text = text[:stop.start()]
    words = text.split()
    if len(words) > max_words:
        cut = " ".join(words[:max_words])
        comma = cut.rfind(",")
        text = cut[:comma] if comma > len(cut) // 3 else cut
    text = text.strip(" ,;:.-–“”\"")
    # "(5). Về xây dựng, chỉnh đốn Đảng…": the "Về" (about) heads a heading, not a content
    if re.match(r"Về\s+\S+\s+\S+", text):
        text = _upper_first(text[3:].lstrip())
    return text


def _is_short_heading(text: str, max_words: int = 25) -> bool:
    return len(text.split()) <= max_words and text[-1:] not in TERMINAL


def parse_plain_outline(text: str) -> list[SectionData]:
    """Sections of a plain-text outline, in the shape `read_bank` gives.

    Recognised: the text before the first Roman part (a letter when it has a "Số …/…"
    reference); Roman parts "I." (keys part-1…); numbered sections "1." (short lines,
    no final full stop); lettered "a)" sub-sections; "* …" headings, whose kind comes
    from their words (quan điểm, khâu đột phá, nhiệm vụ, giải pháp, chỉ tiêu, dự án,
    mục tiêu/tầm nhìn); a heading announcing "N <things>" takes the following "(1)",
    "(2)" … paragraphs as its children; inside a "* …" section a short line followed by
    a list, or a "Về …: …" paragraph of another kind, starts a sub-section. Lines such
    as "Chỉ tiêu …: 10,5% - 11%", "Lĩnh vực …: 11 dự án" or "- (3) … giảm còn 5,9%"
    become the section's items. Never raises: unrecognised lines are body text.
    """
    raw_lines = text.splitlines()
    cleaned = [_clean_line(line) for line in raw_lines]
    has_roman = any(not star and ROMAN_RE.match(line) and
                    ROMAN_RE.match(line).group(1) in ROMAN for line, star in cleaned)  # type: ignore[union-attr]
    root = _Node("", "", "info", 0, 0, 0)
    used_keys: set[str] = set()

    def unique(key: str) -> str:
        key = re.sub(r"-+", "-", key).strip("-")[:60] or "section"
        if not KEY_RE.match(key):
            key = "s-" + key
        candidate, n = key, 2
        while candidate in used_keys:
            candidate, n = f"{key}-{n}", n + 1
        used_keys.add(candidate)
        return candidate

    preamble: _Node | None = None
    stack: list[_Node] = [root]
    seen_heading = False
    roman_no = 0
    blank = False

    def current() -> _Node:
        return stack[-1]

    def open_node(node: _Node) -> None:
        while stack[-1] is preamble or stack[-1].level >= node.level:
            stack.pop()
        node.parent = stack[-1]
        stack[-1].children.append(node)
        stack.append(node)

    def star_ancestor() -> _Node | None:
        for node in reversed(stack):
            if node.level == LEVEL_STAR:
                return node
            if node.level < LEVEL_STAR:
                return None
        return None

    def add_paragraph(node: _Node, line: str, lineno: int, blank_before: bool) -> None:
        if (node.paragraphs and line[:1].islower()
                and node.paragraphs[-1][0][-1:] not in TERMINAL + ":”\")"):
            # a sentence broken by a page break
            prev, prev_blank = node.paragraphs[-1]
            node.paragraphs[-1] = (prev + " " + line, prev_blank)
        else:
            node.paragraphs.append((line, blank_before))
        node.end = lineno

    def next_content(index: int) -> str:
        for line, _star in cleaned[index + 1:]:
            if line:
                return line
        return ""

    for index, (line, star) in enumerate(cleaned):
        lineno = index + 1
        if not line:
            blank = True
            continue
        blank_before, blank = blank, False
        roman = ROMAN_RE.match(line) if not star else None
        if roman and roman.group(1) in ROMAN and _is_short_heading(roman.group(2), 40):
            roman_no = ROMAN[roman.group(1)]
            node = _Node(unique(f"part-{roman_no}"), line, "info", LEVEL_ROMAN, lineno, lineno)
            node.paragraphs.append((line, False))
            open_node(node)
            seen_heading = True
            continue
        if has_roman and not seen_heading or (not has_roman and not seen_heading and not (
                star or NUMBERED_RE.match(line) and _is_short_heading(line))):
            if preamble is None:
                preamble = _Node("", "", "info", LEVEL_ROMAN, lineno, lineno, parent=root)
                root.children.append(preamble)
                stack.append(preamble)
            add_paragraph(preamble, line, lineno, blank_before)
            continue
        numbered = NUMBERED_RE.match(line) if not star else None
        if numbered and _is_short_heading(line):
            parent_key = f"part-{roman_no}" if roman_no else "section"
            node = _Node(unique(f"{parent_key}-{numbered.group(1)}"), line, "info",
                         LEVEL_NUMBERED, lineno, lineno)
            node.paragraphs.append((line, False))
            node.enum = _enum_of(numbered.group(2))
            if node.enum:
                node.kind = _kind_of(node.enum[1], "info")
            open_node(node)
            seen_heading = True
            continue
        lettered = LETTERED_RE.match(line) if not star else None
        if lettered and _is_short_heading(line, 20) and any(n.level == LEVEL_NUMBERED for n in stack):
            parent = next(n for n in reversed(stack) if n.level < LEVEL_LETTERED)
            node = _Node(unique(f"{parent.key or 'section'}-{_slug(lettered.group(1), 1)}"), line,
                         _kind_of(lettered.group(2), "info") if _enum_of(lettered.group(2)) else "info",
                         LEVEL_LETTERED, lineno, lineno)
            node.paragraphs.append((line, False))
            node.enum = _enum_of(lettered.group(2))
            open_node(node)
            continue
        if star:
            title = line
            if ":" in line and len(line.split(":", 1)[1].split()) > 12:
                # "* Tầm nhìn đến năm 2045: Trở thành …": the heading carries its text
                title = line.split(":", 1)[0].strip()
            enum = _enum_of(line)
            kind = _kind_of(enum[1] if enum else title, "info")
            key = GROUP_KEYS.get(kind) or _slug(title, 4)
            node = _Node(unique(key), title.rstrip(" :"), kind, LEVEL_STAR, lineno, lineno)
            node.paragraphs.append((line, False))
            node.enum = enum
            open_node(node)
            seen_heading = True
            continue
        # a "(n)" child of a heading that announced "N <things>"
        enum_owner = next((n for n in reversed(stack) if n.enum), None)
        item = ENUM_ITEM_RE.match(line)
        if item and enum_owner is not None and int(item.group(1)) == enum_owner.next_enum:
            number = enum_owner.next_enum
            enum_owner.next_enum += 1
            noun = enum_owner.enum[1]  # type: ignore[index]
            base = CHILD_KEYS.get(enum_owner.kind) or enum_owner.key
            node = _Node(unique(f"{base}-{number}"), f"{_upper_first(noun)} ({number}): {_headline(line)}",
                         enum_owner.kind if enum_owner.kind != "info" else "info",
                         enum_owner.level + 1, lineno, lineno)
            node.paragraphs.append((line, False))
            while stack[-1] is not enum_owner:
                stack.pop()
            node.parent = enum_owner
            enum_owner.children.append(node)
            stack.append(node)
            continue
        group = star_ancestor()
        if group is not None and not group.enum:
            lead = line.split(":", 1)[0] if ":" in line else ""
            follows_list = bool(LIST_LINE_RE.match(next_content(index)))
            if (not LIST_LINE_RE.match(line) and len(line.split()) <= 12 and follows_list
                    and (line.endswith(":") or line[-1:] not in TERMINAL)):
                kind = _kind_of(line, group.kind)
                slug = re.sub(r"^(?:chi-tieu-)?(?:ve-)?", "", _slug(line, 7))
                title = line.rstrip(" :")
                if kind == "target" and "chỉ tiêu" not in title.lower():
                    # "Về xây dựng Đảng:" under the targets names the Party-building targets
                    title = "Chỉ tiêu " + _lower_first(title if title.startswith("Về ") else "về " + title)
                node = _Node(unique(f"{group.key}-{_slug(slug, 4) or 'part'}"), title,
                             kind, LEVEL_SUB, lineno, lineno)
                node.paragraphs.append((line, False))
                open_node(node)
                continue
            if lead and lead.startswith("Về ") and len(lead.split()) <= 25:
                kind = _kind_of(lead, group.kind)
                if kind != group.kind:
                    # another kind of content ("Về danh mục … dự án: …"): a sibling group
                    key = GROUP_KEYS.get(kind) or _slug(lead, 4)
                    node = _Node(unique(key), _upper_first(lead[3:].strip()), kind, LEVEL_STAR,
                                 lineno, lineno)
                    node.paragraphs.append((line, False))
                    open_node(node)
                    continue
        add_paragraph(current(), line, lineno, blank_before)

    if preamble is not None:
        body = "\n".join(p for p, _ in preamble.paragraphs)
        reference = re.search(r"Số\s*:?\s*(\d+\s*-?\s*[A-ZĐ]+/[A-ZĐ]+)", body)
        if reference:
            preamble.key, preamble.kind = unique("letter"), "letter"
            preamble.title = "Công văn số " + re.sub(r"\s*-\s*", "-", reference.group(1))
        else:
            preamble.key = unique("preamble")
            first = preamble.paragraphs[0][0]
            preamble.title = first if len(first.split()) <= 15 else "Phần mở đầu"

    out: list[SectionData] = []
    item_keys: set[str] = set()

    def finish(node: _Node, parent: str | None, depth: int) -> None:
        body_parts: list[str] = []
        for text_, blank_before_ in node.paragraphs:
            if body_parts:
                body_parts.append("\n\n" if blank_before_ else "\n")
            body_parts.append(text_)
        body = "".join(body_parts).strip()
        items = []
        for label, value in _numeric_lines(node):
            key = f"{node.key}-{len(items) + 1}"
            while key in item_keys:
                key += "-x"
            item_keys.add(key)
            items.append({"key": key, "label": label, "value": value})
        end = max([node.end] + [c.end for c in node.children])
        out.append(SectionData(
            key=node.key, title=node.title.strip(), kind=node.kind,
            lines=f"{node.start}-{end}", body=body, parent_key=parent,
            position=len(out) + 1, depth=depth, items=items))
        for child in node.children:
            finish(child, node.key, depth + 1)

    for top in root.children:
        finish(top, None, 0)
    return out


FIG = r"\d{1,3}(?:\.\d{3})+(?![\d,])|\d+(?:,\d+)?"
PCT_VALUE_RE = re.compile(
    rf"(?:(?:{_QUAL})\s+)?(?:{FIG})%(?:\s*[-{DASHES}]\s*(?:{FIG})%)?(?:/[^;.]+)?")


def _numeric_lines(node: _Node) -> list[tuple[str, str]]:
    """(label, value) pairs of the lines of a section that state a figure for a label."""
    found: list[tuple[str, str]] = []
    for paragraph, _ in node.paragraphs:
        is_list = bool(LIST_LINE_RE.match(paragraph))
        segments = re.split(r";\s*|,?\s+trong đó:\s*|\.\s+Trong đó:?\s*", paragraph,
                            flags=re.IGNORECASE)
        for segment in segments:
            segment = MARKER_RE.sub("", segment.strip(), count=1).rstrip(" .;,")
            pair = _label_value(segment, is_list)
            if pair:
                found.append(pair)
    return found


def _label_value(segment: str, is_list: bool) -> tuple[str, str] | None:
    if not segment or len(segment.split()) > 45:
        return None
    # "label: [≤ 2 words] figure [tail]"
    if ":" in segment:
        lead, _, rest = segment.rpartition(":")
        rest = rest.strip()
        total = re.fullmatch(rf"[Gg]ồm\s+((?:{FIG}){_UNIT})", rest)
        if total and len(lead.split()) <= 25:
            label = re.sub(r"^Về\s+", "", lead.strip())
            return _upper_first(label) + " gồm", total.group(1)
        pct = PCT_VALUE_RE.search(rest)
        if pct:
            before = rest[:pct.start()].strip()
            if len(before.split()) <= 2 and (not before or before[0].islower()):
                value = rest.strip()
                label = lead.strip()
            else:
                value = rest[pct.start():].strip()
                label = f"{lead.strip()}: {before}"
            if len(value.split()) <= 10 and len(label.split()) <= 25:
                return _upper_first(re.sub(r"^Về\s+", "", label).strip()), value
            return None
        count = re.fullmatch(rf"(?:{FIG})(?:{_UNIT})?", rest)
        if count and len(lead.split()) <= 15 and (is_list or re.search(_UNIT + "$", rest)):
            return _upper_first(lead.strip()), rest
        return None
    # a list line ending in a figure: "- (3) Tỷ lệ … giảm còn 5,9%"
    if is_list:
        match = re.search(rf"\s((?:(?:{_QUAL})\s+)?(?:{FIG})%)$", segment)
        if match and len(segment[:match.start()].split()) <= 25:
            return segment[:match.start()].strip(), match.group(1)
    return None


def dump_outline_yaml(sections: list[SectionData], *, key: str = "outline", title: str = "",
                      version: int = 1, source: str = "") -> str:
    """The sections as a questions/outline.yaml document (format quizapp-outline/1) that
    `read_bank` reads back to the same SectionData."""
    by_parent: dict[str | None, list[SectionData]] = {}
    for section in sections:
        by_parent.setdefault(section.parent_key, []).append(section)

    def node(section: SectionData) -> dict:
        out: dict = {"key": section.key, "title": section.title, "kind": section.kind,
                     "lines": section.lines, "body": section.body}
        if section.items:
            out["items"] = [{"key": i["key"], "label": i["label"], "value": i["value"]}
                            for i in section.items]
        children = by_parent.get(section.key, [])
        if children:
            out["children"] = [node(c) for c in children]
        return out

    document = {"format": OUTLINE_FORMAT, "key": key, "version": version,
                "title": title or (sections[0].title if sections else key),
                "source": source, "sections": [node(s) for s in by_parent.get(None, [])]}
    return yaml.dump(document, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False,
                     width=100000, default_flow_style=False)


class _BlockDumper(yaml.SafeDumper):
    """Safe YAML with multi-line strings as '|' blocks, so bodies read like the source."""


def _str_representer(dumper: yaml.SafeDumper, value: str):
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _str_representer)


def dump_questions_yaml(questions: list[QuestionData]) -> str:
    """Questions as a bank file (format quizapp-questions/1), true/false with `answer`."""
    rows = []
    for q in questions:
        row: dict = {"key": q.key, "section": q.section, "kind": q.kind,
                     "difficulty": q.difficulty, "status": q.status}
        if q.covers:
            row["covers"] = list(q.covers)
        row["prompt"] = q.prompt
        if q.kind == "truefalse":
            row["answer"] = next(c.correct for c in q.choices if c.text == "Đúng")
        else:
            row["choices"] = [{"text": c.text, "correct": True} if c.correct else {"text": c.text}
                              for c in q.choices]
        row["explanation"] = q.explanation
        rows.append(row)
    return yaml.dump({"format": QUESTIONS_FORMAT, "questions": rows}, Dumper=_BlockDumper,
                     allow_unicode=True, sort_keys=False, width=100000, default_flow_style=False)


def load_outline(path: str | Path) -> list[SectionData]:
    """Sections from a bank directory, a structured outline (.yaml/.yml) or a plain one
    (.txt, .md, .docx). Raises OutlineError listing the problems."""
    from .bank_format import _read_outline  # the reader of questions/ itself
    path = Path(path)
    if path.is_dir():
        path = path / "outline.yaml"
        if not path.is_file():
            raise OutlineError([f"{path}: no such file"])
    if not path.is_file():
        raise OutlineError([f"{path}: no such file"])
    if path.suffix.lower() in (".yaml", ".yml"):
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise OutlineError([f"{path}: the file is larger than 2 MB"])
        bank = Bank()
        _read_outline(path, bank)
        if bank.errors:
            raise OutlineError(bank.errors)
        return bank.sections
    try:
        text = read_document(path.read_bytes()[:MAX_DOCUMENT_BYTES + 1], path.name)
    except DocumentError as exc:
        raise OutlineError([str(exc)]) from None
    sections = parse_plain_outline(text)
    if not sections:
        raise OutlineError([f"{path}: no outline structure found"])
    return sections


# ====================================================================== contradictions

def read_contradictions(path: str | Path) -> set[str]:
    """The strings of a contradictions file: one per line, '#' starts a comment."""
    out = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            out.add(line)
    return out


def default_contradictions(bank_path: str | Path | None = None) -> set[str]:
    """The contradicted spots of the bundled outline (questions/contradictions.txt, taken
    from questions/source/facts.md section 2); an empty set when the file is missing. Without a path,
    the app's BANK_PATH is used when an app context exists, else the repository's."""
    if bank_path is None:
        try:
            from flask import current_app
            bank_path = current_app.config["BANK_PATH"]
        except (RuntimeError, KeyError):
            bank_path = Path(__file__).resolve().parents[2] / "questions"
    path = Path(bank_path) / CONTRADICTIONS_FILE
    return read_contradictions(path) if path.is_file() else set()


def rests_on_contradiction(question: QuestionData, contradictions: set[str]) -> str | None:
    """The contradiction a question rests on (its prompt or statement, its right answer
    or any choice contains it), or None."""
    needles = [(c, _norm_for_match(c)) for c in sorted(contradictions) if c.strip()]
    texts = [question.prompt] + [c.text for c in question.choices]
    for original, needle in needles:
        if any(needle in _norm_for_match(t) for t in texts):
            return original
    return None


def answer_count_ok(question: QuestionData) -> bool:
    """Exactly one right answer (single, true/false) or at least one (multiple); at
    least two choices, all different."""
    right = sum(c.correct for c in question.choices)
    texts = [c.text.strip() for c in question.choices]
    if len(texts) < 2 or len(set(texts)) != len(texts) or not all(texts):
        return False
    return right >= 1 if question.kind == "multiple" else right == 1


# ====================================================================== drafting

@dataclass
class _Item:
    section: SectionData
    key: str
    label: str
    value: str
    figure: Figure | None
    unit: str = ""   # "dự án" in "Lĩnh vực …: 11 dự án", from the value or the body
    kind: str = ""   # figures of one kind share template and unit; only they are siblings


@dataclass
class _Entry:
    """One member of a list: a child section's headline or a line of a body list."""
    text: str
    section: SectionData
    full: str
    number: int


@dataclass
class _List:
    owner: SectionData
    entries: list[_Entry]
    count: int | None = None      # "N" stated by the heading, when it equals len(entries)
    noun: str = ""                # "khâu đột phá"
    sentence: str = ""            # "Đại hội xác định 3 khâu đột phá"
    from_children: bool = False

    def name_of(self, entry: _Entry) -> str:
        if self.from_children and self.noun:
            return f"{self.noun} ({entry.number})"
        return f"«{_display_title(self.owner.title)}»"


class _Context:
    def __init__(self, sections: list[SectionData], contradictions: set[str]):
        self.sections = sections
        self.by_key = {s.key: s for s in sections}
        self.children: dict[str, list[SectionData]] = {}
        for s in sections:
            if s.parent_key:
                self.children.setdefault(s.parent_key, []).append(s)
        self.contradictions = [_norm_for_match(c) for c in contradictions if c.strip()]
        self.items = [_Item(s, i["key"], i["label"], i["value"], parse_figure(i["value"]))
                      for s in sections for i in s.items]
        for item in self.items:
            if item.figure is not None:
                item.unit = item.figure.unit or _unit_after(item)
                item.kind = f"{item.figure.template}|{_fold(item.unit)}"
        self.lists = self._lists()
        self.quotes = [(s, q) for s in sections for q in _quotes(s.body)]

    def contradicted(self, text: str) -> bool:
        norm = _norm_for_match(text)
        return any(c in norm for c in self.contradictions)

    def _lists(self) -> list[_List]:
        lists: list[_List] = []
        for s in self.sections:
            kids = self.children.get(s.key, [])
            if len(kids) >= 2:
                entries = [_Entry(_headline(_first_paragraph(k.body) or k.title), k, k.body, n)
                           for n, k in enumerate(kids, 1)]
                entries = [e for e in entries if len(e.text.split()) >= 2]
                sentence, count, noun = _count_sentence(s.body)
                # only a list the heading announces ("3 khâu đột phá"): the children of
                # an ordinary section are topics, not members to choose between
                if len(entries) == len(kids) and count == len(kids):
                    lists.append(_List(s, entries, count, noun, sentence, from_children=True))
            if s.kind not in ("letter", "info"):
                for entries_text in _body_lists(s.body):
                    entries = [_Entry(_headline(t), s, t, n) for n, t in enumerate(entries_text, 1)]
                    entries = [e for e in entries if len(e.text.split()) >= 3]
                    if len(entries) >= 2:
                        lists.append(_List(s, entries))
        return lists


def _unit_after(item: _Item) -> str:
    """The unit a bare count stands for, read from the body: the two words after the
    value where the label states it ("Lĩnh vực di tích: 02 dự án" → "dự án"), else
    after the value's first occurrence ("Gồm 26 dự án" → "dự án")."""
    word = r"[^\W\d_]+"
    value = re.escape(item.value)
    body = item.section.body
    for pattern in (re.escape(item.label) + r"\s*:\s*" + value + rf"\s+({word}(?:\s{word})?)\b",
                    r"(?<![\d,.])" + value + rf"\s+({word}\s{word})\b"):
        match = re.search(pattern, body, re.IGNORECASE)
        if match:
            return match.group(1).lower() if match.group(1)[:1].islower() else match.group(1)
    return ""


def _first_paragraph(body: str) -> str:
    return body.strip().split("\n", 1)[0].strip() if body.strip() else ""


def _count_sentence(body: str) -> tuple[str, int | None, str]:
    """("Đại hội đưa ra 5 quan điểm", 5, "quan điểm") from a list heading's body."""
    first = _first_paragraph(body).rstrip(" :")
    sentence = first.rsplit(": ", 1)[-1] if ": " in first else first
    sentence = re.sub(r"\s+(?:gồm|bao gồm)$", "", sentence.strip())
    enum = _enum_of(sentence)
    if not enum or len(sentence.split()) > 20:
        return sentence, None, ""
    return sentence, enum[0], enum[1]


def _body_lists(body: str) -> list[list[str]]:
    """Numbered lists "(1) … (2) …" (on their own lines or inside one paragraph) and
    runs of "- " lines, each as the texts of its members."""
    lines = [ln.strip() for ln in body.splitlines() if ln.strip()]
    found: list[list[str]] = []
    for line in lines:  # inline: "… bền vững (1) Thực hiện … (2) Tiếp tục …"
        marks = [m for m in re.finditer(r"\((\d{1,2})\)\.?\s*", line) if m.start() > 0]
        run: list[re.Match] = []
        for m in marks:
            if int(m.group(1)) == len(run) + 1:
                run.append(m)
        if len(run) >= 2:
            texts = [line[m.end():(run[i + 1].start() if i + 1 < len(run) else len(line))]
                     for i, m in enumerate(run)]
            found.append([t.strip() for t in texts])
    numbered: list[str] = []
    for line in lines:  # own lines: "(1) …", "- (2) …"
        m = ENUM_ITEM_RE.match(line)
        if m and int(m.group(1)) == len(numbered) + 1:
            numbered.append(m.group(2))
    if len(numbered) >= 2:
        found.append(numbered)
    else:
        run_texts: list[str] = []
        for line in lines + [""]:
            if line.startswith(("- ", "– ", "• ", "+ ")) and not ENUM_ITEM_RE.match(line):
                run_texts.append(line[2:].strip())
                continue
            if len(run_texts) >= 2:
                found.append(run_texts)
            run_texts = []
    return found


def _quotes(body: str) -> list[str]:
    out = []
    for match in re.finditer(r"“([^”]{3,400})”|«([^»]{3,400})»", body):
        quote = (match.group(1) or match.group(2)).strip()
        if quote not in out:
            out.append(quote)
    return out


# " - " between words splits a slogan; "2025 - 2030" does not
SEGMENT_SPLIT = re.compile(rf"((?<!\d)\s+[-{DASHES}]\s+(?!\d)|[,;]\s*)")


def _segments(quote: str) -> list[str]:
    return SEGMENT_SPLIT.split(quote)


def _lines_ref(section: SectionData) -> str:
    return f" (L{section.lines})" if section.lines else ""


def _sentence_with(body: str, value: str, label: str = "") -> str | None:
    """The line (or, in a long paragraph, the sentence) of `body` that states `value`,
    the one that best names `label` when several do; without its list marker and final
    punctuation."""
    pattern = re.compile(r"(?<![\d,.])" + re.escape(value) + r"(?![\d]|,\d|\.\d)")
    found: list[str] = []
    for line in body.splitlines():
        if not pattern.search(line):
            continue
        line = MARKER_RE.sub("", line.strip(), count=1)
        if len(line) > 300:
            line = next((s for s in re.split(r"(?<=[.;])\s+", line) if pattern.search(s)), line)
        found.append(line.strip().rstrip(".;:,"))
    if not found:
        return None
    return max(found, key=lambda line: _contained(label, line) if label else 0)


_LABEL_VERBS = ("tăng", "giảm", "chiếm", "đạt", "còn", "gồm", "có", "là")


def _ends_with_verb(label: str) -> bool:
    return label.rsplit(" ", 1)[-1].lower() in _LABEL_VERBS


class _Drafter:
    def __init__(self, ctx: _Context):
        self.ctx = ctx
        self.out: list[QuestionData] = []

    # ---------------------------------------------------------------- helpers
    def _key(self, section: str, code: str, subject: str) -> str:
        digest = _short_hash(code, section, subject)
        room = MAX_KEY_LENGTH - len("draft-") - len(code) - len(digest) - 2
        return f"draft-{section[:room].rstrip('-')}-{code}-{digest}"

    def _add(self, section: SectionData, code: str, subject: str, kind: str, difficulty: int,
             prompt: str, choices: list[ChoiceData], explanation: str,
             covers: list[str] | None = None) -> None:
        rng = _rng(section.key, code, subject, "order")
        if kind != "truefalse":
            rng.shuffle(choices)
        self.out.append(QuestionData(
            key=self._key(section.key, code, subject), section=section.key, kind=kind,
            difficulty=difficulty, status="draft", prompt=prompt, explanation=explanation,
            choices=choices, covers=list(covers or []), origin=f"draft:{code}:{section.key}"))

    def _truefalse(self, section: SectionData, code: str, subject: str, statement: str,
                   answer: bool, explanation: str, covers: list[str] | None = None,
                   difficulty: int = 2) -> None:
        self._add(section, code, subject, "truefalse", difficulty, statement,
                  [ChoiceData("Đúng", answer), ChoiceData("Sai", not answer)],
                  ("Đúng. " if answer else "Sai. ") + explanation, covers)

    # ---------------------------------------------------------------- numeric targets
    def numeric(self) -> None:
        for item in self.ctx.items:
            fig = item.figure
            if fig is None or not item.label:
                continue
            label_norm = _norm_for_match(item.label)
            right = [o.figure for o in self.ctx.items
                     if o.figure and _norm_for_match(o.label) == label_norm]
            if any(not r.same(fig) for r in right if r.template == fig.template):
                continue  # the outline gives two values for one label: ambiguous
            unit = item.unit if (fig.unit or self._unit_named(item)) else ""
            ctx_title = _display_title(item.section.title)
            label = _lower_first(item.label)
            quote = (_sentence_with(item.section.body, item.value, item.label)
                     or f"{item.label}: {item.value}")
            siblings = self._sibling_figures(item, right)
            picks: list[tuple[Figure, _Item | None]] = []
            for other in siblings:
                if len(picks) == 2:
                    break
                if self._magnitude_ok(fig, other.figure) and not self.ctx.contradicted(other.figure.text()):  # type: ignore[union-attr]
                    picks.append((other.figure, other))  # type: ignore[arg-type]
            for near in _near_figures(fig):
                if len(picks) == 3:
                    break
                if any(near.same(p) for p, _ in picks) or any(near.same(r) for r in right):
                    continue
                if self.ctx.contradicted(near.text()):
                    continue
                picks.append((near, None))
            if len(picks) >= 2:
                if fig.is_date:
                    prompt = f"{label} là ngày nào?"
                elif unit:
                    prompt = f"{label}{'' if _ends_with_verb(label) else ' có'} bao nhiêu {unit}?"
                else:
                    prompt = f"{label}{'' if _ends_with_verb(label) else ' là'} bao nhiêu?"
                prompt = self._in_context(prompt, item.label, ctx_title)
                notes = [f"{p.text()} là của «{o.label}»." for p, o in picks if o is not None]
                explanation = " ".join([f"Văn bản ghi: «{quote}»."] + notes) + _lines_ref(item.section)
                choices = [ChoiceData(fig.text(), True)] + [ChoiceData(p.text(), False) for p, _ in picks]
                difficulty = 2 if any(o is not None for _, o in picks) else 1
                self._add(item.section, "num", item.key, "single", difficulty, prompt, choices,
                          explanation, [item.key])
            # true/false: as written, or with a sibling's figure swapped in
            rng = _rng(item.section.key, "numtf", item.key)
            swap = next((o for o in siblings if self._magnitude_ok(fig, o.figure)
                         and not self.ctx.contradicted(o.figure.text())), None)  # type: ignore[union-attr]
            if rng.random() < 0.5 and swap is not None:
                statement = self._statement(item, swap.figure.text(), unit, ctx_title)  # type: ignore[union-attr]
                self._truefalse(item.section, "numtf", item.key, statement, False,
                                f"Văn bản ghi: «{quote}»; {swap.figure.text()} là của «{swap.label}»."  # type: ignore[union-attr]
                                + _lines_ref(item.section), [item.key])
            else:
                statement = self._statement(item, fig.text(), unit, ctx_title)
                self._truefalse(item.section, "numtf", item.key, statement, True,
                                f"Văn bản ghi: «{quote}»." + _lines_ref(item.section), [item.key])

    @staticmethod
    def _unit_named(item: _Item) -> bool:
        """Whether the body states the unit right after this label's value, so that a
        prompt may say "bao nhiêu <unit>"."""
        return bool(item.unit) and re.search(
            re.escape(item.label) + r"\s*:\s*" + re.escape(item.value) + r"\s+" + re.escape(item.unit),
            item.section.body, re.IGNORECASE) is not None

    @staticmethod
    def _in_context(sentence: str, label: str, ctx_title: str) -> str:
        """"Theo «<section>», <sentence>", unless the label already names the section."""
        if _contained(ctx_title, label) >= 0.8:
            return _upper_first(sentence)
        return f"Theo «{ctx_title}», {sentence}"

    def _statement(self, item: _Item, value: str, unit: str, ctx_title: str) -> str:
        label = _lower_first(item.label)
        fig = item.figure
        if fig is not None and fig.is_date:
            return self._in_context(f"{label} là ngày {value}.", item.label, ctx_title)
        tail = f" {unit}" if unit and fig is not None and unit not in fig.template else ""
        joiner = " " if _ends_with_verb(label) else (" có " if unit else " là ")
        return self._in_context(f"{label}{joiner}{value}{tail}.", item.label, ctx_title)

    def _sibling_figures(self, item: _Item, right: list[Figure]) -> list[_Item]:
        """Items with a figure of the same kind (template and unit) and another value,
        none of them also right for this label: same section first, then the rest of
        the outline in order."""
        fig = item.figure
        assert fig is not None
        same, rest = [], []
        for other in self.ctx.items:
            if other is item or other.figure is None or other.kind != item.kind:
                continue
            if other.figure.same(fig) or any(other.figure.same(r) for r in right):
                continue
            if any(other.figure.same(o.figure) for o in same + rest):  # type: ignore[arg-type]
                continue
            (same if other.section.key == item.section.key else rest).append(other)
        return same + rest

    @staticmethod
    def _magnitude_ok(fig: Figure, other: Figure | None) -> bool:
        if other is None or fig.is_date:
            return other is not None
        a, b = fig.numbers[0], other.numbers[0]
        if a == 0 or b == 0:
            return False
        return max(a, b) / min(a, b) <= 3

    # ---------------------------------------------------------------- lists
    def _distractors(self, lst: _List, want: int,
                     rng: random.Random, length_of: str) -> list[tuple[_Entry, _List]]:
        """Members of other lists that are not close to any member of `lst` (nor to
        each other), nearest in length to `length_of`, same kind of list first. For an
        announced list ("5 nhóm giải pháp") only the members of other announced lists
        qualify: a sub-point ("phát triển các thiết chế văn hóa") is too easily read as
        part of some group of the list asked about."""
        mine = [e.text for e in lst.entries] + [e.full for e in lst.entries]
        owner_body = lst.owner.body
        pool: list[tuple[int, int, float, _Entry, _List]] = []
        for other in self.ctx.lists:
            if other is lst or (lst.from_children and not other.from_children):
                continue
            for entry in other.entries:
                text = entry.text
                if self.ctx.contradicted(text):
                    continue
                if any(_contained(text, t) >= 0.5 or _contained(t, text) >= 0.5
                       or _shares_phrase(text, t) for t in mine):
                    continue
                if _contained(text, owner_body) >= 0.5 or _shares_phrase(text, owner_body):
                    continue
                rank = (0 if other.owner.kind == lst.owner.kind
                        else 1 if _family(other.owner.kind) == _family(lst.owner.kind) else 2)
                distance = abs(len(text.split()) - len(length_of.split())) // 6
                pool.append((rank, distance, rng.random(), entry, other))
        pool.sort(key=lambda p: (p[0], p[1], p[2]))
        chosen: list[tuple[_Entry, _List]] = []
        for *_rest, entry, other in pool:
            if len(chosen) == want:
                break
            if any(_fold(entry.text) == _fold(c.text) or _contained(entry.text, c.text) >= 0.5
                   or _contained(c.text, entry.text) >= 0.5 for c, _ in chosen):
                continue
            chosen.append((entry, other))
        return chosen

    def lists(self) -> None:
        for lst in self.ctx.lists:
            of = ""
            if lst.sentence.startswith("Đại hội"):
                of = " của Đại hội"
            if lst.from_children and lst.count:
                self._count(lst)
                group = f"{lst.count} {lst.noun}{of}"
                self._which_one(lst, f"Nội dung nào sau đây là một trong {group}?")
                self._which_many(lst, f"Những nội dung nào sau đây thuộc {group}?")
                self._member_truefalse(lst, group)
            elif not lst.from_children:
                title = _display_title(lst.owner.title)
                self._which_one(lst, f"Nội dung nào sau đây thuộc «{title}»?")

    def _count(self, lst: _List) -> None:
        n = lst.count
        assert n is not None
        section = lst.owner
        others = sorted({o.count for o in self.ctx.lists if o.count and o.count != n})
        options = [c for c in others][:1] + [c for c in (n + 1, n - 1, n + 2, n + 3) if c >= 2]
        picks: list[int] = []
        for c in options:
            if c != n and c not in picks and len(picks) < 3:
                picks.append(c)
        sentence = lst.sentence
        question = re.sub(rf"(?<!\d){n}(?!\d)", "bao nhiêu", sentence, count=1)
        if question == sentence:
            question = f"Có bao nhiêu {lst.noun}"
        explanation = (f"Văn bản ghi: «{sentence}», tiếp theo là các {lst.noun} đánh số từ (1) "
                       f"đến ({n}).{_lines_ref(section)}")
        choices = [ChoiceData(f"{n} {lst.noun}", True)] + [ChoiceData(f"{c} {lst.noun}", False) for c in picks]
        self._add(section, "count", lst.noun, "single", 1, question.rstrip(" .") + "?", choices,
                  explanation)
        rng = _rng(section.key, "counttf", lst.noun)
        if rng.random() < 0.5:
            wrong = others[0] if others else n + 1
            statement = re.sub(rf"(?<!\d){n}(?!\d)", str(wrong), sentence, count=1)
            if statement != sentence:
                self._truefalse(section, "counttf", lst.noun, statement.rstrip(" .") + ".", False,
                                f"Văn bản ghi: «{sentence}».{_lines_ref(section)}", difficulty=1)
                return
        self._truefalse(section, "counttf", lst.noun, sentence.rstrip(" .") + ".", True,
                        f"Văn bản ghi: «{sentence}».{_lines_ref(section)}", difficulty=1)

    def _which_one(self, lst: _List, prompt: str) -> None:
        for entry in lst.entries:
            if self.ctx.contradicted(entry.text):
                continue
            rng = _rng(entry.section.key, "one", entry.text)
            wrong = self._distractors(lst, 3, rng, entry.text)
            if len(wrong) < 2:
                continue
            notes = [f"«{e.text}» thuộc {o.name_of(e)}." for e, o in wrong]
            where = lst.name_of(entry)
            verb = "là" if lst.from_children else "thuộc"
            explanation = (f"«{entry.text}» {verb} {where}: «{_excerpt(entry.full)}». " + " ".join(notes)
                           + _lines_ref(entry.section))
            choices = [ChoiceData(entry.text, True)] + [ChoiceData(e.text, False) for e, _ in wrong]
            self._add(entry.section, "one" if lst.from_children else "in", entry.text, "single", 2,
                      prompt, choices, explanation)

    def _which_many(self, lst: _List, prompt: str) -> None:
        rng = _rng(lst.owner.key, "many", lst.noun)
        usable = [e for e in lst.entries if not self.ctx.contradicted(e.text)]
        if len(usable) < 2:
            return
        rights = usable if len(usable) <= 3 else sorted(rng.sample(usable, 3), key=lambda e: e.number)
        wrong = self._distractors(lst, 2, rng, rights[0].text)
        if len(wrong) < 1:
            return
        explanation = ("Thuộc danh sách: " + "; ".join(f"{lst.name_of(e)} «{e.text}»" for e in rights)
                       + ". Không thuộc: " + "; ".join(f"«{e.text}» ({o.name_of(e)})" for e, o in wrong)
                       + "." + _lines_ref(lst.owner))
        choices = [ChoiceData(e.text, True) for e in rights] + [ChoiceData(e.text, False) for e, _ in wrong]
        self._add(lst.owner, "many", lst.noun, "multiple", 3, prompt, choices, explanation)

    def _member_truefalse(self, lst: _List, group: str) -> None:
        used: set[str] = set()  # one false statement per wrong member
        for entry in lst.entries:
            if self.ctx.contradicted(entry.text):
                continue
            rng = _rng(entry.section.key, "tf", entry.text)
            if rng.random() < 0.5:
                wrong = [w for w in self._distractors(lst, 6, rng, entry.text)
                         if w[0].text not in used]
                if wrong:
                    other, other_list = wrong[0]
                    used.add(other.text)
                    self._truefalse(lst.owner, "tf", entry.text,
                                    f"«{other.text}» là một trong {group}.", False,
                                    f"«{other.text}» thuộc {other_list.name_of(other)}, không nằm trong "
                                    f"{group}.{_lines_ref(lst.owner)}")
                    continue
            self._truefalse(entry.section, "tf", entry.text, f"«{entry.text}» là một trong {group}.",
                            True, f"Đây là {lst.name_of(entry)}: «{_excerpt(entry.full)}»."
                            + _lines_ref(entry.section))

    # ---------------------------------------------------------------- quoted slogans
    def slogans(self) -> None:
        all_quotes = [(s, q, _segments(q)) for s, q in self.ctx.quotes]
        for section, quote, parts in all_quotes:
            segments = parts[0::2]
            if len(segments) < 3:
                continue
            own = {_fold(x.strip()) for x in segments}
            candidates = [i for i, seg in enumerate(segments)
                          if 1 <= len(seg.split()) <= 4 and sum(_fold(s) == _fold(seg) for s in segments) == 1]
            if not candidates:
                continue
            rng = _rng(section.key, "fill", quote)
            index = rng.choice(candidates)
            answer = segments[index].strip()
            # "dân biết, dân bàn, …": when the other members share a first word, a
            # distractor with that word is the plausible one
            heads = [seg.split()[0].lower() for i, seg in enumerate(segments) if i != index and seg.split()]
            shared = max(set(heads), key=heads.count) if heads else ""
            shared = shared if heads.count(shared) >= 2 else ""
            pool: list[tuple[int, int, float, str]] = []
            for _other_section, other_quote, other_parts in all_quotes:
                if _fold(other_quote) == _fold(quote) or len(other_parts[0::2]) < 3:
                    continue
                for seg in other_parts[0::2]:
                    seg = seg.strip().strip("“”\"")
                    if not (1 <= len(seg.split()) <= 4) or _fold(seg) in own or re.search(r"\d", seg):
                        continue
                    seg = _upper_first(seg) if answer[:1].isupper() else _lower_first(seg)
                    if self.ctx.contradicted(seg) or any(_fold(seg) == _fold(p[3]) for p in pool):
                        continue
                    same_head = 0 if shared and seg.split()[0].lower() == shared else 1
                    pool.append((same_head, abs(len(seg.split()) - len(answer.split())), rng.random(), seg))
            pool.sort()
            wrong = [p[3] for p in pool[:3]]
            if len(wrong) < 2:
                continue
            blanked = list(parts)
            blanked[2 * index] = "……"
            prompt = (f"Điền vào chỗ trống trong câu được trích ở «{_display_title(section.title)}»: "
                      f"“{''.join(blanked)}”")
            choices = [ChoiceData(answer, True)] + [ChoiceData(w, False) for w in wrong]
            self._add(section, "fill", quote, "single", 2, prompt, choices,
                      f"Nguyên văn: “{quote}”.{_lines_ref(section)}")


def _family(kind: str) -> str:
    """Directions (viewpoints, breakthroughs, tasks, solutions, goals) are one family,
    figures (targets, projects) another: a viewpoint's distractors come from the first."""
    return "figures" if kind in ("target", "project") else "directions"


def _excerpt(text: str, limit: int = 240) -> str:
    """The start of a passage for an explanation; ' / ' marks its line breaks."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    text = MARKER_RE.sub("", " / ".join(lines), count=1).rstrip(".;:,")
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[:cut.rfind(" ")] + " …"


def draft_questions(sections: list[SectionData],
                    contradictions: set[str] | None = None) -> list[QuestionData]:
    """Draft questions (status "draft") for an outline's sections.

    Each draft names the section it rests on and quotes the passage in its explanation.
    Kinds: numeric targets (distractors are other figures of the same form from the
    outline, then near values; never the right value or a value also right for that
    label), "which of these is one of the N …" and "which belong to …" from numbered
    lists (distractors from the other lists, minus anything close to a member), counts
    of a list, completion of quoted slogans, true/false statements (a false one swaps in
    a sibling figure or another list's member).

    Deterministic: every choice is seeded from the section key and the subject, and keys
    are "draft-<section>-<generator>-<hash of the subject>", so drafting the same outline
    again gives the same keys. A draft whose prompt, statement or any choice contains a
    string of `contradictions` (case-insensitive, dashes and spaces normalised) is left
    out, as is any draft without exactly one right answer (at least one for multiple).
    """
    ctx = _Context(sections, contradictions or set())
    drafter = _Drafter(ctx)
    drafter.numeric()
    drafter.lists()
    drafter.slogans()
    order = {s.key: s.position for s in sections}
    seen: set[str] = set()
    seen_content: set[tuple] = set()
    out: list[QuestionData] = []
    for q in drafter.out:
        content = (q.prompt, tuple(sorted((c.text, c.correct) for c in q.choices)))
        if q.key in seen or content in seen_content:
            continue
        if not answer_count_ok(q) or not q.prompt or not q.explanation:
            continue
        if contradictions and rests_on_contradiction(q, contradictions):
            continue
        seen.add(q.key)
        seen_content.add(content)
        out.append(q)
    out.sort(key=lambda q: order.get(q.section, 0))  # stable: generator order within a section
    return out


def counts_by_section(sections: list[SectionData], drafts: list[QuestionData]) -> dict[str, int]:
    """Drafts per section key, every section listed (0 when none), in outline order."""
    counts = {s.key: 0 for s in sections}
    for q in drafts:
        counts[q.section] = counts.get(q.section, 0) + 1
    return counts
