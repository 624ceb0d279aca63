"""Members and contest rounds: see a round, take it, see the ranking when allowed."""
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..forms import EmptyForm
from ..hardening import bounded_int
from ..models import Round
from ..services import contests
from . import share

bp = Blueprint("contest", __name__)


@bp.get("/rounds/<int:round_id>")
@login_required
def round_page(round_id: int):
    round_ = contests.get_round_for_member(current_user, round_id)
    return render_template("contest/round.html", round=round_, state=contests.round_state(round_),
                           label=contests.state_label,
                           attempts=contests.member_attempts(current_user, round_),
                           results_visible=contests.results_visible_to(round_, current_user),
                           ranking_visible=contests.ranking_visible(round_), form=EmptyForm(),
                           extra=contests.extra_time.extra_minutes(current_user.id, round_.id))


@bp.get("/r/<int:round_id>")
def round_public(round_id: int):
    """The round's short public address, the one posters, Zalo texts and link previews
    carry: for a visitor not logged in (and for the Zalo/Facebook crawlers) a page with
    the round's name, window and Open Graph tags, and the way to log in; a logged-in
    member goes straight to the round. Drafts do not exist here (404), as for members."""
    round_ = db.session.get(Round, round_id)
    if round_ is None or contests.round_state(round_) == "draft":
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("contest.round_page", round_id=round_.id))
    return render_template("contest/round_public.html", round=round_,
                           state=contests.round_state(round_), label=contests.state_label,
                           summary=share.summary(round_))


@bp.post("/rounds/<int:round_id>/start")
@login_required
def start(round_id: int):
    round_ = contests.get_round_for_member(current_user, round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    attempt = contests.start_round_attempt(current_user, round_)
    return redirect(url_for("quiz.show", attempt_id=attempt.id))


@bp.get("/rounds/<int:round_id>/ranking")
@login_required
def ranking(round_id: int):
    round_ = contests.get_round_for_member(current_user, round_id)
    if not contests.ranking_visible(round_) and not current_user.has_role("organizer"):
        abort(404)
    # One page of rows (a city round ranks tens of thousands); the page holding the
    # member's own row is offered as a link.
    size = contests.RANKING_PAGE_SIZE
    listing = contests.ranking_page(round_, request.args.get("page", 1, type=bounded_int),
                                    user=current_user, size=size)
    return render_template("contest/ranking.html", round=round_, listing=listing,
                           rows=listing.rows, page_size=size,
                           actual=contests.prediction_actual(round_),
                           unsettled=contests.unsettled_count(round_), me=current_user.id)
