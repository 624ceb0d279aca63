"""Members and contest rounds: see a round, take it, see the ranking when allowed."""
from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms import EmptyForm
from ..services import contest as contests
from . import bp


@bp.get("/rounds/<int:round_id>")
@login_required
def round_page(round_id: int):
    round_ = contests.get_round_for_member(current_user, round_id)
    return render_template("contest/round.html", round=round_, state=contests.round_state(round_),
                           label=contests.state_label,
                           attempts=contests.member_attempts(current_user, round_),
                           results_visible=contests.results_visible_to(round_, current_user),
                           ranking_visible=contests.ranking_visible(round_), form=EmptyForm())


@bp.post("/rounds/<int:round_id>/start")
@login_required
def start(round_id: int):
    round_ = contests.get_round_for_member(current_user, round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    attempt = contests.start_round_attempt(current_user, round_)
    db.session.commit()
    return redirect(url_for("quiz.show", attempt_id=attempt.id))


@bp.get("/rounds/<int:round_id>/ranking")
@login_required
def ranking(round_id: int):
    round_ = contests.get_round_for_member(current_user, round_id)
    if not contests.ranking_visible(round_) and not current_user.has_role("organizer"):
        abort(404)
    rows = contests.ranking(round_)
    db.session.commit()
    return render_template("contest/ranking.html", round=round_, rows=rows,
                           me=current_user.id)
