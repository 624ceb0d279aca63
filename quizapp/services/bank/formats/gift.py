"""Moodle GIFT (https://docs.moodle.org/en/GIFT_format), read and written.

Reading, as the published format describes it:
- questions are separated by blank lines; lines starting with `//` are comments;
- `$CATEGORY: a/b/c` sets the category of the questions after it: its last component
  places them in the section whose key or title it is, diacritics and case folded
  ("$course$/Nghị quyết/Năm quan điểm của Đại hội" → viewpoints; see
  common.section_for_category); a category that names no section is listed in
  `unmatched_categories` and its questions go to the section picked for it in the
  preview (`category_sections`), else to the default section;
- `::title::` becomes the key when the question is written for this app (it has a
  `// quizapp:` comment, as our export writes); another title, even "q1", is prefixed
  with the file's name ("Câu 1" in nghi-quyet.gift → nghi-quyet-cau-1), so two files'
  "Câu 1" are two questions; without a title the key is "gift-" and 8 hex digits of the
  prompt's hash; a title or prompt repeated in one file gets "-2" and a warning;
- `[html]`, `[moodle]`, `[plain]`, `[markdown]` before a text are removed; html texts lose
  their tags and entities; answers default to the question text's format;
- escapes `\\~ \\= \\# \\{ \\} \\:` and `\\\\` give the character, `\\n` a line break; a raw line
  break inside a text is a space;
- answers in `{…}`: `=right` `~wrong`, weights `~%50%` (an answer is right when its weight
  is positive); one right answer written with `=` gives a single-choice question, several
  right answers or weights without `=` a multiple-choice one (as Moodle: no `=` means
  "several answers allowed"); `{T}` `{F}` `{TRUE}` `{FALSE}` give true/false;
- `####text` inside the braces is the general feedback and becomes the explanation;
  per-answer feedback `#text` is added to it as "answer: feedback" lines (for true/false
  `{T#shown if wrong#shown if right}`);
- text after the closing brace makes a missing-word question: the prompt gets "_____";
- essay `{}`, numerical `{#…}`, matching `{=a -> b}`, short answer (only `=` answers) and
  descriptions (no braces) are listed in `skipped` with their line, never imported.

This app's extra: a `// quizapp: difficulty=2 status=approved purpose=application
covers=a,b excludes=k1,k2 grading=all-or-nothing` comment in a question's lines keeps what
GIFT has no place for (Moodle ignores it; the last token marks a several-answers question
graded all or nothing, which Moodle's weights cannot say). Without it a question is an untagged draft of difficulty 1.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from bisect import bisect_right
from dataclasses import dataclass, field

from ..messages import Message, at_line
from ..schema import CREDIT_PROBLEMS, TRUE_FALSE_TEXTS, ChoiceData, QuestionData, credit_to_fraction, \
    fraction_to_credit
from ... import grading
from .common import MAX_ANSWERS, MAX_QUESTIONS, ParseResult, Skipped, collect, decode_text, hash_key, \
    html_to_text, meta_tokens, place_category, read_meta, slugify, source_key, too_many_questions

SPECIAL = "~=#{}:"
MARKER_RE = re.compile(r"\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
META_RE = re.compile(r"^//\s*quizapp:(.*)$")
WEIGHT_RE = re.compile(r"\s*%(-?\d+(?:[.,]\d+)?)%")
CATEGORY = "$CATEGORY:"
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
BLANK = "_____"


@dataclass
class _Block:
    category: str | None
    lines: list[tuple[int, str]] = field(default_factory=list)
    meta: list[tuple[int, str]] = field(default_factory=list)


class _Source:
    """One question's lines (stripped, joined by "\\n"), knowing which characters are
    escaped and the file line of every character."""

    def __init__(self, lines: list[tuple[int, str]]):
        self.text = "\n".join(line for _, line in lines)
        self.starts: list[int] = []
        self.numbers: list[int] = []
        offset = 0
        for number, line in lines:
            self.starts.append(offset)
            self.numbers.append(number)
            offset += len(line) + 1
        self.active = [True] * len(self.text)
        i = 0
        while i < len(self.text):
            if self.text[i] == "\\" and i + 1 < len(self.text) and self.text[i + 1] != "\n":
                self.active[i] = self.active[i + 1] = False
                i += 2
            else:
                i += 1

    def line_of(self, index: int) -> int:
        return self.numbers[max(0, bisect_right(self.starts, index) - 1)]

    def find(self, token: str, start: int, end: int | None = None) -> int:
        """The first unescaped `token` in text[start:end], or -1."""
        end = len(self.text) if end is None else end
        i = self.text.find(token, start, end)
        while i != -1 and not all(self.active[i:i + len(token)]):
            i = self.text.find(token, i + 1, end)
        return i


def unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following in SPECIAL or following == "\\":
                out.append(following)
                i += 2
                continue
            if following == "n":
                out.append("\n")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split_marker(raw: str, default: str) -> tuple[str, str]:
    raw = raw.lstrip()
    match = MARKER_RE.match(raw)
    if match:
        return match.group(1).lower(), raw[match.end():]
    return default, raw


def _clean(raw: str, text_format: str) -> str:
    if text_format == "html":
        # A raw line break is a space in HTML anyway, but inside <pre> it is kept.
        return html_to_text(unescape(raw))
    return unescape(raw.replace("\n", " ")).strip()


def _clean_marked(raw: str, default: str) -> str:
    """A text that may start with its own format marker."""
    text_format, text = _split_marker(raw, default)
    return _clean(text, text_format)


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    category: str | None = None
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            if current is not None:
                blocks.append(current)
                current = None
            continue
        if line.startswith("//"):
            match = META_RE.match(line)
            if match:
                current = current or _Block(category)
                current.meta.append((number, match.group(1).strip()))
            continue
        if line.startswith(CATEGORY):
            if current is not None and current.lines:
                blocks.append(current)
                current = None
            category = line[len(CATEGORY):].strip()
            if current is not None:
                current.category = category
            continue
        current = current or _Block(category)
        current.lines.append((number, line))
    if current is not None:
        blocks.append(current)
    return [b for b in blocks if b.lines]


def _read_question(block: _Block, result: ParseResult, default_section: str | None,
                   section_keys: Collection[str] | None, filename: str, derived: set[str],
                   chosen: Mapping[str, str] | None = None) -> tuple[QuestionData, str] | None:
    src = _Source(block.lines)
    text = src.text
    where = f"line {block.lines[0][0]}"
    errors_before = len(result.errors)

    def fault(template: str, at: int, **params) -> None:
        """An error on the line of the character at index `at`."""
        result.errors.append(Message(at_line(src.line_of(at)), template, **params))

    # ---- title, then the answer block's braces
    pos, title = 0, ""
    if text.startswith("::"):
        end = src.find("::", 2)
        if end == -1:
            fault("the question title '::…' is not closed with '::'", at=0)
            return None
        title = _clean(text[2:end], "plain")
        pos = end + 2
    named = f" '{title}'" if title else ""
    opening, closing = src.find("{", pos), src.find("}", pos)
    if opening == -1:
        if closing != -1:
            fault("'}' without a '{' before it", at=closing)
        else:
            result.skipped.append(Skipped(where, "description", title))
        return None
    if closing != -1 and closing < opening:
        fault("'}' without a '{' before it", at=closing)
        return None
    closing = src.find("}", opening + 1)
    if closing == -1:
        fault("'{' is never closed (a question ends at a blank line)", at=opening)
        return None
    inner = src.find("{", opening + 1, closing)
    if inner != -1:
        fault("'{' inside the answer block opened on line %(opened)d: a '}' is missing, or write "
              "\\{ for a brace in the text", at=inner, opened=src.line_of(opening))
        return None
    again_open, again_close = src.find("{", closing + 1), src.find("}", closing + 1)
    if again_close != -1 and (again_open == -1 or again_close < again_open):
        fault("'}' without a '{' before it", at=again_close)
        return None
    if again_open != -1:
        fault("a second answer block: separate questions with a blank line", at=again_open)
        return None

    # ---- the prompt (a missing-word question has text after the block)
    text_format, before = _split_marker(text[pos:opening], "moodle")
    after = text[closing + 1:]
    prompt = _clean(before + (BLANK + after if after.strip() else ""), text_format)

    # ---- the answers
    start, end = opening + 1, closing
    general = ""
    feedback_at = src.find("####", start, end)
    if feedback_at != -1:
        general = _clean_marked(text[feedback_at + 4:end], text_format)
        end = feedback_at
    body = text[start:end]
    first = start + len(body) - len(body.lstrip())

    def skip(kind: str) -> None:
        result.skipped.append(Skipped(where, kind, title))

    if not body.strip():
        skip("essay")
        return None
    if text[first] == "#" and src.active[first]:
        skip("numerical")
        return None
    notes: list[tuple[str, str]] = []  # (choice text, its feedback)
    meta = read_meta(block.meta, result.errors)
    if src.find("~", start, end) != -1:
        kind, choices = _multiple_choice(src, start, end, text_format, notes, fault,
                                         all_or_nothing=meta.all_or_nothing)
        if choices is None:
            return None
    elif src.find("=", start, end) != -1 and src.find("->", start, end) != -1:
        skip("matching")
        return None
    else:
        hash_at = src.find("#", start, end)
        head = text[start:hash_at if hash_at != -1 else end].strip()
        if head.upper() in TRUE_FALSE:
            kind = "truefalse"
            value = TRUE_FALSE[head.upper()]
            choices = [ChoiceData(TRUE_FALSE_TEXTS[0], value), ChoiceData(TRUE_FALSE_TEXTS[1], not value)]
            if hash_at != -1:
                second = src.find("#", hash_at + 1, end)
                wrong = _clean_marked(text[hash_at + 1:second if second != -1 else end], text_format)
                right = _clean_marked(text[second + 1:end], text_format) if second != -1 else ""
                notes = [(c.text, right if c.correct else wrong) for c in choices]
        elif src.find("=", start, end) != -1:
            skip("short-answer")
            return None
        else:
            fault("cannot tell the question kind of '{%(body)s}': write =right ~wrong answers, or "
                  "T / F", at=opening, body=body.strip())
            return None

    if len(result.errors) > errors_before:
        return None
    explanation = "\n".join([general] * bool(general)
                            + [f"{choice}: {note}" for choice, note in notes if note])
    # A title names the key only when the question says it is written for this app: a
    # '// quizapp:' comment (our export writes one for every question). Any other title,
    # even one that looks like a key ("q1"), is only unique in its file (common.source_key),
    # so two foreign files' "q1" are two questions.
    ours = bool(block.meta)
    key = ((slugify(title) if ours else source_key(filename, title)) if title else "") \
        or hash_key("gift", prompt)
    if not (ours and title):
        derived.add(where)
    section = place_category(block.category, default_section, section_keys, result, chosen)
    return QuestionData(key=key, section=section, kind=kind,
                        difficulty=meta.difficulty, status=meta.status, prompt=prompt,
                        explanation=explanation, choices=choices, covers=meta.covers,
                        origin=where, purpose=meta.purpose, excludes=meta.excludes,
                        stated=frozenset(meta.stated)), where


def _multiple_choice(src: _Source, start: int, end: int, text_format: str,
                     notes: list[tuple[str, str]], fault, *, all_or_nothing: bool = False
                     ) -> tuple[str, list[ChoiceData] | None]:
    """The kind and choices of a `{=… ~…}` block, as Moodle reads it: with an `=` answer
    it is a one-answer question; without, a several-answers question whose right answers
    are those with a positive weight. Weights other than the classic ones are kept as
    each choice's fraction (partial credit, graded as Moodle does by services.grading);
    weights that cannot grade the kind (no 100 % answer, positives not adding up to 100 %)
    are an error naming the line. Several answers sharing 100 % with -100 % for each wrong
    one are this app's all-or-nothing grading only with the `grading=all-or-nothing`
    token our export writes; from anyone else they are Moodle's weights (one right answer
    of two earns 50 %)."""
    text = src.text
    marks = [i for i in range(start, end) if text[i] in "~=" and src.active[i]]
    if len(marks) > MAX_ANSWERS:
        fault("more than %(limit)d answers in one question", at=marks[MAX_ANSWERS], limit=MAX_ANSWERS)
        return "", None
    lead = text[start:marks[0]]
    if lead.strip():
        fault("'%(text)s' before the first answer: answers start with '=' or '~'",
              at=start + len(lead) - len(lead.lstrip()), text=lead.strip())
        return "", None
    choices: list[ChoiceData] = []
    weights: list[float] = []
    equals = 0
    for n, mark_at in enumerate(marks):
        stop = marks[n + 1] if n + 1 < len(marks) else end
        mark = text[mark_at]
        equals += mark == "="
        weight = 100.0 if mark == "=" else 0.0
        begin = mark_at + 1
        match = WEIGHT_RE.match(text, begin, stop)
        if match:
            weight = float(match.group(1).replace(",", "."))
            if not -100 <= weight <= 100:
                fault("answer weight %(weight)s%% is outside -100%%…100%%", at=mark_at, weight=match.group(1))
                return "", None
            begin = match.end()
        elif text[begin:stop].lstrip().startswith("%"):
            fault("an answer weight is a number between '%' signs, e.g. ~%50%", at=mark_at)
            return "", None
        note_at = src.find("#", begin, stop)
        answer_format, raw = _split_marker(text[begin:note_at if note_at != -1 else stop], text_format)
        answer = _clean(raw, answer_format)
        if not answer:
            fault("an answer has no text", at=mark_at)
            return "", None
        weights.append(weight)
        choices.append(ChoiceData(answer, weight > 0))
        if note_at != -1:
            notes.append((answer, _clean_marked(text[note_at + 1:stop], answer_format)))
    # Moodle: with an '=' answer the question takes one answer ('=' is 100 %, '~' 0 %
    # unless weighted); with only '~' answers it takes several and the weights add up.
    kind = "single" if equals else "multiple"
    full = [c for c, w in zip(choices, weights) if w >= 100]
    right = [(c, w) for c, w in zip(choices, weights) if w > 0]
    classic = (len(full) == 1 and all(w in (0, 100) for w in weights) if equals
               else not right or (all_or_nothing and _is_equal_split(right, weights)))
    for choice, weight in zip(choices, weights):
        choice.fraction = None if classic else credit_to_fraction(_weight(weight))
        choice.correct = grading.is_correct_choice(kind, choice.fraction, weight > 0)
    if not classic:
        problem = grading.check_fractions(kind, [c.fraction for c in choices])
        if problem:
            fault("%(problem)s (%(weights)s)", at=start, problem=CREDIT_PROBLEMS[problem],
                  weights=", ".join(f"{c.text} {_weight(w)}%" for c, w in zip(choices, weights)))
            return "", None
    return kind, choices


def _is_equal_split(right: list[tuple[ChoiceData, float]], weights: list[float]) -> bool:
    """Weights as this app writes a classic several-answers question: the right answers
    share 100 % equally and every wrong one costs -100 % (all or nothing)."""
    share = 100 / len(right)
    return (all(abs(w - share) < 0.01 for _, w in right)
            and all(w <= -100 for w in weights if w <= 0))


def parse(content: bytes, filename: str = "", default_section: str | None = None, *,
          section_keys: Collection[str] | None = None,
          category_sections: Mapping[str, str] | None = None) -> ParseResult:
    """Read a GIFT file (see the module docstring for the rules). `category_sections`
    places a category's questions in the section chosen for it."""
    result = ParseResult()
    text = decode_text(content, result)
    if text is None:
        return result
    items = []
    derived: set[str] = set()
    for block in _blocks(text):
        if len(items) == MAX_QUESTIONS:
            result.errors.append(too_many_questions(f"line {block.lines[0][0]}"))
            break
        read = _read_question(block, result, default_section, section_keys, filename, derived,
                              category_sections)
        if read is not None:
            items.append(read)
    collect(result, items, section_keys, derived=derived)
    return result


# ---------------------------------------------------------------- writing

def can_dump(question: QuestionData) -> bool:
    return True


def escape(text: str) -> str:
    out = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        if ch == "\\":
            out.append("\\\\")
        elif ch in SPECIAL:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        else:
            out.append(ch)
    escaped = "".join(out)
    # A text that itself starts like a format marker keeps it: the marker read is [plain].
    return "[plain]" + escaped if MARKER_RE.match(escaped) else escaped


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _answers(question: QuestionData) -> list[str]:
    if question.kind == "truefalse":
        right = next((c.correct for c in question.choices if c.text == TRUE_FALSE_TEXTS[0]), True)
        return ["TRUE" if right else "FALSE"]
    lines = []
    if any(c.fraction is not None for c in question.choices):
        # Moodle reads '=' as "one answer": a one-answer question writes its full-credit
        # answers with '=', a several-answers one has only weighted '~'.
        many = grading.selects_many(question.kind)
        for choice in question.choices:
            fraction = choice.fraction or 0
            mark = "=" if not many and grading.is_correct_choice(question.kind, fraction, False) else "~"
            weight = "" if mark == "=" else f"%{fraction_to_credit(fraction)}%"
            lines.append(f"{mark}{weight}{escape(choice.text)}")
    elif question.kind == "multiple":
        share = _weight(100 / max(1, sum(c.correct for c in question.choices)))
        for choice in question.choices:
            lines.append(f"~%{share if choice.correct else '-100'}%{escape(choice.text)}")
    else:
        for choice in question.choices:
            text = escape(choice.text)
            # A text starting with '%' would read as a weight: write the weight out.
            weight = ("%100%" if choice.correct else "%0%") if text.startswith("%") else ""
            lines.append(f"{'=' if choice.correct else '~'}{weight}{text}")
    return lines


def dump(questions: list[QuestionData]) -> bytes:
    """The questions as GIFT: key as ::title::, section as $CATEGORY, explanation as
    ####general feedback, and a '// quizapp:' comment for difficulty, status, purpose,
    covered items and exclusions."""
    lines = ["// Question bank exported by quizapp (Moodle GIFT). The '// quizapp:' comments",
             "// keep difficulty, status, purpose, covered outline items and the questions",
             "// never drawn together; Moodle ignores them.", ""]
    category = None
    for question in questions:
        if question.section != category:
            category = question.section
            lines += [f"{CATEGORY} $course$/top/{category}", ""]
        lines.append(f"// quizapp: {' '.join(meta_tokens(question))}")
        head = f"::{question.key}:: {escape(question.prompt)} {{"
        answers = _answers(question)
        feedback = [f"####{escape(question.explanation)}"] if question.explanation else []
        if question.kind == "truefalse" and not feedback:
            lines.append(f"{head}{answers[0]}}}")
        elif question.kind == "truefalse":
            lines += [head + answers[0], *feedback, "}"]
        else:
            lines += [head, *answers, *feedback, "}"]
        lines.append("")
    return "\n".join(lines).encode("utf-8")
