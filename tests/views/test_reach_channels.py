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


# ---------------------------------------------------------------- the ward's channels

PUBLIC = "https://thi.tay-mo.vn"


def _round(organizer, clock, audience=(), schedule=True, title="Vòng 3"):
    from datetime import timedelta

    from quizapp.extensions import db
    from quizapp.services import contests
    from quizapp.services.contests import RoundSettings

    contest = contests.create_contest(organizer, "Tìm hiểu Nghị quyết", "", list(audience))
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title=title, opens_at=clock.now + timedelta(hours=1), closes_at=clock.now + timedelta(days=3),
        time_limit_minutes=20, question_count=5, draw_plan="viewpoint-1: 5"))
    if schedule:
        contests.schedule(organizer, round_)
    db.session.commit()
    return round_


def _meta(page: str, prop: str) -> str | None:
    found = re.search(rf'<meta property="{prop}" content="([^"]*)">', page)
    return found.group(1) if found else None


@pytest.fixture
def open_as(browser):
    return browser


@pytest.fixture
def organizer(make_user):
    return make_user(role="organizer", username="btc")


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": PUBLIC}])
def test_the_rounds_public_page_shows_the_round_in_a_link_preview(app, bank, organizer, frozen_clock,
                                                                  make_user, open_as, app_config):
    round_ = _round(organizer, frozen_clock)
    page = _text(BrowserClient(app.test_client()).get(f"/r/{round_.id}"))
    assert _meta(page, "og:title") == "Vòng 3 – Tìm hiểu Nghị quyết"
    assert _meta(page, "og:url") == f"{PUBLIC}/r/{round_.id}"
    description = _meta(page, "og:description")
    assert description.startswith("Mở từ 10:00 02/03/2026 đến 09:00 05/03/2026") and "5 câu hỏi" in description
    assert f'href="/login?next=/rounds/{round_.id}"' in page or \
        f'href="/login?next=%2Frounds%2F{round_.id}"' in page
    # A member already logged in goes straight to the round.
    make_user(username="dvien")
    response = open_as("dvien").get(f"/r/{round_.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/rounds/{round_.id}")


def test_a_draft_round_has_no_public_page_and_no_poster(app, bank, organizer, frozen_clock, open_as,
                                                        make_user, make_unit):
    draft = _round(organizer, frozen_clock, schedule=False)
    branch = make_unit("cb-d")
    make_user(role="secretary", unit=branch, username="bthu")
    assert BrowserClient(app.test_client()).get(f"/r/{draft.id}").status_code == 404
    scheduled = _round(organizer, frozen_clock, title="Vòng 4")
    assert BrowserClient(app.test_client()).get(f"/r/{scheduled.id}").status_code == 200
    assert open_as("btc").get(f"/organize/rounds/{scheduled.id}/poster").status_code == 200
    assert BrowserClient(app.test_client()).get("/r/999999").status_code == 404
    assert open_as("btc").get(f"/organize/rounds/{draft.id}/poster").status_code == 404
    assert open_as("bthu").get(f"/branch/{branch.id}/rounds/{draft.id}/poster").status_code == 404
    assert 'id="share"' not in _text(open_as("btc").get(f"/organize/rounds/{draft.id}"))


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": PUBLIC}])
def test_organizer_copies_a_zalo_text_with_the_rounds_own_address(app, bank, organizer, frozen_clock,
                                                                  open_as, app_config):
    round_ = _round(organizer, frozen_clock)
    page = _text(open_as("btc").get(f"/organize/rounds/{round_.id}"))
    text = re.search(r'<textarea id="share-text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "Vòng 3" in text and "Tìm hiểu Nghị quyết" in text and "Mở từ 10:00 02/03/2026" in text
    assert f"{PUBLIC}/r/{round_.id}" in text
    assert 'data-copy="share-text"' in page
    assert f'href="/organize/rounds/{round_.id}/poster"' in page
    assert "data-copy" in (STATIC / "common.js").read_text(encoding="utf-8")


def _poster_checks(page: str, url: str) -> None:
    import segno

    svg = re.search(r'<svg viewBox="[^"]+" class="segno">.*?</svg>', page, re.S).group(0)
    # The code carries exactly the round's short address (the same matrix segno makes of it).
    expected = re.search(r' d="([^"]+)"', segno.make(url, error="m").svg_inline(scale=1)).group(1)
    assert re.search(r' d="([^"]+)"', svg).group(1) == expected
    assert url in page                                   # the short link, printed for typing
    # Nothing fetched from elsewhere, nothing inline the CSP forbids.
    assert all(ref.startswith("/static/") for ref in re.findall(r'(?:src|href)="([^"]+)"', page)
               if not ref.startswith("/organize") and not ref.startswith("/branch")), page
    assert "<style" not in page and " style=" not in page and "<script>" not in page
    css = (STATIC / "poster.css").read_text(encoding="utf-8")
    assert re.search(r"@page\s*\{\s*size:\s*A4", css) and "@media print" in css


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": PUBLIC}])
def test_organizer_prints_an_a4_poster_with_a_qr_code_and_the_short_link(app, bank, organizer,
                                                                        frozen_clock, open_as, app_config):
    round_ = _round(organizer, frozen_clock)
    response = open_as("btc").get(f"/organize/rounds/{round_.id}/poster")
    assert response.status_code == 200
    page = _text(response)
    assert "Vòng 3" in page and "In áp phích" in page
    _poster_checks(page, f"{PUBLIC}/r/{round_.id}")


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": PUBLIC}])
def test_secretary_prints_the_branchs_poster_only_for_his_branch_and_its_rounds(
        app, bank, organizer, frozen_clock, make_user, make_unit, open_as, app_config):
    mine, other = make_unit("cb-a", name="Chi bộ Khu phố 1"), make_unit("cb-b", name="Chi bộ Khu phố 2")
    make_user(role="secretary", unit=mine, username="bt-a")
    round_ = _round(organizer, frozen_clock)
    elsewhere = _round(organizer, frozen_clock, audience=[other], title="Vòng riêng")
    secretary = open_as("bt-a")
    response = secretary.get(f"/branch/{mine.id}/rounds/{round_.id}/poster")
    assert response.status_code == 200
    page = _text(response)
    assert "Chi bộ Khu phố 1" in page
    _poster_checks(page, f"{PUBLIC}/r/{round_.id}")
    # Another branch's unit id, or a round his branch is not in: not found.
    assert secretary.get(f"/branch/{other.id}/rounds/{round_.id}/poster").status_code == 404
    assert secretary.get(f"/branch/{mine.id}/rounds/{elsewhere.id}/poster").status_code == 404
    # Linked from the branch page while the round is open.
    frozen_clock.set(round_.opens_at)
    assert f'href="/branch/{mine.id}/rounds/{round_.id}/poster"' in _text(secretary.get(f"/branch/{mine.id}"))


def test_without_public_url_nothing_is_guessed_from_the_request(app, bank, organizer, frozen_clock, open_as):
    round_ = _round(organizer, frozen_clock)
    page = _text(BrowserClient(app.test_client()).get(f"/r/{round_.id}", headers={"Host": "evil.example"}))
    assert _meta(page, "og:title") and _meta(page, "og:url") is None and "evil.example" not in page
    poster = _text(open_as("btc").get(f"/organize/rounds/{round_.id}/poster"))
    assert "<svg" not in poster and "chưa có mã QR" in poster
    text = _text(open_as("btc").get(f"/organize/rounds/{round_.id}"))
    assert "[địa chỉ" in re.search(r'<textarea id="share-text"[^>]*>(.*?)</textarea>', text, re.S).group(1)


# ---------------------------------------------------------------- Vietnamese draw plans

ENGLISH_PLAN = "viewpoints: 2 each\nbreakthroughs: 1 each\ntargets: rest\npurpose recall: at most 20%"
VIETNAMESE_PLAN = ("viewpoints: 2 câu mỗi mục\nbreakthroughs: 1 mỗi mục\ntargets: còn lại\n"
                   "mục đích ghi nhớ: tối đa 20%")


def _round_form(plan: str) -> dict:
    return {"title": "Vòng tiếng Việt", "opens_at": "2026-03-02T10:00", "closes_at": "2026-03-02T12:00",
            "time_limit_minutes": "20", "question_count": "20", "draw_plan": plan,
            "shuffle_questions": "y", "shuffle_choices": "y", "attempts_allowed": "1",
            "counting": "best", "results_visibility": "at_close", "prediction_kind": "",
            "prize_first": "1", "prize_second": "2", "prize_third": "3", "prize_consolation": "5"}


def test_vietnamese_draw_plan_keywords_mean_the_english_ones():
    import unicodedata

    from quizapp.services.contests import draw_plan

    english, errors = draw_plan.parse(ENGLISH_PLAN)
    assert errors == []
    for plan in (VIETNAMESE_PLAN, unicodedata.normalize("NFD", VIETNAMESE_PLAN),
                 "Viewpoints: 2 CÂU MỖI MỤC\nbreakthroughs: 1 each\ntargets: phần còn lại\n"
                 "Mục đích recall: tối đa 20 %"):
        rules, errors = draw_plan.parse(plan)
        assert errors == [] and rules == english, plan


def test_organizer_writes_the_draw_plan_in_vietnamese(app, bank, organizer, frozen_clock, open_as):
    from sqlalchemy import select

    from quizapp.extensions import db
    from quizapp.models import Round
    from quizapp.services import contests

    contest = contests.create_contest(organizer, "Tìm hiểu Nghị quyết", "", [])
    db.session.commit()
    org = open_as("btc")
    form = _text(org.get(f"/organize/contests/{contest.id}/rounds/new"))
    assert "viewpoints: 2 câu mỗi mục" in form and "'mã mục: còn lại'" in form
    assert "mục đích ghi nhớ: tối đa 20%'" in form   # one % on the page
    response = org.form_post(f"/organize/contests/{contest.id}/rounds/new",
                             _round_form(VIETNAMESE_PLAN), token_from="/home")
    assert response.status_code == 302, re.findall(r'<p class="error"[^>]*>(.*?)</p>', _text(response))
    round_ = db.session.execute(select(Round).where(Round.title == "Vòng tiếng Việt")).scalar_one()
    assert round_.draw_plan == VIETNAMESE_PLAN
    # A wrong line is named in Vietnamese, with the Vietnamese forms, and nothing is saved.
    response = org.form_post(f"/organize/contests/{contest.id}/rounds/new",
                             _round_form("viewpoints: hai câu"), token_from="/home")
    assert response.status_code == 200
    assert "dòng 1: hãy viết 'mã mục: N câu', 'mã mục: N câu mỗi mục' hoặc 'mã mục: còn lại'" in _text(response)
    assert len(db.session.execute(select(Round)).scalars().all()) == 1


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": PUBLIC}])
def test_shared_links_carry_an_open_graph_picture_at_an_absolute_address(app, bank, organizer,
                                                                         frozen_clock, app_config):
    round_ = _round(organizer, frozen_clock)
    visitor = BrowserClient(app.test_client())
    home = visitor.get("/", follow_redirects=True)   # the site's root lands on the login page
    for page, title in ((_text(visitor.get(f"/r/{round_.id}")), "Vòng 3 – Tìm hiểu Nghị quyết"),
                        (_text(home), "Học tập Nghị quyết")):
        assert _meta(page, "og:title") == title
        assert _meta(page, "og:description")
        image = _meta(page, "og:image")
        assert image == f"{PUBLIC}/static/og-image.png"
        assert page.count('property="og:title"') == 1   # the round's tags replace the site's
        # The picture is a real PNG of the Open Graph size, served by the app itself.
        served = visitor.get(image.removeprefix(PUBLIC))
        assert served.status_code == 200 and served.mimetype == "image/png"
        # PNG signature, then the IHDR chunk: width and height as big-endian 32-bit.
        assert served.data[:8] == b"\x89PNG\r\n\x1a\n" and served.data[12:16] == b"IHDR"
        assert (int.from_bytes(served.data[16:20], "big"), int.from_bytes(served.data[20:24], "big")) \
            == (1200, 630)
        assert _meta(page, "og:image:width") == "1200" and _meta(page, "og:image:height") == "630"
    assert _meta(_text(home), "og:url") == f"{PUBLIC}/"


def test_without_public_url_there_is_no_relative_picture_address(app, bank, organizer, frozen_clock):
    round_ = _round(organizer, frozen_clock)
    page = _text(BrowserClient(app.test_client()).get(f"/r/{round_.id}"))
    assert _meta(page, "og:title") and _meta(page, "og:image") is None and _meta(page, "og:url") is None
