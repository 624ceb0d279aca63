"""Branch standings, the emulation index, branch pages and mastery by section.

Everything here reads the maintained counters (RoundUnitStats, RoundSectionStats,
Unit.active_roster, RoundResult per member of one branch) — never the attempts.

The emulation index of a branch in a round, with weights wP + wS + wG + wR = 100 (%):
    P = participation rate × 100           (participants ÷ active roster)
    S = sum of the counted best scores × 100 ÷ sum of their maximum scores, where a
        score is the attempt's points (partial credit counts its fraction)
    G = 50 + ((P + S)/2 − (P' + S')/2), kept within 0…100, where P', S' are the
        branch's figures in the previous round of the contest (G = 50 in the first)
    R = member-days of daily review in the round's period × 100 ÷ (active roster ×
        days of the period), at most 100 — the share of the days on which the average
        member reviewed (counters.after_review: a member counts once a day, in the
        round's opening-to-close window, local days counted inclusively)
    index = (wP·P + wS·S + wG·G + wR·R) ÷ 100
wR is 0 unless an organizer sets it; the term is then left out of the printed line.
Across a contest, P, S, G and R are averaged over the rounds that have opened, and the
index is computed from those averages.
Rounding happens once, before the index: P, S and G are rounded half up to two
decimals, and the index is computed exactly from those rounded figures (it has at most
four decimals). So the arithmetic printed beside a branch, with the figures as printed,
gives the printed index on a calculator (G uses the rounded P, S, P', S' too).
Ties: higher index → higher participation rate → higher average score; branches equal
on all three share a rank and are listed by name.

Hidden results: every function that returns scores takes the `viewer`. For a round whose
results the viewer may not see yet (services.contests.results_visible_to, the one rule),
the score figures (average, score sums, full scores, S, G, index and the previous round's
figures) are None, and the rows rank by participation alone; participation (participants,
rate, P) stays. A visible round whose previous round is hidden shows its own S and
average but no G or index (G is computed from the previous round's S). The contest's
figures are complete only when every opened round is; otherwise they too fall back to
participation. `FULL_VIEW`, the default, is the organizers' view: every figure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ...clock import utcnow
from ...extensions import db
from ...models import (Attempt, CollectivePrize, Contest, Round, RoundResult, RoundSectionStats,
                      RoundUnitStats, Section, Unit, User)
from ...models.attempts import IN_PROGRESS
from ..contests import (allot_prizes, hold, in_audience, overrides_for, results_visible_to,
                        round_state)
from ..errors import Conflict, DomainError
from ..learning.review import local_day
from ..people import audit, names
from .roster import roster

DEFAULT_WEIGHTS = (50, 40, 10)
# The `viewer` for whom every figure is shown: organizers, services, the CLI when asked.
FULL_VIEW = object()


def scores_shown(round_: Round, viewer) -> bool:
    """Whether the score figures of this round go to `viewer` (FULL_VIEW, a User, an
    anonymous visitor or None): services.contests.results_visible_to decides."""
    return viewer is FULL_VIEW or results_visible_to(round_, viewer)


def hidden_rounds(rounds: list[Round], viewer) -> list[Round]:
    """Those of `rounds` whose scores `viewer` may not see yet."""
    return [r for r in rounds if not scores_shown(r, viewer)]


@dataclass
class Weights:
    participation: int = 50
    score: int = 40
    improvement: int = 10
    review: int = 0

    @classmethod
    def of(cls, contest: Contest) -> "Weights":
        return cls(contest.weight_participation, contest.weight_score, contest.weight_improvement,
                   contest.weight_review or 0)

    def check(self) -> None:
        values = (self.participation, self.score, self.improvement, self.review)
        if any(v < 0 or v > 100 for v in values) or sum(values) != 100:
            raise DomainError(_("The weights must be whole percentages that add up to 100 "
                                "(now %(sum)d).", sum=sum(values)))


def set_weights(actor: User, contest: Contest, weights: Weights, public: bool) -> None:
    weights.check()
    before = Weights.of(contest)
    contest.weight_participation = weights.participation
    contest.weight_score = weights.score
    contest.weight_improvement = weights.improvement
    contest.weight_review = weights.review
    contest.public_standings = public
    audit.log(actor, "contest.weights", f"contest:{contest.id}",
              {"before": vars(before), "after": vars(weights), "public": public})
    db.session.flush()


@dataclass
class BranchRow:
    unit: Unit
    roster: int
    participants: int
    score_sum: int | None       # None (and the other score figures) when hidden
    full_scores: int | None
    max_score: int
    rate: float            # 0..1
    average: float | None  # points
    P: float
    S: float | None
    G: float | None
    index: float | None
    previous: float | None = None  # (P'+S')/2 of the previous round
    rank: int = 0
    tied: bool = False
    rounds: int = 1
    R: float | None = None      # the daily review figure (0..100)
    review_days: int = 0
    points_sum: int | None = 0  # the credit earned, hundredths of a question (average, S)

    @property
    def improvement(self) -> float | None:
        if self.previous is None or self.S is None:
            return None
        return (self.P + self.S) / 2 - self.previous

    @property
    def scores_hidden(self) -> bool:
        return self.S is None

    def hide_scores(self) -> None:
        """Keep participation only: the round's results are not shown to this viewer."""
        self.score_sum = self.points_sum = self.full_scores = self.average = self.S = None
        self.hide_index()

    def hide_index(self) -> None:
        """Drop what depends on the previous round's scores (G) and the index that holds it."""
        self.G = self.index = self.previous = None

    def arithmetic(self, w: Weights) -> str:
        """The index as a calculator line, with the very figures it is computed from;
        empty when the index is hidden from the viewer."""
        if self.index is None:
            return ""
        review = f" + {w.review}×{self.R or 0:.2f}" if w.review else ""
        return (f"({w.participation}×{self.P:.2f} + {w.score}×{self.S:.2f} + "
                f"{w.improvement}×{self.G:.2f}{review}) ÷ 100 = {format_index(self.index)}")


CENT = Decimal("0.01")


def round_figure(value) -> Decimal:
    """A figure as printed: half up to two decimals (the rounding a calculator user
    expects), from an exact value (Decimal or int) or a float."""
    if not isinstance(value, Decimal):
        value = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(numerator: int, denominator: int) -> Decimal:
    """numerator ÷ denominator × 100, rounded to two decimals; 0 when nothing to divide."""
    if not denominator:
        return Decimal("0.00")
    return round_figure(Decimal(numerator * 100) / Decimal(denominator))


def index_of(w: Weights, P: Decimal, S: Decimal, G: Decimal, R: Decimal = Decimal(0)) -> Decimal:
    """(wP·P + wS·S + wG·G + wR·R) ÷ 100, exact: integer weights times two-decimal figures."""
    return (w.participation * P + w.score * S + w.improvement * G + w.review * R) / 100


def period_days(round_: Round) -> int:
    """Local days from the round's opening to its close, both counted (R's denominator)."""
    return max(1, (local_day(round_.closes_at) - local_day(round_.opens_at)).days + 1)


def review_of(review_days: int, roster: int, days: int) -> Decimal:
    """R = review member-days × 100 ÷ (roster × days), at most 100, rounded once."""
    return min(Decimal("100.00"), percent_of(review_days, roster * days))


def improvement_of(P: Decimal, S: Decimal, previous: Decimal | None) -> Decimal:
    """G = 50 + (P + S)/2 − previous, kept within 0…100 and rounded once; 50 without a
    previous round."""
    if previous is None:
        return Decimal("50.00")
    return round_figure(min(Decimal(100), max(Decimal(0), 50 + (P + S) / 2 - previous)))


def format_index(value) -> str:
    """An index as printed everywhere: every decimal it has (at most four), at least two."""
    text = f"{Decimal(repr(value)) if isinstance(value, float) else value:.4f}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return text


def round_max_score(round_: Round) -> int:
    voided = sum(1 for v in overrides_for(round_.id).values() if v is None)
    return max(0, round_.question_count - voided)


def contest_rounds(contest: Contest) -> list[Round]:
    """The contest's rounds that have opened, in order."""
    return [r for r in sorted(contest.rounds, key=lambda r: (r.opens_at, r.id))
            if round_state(r) in ("open", "closed", "finalized")]


def branch_units(scope: Unit | None = None) -> list[Unit]:
    """Units that have a roster (the branches), within `scope` if given."""
    query = select(Unit).where(Unit.active_roster > 0)
    if scope is not None:
        query = query.where(Unit.path.startswith(scope.path, autoescape=True))
    return list(db.session.execute(query.order_by(Unit.position, Unit.id)).scalars())


def _stats(round_ids: list[int], unit_ids: list[int] | None = None) -> dict[tuple[int, int], RoundUnitStats]:
    if not round_ids:
        return {}
    query = select(RoundUnitStats).where(RoundUnitStats.round_id.in_(round_ids))
    if unit_ids is not None and len(unit_ids) <= 1000:
        query = query.where(RoundUnitStats.unit_id.in_(unit_ids))
    return {(s.round_id, s.unit_id): s for s in db.session.execute(query).scalars()}


def _figures(stats: RoundUnitStats | None, roster: int) -> tuple:
    participants = stats.participants if stats else 0
    score_sum = stats.score_sum if stats else 0
    # Points: hundredths of a question, partial credit included (attempts.finish): the
    # average and S read them, so half a question's credit counts as half.
    points_sum = stats.points_sum if stats else 0
    max_sum = stats.max_sum if stats else 0
    full = stats.full_scores if stats else 0
    rate = participants / roster if roster else 0.0
    average = points_sum / 100 / participants if participants else None
    return (participants, score_sum, full, rate, average, percent_of(participants, roster),
            percent_of(points_sum, max_sum * 100), points_sum)


def _rank(rows: list[BranchRow]) -> list[BranchRow]:
    # Without an index (hidden results) the rows rank by participation, then by name.
    rows.sort(key=lambda r: (-round(r.index, 6) if r.index is not None else 0, -round(r.rate, 9),
                             -(r.average if r.average is not None else -1),
                             names.word_key(r.unit.name), r.unit.id))
    previous_key = None
    for i, row in enumerate(rows):
        key = (round(row.index, 6) if row.index is not None else None, round(row.rate, 9),
               row.average)
        if key == previous_key:
            row.rank = rows[i - 1].rank
            row.tied = rows[i - 1].tied = True
        else:
            row.rank = i + 1
        previous_key = key
    return rows


def round_standings(round_: Round, scope: Unit | None = None, viewer=FULL_VIEW) -> list[BranchRow]:
    """Every branch for one round, ranked by the emulation index; for a `viewer` who may
    not see the round's results, participation only (see the module docstring)."""
    contest = round_.contest
    weights = Weights.of(contest)
    # The previous round is the one that opened before this one (drafts never count).
    opened = [r for r in contest_rounds(contest) if (r.opens_at, r.id) < (round_.opens_at, round_.id)]
    prev_round = opened[-1] if opened else None
    units = branch_units(scope)
    stats = _stats([round_.id] + ([prev_round.id] if prev_round else []),
                   [u.id for u in units] if scope is not None else None)
    max_score = round_max_score(round_)
    days = period_days(round_)
    rows = []
    for unit in units:
        participants, score_sum, full, rate, average, P, S, points_sum = _figures(
            stats.get((round_.id, unit.id)), unit.active_roster)
        previous = None
        if prev_round is not None:
            *_rest, P0, S0, _points = _figures(stats.get((prev_round.id, unit.id)), unit.active_roster)
            previous = (P0 + S0) / 2
        G = improvement_of(P, S, previous)
        stat = stats.get((round_.id, unit.id))
        review_days = stat.review_days if stat else 0
        R = review_of(review_days, unit.active_roster, days)
        value = index_of(weights, P, S, G, R)
        rows.append(BranchRow(unit, unit.active_roster, participants, score_sum, full, max_score,
                              rate, average, float(P), float(S), float(G), float(value),
                              None if previous is None else float(previous), R=float(R),
                              review_days=review_days, points_sum=points_sum))
    if not scores_shown(round_, viewer):
        for row in rows:
            row.hide_scores()
    elif prev_round is not None and not scores_shown(prev_round, viewer):
        for row in rows:
            row.hide_index()
    return _rank(rows)


def contest_standings(contest: Contest, scope: Unit | None = None, viewer=FULL_VIEW) -> list[BranchRow]:
    """Branches across the contest: P, S and G averaged over the rounds that opened. For a
    `viewer` who may not see every opened round's index, participation only."""
    weights = Weights.of(contest)
    rounds = contest_rounds(contest)
    per_round = {r.id: {row.unit.id: row for row in round_standings(r, scope, viewer)} for r in rounds}
    rows = []
    for unit in branch_units(scope):
        mine = [per_round[r.id][unit.id] for r in rounds if unit.id in per_round[r.id]]
        n = len(mine) or 1
        # Averages of the printed per-round figures, rounded once more as printed.
        P = round_figure(sum((round_figure(r.P) for r in mine), Decimal(0)) / n)
        if any(r.index is None for r in mine):
            row = BranchRow(unit, unit.active_roster, sum(r.participants for r in mine), None, None,
                            sum(r.max_score for r in mine), float(P) / 100, None, float(P), None,
                            None, None, rounds=len(mine))
            rows.append(row)
            continue
        S = round_figure(sum((round_figure(r.S) for r in mine), Decimal(0)) / n)
        G = round_figure(sum((round_figure(r.G) for r in mine), Decimal(0)) / n) if mine \
            else Decimal("50.00")
        R = round_figure(sum((round_figure(r.R or 0) for r in mine), Decimal(0)) / n)
        participants = sum(r.participants for r in mine)
        points_sum = sum(r.points_sum for r in mine)
        value = index_of(weights, P, S, G, R)
        row = BranchRow(unit, unit.active_roster, participants, sum(r.score_sum for r in mine),
                        sum(r.full_scores for r in mine), sum(r.max_score for r in mine),
                        float(P) / 100, (points_sum / 100 / participants) if participants else None,
                        float(P), float(S), float(G), float(value), rounds=len(mine), R=float(R),
                        review_days=sum(r.review_days for r in mine), points_sum=points_sum)
        rows.append(row)
    return _rank(rows)


# ---------------------------------------------------------------- branch page

@dataclass
class MemberCell:
    score: int | None = None        # questions fully right
    max_score: int | None = None
    time_taken: int | None = None   # None for a paper sheet (not measured: shown "—")
    in_progress: bool = False
    finished: bool = False   # took part (a counted result); the score may still be hidden
    points: int | None = None       # the credit earned, hundredths of a question (shown)


@dataclass
class BranchPage:
    unit: Unit
    contest: Contest | None
    rounds: list[Round]
    members: list[User]
    cells: dict[tuple[int, int], MemberCell]
    trend: list[tuple[Round, BranchRow | None]]
    open_round: Round | None
    not_yet: list[User] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)   # ids of rounds whose scores are withheld


def latest_contest() -> Contest | None:
    rounds = db.session.execute(select(Round).where(Round.scheduled_at.is_not(None))
                                .order_by(Round.opens_at.desc())).scalars().first()
    return rounds.contest if rounds else None


def branch_page(unit: Unit, contest: Contest | None, viewer=FULL_VIEW) -> BranchPage:
    """Roster × rounds for one branch, its trend and who has not yet taken the open round.
    Reads RoundResult for this branch's members only. Scores of a round whose results
    `viewer` may not see are left out (the cell says only that the member took part)."""
    members = roster(unit)
    rounds = contest_rounds(contest) if contest else []
    hidden = {r.id for r in hidden_rounds(rounds, viewer)}
    cells: dict[tuple[int, int], MemberCell] = {}
    member_ids = [m.id for m in members]
    if rounds and member_ids:
        # Plain columns, not objects: a busy branch has hundreds of results per round.
        for user_id, round_id, score, points, max_score, taken, on_paper in db.session.execute(
                select(RoundResult.user_id, RoundResult.round_id, RoundResult.score, RoundResult.points,
                       RoundResult.max_score, RoundResult.time_taken_seconds, Attempt.on_paper)
                .join(Attempt, Attempt.id == RoundResult.attempt_id).where(
                    RoundResult.round_id.in_([x.id for x in rounds]),
                    RoundResult.unit_id == unit.id, RoundResult.user_id.in_(member_ids))):
            if round_id in hidden:
                score = points = max_score = None
            if on_paper:
                taken = None
            cells[(user_id, round_id)] = MemberCell(score, max_score, taken, finished=True,
                                                    points=points)
        for user_id, round_id in db.session.execute(select(Attempt.user_id, Attempt.round_id).where(
                Attempt.round_id.in_([x.id for x in rounds]), Attempt.user_id.in_(member_ids),
                Attempt.status == IN_PROGRESS)):
            cells.setdefault((user_id, round_id), MemberCell()).in_progress = True
    trend = []
    for r in rounds:
        row = next((x for x in round_standings(r, unit, viewer) if x.unit.id == unit.id), None)
        trend.append((r, row))
    open_round = next((r for r in reversed(rounds) if round_state(r) == "open"), None)
    page = BranchPage(unit, contest, rounds, members, cells, trend, open_round, hidden=hidden)
    if open_round:
        page.not_yet = [m for m in members if m.counts_in_movement
                        and not cells.get((m.id, open_round.id), MemberCell()).finished]
    return page


def reminder_text(page: BranchPage, base_url: str) -> str:
    """A message to paste into Zalo or SMS for the members who have not taken part."""
    round_ = page.open_round
    if round_ is None:
        return ""
    listed = ", ".join(m.full_name for m in page.not_yet[:60])
    more = len(page.not_yet) - 60
    if more > 0:
        listed += _(" and %(n)d more", n=more)
    return _("%(unit)s kindly reminds the comrades who have not yet taken part: the round "
             "“%(round)s” of the contest “%(contest)s” closes at %(closes)s. Please log in at "
             "%(url)s and complete it before then. Not yet taken part (%(n)d): %(names)s.",
             unit=page.unit.name, round=round_.title, contest=round_.contest.title,
             closes=_clock_time(round_.closes_at), url=base_url, n=len(page.not_yet), names=listed)


def _clock_time(value) -> str:
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%H:%M %d/%m/%Y")


# ---------------------------------------------------------------- mastery

def top_sections() -> list[Section]:
    return list(db.session.execute(select(Section).where(Section.parent_id.is_(None))
                                   .order_by(Section.position)).scalars())


def mastery(rounds: list[Round], units: list[Unit], viewer=FULL_VIEW) -> dict[tuple[int, int], tuple[int, int]]:
    """(unit id, top-level section id) → (answered, right), summed over those of the rounds
    whose results `viewer` may see (right answers are scores)."""
    rounds = [r for r in rounds if scores_shown(r, viewer)]
    sections = db.session.execute(select(Section)).scalars().all()
    parent = {s.id: s.parent_id for s in sections}

    def top(section_id: int) -> int:
        while parent.get(section_id) is not None:
            section_id = parent[section_id]
        return section_id

    out: dict[tuple[int, int], list[int]] = {}
    if not rounds or not units:
        return {}
    unit_ids = [u.id for u in units]
    for start in range(0, len(unit_ids), 1000):
        for unit_id, section_id, answered, right in db.session.execute(
                select(RoundSectionStats.unit_id, RoundSectionStats.section_id,
                       func.sum(RoundSectionStats.answered), func.sum(RoundSectionStats.correct))
                .where(RoundSectionStats.round_id.in_([r.id for r in rounds]),
                       RoundSectionStats.unit_id.in_(unit_ids[start:start + 1000]))
                .group_by(RoundSectionStats.unit_id, RoundSectionStats.section_id)):
            cell = out.setdefault((unit_id, top(section_id)), [0, 0])
            cell[0] += int(answered or 0)
            cell[1] += int(right or 0)
    return {k: (v[0], v[1]) for k, v in out.items()}


def ward_rate(round_: Round) -> float:
    """Participants ÷ roster over every branch, in per cent: two sums over the counters."""
    roster_total = db.session.scalar(select(func.sum(Unit.active_roster))) or 0
    participants = db.session.scalar(select(func.sum(RoundUnitStats.participants)).where(
        RoundUnitStats.round_id == round_.id)) or 0
    return 100 * participants / roster_total if roster_total else 0.0


def own_branch_rate(user: User) -> tuple[Round, BranchRow] | None:
    """For a member's home page: their branch's figures in the latest round that opened
    of a contest they belong to."""
    contest = latest_contest()
    if contest is None:
        return None
    rounds = contest_rounds(contest)
    if not rounds or user.unit.active_roster == 0:
        return None
    round_ = rounds[-1]
    if not in_audience(user, contest):
        return None
    row = next((r for r in round_standings(round_, user.unit, user) if r.unit.id == user.unit_id), None)
    return (round_, row) if row else None


def public_contests() -> list[Contest]:
    return list(db.session.execute(select(Contest).where(Contest.public_standings.is_(True))
                                   .order_by(Contest.created_at.desc())).scalars())


# ---------------------------------------------------------------- collective prizes

# One first, one second and one third prize for branches in a round.
COLLECTIVE_QUOTA = [("first", 1), ("second", 1), ("third", 1)]
COLLECTIVE_TIERS = [tier for tier, _n in COLLECTIVE_QUOTA]


@dataclass
class CollectiveProposal:
    tier: str
    row: BranchRow
    tie_at_boundary: bool = False


def propose_collective_prizes(round_: Round) -> list[CollectiveProposal]:
    """Branches proposed for the round's collective prizes: the branch standings by the
    emulation index (ties as in round_standings), branches without a participant left
    out, places filled by COLLECTIVE_QUOTA. Branches tied across two tiers or across
    the last prize place are flagged (contest.allot_prizes)."""
    rows = [row for row in round_standings(round_) if row.participants]
    return [CollectiveProposal(tier, row, flag)
            for tier, row, flag in allot_prizes(rows, COLLECTIVE_QUOTA)]


def proposal_fingerprint(proposals: list[CollectiveProposal]) -> str:
    """What the organizer saw: tier, branch and index of every proposed place. The
    confirm form carries it back, so a proposal that changed in between (a late finish,
    a correction, a roster change) is never confirmed unseen."""
    return ";".join(f"{p.tier}:{p.row.unit.id}:{format_index(p.row.index)}" for p in proposals)


def confirm_collective_prizes(actor: User, round_: Round, seen: str,
                              ties_settled: bool = False) -> list[CollectivePrize]:
    """Store the proposed collective prizes as confirmed by `actor` (replacing an earlier
    confirmation), with the figures shown, and log it.

    Raises Conflict unless the round is closed or finalized, when nothing is proposed,
    or when the proposal differs from `seen` (proposal_fingerprint of the page the
    organizer confirmed); DomainError when the proposal has a tie across prize places
    and the organizer did not say they settled it (`ties_settled`). Under the round's
    grading lock, shared, as the individual prizes: a correction in flight is waited
    for, and none starts until these are stored (it then clears them)."""
    hold(round_, shared=True)
    state = round_state(round_)
    if state not in ("closed", "finalized"):
        raise Conflict(_("Collective prizes can be confirmed once the round is closed."))
    proposals = propose_collective_prizes(round_)
    if not proposals:
        raise Conflict(_("No branch took part: there is nothing to confirm."))
    if proposal_fingerprint(proposals) != seen:
        raise Conflict(_("The proposed branches changed since the page was opened. Check the "
                         "new proposal and confirm again."))
    if any(p.tie_at_boundary for p in proposals) and not ties_settled:
        raise DomainError(_("Branches are tied across prize places. Settle the tie and tick "
                            "the box to confirm."))
    weights = Weights.of(round_.contest)
    db.session.execute(delete(CollectivePrize).where(CollectivePrize.round_id == round_.id))
    now = utcnow()
    prizes = [CollectivePrize(
        round_id=round_.id, unit_id=p.row.unit.id, tier=p.tier, rank=p.row.rank,
        roster=p.row.roster, participants=p.row.participants, participation=f"{p.row.P:.2f}",
        score=f"{p.row.S:.2f}", improvement=f"{p.row.G:.2f}", index_value=format_index(p.row.index),
        arithmetic=p.row.arithmetic(weights), tie_flagged=p.tie_at_boundary,
        confirmed_by_id=actor.id, confirmed_at=now) for p in proposals]
    db.session.add_all(prizes)
    audit.log(actor, "round.collective_prizes", f"round:{round_.id}", {
        "weights": vars(weights),
        "winners": [[p.tier, p.row.unit.name, p.row.rank, format_index(p.row.index),
                     p.tie_at_boundary] for p in proposals]})
    db.session.flush()
    return prizes


def confirmed_collective_prizes(round_: Round) -> list[CollectivePrize]:
    order = {tier: i for i, tier in enumerate(COLLECTIVE_TIERS)}
    prizes = db.session.execute(select(CollectivePrize).where(
        CollectivePrize.round_id == round_.id)).scalars().all()
    return sorted(prizes, key=lambda p: (order.get(p.tier, len(order)), p.rank, p.id))
