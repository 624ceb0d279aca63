"""Contest rounds: lifecycle, taking a round, the counting result, rankings, prizes,
corrections after close and item analysis.

State of a round (derived, never stored):
    draft      not yet scheduled by the organizer
    scheduled  scheduled, before opens_at
    open       opens_at <= now < closes_at
    closed     now >= closes_at, not finalized
    finalized  the organizer finalized it; nothing changes any more
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..clock import utcnow
from ..extensions import db
from ..models import (Attempt, AttemptQuestion, Choice, CollectivePrize, Contest, Prize, Question, Round,
                      RoundQuestionChange, RoundResult, RoundUnitStats, Unit, User)
from ..models.attempts import FINISHED, IN_PROGRESS
from ..models.contest import PRIZE_TIERS, QUESTION_POOLS
from . import audit, counters, draw_plan
from .answer_key import answer_key, corrections
from .errors import Conflict, DomainError, NotFound


# ---------------------------------------------------------------- state

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


def _require(round_: Round, *states: str) -> str:
    state = round_state(round_)
    if state not in states:
        raise Conflict(_("Not possible while the round is %(state)s.", state=state_label(state)))
    return state


def state_label(state: str) -> str:
    return {"draft": _("draft"), "scheduled": _("scheduled"), "open": _("open"),
            "closed": _("closed"), "finalized": _("finalized")}.get(state, state)


# ---------------------------------------------------------------- contests and rounds

def create_contest(actor: User, title: str, rules: str, audience: list[Unit]) -> Contest:
    contest = Contest(title=title.strip(), rules=rules.strip(), created_by_id=actor.id)
    contest.audience = list(audience)
    db.session.add(contest)
    db.session.flush()
    audit.log(actor, "contest.create", f"contest:{contest.id}", {"title": contest.title})
    return contest


@dataclass
class RoundSettings:
    title: str
    opens_at: datetime
    closes_at: datetime
    time_limit_minutes: int
    question_count: int
    draw_plan: str = ""
    question_pool: str = "all"
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    attempts_allowed: int = 1
    counting: str = "best"
    results_visibility: str = "at_close"
    prediction_kind: str | None = None
    prize_first: int = 1
    prize_second: int = 2
    prize_third: int = 3
    prize_consolation: int = 5

    def errors(self) -> dict[str, list[str]]:
        """Field → messages; empty when the settings make a possible round."""
        out: dict[str, list[str]] = {}
        if self.closes_at <= self.opens_at:
            out.setdefault("closes_at", []).append(_("The round must close after it opens."))
        elif timedelta(minutes=self.time_limit_minutes) > self.closes_at - self.opens_at:
            out.setdefault("time_limit_minutes", []).append(
                _("The time limit is longer than the round's window."))
        if self.question_pool not in QUESTION_POOLS:
            out.setdefault("question_pool", []).append(_("Unknown question pool."))
            return out
        rules, plan_errors = draw_plan.parse(self.draw_plan)
        if not plan_errors:
            plan_errors = draw_plan.check(rules, self.question_count, self.question_pool)
        if plan_errors:
            out["draw_plan"] = plan_errors
        return out


_SETTING_FIELDS = ("title", "opens_at", "closes_at", "question_count", "draw_plan",
                   "question_pool", "shuffle_questions", "shuffle_choices", "attempts_allowed", "counting",
                   "results_visibility", "prediction_kind", "prize_first", "prize_second",
                   "prize_third", "prize_consolation")


def _apply(round_: Round, settings: RoundSettings) -> dict:
    changed = {}
    for name in _SETTING_FIELDS:
        value = getattr(settings, name)
        if getattr(round_, name) != value:
            changed[name] = [getattr(round_, name), value]
            setattr(round_, name, value)
    seconds = settings.time_limit_minutes * 60
    if round_.time_limit_seconds != seconds:
        changed["time_limit_seconds"] = [round_.time_limit_seconds, seconds]
        round_.time_limit_seconds = seconds
    return changed


def create_round(actor: User, contest: Contest, settings: RoundSettings) -> Round:
    """A new round in draft. Raises DomainError when the settings are impossible (the
    form shows the same errors field by field before this is called)."""
    errors = settings.errors()
    if errors:
        raise DomainError("; ".join(m for ms in errors.values() for m in ms))
    round_ = Round(contest_id=contest.id)
    _apply(round_, settings)
    db.session.add(round_)
    db.session.flush()
    audit.log(actor, "round.create", f"round:{round_.id}", {"title": round_.title})
    return round_


def update_round(actor: User, round_: Round, settings: RoundSettings, reason: str = "") -> dict:
    """Edit a round. Draft or scheduled: any setting. Open: only the close time, and only
    later; the change is logged. Closed or finalized: nothing."""
    state = round_state(round_)
    if state in ("draft", "scheduled"):
        errors = settings.errors()
        if errors:
            raise DomainError("; ".join(m for ms in errors.values() for m in ms))
        changed = _apply(round_, settings)
    elif state == "open":
        others = {name for name in _SETTING_FIELDS if name != "closes_at"
                  and getattr(settings, name) != getattr(round_, name)}
        if others or settings.time_limit_minutes * 60 != round_.time_limit_seconds:
            raise Conflict(_("While the round is open only its close time may move, and only later."))
        if settings.closes_at < round_.closes_at:
            raise Conflict(_("While the round is open only its close time may move, and only later."))
        changed = {}
        if settings.closes_at != round_.closes_at:
            changed["closes_at"] = [round_.closes_at, settings.closes_at]
            round_.closes_at = settings.closes_at
            _extend_deadlines(round_)
    else:
        raise Conflict(_("A %(state)s round can no longer be edited.", state=state_label(state)))
    if changed:
        audit.log(actor, "round.update", f"round:{round_.id}", changed, reason)
    db.session.flush()
    return changed


def _extend_deadlines(round_: Round) -> None:
    """After the close moved later: attempts in progress whose deadline was cut by the old
    close get min(start + time limit, new close). Ones already past deadline + grace are
    finished first, with what they saved."""
    from .attempts import expire_if_overdue
    for attempt in db.session.execute(select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS)).scalars():
        if expire_if_overdue(attempt):
            continue
        attempt.deadline = min(attempt.started_at + timedelta(seconds=attempt.time_limit_seconds
                                                              or round_.time_limit_seconds),
                               round_.closes_at)


def schedule(actor: User, round_: Round) -> None:
    """draft → scheduled (open at opens_at). Refused if the window has already ended."""
    _require(round_, "draft")
    if utcnow() >= round_.closes_at:
        raise Conflict(_("The round's window is already over; change the times first."))
    round_.scheduled_at = utcnow()
    audit.log(actor, "round.schedule", f"round:{round_.id}")
    db.session.flush()


def unschedule(actor: User, round_: Round) -> None:
    """scheduled → draft, only before it opens."""
    _require(round_, "scheduled")
    round_.scheduled_at = None
    audit.log(actor, "round.unschedule", f"round:{round_.id}")
    db.session.flush()


def close_now(actor: User, round_: Round, reason: str) -> None:
    """open → closed now. Attempts in progress keep nothing beyond now: their deadline is
    cut to the new close time."""
    _require(round_, "open")
    now = utcnow()
    audit.log(actor, "round.close", f"round:{round_.id}", {"closes_at": [round_.closes_at, now]}, reason)
    round_.closes_at = now
    db.session.execute(update(Attempt).where(
        Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS, Attempt.deadline > now)
        .values(deadline=now).execution_options(synchronize_session=False))
    db.session.flush()


def finalize(actor: User, round_: Round) -> None:
    """closed → finalized: attempts left open are finished first; then nothing changes."""
    _require(round_, "closed")
    _finish_round_attempts(round_)
    refresh_prediction_actual(round_)
    round_.finalized_at = utcnow()
    audit.log(actor, "round.finalize", f"round:{round_.id}")
    db.session.flush()


def finish_expired(round_: Round) -> int:
    """Finish the round's attempts whose deadline + grace has passed (the lazy half of
    the sweeper), so a ranking read after close never leaves them out."""
    from .attempts import expire_if_overdue
    return sum(expire_if_overdue(a) for a in db.session.execute(select(Attempt).where(
        Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS)).scalars())


def _finish_round_attempts(round_: Round) -> None:
    from .attempts import finish
    for attempt in db.session.execute(select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS)).scalars():
        finish(attempt, reason="expired")


def publish_results(actor: User, round_: Round) -> None:
    _require(round_, "closed", "finalized")
    if round_.published_at is None:
        round_.published_at = utcnow()
        audit.log(actor, "round.publish", f"round:{round_.id}")
    db.session.flush()


# ---------------------------------------------------------------- audience and visibility

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


@dataclass
class MemberRoundStatus:
    """Where one member stands in one round, for the home card: an attempt in progress,
    how many attempts are finished, the counting result (None before any finish)."""
    in_progress: Attempt | None = None
    finished: int = 0
    result: RoundResult | None = None


def member_round_status(user: User, rounds: list[Round]) -> dict[int, MemberRoundStatus]:
    """The member's status in each of `rounds`, by round id, in two queries whatever
    the number of rounds. Scores in it are shown only where `results_visible_to` allows."""
    ids = [r.id for r in rounds]
    out = {round_id: MemberRoundStatus() for round_id in ids}
    if not ids:
        return out
    for attempt in db.session.execute(select(Attempt).where(
            Attempt.user_id == user.id, Attempt.round_id.in_(ids))).scalars():
        status = out[attempt.round_id]
        if attempt.status == IN_PROGRESS:
            status.in_progress = attempt
        else:
            status.finished += 1
    for result in db.session.execute(select(RoundResult).where(
            RoundResult.user_id == user.id, RoundResult.round_id.in_(ids))).scalars():
        out[result.round_id].result = result
    return out


def member_rank(round_: Round, user: User) -> tuple[RankRow | None, int]:
    """The member's own row of the round's ranking (None when he has no counting result)
    and the number of ranked members. Ask only when `ranking_visible`."""
    rows = ranking(round_)
    return next((row for row in rows if row.user.id == user.id), None), len(rows)


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


# ---------------------------------------------------------------- taking a round

def member_attempts(user: User, round_: Round) -> list[Attempt]:
    return list(db.session.execute(select(Attempt).where(
        Attempt.round_id == round_.id, Attempt.user_id == user.id)
        .order_by(Attempt.attempt_no)).scalars())


def start_round_attempt(user: User, round_: Round, rng: random.Random | None = None) -> Attempt:
    """Start (or resume) the member's attempt at an open round.

    Starting twice returns the attempt in progress. Refused before opening or after
    closing (the message names the times), outside the audience (NotFound), and when
    the allowed attempts are used up.
    """
    from .attempts import expire_if_overdue, freeze
    if not in_audience(user, round_.contest):
        raise NotFound(_("Round not found."))
    state = round_state(round_)
    if state != "open":
        raise Conflict(_("This round is open from %(opens)s to %(closes)s.",
                         opens=_local(round_.opens_at), closes=_local(round_.closes_at)))
    existing = member_attempts(user, round_)
    for attempt in existing:
        if attempt.status == IN_PROGRESS and not expire_if_overdue(attempt):
            return attempt
    if len(existing) >= round_.attempts_allowed:
        raise Conflict(ngettext("You have used the %(num)d attempt allowed in this round.",
                                "You have used all %(num)d attempts allowed in this round.",
                                round_.attempts_allowed))
    rng = rng or random.Random()
    rules, _errors = draw_plan.parse(round_.draw_plan)
    question_ids = draw_plan.draw(rules, round_.question_count, rng, round_.question_pool)
    if round_.shuffle_questions:
        rng.shuffle(question_ids)
    questions = {q.id: q for q in db.session.execute(
        select(Question).where(Question.id.in_(question_ids))
        .options(selectinload(Question.choices))).scalars()}
    now = utcnow()
    attempt = Attempt(user_id=user.id, kind="contest", feedback="exam", title=round_.title,
                      round_id=round_.id, attempt_no=len(existing) + 1, unit_id=user.unit_id,
                      started_at=now, status=IN_PROGRESS, max_score=len(question_ids),
                      time_limit_seconds=round_.time_limit_seconds,
                      deadline=min(now + timedelta(seconds=round_.time_limit_seconds), round_.closes_at))
    freeze(attempt, [questions[qid] for qid in question_ids], rng, shuffle_choices=round_.shuffle_choices)
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
            db.session.flush()
    except IntegrityError:
        # A concurrent start (double click on two workers) won the race: use its attempt.
        again = [a for a in member_attempts(user, round_) if a.status == IN_PROGRESS]
        if again:
            return again[0]
        raise Conflict(_("Please try again.")) from None
    counters.after_start(attempt)
    db.session.flush()
    return attempt


def set_prediction(attempt: Attempt, value: int | None) -> None:
    """Save the tie-break prediction; locked once the attempt is finished (the write is
    conditional on the attempt still being in progress, so it cannot race a finish)."""
    if attempt.round_id is None:
        raise DomainError(_("This quiz has no prediction question."))
    from .attempts import ensure_open
    ensure_open(attempt)
    if value is not None and not 0 <= value <= 10_000_000:
        raise DomainError(_("The prediction must be a whole number from 0 to 10,000,000."))
    result = db.session.execute(update(Attempt).where(
        Attempt.id == attempt.id, Attempt.status == IN_PROGRESS).values(prediction=value)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(attempt)
        raise Conflict(_("The prediction can no longer change."))
    db.session.refresh(attempt)


def _local(value: datetime) -> str:
    from zoneinfo import ZoneInfo
    from flask import current_app
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%H:%M %d/%m/%Y")


# ---------------------------------------------------------------- counters

def after_finish(attempt: Attempt) -> None:
    """Called by attempts.finish in the same transaction (see services.counters)."""
    counters.after_finish(attempt, db.session.get(Round, attempt.round_id))


def rebuild_round(round_: Round) -> None:
    """Recompute the round's counting results and branch counters from the attempts."""
    counters.recompute(check=False, rounds=[round_])


# ---------------------------------------------------------------- prediction actual

def compute_prediction_actual(round_: Round) -> int | None:
    """participants: members with a finished attempt; full_scores: finished attempts with
    every question right (after corrections)."""
    if round_.prediction_kind == "participants":
        return db.session.scalar(select(func.count(func.distinct(Attempt.user_id))).where(
            Attempt.round_id == round_.id, Attempt.status == FINISHED)) or 0
    if round_.prediction_kind == "full_scores":
        return db.session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.round_id == round_.id, Attempt.status == FINISHED,
            Attempt.score == Attempt.max_score, Attempt.max_score > 0)) or 0
    return None


def refresh_prediction_actual(round_: Round) -> int | None:
    """Compute and store the actual value once the round is closed."""
    if round_.prediction_kind and round_state(round_) in ("closed", "finalized") \
            and round_.finalized_at is None:
        round_.prediction_actual = compute_prediction_actual(round_)
        db.session.flush()
    return round_.prediction_actual


# ---------------------------------------------------------------- ranking

@dataclass
class RankRow:
    rank: int
    tied: bool
    user: User
    unit: Unit
    attempt_id: int
    score: int
    max_score: int
    prediction: int | None
    distance: int | None
    time_taken_seconds: int
    finished_at: datetime | None
    extra: dict = field(default_factory=dict)
    # The common scale the ranking sorts by: a fraction of 1 per round (see share_of).
    share: Fraction = Fraction(0)

    @property
    def percent(self) -> float:
        """The share as printed: per cent of the maximum (summed over rounds in a contest)."""
        return float(self.share * 100)


def share_of(score: int, max_score: int) -> Fraction:
    """Score as an exact fraction of the attempt's own maximum; 0 when nothing counted
    (every question the member drew was voided). The ranking's common scale: members
    draw different questions and a void or re-key changes the maximum only for those
    who drew the question, so raw scores are not comparable, fractions are."""
    return Fraction(score, max_score) if max_score > 0 else Fraction(0)


def _assign_ranks(rows: list[RankRow], key) -> list[RankRow]:
    rows.sort(key=lambda r: (key(r), r.attempt_id))
    previous = None
    for index, row in enumerate(rows):
        k = key(row)
        if previous is not None and k == previous[0]:
            row.rank = previous[1]
            row.tied = True
            rows[index - 1].tied = True
        else:
            row.rank = index + 1
        previous = (k, row.rank)
    return rows


def ranking(round_: Round) -> list[RankRow]:
    """The round's individual ranking, from the counting results.

    Order: share of the attempt's own maximum (score ÷ max score, exact; high first — a
    member with every counted question right is never below one who is not) → distance of the prediction from the actual value (small
    first; no prediction counts as farthest) → time taken (short first) → finish time
    (early first). Rows equal on all four share a rank and are shown as tied; the attempt
    id (low first) only orders tied rows on the page.
    """
    if round_state(round_) == "closed":
        finish_expired(round_)
    actual = refresh_prediction_actual(round_) if round_.prediction_kind else None
    rows = []
    for result in db.session.execute(select(RoundResult).where(RoundResult.round_id == round_.id)
                                     ).scalars():
        distance = None
        if actual is not None and result.prediction is not None:
            distance = abs(result.prediction - actual)
        rows.append(RankRow(0, False, result.user, result.unit, result.attempt_id, result.score,
                            result.max_score, result.prediction, distance,
                            result.time_taken_seconds, result.finished_at,
                            share=share_of(result.score, result.max_score)))
    use_distance = actual is not None
    return _assign_ranks(rows, lambda r: (
        -r.share, (r.distance if r.distance is not None else math.inf) if use_distance else 0,
        r.time_taken_seconds, r.finished_at))


def contest_ranking(contest: Contest) -> list[RankRow]:
    """Across the contest's closed rounds: the sum of the round shares (each round's score
    ÷ that attempt's maximum, so every round weighs the same and a void in one round
    moves nobody below a member who did not draw the question; high first) → fewer rounds with a
    prediction question left unanswered → total prediction distance (small first) →
    total time (short first) → last finish (early first); equal rows share a rank."""
    totals: dict[int, RankRow] = {}
    for round_ in contest.rounds:
        if round_state(round_) not in ("closed", "finalized"):
            continue
        actual = refresh_prediction_actual(round_) if round_.prediction_kind else None
        for result in db.session.execute(select(RoundResult).where(
                RoundResult.round_id == round_.id)).scalars():
            row = totals.get(result.user_id)
            if row is None:
                row = totals[result.user_id] = RankRow(0, False, result.user, result.unit,
                                                      result.attempt_id, 0, 0, None, 0, 0, None)
                row.extra.update(rounds=0, missing=0)
            row.score += result.score
            row.max_score += result.max_score
            row.share += share_of(result.score, result.max_score)
            if actual is not None:
                if result.prediction is None:
                    row.extra["missing"] += 1
                else:
                    row.distance += abs(result.prediction - actual)
            row.time_taken_seconds += result.time_taken_seconds
            if row.finished_at is None or result.finished_at > row.finished_at:
                row.finished_at = result.finished_at
            row.attempt_id = min(row.attempt_id, result.attempt_id)
            row.extra["rounds"] += 1
    return _assign_ranks(list(totals.values()), lambda r: (
        -r.share, r.extra["missing"], r.distance, r.time_taken_seconds, r.finished_at))


# ---------------------------------------------------------------- prizes

@dataclass
class PrizeProposal:
    tier: str
    row: RankRow
    tie_at_boundary: bool = False


def allot_prizes(rows: list, quota: list[tuple[str, int]]) -> list[tuple[str, object, bool]]:
    """(tier, row, tie_at_boundary) for ranked rows (each with .rank) and a quota of
    (tier, count) in prize order: the places are filled in rank order. A tie that
    straddles two tiers, or the last prize place, is flagged on every row of that rank
    for the organizer to settle, never silently cut."""
    out: list[list] = []
    index = 0
    for tier, count in quota:
        for _n in range(count):
            if index >= len(rows):
                break
            out.append([tier, rows[index], False])
            index += 1
    for i, (tier, row, _flag) in enumerate(out):
        following = out[i + 1] if i + 1 < len(out) else (
            ["none", rows[index], False] if index < len(rows) else None)
        if following is not None and following[0] != tier and following[1].rank == row.rank:
            for other in out:
                if other[1].rank == row.rank:
                    other[2] = True
    return [(tier, row, flag) for tier, row, flag in out]


def propose_prizes(round_: Round) -> list[PrizeProposal]:
    """Winners by rank: first, then second, third and consolation prizes in the numbers
    the round sets. A tie that straddles two tiers or the last prize place is flagged."""
    quota = [(tier, getattr(round_, f"prize_{tier}")) for tier in PRIZE_TIERS]
    return [PrizeProposal(tier, row, flag) for tier, row, flag in allot_prizes(ranking(round_), quota)]


def confirm_prizes(actor: User, round_: Round) -> list[Prize]:
    """Store the proposed winners as confirmed (replacing an earlier confirmation)."""
    _require(round_, "closed", "finalized")
    proposals = propose_prizes(round_)
    db.session.execute(delete(Prize).where(Prize.round_id == round_.id))
    prizes = [Prize(round_id=round_.id, user_id=p.row.user.id, attempt_id=p.row.attempt_id,
                    tier=p.tier, rank=p.row.rank, confirmed_by_id=actor.id)
              for p in proposals]
    db.session.add_all(prizes)
    round_.prizes_confirmed_at = utcnow()
    audit.log(actor, "round.prizes", f"round:{round_.id}",
              {"winners": [[p.tier, p.row.user.username, p.row.rank] for p in proposals]})
    db.session.flush()
    return prizes


def confirmed_prizes(round_: Round) -> list[Prize]:
    order = {tier: i for i, tier in enumerate(PRIZE_TIERS)}
    prizes = db.session.execute(select(Prize).where(Prize.round_id == round_.id)).scalars().all()
    return sorted(prizes, key=lambda p: (order[p.tier], p.rank, p.attempt_id))


# ---------------------------------------------------------------- corrections

def overrides_for(round_id: int) -> dict[int, set[int] | None]:
    """The round's corrections (see answer_key.corrections)."""
    return corrections(round_id)


def round_question_ids(round_: Round) -> list[int]:
    return list(db.session.execute(select(AttemptQuestion.question_id).join(Attempt).where(
        Attempt.round_id == round_.id).distinct()).scalars())


def correct_question(actor: User, round_: Round, question_id: int, action: str, reason: str,
                     correct_choice_ids: list[int] | None = None) -> RoundQuestionChange:
    """Void a question or give it new right answers for this round, after close, then
    regrade every attempt of the round. Logged with who and why. Refused once finalized."""
    _require(round_, "closed")
    if not reason or not reason.strip():
        raise DomainError(_("Give a reason for the correction."))
    if question_id not in round_question_ids(round_):
        raise NotFound(_("That question was not asked in this round."))
    question = db.session.get(Question, question_id)
    if action == "rekey":
        ids = set(correct_choice_ids or [])
        valid = {c.id for c in question.choices}
        if not ids or not ids <= valid:
            raise DomainError(_("Choose the right answers among the question's choices."))
        if question.kind != "multiple" and len(ids) != 1:
            raise DomainError(_("This question takes exactly one right answer."))
        text = ",".join(str(i) for i in sorted(ids))
    elif action == "void":
        text = ""
    else:
        raise DomainError(_("Unknown correction."))
    change = RoundQuestionChange(round_id=round_.id, question_id=question_id, action=action,
                                 correct_choice_ids=text, reason=reason.strip(), actor_id=actor.id)
    db.session.add(change)
    db.session.flush()
    audit.log(actor, f"round.question.{action}", f"round:{round_.id}",
              {"question": question.key, "correct": text}, reason.strip())
    regrade_round(round_)
    if round_.prizes_confirmed_at is not None:
        # The ranking may have changed: the confirmed winners must be confirmed again.
        db.session.execute(delete(Prize).where(Prize.round_id == round_.id))
        round_.prizes_confirmed_at = None
        audit.log(actor, "round.prizes.cleared", f"round:{round_.id}", {}, "correction after confirmation")
    # The branch figures (S, hence the index) may have changed too: the collective
    # prizes are cleared the same way and must be confirmed again.
    collective = db.session.execute(select(CollectivePrize.unit_id).where(
        CollectivePrize.round_id == round_.id)).scalars().all()
    if collective:
        db.session.execute(delete(CollectivePrize).where(CollectivePrize.round_id == round_.id))
        audit.log(actor, "round.collective_prizes.cleared", f"round:{round_.id}",
                  {"units": sorted(collective)}, "correction after confirmation")
    db.session.flush()
    return change


def regrade_round(round_: Round) -> None:
    """Regrade every finished attempt of the round with its corrections, then rebuild the
    counting results, the counters and the prediction actual. Deterministic: the same
    stored answers and corrections always give the same scores."""
    from .attempts import regrade
    overrides = overrides_for(round_.id)
    for attempt in db.session.execute(select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.status == FINISHED).order_by(Attempt.id)).scalars():
        regrade(attempt, overrides)
    rebuild_round(round_)
    refresh_prediction_actual(round_)


# ---------------------------------------------------------------- item analysis

@dataclass
class ItemStats:
    question: Question
    answered: int
    correct: int
    facility: float | None
    discrimination: float | None  # point-biserial with the total score
    upper_lower: float | None     # share correct in the top 27 % minus the bottom 27 %
    voided: bool = False
    # The right choice ids grading used (answer_key: corrections included).
    right: set[int] = field(default_factory=set)
    flags: list[str] = field(default_factory=list)


def point_biserial(correct: list[bool], totals: list[float]) -> float | None:
    """r_pb = (M1 − M0) / s · sqrt(p·q), s the population standard deviation of totals.
    None when everyone scored the same or everyone answered alike."""
    n = len(totals)
    if n < 2:
        return None
    mean = sum(totals) / n
    s = math.sqrt(sum((t - mean) ** 2 for t in totals) / n)
    right = [t for t, ok in zip(totals, correct) if ok]
    wrong = [t for t, ok in zip(totals, correct) if not ok]
    if s == 0 or not right or not wrong:
        return None
    p = len(right) / n
    return (sum(right) / len(right) - sum(wrong) / len(wrong)) / s * math.sqrt(p * (1 - p))


def upper_lower_index(correct: list[bool], totals: list[float], share: float = 0.27) -> float | None:
    n = len(totals)
    k = max(1, int(round(n * share)))
    if n < 2 * k or n < 4:
        return None
    order = sorted(range(n), key=lambda i: (totals[i], i))
    lower, upper = order[:k], order[-k:]
    return (sum(correct[i] for i in upper) - sum(correct[i] for i in lower)) / k


def item_analysis(round_: Round) -> list[ItemStats]:
    """Per question of a closed round: facility (share right) and discrimination, with
    flags for negative discrimination, facility below 0.2 or above 0.95."""
    _require(round_, "closed", "finalized")
    overrides = overrides_for(round_.id)
    rows = db.session.execute(
        select(AttemptQuestion.question_id, AttemptQuestion.is_correct, Attempt.score)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.round_id == round_.id, Attempt.status == FINISHED)
        .order_by(AttemptQuestion.question_id, Attempt.id)).all()
    grouped: dict[int, tuple[list[bool], list[float]]] = {}
    for qid, ok, score in rows:
        bucket = grouped.setdefault(qid, ([], []))
        bucket[0].append(bool(ok))
        bucket[1].append(float(score or 0))
    questions = {q.id: q for q in db.session.execute(
        select(Question).where(Question.id.in_(list(grouped)))
        .options(selectinload(Question.choices))).scalars()}
    key = answer_key(list(grouped), round_.id, questions=questions.values(), overrides=overrides)
    out = []
    for qid, (correct, totals) in sorted(grouped.items()):
        voided = key[qid] is None
        n = len(correct)
        facility = sum(correct) / n if n and not voided else None
        stats = ItemStats(questions[qid], n, sum(correct), facility,
                          None if voided else point_biserial(correct, totals),
                          None if voided else upper_lower_index(correct, totals), voided,
                          key[qid] or set())
        if not voided:
            if stats.discrimination is not None and stats.discrimination < 0:
                stats.flags.append("negative_discrimination")
            if facility is not None and facility < 0.2:
                stats.flags.append("too_hard")
            if facility is not None and facility > 0.95:
                stats.flags.append("too_easy")
        out.append(stats)
    return out


# ---------------------------------------------------------------- live view

def live_counts(round_: Round) -> dict:
    """Started / finished / in progress, per branch and in total, from the counters."""
    rows = db.session.execute(select(RoundUnitStats).where(RoundUnitStats.round_id == round_.id)
                              ).scalars().all()
    units = []
    for s in sorted(rows, key=lambda s: (s.unit.position, s.unit.id)):
        units.append({"unit": s.unit.name, "unit_id": s.unit_id, "started": s.started,
                      "finished": s.finished, "in_progress": s.started - s.finished,
                      "participants": s.participants})
    total = {k: sum(u[k] for u in units) for k in ("started", "finished", "in_progress", "participants")}
    return {"round_id": round_.id, "state": round_state(round_), "units": units, "total": total,
            "at": utcnow().isoformat()}
