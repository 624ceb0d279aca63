"""Branch pages (secretaries: their subtree; organizers: every branch), rosters and the
branch standings (public when the organizer publishes them)."""
import os
from pathlib import Path
import secrets
import time

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import charts
from ..extensions import db
from ..forms import EmptyForm
from ..hardening import bounded_int
from ..models import Contest, Round
from ..policy import can_reset_password, role_required
from ..contest import share
from ..services import contests, learning
from ..services.branches import paper_forms, propagation, reports, roster, standings
from ..services.learning import meeting
from ..clock import utcnow
from ..services.branches.standings import Weights
from ..services.contests import extra_time, round_state, state_label
from ..services.errors import DomainError
from .forms import (ExtraTimeForm, MemberForm, ReasonedForm, RevokeExtraTimeForm, RosterUploadForm,
                    WeightsForm)

bp = Blueprint("branch", __name__)

CHART_ROWS = 40    # charts show every branch up to this, else the top and bottom halves
TABLE_ROWS = 200   # standings table rows per page (the downloads have them all)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, filename: str, mimetype: str) -> Response:
    return Response(content, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _contest_from_args() -> Contest | None:
    contest_id = request.args.get("contest", type=bounded_int)
    if contest_id:
        return db.get_or_404(Contest, contest_id)
    return standings.latest_contest()


@bp.get("/branch")
@role_required("secretary")
def my_branch():
    if current_user.has_role("organizer"):
        return redirect(url_for("branch.branches"))
    return redirect(url_for("branch.page", unit_id=current_user.unit_id))


@bp.get("/branches")
@role_required("secretary")
def branches():
    scope = None if current_user.has_role("organizer") else current_user.unit
    units = standings.branch_units(scope)
    return render_template("branch/list.html", units=units)


@bp.get("/branch/<int:unit_id>")
@role_required("secretary")
def page(unit_id: int):
    unit = roster.get_unit_in_scope(current_user, unit_id)
    contest = _contest_from_args()
    data = standings.branch_page(unit, contest, viewer=current_user)
    top = standings.top_sections()
    cells = standings.mastery(data.rounds, [unit], viewer=current_user)
    answered = [(s.title, 100 * cells[(unit.id, s.id)][1] / cells[(unit.id, s.id)][0])
                for s in top if cells.get((unit.id, s.id), (0, 0))[0]]
    heat = charts.bars(sorted(answered, key=lambda item: item[1]),
                       _("Share of right answers by outline section")) if answered else ""
    trend = charts.line([(r.title, row.P if row else None) for r, row in data.trend],
                        _("Participation rate by round"))
    reminder = standings.reminder_text(data, _round_url(data.open_round)) if data.open_round else ""
    return render_template("branch/page.html", data=data, heat=heat, trend=trend, reminder=reminder,
                           form=MemberForm(), action_form=ReasonedForm(), state=round_state,
                           label=state_label, contests=_contests(), may_reset=can_reset_password,
                           review_activity=learning.branch_activity(unit),
                           extra_rounds=[r for r in data.rounds if round_state(r) in ("scheduled", "open")],
                           extras=extra_time.extras_for(data.rounds))


def _round_url(round_: Round) -> str:
    """The round's short public address (/r/<id>, as posters and Zalo texts carry) for
    texts sent outside the site: a member who follows it logged out sees the round and
    the way to log in, logged in he goes straight to the round. From PUBLIC_URL, never
    the request's Host header (which whoever sends the request chooses). Unset: a
    placeholder the secretary replaces before sending, rather than a guess."""
    return share.short_url(round_) or _("[the contest site's address]")


@bp.get("/branch/<int:unit_id>/rounds/<int:round_id>/poster")
@role_required("secretary")
def round_poster(unit_id: int, round_id: int):
    """The branch's A4 poster of a round (the branch's name on it), for the residential
    group's board: a unit in the secretary's scope, a round its members may take."""
    unit = roster.get_unit_in_scope(current_user, unit_id)
    round_ = db.get_or_404(Round, round_id)
    audience = round_.contest.audience
    if round_state(round_) == "draft" or (
            audience and not any(unit.path.startswith(a.path) for a in audience)):
        abort(404)
    url = share.short_url(round_)
    return render_template("contest/poster.html", round=round_, unit=unit, url=url,
                           qr=Markup(share.qr_svg(url)) if url else "", summary=share.summary(round_),
                           back=url_for("branch.page", unit_id=unit.id))


def _unit_and_round(unit_id: int, round_id: int):
    """A unit in the viewer's scope and a round its members may take (else 404)."""
    unit = roster.get_unit_in_scope(current_user, unit_id)
    round_ = db.get_or_404(Round, round_id)
    audience = round_.contest.audience
    if round_state(round_) == "draft" or (
            audience and not any(unit.path.startswith(a.path) for a in audience)):
        abort(404)
    return unit, round_


PAPER_FIELD_MAX = 12  # characters of one typed answer ("ABCD" with spaces and commas)


@bp.get("/branch/<int:unit_id>/rounds/<int:round_id>/paper")
@role_required("secretary")
def paper(unit_id: int, round_id: int):
    """Paper sheets of a round for one branch: print them, then enter what members ticked
    (the whole grid, or one sheet found by its QR reference)."""
    unit, round_ = _unit_and_round(unit_id, round_id)
    sheets = contests.paper.paper_attempts(round_, [unit.id])
    ref = (request.args.get("ref") or "").strip()[:200]
    error, status = None, 200
    if ref:
        try:
            wanted = contests.paper.attempt_id_from_token(ref)
        except DomainError as exc:
            error, status, sheets = exc.message, 400, []
        else:
            sheets = [a for a in sheets if a.id == wanted]
            if not sheets:
                abort(404)
    return _paper_page(unit, round_, sheets, {}, [(error, "ref")] if error else [], status, ref=ref)


def _wrong_cells(attempt, texts: list[str]) -> list[tuple[int, int]]:
    """(attempt id, position) of the typed answers the sheet does not accept, in order:
    the page marks those boxes and the error summary links to the first."""
    wrong = []
    for item, text in zip(attempt.items, texts):
        try:
            contests.paper.parse_letters(item, text)
        except DomainError:
            wrong.append((attempt.id, item.position))
    return wrong


def _paper_page(unit, round_, sheets, typed, errors, status=200, ref="", invalid=frozenset()):
    """`errors`: (message, id of the field it is about) for the error summary's links;
    `invalid`: the (attempt id, position) boxes to mark."""
    return render_template(
        "branch/paper.html", unit=unit, round=round_, sheets=sheets, typed=typed, errors=errors,
        invalid=invalid,
        members=[m for m in roster.roster(unit) if m.active], letters_of=contests.paper.letters_of,
        may_print=round_state(round_) == "open", entry_open=contests.paper.entry_open(round_),
        entry_until=contests.paper.paper_deadline(round_), ref=ref,
        field_max=PAPER_FIELD_MAX), status


@bp.post("/branch/<int:unit_id>/rounds/<int:round_id>/paper/sheets.pdf")
@role_required("secretary")
def paper_sheets(unit_id: int, round_id: int):
    """Draw (or find again) the chosen members' sheets and send them as one A4 PDF."""
    unit, round_ = _unit_and_round(unit_id, round_id)
    members = [m for m in roster.roster(unit) if m.active]
    chosen = set(request.form.getlist("member", type=bounded_int))
    if chosen:
        members = [m for m in members if m.id in chosen]
    drawn = contests.paper.draw_sheets(current_user, round_, members)
    if not drawn.sheets:
        raise DomainError(_("No sheet to print: %(reasons)s", reasons="; ".join(
            f"{m.full_name} ({why})" for m, why in drawn.skipped) or _("no member chosen")))
    sheets = contests.paper.load_sheets([a.id for a in drawn.sheets])
    return _download(paper_forms.sheets_pdf(round_, sheets),
                     f"phieu-{unit.code}-vong-{round_.id}.pdf", "application/pdf")


@bp.post("/branch/<int:unit_id>/rounds/<int:round_id>/paper/enter")
@role_required("secretary")
def paper_enter(unit_id: int, round_id: int):
    """Enter the typed sheets: every row with at least one answer is submitted through
    the engine; nothing is saved when any typed answer is wrong (the page comes back
    with what was typed and the reasons)."""
    unit, round_ = _unit_and_round(unit_id, round_id)
    by_id = {a.id: a for a in contests.paper.paper_attempts(round_, [unit.id])}
    posted = request.form.getlist("sheet", type=bounded_int)
    if any(attempt_id not in by_id for attempt_id in posted):
        abort(404)
    typed, errors, ready, invalid = {}, [], [], set()
    for attempt_id in posted:
        attempt = by_id[attempt_id]
        texts = [request.form.get(f"a{attempt_id}_{item.position}", "")[:PAPER_FIELD_MAX]
                 for item in attempt.items]
        typed[attempt_id] = texts
        if attempt.is_finished or not any(t.strip() for t in texts):
            continue
        try:
            ready.append((attempt, contests.paper.check_entry(attempt, texts)))
        except DomainError as exc:
            wrong = _wrong_cells(attempt, texts)
            invalid.update(wrong)
            errors.append((f"{attempt.user.full_name}: {exc.message}",
                           "a{}_{}".format(*wrong[0]) if wrong else f"sheet-{attempt_id}"))
    if errors:
        return _paper_page(unit, round_, [by_id[i] for i in posted], typed, errors, 400,
                           invalid=invalid)
    if ready and not contests.paper.entry_open(round_):
        raise DomainError(_("The time for entering paper sheets of this round is over."))
    entered = sum(contests.paper.enter_sheet(current_user, round_, attempt, answers)
                  for attempt, answers in ready)
    flash(ngettext("%(num)d sheet entered and graded.", "%(num)d sheets entered and graded.",
                   entered), "success")
    return redirect(url_for("branch.paper", unit_id=unit.id, round_id=round_.id))


def _contests() -> list[Contest]:
    return list(db.session.execute(select(Contest).order_by(Contest.created_at.desc())).scalars())


@bp.get("/branch/<int:unit_id>/report.xlsx")
@role_required("secretary")
def branch_report(unit_id: int):
    unit = roster.get_unit_in_scope(current_user, unit_id)
    data = standings.branch_page(unit, _contest_from_args(), viewer=current_user)
    return _download(reports.branch_report(data), f"bao-cao-{unit.code}.xlsx", XLSX)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _propagation(scope, filename: str) -> Response:
    """The propagation report of `scope` (None: the whole ward) for the chosen contest."""
    contest = _contest_from_args()
    if contest is None:
        abort(404)
    activity = {}
    for unit in standings.branch_units(scope):
        review = learning.branch_activity(unit)
        held = meeting.branch_meetings(unit)
        activity[unit.id] = propagation.Activity(
            meetings=len(held.sessions), meeting_members=len(held.members),
            reviewers=review.active_members, review_days=review.days)
    content = propagation.report(contest, scope, activity, viewer=current_user, now=utcnow())
    return _download(content, filename, DOCX)


@bp.get("/branch/<int:unit_id>/propagation.docx")
@role_required("secretary")
def branch_propagation(unit_id: int):
    """The branch's report on bringing the resolution to its members (.docx, to sign)."""
    unit = roster.get_unit_in_scope(current_user, unit_id)
    return _propagation(unit, f"bao-cao-tuyen-truyen-{unit.code}.docx")


@bp.get("/branches/propagation.docx")
@role_required("organizer")
def ward_propagation():
    """The ward's report: every branch."""
    return _propagation(None, "bao-cao-tuyen-truyen-phuong.docx")


@bp.post("/branch/<int:unit_id>/members")
@role_required("secretary")
def add_member(unit_id: int):
    unit = roster.get_unit_in_scope(current_user, unit_id)
    form = MemberForm()
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            for error in errors:
                flash(f"{getattr(form, field).label.text}: {error}", "error")
        return redirect(url_for("branch.page", unit_id=unit.id) + "#roster")
    member = roster.add_member(current_user, unit, form.full_name.data, form.phone.data or None,
                               form.birth_year.data)
    flash(_("%(name)s was added with the username %(username)s. Use “Reset password” to give "
            "them a first password.", name=member.full_name, username=member.username), "success")
    return redirect(url_for("branch.page", unit_id=unit.id) + "#roster")


@bp.post("/members/<int:user_id>/extra-time")
@role_required("secretary")
def extra_time_grant(user_id: int):
    """Extra minutes for a member in a round (an accommodation): an organizer, or the
    secretary whose scope holds the member (anyone else: 404, as for the roster)."""
    member = roster.get_member_in_scope(current_user, user_id)
    form = ExtraTimeForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("branch.page", unit_id=member.unit_id) + "#roster")
    round_ = db.session.get(Round, form.round_id.data)
    if round_ is None:
        abort(404)
    minutes = form.minutes.data or 0
    extra_time.grant(current_user, round_, member, minutes, form.reason.data or "")
    flash(_("%(name)s has %(n)d extra minutes in “%(round)s”.", name=member.full_name, n=minutes,
            round=round_.title), "success")
    return redirect(url_for("branch.page", unit_id=member.unit_id) + "#roster")


def _round_for_grants(round_id: int):
    """The round and the viewer's scope for its extra-time grants: an organizer sees
    every grant (scope None), a secretary those of his unit's subtree; a draft round is
    the organizers' alone (404 for a secretary, as elsewhere)."""
    round_ = db.get_or_404(Round, round_id)
    if current_user.has_role("organizer"):
        return round_, None
    if round_state(round_) == "draft":
        abort(404)
    return round_, current_user.unit


@bp.get("/rounds/<int:round_id>/extra-time")
@role_required("secretary")
def extra_time_list(round_id: int):
    """Who has extra time in the round: member, branch, minutes, granted by whom and
    when, with a way to take it back while the round may still change it."""
    round_, scope = _round_for_grants(round_id)
    back = url_for("organize.round_detail", round_id=round_.id) if scope is None \
        else url_for("branch.page", unit_id=scope.id)
    return render_template("branch/extra_time.html", round=round_, scope=scope, back=back,
                           grants=extra_time.grants(round_, scope), form=RevokeExtraTimeForm(),
                           may_change=round_state(round_) in ("draft", "scheduled", "open"))


@bp.post("/rounds/<int:round_id>/extra-time/<int:user_id>/revoke")
@role_required("secretary")
def extra_time_revoke(round_id: int, user_id: int):
    """Take a member's extra time back: the member must be in the viewer's scope (404
    otherwise), the box ticked; logged with the reason (round.extra_time)."""
    round_, _scope = _round_for_grants(round_id)
    member = roster.get_member_in_scope(current_user, user_id)
    form = RevokeExtraTimeForm()
    if not form.validate_on_submit():
        abort(400)
    listed = url_for("branch.extra_time_list", round_id=round_.id)
    if not form.confirm.data:
        flash(_("Nothing was done: tick the box to confirm first."), "error")
        return redirect(listed + f"#grant-{member.id}")
    minutes = extra_time.revoke(current_user, round_, member, form.reason.data or "")
    flash(_("%(name)s's %(n)d extra minutes in “%(round)s” were taken back.", name=member.full_name,
            n=minutes, round=round_.title), "success")
    return redirect(listed)


@bp.post("/members/<int:user_id>/<any(deactivate, activate, exempt, unexempt, reset_password, large_text, normal_text):action>")
@role_required("secretary")
def member_action(user_id: int, action: str):
    member = roster.get_member_in_scope(current_user, user_id)
    form = ReasonedForm()
    if not form.validate_on_submit():
        abort(400)
    if action == "reset_password":
        password = roster.reset_password(current_user, member)
        # Shown once, in this response only: never stored, logged or put in a cookie.
        response = current_app.make_response(render_template(
            "branch/new_password.html", member=member, password=password))
        response.headers["Cache-Control"] = "no-store"
        return response
    elif action in ("large_text", "normal_text"):
        roster.set_large_text(current_user, member, action == "large_text")
        flash((_("Large text is on for %(name)s.") if action == "large_text"
               else _("Large text is off for %(name)s.")) % {"name": member.full_name}, "success")
    else:
        if action in ("deactivate", "activate"):
            roster.set_active(current_user, member, action == "activate")
        else:
            roster.set_exempt(current_user, member, action == "exempt", form.reason.data or "")
        flash({"deactivate": _("%(name)s no longer counts in the roster and cannot log in."),
               "activate": _("%(name)s is active again."),
               "exempt": _("%(name)s is exempt from the movement and leaves the denominator."),
               "unexempt": _("%(name)s counts in the movement again.")}[action] % {"name": member.full_name},
              "success")
    return redirect(url_for("branch.page", unit_id=member.unit_id) + "#roster")


# ---------------------------------------------------------------- roster import (organizers)

def _upload_dir() -> Path:
    """instance/uploads, cleared of files older than a day (previews never confirmed)."""
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    for old in path.iterdir():
        if old.is_file() and time.time() - old.stat().st_mtime > 86400:
            old.unlink(missing_ok=True)
    return path


@bp.get("/organize/roster/template.xlsx")
@role_required("organizer")
def roster_template():
    return _download(roster.import_template(), "mau-danh-sach-dang-vien.xlsx", XLSX)


@bp.route("/organize/roster/import", methods=["GET", "POST"])
@role_required("organizer")
def roster_import():
    form = RosterUploadForm()
    if form.validate_on_submit():
        content = form.file.data.read()
        preview = roster.parse_import(content)
        token = None
        if preview.ok:
            # Kept only until the organizer confirms, inside instance/, under a random name.
            token = secrets.token_hex(16)
            (_upload_dir() / f"roster-{token}.xlsx").write_bytes(content)
        return render_template("branch/import.html", form=form, preview=preview, token=token,
                               confirm=EmptyForm())
    return render_template("branch/import.html", form=form, preview=None, token=None, confirm=EmptyForm())


@bp.post("/organize/roster/import/<token>")
@role_required("organizer")
def roster_import_commit(token: str):
    if not EmptyForm().validate_on_submit() or not token.isalnum() or len(token) != 32:
        abort(400)
    path = _upload_dir() / f"roster-{token}.xlsx"
    if not path.exists():
        flash(_("That upload has expired; upload the file again."), "error")
        return redirect(url_for("branch.roster_import"))
    preview = roster.parse_import(path.read_bytes())
    if not preview.ok:
        flash(_("The file has errors; nothing was imported."), "error")
        return redirect(url_for("branch.roster_import"))
    count = roster.commit_import(current_user, preview)
    os.remove(path)
    flash(_("%(n)d members imported.", n=count), "success")
    return redirect(url_for("branch.branches"))


# ---------------------------------------------------------------- standings

def _may_see_standings(contest: Contest) -> bool:
    if contest.public_standings:
        return True
    return current_user.is_authenticated and current_user.has_role("secretary")


@bp.get("/standings/contest/<int:contest_id>")
def contest_standings(contest_id: int):
    contest = db.get_or_404(Contest, contest_id)
    if not _may_see_standings(contest):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        abort(404)
    rows = standings.contest_standings(contest, viewer=current_user)
    return _render_standings(contest, None, rows)


@bp.get("/standings/round/<int:round_id>")
def round_standings(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    if round_state(round_) in ("draft", "scheduled") or not _may_see_standings(round_.contest):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        abort(404)
    rows = standings.round_standings(round_, viewer=current_user)
    return _render_standings(round_.contest, round_, rows)


def _render_standings(contest: Contest, round_: Round | None, rows):
    weights = Weights.of(contest)
    fmt = request.args.get("format")
    if fmt in ("xlsx", "csv", "json"):
        title = reports.report_title(round_, contest)
        content = reports.ward_report(rows, weights, title, fmt)
        mimetype = {"xlsx": XLSX, "csv": "text/csv; charset=utf-8", "json": "application/json"}[fmt]
        name = f"thi-dua-{'vong-%d' % round_.id if round_ else 'cuoc-thi-%d' % contest.id}.{fmt}"
        return _download(content, name, mimetype)
    by_rate = sorted(rows, key=lambda r: -r.P)
    if len(by_rate) > CHART_ROWS:  # a picture of 2,000 bars informs nobody: top and bottom
        by_rate = by_rate[:CHART_ROWS // 2] + by_rate[-CHART_ROWS // 2:]
    bar = charts.bars([(r.unit.name, r.P) for r in by_rate], _("Participation rate by branch"))
    top = standings.top_sections()
    rounds = [round_] if round_ else standings.contest_rounds(contest)
    units = [r.unit for r in (rows if len(rows) <= CHART_ROWS else rows[:CHART_ROWS // 2] + rows[-CHART_ROWS // 2:])]
    cells = standings.mastery(rounds, units, viewer=current_user)
    heat = charts.heatmap([u.name for u in units], [s.title for s in top],
                          {(i, j): cells[(u.id, s.id)] for i, u in enumerate(units)
                           for j, s in enumerate(top) if (u.id, s.id) in cells},
                          _("Share of right answers by branch and outline section"))
    over_time = charts.line([(r.title, standings.ward_rate(r)) for r in standings.contest_rounds(contest)],
                            _("Ward participation rate by round"))
    own_unit = current_user.unit_id if current_user.is_authenticated else None
    # Without a page asked for, the page that holds the viewer's own branch (highlighted).
    own_index = next((n for n, r in enumerate(rows) if r.unit.id == own_unit), 0)
    page = max(1, request.args.get("page", own_index // TABLE_ROWS + 1, type=bounded_int))
    pages = max(1, -(-len(rows) // TABLE_ROWS))
    hidden = standings.hidden_rounds(rounds, current_user)
    return render_template("branch/standings.html", contest=contest, round=round_, hidden=hidden,
                           rows=rows[(page - 1) * TABLE_ROWS:page * TABLE_ROWS], page=page, pages=pages,
                           total=len(rows), chart_note=len(rows) > CHART_ROWS, own_unit=own_unit,
                           weights=weights, bar=bar, heat=heat, over_time=over_time,
                           weights_form=_weights_form(contest))


def _weights_form(contest: Contest) -> WeightsForm | None:
    if not (current_user.is_authenticated and current_user.has_role("organizer")):
        return None
    form = WeightsForm()
    form.participation.data = contest.weight_participation
    form.score.data = contest.weight_score
    form.improvement.data = contest.weight_improvement
    form.review.data = contest.weight_review or 0
    form.public.data = contest.public_standings
    return form


@bp.post("/organize/contests/<int:contest_id>/weights")
@role_required("organizer")
def set_weights(contest_id: int):
    contest = db.get_or_404(Contest, contest_id)
    form = WeightsForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("branch.contest_standings", contest_id=contest.id))
    standings.set_weights(current_user, contest, Weights(form.participation.data, form.score.data,
                                                          form.improvement.data, form.review.data or 0),
                           form.public.data)
    flash(_("Weights saved; the standings below use them."), "success")
    return redirect(url_for("branch.contest_standings", contest_id=contest.id))
