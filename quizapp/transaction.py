"""One transaction per request, committed in one place.

Services flush; views do not commit. `TransactionalFlask.dispatch_request` commits once,
right after the view returned and inside Flask's normal error handling, so a commit
that fails is handled like any error of the view (a 503 when the database is away):

- a request that may write (POST, PUT, PATCH, DELETE) commits when its view returned a
  response below 400;
- a GET, HEAD or OPTIONS request never commits (a GET never writes:
  tests/security/test_get_never_writes.py), without exception: even the member's own
  expired attempt is finished by a POST (its "time is up" page) or the sweeper;
- a DomainError whose work must be kept (`exc.commit`: the finish of a late submit, the
  answers a plain form saved with a refused check) commits before the error handler
  renders it; every other error rolls back (errors.py, and Flask-SQLAlchemy's teardown).

CLI commands commit once each, at their end (cli.py).

A hot page that only reads (`autocommit_read`: the quiz page) runs its statements on
PostgreSQL without a transaction around them: no BEGIN and no ROLLBACK, two of the
page's five round trips to the database. Nothing changes for what it reads: under
PostgreSQL's READ COMMITTED every statement takes its own snapshot, in a transaction
or not.
"""
from __future__ import annotations

import functools

from flask import Flask, request

from .extensions import db
from .services.errors import DomainError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TransactionalFlask(Flask):
    def dispatch_request(self):
        try:
            rv = super().dispatch_request()
        except DomainError as exc:
            if exc.commit:
                db.session.commit()
            raise
        if request.method in SAFE_METHODS:
            return rv
        response = self.make_response(rv)
        if response.status_code < 400 and _has_work(db.session()):
            db.session.commit()
        return response


def _has_work(session) -> bool:
    """Whether the request's session holds anything to commit: a transaction it began
    (any statement, flush or load) or objects added, changed or deleted. The autosave's
    common case never touches it (its one statement has its own connection), and
    committing an empty session was a twentieth of an autosave in the profile."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


def autocommit_read(view):
    """For a GET view that reads and never writes, placed above @login_required (the
    user's load is its first statement): on PostgreSQL the request's connection is in
    autocommit, so its statements need no BEGIN and no ROLLBACK round trip. SQLite and
    every other method keep their transaction; so does a request whose session began
    before the view (the setting applies only to a connection not yet taken)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.method in SAFE_METHODS and db.engine.dialect.name == "postgresql" \
                and not db.session().in_transaction():
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)
    return wrapper
