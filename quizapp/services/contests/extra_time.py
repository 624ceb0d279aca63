"""Extra time for one member in one round (an accommodation: poor sight, a slow hand,
an assisted attempt), granted by an organizer or by the member's secretary within his
unit scope (the caller checks the scope, as for the other roster actions).

The rule, the same wherever a deadline is set (a start, a grant during an attempt, a
close moved earlier or later):

    deadline = min(started_at + time limit + extra, closes_at + extra)

so the member's attempt runs the time limit plus his extra, and the round's close moves
for him by the same extra: an attempt started late still gets its extra minutes after
the close, as the others get their time limit cut by the close. He starts within the
round's window like everyone else (the window itself does not move). Every rule that
reads the attempt's stored deadline (the one-statement autosave, submit, the sweeper
close-overdue, settling) then respects the extra without knowing about it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ...clock import utcnow
from ...extensions import db
from ...models import Attempt, Round, RoundExtraTime, Unit, User
from ...models.attempts import IN_PROGRESS
from .. import attempts
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..people import audit, names
from .state import in_audience, round_state

MAX_EXTRA_MINUTES = 240


def extra_minutes(user_id: int, round_id: int) -> int:
    """The member's extra minutes for the round (0 when none was granted)."""
    return db.session.execute(select(RoundExtraTime.minutes).where(
        RoundExtraTime.round_id == round_id, RoundExtraTime.user_id == user_id)).scalar() or 0


def extras_of(round_: Round) -> dict[int, int]:
    """user id → extra minutes, for every member granted some in the round."""
    return dict(db.session.execute(select(RoundExtraTime.user_id, RoundExtraTime.minutes)
                                   .where(RoundExtraTime.round_id == round_.id)).all())


def extras_for(rounds: list[Round]) -> dict[tuple[int, int], int]:
    """(user id, round id) → extra minutes, for the rounds a page shows."""
    if not rounds:
        return {}
    return {(user_id, round_id): minutes for user_id, round_id, minutes in db.session.execute(
        select(RoundExtraTime.user_id, RoundExtraTime.round_id, RoundExtraTime.minutes)
        .where(RoundExtraTime.round_id.in_([r.id for r in rounds])))}


def deadline_for(round_: Round, started_at: datetime, minutes: int,
                 time_limit_seconds: int | None = None) -> datetime:
    """The rule above."""
    extra = timedelta(minutes=minutes)
    limit = timedelta(seconds=time_limit_seconds or round_.time_limit_seconds)
    return min(started_at + limit + extra, round_.closes_at + extra)


def grant(actor: User, round_: Round, member: User, minutes: int, reason: str = "") -> None:
    """Set the member's extra minutes for the round (0 takes them back), logged. An
    attempt he has in progress gets its new deadline at once (one already past its
    deadline + grace is finished first with what it saved: time already over is not
    given back)."""
    if not actor.has_role("secretary"):
        raise Forbidden(_("Only an organizer or the member's secretary can grant extra time."))
    if not 0 <= minutes <= MAX_EXTRA_MINUTES:
        raise DomainError(_("Extra time must be between 0 and %(n)d minutes.", n=MAX_EXTRA_MINUTES))
    if round_state(round_) not in ("draft", "scheduled", "open"):
        raise Conflict(_("This round is over: extra time can no longer be granted."))
    if not in_audience(member, round_.contest):
        raise DomainError(_("This member is not in the round's audience."))
    row = db.session.execute(select(RoundExtraTime).where(
        RoundExtraTime.round_id == round_.id, RoundExtraTime.user_id == member.id)).scalar()
    before = row.minutes if row is not None else 0
    if before == minutes:
        return
    if row is None:
        db.session.add(RoundExtraTime(round_id=round_.id, user_id=member.id, minutes=minutes,
                                      granted_by_id=actor.id))
    elif minutes == 0:
        db.session.delete(row)
    else:
        row.minutes, row.granted_by_id, row.granted_at = minutes, actor.id, utcnow()
    audit.log(actor, "round.extra_time", f"user:{member.id}",
              {"round": round_.id, "minutes": [before, minutes]}, reason)
    for attempt in db.session.execute(select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.user_id == member.id,
            Attempt.status == IN_PROGRESS, Attempt.on_paper.is_(False))).scalars():
        if attempts.expire_if_overdue(attempt):
            continue
        attempt.deadline = deadline_for(round_, attempt.started_at, minutes, attempt.time_limit_seconds)
    db.session.flush()


@dataclass
class Grant:
    """One member's extra time in a round, as the list of grants shows it."""
    member: User
    unit: Unit
    minutes: int
    granted_by: User
    granted_at: datetime


def grants(round_: Round, scope: Unit | None = None) -> list[Grant]:
    """The round's grants, by branch then name (Vietnamese order); `scope`: only members
    of that unit's subtree (a secretary's list), None: all (an organizer's). One query."""
    member, granter = aliased(User), aliased(User)
    query = (select(RoundExtraTime, member, Unit, granter)
             .join(member, member.id == RoundExtraTime.user_id)
             .join(Unit, Unit.id == member.unit_id)
             .join(granter, granter.id == RoundExtraTime.granted_by_id)
             .where(RoundExtraTime.round_id == round_.id))
    if scope is not None:
        query = query.where(Unit.path.startswith(scope.path, autoescape=True))
    rows = [Grant(m, unit, row.minutes, by, row.granted_at)
            for row, m, unit, by in db.session.execute(query).tuples()]
    rows.sort(key=lambda g: (g.unit.path, names.sort_key(g.member.full_name), g.member.id))
    return rows


def revoke(actor: User, round_: Round, member: User, reason: str = "") -> int:
    """Take the member's extra time in the round back (grant with 0: the same checks,
    the same log entry, his attempt in progress gets the ordinary deadline). Returns the
    minutes taken back; NotFound when he had none."""
    before = extra_minutes(member.id, round_.id)
    if not before:
        raise NotFound(_("This member has no extra time in this round."))
    grant(actor, round_, member, 0, reason)
    return before
