"""The individual ranking is a pure read in a fixed number of SQL statements.

Before, `contests.ranking` loaded each member and branch of the round separately (about
1,900 statements for the demo's round) and finished expired attempts on the way, so the
two GET pages that show it committed. These budgets count the statements of the service
and of the ranking page for a small and a larger round: the counts must not grow with
the number of members."""
from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest

from quizapp.extensions import db
from quizapp.models import Round
from quizapp.services import attempts, contests
from tests.views.test_statement_budget import statements

pytestmark = pytest.mark.usefixtures("isolated_requests")


@pytest.fixture
def closed_round(make_user, make_unit, bank, frozen_clock):
    """make(members): a closed round with a prediction question, taken and submitted by
    `members` members spread over three branches; returns its id."""
    def make(members: int) -> int:
        organizer = make_user(role="organizer", username=f"btc{members}")
        branches = [make_unit() for _n in range(3)]
        contest = contests.create_contest(organizer, f"Hội thi {members}", "", [])
        round_ = contests.create_round(organizer, contest, contests.RoundSettings(
            title="Vòng 1", opens_at=frozen_clock.now + timedelta(minutes=1),
            closes_at=frozen_clock.now + timedelta(hours=1), time_limit_minutes=20,
            question_count=5, prediction_kind="participants", results_visibility="at_close"))
        contests.schedule(organizer, round_)
        db.session.commit()
        frozen_clock.advance(minutes=2)
        rng = random.Random(members)
        for n in range(members):
            member = make_user(unit=branches[n % 3])
            attempt = contests.start_round_attempt(member, round_, rng=rng)
            contests.set_prediction(attempt, rng.randint(0, 20))
            attempts.submit(attempt, {i.question_id: [rng.choice(i.choice_ids)]
                                      for i in attempt.items})
            db.session.commit()
        frozen_clock.advance(hours=2)
        return round_.id
    return make


def _ranking_statements(round_id: int) -> tuple[int, list[str]]:
    db.session.expire_all()  # nothing read before counts: every row is loaded again
    with statements() as seen:
        rows = contests.ranking(db.session.get(Round, round_id))
        names = [(row.rank, row.user.full_name, row.unit.name) for row in rows]
    assert names
    return len(seen), seen


def test_the_ranking_reads_in_the_same_few_statements_whatever_the_round_size(closed_round):
    small, seen_small = _ranking_statements(closed_round(3))
    large, seen_large = _ranking_statements(closed_round(15))
    # the round, the results with their members and branches, the prediction's actual value
    assert small <= 3, "\n".join(seen_small)
    assert large == small, "\n".join(seen_large)


def test_the_ranking_writes_nothing(closed_round):
    round_id = closed_round(4)
    _count, seen = _ranking_statements(round_id)
    writes = [s for s in seen if s.lstrip().split(None, 1)[0].upper()
              in ("INSERT", "UPDATE", "DELETE", "WITH")]
    assert writes == []


def test_the_ranking_page_runs_the_same_statements_for_a_larger_round(client, closed_round,
                                                                     make_user):
    make_user(role="organizer", username="viewer")
    db.session.commit()
    client.login("viewer")
    _assert_same_statements_for_a_larger_round(client, closed_round, "/rounds/{}/ranking")


def _assert_same_statements_for_a_larger_round(client, closed_round, url: str) -> None:
    """The page at `url` (formatted with the round's id) of a 3- and a 15-member round
    lists every ranked member and runs the same number of statements."""
    counts = []
    for members in (3, 15):
        round_id = closed_round(members)
        db.session.expire_all()
        with statements() as seen:
            page = client.get(url.format(round_id))
        assert page.status_code == 200
        assert len(_body_rows(page)) == members
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def _body_rows(page) -> list[str]:
    body = page.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", body, re.S)


def test_the_ranking_page_shows_one_page_of_rows_and_the_way_to_the_members_own(
        client, closed_round, monkeypatch):
    """A city round ranks tens of thousands: the page loads and shows one page of rows
    (the same statements whatever the size), says how many are ranked, leads through
    the pages, and links a member whose row is on another page straight to it."""
    from quizapp.models import RoundResult
    monkeypatch.setattr(contests, "RANKING_PAGE_SIZE", 4)
    round_id = closed_round(10)
    round_ = db.session.get(Round, round_id)
    full = contests.ranking(round_)
    last = full[-1].user  # ranked last: his row is on page 3 of 4-row pages
    client.login(last.username)
    first = client.get(f"/rounds/{round_id}/ranking")
    html = first.get_data(as_text=True)
    assert [r.user.full_name for r in full[:4]] == [
        re.search(r"<td>=?\d+</td>\s*<td>([^<]+)<br>", row).group(1) for row in _body_rows(first)]
    assert "10 người được xếp hạng" in html
    assert f'href="/rounds/{round_id}/ranking?page=3#me"' in html
    assert f'href="/rounds/{round_id}/ranking?page=2"' in html and "1/3" in html
    own = client.get(f"/rounds/{round_id}/ranking?page=3").get_data(as_text=True)
    assert 'class="me" id="me"' in own and "?page=3#me" not in own
    assert f'href="/rounds/{round_id}/ranking?page=2"' in own  # back one page
    # A page past the last, or not a number, is a page that exists: never an error.
    assert client.get(f"/rounds/{round_id}/ranking?page=99").get_data(as_text=True).count(
        'id="me"') == 1
    for bad in ("abc", "-1", "99999999999999"):
        page = client.get(f"/rounds/{round_id}/ranking?page={bad}")
        assert page.status_code == 200 and len(_body_rows(page)) == 4, bad
    assert db.session.scalar(db.select(db.func.count()).select_from(RoundResult)
                             .where(RoundResult.round_id == round_id)) == 10


def test_a_members_own_rank_is_counted_not_sorted(closed_round):
    """The result page asks for the member's own rank (contests.member_rank): a fixed
    number of statements and no row per member of the round, whatever its size; and it
    agrees with the full ranking."""
    from quizapp.models import RoundResult
    from tests.conftest import assert_member_rank_agrees
    counts = []
    for members in (3, 15):
        round_id = closed_round(members)
        round_ = db.session.get(Round, round_id)
        assert_member_rank_agrees(round_)
        user = db.session.execute(db.select(RoundResult).where(
            RoundResult.round_id == round_id)).scalars().first().user
        db.session.expire_all()
        user.id  # the request's user is loaded before the view runs
        with statements() as seen:
            mine, total = contests.member_rank(db.session.get(Round, round_id), user)
        assert mine is not None and total == members
        counts.append(len(seen))
    # the round; the prediction's actual value; the member's row; the counts
    assert counts[0] <= 4 and counts[1] == counts[0], (counts, seen)


def test_the_organizers_results_page_shows_one_page_in_the_same_statements(
        client, closed_round, make_user, monkeypatch):
    """The organizer's results page used to print the whole ranking (20,000 rows for a
    city round) and sort it twice, once more for the prize proposals. It shows a page of
    rows now, in the same statements whatever the round's size; the proposals read the
    head of the ranking; a bad page number is a page that exists."""
    make_user(role="organizer", username="ban-to-chuc")
    db.session.commit()
    client.login("ban-to-chuc")
    _assert_same_statements_for_a_larger_round(client, closed_round,
                                               "/organize/rounds/{}/results")

    monkeypatch.setattr(contests, "RANKING_PAGE_SIZE", 4)
    round_id = closed_round(10)
    full = contests.ranking(db.session.get(Round, round_id))
    html = client.get(f"/organize/rounds/{round_id}/results").get_data(as_text=True)
    assert "10 người được xếp hạng" in html and "1/3" in html
    assert f'href="/organize/rounds/{round_id}/results?page=2#ranking"' in html
    third = client.get(f"/organize/rounds/{round_id}/results?page=3")
    assert [f"{row.attempt_id}" for row in full[8:]] == [
        re.findall(r"<small>(\d+)</small></td></tr>", row)[0] for row in _body_rows(third)]
    for bad in ("abc", "-1", "99999999999999", "99"):
        page = client.get(f"/organize/rounds/{round_id}/results?page={bad}")
        assert page.status_code == 200 and 1 <= len(_body_rows(page)) <= 4, bad


def test_the_contest_ranking_page_shows_one_page(client, closed_round, make_user, monkeypatch):
    """The organizer's contest ranking (every closed round added up) printed every
    member (25,000 rows and 8.6 s for a city contest): it shows a page now, with the
    pager, and only that page's members are loaded."""
    make_user(role="organizer", username="ban-to-chuc")
    db.session.commit()
    client.login("ban-to-chuc")
    counts = []
    for members in (3, 12):
        round_id = closed_round(members)
        contest_id = db.session.get(Round, round_id).contest_id
        db.session.expire_all()
        with statements() as seen:
            page = client.get(f"/organize/contests/{contest_id}/ranking")
        assert page.status_code == 200 and len(_body_rows(page)) == members
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    monkeypatch.setattr(contests, "RANKING_PAGE_SIZE", 4)
    full = contests.contest_ranking(db.session.get(Round, round_id).contest)  # 12 members
    html = client.get(f"/organize/contests/{contest_id}/ranking").get_data(as_text=True)
    assert "12 người được xếp hạng" in html and "1/3" in html
    assert f'href="/organize/contests/{contest_id}/ranking?page=2"' in html
    third = client.get(f"/organize/contests/{contest_id}/ranking?page=3")
    assert [r.user.full_name for r in full[8:]] == [
        re.search(r"<td>=?\d+</td><td>([^<]+)<br>", row).group(1) for row in _body_rows(third)]
    for bad in ("abc", "-1", "99999999999999", "99"):
        page = client.get(f"/organize/contests/{contest_id}/ranking?page={bad}")
        assert page.status_code == 200 and len(_body_rows(page)) == 4, bad
