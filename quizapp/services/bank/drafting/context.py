"""What the generators draw on, read once from the sections: items with their figures,
lists (announced children or body lists) and quoted slogans."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..schema import SectionData
from .figures import Figure, parse_figure
from .outline import ENUM_ITEM_RE, enum_of, headline, strip_heading_prefix
from .text import DASHES, display_title, fold, norm_for_match

@dataclass
class Item:
    section: SectionData
    key: str
    label: str
    value: str
    figure: Figure | None
    unit: str = ""   # "dự án" in "Lĩnh vực …: 11 dự án", from the value or the body
    kind: str = ""   # figures of one kind share template and unit; only they are siblings


@dataclass
class Entry:
    """One member of a list: a child section's headline or a line of a body list."""
    text: str
    section: SectionData
    full: str
    number: int


@dataclass
class MemberList:
    owner: SectionData
    entries: list[Entry]
    count: int | None = None      # "N" stated by the heading, when it equals len(entries)
    noun: str = ""                # "khâu đột phá"
    sentence: str = ""            # "Đại hội xác định 3 khâu đột phá"
    from_children: bool = False

    def name_of(self, entry: Entry) -> str:
        if self.from_children and self.noun:
            return f"{self.noun} ({entry.number})"
        return f"«{display_title(self.owner.title)}»"


class Context:
    def __init__(self, sections: list[SectionData], contradictions: set[str]):
        self.sections = sections
        self.by_key = {s.key: s for s in sections}
        self.children: dict[str, list[SectionData]] = {}
        for s in sections:
            if s.parent_key:
                self.children.setdefault(s.parent_key, []).append(s)
        self.contradictions = [norm_for_match(c) for c in contradictions if c.strip()]
        self.items = [Item(s, i["key"], i["label"], i["value"], parse_figure(i["value"]))
                      for s in sections for i in s.items]
        for item in self.items:
            if item.figure is not None:
                item.unit = item.figure.unit or unit_after(item)
                item.kind = f"{item.figure.template}|{fold(item.unit)}"
        self.lists = self._lists()
        self.quotes = [(s, q) for s in sections for q in find_quotes(s.body)]

    def contradicted(self, text: str) -> bool:
        norm = norm_for_match(text)
        return any(c in norm for c in self.contradictions)

    def _lists(self) -> list[MemberList]:
        lists: list[MemberList] = []
        for s in self.sections:
            kids = self.children.get(s.key, [])
            if len(kids) >= 2:
                entries = [Entry(headline(first_paragraph(k.body) or k.title), k, k.body, n)
                           for n, k in enumerate(kids, 1)]
                entries = [e for e in entries if len(e.text.split()) >= 2]
                sentence, count, noun = count_sentence(s.body)
                # only a list the heading announces ("3 khâu đột phá"): the children of
                # an ordinary section are topics, not members to choose between
                if len(entries) == len(kids) and count == len(kids):
                    lists.append(MemberList(s, entries, count, noun, sentence, from_children=True))
            if s.kind not in ("letter", "info"):
                for entries_text in body_lists(s.body):
                    entries = [Entry(headline(t), s, t, n) for n, t in enumerate(entries_text, 1)]
                    entries = [e for e in entries if len(e.text.split()) >= 3]
                    if len(entries) >= 2:
                        lists.append(MemberList(s, entries))
        return lists


def unit_after(item: Item) -> str:
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


def first_paragraph(body: str) -> str:
    return body.strip().split("\n", 1)[0].strip() if body.strip() else ""


def count_sentence(body: str) -> tuple[str, int | None, str]:
    """("Đại hội đưa ra 5 quan điểm", 5, "quan điểm") from a list heading's body."""
    first = strip_heading_prefix(first_paragraph(body)).rstrip(" :.")
    sentence = first.rsplit(": ", 1)[-1] if ": " in first else first
    sentence = re.sub(r"\s+(?:gồm|bao gồm)$", "", sentence.strip())
    enum = enum_of(sentence)
    if not enum or len(sentence.split()) > 20:
        return sentence, None, ""
    return sentence, enum[0], enum[1]


def body_lists(body: str) -> list[list[str]]:
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


def find_quotes(body: str) -> list[str]:
    out = []
    for match in re.finditer(r"“([^”]{3,400})”|«([^»]{3,400})»", body):
        quote = (match.group(1) or match.group(2)).strip()
        if quote not in out:
            out.append(quote)
    return out


# " - " between words splits a slogan; "2025 - 2030" does not
SEGMENT_SPLIT = re.compile(rf"((?<!\d)\s+[-{DASHES}]\s+(?!\d)|[,;]\s*)")


def split_segments(quote: str) -> list[str]:
    return SEGMENT_SPLIT.split(quote)
