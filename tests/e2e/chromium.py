"""Debian's Chromium for the browser tests: where it is, the flags it runs with, and the
rule for when it is missing (a missing service: outside CI the tests skip, under CI=true
the skip fails the run, see tests/conftest.py; `make test` installs it first)."""
from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update"]


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian chromium not installed at {CHROMIUM} (scripts/ensure-chromium.sh, "
                    "run by `make test`, installs it)")
