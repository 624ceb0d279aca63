"""All models, imported here so Alembic and the app see one metadata."""
from .attempts import Attempt, AttemptQuestion
from .bank import Choice, Question, Section
from .org import ROLES, Unit, User

__all__ = ["Attempt", "AttemptQuestion", "Choice", "Question", "Section", "ROLES", "Unit", "User"]
