"""The organizers' question editor: search, edit with versioning, status changes,
duplicates, coverage and quality flags. Every change is logged (services.people.audit)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Attempt, AttemptQuestion, AuditLog, Question, Round, Section, User
from ...models.attempts import FINISHED
from ..attempts import section_subtree_ids
from ..contests import point_biserial, round_state
from .. import grading
from ..errors import DomainError, NotFound
from ..people import audit
from . import lint as bank_lint
from .schema import KEY_RE, PURPOSES, ChoiceData, QuestionData
from .store import ImportResult, current_data, fold, save_question, to_data

PAGE_SIZE = 25
TRANSITIONS = {"draft": {"approved", "retired"}, "approved": {"retired", "draft"},
               "retired": {"draft"}}
PURPOSE_COLUMNS = (*PURPOSES, "")
FLAG_NAMES = ("no_explanation", "few_choices", "duplicate_prompt", "too_easy", "too_hard",
              "negative_discrimination")


def get_current(key: str) -> Question:
    question = db.session.execute(select(Question).where(
        Question.key == key, Question.is_current.is_(True))).scalar_one_or_none()
    if question is None:
        raise NotFound(_("Question not found."))
    return question


def search(text: str = "", section: str = "", kind: str = "", status: str = "", flag: str = "",
           page: int = 1) -> tuple[list[Question], int]:
    """Current questions matching every given filter. `text` ignores Vietnamese
    diacritics and case ("quan diem" finds "Quan điểm")."""
    conditions = [Question.is_current.is_(True)]
    for word in fold(text).split()[:8]:
        conditions.append(Question.search_text.contains(word, autoescape=True))
    if section:
        conditions.append(Question.section_id.in_(section_subtree_ids([section])))
    if kind:
        conditions.append(Question.kind == kind)
    if status:
        conditions.append(Question.status == status)
    if flag in FLAG_NAMES:
        conditions.append(or_(Question.flags == flag, Question.flags.startswith(flag + ","),
                              Question.flags.endswith("," + flag), Question.flags.contains("," + flag + ",")))
    where = and_(*conditions)
    total = db.session.scalar(select(func.count()).select_from(Question).where(where)) or 0
    rows = db.session.execute(select(Question).join(Section).where(where)
                              .order_by(Section.position, Question.key)
                              .offset((max(1, page) - 1) * PAGE_SIZE).limit(PAGE_SIZE)).scalars().all()
    return list(rows), total


def validate(data: QuestionData) -> list[str]:
    """Problems that stop a question from being saved (shown on the form)."""
    errors = []
    if not KEY_RE.match(data.key or ""):
        errors.append(_("The key uses lowercase letters a–z, digits and '-'."))
    if not data.prompt.strip():
        errors.append(_("The question text is empty."))
    spec = grading.REGISTRY.get(data.kind)
    if spec is None:
        errors.append(_("Unknown kind."))
    texts = [c.text.strip() for c in data.choices]
    if len(texts) < 2:
        errors.append(_("Give at least two choices."))
    if len(set(texts)) != len(texts):
        errors.append(_("Two choices have the same text."))
    right = sum(c.correct for c in data.choices)
    weighted = any(c.fraction is not None for c in data.choices)
    if spec is not None and weighted and grading.check_fractions(data.kind, [c.fraction for c in data.choices]):
        errors.append(_("The partial credits do not fit this kind: a one-answer question needs an "
                        "answer worth 100 %, the right answers of a several-answers question add up "
                        "to 100 %."))
    elif spec is not None and not weighted and not spec.selects_many and right != 1:
        errors.append(_("Mark exactly one right answer."))
    elif spec is not None and spec.selects_many and right < 1:
        errors.append(_("Mark at least one right answer."))
    if data.status == "approved" and not data.explanation.strip():
        errors.append(_("An approved question needs an explanation quoting the outline."))
    if data.purpose not in ("", *PURPOSES):
        errors.append(_("Unknown purpose."))
    if any(not KEY_RE.match(k) for k in data.excludes):
        errors.append(_("Questions kept apart are listed by their keys, separated by commas."))
    return errors


def forbidden_strings() -> list[str]:
    """The contradicted spots of the bundled outline (questions/contradictions.txt)."""
    return bank_lint.bank_forbidden(current_app.config["BANK_PATH"])


def lint(data: QuestionData) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the bank linter for a question about to be saved: findings
    about an approved question alone are errors; giveaway pairs, duplicates and a
    draft's findings are warnings."""
    errors, warnings = bank_lint.lint_against([data], current_data(exclude_key=data.key),
                                              forbidden_strings())
    return [_("Lint: %(finding)s", finding=f.message) for f in errors], \
        [_("Lint: %(finding)s", finding=f.message) for f in warnings]


def save(actor: User, data: QuestionData, original_key: str | None = None) -> Question:
    """Create (original_key None) or edit a question. Editing one that attempts have used
    adds a new version; past attempts keep the old one. Raises DomainError listing the
    problems, the linter's included for an approved question (see `lint`)."""
    errors = validate(data)
    if not errors and data.status == "approved":
        errors.extend(lint(data)[0])
    section = db.session.execute(select(Section).where(Section.key == data.section)).scalar_one_or_none()
    if section is None:
        errors.append(_("Choose a section."))
    existing = None
    if original_key is None:
        if db.session.execute(select(Question.id).where(Question.key == data.key)).first():
            errors.append(_("The key %(key)s is already used.", key=data.key))
    else:
        existing = get_current(original_key)
        if data.key != original_key:
            errors.append(_("A question's key cannot change; duplicate it instead."))
        elif data.status != existing.status:
            check_transition(existing.status, data.status)
    if errors:
        raise DomainError(" ".join(errors))
    before = to_data(existing) if existing is not None else None
    used = existing is not None and db.session.execute(
        select(AttemptQuestion.id).where(AttemptQuestion.question_id == existing.id).limit(1)).first() is not None
    result = ImportResult()
    question = save_question(data, section, existing, used, result)
    db.session.flush()
    refresh_static_flags(question)
    action = "question.create" if existing is None else (
        "question.new_version" if result.new_versions else "question.edit")
    audit.log(actor, action, f"question:{data.key}", {
        "version": question.version,
        "before": _summary(before) if before else None, "after": _summary(data)})
    return question


def _summary(data: QuestionData) -> dict:
    return {"section": data.section, "kind": data.kind, "status": data.status, "purpose": data.purpose,
            "reserve": bool(data.reserve),
            "difficulty": data.difficulty, "prompt": data.prompt,
            "choices": [[c.text, c.correct] for c in data.choices], "explanation": data.explanation}


def status_label(status: str) -> str:
    return {"draft": _("Draft"), "approved": _("Approved"), "retired": _("Retired")}.get(status, status)


def check_transition(old: str, new: str) -> None:
    if new not in TRANSITIONS.get(old, set()):
        raise DomainError(_("A question in status “%(old)s” cannot move to “%(new)s”.",
                            old=status_label(old), new=status_label(new)))


def set_status(actor: User, question: Question, status: str) -> None:
    """draft → approved → retired (and back to draft to rework). Only approved questions
    are drawn into quizzes."""
    check_transition(question.status, status)
    if status == "approved":
        problems = validate(_with_status(question, status))
        problems = problems or lint(_with_status(question, status))[0]
        if problems:
            raise DomainError(" ".join(problems))
    old = question.status
    question.status = status
    audit.log(actor, "question.status", f"question:{question.key}", {"from": old, "to": status})
    db.session.flush()


def _with_status(question: Question, status: str) -> QuestionData:
    data = to_data(question)
    data.status = status
    return data


def duplicate(actor: User, question: Question) -> Question:
    """A draft copy under a new key."""
    base = re.sub(r"-copy(-\d+)?$", "", question.key)
    n = 0
    while True:
        n += 1
        suffix = "-copy" if n == 1 else f"-copy-{n}"
        key = base[:80 - len(suffix)].rstrip("-") + suffix
        if not db.session.execute(select(Question.id).where(Question.key == key)).first():
            break
    data = to_data(question)
    data.key, data.status = key, "draft"
    copy = save_question(data, question.section, None, False)
    db.session.flush()
    refresh_static_flags(copy)
    audit.log(actor, "question.duplicate", f"question:{key}", {"from": question.key})
    return copy


def history(key: str) -> tuple[list[Question], list[AuditLog]]:
    versions = list(db.session.execute(select(Question).where(Question.key == key)
                                       .order_by(Question.version.desc())).scalars())
    entries = list(db.session.execute(select(AuditLog).where(AuditLog.target == f"question:{key}")
                                      .order_by(AuditLog.at.desc(), AuditLog.id.desc())).scalars())
    return versions, entries


def form_data(key: str, section: str, kind: str, difficulty: int, status: str, prompt: str,
              explanation: str, choices: list[tuple[str, bool, float | None]], covers: list[str],
              purpose: str = "", excludes: list[str] | None = None,
              reserve: bool = False) -> QuestionData:
    """The question an editor form describes. `choices`: (text, right, fraction or None);
    a fraction on any choice makes the question weighted (the others earn 0 and
    `correct` follows the fractions)."""
    spec = grading.REGISTRY.get(kind)
    if spec is not None and spec.fixed_choices:
        right_true = any(correct for _text, correct, *_rest in choices[:1])
        choices = [(spec.fixed_choices[0], right_true, None), (spec.fixed_choices[1], not right_true, None)]
    kept = [(t.strip(), bool(c), *rest) for t, c, *rest in choices if t.strip()]
    weighted = any(rest and rest[0] is not None for _t, _c, *rest in kept)
    data_choices = []
    for text, correct, *rest in kept:
        fraction = (rest[0] if rest and rest[0] is not None else 0.0) if weighted else None
        if weighted and spec is not None:
            correct = grading.is_correct_choice(kind, fraction, correct)
        data_choices.append(ChoiceData(text, correct, fraction))
    return QuestionData(key=key.strip().lower(), section=section, kind=kind, difficulty=difficulty,
                        status=status, prompt=prompt.strip(), explanation=explanation.strip(),
                        choices=data_choices,
                        covers=covers, origin="editor", purpose=purpose,
                        excludes=[k.strip().lower() for k in excludes or [] if k.strip()],
                        reserve=reserve)


# ---------------------------------------------------------------- coverage

@dataclass
class CoverageRow:
    section: Section
    total: int
    by_kind: dict[str, int]
    by_difficulty: dict[int, int]
    by_purpose: dict[str, int]  # "" = not tagged
    # The two pools: practice questions (also drawn by contests) and the contest reserve.
    practice: int = 0
    reserve: int = 0


def coverage() -> list[CoverageRow]:
    """Approved current questions per section, by kind, by difficulty and by purpose, and
    how many of them are practice questions or contest reserve (own questions of each
    section, not its subtree). One grouped query."""
    counts = db.session.execute(
        select(Question.section_id, Question.kind, Question.difficulty, Question.purpose,
               Question.reserve, func.count())
        .where(Question.is_current.is_(True), Question.status == "approved")
        .group_by(Question.section_id, Question.kind, Question.difficulty, Question.purpose,
                  Question.reserve)).all()
    rows = {s.id: CoverageRow(s, 0, {}, {}, {}) for s in db.session.execute(
        select(Section).order_by(Section.position)).scalars()}
    for section_id, kind, difficulty, purpose, reserve, n in counts:
        row = rows[section_id]
        row.total += n
        if reserve:
            row.reserve += n
        else:
            row.practice += n
        row.by_kind[kind] = row.by_kind.get(kind, 0) + n
        row.by_difficulty[difficulty] = row.by_difficulty.get(difficulty, 0) + n
        row.by_purpose[purpose or ""] = row.by_purpose.get(purpose or "", 0) + n
    return list(rows.values())


def purpose_mix(rows: list[CoverageRow]) -> dict[str, int]:
    """The whole bank's approved questions by purpose ("" = not tagged), from `coverage`."""
    mix = {p: 0 for p in (*PURPOSES, "")}
    for row in rows:
        for purpose, n in row.by_purpose.items():
            mix[purpose] = mix.get(purpose, 0) + n
    return mix


def purpose_label(purpose: str) -> str:
    return {"meaning": _("Meaning"), "application": _("Application"), "distinguish": _("Distinguish"),
            "target": _("Target"), "recall": _("Recall"), "": _("Not tagged")}.get(purpose, purpose)


# ---------------------------------------------------------------- quality flags

def _static_flags(question: Question, duplicate_prompts: set[str]) -> list[str]:
    flags = []
    if not question.explanation.strip():
        flags.append("no_explanation")
    if question.kind != "truefalse" and len(question.choices) < 3:
        flags.append("few_choices")
    if fold(question.prompt) in duplicate_prompts:
        flags.append("duplicate_prompt")
    return flags


def refresh_static_flags(question: Question) -> None:
    stat_flags = [f for f in question.flags.split(",") if f in ("too_easy", "too_hard", "negative_discrimination")]
    question.flags = ",".join(_static_flags(question, set()) + stat_flags)


def refresh_flags() -> int:
    """Recompute every current question's flags: the static checks, and the item
    statistics pooled over the finished attempts of closed rounds (facility < 0.2 or
    > 0.95 with at least 10 answers, negative point-biserial). Returns how many questions
    carry a flag."""
    questions = list(db.session.execute(select(Question).where(Question.is_current.is_(True))
                                        .options(selectinload(Question.choices))).scalars())
    prompts: dict[str, int] = {}
    for q in questions:
        prompts[fold(q.prompt)] = prompts.get(fold(q.prompt), 0) + 1
    duplicates = {p for p, n in prompts.items() if n > 1}
    closed = [r.id for r in db.session.execute(select(Round)).scalars()
              if round_state(r) in ("closed", "finalized")]
    stats: dict[int, tuple[list[bool], list[float]]] = {}
    if closed:
        # Per question version: a corrected question starts with a clean record.
        for key, ok, score in db.session.execute(
                select(AttemptQuestion.question_id, AttemptQuestion.is_correct, Attempt.points)
                .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
                .where(Attempt.round_id.in_(closed), Attempt.status == FINISHED,
                       AttemptQuestion.is_correct.is_not(None))):
            bucket = stats.setdefault(key, ([], []))
            bucket[0].append(bool(ok))
            bucket[1].append(float(score or 0))
    flagged = 0
    for q in questions:
        flags = _static_flags(q, duplicates)
        correct, totals = stats.get(q.id, ([], []))
        if len(correct) >= 10:
            facility = sum(correct) / len(correct)
            if facility > 0.95:
                flags.append("too_easy")
            if facility < 0.2:
                flags.append("too_hard")
            r = point_biserial(correct, totals)
            if r is not None and r < 0:
                flags.append("negative_discrimination")
        q.flags = ",".join(flags)
        flagged += bool(flags)
    db.session.flush()
    return flagged
