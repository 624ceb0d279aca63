"""The organizers' pages: contests, rounds, live view, results, prizes, corrections."""
from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template,
                   request, url_for)
from markupsafe import Markup
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..forms import EmptyForm
from ..hardening import bounded_int
from ..models import AuditLog, Contest, Round, RoundQuestionChange, Unit
from ..policy import role_required
from ..contest import share
from ..services import contests
from ..services.branches import exports, standings
from ..services.contests import RoundSettings
from ..services.people.audit import action_label
from ..services.study import approved_counts, outline_sections
from ..templating import local_time
from .forms import (CollectivePrizesForm, ConfirmForm, ContestForm, CorrectionForm, ReasonForm,
                    RoundForm, to_local_naive, to_utc)

bp = Blueprint("organize", __name__, url_prefix="/organize")


@bp.before_request
@role_required("organizer")
def _organizers_only():
    """Every page here is for organizers and admins."""


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


@bp.get("/")
def index():
    contests_ = db.session.execute(select(Contest).order_by(Contest.created_at.desc())).scalars().all()
    return render_template("organize/index.html", contests=contests_, state=contests.round_state)


@bp.route("/contests/new", methods=["GET", "POST"])
def new_contest():
    form = ContestForm()
    units = db.session.execute(select(Unit).order_by(Unit.path)).scalars().all()
    form.audience.choices = [SelectChoice(u.id, u.name) for u in units]
    if form.validate_on_submit():
        chosen = [u for u in units if u.id in set(form.audience.data or [])]
        contest = contests.create_contest(current_user, form.title.data, form.rules.data or "", chosen)
        flash(_("Contest created. Now add its rounds."), "success")
        return redirect(url_for("organize.contest", contest_id=contest.id))
    return render_template("organize/contest_form.html", form=form)


@bp.get("/contests/<int:contest_id>")
def contest(contest_id: int):
    contest_ = db.get_or_404(Contest, contest_id)
    return render_template("organize/contest.html", contest=contest_, state=contests.round_state,
                           label=contests.state_label)


@bp.get("/contests/<int:contest_id>/ranking")
def contest_ranking(contest_id: int):
    contest_ = db.get_or_404(Contest, contest_id)
    size = contests.RANKING_PAGE_SIZE
    listing = contests.contest_ranking_page(
        contest_, request.args.get("page", 1, type=bounded_int), size=size)
    return render_template("contest/contest_ranking.html", contest=contest_, listing=listing,
                           rows=listing.rows, page_size=size)


def _settings(form: RoundForm) -> RoundSettings:
    return RoundSettings(
        title=form.title.data.strip(), opens_at=to_utc(form.opens_at.data),
        closes_at=to_utc(form.closes_at.data), time_limit_minutes=form.time_limit_minutes.data,
        question_count=form.question_count.data, draw_plan=(form.draw_plan.data or "").strip(),
        question_pool=form.question_pool.data,
        shuffle_questions=form.shuffle_questions.data, shuffle_choices=form.shuffle_choices.data,
        attempts_allowed=form.attempts_allowed.data, counting=form.counting.data,
        results_visibility=form.results_visibility.data,
        prediction_kind=form.prediction_kind.data or None, prize_first=form.prize_first.data,
        prize_second=form.prize_second.data, prize_third=form.prize_third.data,
        prize_consolation=form.prize_consolation.data, paper_prizes=form.paper_prizes.data)


def _validated_settings(form: RoundForm) -> RoundSettings | None:
    """Settings when the form and the round rules accept them; else errors on the form."""
    if not form.validate_on_submit():
        return None
    settings = _settings(form)
    for name, messages in settings.errors().items():
        getattr(form, name).errors = list(getattr(form, name).errors) + messages
    return None if any(f.errors for f in form) else settings


@bp.route("/contests/<int:contest_id>/rounds/new", methods=["GET", "POST"])
def new_round(contest_id: int):
    contest_ = db.get_or_404(Contest, contest_id)
    form = RoundForm()
    settings = _validated_settings(form)
    if settings is not None:
        round_ = contests.create_round(current_user, contest_, settings)
        flash(_("Round saved as a draft. Schedule it when it is ready."), "success")
        return redirect(url_for("organize.round_detail", round_id=round_.id))
    return render_template("organize/round_form.html", form=form, contest=contest_, round=None,
                           sections=_section_keys())


def _section_keys():
    counts = approved_counts()
    return [(s, counts.get(s.id, 0)) for s in outline_sections()]


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
def edit_round(round_id: int):
    round_ = _round(round_id)
    form = RoundForm(obj=round_)
    if not form.is_submitted():
        form.opens_at.data = to_local_naive(round_.opens_at)
        form.closes_at.data = to_local_naive(round_.closes_at)
        form.time_limit_minutes.data = round_.time_limit_seconds // 60
        form.prediction_kind.data = round_.prediction_kind or ""
    settings = _validated_settings(form) if contests.round_state(round_) in ("draft", "scheduled") \
        else (_settings(form) if form.validate_on_submit() else None)
    if settings is not None:
        changed = contests.update_round(current_user, round_, settings, form.reason.data or "")
        flash(_("Round updated.") if changed else _("Nothing changed."), "success")
        return redirect(url_for("organize.round_detail", round_id=round_.id))
    return render_template("organize/round_form.html", form=form, contest=round_.contest,
                           round=round_, state=contests.round_state(round_), sections=_section_keys())


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id: int):
    round_ = _round(round_id)
    log = db.session.execute(select(AuditLog).where(AuditLog.target == f"round:{round_.id}")
                             .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(30)).scalars().all()
    return render_template("organize/round.html", round=round_, state=contests.round_state(round_),
                           label=contests.state_label, live=contests.live_counts(round_),
                           actual=contests.prediction_actual(round_),
                           form=EmptyForm(), confirm_form=ConfirmForm(), reason_form=ReasonForm(),
                           log=log, action_label=action_label,
                           extra_count=len(contests.extra_time.extras_of(round_)),
                           blockers=contests.finalize_blockers(round_)
                           if contests.round_state(round_) == "closed" else None,
                           share_text=share.share_text(round_), short_url=share.short_url(round_))


@bp.get("/rounds/<int:round_id>/poster")
def round_poster(round_id: int):
    """The round's A4 poster for the ward's bulletin boards (not for a draft: its public
    address does not exist yet)."""
    round_ = _round(round_id)
    if contests.round_state(round_) == "draft":
        abort(404)
    url = share.short_url(round_)
    return render_template("contest/poster.html", round=round_, unit=None, url=url,
                           qr=Markup(share.qr_svg(url)) if url else "", summary=share.summary(round_),
                           back=url_for("organize.round_detail", round_id=round_.id))


@bp.get("/rounds/<int:round_id>/live.json")
def round_live(round_id: int):
    return jsonify(contests.live_counts(_round(round_id)))


@bp.post("/rounds/<int:round_id>/<any(schedule, unschedule, finalize, publish):action>")
def round_action(round_id: int, action: str):
    round_ = _round(round_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if action in ("schedule", "publish") and not form.confirm.data:
        flash(_("Nothing was done: tick the box to confirm first."), "error")
        return redirect(url_for("organize.round_detail", round_id=round_.id) + "#confirm-" + action)
    if action == "finalize":
        # Paper sheets still to enter, members on their extra time: refused (nothing is
        # written) unless "finalize anyway" is ticked; the page lists them by branch.
        blockers = contests.finalize_blockers(round_) if contests.round_state(round_) == "closed" else None
        if blockers and not form.confirm.data:
            flash(blockers.message(), "error")
            return redirect(url_for("organize.round_detail", round_id=round_.id) + "#confirm-finalize")
        contests.finalize(current_user, round_, anyway=bool(form.confirm.data))
    else:
        {"schedule": contests.schedule, "unschedule": contests.unschedule,
         "publish": contests.publish_results}[action](current_user, round_)
    # "Scheduled" for a round whose opening time has passed would be wrong: it is open.
    scheduled = _("The round is open now: members can take it.") \
        if contests.round_state(round_) == "open" else \
        _("Round scheduled: it opens at %(t)s.", t=local_time(round_.opens_at))
    flash({"schedule": scheduled, "unschedule": _("Round moved back to draft."),
           "finalize": _("Round finalized: its results no longer change."),
           "publish": _("Results published to members.")}[action], "success")
    return redirect(url_for("organize.round_detail", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/close")
def close_round(round_id: int):
    round_ = _round(round_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason to close the round early."), "error")
        return redirect(url_for("organize.round_detail", round_id=round_.id))
    contests.close_now(current_user, round_, form.reason.data)
    flash(_("Round closed."), "success")
    return redirect(url_for("organize.round_detail", round_id=round_.id))


@bp.get("/rounds/<int:round_id>/results")
def round_results(round_id: int):
    round_ = _round(round_id)
    # One page of the ranking (a city round ranks tens of thousands; the files hold it all).
    size = contests.RANKING_PAGE_SIZE
    listing = contests.ranking_page(round_, request.args.get("page", 1, type=bounded_int),
                                    size=size)
    collective = standings.propose_collective_prizes(round_)
    collective_form = CollectivePrizesForm()
    collective_form.seen.data = standings.proposal_fingerprint(collective)
    return render_template("organize/results.html", round=round_, listing=listing,
                           page_size=size,
                           state=contests.round_state(round_),
                           actual=contests.prediction_actual(round_),
                           unsettled=contests.unsettled_count(round_),
                           proposals=contests.propose_prizes(round_),
                           prizes=contests.confirmed_prizes(round_),
                           collective=collective,
                           collective_prizes=standings.confirmed_collective_prizes(round_),
                           weights=standings.Weights.of(round_.contest),
                           collective_form=collective_form, form=EmptyForm())


@bp.post("/rounds/<int:round_id>/settle")
def settle_round(round_id: int):
    """Finish the round's attempts past deadline + grace (what the sweeper does), so the
    ranking, which only reads, includes them."""
    round_ = _round(round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    settled = contests.finish_expired(round_)
    flash(ngettext("%(num)d expired attempt was settled.", "%(num)d expired attempts were settled.",
                   settled), "success")
    return redirect(url_for("organize.round_results", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/prizes")
def confirm_prizes(round_id: int):
    round_ = _round(round_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    contests.confirm_prizes(current_user, round_)
    flash(_("Prize winners confirmed."), "success")
    return redirect(url_for("organize.round_results", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/collective-prizes")
def confirm_collective_prizes(round_id: int):
    round_ = _round(round_id)
    form = CollectivePrizesForm()
    if not form.validate_on_submit():
        abort(400)
    standings.confirm_collective_prizes(current_user, round_, form.seen.data, form.ties_settled.data)
    flash(_("Collective prizes confirmed."), "success")
    return redirect(url_for("organize.round_results", round_id=round_.id))


@bp.get("/rounds/<int:round_id>/export.<any(xlsx, csv):fmt>")
def export_round(round_id: int, fmt: str):
    round_ = _round(round_id)
    what = request.args.get("what", "results")
    if what not in ("results", "prizes", "collective"):
        abort(404)
    content, mimetype, filename = exports.export(round_, what, fmt)
    return Response(content, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/rounds/<int:round_id>/items")
def round_items(round_id: int):
    round_ = _round(round_id)
    stats = contests.item_analysis(round_)
    forms = {}
    for item in stats:
        form = CorrectionForm(prefix=f"q{item.question.id}")
        form.question_id.data = str(item.question.id)
        form.correct.choices = [SelectChoice(c.id, c.text) for c in item.question.choices]
        forms[item.question.id] = form
    changes = db.session.execute(select(RoundQuestionChange).where(
        RoundQuestionChange.round_id == round_.id).order_by(RoundQuestionChange.id)).scalars().all()
    return render_template("organize/items.html", round=round_, stats=stats, forms=forms,
                           changes=changes, state=contests.round_state(round_))


@bp.post("/rounds/<int:round_id>/corrections/<int:question_id>")
def correct_question(round_id: int, question_id: int):
    round_ = _round(round_id)
    form = CorrectionForm(prefix=f"q{question_id}")
    if not form.validate_on_submit():
        flash(_("Give a reason for the correction."), "error")
        return redirect(url_for("organize.round_items", round_id=round_.id))
    contests.correct_question(current_user, round_, question_id, form.action.data,
                              form.reason.data, form.correct.data)
    flash(_("Correction applied; scores and rankings were recomputed."), "success")
    return redirect(url_for("organize.round_items", round_id=round_.id))
