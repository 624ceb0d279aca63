"""Large-text mode ("Chữ lớn", issue 15): a member turns it on once for himself, or his
secretary does it for him; every page then carries the large-text class. A secretary
cannot change it for a member outside his branch."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from quizapp.extensions import db
from quizapp.models import AuditLog, User

pytestmark = pytest.mark.usefixtures("isolated_requests")


def _body(page: str) -> str:
    return re.search(r"<body[^>]*>", page).group(0)


def test_a_member_turns_large_text_on_once_and_every_page_follows(make_user, open_as):
    member_id = make_user(username="ongbay").id
    client = open_as("ongbay")
    home = client.get("/home").get_data(as_text=True)
    assert "large-text" not in _body(home)
    assert 'id="large-text-toggle"' in home and "Chữ lớn" in home
    response = client.form_post("/account/large-text", {"on": "1", "next": "/outline"},
                                token_from="/home")
    assert response.headers["Location"].endswith("/outline")
    db.session.expire_all()
    assert db.session.get(User, member_id).large_text is True
    for path in ("/home", "/outline", "/practice"):
        assert 'class="large-text"' in _body(client.get(path).get_data(as_text=True)), path
    # Another login (another device) keeps it: it is the member's setting, not a cookie.
    assert 'class="large-text"' in _body(open_as("ongbay").get("/home").get_data(as_text=True))
    client.form_post("/account/large-text", {"on": "0"}, token_from="/home")
    db.session.expire_all()
    assert db.session.get(User, member_id).large_text is False


def test_the_toggle_never_redirects_off_site(make_user, open_as):
    make_user(username="ongbay")
    response = open_as("ongbay").form_post("/account/large-text",
                                           {"on": "1", "next": "https://evil.example/"},
                                           token_from="/home")
    assert response.headers["Location"].endswith("/home")


def test_a_secretary_turns_it_on_for_a_member_of_his_branch_only(make_unit, make_user, open_as):
    mine, other = make_unit("cb-a"), make_unit("cb-b")
    make_user(role="secretary", unit=mine, username="bithu")
    member = make_user(unit=mine, username="ongbay")
    stranger = make_user(unit=other, username="nguoila")
    secretary = open_as("bithu")
    page = secretary.get(f"/branch/{mine.id}").get_data(as_text=True)
    assert f"/members/{member.id}/large_text" in page
    response = secretary.form_post(f"/members/{member.id}/large_text", {}, token_from="/home")
    assert response.status_code == 302
    response = secretary.form_post(f"/members/{stranger.id}/large_text", {}, token_from="/home")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(User, member.id).large_text is True
    assert db.session.get(User, stranger.id).large_text is False
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "user.large_text")) == 1
    assert 'class="large-text"' in _body(open_as("ongbay").get("/home").get_data(as_text=True))
