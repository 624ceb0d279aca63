"""The quiz through the browser: starting a practice, the page that never reveals the
answer, autosave, the plain-form path, deadlines, results, mistakes, the outline pages and
the error pages."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Attempt, Question, Section
from quizapp.services import attempts as attempt_service
from quizapp.services.attempts import PracticeSpec
from tests.conftest import BrowserClient
from tests.tokens import ids_of, token_of, tokens_of

# Each request gets its own app context, as on a real server (see conftest).
pytestmark = pytest.mark.usefixtures("isolated_requests")

ATTEMPT_URL = re.compile(r"^/attempts/(\d+)$")


# ---------------------------------------------------------------- helpers

class _Inputs(HTMLParser):
    """Collects <input> attributes, and the forms they sit in (by action)."""

    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []
        self.form_action: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.form_action = attributes.get("action", "")
        elif tag == "input":
            attributes["_form"] = self.form_action
            self.inputs.append(attributes)

    def handle_endtag(self, tag):
        if tag == "form":
            self.form_action = None


def inputs(page: str) -> list[dict]:
    parser = _Inputs()
    parser.feed(page)
    return parser.inputs


def checked_ids(page: str, question_id: int) -> set[int]:
    return {int(i["value"]) for i in inputs(page)
            if i.get("name") == f"q-{question_id}" and "checked" in i}


def fieldsets(page: str) -> dict[int, str]:
    """Question id → the HTML of its fieldset on the quiz page."""
    return {int(qid): body for qid, body in re.findall(
        r'<fieldset class="card question" id="q-(\d+)"[^>]*>(.*?)</fieldset>', page, re.S)}


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page, re.S)]


def translated(app, message: str, lang: str = "vi", **values) -> str:
    with app.test_request_context("/"), force_locale(lang):
        return gettext(message, **values)


def error_texts(app, status: int, lang: str = "vi") -> tuple[str, str]:
    """The title and message the app's error page shows for `status` in `lang`."""
    from quizapp import errors
    with app.test_request_context("/"), force_locale(lang):
        return errors._titles()[status], errors._messages()[status]


def referer(attempt_id: int) -> dict[str, str]:
    """A browser posting the quiz form sends the quiz page as its referrer."""
    return {"Referer": f"http://localhost/attempts/{attempt_id}"}


def path_of(response) -> str:
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "localhost")
    return parts.path


def api_post(client: BrowserClient, path: str, payload, csrf: bool = True):
    headers = {"X-CSRFToken": client.csrf_token("/home")} if csrf else {}
    return client.post(path, json=payload, headers=headers)


def start_via_form(client: BrowserClient, sections=(), count=5, feedback="exam",
                   time_limit=None) -> int:
    page = client.get("/practice").get_data(as_text=True)
    fields = {i["name"]: i.get("value", "") for i in inputs(page) if i.get("type") == "hidden"}
    assert fields.get("start_token"), "the practice form carries a start token"
    data = {"csrf_token": fields["csrf_token"], "start_token": fields["start_token"],
            "sections": list(sections), "count": str(count), "feedback": feedback,
            "time_limit": "" if time_limit is None else str(time_limit)}
    response = client.post("/practice", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    match = ATTEMPT_URL.match(path_of(response))
    assert match, response.headers["Location"]
    return int(match.group(1))


def load_attempt(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def right_ids(item) -> list[int]:
    """The right choices as the page and the API name them (tokens, sorted)."""
    return sorted(tokens_of(item, [c.id for c in item.question.choices if c.is_correct]))


def wrong_ids(item) -> list[int]:
    return tokens_of(item, [next(c.id for c in item.question.choices if not c.is_correct)])


def form_answers(attempt: Attempt, wrong_positions=()) -> dict[str, list[str]]:
    return {f"q-{item.question_id}": [str(c) for c in (
        wrong_ids(item) if n in wrong_positions else right_ids(item))]
        for n, item in enumerate(attempt.items)}


@pytest.fixture
def member(make_user):
    return make_user(username="dangvien", full_name="Đảng Viên Một")


@pytest.fixture
def member_client(client, member, bank):
    client.login("dangvien")
    return client


@pytest.fixture
def other_client(app, make_user, bank):
    make_user(username="nguoikhac", full_name="Người Khác")
    other = BrowserClient(app.test_client())
    other.login("nguoikhac")
    return other


# ---------------------------------------------------------------- starting

def test_practice_form_starts_an_attempt_and_shows_its_questions(member_client, member):
    attempt_id = start_via_form(member_client, sections=["viewpoints"], count=4)
    attempt = load_attempt(attempt_id)
    assert attempt.user_id == member.id and attempt.status == "in_progress"
    assert attempt.feedback == "exam" and attempt.deadline is None
    assert len(attempt.items) == 4
    assert all(i.question.section.key.startswith("viewpoint") for i in attempt.items)

    response = member_client.get(f"/attempts/{attempt_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = fieldsets(page)
    assert list(shown) == [item.question_id for item in attempt.items]
    for item in attempt.items:
        assert str(escape(item.question.prompt)) in shown[item.question_id]
        for choice in item.question.choices:
            assert str(escape(choice.text)) in shown[item.question_id]
        # Choices appear in the order frozen for this attempt.
        values = [int(i["value"]) for i in inputs(shown[item.question_id])
                  if i.get("name") == f"q-{item.question_id}"]
        assert values == tokens_of(item, item.choice_ids)


def test_practice_pages_raise_no_deprecation_warning(member_client):
    """WTForms 3.3 deprecates tuple choices; the forms must not use them (under
    filterwarnings=error such a warning is a 500)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert member_client.get("/practice").status_code == 200
        assert member_client.get("/outline/viewpoints").status_code == 200


def test_same_start_token_starts_one_attempt(member_client, member):
    page = member_client.get("/practice").get_data(as_text=True)
    fields = {i["name"]: i.get("value", "") for i in inputs(page) if i.get("type") == "hidden"}
    data = {"csrf_token": fields["csrf_token"], "start_token": fields["start_token"],
            "count": "3", "feedback": "exam"}
    first = member_client.post("/practice", data=data)
    second = member_client.post("/practice", data=data)
    assert path_of(first) == path_of(second)
    count = db.session.scalar(select(db.func.count()).select_from(Attempt)
                              .where(Attempt.user_id == member.id))
    assert count == 1


def test_practice_form_rejects_unknown_section(member_client):
    page = member_client.get("/practice").get_data(as_text=True)
    fields = {i["name"]: i.get("value", "") for i in inputs(page) if i.get("type") == "hidden"}
    response = member_client.post("/practice", data={
        "csrf_token": fields["csrf_token"], "start_token": fields["start_token"],
        "sections": ["no-such-section"], "count": "3", "feedback": "exam"})
    assert response.status_code == 200  # the form again, with its error
    assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 0


# ---------------------------------------------------------------- the answer stays hidden

@pytest.mark.parametrize("feedback", ["exam", "immediate"])
def test_quiz_page_and_state_never_reveal_the_right_answer(member_client, feedback):
    attempt_id = start_via_form(member_client, count=30, feedback=feedback)
    attempt = load_attempt(attempt_id)
    kinds = {item.question.kind for item in attempt.items}
    assert {"single", "truefalse"} <= kinds  # the check below covers several kinds

    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "is_correct" not in page
    shown = fieldsets(page)
    for item in attempt.items:
        question = item.question
        body = shown[item.question_id]
        assert str(escape(question.explanation)) not in page
        assert question.explanation[:40] not in html.unescape(page)
        assert "correct" not in body.lower()
        assert 'class="feedback ' not in body and "<strong" not in body
        # Every option's markup is the same once its id and text are blanked out.
        options = re.findall(r'<label class="option">(.*?)</label>', body, re.S)
        assert len(options) == len(question.choices)
        blanked = set()
        for option, choice in zip(options, item.ordered_choices):
            option = option.replace(f'value="{token_of(item, choice.id)}"', 'value="ID"')
            # Only the label text: a choice such as "20" must not blank the name "q-20".
            option = option.replace(f"<span>{escape(choice.text)}</span>", "<span>TEXT</span>")
            blanked.add(re.sub(r"\s+", " ", option))
        assert len(blanked) == 1, blanked

    state = member_client.get(f"/api/attempts/{attempt_id}")
    assert state.status_code == 200
    raw = state.get_data(as_text=True)
    assert "correct" not in raw.lower() and "explanation" not in raw.lower()
    data = state.get_json()
    assert data["id"] == attempt_id and data["status"] == "in_progress"
    assert data["answered"] == 0
    for item in attempt.items:
        assert item.question.explanation not in raw


def test_autosave_answer_does_not_reveal_correctness(member_client):
    attempt_id = start_via_form(member_client, count=3)
    item = load_attempt(attempt_id).items[0]
    response = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                        {"question_id": item.question_id, "choice_ids": wrong_ids(item)})
    assert response.status_code == 200
    assert "correct" not in response.get_data(as_text=True).lower()


# ---------------------------------------------------------------- autosave

def test_autosave_persists_and_the_page_shows_it_checked(member_client):
    attempt_id = start_via_form(member_client, count=3)
    attempt = load_attempt(attempt_id)
    item = attempt.items[1]
    choice_id = item.choice_ids[-1]
    token = token_of(item, choice_id)
    response = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                        {"question_id": item.question_id, "choice_ids": [token]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["saved"] is True and body["choice_ids"] == [token]
    assert load_attempt(attempt_id).items[1].selected_ids == {choice_id}

    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert checked_ids(page, item.question_id) == {token}
    assert all(not checked_ids(page, other.question_id)
               for other in attempt.items if other is not item)
    assert member_client.get(f"/api/attempts/{attempt_id}").get_json()["answered"] == 1

    # Changing the answer replaces it; an empty list clears it.
    api_post(member_client, f"/api/attempts/{attempt_id}/answers",
             {"question_id": item.question_id, "choice_ids": [token_of(item, item.choice_ids[0])]})
    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert checked_ids(page, item.question_id) == {token_of(item, item.choice_ids[0])}
    api_post(member_client, f"/api/attempts/{attempt_id}/answers",
             {"question_id": item.question_id, "choice_ids": []})
    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert checked_ids(page, item.question_id) == set()


def test_autosave_without_csrf_header_is_a_readable_400(app, member_client):
    attempt_id = start_via_form(member_client, count=2)
    item = load_attempt(attempt_id).items[0]
    response = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                        {"question_id": item.question_id, "choice_ids": right_ids(item)},
                        csrf=False)
    assert response.status_code == 400
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)[:300]
    assert body["error"] == translated(app, "Bad request")
    assert body["message"] == translated(
        app, "The form has expired or is missing its security token. "
             "Go back, reload the page and try again.")
    assert load_attempt(attempt_id).items[0].selected is None


def test_autosave_with_a_forged_csrf_header_is_refused(member_client):
    attempt_id = start_via_form(member_client, count=2)
    item = load_attempt(attempt_id).items[0]
    response = member_client.post(f"/api/attempts/{attempt_id}/answers",
                                  json={"question_id": item.question_id, "choice_ids": right_ids(item)},
                                  headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert load_attempt(attempt_id).items[0].selected is None


def test_autosave_choice_of_another_question_is_a_400(member_client):
    attempt_id = start_via_form(member_client, count=3)
    attempt = load_attempt(attempt_id)
    first, second = attempt.items[0], attempt.items[1]
    response = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                        {"question_id": first.question_id, "choice_ids": [token_of(second, second.choice_ids[0])]})
    assert response.status_code == 400
    assert response.get_json()["message"]
    assert load_attempt(attempt_id).items[0].selected is None


@pytest.mark.parametrize("payload", [
    {"question_id": "1", "choice_ids": []},
    {"question_id": True, "choice_ids": []},
    {"choice_ids": []},
    [1, 2],
    {"question_id": 1, "choice_ids": "1"},
])
def test_autosave_malformed_payload_is_a_400(member_client, payload):
    attempt_id = start_via_form(member_client, count=2)
    response = api_post(member_client, f"/api/attempts/{attempt_id}/answers", payload)
    assert response.status_code == 400
    assert set(response.get_json()) == {"error", "message"}


def test_autosave_question_outside_the_attempt_is_a_400(member_client):
    attempt_id = start_via_form(member_client, count=2)
    attempt = load_attempt(attempt_id)
    used = {i.question_id for i in attempt.items}
    outside = db.session.execute(select(Question).where(Question.id.not_in(used))).scalars().first()
    response = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                        {"question_id": outside.id, "choice_ids": [outside.choices[0].id]})
    assert response.status_code == 400


# ---------------------------------------------------------------- other people's attempts

def test_another_members_attempt_is_not_found(member_client, other_client):
    attempt_id = start_via_form(member_client, count=2)
    item = load_attempt(attempt_id).items[0]
    assert other_client.get(f"/attempts/{attempt_id}").status_code == 404
    assert other_client.get(f"/attempts/{attempt_id}/result").status_code == 404
    assert other_client.get(f"/api/attempts/{attempt_id}").status_code == 404
    response = api_post(other_client, f"/api/attempts/{attempt_id}/answers",
                        {"question_id": item.question_id, "choice_ids": right_ids(item)})
    assert response.status_code == 404
    response = api_post(other_client, f"/api/attempts/{attempt_id}/check",
                        {"question_id": item.question_id, "choice_ids": right_ids(item)})
    assert response.status_code == 404
    # Nothing changed for the owner.
    attempt = load_attempt(attempt_id)
    assert attempt.status == "in_progress" and attempt.items[0].selected is None
    # A missing id looks the same as someone else's.
    assert other_client.get(f"/attempts/{attempt_id + 1000}").status_code == 404


@pytest.mark.parametrize("action", ["submit", "save"])
def test_another_members_attempt_form_post_is_not_found(app, member_client, other_client, action):
    attempt_id = start_via_form(member_client, count=2)
    attempt = load_attempt(attempt_id)
    data = {"csrf_token": other_client.csrf_token("/home"), "action": action,
            **form_answers(attempt)}
    response = other_client.post(f"/attempts/{attempt_id}", data=data, headers=referer(attempt_id))
    assert response.status_code == 404
    assert f"<h1>{escape(error_texts(app, 404)[0])}</h1>" in response.get_data(as_text=True)
    attempt = load_attempt(attempt_id)
    assert attempt.status == "in_progress"
    assert all(item.selected is None for item in attempt.items)


# ---------------------------------------------------------------- plain form (no JavaScript)

def test_form_submit_with_all_answers_shows_the_result(app, member_client):
    attempt_id = start_via_form(member_client, count=5)
    attempt = load_attempt(attempt_id)
    data = {"csrf_token": member_client.csrf_token(f"/attempts/{attempt_id}"), "action": "submit",
            **form_answers(attempt, wrong_positions={1, 3})}
    response = member_client.post(f"/attempts/{attempt_id}", data=data)
    assert response.status_code == 302
    assert path_of(response) == f"/attempts/{attempt_id}/result"

    attempt = load_attempt(attempt_id)
    assert attempt.status == "finished" and attempt.finish_reason == "submitted"
    assert (attempt.score, attempt.max_score) == (3, 5)
    assert [i.is_correct for i in attempt.items] == [True, False, True, False, True]

    result = member_client.get(f"/attempts/{attempt_id}/result")
    assert result.status_code == 200
    page = result.get_data(as_text=True)
    assert '<p class="big-score">3/5</p>' in page
    for item in attempt.items:  # after finishing, the explanations are shown
        assert str(escape(item.question.explanation)) in page
    # The quiz page now leads to the result.
    again = member_client.get(f"/attempts/{attempt_id}")
    assert again.status_code == 302 and path_of(again) == f"/attempts/{attempt_id}/result"


def test_form_save_keeps_answers_without_finishing(app, member_client):
    attempt_id = start_via_form(member_client, count=3)
    attempt = load_attempt(attempt_id)
    answers = form_answers(attempt)
    data = {"csrf_token": member_client.csrf_token(f"/attempts/{attempt_id}"), "action": "save",
            **answers}
    response = member_client.post(f"/attempts/{attempt_id}", data=data, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert translated(app, "Your answers are saved.") in flashes(page)
    for item in attempt.items:
        assert checked_ids(page, item.question_id) == set(right_ids(item))
    assert load_attempt(attempt_id).status == "in_progress"


def test_double_submit_gives_one_result(member_client):
    attempt_id = start_via_form(member_client, count=4)
    attempt = load_attempt(attempt_id)
    token = member_client.csrf_token(f"/attempts/{attempt_id}")
    first = member_client.post(f"/attempts/{attempt_id}", data={
        "csrf_token": token, "action": "submit", **form_answers(attempt, wrong_positions={0, 1})})
    assert path_of(first) == f"/attempts/{attempt_id}/result"
    finished = load_attempt(attempt_id)
    score, finished_at = finished.score, finished.finished_at
    assert score == 2

    # The second click carries all-right answers: it must not change the result.
    second = member_client.post(f"/attempts/{attempt_id}", data={
        "csrf_token": token, "action": "submit", **form_answers(attempt)})
    assert second.status_code == 302
    assert path_of(second) == f"/attempts/{attempt_id}/result"
    again = load_attempt(attempt_id)
    assert (again.score, again.finished_at, again.status) == (score, finished_at, "finished")
    assert [i.is_correct for i in again.items] == [False, False, True, True]


def test_immediate_check_reveals_that_question_only(app, member_client):
    attempt_id = start_via_form(member_client, count=3, feedback="immediate")
    attempt = load_attempt(attempt_id)
    checked, other, untouched = attempt.items
    data = {"csrf_token": member_client.csrf_token(f"/attempts/{attempt_id}"),
            f"q-{checked.question_id}": [str(c) for c in wrong_ids(checked)],
            f"q-{other.question_id}": [str(c) for c in right_ids(other)],
            "check": str(checked.question_id)}
    response = member_client.post(f"/attempts/{attempt_id}", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}#q-{checked.question_id}")

    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    shown = fieldsets(page)
    revealed = shown[checked.question_id]
    assert str(escape(checked.question.explanation)) in revealed
    assert 'class="feedback wrong"' in revealed
    for choice in checked.question.choices:
        if choice.is_correct:
            assert f"<strong>{escape(choice.text)}</strong>" in revealed
    assert all("disabled" in i for i in inputs(revealed) if i.get("name") == f"q-{checked.question_id}")

    for item in (other, untouched):
        body = shown[item.question_id]
        assert "feedback ok" not in body and "feedback wrong" not in body
        assert str(escape(item.question.explanation)) not in page
        assert "<strong" not in body
        assert not any("disabled" in i for i in inputs(body))
    # The other answer sent with the form was saved, not revealed.
    assert checked_ids(page, other.question_id) == set(right_ids(other))
    attempt = load_attempt(attempt_id)
    assert attempt.items[0].locked and attempt.items[0].is_correct is False
    assert not attempt.items[1].locked and attempt.items[1].is_correct is None
    assert attempt.status == "in_progress"


def test_checked_answer_cannot_be_changed_through_the_api(member_client):
    attempt_id = start_via_form(member_client, count=2, feedback="immediate")
    item = load_attempt(attempt_id).items[0]
    response = api_post(member_client, f"/api/attempts/{attempt_id}/check",
                        {"question_id": item.question_id, "choice_ids": wrong_ids(item)})
    assert response.status_code == 200
    body = response.get_json()
    assert body["is_correct"] is False and body["correct_choice_ids"] == right_ids(item)
    response = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                        {"question_id": item.question_id, "choice_ids": right_ids(item)})
    assert response.status_code == 409
    assert load_attempt(attempt_id).items[0].selected_ids == set(ids_of(item, wrong_ids(item)))


def test_exam_mode_check_is_refused(member_client):
    attempt_id = start_via_form(member_client, count=2, feedback="exam")
    item = load_attempt(attempt_id).items[0]
    response = api_post(member_client, f"/api/attempts/{attempt_id}/check",
                        {"question_id": item.question_id, "choice_ids": right_ids(item)})
    assert response.status_code == 400
    assert "correct_choice_ids" not in response.get_json()
    assert load_attempt(attempt_id).items[0].locked is False


# ---------------------------------------------------------------- deadlines

def test_autosave_after_deadline_and_grace_is_refused_and_finishes(app, member_client, frozen_clock):
    attempt_id = start_via_form(member_client, count=3, time_limit=1)
    attempt = load_attempt(attempt_id)
    assert attempt.deadline == frozen_clock.now + timedelta(minutes=1)
    first, second = attempt.items[0], attempt.items[1]
    ok = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                  {"question_id": first.question_id, "choice_ids": right_ids(first)})
    assert ok.status_code == 200 and ok.get_json()["seconds_left"] == 60

    frozen_clock.advance(seconds=60 + app.config["QUIZ_GRACE_SECONDS"])
    in_grace = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                        {"question_id": first.question_id, "choice_ids": right_ids(first)})
    assert in_grace.status_code == 200

    frozen_clock.advance(seconds=1)
    late = api_post(member_client, f"/api/attempts/{attempt_id}/answers",
                    {"question_id": second.question_id, "choice_ids": right_ids(second)})
    assert late.status_code == 409
    assert late.get_json()["message"] == translated(
        app, "Time is up: the attempt was finished with the answers saved before the deadline.")
    attempt = load_attempt(attempt_id)
    assert attempt.status == "finished" and attempt.finish_reason == "expired"
    assert attempt.items[1].selected is None
    assert attempt.score == 1 and attempt.time_taken_seconds == 60


def test_form_save_after_deadline_is_refused_with_a_flash(app, member_client, frozen_clock):
    attempt_id = start_via_form(member_client, count=2, time_limit=1)
    attempt = load_attempt(attempt_id)
    token = member_client.csrf_token(f"/attempts/{attempt_id}")
    frozen_clock.advance(seconds=60 + app.config["QUIZ_GRACE_SECONDS"] + 1)
    response = member_client.post(f"/attempts/{attempt_id}", data={
        "csrf_token": token, "action": "save", **form_answers(attempt)},
        headers=referer(attempt_id), follow_redirects=True)
    assert response.status_code == 200
    assert len(response.history) >= 1  # refused with a redirect, not a page
    assert response.request.path == f"/attempts/{attempt_id}/result"
    assert translated(app, "Time is up: the attempt was finished with the answers saved "
                           "before the deadline.") in flashes(response.get_data(as_text=True))
    attempt = load_attempt(attempt_id)
    assert attempt.status == "finished" and attempt.finish_reason == "expired"
    assert all(item.selected is None for item in attempt.items)
    assert attempt.score == 0


def test_form_submit_after_deadline_without_referrer_is_a_409_page(app, member_client,
                                                                     frozen_clock):
    attempt_id = start_via_form(member_client, count=2, time_limit=1)
    attempt = load_attempt(attempt_id)
    token = member_client.csrf_token(f"/attempts/{attempt_id}")
    frozen_clock.advance(minutes=2)
    response = member_client.post(f"/attempts/{attempt_id}", data={
        "csrf_token": token, "action": "submit", **form_answers(attempt)})
    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert translated(app, "Time is up: the attempt was finished with the answers saved "
                           "before the deadline.") in page
    attempt = load_attempt(attempt_id)
    assert attempt.status == "finished" and attempt.finish_reason == "expired"
    assert attempt.score == 0


def test_opening_an_expired_attempt_says_time_is_up_and_one_post_finishes_it(app, member_client, frozen_clock):
    attempt_id = start_via_form(member_client, count=2, time_limit=2)
    item = load_attempt(attempt_id).items[0]
    api_post(member_client, f"/api/attempts/{attempt_id}/answers",
             {"question_id": item.question_id, "choice_ids": right_ids(item)})
    frozen_clock.advance(minutes=3)
    assert load_attempt(attempt_id).status == "in_progress"  # nothing finished it yet
    # The GET writes nothing: it says time is up, with the count of saved answers.
    response = member_client.get(f"/attempts/{attempt_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="answers' not in page
    assert translated(app, "You answered %(n)s of %(total)s questions before the deadline.") % {
        "n": 1, "total": 2} in html.unescape(page)
    assert load_attempt(attempt_id).status == "in_progress"
    assert path_of(member_client.get(f"/attempts/{attempt_id}/result")) == f"/attempts/{attempt_id}"
    # Its one button finishes it with what was saved, the deadline as its end.
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = member_client.post(f"/attempts/{attempt_id}/finish", data={"csrf_token": token})
    assert response.status_code == 302
    assert path_of(response) == f"/attempts/{attempt_id}/result"
    attempt = load_attempt(attempt_id)
    assert attempt.status == "finished" and attempt.finish_reason == "expired"
    assert attempt.finished_at == attempt.deadline
    assert (attempt.score, attempt.time_taken_seconds) == (1, 120)
    result = member_client.get(path_of(response))
    page = result.get_data(as_text=True)
    assert result.status_code == 200 and '<p class="big-score">1/2</p>' in page
    assert translated(app, "Time is up: your attempt was finished with the answers saved.") \
        in flashes(page)
    # Pressed again (a second tab): one result, nothing else happens.
    again = member_client.post(f"/attempts/{attempt_id}/finish", data={"csrf_token": token})
    assert path_of(again) == f"/attempts/{attempt_id}"
    assert load_attempt(attempt_id).score == 1


def test_finishing_a_running_attempt_early_through_the_time_up_button_is_refused(member_client):
    attempt_id = start_via_form(member_client, count=2, time_limit=10)
    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = member_client.post(f"/attempts/{attempt_id}/finish", data={"csrf_token": token})
    assert path_of(response) == f"/attempts/{attempt_id}"
    assert load_attempt(attempt_id).status == "in_progress"


def test_timer_is_shown_from_the_server_clock(member_client, frozen_clock):
    attempt_id = start_via_form(member_client, count=2, time_limit=10)
    frozen_clock.advance(seconds=75)
    page = member_client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert 'data-seconds-left="525"' in page


# ---------------------------------------------------------------- mistakes

def test_retry_my_mistakes_builds_a_practice_from_wrong_answers(member_client, member):
    attempt_id = start_via_form(member_client, count=6)
    attempt = load_attempt(attempt_id)
    wrong = {attempt.items[1].question_id, attempt.items[4].question_id}
    member_client.post(f"/attempts/{attempt_id}", data={
        "csrf_token": member_client.csrf_token(f"/attempts/{attempt_id}"), "action": "submit",
        **form_answers(attempt, wrong_positions={1, 4})})

    home = member_client.get("/home").get_data(as_text=True)
    assert 'action="/practice/mistakes"' in home
    response = member_client.form_post("/practice/mistakes", token_from="/home")
    assert response.status_code == 302
    match = ATTEMPT_URL.match(path_of(response))
    assert match
    retry = load_attempt(int(match.group(1)))
    assert retry.id != attempt_id and retry.user_id == member.id
    assert {i.question_id for i in retry.items} == wrong
    assert retry.feedback == "immediate" and retry.status == "in_progress"


def test_retry_without_mistakes_goes_home(app, member_client):
    response = member_client.form_post("/practice/mistakes", token_from="/home",
                                       follow_redirects=True)
    assert response.request.path == "/home"
    assert translated(app, "You have no mistakes to retry. Well done!") in flashes(
        response.get_data(as_text=True))
    assert db.session.scalar(select(db.func.count()).select_from(Attempt)) == 0


def test_retry_my_mistakes_needs_csrf(member_client):
    assert member_client.post("/practice/mistakes").status_code == 400


# ---------------------------------------------------------------- the outline

def test_outline_lists_and_renders_every_section(member_client):
    sections = db.session.execute(select(Section).order_by(Section.position)).scalars().all()
    assert len(sections) > 30
    outline = member_client.get("/outline")
    assert outline.status_code == 200
    page = outline.get_data(as_text=True)
    positions = []
    for section in sections:
        link = f'href="/outline/{section.key}"'
        assert link in page, section.key
        assert str(escape(section.title)) in page
        positions.append(page.index(link))
    assert positions == sorted(positions)  # in outline order

    for section in sections:
        response = member_client.get(f"/outline/{section.key}")
        assert response.status_code == 200, section.key
        body = response.get_data(as_text=True)
        assert f"<h1>{escape(section.title)}</h1>" in body
        first_paragraph = next((p for p in section.body.split("\n") if p.strip()), None)
        if first_paragraph:
            assert str(escape(first_paragraph)) in body


def test_unknown_outline_section_is_404(member_client):
    assert member_client.get("/outline/no-such-section").status_code == 404


def test_practise_this_section_form_starts_a_practice_on_that_section(member_client):
    page = member_client.get("/outline/viewpoints").get_data(as_text=True)
    fields: dict[str, str] = {}
    for field in inputs(page):
        if field["_form"] == "/practice" and field.get("name"):
            fields[field["name"]] = field.get("value", "")
    assert fields["sections"] == "viewpoints" and fields["csrf_token"]
    response = member_client.post("/practice", data=fields)
    assert response.status_code == 302
    match = ATTEMPT_URL.match(path_of(response))
    assert match, response.headers["Location"]
    attempt = load_attempt(int(match.group(1)))
    assert attempt.feedback == "immediate"
    assert len(attempt.items) == int(fields["count"])
    subtree = {"viewpoints"} | {f"viewpoint-{n}" for n in range(1, 6)}
    assert {i.question.section.key for i in attempt.items} <= subtree
    # Stratified: ten questions over six sections touch all of them.
    assert {i.question.section.key for i in attempt.items} == subtree


# ---------------------------------------------------------------- errors and language

def test_unknown_url_is_a_404_page_without_traceback(app, client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="vi">' in page
    title, message = error_texts(app, 404)
    assert f"<h1>{escape(title)}</h1>" in page and str(escape(message)) in page
    assert "Traceback" not in page and "werkzeug" not in page.lower()


def test_unknown_url_page_is_in_vietnamese(app, client):
    page = client.get("/khong-co-trang-nay").get_data(as_text=True)
    vi_title, vi_message = error_texts(app, 404, "vi")
    en_title, en_message = error_texts(app, 404, "en")
    assert (vi_title, vi_message) != (en_title, en_message), "no Vietnamese catalog"
    assert f"<h1>{escape(vi_title)}</h1>" in page
    assert en_title not in page and en_message not in page


def test_server_error_is_a_500_page_without_traceback(app, client):
    def explode():
        raise RuntimeError("internal-detail-4f2a")
    app.add_url_rule("/_test/explode", "test_explode", explode)
    app.add_url_rule("/api/_test/explode", "test_api_explode", explode)

    response = client.get("/_test/explode")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<h1>{escape(error_texts(app, 500)[0])}</h1>" in page
    assert "internal-detail-4f2a" not in page
    assert "Traceback" not in page and "RuntimeError" not in page

    response = client.get("/api/_test/explode")
    assert response.status_code == 500
    body = response.get_json()
    assert set(body) == {"error", "message"}
    assert "internal-detail-4f2a" not in response.get_data(as_text=True)


def test_lang_parameter_switches_language_and_is_remembered(app, client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert 'hreflang="en"' in page

    page = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "<h1>Log in</h1>" in page
    assert 'hreflang="vi"' in page and "Tiếng Việt" in page

    page = client.get("/login").get_data(as_text=True)  # remembered in the session
    assert '<html lang="en">' in page

    page = client.get("/login?lang=xx").get_data(as_text=True)  # unknown: ignored
    assert '<html lang="en">' in page

    page = client.get("/login?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert f"<h1>{escape(translated(app, 'Log in', 'vi'))}</h1>" in page


def test_error_page_follows_the_chosen_language(app, client):
    client.get("/login?lang=en")
    page = client.get("/khong-co-trang-nay").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert f"<h1>{escape(error_texts(app, 404, 'en')[0])}</h1>" in page


def test_start_practice_service_and_view_agree_on_ownership(member_client, make_user):
    """An attempt started by the service for someone else is invisible in the view."""
    stranger = make_user(username="nguoila")
    attempt = attempt_service.start_practice(stranger, PracticeSpec([], 2, None, "exam"))
    db.session.commit()
    assert member_client.get(f"/attempts/{attempt.id}").status_code == 404


@pytest.mark.parametrize("payload", [
    {"question_id": 2 ** 31, "choice_ids": []},
    {"question_id": 1, "choice_ids": [2 ** 31]},
    {"question_id": -1, "choice_ids": []},
])
def test_autosave_ids_out_of_the_columns_range_are_a_400(member_client, payload):
    attempt_id = start_via_form(member_client, count=2)
    response = api_post(member_client, f"/api/attempts/{attempt_id}/answers", payload)
    assert response.status_code == 400
    assert load_attempt(attempt_id).status == "in_progress"


def test_autosave_answers_401_then_404_before_judging_the_body(app, member_client, other_client):
    """As @login_required did: not logged in → 401 and someone else's attempt → 404,
    whatever the body; a bad body on one's own attempt → 400."""
    attempt_id = start_via_form(member_client, count=2)
    bad = {"question_id": "x"}
    anonymous = BrowserClient(app.test_client())
    token = anonymous.csrf_token("/login")
    response = anonymous.post(f"/api/attempts/{attempt_id}/answers", json=bad,
                              headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert api_post(other_client, f"/api/attempts/{attempt_id}/answers", bad).status_code == 404
    assert api_post(member_client, f"/api/attempts/{attempt_id}/answers", bad).status_code == 400
