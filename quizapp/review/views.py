"""The daily review: today's set one question at a time, each answer followed by its
feedback (plain forms and redirects: no JavaScript needed)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..forms import EmptyForm
from ..services import learning
from ..services.contests import sealing
from .forms import ReviewAnswerForm

bp = Blueprint("review", __name__)


@bp.get("/review")
@login_required
def show():
    plan = learning.today(current_user)
    if not plan.due:
        return render_template("review/done.html", plan=plan, form=EmptyForm(),
                               notice=sealing.practice_notice())
    serving = learning.serve(plan.due[0])
    form = ReviewAnswerForm(ticket=serving.ticket)
    return render_template("review/question.html", plan=plan, serving=serving, form=form)


@bp.post("/review/start")
@login_required
def start():
    if not EmptyForm().validate_on_submit():
        abort(400)
    learning.start_today(current_user)
    try:
        db.session.flush()  # the INSERTs run here; transaction.py commits
    except IntegrityError:
        # A double click: the other request added today's new questions already.
        db.session.rollback()
    return redirect(url_for("review.show"))


@bp.post("/review/cards/<int:card_id>")
@login_required
def answer(card_id: int):
    card = learning.get_own_card(current_user, card_id)
    form = ReviewAnswerForm()
    if not form.validate_on_submit():
        abort(400)
    done = learning.answer(current_user, card, form.ticket.data, request.form.getlist("choice"))
    if not done.counted:
        flash(_("This answer was already counted."), "info")
    return redirect(url_for("review.feedback", card_id=card_id))


@bp.get("/review/cards/<int:card_id>/feedback")
@login_required
def feedback(card_id: int):
    card = learning.get_own_card(current_user, card_id)
    shown = learning.feedback(card)
    if shown is None:
        return redirect(url_for("review.show"))
    return render_template("review/feedback.html", fb=shown, plan=learning.today(current_user))
