"""gunicorn (23+) opens a control socket, by default at one path per user
(~/.gunicorn/gunicorn.ctl): two servers under one account take it from each other, and
the first to stop deletes the other's. The servers the tests and the benchmarks start
open none (`make serve` has one per port: tests/test_repository.py)."""
from __future__ import annotations

import sys
import time

import pytest
import requests

from tests.ops._support import ROOT, Gunicorn, free_port, server_env


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A HOME of the test's own, so the default socket path is looked at there and a
    server started before the fix would not touch anyone's real ~/.gunicorn."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return path


def test_two_test_servers_together_open_no_control_socket(tmp_path, home):
    env = server_env(f"sqlite:///{tmp_path / 'servers.sqlite3'}", HOME=str(home))
    servers = [Gunicorn(env, tmp_path / f"gunicorn-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.wait_ready()
        logs = [server.log_text() for server in servers]
    finally:
        for server in servers:
            server.stop()
    assert not any("Control socket" in log for log in logs), logs[0]
    assert not (home / ".gunicorn").exists()


def test_the_benchmark_server_opens_no_control_socket(tmp_path, home, monkeypatch):
    monkeypatch.setenv("BENCH_DATABASE_URL", f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    monkeypatch.setenv("BENCH_WORKERS", "1")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.delitem(sys.modules, "harness", raising=False)
    import harness
    port = free_port()
    log_path = tmp_path / "bench-gunicorn.log"
    with log_path.open("w") as log_file:
        proc = harness.start_gunicorn(port, log_file)
        try:
            for _ in range(200):
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                assert proc.poll() is None, log_path.read_text()
                time.sleep(0.1)
            else:
                raise AssertionError(log_path.read_text())
        finally:
            harness.stop_gunicorn(proc)
    assert "Control socket" not in log_path.read_text()
    assert not (home / ".gunicorn").exists()
