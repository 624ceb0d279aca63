"""The JSON endpoints against their own OpenAPI description (/api/openapi.json), with
schemathesis generating requests through the app's WSGI interface: a logged-in member's
cookie and CSRF header on every request, and most requests aimed at the member's real
attempts and questions so that they get past the 404 and reach the rules. No answer may
be a 5xx.
"""
from __future__ import annotations

import random
import zlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings

from quizapp.api.openapi import spec
from quizapp.extensions import db
from quizapp.services import attempts as attempt_service
from quizapp.services import contest as contests
from quizapp.services.attempts import PracticeSpec
from quizapp.services.contest import RoundSettings
from tests.conftest import BrowserClient
from tests.tokens import tokens_of



@pytest.fixture
def api(app, isolated_requests, bank, make_user, frozen_clock):
    member = make_user(username="dangvien")
    organizer = make_user(role="organizer", username="btc", password=None)
    contest = contests.create_contest(organizer, "Thi tìm hiểu Nghị quyết", "", [])
    round_ = contests.create_round(organizer, contest, RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now + timedelta(hours=1),
        closes_at=frozen_clock.now + timedelta(hours=3), time_limit_minutes=30, question_count=5,
        draw_plan="viewpoint-1: 5", prediction_kind="participants"))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.set(round_.opens_at)
    attempts = [
        contests.start_round_attempt(member, round_, rng=random.Random(1)),
        attempt_service.start_practice(member, PracticeSpec([], 5, None, "immediate")),
        attempt_service.start_practice(member, PracticeSpec([], 5, 10, "exam")),
    ]
    db.session.commit()
    # The API names choices by the attempt's tokens (the quiz page's option values).
    choices = {a.id: {i.question_id: tokens_of(i, i.choice_ids) for i in a.items} for a in attempts}
    browser = BrowserClient(app.test_client())
    browser.login("dangvien")
    return SimpleNamespace(app=app, client=browser.client, token=browser.csrf_token("/home"),
                           choices=choices, schema=schemathesis.openapi.from_wsgi("/api/openapi.json", app))


# The pytest plugin's lazy loader (schemathesis.pytest.from_fixture) reads a private pytest
# attribute that pytest 9 no longer has, so each operation's strategy is driven with
# Hypothesis directly; the operations are listed from the same document the app serves.
MAX_ID = 2 ** 31 - 1  # the documented maximum of attempt_id
# Negative cases only where the document describes something to make invalid
# (parameters or a body); an operation with neither has no invalid request.
CASES = [(label, mode) for path, operations in spec()["paths"].items()
         for method, described in operations.items()
         for label in [f"{method.upper()} {path}"]
         for mode in ("positive", "negative")
         if mode == "positive" or described.get("parameters") or described.get("requestBody")]


def _aim(case, api) -> None:
    """Point most generated requests at the member's own attempts, questions and choices
    (deterministically, from the case itself), and send the session's CSRF token on most."""
    rng = random.Random(zlib.crc32(repr((case.method, case.path, case.path_parameters,
                                         case.body)).encode()))
    if case.path_parameters and "attempt_id" in case.path_parameters and rng.random() < 0.75:
        attempt_id = rng.choice(sorted(api.choices))
        case.path_parameters["attempt_id"] = attempt_id
        if isinstance(case.body, dict) and "question_id" in case.body and rng.random() < 0.75:
            question_id = rng.choice(sorted(api.choices[attempt_id]))
            case.body["question_id"] = question_id
            if rng.random() < 0.75:
                options = api.choices[attempt_id][question_id]
                case.body["choice_ids"] = rng.sample(options, k=rng.randint(0, min(2, len(options))))
    if rng.random() < 0.9:
        case.headers = {**(case.headers or {}), "X-CSRFToken": api.token}


@pytest.mark.parametrize("label,mode", CASES)
def test_no_request_described_by_the_openapi_document_gets_a_5xx(api, label, mode):
    from schemathesis.generation import GenerationMode
    operation = api.schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the document the app serves"
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE if mode == "positive"
                                     else GenerationMode.NEGATIVE)
    statuses: Counter = Counter()
    out_of_range: list = []

    @settings(max_examples=25 if mode == "positive" else 15, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        _aim(case, api)
        attempt_id = (case.path_parameters or {}).get("attempt_id")
        try:
            response = case.call(session=api.client)
        except Exception:
            # An exception escaping the app (TESTING propagates it) is a 500 as well.
            if isinstance(attempt_id, int) and attempt_id > MAX_ID:
                out_of_range.append(attempt_id)
                return
            raise
        statuses[response.status_code] += 1
        if response.status_code >= 500 and isinstance(attempt_id, int) and attempt_id > MAX_ID:
            out_of_range.append(attempt_id)
            return
        assert response.status_code < 500, (case.method, case.formatted_path, case.body,
                                            response.status_code, response.text[:300])
        # Every answer of a JSON endpoint is JSON, errors included.
        if case.path.startswith("/api/"):
            content_type = response.headers.get("content-type", [""])[0]
            assert content_type.startswith("application/json"), (response.status_code, content_type)

    run()
    # A path id above the documented maximum reaches the database and fails there (500 on
    # PostgreSQL from 2**31, on SQLite from 2**63): the known bug pinned, deterministically,
    # by tests/ops/test_abuse.py::test_out_of_range_ids_are_404_or_400_never_500 (xfail).
    # Counted here, not failed a second time; every other 5xx fails this test.
    print(f"\n[schemathesis] {label} {mode}: {dict(sorted(statuses.items()))}"
          + (f", 5xx for ids above the documented maximum: {len(out_of_range)}" if out_of_range else ""))
