"""axe-core (axe-playwright-python, which bundles axe.min.js: nothing fetched) on the main
pages of each role at 360 px: a serious or critical violation fails the test, with the
rule, the page and the elements named. The member in large-text mode walks his quiz one
question per screen."""
from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.test_contest_journey import _context, _log_in, world  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

BLOCKING = ("serious", "critical")


def _violations(axe: Axe, page) -> list[str]:
    found = []
    for rule in axe.run(page).response["violations"]:
        if rule["impact"] in BLOCKING:
            targets = [" ".join(node["target"]) for node in rule["nodes"]][:5]
            found.append(f"{page.url}: {rule['id']} ({rule['impact']}) {targets}")
    return found


def _walk(browser, world, username: str | None, paths: list[str], start_quiz: bool = False) -> list[str]:
    axe = Axe()
    context = _context(browser, world)
    found: list[str] = []
    try:
        page = context.new_page()
        page.goto("/login")
        if username:
            _log_in(page, username)
            page.wait_for_url(re.compile(r"/home"))
        for path in paths:
            response = page.goto(path)
            assert response.status < 400, (path, response.status)
            found += _violations(axe, page)
        if start_quiz:
            page.goto(f"/rounds/{world.ids['round']}")
            page.locator("form[action$='/start'] button").click()
            page.wait_for_url(re.compile(r"/attempts/\d+"))
            found += _violations(axe, page)
            page.locator("fieldset.question:not([hidden]) label.option").first.click()
            page.locator("#review-button").click()
            page.wait_for_url(re.compile(r"/review$"))
            found += _violations(axe, page)
    finally:
        context.close()
    return found


def test_axe_finds_nothing_serious_on_the_main_pages_of_each_role(browser, world):
    round_id, branch_id = world.ids["round"], world.ids["branch"]
    found = []
    found += _walk(browser, world, None, ["/login", f"/r/{round_id}"])
    found += _walk(browser, world, "ongba", ["/home", "/outline", "/practice", f"/rounds/{round_id}"],
                   start_quiz=True)
    found += _walk(browser, world, "chunam", ["/home"], start_quiz=True)   # large text
    found += _walk(browser, world, "bithu", ["/home", f"/branch/{branch_id}", f"/standings/round/{round_id}"])
    found += _walk(browser, world, "btc", ["/home", "/organize", f"/organize/rounds/{round_id}"])
    assert not found, "\n".join(found)
