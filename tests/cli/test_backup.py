"""`flask db backup` then `flask db restore` into a fresh database gives back the same data."""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from quizapp import create_app
from quizapp.extensions import db
from quizapp.models import Attempt, Question, Section, Unit, User
from quizapp.services import attempts as attempt_service
from quizapp.services.attempts import PracticeSpec
from tests.conftest import _base_config

TABLES = (Unit, User, Section, Question, Attempt)


def _counts() -> dict[str, int]:
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def _some_data(make_user, bank):
    member = make_user()
    attempt = attempt_service.start_practice(member, PracticeSpec([], 5, 10, "exam"))
    item = attempt.items[0]
    attempt_service.save_answer(attempt, item.question_id, [item.choice_ids[0]])
    attempt_service.finish(attempt)
    db.session.commit()
    return attempt.id, attempt.score


@pytest.mark.sqlite_only
def test_sqlite_backup_restores_into_a_fresh_database(app, runner, bank, make_user, tmp_path):
    attempt_id, score = _some_data(make_user, bank)
    before = _counts()
    backup = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["db", "backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert backup.stat().st_size > 0

    fresh = create_app(_base_config(tmp_path / "fresh", "sqlite"))
    os.makedirs(tmp_path / "fresh", exist_ok=True)
    # The CLI runs in the current app context: push the fresh app's (as `flask` would).
    with fresh.app_context():
        refused = fresh.test_cli_runner().invoke(args=["db", "restore", str(backup)])
        assert refused.exit_code != 0 and "--yes" in refused.output  # never without confirmation
        restored = fresh.test_cli_runner().invoke(args=["db", "restore", str(backup), "--yes"])
        assert restored.exit_code == 0, restored.output
        assert _counts() == before
        assert db.session.get(Attempt, attempt_id).score == score
        db.session.remove()
        db.engine.dispose()


@pytest.mark.postgres_only
@pytest.mark.skipif(shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
                    reason="needs pg_dump and pg_restore (Debian's postgresql-client)")
def test_postgresql_backup_restores_into_a_fresh_database(app, runner, bank, make_user, tmp_path):
    attempt_id, score = _some_data(make_user, bank)
    before = _counts()
    backup = tmp_path / "backup.dump"
    result = runner.invoke(args=["db", "backup", str(backup)])
    assert result.exit_code == 0, result.output

    base_url = os.environ["TEST_DATABASE_URL"]
    name = f"quizapp_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = base_url.rsplit("/", 1)[0] + "/" + name
        fresh = create_app(_base_config(None, "postgresql", SQLALCHEMY_DATABASE_URI=url.replace(
            "postgresql://", "postgresql+psycopg://", 1)))
        with fresh.app_context():
            restored = fresh.test_cli_runner().invoke(args=["db", "restore", str(backup), "--yes"])
            assert restored.exit_code == 0, restored.output
            assert _counts() == before
            assert db.session.get(Attempt, attempt_id).score == score
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
