"""People: accounts and units (users), the audit log (audit), and the Vietnamese order
of names (names). The base the other domains build on; it imports none of them.

Its public surface is the three modules, imported from here:
`from quizapp.services.people import users, audit, names`.
"""
from . import audit, names, users
from .users import refresh_rosters

__all__ = ["audit", "names", "refresh_rosters", "users"]
