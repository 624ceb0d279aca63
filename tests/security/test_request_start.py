"""A submit sent in time is judged by when it was sent, not by when a busy worker got
to it: behind a proxy that stamps every request (`X-Request-Start: t=<seconds>`, nginx's
`t=${msec}`) and with REQUEST_START_HEADER set, the deadline is checked against the
proxy's receive time. Tried as the member who wants more time: the header is ignored
unless the app is told to trust it, a stamp older than two minutes or from the future
moves nothing, and a malformed one is ignored."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from quizapp.clock import RECEIVED_MAX_AGE, parse_request_start
from quizapp.extensions import db
from quizapp.models import Attempt
from quizapp.services import attempts, contests
from tests.conftest import open_round_at_start
from tests.tokens import tokens_of

pytestmark = pytest.mark.usefixtures("isolated_requests")


def _stamp(when: datetime) -> str:
    return f"t={when.timestamp():.3f}"


@pytest.fixture
def late_at_the_worker(client, make_user, make_unit, bank, frozen_clock):
    """A member with a round attempt whose deadline has passed by more than the grace
    when the worker gets to his submit; returns (attempt id, deadline, form)."""
    organizer = make_user(role="organizer", username="btc")
    member = make_user(username="dangvien", unit=make_unit())
    round_ = open_round_at_start(organizer, frozen_clock, time_limit_minutes=10)
    attempt = contests.start_round_attempt(member, round_, rng=random.Random(2))
    db.session.commit()
    client.login("dangvien")
    token = client.csrf_token(f"/attempts/{attempt.id}")
    form = {"csrf_token": token, "action": "submit"}
    form.update({f"q-{i.question_id}": tokens_of(i, i.choice_ids)[0] for i in attempt.items})
    deadline = attempt.deadline
    frozen_clock.set(deadline + timedelta(seconds=40))   # grace is 5 s: late at the worker
    return attempt.id, deadline, form


def _stored(attempt_id):
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


class TestTrusted:
    @pytest.fixture
    def app_config(self):
        return {"REQUEST_START_HEADER": True, "BEHIND_PROXY": True}

    def test_a_submit_received_in_time_counts_though_the_worker_was_late(self, client,
                                                                        late_at_the_worker):
        attempt_id, deadline, form = late_at_the_worker
        received = deadline - timedelta(seconds=3)
        response = client.post(f"/attempts/{attempt_id}", data=form,
                               headers={"X-Request-Start": _stamp(received)})
        assert response.status_code == 302 and response.location.endswith("/result")
        stored = _stored(attempt_id)
        assert stored.finish_reason == "submitted"
        assert all(item.selected for item in stored.items), "the posted answers were kept"
        assert abs((stored.finished_at - received).total_seconds()) < 0.01

    def test_an_autosave_received_in_time_is_saved_though_the_worker_was_late(
            self, client, late_at_the_worker):
        attempt_id, deadline, form = late_at_the_worker
        qid, token = next((int(k[2:]), v) for k, v in form.items() if k.startswith("q-"))
        response = client.post(f"/api/attempts/{attempt_id}/answers",
                               json={"question_id": qid, "choice_ids": [token]},
                               headers={"X-CSRFToken": form["csrf_token"],
                                        "X-Request-Start": _stamp(deadline - timedelta(seconds=1))})
        assert response.status_code == 200, response.get_data(as_text=True)
        stored = _stored(attempt_id)
        assert stored.status == "in_progress"
        assert [i.selected for i in stored.items if i.question_id == qid] != [None]

    def test_a_stamp_older_than_the_longest_believed_wait_moves_nothing(self, client,
                                                                       late_at_the_worker,
                                                                       frozen_clock):
        attempt_id, deadline, form = late_at_the_worker
        frozen_clock.set(deadline + RECEIVED_MAX_AGE + timedelta(seconds=30))
        client.post(f"/attempts/{attempt_id}", data=form,
                    headers={"X-Request-Start": _stamp(deadline - timedelta(seconds=1))})
        stored = _stored(attempt_id)
        assert stored.finish_reason == "expired" and not any(i.selected for i in stored.items)

    @pytest.mark.parametrize("header", ["t=abc", "t=", "t=1e9", "t=-5", "t=" + "9" * 30,
                                        "t=1.2.3"])
    def test_a_malformed_stamp_is_ignored(self, client, late_at_the_worker, header):
        attempt_id, _deadline, form = late_at_the_worker
        client.post(f"/attempts/{attempt_id}", data=form, headers={"X-Request-Start": header})
        assert _stored(attempt_id).finish_reason == "expired"

    def test_the_sweeper_waits_for_submits_still_queued(self, app, late_at_the_worker,
                                                        frozen_clock):
        attempt_id, deadline, _form = late_at_the_worker
        with app.app_context():
            assert attempts.close_overdue() == 0     # 40 s late: a submit may be queued
            frozen_clock.set(deadline + timedelta(seconds=5) + RECEIVED_MAX_AGE
                             + timedelta(seconds=1))
            assert attempts.close_overdue() == 1
            db.session.commit()
        assert _stored(attempt_id).finish_reason == "expired"

    def test_the_organizers_settle_waits_too_and_counts_nothing_unsettled_meanwhile(
            self, app, late_at_the_worker, frozen_clock):
        attempt_id, deadline, _form = late_at_the_worker
        round_ = _stored(attempt_id).round
        assert contests.unsettled_count(round_) == 0
        assert contests.finish_expired(round_) == 0     # a submit may still be queued
        frozen_clock.set(deadline + timedelta(seconds=5) + RECEIVED_MAX_AGE + timedelta(seconds=1))
        assert contests.unsettled_count(round_) == 1
        assert contests.finish_expired(round_) == 1
        db.session.commit()
        assert _stored(attempt_id).finish_reason == "expired"


def test_without_the_setting_a_member_cannot_claim_an_earlier_time(client, late_at_the_worker):
    attempt_id, deadline, form = late_at_the_worker
    response = client.post(f"/attempts/{attempt_id}", data=form,
                           headers={"X-Request-Start": _stamp(deadline - timedelta(seconds=3))})
    assert response.status_code == 409, "time is up"
    stored = _stored(attempt_id)
    assert stored.finish_reason == "expired" and not any(i.selected for i in stored.items)


def test_parse_request_start():
    now = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)
    assert parse_request_start(f"t={now.timestamp() - 2.5:.3f}", now) == now - timedelta(seconds=2.5)
    assert parse_request_start(f"{now.timestamp() - 1:.0f}", now) == now - timedelta(seconds=1)
    assert parse_request_start(f"t={now.timestamp() + 3:.3f}", now) == now   # clocks apart
    assert parse_request_start(f"t={now.timestamp() - 121:.3f}", now) is None
    for bad in ("", "t=", "abc", "t=1,5", "t=nan", "t=inf", "t=" + "1" * 40):
        assert parse_request_start(bad, now) is None, bad
