"""The bank linter: what makes a question unfit for a contest even when its key is right.

`lint(questions, forbidden)` returns findings, one per problem, for the questions that can
be drawn (not retired). The rules (questions/README.md, "Lint"):

- ``positional``: a prompt or explanation points at an option by its place ("phương án
  cuối", "đáp án B", "lần lượt", "câu trên"); choices are shuffled, so it points wrong.
- ``page-hint``: a multiple-choice prompt says "(chọn tất cả ý đúng)", which the page shows.
- ``forbidden``: a prompt or choice holds a string of the outline's contradictions list.
- ``numeric-overlap``: a wrong option with a one-sided bound ("trên 90%") that is also
  true of the key ("trên 92%"), or the reverse.
- ``duplicate-prompt``: two questions ask the same thing, word for word.
- ``giveaway``: a single-choice question's key (a figure, or a phrase of three words or
  more) stands in another question of the same section's prompt (or in a true/false
  statement judged true) — unless one of them lists the other under `excludes`, which
  the contest draw respects (never both in one attempt).
- ``untagged``: a question with no purpose (bundled bank only, see `lint(require_purpose=)`).

Every finding is an error for `flask --app quizapp bank lint`; the editor and the import
preview refuse an approved question with a finding about itself and show the rest
(pairs, drafts) as warnings. Pure functions: nothing here touches the database.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from .. import grading
from .schema import QuestionData

CONTRADICTIONS_FILE = "contradictions.txt"
# Rules about one question alone, as opposed to a pair.
SINGLE_RULES = ("positional", "page-hint", "forbidden", "numeric-overlap", "untagged")
PAIR_RULES = ("giveaway", "duplicate-prompt")

_POSITIONAL = re.compile(
    r"\b(?:phương án|đáp án|lựa chọn|ý)\s+(?:cuối(?: cùng)?|đầu(?: tiên)?|thứ (?:nhất|hai|ba|tư|năm)"
    r"|trên cùng|dưới cùng|[A-F](?![\w]))"
    r"|\b(?:hai|ba|bốn) (?:phương án|đáp án|lựa chọn) (?:đầu|cuối|trên|dưới)"
    r"|\blần lượt\b"
    r"|\bcâu (?:hỏi )?(?:trên|trước|dưới|sau|kế tiếp|liền trước)\b"
    r"|\b(?:phương án|đáp án) (?:ở )?(?:trên|dưới)\b",
    re.IGNORECASE)
_PAGE_HINT = re.compile(
    r"\(\s*(?:hãy\s+)?chọn\b[^)]*\)|\b(?:hãy\s+)?chọn (?:tất cả|mọi|các|những|nhiều) (?:ý|đáp án|phương án|câu)"
    r"[^.?!]*đúng", re.IGNORECASE)
_DASHES = "‐‑‒–—−"
_NUMBER = r"\d+(?:[.,]\d+)*"
_TOKEN = re.compile(rf"(?<![\d.,/]){_NUMBER}(?:\s*%)?(?:/\d+)?(?![\d/])")
_BOUND = re.compile(
    rf"^(?P<q>trên|hơn|vượt|dưới|chưa đến|không quá|tối đa|ít nhất|tối thiểu|không dưới|từ)?\s*"
    rf"(?P<a>{_NUMBER})\s*(?P<u1>%?)\s*(?:-\s*(?P<b>{_NUMBER})\s*(?P<u2>%?))?\s*(?P<rest>(?:\S+\s*){{0,3}})$")
_OPEN_ABOVE = {"trên", "hơn", "vượt"}
_CLOSED_ABOVE = {"ít nhất", "tối thiểu", "không dưới"}
_OPEN_BELOW = {"dưới", "chưa đến"}
_CLOSED_BELOW = {"không quá", "tối đa"}


@dataclass(frozen=True)
class Finding:
    rule: str
    key: str
    origin: str
    message: str
    other: str = ""  # the other question of a pair rule

    def __str__(self) -> str:
        return f"{self.origin}: [{self.rule}] {self.key}: {self.message}"


def norm(text: str) -> str:
    """How texts are compared: NFC, case-folded, any dash as '-', one space, no spaces
    around '-' and '/'."""
    text = unicodedata.normalize("NFC", text).casefold()
    for dash in _DASHES:
        text = text.replace(dash, "-")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([-/])\s*", r"\1", text).strip()


def read_forbidden(path: str | Path) -> list[str]:
    """The strings of a contradictions file: one per line; '#' starts a comment line."""
    path = Path(path)
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def bank_forbidden(bank_path: str | Path) -> list[str]:
    """The forbidden strings that ship with a bank directory (or a file's directory)."""
    path = Path(bank_path)
    folder = path if path.is_dir() else path.parent
    for candidate in (folder / CONTRADICTIONS_FILE, folder.parent / CONTRADICTIONS_FILE):
        if candidate.is_file():
            return read_forbidden(candidate)
    return []


# ---------------------------------------------------------------- one question

def _asserted(question: QuestionData) -> list[str]:
    """Texts the question shows as true to whoever reads it: a question's stem, or a
    true/false statement judged true (a false one asserts nothing)."""
    if grading.is_fixed(question.kind):
        return [question.prompt] if question.choices and question.choices[0].correct else []
    return [question.prompt]


def _interval(text: str) -> tuple[float, bool, float, bool, str] | None:
    """A short numeric choice as (low, low_open, high, high_open, unit), or None."""
    match = _BOUND.match(norm(text).replace("-", " - ").replace("  ", " ").strip())
    if not match:
        return None
    def value(raw: str) -> float:
        return float(raw.replace(".", "").replace(",", "."))
    a = value(match["a"])
    unit = (match["u1"] or match["u2"] or "") + " " + match["rest"].strip()
    qualifier = match["q"] or ""
    if match["b"]:
        return a, False, value(match["b"]), False, unit.strip()
    if qualifier in _OPEN_ABOVE:
        return a, True, float("inf"), True, unit.strip()
    if qualifier in _CLOSED_ABOVE or qualifier == "từ" and "trở lên" in unit:
        return a, False, float("inf"), True, unit.replace("trở lên", "").strip()
    if qualifier in _OPEN_BELOW:
        return float("-inf"), True, a, True, unit.strip()
    if qualifier in _CLOSED_BELOW:
        return float("-inf"), True, a, False, unit.strip()
    return a, False, a, False, unit.strip()


def _one_sided(interval) -> bool:
    return interval[0] == float("-inf") or interval[2] == float("inf")


def _intersect(x, y) -> bool:
    """Whether two intervals (low, low_open, high, high_open, unit) share a value."""
    low, high = max(x[0], y[0]), min(x[2], y[2])
    if low != high:
        return low < high

    def holds(span) -> bool:
        return not ((span[0] == low and span[1]) or (span[2] == low and span[3]))
    return holds(x) and holds(y)


def lint_question(question: QuestionData, forbidden: list[str] = (),
                  require_purpose: bool = False) -> list[Finding]:
    """The findings about one question alone (SINGLE_RULES)."""
    out: list[Finding] = []

    def add(rule: str, message: str) -> None:
        out.append(Finding(rule, question.key, question.origin, message))

    if not grading.is_fixed(question.kind):
        match = _POSITIONAL.search(question.prompt)
        if match:
            add("positional", _("the prompt points at an option by its place (“%(text)s”), but "
                                "choices are shuffled: name the option instead", text=match.group(0)))
        match = _POSITIONAL.search(question.explanation)
        if match:
            add("positional", _("the explanation points at an option by its place (“%(text)s”), "
                                "but choices are shuffled: name the option instead", text=match.group(0)))
    if grading.selects_many(question.kind):
        match = _PAGE_HINT.search(question.prompt)
        if match:
            add("page-hint", _("the prompt says “%(text)s”, which the page already shows for "
                               "a question with several right answers", text=match.group(0)))
    texts = [question.prompt] + [c.text for c in question.choices]
    for needle in forbidden:
        folded = norm(needle)
        if folded and any(folded in norm(t) for t in texts):
            add("forbidden", _("the prompt or a choice holds “%(text)s”, a contradicted spot of "
                               "the outline (contradictions.txt)", text=needle))
    keys = [c for c in question.choices if c.correct]
    if not grading.is_fixed(question.kind):
        spans = [(c, _interval(c.text)) for c in question.choices]
        for key in keys:
            key_span = _interval(key.text)
            if key_span is None:
                continue
            for choice, span in spans:
                if choice.correct or span is None or span[4] != key_span[4]:
                    continue
                if (_one_sided(span) or _one_sided(key_span)) and _intersect(span, key_span):
                    add("numeric-overlap", _("the wrong option “%(wrong)s” overlaps the key "
                                             "“%(key)s”: a member could call both true",
                                             wrong=choice.text, key=key.text))
    if require_purpose and not question.purpose:
        add("untagged", _("no purpose: say whether it tests meaning, application, "
                          "distinguish, target or recall"))
    return out


# ---------------------------------------------------------------- pairs

def _distinctive_numbers(text: str) -> set[str]:
    """Figures that identify a fact: with a decimal, %, '/', or two digits and more, but
    not a year (1900-2100) nor a line reference."""
    out = set()
    for raw in _TOKEN.findall(norm(text)):
        token = raw.replace(" ", "")
        digits = re.sub(r"\D", "", token)
        plain = token.isdigit()
        if plain and (len(digits) < 2 or 1900 <= int(token) <= 2100):
            continue
        out.add(token)
    return out


def _phrase(text: str) -> str:
    return norm(text).strip(" .;:“”\"'«»()")


def gives_away(asker: QuestionData, teller: QuestionData) -> str | None:
    """The text of `asker`'s key that `teller` states, or None. Only single-choice askers:
    a multiple-choice key is a set, a true/false key a word."""
    if asker.kind != "single" or asker.key == teller.key:
        return None
    key = next((c.text for c in asker.choices if c.correct), "")
    told = " ".join(norm(t) for t in _asserted(teller))
    if not key or not told:
        return None
    numbers = _distinctive_numbers(key)
    if numbers:
        told_numbers = {t.replace(" ", "") for t in _TOKEN.findall(told)}
        return key if numbers <= told_numbers else None
    phrase = _phrase(key)
    if len(phrase.split()) >= 3 and phrase in told:
        return key
    return None


def lint_pairs(questions: list[QuestionData]) -> list[Finding]:
    """Giveaways within a section and duplicated prompts (PAIR_RULES)."""
    out: list[Finding] = []
    live = [q for q in questions if q.status != "retired"]
    by_section: dict[str, list[QuestionData]] = {}
    for q in live:
        by_section.setdefault(q.section, []).append(q)
    for group in by_section.values():
        for asker in group:
            for teller in group:
                if teller.key in asker.excludes or asker.key in teller.excludes:
                    continue
                told = gives_away(asker, teller)
                if told:
                    out.append(Finding("giveaway", asker.key, asker.origin, _(
                        "its key “%(key)s” is stated by %(other)s in the same section: rewrite "
                        "one, or list it under 'excludes' so no attempt draws both",
                        key=told, other=teller.key), other=teller.key))
    seen: dict[str, QuestionData] = {}
    for q in live:
        folded = " ".join(re.findall(r"\w+", norm(q.prompt)))
        if folded in seen:
            out.append(Finding("duplicate-prompt", q.key, q.origin, _(
                "the same prompt as %(other)s", other=seen[folded].key), other=seen[folded].key))
        else:
            seen[folded] = q
    return out


def lint(questions: list[QuestionData], forbidden: list[str] = (),
         require_purpose: bool = False) -> list[Finding]:
    """Every finding for the questions that can be drawn (status other than retired)."""
    out: list[Finding] = []
    for question in questions:
        if question.status != "retired":
            out.extend(lint_question(question, forbidden, require_purpose))
    return out + lint_pairs(questions)


def lint_against(candidates: list[QuestionData], bank: list[QuestionData],
                 forbidden: list[str] = ()) -> tuple[list[Finding], list[Finding]]:
    """(errors, warnings) for questions about to be saved or imported into `bank` (the
    current questions; a candidate replaces the one with its key). A finding about an
    approved candidate alone is an error; pairs and drafts' findings are warnings."""
    keys = {c.key for c in candidates}
    merged = [q for q in bank if q.key not in keys] + list(candidates)
    errors: list[Finding] = []
    warnings: list[Finding] = []
    for question in candidates:
        if question.status == "retired":
            continue
        for finding in lint_question(question, forbidden):
            (errors if question.status == "approved" else warnings).append(finding)
    warnings.extend(f for f in lint_pairs(merged) if f.key in keys or f.other in keys)
    return errors, warnings
