"""The member's home page and the health check."""
from flask import current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user, login_required

from ..forms import EmptyForm
from ..services import contest, learning, sealing, standings, study
from . import bp


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("main.home"))


@bp.get("/home")
@login_required
def home():
    sealed = sealing.sealed_keys()
    recent = study.recent_attempts(current_user)
    rounds = contest.member_rounds(current_user)
    return render_template(
        "main/home.html",
        attempts=recent,
        sealed_attempts=sealing.practice_attempts_holding([a.id for a in recent], sealed),
        weak=study.section_scores(current_user, exclude_keys=sealed)[:5],
        hidden_rounds=set(study.hidden_round_ids()),
        mistakes=len(study.mistake_question_ids(current_user, exclude_keys=sealed)),
        rounds=rounds, label=contest.state_label,
        status=contest.member_round_status(current_user, [r for r, _ in rounds]),
        visible={r.id for r, _ in rounds if contest.results_visible_to(r, current_user)},
        branch=standings.own_branch_rate(current_user),
        review=learning.home(current_user),
        form=EmptyForm())


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: served from static/."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
