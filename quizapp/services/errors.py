"""Domain errors. One handler in the app turns them into a flash, a page or JSON."""
from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; `message` is shown to the user (already translated)."""

    status_code = 400
    # Whether the request's work so far is kept when this error ends the request.
    commit = False

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class DeadlinePassed(DomainError):
    """Too late: the attempt has been finished with what was saved before, and that
    finishing is kept (committed) although the request itself is refused."""

    status_code = 409
    commit = True
