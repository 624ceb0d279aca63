"""The quiz page, its plain-form posts, and the result page."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..forms import EmptyForm
from ..hardening import bounded_int
from ..services import attempts
from ..services.contests import sealing
from ..services import contests
from ..services.contests import answer_key
from ..services.people import users
from ..transaction import autocommit_read
from .forms import AnswersForm, answers_from

bp = Blueprint("quiz", __name__)


@bp.get("/attempts/<int:attempt_id>")
@autocommit_read
@login_required
def show(attempt_id: int):
    # The attempt and its questions in one statement, the questions as plain rows
    # (attempts.own_attempt_page): the ORM objects of every question and choice, then
    # the round trips to the database, were most of this page's time.
    attempt, items = attempts.own_attempt_page(current_user, attempt_id)
    if attempt.is_finished:
        return redirect(url_for("quiz.result", attempt_id=attempt.id))
    if attempt.state(attempts.grace().seconds) == "expired":
        # A GET never writes: the page says time is up and its one button (a POST) finishes
        # the attempt with what was saved; the sweeper would do the same a minute later.
        answered = sum(1 for item in items if item.answered)
        return render_template("quiz/time_up.html", attempt=attempt, answered=answered,
                               total=len(items), form=EmptyForm())
    # The key only for the answers already checked (immediate practice): no query, and
    # nothing about the others reaches the page.
    locked = [item.feedback for item in items if item.feedback is not None]
    key = answer_key([i.question_id for i in locked], attempt.round_id,
                     questions=[i.question for i in locked]) if locked else {}
    # Only a page that can show feedback needs the sealed keys (a contest page never does).
    sealed = sealing.sealed_among({i.question_id: i.question_key for i in items}) \
        if attempt.feedback == "immediate" else set()
    # One question per screen: every question is on the page (a post carries only what
    # the page changed), the one at ?q=N is shown and the others hidden; without
    # JavaScript the map and the next/previous buttons post the form and come back here.
    count = len(items)
    current = min(max(request.args.get("q", 1, type=bounded_int) or 1, 1), max(count, 1))
    return render_template("quiz/attempt.html", attempt=attempt, items=items, form=AnswersForm(),
                           key=key, sealed=sealed, one=current_user.one_per_screen, current=current,
                           # "Question %(n)d" translated once, numbered by the template
                           question_label=_("Question %(n)d"),
                           extra=contests.extra_time.extra_minutes(current_user.id, attempt.round_id)
                           if attempt.round_id else 0)


def _position(raw: str | None, count: int) -> int | None:
    """A question number posted by the page (1..count), else None."""
    try:
        value = bounded_int(raw or "")
    except ValueError:
        return None
    return value if 1 <= value <= count else None


@bp.post("/attempts/<int:attempt_id>")
@login_required
def post(attempt_id: int):
    """No-JavaScript path: one form posts every answer with the pressed button:
    save, check one question (immediate practice) or submit."""
    attempt = attempts.get_own_attempt(current_user, attempt_id, with_questions=True,
                                       with_choices=False)
    form = AnswersForm()
    if not form.validate_on_submit():
        return redirect(url_for("quiz.show", attempt_id=attempt.id))
    posted = answers_from(request, attempt.id, [item.question_id for item in attempt.items])
    count = len(attempt.items)
    here = _position(request.form.get("q"), count)
    goto = _position(request.form.get("goto"), count)
    locked = {item.question_id for item in attempt.items if item.locked}
    # Only what this page changed: a stale tab never overwrites a later save.
    unlocked = {qid: ids for qid, ids in posted.changed.items() if qid not in locked}
    check = request.form.get("check", type=bounded_int)
    if attempt.round is not None and attempt.round.prediction_kind and "prediction" in request.form:
        raw = request.form.get("prediction", "").strip()
        if raw and not raw.isdigit():
            flash(_("The prediction must be a whole number."), "error")
            return redirect(url_for("quiz.show", attempt_id=attempt.id))
        if attempt.status != "finished":
            attempts.ensure_open(attempt)
            contests.set_prediction(attempt, int(raw) if raw else None)
    action = request.form.getlist("action")
    if "review" in action and "submit" not in action:
        # "Check before submitting" (a contest round): save what this page changed, then
        # the review page, whose own button submits.
        attempts.save_answers(attempt, unlocked, seqs=posted.seqs, client=posted.client)
        return redirect(url_for("quiz.review", attempt_id=attempt_id))
    if "submit" in action:
        attempts.submit(attempt, unlocked, seqs=posted.seqs, client=posted.client)
        return redirect(url_for("quiz.result", attempt_id=attempt_id))
    attempts.save_answers(attempt, unlocked, seqs=posted.seqs, client=posted.client)
    layout = request.form.get("layout")
    if layout:
        # Switching layout keeps the answers just posted and the question in view.
        users.set_quiz_layout(current_user, layout)
    anchor = ""
    if check is not None:
        sealing.check_answer(attempt, check, posted.answers.get(check, []))
        anchor = f"#q-{check}"
    elif goto is None and not layout:
        flash(_("Your answers are saved."), "success")
    target = goto or here
    if target is not None and not anchor and not current_user.one_per_screen:
        anchor = f"#q-{attempt.items[target - 1].question_id}"
    return redirect(url_for("quiz.show", attempt_id=attempt.id, q=target) + anchor)


@bp.get("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    """Check your answers before submitting: which questions are unanswered (with links
    back to each), then the one button that submits. Nothing here writes."""
    attempt = attempts.get_own_attempt(current_user, attempt_id, with_questions=True,
                                       with_choices=False)
    if attempt.is_finished or attempt.state(attempts.grace().seconds) != "in_progress":
        return redirect(url_for("quiz.show", attempt_id=attempt.id))
    unanswered = [(n, item) for n, item in enumerate(attempt.items, 1) if not item.selected_ids]
    return render_template("quiz/review.html", attempt=attempt, unanswered=unanswered,
                           form=EmptyForm())


@bp.post("/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int):
    """The confirmed submit from the review page: it carries no answers (the quiz page
    saved them), so it finishes with what is saved."""
    attempt = attempts.get_own_attempt(current_user, attempt_id, with_questions=True,
                                       with_choices=False)
    if not EmptyForm().validate_on_submit():
        flash(_("The page had expired: please press “Submit” again."), "error")
        return redirect(url_for("quiz.review", attempt_id=attempt_id))
    attempts.submit(attempt, {})
    return redirect(url_for("quiz.result", attempt_id=attempt_id))


@bp.post("/attempts/<int:attempt_id>/finish")
@login_required
def finish_expired(attempt_id: int):
    """The button of the "time is up" page: finish the member's own attempt whose
    deadline has passed, with the answers saved before it. Anything else (still running,
    already finished) goes back to the quiz page, which shows what applies."""
    attempt = attempts.get_own_attempt(current_user, attempt_id, with_questions=True,
                                       with_choices=False)
    if EmptyForm().validate_on_submit() and attempts.expire_if_overdue(attempt):
        flash(_("Time is up: your attempt was finished with the answers saved."), "info")
        return redirect(url_for("quiz.result", attempt_id=attempt.id))
    return redirect(url_for("quiz.show", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    attempt = attempts.get_own_attempt(current_user, attempt_id, with_questions=True)
    if not attempt.is_finished:
        return redirect(url_for("quiz.show", attempt_id=attempt.id))
    round_ = attempt.round
    if round_ is not None and not contests.results_visible(round_):
        return render_template("quiz/submitted.html", attempt=attempt, round=round_)
    key = answer_key([i.question_id for i in attempt.items], attempt.round_id,
                     questions=[i.question for i in attempt.items])
    # The member's rank, once the round's ranking is public (its counting result: with
    # several attempts allowed, maybe another one than this).
    mine, ranked = contests.member_rank(round_, current_user) \
        if round_ is not None and contests.ranking_visible(round_) else (None, 0)
    return render_template("quiz/result.html", attempt=attempt, key=key, round=round_,
                           mine=mine, ranked=ranked, sealed=sealing.sealed_in(attempt))
