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
"""
from __future__ import annotations

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
        if response.status_code < 400:
            db.session.commit()
        return response
