"""Engine tuning that depends on the database: SQLite gets WAL and a busy timeout."""
from __future__ import annotations

import sqlite3

from flask import Flask, current_app
from sqlalchemy import create_engine, event

from .extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        app.extensions[AUTOSAVE_ENGINE] = _autosave_engine_for(app)


AUTOSAVE_ENGINE = "quizapp.autosave_engine"


def _autosave_engine_for(app: Flask):
    """The engine of the one-statement autosave (services.attempts.autosave), whose
    connections are in autocommit (the statement commits itself: no BEGIN and COMMIT
    round trips). On PostgreSQL it is a small pool of its own without the pre-ping: the
    ping was half of an autosave's database time in the profile (benchmarks/REPORT.md).
    A connection the database dropped fails that one statement, which autosave then
    hands to the general path, whose pool pings first — members never see it. The pool
    is disposed with the main engine's. Its commits are asynchronous
    (_asynchronous_commit). On SQLite, the main engine in autocommit. None
    (autosave then always takes the general path) on a SQLite older than 3.35; the
    PostgreSQL statement needs version 12 or later (AS MATERIALIZED)."""
    main = db.engine
    if main.dialect.name != "postgresql":
        # UPDATE … RETURNING and WITH … AS MATERIALIZED need SQLite 3.35 (2021).
        if sqlite3.sqlite_version_info < (3, 35):
            return None
        return main.execution_options(isolation_level="AUTOCOMMIT")
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    extra = {name: options[name] for name in ("pool_recycle", "pool_timeout") if name in options}
    engine = create_engine(main.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False,
                           pool_size=2, max_overflow=8,
                           connect_args=dict(options.get("connect_args") or {}), **extra)
    event.listen(engine, "connect", _asynchronous_commit)
    event.listen(main, "engine_disposed", lambda _engine: engine.dispose())
    return engine


def _asynchronous_commit(dbapi_connection, _record) -> None:
    """The autosave's commits do not wait for the WAL flush (PostgreSQL's
    synchronous_commit = off, for these connections only). A flush was most of an
    autosave's time (2.9 ms against 0.09 ms without, benchmarks/REPORT.md). What it
    risks: a crash of the database server (not of the app) can lose the autosaves of
    its last ~0.6 s (3 × wal_writer_delay); it never corrupts anything and never
    reorders them. Every other write, the submit included, stays fully synchronous on
    the main engine (docs/architecture.md, "Transactions")."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET synchronous_commit TO off")
    cursor.close()
    if not dbapi_connection.autocommit:
        dbapi_connection.commit()


def autosave_engine():
    return current_app.extensions[AUTOSAVE_ENGINE]
