"""Settings: defaults that run with no setup, then the environment, then a test mapping.

Nothing here reads the environment at import time; `load_config` is called by the
factory.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

DEV_SECRET = "dev-only-not-secret"


def _env_bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def defaults(instance_path: str) -> dict[str, Any]:
    db_file = Path(instance_path) / "quizapp.sqlite3"
    return {
        "ENV_NAME": "development",
        "SECRET_KEY": DEV_SECRET,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "TIMEZONE": "Asia/Ho_Chi_Minh",
        "REDIS_URL": None,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ["vi", "en"],
        # Seconds after the deadline during which a save or submit is still accepted,
        # to absorb network latency; the browser's clock is never trusted.
        "QUIZ_GRACE_SECONDS": 5,
        "PRACTICE_MAX_QUESTIONS": 50,
        "LOGIN_RATE_LIMIT": "10 per minute",
        "RATELIMIT_HEADERS_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "BEHIND_PROXY": False,
        "REQUEST_LOG": False,
        "BANK_PATH": str(Path(__file__).resolve().parent.parent / "questions"),
    }


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Settings taken from the process environment; only the keys that are set."""
    out: dict[str, Any] = {}
    if environ.get("QUIZAPP_ENV"):
        out["ENV_NAME"] = environ["QUIZAPP_ENV"]
    if environ.get("SECRET_KEY"):
        out["SECRET_KEY"] = environ["SECRET_KEY"]
    if environ.get("DATABASE_URL"):
        out["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(environ["DATABASE_URL"])
    if environ.get("TIMEZONE"):
        out["TIMEZONE"] = environ["TIMEZONE"]
    if environ.get("REDIS_URL"):
        out["REDIS_URL"] = environ["REDIS_URL"]
    if environ.get("QUIZ_GRACE_SECONDS"):
        out["QUIZ_GRACE_SECONDS"] = int(environ["QUIZ_GRACE_SECONDS"])
    if environ.get("LOGIN_RATE_LIMIT"):
        out["LOGIN_RATE_LIMIT"] = environ["LOGIN_RATE_LIMIT"]
    if "BEHIND_PROXY" in environ:
        out["BEHIND_PROXY"] = _env_bool(environ["BEHIND_PROXY"], False)
    if "REQUEST_LOG" in environ:
        out["REQUEST_LOG"] = _env_bool(environ["REQUEST_LOG"], False)
    if "SESSION_COOKIE_SECURE" in environ:
        out["SESSION_COOKIE_SECURE"] = _env_bool(environ["SESSION_COOKIE_SECURE"], False)
    return out


def normalize_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def finalize(config: dict[str, Any]) -> None:
    """Derived settings, and the refusal to run production with the dev secret."""
    uri = config["SQLALCHEMY_DATABASE_URI"]
    engine_options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        engine_options.setdefault("connect_args", {}).setdefault("timeout", 30)
    else:
        engine_options.setdefault("pool_pre_ping", True)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    if config.get("REDIS_URL"):
        config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"])
        # Redis down: keep limiting per process rather than failing logins.
        config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    else:
        config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    if config["ENV_NAME"] == "production":
        if config["SECRET_KEY"] in (None, "", DEV_SECRET) or len(config["SECRET_KEY"]) < 16:
            raise RuntimeError("Refusing to start in production without a real SECRET_KEY")
        config.setdefault("SESSION_COOKIE_SECURE", True)
        config.setdefault("REMEMBER_COOKIE_SECURE", True)


def load_config(instance_path: str, overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    config = defaults(instance_path)
    config.update(from_environment(os.environ if environ is None else environ))
    if overrides:
        config.update(overrides)
    finalize(config)
    return config
