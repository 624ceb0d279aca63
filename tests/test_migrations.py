"""Migration drift: the Alembic history, applied to an empty database, builds exactly the
schema the models describe (the check `flask db migrate` would do, as a test)."""
from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from quizapp import create_app
from quizapp.extensions import db




@pytest.fixture(autouse=True)
def _keep_logging(monkeypatch):
    # migrations/env.py calls logging.config.fileConfig(alembic.ini), which would disable
    # every logger configured before it for the rest of the run.
    monkeypatch.setattr("logging.config.fileConfig", lambda *args, **kwargs: None)


def _drift(app) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "compare_server_default": True})
        return compare_metadata(context, db.metadata)


def _upgrade_compare_downgrade(uri: str) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-0123456789",
                      "SQLALCHEMY_DATABASE_URI": uri, "REDIS_URL": None})
    with app.app_context():
        try:
            assert inspect(db.engine).get_table_names() == []
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert set(db.metadata.tables) <= tables
            assert _drift(app) == []

            # The history also goes back down cleanly, and up again.
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            assert _drift(app) == []
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.sqlite_only
def test_migrations_match_models_on_sqlite(tmp_path):
    _upgrade_compare_downgrade(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")


@pytest.mark.postgres_only
def test_migrations_match_models_on_postgresql():
    import psycopg

    base = os.environ["TEST_DATABASE_URL"]
    name = f"quizapp_migr_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    target_url = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        from quizapp.config import normalize_database_url
        _upgrade_compare_downgrade(normalize_database_url(target_url))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
