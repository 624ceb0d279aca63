"""Individual prizes of a round: proposed from the ranking, confirmed by an organizer.
`allot_prizes` also fills the branches' collective prizes (branches.standings).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from ...clock import utcnow
from ...extensions import db
from ...models import Prize, Round, User
from ...models.contest import PRIZE_TIERS
from ..people import audit
from .ranking import RankRow, ranking_head
from .rounds import finish_expired
from .state import hold, require


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
    the round sets. A tie that straddles two tiers or the last prize place is flagged.
    When the round does not let paper sheets win (Round.paper_prizes off), their rows are
    passed over: they keep their rank in the ranking, the places go to the next online
    attempts."""
    quota = [(tier, getattr(round_, f"prize_{tier}")) for tier in PRIZE_TIERS]
    # The prize places and the row after the last (a tie across it is flagged): the
    # head of the ranking, not all of it (a city round ranks tens of thousands).
    rows = ranking_head(round_, sum(count for _tier, count in quota) + 1,
                        online_only=not round_.paper_prizes)
    return [PrizeProposal(tier, row, flag) for tier, row, flag in allot_prizes(rows, quota)]


def confirm_prizes(actor: User, round_: Round) -> list[Prize]:
    """Store the proposed winners as confirmed (replacing an earlier confirmation). The
    round's expired attempts are settled first (finish_expired), so no late finisher is
    left out of a confirmed list. Under the round's grading lock, shared: a correction in
    flight is waited for, and none starts until these winners are stored (it then
    clears them)."""
    hold(round_, shared=True)
    require(round_, "closed", "finalized")
    finish_expired(round_)
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
