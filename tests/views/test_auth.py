"""Logging in and out: by username or phone, one message for every failure, sessions that
end on a password change, a rate limit, no open redirect, a fresh session at login."""
from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

import pytest
from flask_babel import force_locale, gettext

from quizapp.extensions import db
from quizapp.models import User
from tests.conftest import PASSWORD, BrowserClient

# Each request gets its own app context, so one client's login cannot leak into another.
pytestmark = pytest.mark.usefixtures("isolated_requests")


def _flashes(response) -> list[str]:
    page = response.get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


def _translated(app, message: str, lang: str = "vi") -> str:
    """`message` as the app shows it in `lang` (works with or without a compiled catalog)."""
    with app.test_request_context("/"), force_locale(lang):
        return gettext(message)


def _error_texts(app, status: int, lang: str = "vi") -> tuple[str, str]:
    """The title and message the app's error page shows for `status` in `lang`."""
    from quizapp import errors
    with app.test_request_context("/"), force_locale(lang):
        return errors._titles()[status], errors._messages()[status]


def _location_path(response) -> str:
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "localhost"), response.headers["Location"]
    return parts.path


def _logged_in(client) -> bool:
    response = client.get("/home")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and _location_path(response) == "/login"
    return False


# ---------------------------------------------------------------- logging in

def test_login_by_username(client, make_user):
    make_user(username="nguyenan", full_name="Nguyễn Văn An")
    response = client.login("nguyenan")
    assert _location_path(response) == "/home"
    page = client.get("/home")
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.get_data(as_text=True)


def test_login_username_is_case_insensitive_and_trimmed(client, make_user):
    make_user(username="nguyenan")
    client.login("  NguyenAn ")
    assert _logged_in(client)


@pytest.mark.parametrize("typed", ["0912345678", "+84 912 345 678", "0912.345.678"])
def test_login_by_phone(client, make_user, typed):
    make_user(username="tranbinh", phone="0912345678", full_name="Trần Thị Bình")
    response = client.login(typed)
    assert _location_path(response) == "/home"
    assert "Trần Thị Bình" in client.get("/home").get_data(as_text=True)


def test_login_records_last_login(client, make_user, frozen_clock):
    user = make_user(username="nguyenan")
    assert user.last_login_at is None
    client.login("nguyenan")
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at == frozen_clock.now


def test_wrong_username_and_wrong_password_look_the_same(app, client, make_user):
    make_user(username="nguyenan")
    wrong_user = client.form_post("/login", {"login": "nobody-here", "password": PASSWORD})
    wrong_password = client.form_post("/login", {"login": "nguyenan", "password": "not-the-password"})
    assert wrong_user.status_code == wrong_password.status_code == 200
    expected = _translated(app, "Wrong username/phone or password.")
    assert _flashes(wrong_user) == _flashes(wrong_password) == [expected]
    # Nothing else on the page tells the two apart either (the token and the typed login
    # differ by design).
    def scrub(response, typed):
        page = response.get_data(as_text=True)
        page = re.sub(r'(name="csrf[-_]token"[^>]*(?:content|value)=")[^"]+', r"\1X", page)
        return page.replace(f'value="{typed}"', 'value="X"')
    assert scrub(wrong_user, "nobody-here") == scrub(wrong_password, "nguyenan")
    assert not _logged_in(client)


def test_account_without_password_cannot_log_in(app, client, make_user):
    make_user(username="chuacomatkhau", password=None)
    response = client.form_post("/login", {"login": "chuacomatkhau", "password": ""})
    assert response.status_code == 200 and not _logged_in(client)
    response = client.form_post("/login", {"login": "chuacomatkhau", "password": "anything-at-all"})
    assert _flashes(response) == [_translated(app, "Wrong username/phone or password.")]
    assert not _logged_in(client)


def test_inactive_user_cannot_log_in(app, client, make_user):
    user = make_user(username="nghiviec")
    user.active = False
    db.session.commit()
    response = client.form_post("/login", {"login": "nghiviec", "password": PASSWORD})
    assert response.status_code == 200
    assert _flashes(response) == [_translated(app, "Wrong username/phone or password.")]
    assert not _logged_in(client)


def test_deactivation_ends_a_running_session(client, make_user):
    user = make_user(username="nghiviec")
    client.login("nghiviec")
    assert _logged_in(client)
    user.active = False
    db.session.commit()
    assert not _logged_in(client)


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user(username="nguyenan")
    client.get("/login")
    response = client.post("/login", data={"login": "nguyenan", "password": PASSWORD})
    assert response.status_code == 400
    assert not _logged_in(client)


def test_logged_in_user_visiting_login_goes_home(client, make_user):
    make_user(username="nguyenan")
    client.login("nguyenan")
    response = client.get("/login")
    assert response.status_code == 302 and _location_path(response) == "/home"


def test_pages_need_login(client):
    response = client.get("/home")
    assert response.status_code == 302
    assert _location_path(response) == "/login"
    assert "next=" in response.headers["Location"]


# ---------------------------------------------------------------- logging out

def test_logout_is_post_only(client, make_user):
    make_user(username="nguyenan")
    client.login("nguyenan")
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Traceback" not in response.get_data(as_text=True)
    assert _logged_in(client)


def test_logout_needs_the_csrf_token(client, make_user):
    make_user(username="nguyenan")
    client.login("nguyenan")
    response = client.post("/logout")
    assert response.status_code == 400
    assert _logged_in(client)
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert _logged_in(client)


def test_logout_with_csrf_ends_the_session(client, make_user):
    make_user(username="nguyenan")
    client.login("nguyenan")
    response = client.form_post("/logout", token_from="/home")
    assert response.status_code == 302 and _location_path(response) == "/login"
    assert not _logged_in(client)


# ---------------------------------------------------------------- password change

def test_password_change_ends_other_sessions_but_keeps_this_one(app, make_user):
    make_user(username="nguyenan")
    here = BrowserClient(app.test_client())
    elsewhere = BrowserClient(app.test_client())
    here.login("nguyenan")
    elsewhere.form_post("/login", {"login": "nguyenan", "password": PASSWORD, "remember": "y"})
    assert _logged_in(here) and _logged_in(elsewhere)

    response = here.form_post("/account/password", {
        "current": PASSWORD, "new": "a-brand-new-pass-2", "confirm": "a-brand-new-pass-2"},
        token_from="/account/password")
    assert response.status_code == 302 and _location_path(response) == "/home"

    assert _logged_in(here)
    # The other device, even with its remember-me cookie, is sent to the login page.
    response = elsewhere.get("/outline")
    assert response.status_code == 302 and _location_path(response) == "/login"
    assert not _logged_in(elsewhere)

    # Old password no longer works; the new one does.
    fresh = BrowserClient(app.test_client())
    fresh.form_post("/login", {"login": "nguyenan", "password": PASSWORD})
    assert not _logged_in(fresh)
    fresh.login("nguyenan", "a-brand-new-pass-2")
    assert _logged_in(fresh)


def test_password_change_with_wrong_current_password_changes_nothing(app, client, make_user):
    user = make_user(username="nguyenan")
    other = BrowserClient(app.test_client())
    client.login("nguyenan")
    other.login("nguyenan")
    version = user.session_version
    response = client.form_post("/account/password", {
        "current": "not-my-password", "new": "a-brand-new-pass-2", "confirm": "a-brand-new-pass-2"},
        token_from="/account/password")
    assert response.status_code == 200
    assert _translated(app, "The current password is not correct.") in html.unescape(
        response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == version
    assert _logged_in(client) and _logged_in(other)


# ---------------------------------------------------------------- rate limit

class TestLoginRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_RATE_LIMIT": "3 per minute"}

    def test_fourth_login_post_in_a_minute_gets_429(self, app, client, make_user):
        make_user(username="nguyenan")
        token = client.csrf_token()
        for _ in range(3):
            response = client.post("/login", data={"csrf_token": token, "login": "nguyenan",
                                                   "password": "wrong-password"})
            assert response.status_code == 200
        # Even the right password is refused now.
        response = client.post("/login", data={"csrf_token": token, "login": "nguyenan",
                                               "password": PASSWORD})
        assert response.status_code == 429
        assert response.mimetype == "text/html"
        page = html.unescape(response.get_data(as_text=True))
        title, message = _error_texts(app, 429)
        assert f"<h1>{title}</h1>" in page and message in page
        assert "Traceback" not in page
        assert not _logged_in(client)
        # Reading the login page is not limited.
        assert client.get("/login").status_code == 200


# ---------------------------------------------------------------- next and session

@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example",
    "//evil.example/home",
    "/\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "home",
])
def test_next_to_another_host_is_refused(client, make_user, target):
    make_user(username="nguyenan")
    response = client.form_post(f"/login?next={quote(target, safe='')}",
                                {"login": "nguyenan", "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location
    assert _location_path(response) == "/home"


def test_next_to_a_local_page_is_followed(client, make_user):
    make_user(username="nguyenan")
    response = client.get("/outline")
    login_url = response.headers["Location"]
    assert _location_path(response) == "/login"
    parts = urlsplit(login_url)
    response = client.form_post(f"/login?{parts.query}", {"login": "nguyenan", "password": PASSWORD})
    assert _location_path(response) == "/outline"


def test_session_is_renewed_at_login(client, make_user):
    make_user(username="nguyenan")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
        token_before = sess["csrf_token"]
    cookie_before = client.get_cookie("session").value
    client.login("nguyenan")
    assert client.get_cookie("session").value != cookie_before
    client.get("/home")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("csrf_token") != token_before
        assert sess["_user_id"].split(".")[0].isdigit()


def test_language_choice_survives_login(client, make_user):
    make_user(username="nguyenan")
    client.get("/login?lang=en")
    client.login("nguyenan")
    page = client.get("/home").get_data(as_text=True)
    assert '<html lang="en">' in page
