"""The one place that reads the wall clock. Tests replace `_now` through a fixture."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import g, has_request_context


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


# How old a proxy's receive time may be and still be believed: a request that waited
# longer than this in a queue is judged by the present time (a longer wait is an outage,
# and a wrong or replayed header cannot move a decision further back than this).
RECEIVED_MAX_AGE = timedelta(seconds=120)


def parse_request_start(value: str, now: datetime) -> datetime | None:
    """The receive time in an `X-Request-Start: t=<seconds since the epoch>` header (as
    nginx's `t=${msec}` writes it), if it is well formed and at most RECEIVED_MAX_AGE
    before `now`; a time in the future (clocks a little apart) counts as `now`."""
    raw = value.strip()
    if raw.startswith("t="):
        raw = raw[2:]
    if not raw or len(raw) > 24 or not raw.replace(".", "", 1).isdigit():
        return None
    try:
        received = datetime.fromtimestamp(float(raw), timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    if received > now:
        return now
    return received if now - received <= RECEIVED_MAX_AGE else None


def request_time() -> datetime:
    """When this request was received: the trusted proxy's receive time, when the app
    is configured to believe it (REQUEST_START_HEADER, read by hardening.guard_request),
    else now. A member's save or submit is judged by it against his deadline, so a
    request sent in time is not refused because the workers were busy at the last
    minute."""
    now = _now()
    if has_request_context():
        received = g.get("received_at")
        if received is not None and received < now:
            return received
    return now
