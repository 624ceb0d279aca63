"""Contests and their rounds: the round's one state, draw plans, taking a round,
corrections and the one answer key, sealing of keys during a round, rankings (a pure
read), prizes and item analysis. Uses attempts; knows no branch (the branch counters
follow through attempts.hooks and contests.hooks, connected by branches).

Modules: state (round_state and visibility), rounds (lifecycle, taking a round, the
prediction, live counts), extra_time (a member's extra minutes), draw_plan, answer_key, corrections, ranking, prizes,
item_analysis, sealing, hooks. Callers import from here.
"""
from .. import attempts
from . import draw_plan, extra_time, hooks, paper, sealing
from .answer_key import answer_key, corrections
from .corrections import correct_question, overrides_for, regrade_round, round_question_ids
from .item_analysis import ItemStats, item_analysis, point_biserial, upper_lower_index
from .prizes import PrizeProposal, allot_prizes, confirm_prizes, confirmed_prizes, propose_prizes
from .ranking import (RANKING_PAGE_SIZE, RankingPage, RankRow, contest_ranking,
                      contest_ranking_page, member_rank,
                      ranking, ranking_head, ranking_page, share_of)
from .rounds import (FinalizeBlockers, MemberRoundStatus, RoundSettings, close_now,
                     compute_prediction_actual, create_contest, create_round, finalize,
                     finalize_blockers, finish_expired, live_counts,
                     member_attempts, member_round_status, prediction_actual,
                     publish_results, rebuild_round, refresh_prediction_actual, schedule,
                     set_prediction, start_round_attempt, unschedule, unsettled_count,
                     update_round)
from .state import (get_round_for_member, hold, in_audience, local_time, member_rounds,
                    ranking_visible, require, results_visible, results_visible_to, round_state,
                    state_label)


def connect_hooks() -> None:
    """Give attempts the rounds' answer key (corrections included). Called once by
    create_app; calling it again changes nothing."""
    attempts.hooks.provide_round_answer_key(answer_key)


__all__ = ["FinalizeBlockers", "ItemStats", "MemberRoundStatus", "PrizeProposal", "RankRow", "RoundSettings",
    "allot_prizes", "answer_key", "close_now", "compute_prediction_actual",
    "confirm_prizes", "confirmed_prizes", "connect_hooks", "contest_ranking", "contest_ranking_page",
    "correct_question", "corrections", "create_contest", "create_round", "draw_plan",
    "extra_time",
    "finalize", "finalize_blockers", "finish_expired", "get_round_for_member", "hold", "hooks",
    "in_audience",
    "item_analysis", "live_counts", "paper", "local_time", "member_attempts", "member_rank",
    "member_round_status", "member_rounds", "overrides_for", "point_biserial",
    "prediction_actual", "propose_prizes", "publish_results", "ranking", "ranking_head", "ranking_page",
    "ranking_visible", "RANKING_PAGE_SIZE", "RankingPage",
    "rebuild_round", "refresh_prediction_actual", "regrade_round", "require",
    "results_visible", "results_visible_to", "round_question_ids", "round_state",
    "schedule", "sealing", "set_prediction", "share_of", "start_round_attempt",
    "state_label", "unschedule", "unsettled_count", "update_round", "upper_lower_index"]
