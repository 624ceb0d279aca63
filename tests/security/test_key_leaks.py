"""Issue 10, case 1: the quiz page must not tell the key.

The member who wants to win without reading plays a fixed rule over what the page
shows besides the texts — option values, their order, names, DOM ids — on every
question drawn, in contest rounds and in practice (exam and immediate feedback), and
with JavaScript or without it (the script reads the same values the form posts). Each
rule must score what guessing scores: within guessing's 95 % range over the drawn
questions (Bonferroni-corrected over the rules, so that the family of rules together
has a 5 % false-alarm rate, not each one).

Before choice tokens the option values were database ids, which follow the author's
order, and the author writes the right answer first: "lowest value" scored about 63 %
against about 27 % for guessing.
"""
from __future__ import annotations

import html
import math
import random
import re
from datetime import timedelta
from statistics import NormalDist

import pytest
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Question
from quizapp.services import attempts as attempt_service
from quizapp.services import contests
from quizapp.services.attempts import PracticeSpec

pytestmark = pytest.mark.usefixtures("isolated_requests")


def _options(page: str) -> dict[int, list[dict]]:
    """Question id → its options in page order: value, name, DOM id and label text."""
    out = {}
    for qid, body in re.findall(
            r'<fieldset class="card question" id="q-(\d+)"[^>]*>(.*?)</fieldset>', page, re.S):
        options = []
        for label in re.findall(r'<label class="option">(.*?)</label>', body, re.S):
            tag = re.search(r"<input([^>]*)>", label, re.S).group(1)
            attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
            text = re.search(r"<span>(.*?)</span>", label, re.S).group(1)
            options.append({"value": attrs["value"], "name": attrs.get("name", ""),
                            "dom_id": attrs.get("id", ""), "text": html.unescape(text)})
        out[int(qid)] = options
    return out


def _as_number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float(int.from_bytes(value.encode(), "big"))


# Each rule orders a question's options; the player picks the first one (or, for a
# multiple-choice question, the first k, k being the number of right answers: the rule
# is even told how many to tick).
RULES = {
    "lowest value": lambda opts: sorted(range(len(opts)), key=lambda i: _as_number(opts[i]["value"])),
    "highest value": lambda opts: sorted(range(len(opts)), key=lambda i: -_as_number(opts[i]["value"])),
    "lowest value as text": lambda opts: sorted(range(len(opts)), key=lambda i: opts[i]["value"]),
    "highest value as text": lambda opts: sorted(range(len(opts)), key=lambda i: opts[i]["value"],
                                                 reverse=True),
    "first in page order": lambda opts: list(range(len(opts))),
    "last in page order": lambda opts: list(reversed(range(len(opts)))),
    "lowest DOM id, then name, then value": lambda opts: sorted(
        range(len(opts)), key=lambda i: (opts[i]["dom_id"], opts[i]["name"], opts[i]["value"])),
    "shortest value": lambda opts: sorted(range(len(opts)), key=lambda i: (len(opts[i]["value"]), i)),
}


def _guess_probability(kind: str, options: int, right: int) -> float:
    """The chance that ticking `right` options at random (one for single and true/false)
    is exactly the key."""
    return 1 / options if kind != "multiple" else 1 / math.comb(options, right)


@pytest.fixture
def drawn_pages(client, bank, make_user, frozen_clock):
    """About 240 questions a member is shown: a contest round of 40 and practices of 50
    in exam and immediate mode, each page as the member's browser receives it."""
    organizer = make_user(role="organizer", username="btc")
    member = make_user(username="dangvien")
    contest = contests.create_contest(organizer, "Hội thi", "", [])
    round_ = contests.create_round(organizer, contest, contests.RoundSettings(
        title="Vòng 1", opens_at=frozen_clock.now + timedelta(minutes=1),
        closes_at=frozen_clock.now + timedelta(hours=2), time_limit_minutes=60, question_count=40))
    contests.schedule(organizer, round_)
    db.session.commit()
    frozen_clock.advance(minutes=2)
    started = [contests.start_round_attempt(member, round_, rng=random.Random(10))]
    for n, feedback in enumerate(["exam", "immediate", "exam", "immediate"]):
        started.append(attempt_service.start_practice(
            member, PracticeSpec([], 50, None, feedback), rng=random.Random(20 + n)))
    db.session.commit()
    ids = [a.id for a in started]
    client.login("dangvien")
    pages = []
    for attempt_id in ids:
        response = client.get(f"/attempts/{attempt_id}")
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True))
    return pages


def test_no_fixed_rule_over_values_names_ids_or_order_beats_guessing(drawn_pages):
    asked = []  # (question, its options on the page)
    for page in drawn_pages:
        for qid, options in _options(page).items():
            asked.append((db.session.get(Question, qid), options))
    assert len(asked) >= 200
    expected = variance = 0.0
    scores = dict.fromkeys(RULES, 0)
    for question, options in asked:
        right_texts = {c.text for c in question.choices if c.is_correct}
        texts = [o["text"] for o in options]
        assert sorted(texts) == sorted(c.text for c in question.choices) and len(set(texts)) == len(texts)
        p = _guess_probability(question.kind, len(options), len(right_texts))
        expected += p
        variance += p * (1 - p)
        ticks = len(right_texts) if question.kind == "multiple" else 1
        for name, rule in RULES.items():
            picked = {texts[i] for i in rule(options)[:ticks]}
            scores[name] += picked == right_texts
    z = NormalDist().inv_cdf(1 - 0.05 / (2 * len(RULES)))
    low, high = expected - z * math.sqrt(variance), expected + z * math.sqrt(variance)
    beyond = {name: score for name, score in scores.items() if not low <= score <= high}
    assert not beyond, (f"guessing scores {expected:.1f} of {len(asked)} "
                        f"(95 % range {low:.1f}–{high:.1f}); these rules fall outside: {beyond}")


def test_values_differ_between_attempts_of_the_same_question(client, bank, make_user):
    """A token names a choice in one attempt only: what a member learns in one attempt
    (a practice's checked answer) names nothing in the next."""
    member = make_user(username="dangvien")
    question_ids = [q.id for q in db.session.execute(
        db.select(Question).where(Question.status == "approved").limit(5)).scalars()]
    first = attempt_service.start_practice(member, PracticeSpec([], 5, None, "exam"),
                                           question_ids=question_ids, rng=random.Random(1))
    second = attempt_service.start_practice(member, PracticeSpec([], 5, None, "exam"),
                                            question_ids=question_ids, rng=random.Random(1))
    db.session.commit()
    ids = first.id, second.id
    client.login("dangvien")
    values = []
    for attempt_id in ids:
        page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
        values.append({qid: {o["value"] for o in options} for qid, options in _options(page).items()})
    assert set(values[0]) == set(values[1]) == set(question_ids)
    for qid in question_ids:
        assert values[0][qid].isdisjoint(values[1][qid])
        # And none of them is a choice's database id.
        choice_ids = {str(c.id) for c in db.session.get(Question, qid).choices}
        assert values[0][qid].isdisjoint(choice_ids)


def test_a_round_that_keeps_one_order_for_everyone_does_not_show_the_authors_order(app, bank):
    """With choice shuffling off, every member sees the same order, and it is not the
    bank's stored order (where the right answer nearly always comes first): "always tick
    the first option" must do no better than on a shuffled page."""
    questions = db.session.execute(select(Question).where(
        Question.is_current.is_(True), Question.status == "approved",
        Question.kind == "single")).scalars().all()
    assert len(questions) > 100
    first_right = {}
    for shuffle in (False, True):
        attempt = Attempt()
        attempt_service.freeze(attempt, questions, random.Random(7), shuffle_choices=shuffle)
        right = 0
        for question, item in zip(questions, attempt.items):
            first = int(item.choice_order.split(",")[0])
            right += any(c.id == first and c.is_correct for c in question.choices)
        first_right[shuffle] = right / len(questions)
        db.session.expunge_all()
    # Stored order: the first choice is right for ~90 % of these questions.
    stored = sum(q.choices[0].is_correct for q in questions) / len(questions)
    assert stored > 0.8
    # Four options on most questions: a fixed first pick scores about a quarter either way.
    assert first_right[False] < 0.45 and first_right[True] < 0.45, (first_right, stored)
