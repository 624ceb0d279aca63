"""Issue 15 in headless Chromium: the login page's show-password toggle works with the
script (and the field is a password field again when the form is sent), and the round's
poster prints on exactly one A4 page with its QR code."""
from __future__ import annotations

import re

import pytest

from tests.e2e.live import PASSWORD, fill_login, make_app, new_context, serve
from tests.e2e.test_contest_journey import PHONE, SCREENS, _seed

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):
    app = make_app(tmp_path_factory, "e2e-reach2")
    ids = _seed(app)
    with serve(app, "e2e-reach2", public_url=True) as url:
        yield url, ids, browser


def test_show_password_toggles_the_field_and_sends_it_as_a_password(site):
    url, _ids, browser = site
    context = new_context(browser, url, PHONE)
    try:
        page = context.new_page()
        page.goto("/login")
        password = page.locator("input[name=password]")
        toggle = page.get_by_label("Hiện mật khẩu")
        assert toggle.is_visible()
        page.fill("input[name=login]", "btc")
        password.fill(PASSWORD)
        toggle.check()
        assert password.get_attribute("type") == "text" and password.input_value() == PASSWORD
        toggle.uncheck()
        assert password.get_attribute("type") == "password"
        toggle.check()
        page.locator("form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/home$"))
    finally:
        context.close()
    # Without JavaScript the toggle stays hidden and the field a password field.
    context = browser.new_context(viewport=PHONE, base_url=url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login")
        assert not page.get_by_label("Hiện mật khẩu").is_visible()
        assert page.locator("input[name=password]").get_attribute("type") == "password"
    finally:
        context.close()


def test_the_poster_prints_on_one_a4_page_with_its_qr_code(site):
    url, ids, browser = site
    context = new_context(browser, url)
    requests = []
    try:
        page = context.new_page()
        page.goto("/login")
        fill_login(page, "bithu")
        page.wait_for_url(re.compile(r"/home$"))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"/branch/{ids['branch']}")
        page.get_by_role("link", name=re.compile("Áp phích")).click()
        page.wait_for_url(re.compile(r"/poster$"))
        qr = page.locator(".poster-qr svg").bounding_box()
        assert qr and qr["width"] > 250 and abs(qr["width"] - qr["height"]) < 1   # 90 mm, square
        assert page.get_by_text(f"{url}/r/{ids['round']}", exact=True).is_visible()
        page.emulate_media(media="print")
        assert not page.get_by_role("button", name="In áp phích").is_visible()
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "poster.png"), full_page=True)
        pdf = page.pdf(prefer_css_page_size=True)
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
        assert all(r.startswith(url) for r in requests), requests   # nothing fetched elsewhere
    finally:
        context.close()
