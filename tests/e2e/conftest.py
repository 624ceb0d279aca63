"""One headless Chromium per test module, shared by the browser tests."""
from __future__ import annotations

import pytest
from playwright import sync_api

from .chromium import CHROMIUM, CHROMIUM_ARGS, require_chromium


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
