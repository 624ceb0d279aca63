"""Settings: defaults that run with no setup, then the environment, then a test mapping.

Nothing here reads the environment at import time; `load_config` is called by the
factory.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
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
        "PAPER_ENTRY_HOURS": 48,
        "PRACTICE_MAX_QUESTIONS": 50,
        # Daily review (services.learning.review): questions in a member's daily set, of
        # which at most REVIEW_NEW_PER_DAY are questions he has never reviewed.
        "REVIEW_DAILY_COUNT": 5,
        "REVIEW_NEW_PER_DAY": 3,
        # A right answer within REVIEW_EASY_SECONDS is graded Easy, after
        # REVIEW_HARD_SECONDS Hard, in between Good (times measured by the server).
        "REVIEW_EASY_SECONDS": 10,
        "REVIEW_HARD_SECONDS": 45,
        # Meeting mode: wrong PINs one address may try (only failed look-ups count, so a
        # room of phones behind one Wi-Fi address joins freely), and the latency allowance
        # after a question's countdown during which an answer is still taken.
        "MEETING_PIN_RATE_LIMIT": "10 per minute",
        "MEETING_GRACE_SECONDS": 1.0,
        "LOGIN_RATE_LIMIT": "10 per minute",
        # Guesses at one account, from any number of addresses (the username or phone
        # typed, resolved to the account when it exists).
        "LOGIN_ACCOUNT_RATE_LIMIT": "10 per 15 minutes",
        # Production refuses to count limits per process (no REDIS_URL) unless this is set.
        "ALLOW_MEMORY_RATE_LIMITS": False,
        "RATELIMIT_HEADERS_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DAYS": 30,
        # The address members use, for links in texts sent outside the app (reminders);
        # never taken from the request's Host header.
        "PUBLIC_URL": None,
        # JSON bodies: the app's own pages send a few hundred bytes, two levels deep.
        "JSON_MAX_BYTES": 64 * 1024,
        "JSON_MAX_DEPTH": 20,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "BEHIND_PROXY": False,
        # Judge a member's save or submit by when the proxy received it (its
        # X-Request-Start: t=<seconds>), not when a busy worker got to it: only behind a
        # proxy that always sets that header itself (docs/deploy.md).
        "REQUEST_START_HEADER": False,
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
    if environ.get("PAPER_ENTRY_HOURS"):
        out["PAPER_ENTRY_HOURS"] = int(environ["PAPER_ENTRY_HOURS"])
    if environ.get("REVIEW_DAILY_COUNT"):
        out["REVIEW_DAILY_COUNT"] = int(environ["REVIEW_DAILY_COUNT"])
    if environ.get("REVIEW_NEW_PER_DAY"):
        out["REVIEW_NEW_PER_DAY"] = int(environ["REVIEW_NEW_PER_DAY"])
    if environ.get("REVIEW_EASY_SECONDS"):
        out["REVIEW_EASY_SECONDS"] = int(environ["REVIEW_EASY_SECONDS"])
    if environ.get("REVIEW_HARD_SECONDS"):
        out["REVIEW_HARD_SECONDS"] = int(environ["REVIEW_HARD_SECONDS"])
    if environ.get("LOGIN_RATE_LIMIT"):
        out["LOGIN_RATE_LIMIT"] = environ["LOGIN_RATE_LIMIT"]
    if environ.get("LOGIN_ACCOUNT_RATE_LIMIT"):
        out["LOGIN_ACCOUNT_RATE_LIMIT"] = environ["LOGIN_ACCOUNT_RATE_LIMIT"]
    if "ALLOW_MEMORY_RATE_LIMITS" in environ:
        out["ALLOW_MEMORY_RATE_LIMITS"] = _env_bool(environ["ALLOW_MEMORY_RATE_LIMITS"], False)
    if environ.get("MEETING_PIN_RATE_LIMIT"):
        out["MEETING_PIN_RATE_LIMIT"] = environ["MEETING_PIN_RATE_LIMIT"]
    if environ.get("REMEMBER_COOKIE_DAYS"):
        out["REMEMBER_COOKIE_DAYS"] = int(environ["REMEMBER_COOKIE_DAYS"])
    if environ.get("PUBLIC_URL"):
        out["PUBLIC_URL"] = environ["PUBLIC_URL"]
    if "BEHIND_PROXY" in environ:
        out["BEHIND_PROXY"] = _env_bool(environ["BEHIND_PROXY"], False)
    if "REQUEST_START_HEADER" in environ:
        out["REQUEST_START_HEADER"] = _env_bool(environ["REQUEST_START_HEADER"], False)
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
    days = int(config["REMEMBER_COOKIE_DAYS"])
    if not 1 <= days <= 365:
        raise RuntimeError("REMEMBER_COOKIE_DAYS must be a whole number of days from 1 to 365")
    config["REMEMBER_COOKIE_DURATION"] = timedelta(days=days)
    if not 1 <= int(config["REVIEW_DAILY_COUNT"]) <= 100 or not 0 <= int(config["REVIEW_NEW_PER_DAY"]) <= 100:
        raise RuntimeError("REVIEW_DAILY_COUNT must be 1 to 100 and REVIEW_NEW_PER_DAY 0 to 100")
    if not 0 <= int(config["REVIEW_EASY_SECONDS"]) <= int(config["REVIEW_HARD_SECONDS"]):
        raise RuntimeError("REVIEW_EASY_SECONDS must be at most REVIEW_HARD_SECONDS")
    if config.get("PUBLIC_URL"):
        config["PUBLIC_URL"] = check_public_url(config["PUBLIC_URL"])
    if config["ENV_NAME"] == "production":
        if config["SECRET_KEY"] in (None, "", DEV_SECRET) or len(config["SECRET_KEY"]) < 16:
            raise RuntimeError("Refusing to start in production without a real SECRET_KEY")
        if not config.get("REDIS_URL") and not config.get("ALLOW_MEMORY_RATE_LIMITS"):
            # Without a shared store each worker counts on its own: n workers allow n
            # times the login limit. The operator must choose that knowingly.
            raise RuntimeError(
                "Refusing to start in production without REDIS_URL: login limits would be "
                "counted per worker. Set REDIS_URL, or ALLOW_MEMORY_RATE_LIMITS=1 to accept "
                "per-process limits (e.g. a single worker).")
        config.setdefault("SESSION_COOKIE_SECURE", True)
        config.setdefault("REMEMBER_COOKIE_SECURE", True)


def check_public_url(url: str) -> str:
    """PUBLIC_URL without its trailing slash; an http(s) address with a host, or a
    refusal to start (a typo would otherwise end up in every reminder sent)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise RuntimeError(f"PUBLIC_URL must be an http(s) address such as https://thi.example.vn (got {url!r})")
    return url.strip().rstrip("/")


def startup_warnings(config: Mapping[str, Any]) -> list[str]:
    """What an operator should fix, said at start and by /readyz (not fatal)."""
    warnings = []
    if not config.get("REDIS_URL"):
        warnings.append("Rate limits are kept in process memory (no REDIS_URL): each worker "
                        "counts on its own.")
    if config.get("REQUEST_START_HEADER") and not config.get("BEHIND_PROXY"):
        warnings.append("REQUEST_START_HEADER is set without BEHIND_PROXY: X-Request-Start is "
                        "trusted only from a proxy that sets it itself (docs/deploy.md).")
    if config.get("ENV_NAME") == "production" and not config.get("PUBLIC_URL"):
        warnings.append("PUBLIC_URL is not set: reminder texts carry a placeholder instead "
                        "of the site's address.")
    return warnings


def load_config(instance_path: str, overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    config = defaults(instance_path)
    config.update(from_environment(os.environ if environ is None else environ))
    if overrides:
        config.update(overrides)
    finalize(config)
    return config
