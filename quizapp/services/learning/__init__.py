"""Learning that sticks: the daily review (review.py). Others call what is named here;
the branch counters listen to hooks.review_answered."""
from . import hooks
from .review import (BranchReview, HomeReview, SectionMastery, Serving, Today, answer,
                     branch_activity, feedback, get_own_card, home, mastery, serve,
                     start_today, streak, today)

__all__ = ["hooks", "BranchReview", "HomeReview", "SectionMastery", "Serving", "Today", "answer",
           "branch_activity", "feedback", "get_own_card", "home", "mastery", "serve",
           "start_today", "streak", "today"]
