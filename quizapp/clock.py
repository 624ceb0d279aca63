"""The one place that reads the wall clock. Tests replace `_now` through a fixture."""
from __future__ import annotations

from datetime import datetime, timezone


def _system_now() -> datetime:
    return datetime.now(timezone.utc)


_now = _system_now


def utcnow() -> datetime:
    """Current time as an aware UTC datetime."""
    return _now()


def set_clock(func) -> None:
    """Replace the clock (tests and benchmarks only)."""
    global _now
    _now = func


def reset_clock() -> None:
    global _now
    _now = _system_now
