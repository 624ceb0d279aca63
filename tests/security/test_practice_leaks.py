"""Practice must not hand out contest answers (issue 10, case 2).

Each test plays the member who practises, checks, reviews or retries while a contest
round is scheduled or open, to harvest the right answers of questions he could meet in
that round, then counts how many of the round's questions his harvest answers. Every
count must be zero until the round closes. On the code before the contest reserve and
the sealed keys, "check this answer" alone gave 9 of 9.
"""
from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from quizapp.extensions import db
from quizapp.models import Attempt, Question, Round, Section
from quizapp.services import contest as contests
from quizapp.services.contest import RoundSettings
from tests.tokens import tokens_of

pytestmark = pytest.mark.usefixtures("isolated_requests")

# The round draws 9 of the approved questions under "viewpoints" (5 per viewpoint, and the
# application questions of "viewpoints" itself): approved_under("viewpoints") of them.
PLAN, COUNT = "viewpoints: 9", 9
SEALED_NOTE = "This question may appear in a contest round that is open or scheduled: " \
              "its answer is shown after the round closes."


# ---------------------------------------------------------------- the member's tools

class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def hidden_fields(page: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(page)
    return {i["name"]: i.get("value", "") for i in parser.inputs if i.get("type") == "hidden"}


def start_practice(client, sections=(), count=50, feedback="immediate"):
    """The practice form, as a member fills it in. The response: a redirect to the new
    attempt, or back to the form with a message."""
    fields = hidden_fields(client.get("/practice").get_data(as_text=True))
    return client.post("/practice", data={
        "csrf_token": fields["csrf_token"], "start_token": fields["start_token"],
        "sections": list(sections), "count": str(count), "feedback": feedback, "time_limit": ""},
        headers={"Referer": "http://localhost/practice"})


def attempt_from(response) -> int | None:
    match = re.search(r"/attempts/(\d+)$", response.headers.get("Location", ""))
    return int(match.group(1)) if match else None


def api_post(client, path: str, payload):
    return client.post(path, json=payload, headers={"X-CSRFToken": client.csrf_token("/home")})


def load(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def harvest_by_check(client, attempt_id: int) -> dict[str, set[str]]:
    """"Check this answer" on every question: question key → texts of the right choices."""
    harvest: dict[str, set[str]] = {}
    for item in load(attempt_id).items:
        # The page's option values are the attempt's choice tokens; the member reads
        # which text each stands for off the page.
        by_token = dict(zip(tokens_of(item, [c.id for c in item.question.choices]),
                            (c.text for c in item.question.choices)))
        response = api_post(client, f"/api/attempts/{attempt_id}/check",
                            {"question_id": item.question_id, "choice_ids": list(by_token)[:1]})
        data = response.get_json(silent=True) or {}
        if data.get("correct_choice_ids"):
            harvest[item.question.key] = {by_token[t] for t in data["correct_choice_ids"]}
    return harvest


def harvest_from_page(client, path: str) -> dict[str, set[str]]:
    """A review page (result, quiz page with feedback): prompt → the choices it marks
    right, or names after "Right answer:"; mapped to question keys."""
    page = client.get(path).get_data(as_text=True)
    harvest: dict[str, set[str]] = {}
    for block in re.split(r'<(?:section|fieldset) class="card question"', page)[1:]:
        prompt = re.search(r'<p class="prompt">(.*?)</p>', block, re.S)
        if not prompt:
            continue
        marked = {html.unescape(re.sub(r'<span class="sr">.*?</span>|<[^>]+>|▶|✔', "", text)).strip()
                  for text in re.findall(
            r'<li class="[^"]*\bright\b[^"]*">(.*?)</li>', block, re.S)}
        named = re.search(r"Right answer:|Đáp án đúng:", block)
        if named:
            marked |= {html.unescape(t).strip() for t in re.findall(
                r"<strong>(.*?)</strong>", block[named.end():].split("</p>", 1)[0], re.S)}
        if marked:
            key = db.session.scalar(select(Question.key).where(
                Question.prompt == html.unescape(prompt.group(1).strip())).limit(1))
            harvest[key] = marked
    return harvest


def known(harvest: dict[str, set[str]], attempt_id: int) -> int:
    """How many questions of a contest attempt the harvest answers exactly right."""
    right = 0
    for item in load(attempt_id).items:
        truth = {c.text for c in item.question.choices if c.is_correct}
        right += harvest.get(item.question.key) == truth
    return right


def vi(message: str, **values) -> str:
    with force_locale("vi"):
        return gettext(message, **values)


# ---------------------------------------------------------------- scenario

@pytest.fixture
def organizer(make_user):
    return make_user(role="organizer", username="btc")


@pytest.fixture
def member_client(client, make_user, bank):
    make_user(username="dangvien")
    client.login("dangvien")
    return client


def make_round(organizer, clock, *, schedule=True, open_now=True, **overrides) -> Round:
    contest = contests.create_contest(organizer, "Hội thi tìm hiểu Nghị quyết", "", [])
    values = dict(title="Vòng 1", opens_at=clock.now + timedelta(hours=1),
                  closes_at=clock.now + timedelta(hours=5), time_limit_minutes=30,
                  question_count=COUNT, draw_plan=PLAN)
    values.update(overrides)
    round_ = contests.create_round(organizer, contest, RoundSettings(**values))
    if schedule:
        contests.schedule(organizer, round_)
    db.session.commit()
    if open_now:
        clock.set(round_.opens_at + timedelta(minutes=1))
    return round_


def approved_under(key: str) -> int:
    """Approved current questions in the subtree of section `key`, as the bank holds them
    (the bundled bank grows: counted, not written down)."""
    sections = db.session.execute(select(Section)).scalars().all()
    ids = {s.id for s in sections if s.key == key}
    while True:
        more = {s.id for s in sections if s.parent_id in ids} - ids
        if not more:
            break
        ids |= more
    assert ids, key
    return len(db.session.execute(select(Question.id).where(
        Question.section_id.in_(ids), Question.is_current.is_(True),
        Question.status == "approved")).all())


def take_round(client, round_: Round) -> int:
    response = client.form_post(f"/rounds/{round_.id}/start", token_from="/home")
    attempt_id = attempt_from(response)
    assert attempt_id, response.headers.get("Location")
    return attempt_id


def submit(client, attempt_id: int, right: int = 0) -> None:
    """The plain form's submit, the first `right` answers right, the others wrong."""
    data = {"action": "submit"}
    for n, item in enumerate(load(attempt_id).items):
        choices = item.question.choices
        pick = [c for c in choices if c.is_correct] if n < right else \
            [next(c for c in choices if not c.is_correct)]
        data[f"q-{item.question_id}"] = [str(t) for t in tokens_of(item, [c.id for c in pick])]
    response = client.form_post(f"/attempts/{attempt_id}", data, token_from=f"/attempts/{attempt_id}")
    assert response.status_code == 302


# ---------------------------------------------------------------- the attacks

def test_immediate_practice_during_an_open_round_hands_out_none_of_its_answers(
        member_client, organizer, frozen_clock):
    round_ = make_round(organizer, frozen_clock)
    harvest: dict[str, set[str]] = {}
    for sections in (["viewpoints"], ["viewpoint-1", "viewpoint-2"], []):
        attempt_id = attempt_from(start_practice(member_client, sections))
        if attempt_id is not None:
            harvest |= harvest_by_check(member_client, attempt_id)
            harvest |= harvest_from_page(member_client, f"/attempts/{attempt_id}")
    contest_attempt = take_round(member_client, round_)
    assert known(harvest, contest_attempt) == 0
    # Practice still works, on the rest of the outline, and says why it shrank.
    assert harvest, "the practice over the whole outline still served questions"
    page = member_client.get("/practice").get_data(as_text=True)
    assert html.escape(vi("Sections with fewer questions now")) in page
    assert "Vòng 1" in page


def test_practice_over_the_round_sections_alone_is_refused_with_the_reason(
        member_client, organizer, frozen_clock):
    make_round(organizer, frozen_clock)
    response = start_practice(member_client, ["viewpoints"])
    assert attempt_from(response) is None
    page = member_client.get("/practice").get_data(as_text=True)
    assert html.escape(vi("The questions you chose are kept for a contest round that is open "
                          "or scheduled. Practise other sections, or come back after the round "
                          "closes.")) in page


def test_a_practice_started_before_the_round_cannot_check_its_questions(
        member_client, organizer, frozen_clock):
    attempt_id = attempt_from(start_practice(member_client, ["viewpoints"]))
    assert attempt_id is not None
    round_ = make_round(organizer, frozen_clock, open_now=False)  # scheduled seals already
    assert contests.round_state(round_) == "scheduled"
    harvest = harvest_by_check(member_client, attempt_id)
    # The plain form's check: refused with the reason, the answer it carried is kept.
    item = load(attempt_id).items[0]
    choice = item.choice_ids[0]
    response = member_client.form_post(
        f"/attempts/{attempt_id}", {f"q-{item.question_id}": [str(tokens_of(item, [choice])[0])],
                                    "check": str(item.question_id)},
        token_from=f"/attempts/{attempt_id}", headers={"Referer": f"http://localhost/attempts/{attempt_id}"})
    assert response.status_code == 302
    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert html.escape(vi(SEALED_NOTE)) in page
    assert load(attempt_id).items[0].selected == str(choice)
    assert not load(attempt_id).items[0].locked
    harvest |= harvest_from_page(member_client, f"/attempts/{attempt_id}")
    submit(member_client, attempt_id)
    harvest |= harvest_from_page(member_client, f"/attempts/{attempt_id}/result")
    result = member_client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert not re.search(r'class="big-score">\d+/\d+', result)  # the score would tell too

    frozen_clock.set(round_.opens_at + timedelta(minutes=1))
    assert known(harvest, take_round(member_client, round_)) == 0


def test_the_review_of_an_earlier_practice_shows_no_answer_of_an_open_round(
        member_client, organizer, frozen_clock):
    attempt_id = attempt_from(start_practice(member_client, ["viewpoints"], feedback="exam"))
    submit(member_client, attempt_id)
    before = harvest_from_page(member_client, f"/attempts/{attempt_id}/result")
    assert len(before) == approved_under("viewpoints") >= 30  # before any round, the review shows every answer
    round_ = make_round(organizer, frozen_clock)
    harvest = harvest_from_page(member_client, f"/attempts/{attempt_id}/result")
    assert known(harvest, take_round(member_client, round_)) == 0
    # Once the round closes, the review shows the answers again.
    frozen_clock.set(round_.closes_at + timedelta(minutes=1))
    assert len(harvest_from_page(member_client, f"/attempts/{attempt_id}/result")) == len(before)


def test_retry_my_mistakes_during_an_open_round_leaves_its_questions_out(
        member_client, organizer, frozen_clock):
    attempt_id = attempt_from(start_practice(member_client, ["viewpoint-1", "goals"], feedback="exam"))
    submit(member_client, attempt_id, right=0)  # every answer wrong: all are mistakes
    round_ = make_round(organizer, frozen_clock)
    response = member_client.form_post("/practice/mistakes", token_from="/home",
                                       headers={"Referer": "http://localhost/home"})
    retry = attempt_from(response)
    assert retry is not None  # the "goals" mistakes are still there to retry
    sections = {item.question.section.key for item in load(retry).items}
    assert sections == {"goals"}
    harvest = harvest_by_check(member_client, retry)
    assert known(harvest, take_round(member_client, round_)) == 0


def test_a_second_attempt_learns_nothing_from_the_first_ones_review(
        make_user, bank, client, organizer, frozen_clock):
    """Results at submit and two attempts: the review of the first must not key the
    second (the plan names 5 questions, so both attempts ask the same ones)."""
    make_user(username="dangvien")
    client.login("dangvien")
    round_ = make_round(organizer, frozen_clock, draw_plan="viewpoint-1: 5", question_count=5,
                        results_visibility="at_submit", attempts_allowed=2)
    first = take_round(client, round_)
    submit(client, first, right=2)
    result = client.get(f"/attempts/{first}/result").get_data(as_text=True)
    assert re.search(r'class="big-score">2/5', result)  # the score, as the round's rule says
    harvest = harvest_from_page(client, f"/attempts/{first}/result")
    second = take_round(client, round_)
    assert second != first
    assert known(harvest, second) == 0


def test_member_home_does_not_move_with_a_sealed_answer(member_client, organizer, frozen_clock):
    """The weak sections, the mistake count and the score in "my attempts" would each
    tell how an answer to a sealed question went."""
    attempt_id = attempt_from(start_practice(member_client, ["viewpoint-1"], feedback="exam"))
    make_round(organizer, frozen_clock, draw_plan="viewpoint-1: 5", question_count=5)
    submit(member_client, attempt_id, right=2)
    home = member_client.get("/home").get_data(as_text=True)
    title = db.session.scalar(select(Section.title).where(Section.key == "viewpoint-1"))
    assert "2/5" not in home
    assert html.escape(title) not in home and title not in home
    assert "study.practice_mistakes" not in home and "/practice/mistakes" not in home


def test_practice_and_its_answers_come_back_when_the_round_closes(
        member_client, organizer, frozen_clock):
    round_ = make_round(organizer, frozen_clock)
    assert attempt_from(start_practice(member_client, ["viewpoints"])) is None
    frozen_clock.set(round_.closes_at)
    attempt_id = attempt_from(start_practice(member_client, ["viewpoints"]))
    whole = approved_under("viewpoints")
    assert attempt_id is not None and len(load(attempt_id).items) == whole >= 30
    assert len(harvest_by_check(member_client, attempt_id)) == whole
    page = member_client.get("/practice").get_data(as_text=True)
    assert html.escape(vi("Sections with fewer questions now")) not in page


def test_a_reserve_round_leaves_practice_whole_and_practice_never_sees_the_reserve(
        member_client, organizer, frozen_clock):
    db.session.execute(update(Question).where(Question.section_id == db.session.scalar(
        select(Section.id).where(Section.key == "viewpoint-1"))).values(reserve=True))
    db.session.commit()
    round_ = make_round(organizer, frozen_clock, question_pool="reserve",
                        draw_plan="viewpoints: 5", question_count=5)
    attempt_id = attempt_from(start_practice(member_client, ["viewpoints"]))
    items = load(attempt_id).items
    assert approved_under("viewpoint-1") == 5
    assert len(items) == approved_under("viewpoints") - 5 and not any(item.question.reserve for item in items)
    assert html.escape(vi("Sections with fewer questions now")) not in \
        member_client.get("/practice").get_data(as_text=True)
    harvest = harvest_by_check(member_client, attempt_id)
    contest_attempt = take_round(member_client, round_)
    assert all(item.question.reserve for item in load(contest_attempt).items)
    assert known(harvest, contest_attempt) == 0


def test_a_question_retired_during_the_round_stays_sealed(member_client, organizer, frozen_clock):
    """Out of the pool since the draw, but frozen into the round's attempts: still one a
    member is asked in the open round."""
    attempt_id = attempt_from(start_practice(member_client, ["viewpoints"], feedback="exam"))
    submit(member_client, attempt_id)
    round_ = make_round(organizer, frozen_clock)
    contest_attempt = take_round(member_client, round_)
    retired = load(contest_attempt).items[0].question
    retired.status = "retired"
    db.session.commit()
    harvest = harvest_from_page(member_client, f"/attempts/{attempt_id}/result")
    assert retired.key not in harvest
    assert known(harvest, contest_attempt) == 0
