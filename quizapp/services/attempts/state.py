"""Reading an attempt and holding it: who may see it, the grace after its deadline,
its questions, and the write lock every save and the finish take.

Shared by the rest of the package (submit, finish, autosave); nothing here finishes
an attempt.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ...extensions import db
from ...models import Attempt, AttemptQuestion, BankRevision, Question, User
from ...models.attempts import IN_PROGRESS
from .. import grading
from ..errors import Conflict, DomainError, NotFound


def grace() -> timedelta:
    return timedelta(seconds=current_app.config["QUIZ_GRACE_SECONDS"])


def get_own_attempt(user: User, attempt_id: int, with_questions: bool = False,
                    with_choices: bool = True) -> Attempt:
    """The attempt if it belongs to `user`; NotFound otherwise (never 403: ids are not
    confirmed to exist). `with_questions` loads its round and questions too, with their
    sections and choices (three queries), or without them (`with_choices` false: one
    query), for the
    pages and posts that use them; a paper sheet's attempt is not its member's to open
    (NotFound). (Lazy loading was two queries per question: most of
    the quiz page's time in the profile; a submit needs no Choice objects). The quiz
    page itself reads its attempt and questions as rows: page.own_attempt_page."""
    if with_questions and with_choices:
        question = selectinload(Attempt.items).joinedload(AttemptQuestion.question)
        question = question.options(selectinload(Question.choices), joinedload(Question.section))
        attempt = db.session.execute(select(Attempt).where(Attempt.id == attempt_id).options(
            joinedload(Attempt.round), question)).scalar_one_or_none()
    elif with_questions:
        # The posts (save, submit, finish): the attempt, its round, items and questions
        # in ONE statement (no choice, no section: grading reads the key by ids).
        attempt = db.session.execute(select(Attempt).where(Attempt.id == attempt_id).options(
            joinedload(Attempt.round),
            joinedload(Attempt.items).joinedload(AttemptQuestion.question))
        ).unique().scalar_one_or_none()
    else:
        attempt = db.session.get(Attempt, attempt_id)
    return own(user, attempt)


def own(user: User, attempt: Attempt | None) -> Attempt:
    """`attempt` if it is `user`'s to open online, else NotFound. A paper sheet's attempt
    is answered on paper and entered by a secretary (contests.paper): its member neither
    continues it nor reads it online."""
    if attempt is None or attempt.user_id != user.id or attempt.on_paper:
        raise NotFound(_("Attempt not found."))
    return attempt


def item_for(attempt: Attempt, question_id: int) -> AttemptQuestion:
    if "items" in attempt.__dict__:  # already loaded: no query
        for item in attempt.items:
            if item.question_id == question_id:
                return item
        raise DomainError(_("That question is not part of this attempt."))
    item = db.session.execute(select(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt.id, AttemptQuestion.question_id == question_id)
        .options(joinedload(AttemptQuestion.question))).scalar_one_or_none()
    if item is None:
        raise DomainError(_("That question is not part of this attempt."))
    return item


def validate_selection(item: AttemptQuestion, choice_ids: list[int]) -> set[int]:
    selected = set(choice_ids)
    if not selected <= set(item.choice_ids):
        raise DomainError(_("That choice is not part of this question."))
    if len(selected) > 1 and not grading.selects_many(item.question.kind):
        raise DomainError(_("This question takes a single answer."))
    return selected


# The bank's revision token (models.bank.BankRevision): the answer keys are cached per
# token, so grading reads it in the finish's transaction.
REVISION = (select(BankRevision.token).where(BankRevision.id == 1)
            .scalar_subquery().label("key_revision"))


def reload_answers(attempt: Attempt, *, with_revision: bool = False) -> str | None:
    """Once the attempt's lock is held: bring the answers of items loaded before it up
    to date (an autosave may have committed between that load and the lock), so what
    is compared and graded is what the database holds. One query; nothing when the
    items were not loaded (they are read after the lock then). `with_revision`: also
    read the bank's revision token, in the same statement (or alone when the items were
    not loaded), and return it."""
    if "items" not in attempt.__dict__:
        return db.session.execute(select(REVISION)).scalar() if with_revision else None
    table = AttemptQuestion.__table__
    columns = [table.c.id, table.c.selected, table.c.locked, table.c.answered_at,
               table.c.save_seq, table.c.save_client]
    rows = db.session.execute(select(*columns, *([REVISION] if with_revision else []))
                              .where(table.c.attempt_id == attempt.id)).all()
    current = {row.id: row for row in rows}
    for item in attempt.items:
        row = current.get(item.id)
        if row is not None:
            for name in ("selected", "locked", "answered_at", "save_seq", "save_client"):
                set_committed_value(item, name, getattr(row, name))
    if not with_revision:
        return None
    return rows[0].key_revision if rows else db.session.execute(select(REVISION)).scalar()


def lock_attempt(attempt: Attempt, now: datetime) -> None:
    """Take the attempt's write lock (row lock on PostgreSQL, the database write lock on
    SQLite) and confirm it is still in progress, so a save can never land after the
    grading of a concurrent finish."""
    result = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.status == IN_PROGRESS)
        .values(last_saved_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(attempt)
        raise Conflict(_("This attempt is already finished."))
