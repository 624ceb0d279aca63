"""Contests and their rounds: creating and editing them, the lifecycle (schedule, close,
finalize, publish), taking a round, the tie-break prediction and the live view.

A round's state is contests.state.round_state; every transition checks it and raises
Conflict when it is wrong.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update

from ...clock import utcnow
from ...extensions import db
from ...models import Attempt, Contest, Round, RoundResult, RoundUnitStats, Unit, User
from ...models.attempts import FINISHED, IN_PROGRESS
from ...models.contest import QUESTION_POOLS
from .. import attempts
from ..errors import Conflict, DomainError, NotFound
from ..people import audit
from . import draw_plan, extra_time, hooks
from .state import hold, in_audience, local_time, require, round_state, state_label


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
    paper_prizes: bool = True

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
                   "prize_third", "prize_consolation", "paper_prizes")


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
    if round_.opens_at <= utcnow():
        hooks.send(hooks.results_rebuilt, round_)  # review days already in its period
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
        if settings.closes_at != round_.closes_at:
            # Its counters are rebuilt below, after deadlines move (which may finish
            # attempts): locked before any of it.
            hooks.send(hooks.results_rebuild_coming, round_)
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
    if {"opens_at", "closes_at"} & set(changed):
        # The review figure counts the review days within the round's period.
        hooks.send(hooks.results_rebuilt, round_)
    return changed


def _extend_deadlines(round_: Round) -> None:
    """After the close moved later: attempts in progress whose deadline was cut by the old
    close get min(start + time limit, new close). Ones already past deadline + grace are
    finished first, with what they saved."""
    extras = extra_time.extras_of(round_)
    for attempt in db.session.execute(select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS)).scalars():
        if attempts.expire_if_overdue(attempt):
            continue
        if attempt.on_paper:  # entered after the close: its window moves with it
            attempt.deadline = paper_deadline(round_)
            continue
        attempt.deadline = extra_time.deadline_for(round_, attempt.started_at,
                                                   extras.get(attempt.user_id, 0),
                                                   attempt.time_limit_seconds)


def schedule(actor: User, round_: Round) -> None:
    """draft → scheduled (open at opens_at). Refused if the window has already ended."""
    require(round_, "draft")
    if utcnow() >= round_.closes_at:
        raise Conflict(_("The round's window is already over; change the times first."))
    round_.scheduled_at = utcnow()
    audit.log(actor, "round.schedule", f"round:{round_.id}")
    db.session.flush()


def unschedule(actor: User, round_: Round) -> None:
    """scheduled → draft, only before it opens."""
    require(round_, "scheduled")
    round_.scheduled_at = None
    audit.log(actor, "round.unschedule", f"round:{round_.id}")
    db.session.flush()


def close_now(actor: User, round_: Round, reason: str) -> None:
    """open → closed now. Attempts in progress keep nothing beyond now: their deadline is
    cut to the new close time."""
    require(round_, "open")
    now = utcnow()
    audit.log(actor, "round.close", f"round:{round_.id}", {"closes_at": [round_.closes_at, now]}, reason)
    round_.closes_at = now
    extras = extra_time.extras_of(round_)
    db.session.execute(update(Attempt).where(
        Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS, Attempt.deadline > now,
        Attempt.on_paper.is_(False), Attempt.user_id.not_in(list(extras) or [0]))
        .values(deadline=now).execution_options(synchronize_session=False))
    # A member with extra time keeps it after the close, as for a scheduled close.
    for attempt in db.session.execute(select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS,
            Attempt.on_paper.is_(False), Attempt.user_id.in_(list(extras) or [0]))).scalars():
        attempt.deadline = min(attempt.deadline, now + timedelta(minutes=extras[attempt.user_id]))
    db.session.flush()


@dataclass
class FinalizeBlockers:
    """What finalizing now would cut short: paper sheets printed but not entered while
    their entry is still open (per branch: name → count) and members still working past
    the close on their extra time."""
    unentered: list[tuple[str, int]]
    extra_time: int
    entry_until: datetime

    @property
    def sheets(self) -> int:
        return sum(n for _name, n in self.unentered)

    def __bool__(self) -> bool:
        return bool(self.sheets or self.extra_time)

    def message(self) -> str:
        """The refusal, naming what would be lost."""
        parts = []
        if self.sheets:
            parts.append(ngettext(
                "%(num)d paper sheet is printed but not entered yet (%(branches)s); entry is "
                "open until %(until)s",
                "%(num)d paper sheets are printed but not entered yet (%(branches)s); entry is "
                "open until %(until)s", self.sheets,
                branches=", ".join(f"{name}: {n}" for name, n in self.unentered),
                until=local_time(self.entry_until)))
        if self.extra_time:
            parts.append(ngettext("%(num)d member is still working on his extra time",
                                  "%(num)d members are still working on their extra time",
                                  self.extra_time))
        return _("The round was not finalized: %(what)s. Finalizing now would finish them as "
                 "they are: a sheet not entered counts with no answers, an attempt with what "
                 "it saved. Enter the sheets or wait; or tick “Finalize anyway”.",
                 what="; ".join(parts))


def finalize_blockers(round_: Round) -> FinalizeBlockers:
    """Two statements: the round's unentered sheets whose entry is open, per branch, and
    its online attempts in progress running past the close (extra time) whose deadline
    + grace has not passed yet."""
    now = utcnow()
    unentered = [(name, n) for name, n in db.session.execute(
        select(Unit.name, func.count(Attempt.id)).join(Unit, Unit.id == Attempt.unit_id).where(
            Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS,
            Attempt.on_paper.is_(True), Attempt.deadline >= now)
        .group_by(Unit.id, Unit.name, Unit.path).order_by(Unit.path))]
    working = db.session.scalar(select(func.count(func.distinct(Attempt.user_id))).where(
        Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS,
        Attempt.on_paper.is_(False), Attempt.deadline > round_.closes_at,
        Attempt.deadline >= attempts.overdue_cutoff())) or 0
    return FinalizeBlockers(unentered, working, paper_deadline(round_))


def finalize(actor: User, round_: Round, anyway: bool = False) -> None:
    """closed → finalized: attempts left open are finished first; then nothing changes.

    Refused (Conflict, nothing written) while paper sheets wait to be entered or members
    work on their extra time (finalize_blockers), unless the organizer says `anyway`:
    then they are finished as they are, and the log says how many. Under the round's
    grading lock, shared: never beside a correction."""
    hold(round_, shared=True)
    require(round_, "closed")
    blockers = finalize_blockers(round_)
    if blockers and not anyway:
        raise Conflict(blockers.message())
    _finish_round_attempts(round_)
    refresh_prediction_actual(round_)
    round_.finalized_at = utcnow()
    audit.log(actor, "round.finalize", f"round:{round_.id}",
              {"unentered_sheets": blockers.sheets, "extra_time_cut": blockers.extra_time}
              if blockers else None)
    db.session.flush()


def finish_expired(round_: Round) -> int:
    """Settle the round: finish its attempts whose deadline + grace has passed, with
    what they saved (what the sweeper `attempts close-overdue` does for every round).
    An explicit step — the organizer's settle action, prize confirmation, finalize —
    never a side effect of reading: `ranking` leaves them out until then and
    `unsettled_count` says how many. Returns how many this call finished."""
    # Past the sweeper's cutoff (deadline + grace, and the longest believed queue wait
    # when saves are judged by the proxy's receive time): a submit sent in time may
    # still be waiting for a worker until then.
    return sum(attempts.finish(a, reason="expired") for a in db.session.execute(select(Attempt).where(
        Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS,
        Attempt.deadline.is_not(None), Attempt.deadline < attempts.overdue_cutoff())).scalars())


def unsettled_count(round_: Round) -> int:
    """How many of the round's attempts are past deadline + grace but not finished yet
    (nobody has settled them: see finish_expired). One statement; 0 before any
    deadline passed."""
    cutoff = attempts.overdue_cutoff()
    return db.session.scalar(select(func.count()).select_from(Attempt).where(
        Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS,
        Attempt.deadline.is_not(None), Attempt.deadline < cutoff)) or 0


def _finish_round_attempts(round_: Round) -> None:
    for attempt in db.session.execute(select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.status == IN_PROGRESS)).scalars():
        attempts.finish(attempt, reason="expired")


def publish_results(actor: User, round_: Round) -> None:
    require(round_, "closed", "finalized")
    if round_.published_at is None:
        round_.published_at = utcnow()
        audit.log(actor, "round.publish", f"round:{round_.id}")
    db.session.flush()


def member_attempts(user: User, round_: Round) -> list[Attempt]:
    return list(db.session.execute(select(Attempt).where(
        Attempt.round_id == round_.id, Attempt.user_id == user.id)
        .order_by(Attempt.attempt_no)).scalars())


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
            if not attempt.on_paper:  # a paper sheet is not continued online
                status.in_progress = attempt
        else:
            status.finished += 1
    for result in db.session.execute(select(RoundResult).where(
            RoundResult.user_id == user.id, RoundResult.round_id.in_(ids))).scalars():
        out[result.round_id].result = result
    return out



def start_round_attempt(user: User, round_: Round, rng: random.Random | None = None) -> Attempt:
    """Start (or resume) the member's attempt at an open round.

    Starting twice returns the attempt in progress. Refused before opening or after
    closing (the message names the times), outside the audience (NotFound), and when
    the allowed attempts are used up.
    """
    if not in_audience(user, round_.contest):
        raise NotFound(_("Round not found."))
    state = round_state(round_)
    if state != "open":
        raise Conflict(_("This round is open from %(opens)s to %(closes)s.",
                         opens=local_time(round_.opens_at), closes=local_time(round_.closes_at)))
    existing = member_attempts(user, round_)
    for attempt in existing:
        if attempt.status == IN_PROGRESS and attempt.on_paper:
            raise Conflict(_("Your answers for this round are on a paper sheet; your branch "
                             "secretary enters them."))
        if attempt.status == IN_PROGRESS and not attempts.expire_if_overdue(attempt):
            return attempt
    if len(existing) >= round_.attempts_allowed:
        raise Conflict(ngettext("You have used the %(num)d attempt allowed in this round.",
                                "You have used all %(num)d attempts allowed in this round.",
                                round_.attempts_allowed))
    now = utcnow()
    attempt = draw_round_attempt(user, round_, len(existing) + 1, rng,
                                 extra_time.deadline_for(round_, now, extra_time.extra_minutes(user.id, round_.id)))
    if not attempts.insert_round_attempt(attempt):
        # A concurrent start (double click on two workers) won the race: use its attempt.
        again = [a for a in member_attempts(user, round_) if a.status == IN_PROGRESS]
        if again:
            return again[0]
        raise Conflict(_("Please try again."))
    return attempt


def draw_round_attempt(user: User, round_: Round, attempt_no: int, rng: random.Random | None,
                       deadline: datetime, on_paper: bool = False) -> Attempt:
    """A new, not yet stored attempt of `user` at the round: questions drawn with the
    round's plan, question and choice order frozen (shuffled as the round says). The
    one draw of a round, online (start_round_attempt) and on paper (contests.paper)."""
    rng = rng or random.Random()
    rules, _errors = draw_plan.parse(round_.draw_plan)
    # Kinds and choice ids come with the draw pools (cached per bank revision): a start
    # loads no question and no choice.
    questions = draw_plan.draw_orders(rules, round_.question_count, rng, round_.question_pool)
    if round_.shuffle_questions:
        rng.shuffle(questions)
    attempt = Attempt(user_id=user.id, kind="contest", feedback="exam", title=round_.title,
                      round_id=round_.id, attempt_no=attempt_no, unit_id=user.unit_id,
                      started_at=utcnow(), status=IN_PROGRESS, max_score=len(questions),
                      time_limit_seconds=round_.time_limit_seconds, deadline=deadline,
                      on_paper=on_paper)
    attempts.freeze_orders(attempt, questions, rng, shuffle_choices=round_.shuffle_choices)
    return attempt


def paper_deadline(round_: Round) -> datetime:
    """Until when a paper sheet of the round may be entered: its close + PAPER_ENTRY_HOURS."""
    return round_.closes_at + timedelta(hours=current_app.config["PAPER_ENTRY_HOURS"])


def set_prediction(attempt: Attempt, value: int | None) -> None:
    """Save the tie-break prediction; locked once the attempt is finished (the write is
    conditional on the attempt still being in progress, so it cannot race a finish)."""
    if attempt.round_id is None:
        raise DomainError(_("This quiz has no prediction question."))
    attempts.ensure_open(attempt)
    if value is not None and not 0 <= value <= 10_000_000:
        raise DomainError(_("The prediction must be a whole number from 0 to 10,000,000."))
    result = db.session.execute(update(Attempt).where(
        Attempt.id == attempt.id, Attempt.status == IN_PROGRESS).values(prediction=value)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(attempt)
        raise Conflict(_("The prediction can no longer change."))
    db.session.refresh(attempt)


def rebuild_round(round_: Round) -> None:
    """Recompute the round's counting results and branch counters from the attempts
    (branches.counters, through hooks.results_rebuilt)."""
    hooks.send(hooks.results_rebuilt, round_)


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


def prediction_actual(round_: Round) -> int | None:
    """The prediction question's actual value as rankings and pages show it, read
    without writing: while the round is closed (not finalized), computed now from its
    finished attempts; otherwise the stored value (frozen by finalize; None before
    close). One statement at most."""
    if round_.prediction_kind and round_state(round_) == "closed":
        return compute_prediction_actual(round_)
    return round_.prediction_actual


def refresh_prediction_actual(round_: Round) -> int | None:
    """Compute and store the actual value once the round is closed (finalize and a
    correction do; a page reads prediction_actual instead)."""
    if round_.prediction_kind and round_state(round_) in ("closed", "finalized") \
            and round_.finalized_at is None:
        round_.prediction_actual = compute_prediction_actual(round_)
        db.session.flush()
    return round_.prediction_actual


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
