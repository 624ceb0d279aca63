"""Backups: SQLite's online backup API, or pg_dump/pg_restore for PostgreSQL."""
from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from ..extensions import db


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _pg_args(url) -> tuple[list[str], dict]:
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def backup(path: str) -> int:
    """Write a consistent copy of the database to `path`; returns its size in bytes.
    SQLite: the online backup API (safe while the app runs). PostgreSQL: pg_dump -Fc."""
    url = _url()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        db.session.remove()
        source = sqlite3.connect(url.database)
        destination = sqlite3.connect(str(target))
        with destination:
            source.backup(destination)
        destination.close()
        source.close()
    else:
        args, env = _pg_args(url)
        subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(target), *args, url.database],
                       check=True, env=env, capture_output=True)
    return target.stat().st_size


def restore(path: str) -> None:
    """Replace the database's contents with the backup at `path`."""
    url = _url()
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(path)
        destination = sqlite3.connect(url.database)
        with destination:
            source.backup(destination)
        destination.close()
        source.close()
    else:
        args, env = _pg_args(url)
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "-d", url.database,
                        *args, path], check=True, env=env, capture_output=True)
