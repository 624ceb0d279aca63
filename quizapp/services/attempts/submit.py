"""The member's writes to an attempt: answers saved (the general path of the autosave
and the plain form post), an immediate-feedback check, and the submit that merges what
the page changed and then finishes.

Every write checks owner, state and deadline (+ grace) and takes the attempt's lock
first (state.lock_attempt), so a save never lands after a concurrent finish has graded.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm.attributes import set_committed_value

from ...clock import request_time
from ...extensions import db
from ...models import Attempt, AttemptQuestion
from ...models.attempts import FINISHED
from .. import grading
from ..errors import Conflict, DomainError
from .finish import credit_for, ensure_open, finish, fractions_for, key_for
from .state import item_for, lock_attempt, reload_answers, validate_selection


def save_answers(attempt: Attempt, answers: dict[int, list[int]], seq: int | None = None,
                 *, seqs: dict[int, int] | None = None, client: str | None = None) -> int:
    """Save several answers at once ({question_id: [choice_id, ...]}); an empty list
    clears an answer. All are validated before any is written. Returns how many rows
    changed. Raises DomainError (400) for a question or choice outside the attempt,
    Conflict when finished or locked, DeadlinePassed after deadline + grace.

    `seq` (one for all) or `seqs` (per question), with `client` (the page that sent
    them): the autosave's ordering rule (save_answer). A save whose number is not
    greater than the one the same page stored is a retry or arrived late behind a newer
    one, and changes nothing — so a client may resend freely. The quiz form sends only
    what its page changed (quiz.forms.answers_from), so a stale tab's post merges."""
    ensure_open(attempt)
    checked: list[tuple[AttemptQuestion, set[int]]] = []
    for question_id, choice_ids in answers.items():
        item = item_for(attempt, question_id)
        checked.append((item, validate_selection(item, choice_ids)))
    now = request_time()
    lock_attempt(attempt, now)
    reload_answers(attempt)
    changed = 0
    for item, selected in checked:
        value = stored_value(selected)
        if item.locked:
            if value != item.selected:
                raise Conflict(_("This answer has already been checked and cannot change."))
            continue
        item_seq = (seqs or {}).get(item.question_id, seq)
        if item_seq is not None:
            if _is_stale(item.save_seq, item.save_client, item_seq, client):
                continue
            item.save_seq = item_seq
            item.save_client = client
        if value != item.selected:
            item.selected = value
            item.answered_at = now
            changed += 1
    db.session.flush()
    return changed


def save_answer(attempt: Attempt, question_id: int, choice_ids: list[int],
                seq: int | None = None, client: str | None = None) -> AttemptQuestion:
    """Autosave one answer (see save_answers for the rules). With `seq` and `client`
    (the page that sent it), a save is ignored only when the same page already stored a
    higher-or-equal number: a retry or a late arrival. Saves from another page or device
    always apply (the last to arrive wins). `item.ignored` tells the caller."""
    ensure_open(attempt)
    item = item_for(attempt, question_id)
    selected = validate_selection(item, choice_ids)
    now = request_time()
    lock_attempt(attempt, now)
    # Read before the lock: another save may have landed since.
    db.session.refresh(item, ["selected", "locked", "answered_at", "save_seq", "save_client"])
    value = stored_value(selected)
    if item.locked:
        if value != item.selected:
            raise Conflict(_("This answer has already been checked and cannot change."))
        return item
    item.ignored = False
    if seq is not None:
        if _is_stale(item.save_seq, item.save_client, seq, client):
            item.ignored = True
            return item
        item.save_seq = seq
        item.save_client = client
    if value != item.selected:
        item.selected = value
        item.answered_at = now
    db.session.flush()
    return item


def stored_value(selected: set[int]) -> str | None:
    """Chosen choice ids as AttemptQuestion.selected stores them: sorted, comma-joined;
    None for no answer."""
    return ",".join(str(i) for i in sorted(selected)) or None


def _is_stale(save_seq: int | None, save_client: str | None, seq: int,
              client: str | None) -> bool:
    """save_answer's retry rule: a save is stale when the same page (or a page that sent
    no client id) already stored a higher-or-equal sequence number."""
    same_page = client is None or save_client == client
    return same_page and save_seq is not None and seq <= save_seq


def check_answer(attempt: Attempt, question_id: int, choice_ids: list[int]) -> AttemptQuestion:
    """Immediate-feedback practice: save, lock and grade one answer, so its result can be
    shown now. Refused in exam mode and in contests."""
    if attempt.kind != "practice" or attempt.feedback != "immediate":
        raise DomainError(_("Answers are checked only at the end of this quiz."))
    if not choice_ids:
        raise DomainError(_("Choose an answer first."))
    item = save_answer(attempt, question_id, choice_ids)
    if not item.locked:
        item.locked = True
        right = key_for([item.question_id], attempt.round_id, [item.question])[item.question_id]
        weights = fractions_for([item.question_id], [item.question]).get(item.question_id)
        item.credit = credit_for(item.question.kind, right or set(), item.selected_ids, weights)
        item.is_correct = item.credit == grading.FULL
        db.session.flush()
    return item


def submit(attempt: Attempt, answers: dict[int, list[int]] | None = None, *,
           seqs: dict[int, int] | None = None, client: str | None = None) -> bool:
    """The member submits, with the answers the page changed and did not autosave yet
    (the no-JavaScript path, or a save still in flight), merged by save_answers' rules
    under the finish's own lock: one compare-and-set, one read of the answers, one
    write of every item (answer and grade together). Late → DeadlinePassed after
    finishing with what was saved before."""
    if attempt.status == FINISHED:
        return False
    # Late first, as save_answers does: past deadline + grace the attempt is finished
    # with what was saved (DeadlinePassed), whatever the form carries.
    ensure_open(attempt)
    changes: list[Change] = []
    for question_id, choice_ids in (answers or {}).items():
        item = item_for(attempt, question_id)
        changes.append(Change(item, validate_selection(item, choice_ids),
                              (seqs or {}).get(question_id)))
    for change in changes:
        # As loaded: a checked answer cannot change (a check that lands between this
        # load and the finish's lock is kept, and the posted value ignored).
        if change.item.locked and change.value != change.item.selected:
            raise Conflict(_("This answer has already been checked and cannot change."))
    return finish(attempt, reason="submitted", merge=lambda now: _merge(changes, client, now))


@dataclass
class Change:
    """One posted answer of a submit, validated against the attempt."""
    item: AttemptQuestion
    selected: set[int]
    seq: int | None

    @property
    def value(self) -> str | None:
        return stored_value(self.selected)


def _merge(changes: list[Change], client: str | None, now) -> None:
    """Apply a submit's posted answers to its items, as they are once the finish holds
    the lock (save_answers' rules: a checked answer stays, a stale sequence number
    changes nothing). The values are set as committed: the finish writes them, with
    the grades, in one statement."""
    for change in changes:
        item = change.item
        if item.locked:
            continue
        if change.seq is not None:
            if _is_stale(item.save_seq, item.save_client, change.seq, client):
                continue
            set_committed_value(item, "save_seq", change.seq)
            set_committed_value(item, "save_client", client)
        value = change.value
        if value != item.selected:
            set_committed_value(item, "selected", value)
            set_committed_value(item, "answered_at", now)
