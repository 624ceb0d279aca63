"""Issue 15, the rest of "every member can take part": login help for members without a
password (or who forgot it) and a show-password toggle; the ward's own channels (Open
Graph on the round's public page, a Zalo share text, printable posters with a QR code);
Vietnamese draw-plan keywords."""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.conftest import BrowserClient

pytestmark = pytest.mark.usefixtures("isolated_requests")

STATIC = Path(__file__).resolve().parents[2] / "static"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# ---------------------------------------------------------------- login help

def test_login_page_tells_a_member_without_a_password_what_to_do(client):
    page = _text(client.get("/login"))
    help_ = re.search(r'<section[^>]*id="login-help".*?</section>', page, re.S).group(0)
    assert "Đồng chí chưa có mật khẩu" in help_ and "bí thư chi bộ đặt mật khẩu đầu tiên" in help_
    assert "Đồng chí quên mật khẩu" in help_ and "trang chi bộ" in help_


def test_the_help_is_true_a_reset_by_the_secretary_lets_a_member_in_and_asks_for_his_own(
        app, make_user, make_unit):
    branch = make_unit("cb-help")
    make_user(role="secretary", unit=branch, username="bithu")
    member = make_user(unit=branch, username="moi", password=None)   # a roster row, no password
    anonymous = BrowserClient(app.test_client())
    refused = anonymous.form_post("/login", {"login": "moi", "password": "anything-at-all"})
    assert refused.status_code == 200 and "Đồng chí chưa có mật khẩu" in _text(refused)

    secretary = BrowserClient(app.test_client())
    secretary.login("bithu")
    shown = _text(secretary.form_post(f"/members/{member.id}/reset_password", {"reason": ""},
                                      token_from=f"/branch/{branch.id}"))
    password = re.search(r'<p class="big-code"><code>([^<]+)</code>', shown).group(1)
    response = anonymous.form_post("/login", {"login": "moi", "password": password})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")


def test_show_password_toggle_is_hidden_without_javascript_and_wired_to_the_field(client):
    page = client.get("/login").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="password"[^>]*>', page).group(0)
    assert 'type="password"' in field
    box = re.search(r'<div class="field check" data-show-password hidden>(.*?)</div>', page, re.S)
    assert box, "the toggle must be hidden until the script shows it"
    target = re.search(r'data-toggles="([^"]+)"', box.group(1)).group(1)
    assert re.search(rf'id="{target}"', field)
    script = (STATIC / "common.js").read_text(encoding="utf-8")
    assert "[data-show-password]" in script and 'removeAttribute("hidden")' in script
    assert re.search(r"\.field\[hidden\]\s*\{\s*display:\s*none", (STATIC / "app.css").read_text())
