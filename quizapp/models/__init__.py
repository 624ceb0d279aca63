"""All models, imported here so Alembic and the app see one metadata."""
from .attempts import Attempt, AttemptQuestion
from .bank import BankRevision, Choice, Question, Section
from .contest import (AuditLog, CollectivePrize, Contest, ContestAudience, Prize, Round, RoundExtraTime,
                      RoundQuestionChange, RoundResult, RoundSectionStats, RoundUnitStats)
from .learning import ReviewCard, ReviewLog
from .meeting import MeetingAnswer, MeetingPlayer, MeetingQuestion, MeetingSession
from .org import ROLES, Unit, User

__all__ = ["Attempt", "AttemptQuestion", "AuditLog", "BankRevision", "Choice", "CollectivePrize", "Contest", "ContestAudience",
           "MeetingAnswer", "MeetingPlayer", "MeetingQuestion", "MeetingSession",
           "Prize", "Question", "ReviewCard", "ReviewLog", "ROLES", "Round", "RoundExtraTime", "RoundQuestionChange", "RoundResult", "RoundSectionStats",
           "RoundUnitStats", "Section", "Unit", "User"]
