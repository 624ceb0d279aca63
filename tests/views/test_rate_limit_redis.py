"""With REDIS_URL set, the login limit is shared by every worker (here: two app
instances, as two gunicorn workers would be), not counted per process."""
from __future__ import annotations

import os
import uuid

import pytest

from quizapp import create_app
from quizapp.extensions import db
from tests.conftest import BrowserClient, _base_config

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_available() -> bool:
    import redis
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not _redis_available(),
                                reason=f"needs a Redis server at {REDIS_URL} (.ci/run starts one)")


def test_login_limit_is_shared_across_workers(tmp_path, backend, _pg_schema):
    # A fresh key prefix per run, so earlier runs' counters do not interfere.
    prefix = f"quizapp-test-{uuid.uuid4().hex}"
    config = _base_config(tmp_path, backend, REDIS_URL=REDIS_URL, LOGIN_RATE_LIMIT="3 per minute",
                          RATELIMIT_KEY_PREFIX=prefix)
    worker_a, worker_b = create_app(config), create_app(config)
    with worker_a.app_context():
        if backend == "sqlite":
            db.create_all()
    assert worker_a.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    a = BrowserClient(worker_a.test_client())
    b = BrowserClient(worker_b.test_client())
    statuses = []
    for client in (a, b, a, b):
        response = client.form_post("/login", {"login": "nobody", "password": "wrong-password"})
        statuses.append(response.status_code)
    # Three attempts pass (each answered with the login page again), the fourth is
    # refused although each "worker" has seen only two.
    assert statuses == [200, 200, 200, 429]
    # The counter lives in Redis (what makes separate processes share it), not in memory.
    import redis
    assert redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
    with worker_a.app_context():
        db.session.remove()
        db.engine.dispose()
