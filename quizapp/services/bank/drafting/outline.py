"""The outline reader: a plain-text outline (Roman parts, "1." sections, "a)"
sub-sections, "* …" headings, "(1)" lists, "label: 10,5%" lines) turned into sections in
the shape `read_bank` gives."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..schema import KEY_RE, SectionData
from .figures import QUAL, UNIT
from .text import DASHES, lower_first, slug, upper_first

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9,
         "X": 10, "XI": 11, "XII": 12, "XIII": 13, "XIV": 14, "XV": 15}
ROMAN_RE = re.compile(r"^([IVX]{1,5})\.\s+(\S.*)$")
NUMBERED_RE = re.compile(r"^(\d{1,2})\.\s+(\S.*)$")
LETTERED_RE = re.compile(r"^([a-zđ])\)\s+(\S.*)$")
STAR_RE = re.compile(r"^\*\s+(\S.*)$")
ENUM_ITEM_RE = re.compile(r"^(?:[-–•+]\s+)?\(\s*(\d{1,2})\s*\)\.?\s*(\S.*)$")
MARKER_RE = re.compile(r"^(?:[-–•+]\s+)?(?:\(\s*\d{1,2}\s*\)\.?|\d{1,2}[.)](?=\s)|[a-zđ]\)(?=\s))?\s*")
# a "(n)" / "n." / "n)" / "a)" member of an announced list
ENUM_CHILD_RE = re.compile(r"^(?:[-–•+]\s+)?(?:\(\s*(\d{1,2})\s*\)\.?|(\d{1,2})[.)]|([a-zđ])\))\s*(\S.*)$")
# the number or letter a heading starts with: "IV. ", "6. ", "a) ", "(2). "
HEADING_PREFIX_RE = re.compile(r"^(?:[IVXLC]{1,5}\.|\d{1,2}[.)]|[a-zđ]\)|\(\s*\d{1,2}\s*\)\.?)\s+")
LETTERS = ("abcdđeghiklmnopqrstuvxy", "abcdefghijklmnopqrstuvwxyz")
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
class Node:
    key: str
    title: str
    kind: str
    level: int
    start: int
    end: int
    parent: "Node | None" = None
    paragraphs: list[tuple[str, bool]] = field(default_factory=list)  # (text, blank line before)
    children: list["Node"] = field(default_factory=list)
    enum: tuple[int, str] | None = None
    next_enum: int = 1


def clean_line(raw: str) -> tuple[str, bool]:
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


def kind_of(text: str, default: str) -> str:
    folded = text.lower()
    for kind, words in KIND_WORDS:
        if any(w in folded for w in words):
            return kind
    return default


def enum_of(text: str) -> tuple[int, str] | None:
    match = ENUM_RE.search(text.rstrip(" :"))
    if not match:
        return None
    raw, noun = match.group(1).lower(), match.group(2).strip()
    count = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
    if not noun or noun.split()[0].lower() in {"năm", "tháng", "ngày"} or count < 2:
        return None
    return count, noun


def headline(text: str, max_words: int = 22) -> str:
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
        text = upper_first(text[3:].lstrip())
    return text


def is_short_heading(text: str, max_words: int = 25) -> bool:
    return len(text.split()) <= max_words and text[-1:] not in TERMINAL


def split_heading(text: str, max_words: int = 15) -> tuple[str, str] | None:
    """A numbered heading that does not look like one: ("Danh mục dự án …", "Gồm 12 dự
    án …") when the heading carries its text after a colon, (text, "") for a short line
    ending in a full stop ("Đại hội đưa ra 3 quan điểm."); None for a paragraph."""
    lead, colon, rest = text.partition(": ")
    if colon and len(lead.split()) <= max_words and not re.search(r"[.;!?]\s", lead):
        return lead.strip(), rest.strip()
    if len(text.split()) <= max_words and not re.search(r"[.;!?]\s", text):
        return text.rstrip(" .:;"), ""
    return None


def strip_heading_prefix(text: str) -> str:
    """"2. Đại hội đưa ra 3 quan điểm" → "Đại hội đưa ra 3 quan điểm"."""
    return HEADING_PREFIX_RE.sub("", text.strip(), count=1)


def letter_follows(letter: str, previous: str) -> bool:
    """Whether "b" follows "a" (and "đ" follows "d", "e" follows "đ" or "d")."""
    if not previous:
        return letter == "a"
    return any(previous in seq and seq.index(previous) + 1 < len(seq)
               and seq[seq.index(previous) + 1] == letter for seq in LETTERS)


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
    reader = _OutlineReader(text)
    reader.read()
    return _sections_of(reader.root)


class _OutlineReader:
    """One pass over the cleaned lines, keeping the stack of open headings."""

    def __init__(self, text: str):
        self.cleaned = [clean_line(line) for line in text.splitlines()]
        self.has_roman = any(not star and ROMAN_RE.match(line) and
                             ROMAN_RE.match(line).group(1) in ROMAN  # type: ignore[union-attr]
                             for line, star in self.cleaned)
        self.root = Node("", "", "info", 0, 0, 0)
        self.used_keys: set[str] = set()
        self.preamble: Node | None = None
        self.stack: list[Node] = [self.root]
        self.seen_heading = False
        self.roman_no = 0
        self.numbered_no = 0   # the last "n." heading in the current Roman part
        self.letter = ""       # the last "a)" heading under the current "n." heading

    # ---------------------------------------------------------------- the walk
    def read(self) -> None:
        blank = False
        for index, (line, star) in enumerate(self.cleaned):
            if not line:
                blank = True
                continue
            self._line(index, line, star, blank)
            blank = False
        self._name_preamble()

    def _line(self, index: int, line: str, star: bool, blank_before: bool) -> None:
        lineno = index + 1
        if self._roman(line, star, lineno):
            return
        if self._before_first_heading(line, star):
            if self.preamble is None:
                self.preamble = Node("", "", "info", LEVEL_ROMAN, lineno, lineno, parent=self.root)
                self.root.children.append(self.preamble)
                self.stack.append(self.preamble)
            add_paragraph(self.preamble, line, lineno, blank_before)
            return
        for heading in (self._numbered, self._lettered, self._star, self._enum_child, self._sub_heading):
            if heading(index, line, star, lineno):
                return
        add_paragraph(self.stack[-1], line, lineno, blank_before)

    def _before_first_heading(self, line: str, star: bool) -> bool:
        if self.seen_heading:
            return False
        if self.has_roman:
            return True
        return not (star or NUMBERED_RE.match(line) and is_short_heading(line))

    # ---------------------------------------------------------------- the stack
    def unique(self, key: str) -> str:
        key = re.sub(r"-+", "-", key).strip("-")[:60] or "section"
        if not KEY_RE.match(key):
            key = "s-" + key
        candidate, n = key, 2
        while candidate in self.used_keys:
            candidate, n = f"{key}-{n}", n + 1
        self.used_keys.add(candidate)
        return candidate

    def open_node(self, node: Node) -> None:
        while self.stack[-1] is self.preamble or self.stack[-1].level >= node.level:
            self.stack.pop()
        node.parent = self.stack[-1]
        self.stack[-1].children.append(node)
        self.stack.append(node)

    def star_ancestor(self) -> Node | None:
        for node in reversed(self.stack):
            if node.level == LEVEL_STAR:
                return node
            if node.level < LEVEL_STAR:
                return None
        return None

    def next_content(self, index: int) -> str:
        for line, _star in self.cleaned[index + 1:]:
            if line:
                return line
        return ""

    def _heading_node(self, key: str, title: str, kind: str, level: int, lineno: int,
                      line: str) -> Node:
        node = Node(self.unique(key), title, kind, level, lineno, lineno)
        node.paragraphs.append((line, False))
        return node

    # ---------------------------------------------------------------- headings
    def _title(self, marker: str, text: str, line: str, in_sequence: bool,
               max_words: int) -> str | None:
        """The title of a heading line: the line itself when it is short, else (for the
        next number or letter of a sequence) the part before its colon or full stop."""
        if is_short_heading(line, max_words):
            return line
        split = split_heading(text) if in_sequence else None
        return f"{marker} {split[0]}" if split else None

    def _roman(self, line: str, star: bool, lineno: int) -> bool:
        roman = ROMAN_RE.match(line) if not star else None
        if not (roman and roman.group(1) in ROMAN):
            return False
        number = ROMAN[roman.group(1)]
        title = self._title(roman.group(1) + ".", roman.group(2), line, number == self.roman_no + 1, 40)
        if title is None:
            return False
        self.roman_no, self.numbered_no = number, 0
        self.open_node(self._heading_node(f"part-{self.roman_no}", title, "info", LEVEL_ROMAN, lineno, line))
        self.seen_heading = True
        return True

    def _numbered(self, index: int, line: str, star: bool, lineno: int) -> bool:
        numbered = NUMBERED_RE.match(line) if not star else None
        if not numbered:
            return False
        number = int(numbered.group(1))
        in_sequence = number == self.numbered_no + 1
        if self._expects_member(number):
            return False  # "2." of a list the heading above announced
        title = self._title(numbered.group(1) + ".", numbered.group(2), line, in_sequence, 25)
        if title is None:
            return False
        self.numbered_no, self.letter = number, ""
        parent_key = f"part-{self.roman_no}" if self.roman_no else "section"
        node = self._heading_node(f"{parent_key}-{numbered.group(1)}", title, "info", LEVEL_NUMBERED,
                                  lineno, line)
        node.enum = enum_of(strip_heading_prefix(title).rstrip(" ."))
        if node.enum:
            node.kind = kind_of(node.enum[1], "info")
        self.open_node(node)
        self.seen_heading = True
        return True

    def _lettered(self, index: int, line: str, star: bool, lineno: int) -> bool:
        lettered = LETTERED_RE.match(line) if not star else None
        if not (lettered and any(n.level == LEVEL_NUMBERED for n in self.stack)):
            return False
        if self._expects_member(letter_index(lettered.group(1))):
            return False  # "b)" of a list the heading above announced
        title = self._title(lettered.group(1) + ")", lettered.group(2), line,
                            letter_follows(lettered.group(1), self.letter), 20)
        if title is None:
            return False
        self.letter = lettered.group(1)
        parent = next(n for n in reversed(self.stack) if n.level < LEVEL_LETTERED)
        enum = enum_of(strip_heading_prefix(title))
        node = self._heading_node(f"{parent.key or 'section'}-{slug(lettered.group(1), 1)}", title,
                                  kind_of(lettered.group(2), "info") if enum else "info",
                                  LEVEL_LETTERED, lineno, line)
        node.enum = enum
        self.open_node(node)
        return True

    def _star(self, index: int, line: str, star: bool, lineno: int) -> bool:
        if not star:
            return False
        title = line
        if ":" in line and len(line.split(":", 1)[1].split()) > 12:
            # "* Tầm nhìn đến năm 2045: Trở thành …": the heading carries its text
            title = line.split(":", 1)[0].strip()
        enum = enum_of(line)
        kind = kind_of(enum[1] if enum else title, "info")
        key = GROUP_KEYS.get(kind) or slug(title, 4)
        node = self._heading_node(key, title.rstrip(" :"), kind, LEVEL_STAR, lineno, line)
        node.enum = enum
        self.open_node(node)
        self.seen_heading = True
        return True

    def _enum_child(self, index: int, line: str, star: bool, lineno: int) -> bool:
        """A "(n)" child of a heading that announced "N <things>"."""
        owner = self._enum_owner()
        item = ENUM_CHILD_RE.match(line)
        if not (item and owner is not None and _child_number(item) == owner.next_enum):
            return False
        number = owner.next_enum
        owner.next_enum += 1
        noun = owner.enum[1]  # type: ignore[index]
        base = CHILD_KEYS.get(owner.kind) or owner.key
        node = self._heading_node(f"{base}-{number}", f"{upper_first(noun)} ({number}): {headline(line)}",
                                  owner.kind, owner.level + 1, lineno, line)
        while self.stack[-1] is not owner:
            self.stack.pop()
        node.parent = owner
        owner.children.append(node)
        self.stack.append(node)
        return True

    def _enum_owner(self) -> Node | None:
        return next((n for n in reversed(self.stack) if n.enum), None)

    def _expects_member(self, number: int) -> bool:
        """Whether the open heading that announced "N <things>" waits for member `number`."""
        owner = self._enum_owner()
        return (owner is not None and owner.enum is not None
                and number == owner.next_enum <= owner.enum[0])

    def _sub_heading(self, index: int, line: str, star: bool, lineno: int) -> bool:
        """Inside a "* …" section: a short line followed by a list, or a "Về …: …"
        paragraph of another kind (a sibling group)."""
        group = self.star_ancestor()
        if group is None or group.enum:
            return False
        follows_list = bool(LIST_LINE_RE.match(self.next_content(index)))
        if (not LIST_LINE_RE.match(line) and len(line.split()) <= 12 and follows_list
                and (line.endswith(":") or line[-1:] not in TERMINAL)):
            self.open_node(self._sub_node(group, line, lineno))
            return True
        lead = line.split(":", 1)[0] if ":" in line else ""
        if lead and lead.startswith("Về ") and len(lead.split()) <= 25:
            kind = kind_of(lead, group.kind)
            if kind != group.kind:
                # another kind of content ("Về danh mục … dự án: …"): a sibling group
                key = GROUP_KEYS.get(kind) or slug(lead, 4)
                self.open_node(self._heading_node(key, upper_first(lead[3:].strip()), kind, LEVEL_STAR,
                                                  lineno, line))
                return True
        return False

    def _sub_node(self, group: Node, line: str, lineno: int) -> Node:
        kind = kind_of(line, group.kind)
        short = re.sub(r"^(?:chi-tieu-)?(?:ve-)?", "", slug(line, 7))
        title = line.rstrip(" :")
        if kind == "target" and "chỉ tiêu" not in title.lower():
            # "Về xây dựng Đảng:" under the targets names the Party-building targets
            title = "Chỉ tiêu " + lower_first(title if title.startswith("Về ") else "về " + title)
        return self._heading_node(f"{group.key}-{slug(short, 4) or 'part'}", title, kind, LEVEL_SUB,
                                  lineno, line)

    def _name_preamble(self) -> None:
        """The text before the first heading: a letter when it has a "Số …/…" reference."""
        preamble = self.preamble
        if preamble is None:
            return
        body = "\n".join(p for p, _ in preamble.paragraphs)
        reference = re.search(r"Số\s*:?\s*(\d+\s*-?\s*[A-ZĐ]+/[A-ZĐ]+)", body)
        if reference:
            preamble.key, preamble.kind = self.unique("letter"), "letter"
            preamble.title = "Công văn số " + re.sub(r"\s*-\s*", "-", reference.group(1))
        else:
            preamble.key = self.unique("preamble")
            first = preamble.paragraphs[0][0]
            preamble.title = first if len(first.split()) <= 15 else "Phần mở đầu"


def letter_index(letter: str) -> int:
    """"a" → 1, "b" → 2 (Vietnamese order: "đ" after "d")."""
    seq = LETTERS[0] if letter in LETTERS[0] else LETTERS[1]
    return seq.index(letter) + 1


def _child_number(match: re.Match) -> int:
    number, dotted, letter = match.group(1), match.group(2), match.group(3)
    return int(number or dotted) if (number or dotted) else letter_index(letter)


def add_paragraph(node: Node, line: str, lineno: int, blank_before: bool) -> None:
    if (node.paragraphs and line[:1].islower()
            and node.paragraphs[-1][0][-1:] not in TERMINAL + ":”\")"):
        # a sentence broken by a page break
        prev, prev_blank = node.paragraphs[-1]
        node.paragraphs[-1] = (prev + " " + line, prev_blank)
    else:
        node.paragraphs.append((line, blank_before))
    node.end = lineno


def _sections_of(root: Node) -> list[SectionData]:
    """The tree as SectionData in document order, each with its figure items."""
    out: list[SectionData] = []
    item_keys: set[str] = set()

    def finish(node: Node, parent: str | None, depth: int) -> None:
        body_parts: list[str] = []
        for text_, blank_before_ in node.paragraphs:
            if body_parts:
                body_parts.append("\n\n" if blank_before_ else "\n")
            body_parts.append(text_)
        items = []
        for label, value in numeric_lines(node):
            key = f"{node.key}-{len(items) + 1}"
            while key in item_keys:
                key += "-x"
            item_keys.add(key)
            items.append({"key": key, "label": label, "value": value})
        end = max([node.end] + [c.end for c in node.children])
        out.append(SectionData(
            key=node.key, title=node.title.strip(), kind=node.kind,
            lines=f"{node.start}-{end}", body="".join(body_parts).strip(), parent_key=parent,
            position=len(out) + 1, depth=depth, items=items))
        for child in node.children:
            finish(child, node.key, depth + 1)

    for top in root.children:
        finish(top, None, 0)
    return out


FIG = r"\d{1,3}(?:\.\d{3})+(?![\d,])|\d+(?:,\d+)?"
PCT_VALUE_RE = re.compile(
    rf"(?:(?:{QUAL})\s+)?(?:{FIG})%(?:\s*[-{DASHES}]\s*(?:{FIG})%)?(?:/[^;.]+)?")


def numeric_lines(node: Node) -> list[tuple[str, str]]:
    """(label, value) pairs of the lines of a section that state a figure for a label."""
    found: list[tuple[str, str]] = []
    for paragraph, _ in node.paragraphs:
        is_list = bool(LIST_LINE_RE.match(paragraph))
        segments = re.split(r";\s*|,?\s+trong đó:\s*|\.\s+Trong đó:?\s*", paragraph,
                            flags=re.IGNORECASE)
        for segment in segments:
            segment = MARKER_RE.sub("", segment.strip(), count=1).rstrip(" .;,")
            pair = label_value(segment, is_list)
            if pair:
                found.append(pair)
    return found


def label_value(segment: str, is_list: bool) -> tuple[str, str] | None:
    if not segment or len(segment.split()) > 45:
        return None
    # "label: [≤ 2 words] figure [tail]"
    if ":" in segment:
        lead, _, rest = segment.rpartition(":")
        rest = rest.strip()
        total = re.fullmatch(rf"[Gg]ồm\s+((?:{FIG}){UNIT})", rest)
        if total and len(lead.split()) <= 25:
            label = re.sub(r"^Về\s+", "", lead.strip())
            return upper_first(label) + " gồm", total.group(1)
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
                return upper_first(re.sub(r"^Về\s+", "", label).strip()), value
            return None
        count = re.fullmatch(rf"(?:{FIG})(?:{UNIT})?", rest)
        if count and len(lead.split()) <= 15 and (is_list or re.search(UNIT + "$", rest)):
            return upper_first(lead.strip()), rest
        return None
    # a list line ending in a figure: "- (3) Tỷ lệ … giảm còn 5,9%"
    if is_list:
        match = re.search(rf"\s((?:(?:{QUAL})\s+)?(?:{FIG})%)$", segment)
        if match and len(segment[:match.start()].split()) <= 25:
            return segment[:match.start()].strip(), match.group(1)
    return None

