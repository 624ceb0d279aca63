"""A round's one state, and who may see what of it.

State of a round (derived from its timestamps and the clock, never stored):
    draft      not yet scheduled by the organizer
    scheduled  scheduled, before opens_at
    open       opens_at <= now < closes_at
    closed     now >= closes_at, not finalized
    finalized  the organizer finalized it; nothing changes any more

`round_state` is the one function that says it: pages, branches' standings, sealing
and every transition here call it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ...clock import utcnow
from ...extensions import db
from ...models import Contest, Round, User
from .. import attempts
from ..errors import Conflict, NotFound


def round_state(round_: Round, now: datetime | None = None) -> str:
    now = now or utcnow()
    if round_.finalized_at is not None:
        return "finalized"
    if round_.scheduled_at is None:
        return "draft"
    if now < round_.opens_at:
        return "scheduled"
    if now < round_.closes_at:
        return "open"
    return "closed"


def hold(round_: Round, *, shared: bool = False) -> None:
    """Take the round's grading lock (attempts.hold_round_grading), then read the round
    again: what it says now is what holds until this transaction ends. Exclusive for a
    correction; shared for the steps a correction must not interleave with (finalize,
    confirming the prizes), which may run beside finishes and each other."""
    if db.session.is_modified(round_):
        # refresh() would silently discard them: hold first, then change the round.
        raise RuntimeError("contests.hold: the round has unsaved changes")
    attempts.hold_round_grading(round_.id, shared=shared)
    db.session.refresh(round_)


def require(round_: Round, *states: str) -> str:
    state = round_state(round_)
    if state not in states:
        raise Conflict(_("Not possible while the round is %(state)s.", state=state_label(state)))
    return state


def state_label(state: str) -> str:
    return {"draft": _("draft"), "scheduled": _("scheduled"), "open": _("open"),
            "closed": _("closed"), "finalized": _("finalized")}.get(state, state)


def in_audience(user: User, contest: Contest) -> bool:
    if not contest.audience:
        return True
    return any(user.unit.path.startswith(unit.path) for unit in contest.audience)


def get_round_for_member(user: User, round_id: int) -> Round:
    """The round if the member may see it (scheduled or later, and in the audience);
    NotFound otherwise."""
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_state(round_) == "draft" or not in_audience(user, round_.contest):
        raise NotFound(_("Round not found."))
    return round_


def member_rounds(user: User) -> list[tuple[Round, str]]:
    """Scheduled, open and recently closed rounds the member may take, soonest first."""
    rounds = db.session.execute(select(Round).where(Round.scheduled_at.is_not(None))
                                .order_by(Round.opens_at)).scalars().all()
    out = []
    now = utcnow()
    for round_ in rounds:
        state = round_state(round_, now)
        if state in ("closed", "finalized") and now - round_.closes_at > timedelta(days=30):
            continue
        if in_audience(user, round_.contest):
            out.append((round_, state))
    return out


def results_visible(round_: Round) -> bool:
    """The round's result-visibility setting read against its state and the clock:
    at_submit → always; at_close → once closed; on_publish → once published. Pages ask
    `results_visible_to`, which adds who is looking."""
    state = round_state(round_)
    if round_.results_visibility == "at_submit":
        return True
    if round_.results_visibility == "at_close":
        return state in ("closed", "finalized")
    return round_.published_at is not None


def results_visible_to(round_: Round, viewer: User | None) -> bool:
    """Whether `viewer` may see scores of this round: a member's own score and right
    answers, a branch's average, S, index and full scores, individual scores on a branch
    page, mastery by section, and every export or JSON that carries them.

    The one rule every surface calls. Organizers (and admins) see everything; anyone
    else (members, secretaries, an anonymous visitor of public standings, `viewer=None`
    for a report written for distribution) only what the round's setting allows, see
    `results_visible`. Participation (who took part, counts, rates) is not a score and
    is not governed by this rule."""
    if viewer is not None and getattr(viewer, "is_authenticated", False) \
            and viewer.has_role("organizer"):
        return True
    return results_visible(round_)


def ranking_visible(round_: Round) -> bool:
    """Whether members may see the individual ranking: once the round has closed and its
    results are visible."""
    return round_state(round_) in ("closed", "finalized") and results_visible(round_)


def local_time(value: datetime) -> str:
    """A time as the round's messages print it, in the configured zone."""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%H:%M %d/%m/%Y")
