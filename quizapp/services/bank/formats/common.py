"""What every question file format shares: the parse result, decoding with a size limit,
keys, and the checks every imported question passes.

Errors, warnings and skipped items are strings that start with where the problem is:
"line N: …" for text formats, "row N: …" for spreadsheets. Each is a Message
(services/bank/messages.py), which the import page shows in its own language.
"""
from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask_babel import gettext as _

from ..messages import Message, Where, at_line, at_row
from ..schema import CREDIT_PROBLEMS, KEY_RE, PURPOSES, STATUSES, QuestionData
from ... import grading
from ...grading import KINDS

# A file's size limit. It admits our own export of a bank at the question limit: the
# bundled bank's GIFT export takes about 600 bytes a question, its YAML export 730
# (tests/services/test_formats.py::test_the_size_limit_admits_our_own_export_of_a_full_bank).
MAX_BYTES = 8 * 1024 * 1024
MAX_QUESTIONS = 5000      # questions in one file
MAX_ANSWERS = grading.MAX_CHOICES  # answers of one question
MAX_LISTED_ERRORS = 100   # error messages kept; the rest are only counted
MAX_KEY_LENGTH = 80       # Question.key is String(80)
MAX_COVERS_LENGTH = 500   # Question.covers is String(500), comma-joined


# Characters no question text may hold: C0 controls but tab and line breaks, and DEL
# (PostgreSQL refuses NUL in text; the others are invisible, and .xlsx cannot hold them).
# C1 controls such as U+0085 (NEL, a line break for YAML) are kept: they round-trip.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_message(text: str) -> Message | None:
    """"control character U+0000 …" (a message without a place, to put into one that has
    one) for the first control character in `text`, or None."""
    match = CONTROL_RE.search(text)
    if match is None:
        return None
    return Message("", "control character U+%(code)s in the text (invisible characters "
                       "cannot be imported; delete it)", code=format(ord(match.group()), "04X"))


class Errors:
    """Error messages: every one counted, the first MAX_LISTED_ERRORS kept (a file of
    450,000 bad lines must not make a page of megabytes). `len()` and truth count them
    all, so "did this question add an error" stays right past the limit; iterating and
    indexing give the kept ones."""

    def __init__(self, messages=()):
        self.listed: list[str] = []
        self.count = 0
        self.extend(messages)

    def append(self, message: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED_ERRORS:
            self.listed.append(message)

    def extend(self, messages) -> None:
        for message in messages:
            self.append(message)

    @property
    def more(self) -> int:
        """How many errors were counted but not kept."""
        return self.count - len(self.listed)

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __iter__(self):
        return iter(self.listed)

    def __getitem__(self, index):
        return self.listed[index]

    def __eq__(self, other) -> bool:
        if isinstance(other, Errors):
            return (self.count, self.listed) == (other.count, other.listed)
        return self.count == len(self.listed) and self.listed == other

    def __repr__(self) -> str:
        return f"Errors({self.listed!r}, count={self.count})"

    def summary(self) -> list[str]:
        """The kept messages, then "… and N more error(s)" when some were not kept."""
        return self.listed + ([f"… and {self.more} more error(s)"] if self.more else [])


# Moodle's question types (Moodle XML's type="…") that a skip explains by name.
MOODLE_TYPES = {"essay": "essay", "match": "matching", "numerical": "numerical",
                "shortanswer": "short-answer"}


class Skipped(str):
    """One item of a file left out because this app has no such kind of question: the
    English line the CLI prints and tests read ("line 9: skipped an essay question 'Q8'
    (…)"), which also says itself in the page's language (`localized`, Vietnamese by
    default) with its line, its kind and its title."""

    def __new__(cls, where: str, kind: str, title: str = "", moodle_type: str = ""):
        named = f" '{title}'" if title else ""
        if kind == "description" and not moodle_type:   # GIFT: text without braces
            english = f"{where}: skipped a description{named} (text without an answer block)"
        elif kind == "description":
            english = (f"{where}: skipped a description{named} (this app has single, multiple "
                       "and true/false questions)")
        else:
            what = {"essay": "an essay question", "matching": "a matching question",
                    "numerical": "a numerical question", "short-answer": "a short-answer question",
                    }.get(kind, f"a question of type '{moodle_type or '?'}'")
            english = (f"{where}: skipped {what}{named} (this app has single, multiple and "
                       "true/false questions)")
        item = super().__new__(cls, english)
        item.where, item.kind, item.title, item.moodle_type = where, kind, title, moodle_type
        return item

    def localized(self) -> str:
        """The line, the title and why, in the current language."""
        line = self.where.removeprefix("line ")
        kind = MOODLE_TYPES.get(self.moodle_type, "other") if self.kind == "other" else self.kind
        reason = {
            "essay": _("an essay question (a written answer, graded by hand)"),
            "matching": _("a matching question (pairs to match)"),
            "numerical": _("a numerical question (a number typed in)"),
            "short-answer": _("a short-answer question (a word typed in)"),
            "description": _("a description (text without an answer block)"),
        }.get(kind) or _("a question of Moodle type '%(type)s'", type=self.moodle_type or "?")
        title = _(" “%(title)s”", title=self.title) if self.title else ""
        return _("line %(line)s: not imported%(title)s: %(reason)s; this app has only single-answer, "
                 "multiple-answer and true/false questions", line=line, title=title, reason=reason)


@dataclass
class ParseResult:
    """What a parser read: the valid questions, every error (nothing should be imported
    while there is one; the first MAX_LISTED_ERRORS are kept, see Errors), the items
    skipped because the app has no such question kind, and warnings (imported, but look)."""
    questions: list[QuestionData] = field(default_factory=list)
    errors: Errors = field(default_factory=Errors)
    skipped: list[str] = field(default_factory=list)
    # Parser warnings and lint findings that do not stop an import (formats.lint_parsed).
    warnings: list[str] = field(default_factory=list)
    # GIFT categories that name no section (see section_for_category), with how many
    # questions each holds: those go to the default section (--section), or are refused.
    unmatched_categories: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_size(content: bytes, result: ParseResult, unit: str = "line") -> bool:
    if len(content) > MAX_BYTES:
        first = at_row(1) if unit == "row" else at_line(1)
        result.errors.append(Message(first, "the file is larger than %(size)d MiB, the "
                                     "limit for a question file", size=MAX_BYTES // 1024 // 1024))
        return False
    return True


def decode_text(content: bytes, result: ParseResult) -> str | None:
    """UTF-8 text (a BOM is allowed), NFC-normalised, with newlines normalised to "\\n",
    or None after appending one error (too large, or not UTF-8). A control character is
    an error with its line, and the text is still returned (so other errors are found)."""
    if not check_size(content, result):
        return None
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        result.errors.append(Message(at_line(1), "not UTF-8 text (the file is UTF-16); save it as UTF-8"))
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[:exc.start].count(b"\n") + 1
        result.errors.append(Message(at_line(line), "not UTF-8 text (byte 0x%(byte)s cannot be "
                                     "read as UTF-8); save the file as UTF-8",
                                     byte=format(content[exc.start], "02x")))
        return None
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    line, counted_to = 1, 0
    for match in CONTROL_RE.finditer(text):
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        result.errors.append(control_message(match.group()).at(f"line {line}"))
    return text


def fold(text: str) -> str:
    """Lowercase ASCII without Vietnamese diacritics ("Đúng/Sai" → "dung/sai")."""
    text = text.lower().replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def _name(text: str) -> str:
    """A section key or title as compared with a category: folded (fold), '-' and '_' as
    spaces, single-spaced ("Quan Điểm" and "quan-diem" are both "quan diem")."""
    return " ".join(re.sub(r"[-_]", " ", fold(text).casefold()).split())


# A title's own numbering: "1. ", "IV. ", "a) ".
_NUMBERING_RE = re.compile(r"^\s*(?:[0-9]+|[ivxlc]+|[a-z])[.)]\s+", re.IGNORECASE)


# A '/' inside a category name is written '//' (Moodle's rule), so that "02-CV/ĐU" stays
# one part of "$course$/top/Công văn số 02-CV//ĐU".
_SLASH = "\uffff"   # never in a text: not a character XML or this app's texts hold


def split_category(path: str) -> list[str]:
    """The parts of a category path, each stripped; '//' is a '/' inside a part."""
    return [part.replace(_SLASH, "/").strip() for part in path.replace("//", _SLASH).split("/")]


def join_category(parts: list[str]) -> str:
    """The category path of `parts` (split_category's inverse)."""
    return "/".join(part.replace("/", "//") for part in parts)


def section_for_category(category: str, sections: Collection[str] | None) -> str | None:
    """The section a category path ("$course$/Nghị quyết/Quan điểm") places its questions
    in: its last part, when that is a section key, or when, diacritics, case and spacing
    folded, it is the key or the title of exactly one section (a title's numbering, as
    "1. " or "IV. ", may be left out). `sections` is a set of keys or a mapping key → title
    (formats.known_section_keys); None (no database to ask) accepts any well-formed key.
    None when nothing, or more than one section, matches."""
    parts = [part for part in split_category(category.strip()) if part]
    last = parts[-1] if parts else ""
    if not last:
        return None
    if sections is None:
        return last if KEY_RE.match(last) else None
    if last in sections:
        return last
    wanted = _name(last)
    titles = sections if isinstance(sections, Mapping) else {}
    found = set()
    for key in sections:
        title = titles.get(key) or ""
        names = {_name(key)} | ({_name(title), _name(_NUMBERING_RE.sub("", title))} if title else set())
        if wanted in names:
            found.add(key)
    return found.pop() if len(found) == 1 else None


def place_category(category: str | None, default_section: str | None, sections, result: ParseResult,
                   chosen: Mapping[str, str] | None = None) -> str:
    """The section of a question filed under `category`: the one the organizer chose for
    that category (`chosen`, the preview's picker), else the one it names
    (section_for_category), else the default; a category that names none is counted in
    result.unmatched_categories."""
    if category and category.strip():
        name = category.strip()
        if chosen and chosen.get(name):
            return chosen[name]
        found = section_for_category(name, sections)
        if found is not None:
            return found
        result.unmatched_categories[name] = result.unmatched_categories.get(name, 0) + 1
    return default_section or ""


def slugify(text: str, limit: int | None = MAX_KEY_LENGTH) -> str:
    """A question key from a title: "Câu 1: Quan điểm" → "cau-1-quan-diem" ("" if nothing
    is left), cut to `limit` characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    return slug[:limit].rstrip("-") if limit is not None else slug


def hash_key(prefix: str, prompt: str) -> str:
    """A stable key for a question whose file gives it none: the same prompt always gets
    the same key, so importing the file again updates instead of duplicating."""
    return f"{prefix}-{hashlib.sha256(prompt.encode('utf-8')).hexdigest()[:8]}"


def choices_key(text: str) -> str:
    """Choices that differ only in case or spacing count as the same choice."""
    return " ".join(text.casefold().split())


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def normalise(question: QuestionData) -> None:
    """Every text of the question in NFC, the form the bank stores: a copy written with
    combining accents (NFD, as some Mac and Word exports are) is the same question."""
    question.prompt = nfc(question.prompt)
    question.explanation = nfc(question.explanation)
    for choice in question.choices:
        choice.text = nfc(choice.text)


# ---------------------------------------------------------------- what formats have no place for

@dataclass
class Meta:
    """What GIFT and Moodle XML have no field for, kept in 'quizapp:' tokens (a GIFT
    comment, Moodle XML tags): difficulty=2 status=approved purpose=… covers=a,b excludes=k
    grading=all-or-nothing. `stated`: the names the file gave (difficulty, status…), so a
    match with the bank (formats.match_existing) keeps what the file says."""
    difficulty: int = 1
    status: str = "draft"
    covers: list[str] = field(default_factory=list)
    purpose: str = ""
    excludes: list[str] = field(default_factory=list)
    # A several-answers question graded all or nothing, as this app's classic ones are.
    # Moodle has no such grading: it adds the chosen answers' weights, so the same weights
    # without this token (a Moodle user's file) keep Moodle's partial credit.
    all_or_nothing: bool = False
    stated: set[str] = field(default_factory=set)


ALL_OR_NOTHING = "all-or-nothing"


def read_meta(entries: list[tuple[int, str]], errors) -> Meta:
    """Meta from (line, "difficulty=2 covers=a,b") entries; covers and excludes add up
    over entries. A token that cannot be read is an error with its line."""
    meta = Meta()
    for number, body in entries:
        for token in body.split():
            name, sep, value = token.partition("=")
            if name == "difficulty" and value in ("1", "2", "3"):
                meta.difficulty = int(value)
            elif name == "status" and value in STATUSES:
                meta.status = value
            elif name == "purpose" and value in PURPOSES:
                meta.purpose = value
            elif name == "covers" and sep:
                meta.covers += [c for c in value.split(",") if c and c not in meta.covers]
            elif name == "excludes" and sep:
                meta.excludes += [c for c in value.split(",") if c and c not in meta.excludes]
            elif name == "grading" and value == ALL_OR_NOTHING:
                meta.all_or_nothing = True
            else:
                errors.append(Message(at_line(number), "cannot read '%(token)s' in the 'quizapp:' "
                                      "comment (difficulty=1|2|3 status=draft|approved|retired "
                                      "purpose=%(purposes)s covers=key,key excludes=key,key "
                                      "grading=%(grading)s)", token=token,
                                      purposes="|".join(PURPOSES), grading=ALL_OR_NOTHING))
                continue
            meta.stated.add(name)
    return meta


def meta_tokens(question: QuestionData) -> list[str]:
    """The 'quizapp:' tokens of a question (read_meta reads them back)."""
    tokens = [f"difficulty={question.difficulty}", f"status={question.status}"]
    if question.purpose:
        tokens.append(f"purpose={question.purpose}")
    if question.covers:
        tokens.append(f"covers={','.join(question.covers)}")
    if question.excludes:
        tokens.append(f"excludes={','.join(question.excludes)}")
    if question.kind == "multiple" and all(c.fraction is None for c in question.choices):
        tokens.append(f"grading={ALL_OR_NOTHING}")
    return tokens


class _HTMLText(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}

    def __init__(self, newlines: bool):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.pre = 0
        self.newlines = newlines

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag == "pre":
            self.pre += 1
            self.parts.append("\n")
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.parts.append("\n")
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.hidden:
            return
        # In HTML a line break of the source is a space, but inside <pre> it is a line
        # break (and in Moodle's auto-format every line break is one).
        self.parts.append(data if self.pre or self.newlines else re.sub(r"\s+", " ", data))


def html_to_text(text: str, newlines: bool = False) -> str:
    """The text an HTML fragment shows: tags removed, entities decoded, a line per block
    (<p>, <br>, <li>…) and per line of a <pre>, spaces collapsed, empty lines dropped.
    `newlines`: the source's own line breaks are line breaks too (Moodle's auto-format)."""
    parser = _HTMLText(newlines)
    parser.feed(text)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def too_many_questions(where: str) -> Message:
    return Message(where, "more than %(limit)d questions in one file: split it", limit=MAX_QUESTIONS)


def check_question(question: QuestionData, where: str, errors: Errors | list[str],
                   section_keys: set[str] | None = None, check_section: bool = True) -> bool:
    """Append "where: …" for every rule the question breaks; True when it breaks none.

    The rules of every format: a key of a-z, 0-9 and '-'; a known kind, difficulty and
    status; a prompt; at least two distinct choices; exactly one right answer (single,
    true/false) or at least one (multiple); an explanation when approved. With
    `section_keys`, the section must be one of them."""
    before = len(errors)
    key = question.key

    def fault(template: str, **params) -> None:
        errors.append(Message(where, template, key=key, **params))

    if not KEY_RE.match(key) or len(key) > MAX_KEY_LENGTH:
        fault("key '%(key)s' must be lowercase letters, digits and '-' (at most %(limit)d)",
              limit=MAX_KEY_LENGTH)
    if check_section:
        if not question.section:
            fault("question '%(key)s' has no section: name one in the file or choose a default "
                  "section")
        elif section_keys is not None and question.section not in section_keys:
            fault("question '%(key)s': unknown section '%(section)s'", section=question.section)
        elif section_keys is None and not KEY_RE.match(question.section):
            fault("question '%(key)s': '%(section)s' is not a section key", section=question.section)
    if question.kind not in KINDS:
        fault("question '%(key)s': kind must be one of %(kinds)s", kinds=", ".join(KINDS))
    if question.difficulty not in (1, 2, 3):
        fault("question '%(key)s': difficulty must be 1, 2 or 3")
    if question.status not in STATUSES:
        fault("question '%(key)s': status must be draft, approved or retired")
    if question.purpose not in ("", *PURPOSES):
        fault("question '%(key)s': purpose must be one of %(purposes)s", purposes=", ".join(PURPOSES))
    for other in question.excludes:
        if not KEY_RE.match(other) or len(other) > MAX_KEY_LENGTH:
            fault("question '%(key)s': '%(other)s' is not a question key", other=other)
    if len(",".join(question.excludes)) > MAX_COVERS_LENGTH:
        fault("question '%(key)s': the excluded questions are longer than %(limit)d characters",
              limit=MAX_COVERS_LENGTH)
    if not question.prompt.strip():
        fault("question '%(key)s' has an empty prompt")
    if question.status == "approved" and not question.explanation.strip():
        fault("question '%(key)s' is approved but has no explanation")
    for item in question.covers:
        if not KEY_RE.match(item):
            fault("question '%(key)s': '%(item)s' is not an outline item key", item=item)
    if len(",".join(question.covers)) > MAX_COVERS_LENGTH:
        fault("question '%(key)s': the covered items are longer than %(limit)d characters",
              limit=MAX_COVERS_LENGTH)

    for text in (question.prompt, question.explanation, *(c.text for c in question.choices)):
        problem = control_message(text)
        if problem:
            fault("question '%(key)s': %(problem)s", problem=problem)
            break
    choices = question.choices
    if len(choices) < 2:
        fault("question '%(key)s' needs at least 2 choices")
    elif len(choices) > MAX_ANSWERS:
        fault("question '%(key)s' has %(count)d answers, more than %(limit)d",
              count=len(choices), limit=MAX_ANSWERS)
    seen: set[str] = set()
    for choice in choices:
        if not choice.text.strip():
            fault("question '%(key)s': a choice has no text")
            continue
        folded = choices_key(choice.text)
        if folded in seen:
            fault("question '%(key)s': choice '%(choice)s' appears twice", choice=choice.text)
        seen.add(folded)
    spec = grading.REGISTRY.get(question.kind)
    right = sum(c.correct for c in choices)
    problem = spec and grading.check_fractions(question.kind, [c.fraction for c in choices])
    weighted = spec is not None and any(c.fraction is not None for c in choices)
    if problem:
        fault("question '%(key)s': %(problem)s", problem=CREDIT_PROBLEMS[problem])
    elif choices and right == 0:
        fault("question '%(key)s' has no right answer")
    elif spec and not spec.selects_many and not weighted and right > 1:
        fault("question '%(key)s': a one-answer question has %(count)d right answers", count=right)
    if spec and spec.fixed_choices and tuple(c.text for c in choices) != spec.fixed_choices:
        fault("question '%(key)s': a true/false question has the choices %(choices)s",
              choices="/".join(spec.fixed_choices))
    return len(errors) == before


def _source_prefix(filename: str) -> str:
    stem = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem = re.sub(r"(\.(gift|aiken|txt|xml|xlsx|yaml|yml))+$", "", stem, flags=re.IGNORECASE)
    return slugify(stem)[:30].rstrip("-")


def source_key(filename: str, title: str) -> str:
    """The key of a titled question from a file that is not ours: the file's name, then
    the title ("nghi-quyet.gift", "Câu 1" → "nghi-quyet-cau-1"), so that another file's
    "Câu 1" is another question, and importing the same file again updates its own."""
    prefix = _source_prefix(filename)
    return slugify(f"{prefix} {title}") if prefix else slugify(title)


def path_key(filename: str, parts: list[str]) -> str:
    """The key of a named question filed in a category, from a file that is not ours: the
    file's name, the category path, the name ("de-thi.xml", ["Nghị quyết", "Quan điểm"],
    "Câu 1" → "de-thi-nghi-quyet-quan-diem-cau-1"). One name in two categories or two
    files is two questions. A key longer than the limit keeps its start and ends with 8
    hex digits of the whole, so two long paths never meet on a shared start."""
    whole = slugify(" ".join([_source_prefix(filename), *parts]), limit=None)
    if len(whole) <= MAX_KEY_LENGTH:
        return whole
    digest = hashlib.sha256(whole.encode("utf-8")).hexdigest()[:8]
    return f"{whole[:MAX_KEY_LENGTH - 9].rstrip('-')}-{digest}"


def collect(result: ParseResult, items: list[tuple[QuestionData, str]],
            section_keys: set[str] | None = None, check_section: bool = True,
            derived: set[str] = frozenset()) -> None:
    """Check each (question, where) read from one file (texts NFC-normalised first) and
    keep the valid questions in `result`.

    A key the file states (YAML, an Excel key, our own GIFT export) used twice is an
    error. A key derived from a title or a prompt (`derived`: the `where` of those
    questions) used twice is not: the later question gets "-2", "-3"… and a warning, as
    Moodle allows one title or stem twice. Two questions with one prompt are flagged as
    possible duplicates either way."""
    first_seen: dict[str, str] = {}
    prompts: dict[str, str] = {}
    for question, where in items:
        normalise(question)
        if question.key in first_seen and where in derived:
            base, n = question.key[:MAX_KEY_LENGTH - 4], 2
            while f"{base}-{n}" in first_seen:
                n += 1
            renamed = f"{base}-{n}"
            result.warnings.append(Message(where, "the title or question text of %(first)s again: "
                                           "imported as a separate question '%(key)s'",
                                           first=Where(first_seen[question.key]), key=renamed))
            question.key = renamed
        valid = check_question(question, where, result.errors, section_keys, check_section)
        if question.key in first_seen:
            result.errors.append(Message(where, "key '%(key)s' is already used at %(first)s",
                                         key=question.key, first=Where(first_seen[question.key])))
            valid = False
        else:
            first_seen[question.key] = where
        folded = choices_key(question.prompt)
        if folded in prompts:
            result.warnings.append(Message(where, "possible duplicate: the same question text as "
                                           "%(first)s", first=Where(prompts[folded])))
        else:
            prompts[folded] = where
        if valid:
            result.questions.append(question)
