"""Moodle XML (https://docs.moodle.org/en/Moodle_XML_format), read and written, as Moodle's
own reader and writer do it (question/format/xml/format.php).

Reading:
- the file is UTF-8 XML whose root is `<quiz>`, parsed by defusedxml: a document type
  declaration (<!DOCTYPE …>), entity declarations (the "billion laughs") and external
  entities are refused before anything is expanded; a control character (NUL…) is an
  error with its line, as in every format; at most MAX_ELEMENTS elements;
- `<question type="category">` sets the category of the questions after it: its last
  part places them in the section whose key or title it is (common.section_for_category;
  '//' is a '/' inside a name); a category that names no section is listed in
  `unmatched_categories`, and its questions go to the section the organizer picks for it,
  else to the default section;
- `multichoice` (`<single>true</single>`: one answer; false: several) and `truefalse`
  are read; every other type (shortanswer, numerical, matching, cloze, essay,
  description, calculated, ddwtos, …) is listed in `skipped` with its line, never
  imported;
- `<name>` gives the key: as it is when the question is written for this app (it has
  `quizapp:` tags, as our export writes); else (even "q1") the file's name,
  the category path and the name (common.path_key), so that one name in two categories or
  two files is two questions; a name repeated in one category gets "-2" and a warning;
- texts by their format: html (the default) loses its tags and entities, keeping a line
  per paragraph and the line breaks of <pre>; moodle_auto_format keeps its line breaks;
  plain_text, markdown and wiki_like are kept as written; images and files embedded in a
  text cannot be kept (a warning says so);
- answer grades (`fraction`, in %): a one-answer question needs at least one answer at
  100 %, a several-answers one positive grades adding up to 100 % (as Moodle checks them
  when it saves a question); grades other than this app's classic ones are kept as
  ChoiceData.fraction: a one-answer question with 100/0 is classic; several answers
  sharing 100 % with -100 % for a wrong one are classic (all or nothing) only with our
  tag's `grading=all-or-nothing`, else Moodle's weights;
  what cannot be kept is skipped by name and line;
- `<generalfeedback>` becomes the explanation, and per-answer `<feedback>` is added to it
  as "answer: feedback" lines;
- a tag `quizapp: difficulty=2 status=approved purpose=… covers=item covers=item
  excludes=key grading=all-or-nothing` keeps what Moodle has no field for (it survives a trip through Moodle);
  other tags, `<defaultgrade>` other than 1,
  `<shuffleanswers>` false and `<answernumbering>` other than abc are not kept, with one
  note each.

Writing: a category per section (`$course$/top/` and the path of section titles), every
question named by its key, plain-text texts, the explanation as general
feedback, the grades above and the `quizapp:` tag; what Moodle assumes by default is left
out, so that our export of a bank at the question limit stays within MAX_BYTES.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping
from xml.sax.saxutils import escape

from defusedxml.common import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from ..messages import Message, Places, at_line
from ..schema import TRUE_FALSE_TEXTS, ChoiceData, QuestionData
from .common import MAX_ANSWERS, MAX_QUESTIONS, ParseResult, Skipped, collect, decode_text, hash_key, \
    html_to_text, join_category, meta_tokens, path_key, place_category, read_meta, slugify, \
    split_category, too_many_questions

# Elements in one file. Our own export takes about 20 a question, Moodle's up to 100 for
# a question with 20 answers; 400,000 is 80 a question at the question limit, and stops a
# file of millions of empty elements before it costs memory.
MAX_ELEMENTS = 400_000
SUPPORTED = ("multichoice", "truefalse")
QUIZAPP_TAG = "quizapp:"
PLAIN_FORMATS = ("plain_text", "markdown", "wiki_like")


class _TooManyElements(Exception):
    pass


class _Builder(ET.TreeBuilder):
    """A tree builder that remembers the line every element starts on and counts them."""

    def __init__(self):
        super().__init__()
        self.lines: dict[ET.Element, int] = {}
        self.parser: DefusedXMLParser | None = None
        self.count = 0

    def line(self) -> int:
        return self.parser.parser.CurrentLineNumber if self.parser is not None else 1

    def start(self, tag, attrs):
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _TooManyElements()
        element = super().start(tag, attrs)
        self.lines[element] = self.line()
        return element


def _tree(text: str, result: ParseResult) -> tuple[ET.Element, dict[ET.Element, int]] | None:
    """The parsed file and each element's line, or None after one error."""
    builder = _Builder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(text)
        root = parser.close()
    except DTDForbidden:
        result.errors.append(Message(at_line(builder.line()), "a document type declaration "
                                     "(<!DOCTYPE …>) is refused: Moodle XML needs none, and it can "
                                     "hide entities that expand without end; delete it"))
        return None
    except EntitiesForbidden:
        result.errors.append(Message(at_line(builder.line()), "an entity declaration (<!ENTITY …>) is "
                                     "refused (it can expand without end); write the text itself"))
        return None
    except ExternalReferenceForbidden:
        result.errors.append(Message(at_line(builder.line()), "a reference to an outside file or "
                                     "address is refused; write the text itself"))
        return None
    except _TooManyElements:
        result.errors.append(Message(at_line(builder.line()), "more than %(limit)s XML elements: this "
                                     "is not a question file, or split it", limit=format(MAX_ELEMENTS, ",")))
        return None
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else 1
        reason = str(exc).split(": line ")[0]
        result.errors.append(Message(at_line(line), "not well-formed XML (%(reason)s); check the tags "
                                     "around it", reason=reason))
        return None
    if root.tag != "quiz":
        result.errors.append(Message(at_line(builder.lines.get(root, 1)), "the file's root element is "
                                     "<%(tag)s>, not <quiz>: this is not a Moodle XML question file",
                                     tag=root.tag))
        return None
    return root, builder.lines


def _trans_single(value: str | None) -> bool:
    """Moodle's trans_single: "false", "0" and empty are False, anything else True."""
    value = (value or "").strip()
    return not (value in ("false", "0") or not value)


def _raw(node: ET.Element | None) -> str:
    """The text of `node`'s <text> child (all of it, should the HTML not be in CDATA)."""
    if node is None:
        return ""
    text = node.find("text")
    return "".join(text.itertext()) if text is not None else ""


def _convert(raw: str, text_format: str) -> str:
    text_format = text_format.strip()
    if text_format in PLAIN_FORMATS:
        return raw.strip()
    # Moodle reads an unknown format as html, as here.
    return html_to_text(raw, newlines=text_format == "moodle_auto_format")


def _field(parent: ET.Element, tag: str, default_format: str) -> tuple[str, str, int]:
    """(text, its format, embedded files and images) of the child `tag` of `parent`."""
    node = parent.find(tag)
    if node is None:
        return "", default_format, 0
    text_format = node.get("format", default_format)
    raw = _raw(node)
    # An image is a <file> shown by an <img>: count either, not both.
    images = raw.lower().count("<img") if text_format not in PLAIN_FORMATS else 0
    embedded = max(len(node.findall("file")), images)
    return _convert(raw, text_format), text_format, embedded


def _fraction(answer: ET.Element, lines, result: ParseResult) -> float | None:
    raw = answer.get("fraction", "0").strip() or "0"
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -100 <= value <= 100:
        result.errors.append(Message(at_line(lines.get(answer, 1)), "answer grade fraction=\"%(raw)s\" "
                                     "is not a number between -100 and 100", raw=raw))
        return None
    return value


def _grade(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


class _Reader:
    """One file's questions, in order, with the category they are filed under."""

    def __init__(self, result: ParseResult, filename: str, default_section: str | None,
                 section_keys, chosen: Mapping[str, str] | None, lines: dict):
        self.result = result
        self.filename = filename
        self.default_section = default_section
        self.section_keys = section_keys
        self.chosen = chosen
        self.lines = lines
        self.category: str | None = None
        self.items: list[tuple[QuestionData, str]] = []
        self.derived: set[str] = set()
        self.notes: dict[str, list[str]] = {}   # what is not kept → where

    def note(self, what: str, where: str) -> None:
        self.notes.setdefault(what, []).append(where)

    def category_of(self, element: ET.Element) -> str:
        node = element.find("category")
        if node is None:
            return ""
        # <category><text>…</text></category>, or the text itself (older files).
        return (_raw(node) if node.find("text") is not None else "".join(node.itertext())).strip()

    def question(self, element: ET.Element) -> None:
        where = f"line {self.lines.get(element, 1)}"
        kind = (element.get("type") or "").strip()
        name = " ".join(_raw(element.find("name")).split())
        named = f" '{name}'" if name else ""
        if kind not in SUPPORTED:
            self.result.skipped.append(Skipped(where, "description" if kind == "description" else "other", name, kind))
            return
        errors_before = len(self.result.errors)
        prompt, text_format, embedded = _field(element, "questiontext", "html")
        general, _, general_files = _field(element, "generalfeedback", text_format)
        embedded += general_files
        notes: list[tuple[str, str]] = []
        tags = [" ".join(_raw(tag).split()) for tag in element.findall("tags/tag")]
        meta_entries = [(self.lines.get(element, 1), tag[len(QUIZAPP_TAG):]) for tag in tags
                        if tag.startswith(QUIZAPP_TAG)]
        meta = read_meta(meta_entries, self.result.errors)
        if kind == "truefalse":
            read = self.true_false(element, text_format, notes, where)
        else:
            read = self.multiple_choice(element, text_format, notes, where, named,
                                        all_or_nothing=meta.all_or_nothing)
        if read is None:
            return
        question_kind, choices, answer_files = read
        embedded += answer_files
        if len(self.result.errors) > errors_before:
            return
        if any(not tag.startswith(QUIZAPP_TAG) for tag in tags if tag):
            self.note("tags", where)
        grade = (element.findtext("defaultgrade") or "1").strip()
        try:
            if float(grade) != 1:
                self.note("defaultgrade", where)
        except ValueError:
            self.note("defaultgrade", where)
        if embedded:
            self.result.warnings.append(Message(where, "%(count)d image(s) or file(s) in the "
                                                "question%(named)s cannot be imported (this app keeps "
                                                "text only): check that the text still makes sense "
                                                "without them", count=embedded, named=named))
        explanation = "\n".join([general] * bool(general)
                                + [f"{choice}: {note}" for choice, note in notes if note])
        ours = bool(meta_entries)
        if ours:
            key = slugify(name) or hash_key("xml", prompt)
        else:
            self.derived.add(where)
            parts = [p for p in split_category(self.category or "") if p and p != "top"
                     and not (p.startswith("$") and p.endswith("$"))]
            key = path_key(self.filename, [*parts, name]) if name else hash_key("xml", prompt)
        section = place_category(self.category, self.default_section, self.section_keys, self.result,
                                 self.chosen)
        self.items.append((QuestionData(
            key=key, section=section, kind=question_kind, difficulty=meta.difficulty, status=meta.status,
            prompt=prompt, explanation=explanation, choices=choices, covers=meta.covers, origin=where,
            purpose=meta.purpose, excludes=meta.excludes, stated=frozenset(meta.stated)), where))

    def too_many_answers(self, answers: list[ET.Element]) -> Message:
        return Message(at_line(self.lines.get(answers[MAX_ANSWERS], 1)), "more than %(limit)d answers "
                       "in one question", limit=MAX_ANSWERS)

    def answers(self, element: ET.Element, text_format: str, notes, where: str):
        """(text, grade %, embedded files) of each answer with a text, or None after an
        error (too many answers, a grade that is not a number)."""
        answers = element.findall("answer")
        if len(answers) > MAX_ANSWERS:
            self.result.errors.append(self.too_many_answers(answers))
            return None
        read = []
        for answer in answers:
            fraction = _fraction(answer, self.lines, self.result)
            if fraction is None:
                return None
            answer_format = answer.get("format", text_format)
            text = _convert(_raw(answer), answer_format)
            embedded = len(answer.findall("file"))
            feedback, _, feedback_files = _field(answer, "feedback", text_format)
            if not text:
                continue   # Moodle leaves out an answer without text
            read.append((text, fraction, embedded + feedback_files))
            notes.append((text, feedback))
        return read

    def multiple_choice(self, element, text_format, notes, where, named, all_or_nothing=False):
        single = _trans_single(element.findtext("single", "true"))
        if not _trans_single(element.findtext("shuffleanswers", "true")):
            self.note("shuffleanswers", where)
        if (element.findtext("answernumbering") or "abc").strip() not in ("abc", "none"):
            self.note("answernumbering", where)
        answers = self.answers(element, text_format, notes, where)
        if answers is None:
            return None
        grades = [fraction for _, fraction, _ in answers]
        embedded = sum(files for _, _, files in answers)

        if single:
            full = [text for text, fraction, _ in answers if fraction >= 100]
            if not full:
                best = max(grades, default=0)
                self.result.skipped.append(Message(
                    where, "skipped the question%(named)s: no answer earns 100 %% (the best earns "
                    "%(best)s %%); Moodle wants one that does", named=named, best=_grade(best)))
                return None
            # Two answers earning 100 %: either alone is fully right (partial credit).
            choices = [ChoiceData(text, fraction >= 100) for text, fraction, _ in answers]
            classic = len(full) == 1 and all(fraction in (0, 100) for fraction in grades)
            question_kind = "single"
        else:
            positive = sum(fraction for fraction in grades if fraction > 0)
            if round(positive / 100, 2) != 1:
                self.result.skipped.append(Message(
                    where, "skipped the question%(named)s: the positive grades add up to %(sum)s %%, "
                    "not 100 %% (Moodle refuses such a several-answers question too)", named=named,
                    sum=_grade(positive)))
                return None
            right = [fraction for fraction in grades if fraction > 0]
            share = 100 / len(right)
            # Right answers sharing 100 % and -100 % for a wrong one: Moodle's weights (one
            # of two right earns 50 %), unless our export marked the question all or nothing.
            classic = (all_or_nothing and all(abs(fraction - share) < 0.01 for fraction in right)
                       and all(fraction <= -100 for fraction in grades if fraction <= 0))
            choices = [ChoiceData(text, fraction > 0) for text, fraction, _ in answers]
            question_kind = "multiple"
        if not classic:
            for choice, fraction in zip(choices, grades):
                choice.fraction = round(fraction / 100, 7)   # Moodle keeps 7 decimals
        return question_kind, choices, embedded

    def true_false(self, element, text_format, notes, where):
        answers = element.findall("answer")
        if len(answers) > MAX_ANSWERS:
            self.result.errors.append(self.too_many_answers(answers))
            return None
        value: bool | None = None
        feedback = {True: "", False: ""}
        embedded = 0
        old_style = False
        for n, answer in enumerate(answers):
            fraction = _fraction(answer, self.lines, self.result)
            if fraction is None:
                return None
            text = _raw(answer).strip()
            if text not in ("true", "false"):
                # Moodle's rule for old files: the first answer is "true", the next "false".
                old_style = True
                text = "true" if n == 0 else "false"
            says, _, files = _field(answer, "feedback", text_format)
            embedded += files
            feedback[text == "true"] = says
            value = fraction == 100 if text == "true" else fraction != 100
        if value is None:
            self.result.errors.append(Message(where, "a true/false question without its answers "
                                              "(<answer fraction=\"100\"><text>true</text></answer>)"))
            return None
        if old_style:
            self.result.warnings.append(Message(where, "the answers are not named 'true' and 'false': "
                                                "read as Moodle does, the first as true"))
        choices = [ChoiceData(TRUE_FALSE_TEXTS[0], value), ChoiceData(TRUE_FALSE_TEXTS[1], not value)]
        notes.extend([(TRUE_FALSE_TEXTS[0], feedback[True]), (TRUE_FALSE_TEXTS[1], feedback[False])])
        return "truefalse", choices, embedded

    def finish_notes(self) -> None:
        said = {
            "tags": Message("", "Moodle tags are not kept (this app has none; only 'quizapp:' tags "
                                "are read)"),
            "defaultgrade": Message("", "a mark other than 1 (<defaultgrade>) is not kept: every "
                                        "question counts the same here"),
            "shuffleanswers": Message("", "<shuffleanswers>false</shuffleanswers> is not kept: the "
                                          "round decides whether choices are shuffled"),
            "answernumbering": Message("", "<answernumbering> is not kept: choices are shown without "
                                           "Moodle's numbering style"),
        }
        for what, places in self.notes.items():
            self.result.warnings.append(Message(places[0], "%(note)s (%(count)d question(s): %(places)s)",
                                                note=said[what], count=len(places), places=Places(places)))


def parse(content: bytes, filename: str = "", default_section: str | None = None, *,
          section_keys: Collection[str] | None = None,
          category_sections: Mapping[str, str] | None = None) -> ParseResult:
    """Read a Moodle XML file (see the module docstring for the rules)."""
    result = ParseResult()
    text = decode_text(content, result)
    if text is None or result.errors:
        return result
    tree = _tree(text, result)
    if tree is None:
        return result
    root, lines = tree
    reader = _Reader(result, filename, default_section, section_keys, category_sections, lines)
    count = 0
    for element in root:
        if element.tag != "question":
            continue
        if (element.get("type") or "").strip() == "category":
            reader.category = reader.category_of(element)
            continue
        count += 1
        if count > MAX_QUESTIONS:
            result.errors.append(too_many_questions(f"line {lines.get(element, 1)}"))
            break
        reader.question(element)
    reader.finish_notes()
    collect(result, reader.items, section_keys, derived=reader.derived)
    return result


# ---------------------------------------------------------------- writing

USES_SECTION_PATHS = True


def can_dump(question: QuestionData) -> bool:
    return True


def _text(tag: str, text: str, attributes: str = "") -> str:
    return f"<{tag}{attributes}><text>{escape(text)}</text></{tag}>"


def _grades(question: QuestionData) -> list[float]:
    if any(choice.fraction is not None for choice in question.choices):
        return [100 * (choice.fraction if choice.fraction is not None else float(choice.correct))
                for choice in question.choices]
    if question.kind == "multiple":
        # Moodle adds the grades of the chosen answers: the right ones share 100 % and a
        # wrong one costs 100 %, so choosing everything earns nothing, as here.
        share = 100 / max(1, sum(choice.correct for choice in question.choices))
        return [share if choice.correct else -100 for choice in question.choices]
    return [100 if choice.correct else 0 for choice in question.choices]


def _question(question: QuestionData) -> list[str]:
    """One question, compact (our export of a bank at the question limit must stay within
    MAX_BYTES): what Moodle reads by default is left out — the general feedback and the
    answers take the question text's format, a mark of 1, numbering "abc"."""
    kind = "truefalse" if question.kind == "truefalse" else "multichoice"
    lines = [f'<question type="{kind}">', _text("name", question.key),
             _text("questiontext", question.prompt, ' format="plain_text"')]
    if question.explanation:
        lines.append(_text("generalfeedback", question.explanation))
    if kind == "truefalse":
        right = next((c.correct for c in question.choices if c.text == TRUE_FALSE_TEXTS[0]), True)
        lines += [f'<answer fraction="{100 if right else 0}"><text>true</text></answer>',
                  f'<answer fraction="{0 if right else 100}"><text>false</text></answer>']
    else:
        lines.append(f"<single>{'true' if question.kind == 'single' else 'false'}</single>"
                     "<shuffleanswers>true</shuffleanswers>")
        lines += [_text("answer", choice.text, f' fraction="{_grade(grade)}"')
                  for choice, grade in zip(question.choices, _grades(question))]
    # One tag, without commas (Moodle splits tags at commas): covers=a covers=b. Difficulty 1
    # and draft, the defaults, are left out (an empty "quizapp:" tag still marks ours).
    tokens = [token for token in meta_tokens(question)
              if token not in ("difficulty=1", "status=draft") and not token.startswith(("covers=", "excludes="))]
    tokens += [f"covers={item}" for item in question.covers] + [f"excludes={key}" for key in question.excludes]
    # Always one tag, so the reader knows the name is our key (a foreign "q1" is not).
    lines.append(f"<tags><tag><text>{escape(QUIZAPP_TAG + ' ' + ' '.join(tokens))}</text></tag></tags>")
    lines.append("</question>")
    return lines


def dump(questions: list[QuestionData], section_paths: Mapping[str, list[str]] | None = None) -> bytes:
    """The questions as Moodle XML: a category per section, `$course$/top/` then the
    section's path of titles (`section_paths`: key → titles from the top; the key itself
    when not given), then its questions."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             "<!-- Question bank exported by quizapp (Moodle XML). The 'quizapp:' tags keep "
             "difficulty, status, purpose, covered outline items and the questions never "
             "drawn together. -->",
             "<quiz>"]
    category = None
    for question in questions:
        if question.section != category:
            category = question.section
            path = list((section_paths or {}).get(category) or [category])
            lines.append('<question type="category">'
                         + _text("category", join_category(["$course$", "top", *path])) + "</question>")
        lines += _question(question)
    lines.append("</quiz>")
    return ("\n".join(lines) + "\n").encode("utf-8")

