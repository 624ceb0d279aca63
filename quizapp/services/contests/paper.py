"""Paper answer sheets, for members who take a round without a phone.

A sheet is a round attempt like any other, drawn by the round's one draw
(rounds.draw_round_attempt) and stored once (attempts.insert_round_attempt, so the
branch's started counter moves), marked `on_paper`: its member does not open it online,
and its deadline is the round's close + PAPER_ENTRY_HOURS, the time the secretary has to
enter the ticked sheets. Entering goes through attempts.submit → attempts.finish, the
same compare-and-set and grading as an online submit: a sheet entered twice counts once.

The QR code on a sheet carries `sheet_token(attempt)`: the attempt's id signed with the
application's secret (itsdangerous), so it can be neither guessed nor altered.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ...clock import utcnow
from ...extensions import db
from ...models import Attempt, AttemptQuestion, Question, Round, User
from ...models.attempts import IN_PROGRESS
from .. import attempts, grading
from ..errors import Conflict, DomainError, NotFound
from ..people import audit
from .rounds import draw_round_attempt, member_attempts, paper_deadline
from .state import in_audience, round_state

LETTERS = "ABCDEFGHIJ"
_SALT = "paper-sheet"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def sheet_token(attempt: Attempt) -> str:
    """The opaque reference printed in a sheet's QR code (no key, nothing guessable)."""
    return _serializer().dumps({"a": attempt.id})


def attempt_id_from_token(token: str) -> int:
    """The attempt a sheet's reference names; DomainError when it was altered or is not
    a sheet reference at all."""
    try:
        data = _serializer().loads((token or "").strip())
    except BadSignature:
        raise DomainError(_("This sheet reference is not valid: scan the QR code again or "
                            "pick the member in the list.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        raise DomainError(_("This sheet reference is not valid: scan the QR code again or "
                            "pick the member in the list."))
    return data["a"]


def may_print(round_: Round) -> None:
    """Sheets are drawn while the round is open (the same rule as an online start)."""
    if round_state(round_) != "open":
        raise Conflict(_("Paper sheets can be printed only while the round is open."))


@dataclass
class SheetsDrawn:
    sheets: list[Attempt] = field(default_factory=list)
    skipped: list[tuple[User, str]] = field(default_factory=list)


def draw_sheets(actor: User, round_: Round, members: list[User],
                rng: random.Random | None = None) -> SheetsDrawn:
    """One paper attempt per member (drawn now, or the one drawn before: printing again
    gives the same sheet). A member who has an online attempt in progress, has used his
    attempts or is outside the contest's audience gets no sheet, with the reason."""
    may_print(round_)
    out = SheetsDrawn()
    for member in members:
        if not member.active or not in_audience(member, round_.contest):
            out.skipped.append((member, _("not in this contest")))
            continue
        existing = member_attempts(member, round_)
        current = [a for a in existing if a.status == IN_PROGRESS
                   and not attempts.expire_if_overdue(a)]
        if current:
            if current[0].on_paper:
                out.sheets.append(current[0])
            else:
                out.skipped.append((member, _("is answering online")))
            continue
        if len(existing) >= round_.attempts_allowed:
            out.skipped.append((member, _("has used the attempts allowed")))
            continue
        attempt = draw_round_attempt(member, round_, len(existing) + 1, rng,
                                     paper_deadline(round_), on_paper=True)
        if not attempts.insert_round_attempt(attempt):
            out.skipped.append((member, _("started online at the same moment")))
            continue
        out.sheets.append(attempt)
    if out.sheets:
        audit.log(actor, "paper.print", f"round:{round_.id}",
                  {"attempts": [a.id for a in out.sheets]})
    db.session.flush()
    return out


def load_sheets(attempt_ids: list[int]) -> list[Attempt]:
    """The attempts with their member, unit, questions and choices, in the given order."""
    if not attempt_ids:
        return []
    rows = db.session.execute(select(Attempt).where(Attempt.id.in_(attempt_ids)).options(
        joinedload(Attempt.user).joinedload(User.unit),
        selectinload(Attempt.items).joinedload(AttemptQuestion.question)
        .selectinload(Question.choices))).unique().scalars().all()
    by_id = {a.id: a for a in rows}
    return [by_id[i] for i in attempt_ids if i in by_id]


def paper_attempts(round_: Round, unit_ids: list[int]) -> list[Attempt]:
    """The round's paper attempts of members of these units (their unit at draw time)."""
    ids = list(db.session.execute(select(Attempt.id).where(
        Attempt.round_id == round_.id, Attempt.on_paper.is_(True),
        Attempt.unit_id.in_(unit_ids))).scalars())
    return load_sheets(ids)


def entry_open(round_: Round) -> bool:
    return round_.finalized_at is None and utcnow() <= paper_deadline(round_)


def parse_letters(item: AttemptQuestion, text: str) -> list[int]:
    """The choice ids a typed answer names: "B", "ac", "A C", "A,C" (letters in the
    sheet's order of this member's choices); empty: no answer. DomainError with the
    reason otherwise."""
    ids = item.choice_ids
    letters = [c for c in (text or "").upper() if not c.isspace() and c not in ",;.-"]
    chosen: list[int] = []
    for letter in letters:
        position = LETTERS.find(letter)
        if position < 0 or position >= len(ids):
            raise DomainError(_("“%(text)s”: type the letters printed on the sheet (%(letters)s).",
                                text=text.strip(), letters=", ".join(LETTERS[:len(ids)])))
        if ids[position] not in chosen:
            chosen.append(ids[position])
    if len(chosen) > 1 and not grading.SELECTS_MANY[item.question.kind]:
        raise DomainError(_("“%(text)s”: this question takes a single answer.", text=text.strip()))
    return chosen


def letters_of(item: AttemptQuestion) -> str:
    """The saved answer as the sheet's letters ("AC"), for the entry grid."""
    selected = item.selected_ids
    return "".join(LETTERS[n] for n, cid in enumerate(item.choice_ids) if cid in selected)


def check_entry(attempt: Attempt, typed: list[str]) -> dict[int, list[int]]:
    """Validate one sheet's typed answers (one text per question, in sheet order) without
    writing anything: {question_id: [choice_id, ...]}; DomainError naming the question."""
    if len(typed) != len(attempt.items):
        raise DomainError(_("The sheet has %(num)d questions.", num=len(attempt.items)))
    answers: dict[int, list[int]] = {}
    for item, text in zip(attempt.items, typed):
        try:
            answers[item.question_id] = parse_letters(item, text)
        except DomainError as exc:
            raise DomainError(_("Question %(n)d: %(reason)s", n=item.position + 1,
                                reason=exc.message)) from None
    return answers


def enter_sheet(actor: User, round_: Round, attempt: Attempt, answers: dict[int, list[int]]) -> bool:
    """Submit a paper sheet with the answers the secretary typed, through the engine
    (attempts.submit → finish): graded with the round's key, counted once. False when
    it was already entered (nothing changes). Refused after the entry window."""
    if not attempt.on_paper or attempt.round_id != round_.id:
        raise NotFound(_("Attempt not found."))
    if attempt.status != IN_PROGRESS:
        return False
    if not entry_open(round_):
        raise Conflict(_("The time for entering paper sheets of this round is over."))
    finished = attempts.submit(attempt, answers)
    if finished:
        audit.log(actor, "paper.enter", f"attempt:{attempt.id}",
                  {"round": round_.id, "member": attempt.user_id,
                   "answers": {str(q): sorted(c) for q, c in answers.items()}})
        db.session.flush()
    return finished
