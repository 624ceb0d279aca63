"""Meeting mode: the host's screen (secretaries for their subtree, organizers for any
unit) and the players' phones. Pages poll a small JSON state and reload when its
version changes; without JavaScript they refresh themselves."""
from __future__ import annotations

import segno
from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..extensions import db, limiter
from ..forms import EmptyForm
from ..hardening import bounded_int
from ..policy import role_required
from ..services.branches import roster
from ..services.errors import DomainError
from ..services.learning import meeting
from .forms import CreateForm, JoinForm

bp = Blueprint("meeting", __name__)

GUEST_KEY = "meeting_guest"


def _pin_limit() -> str:
    return current_app.config["MEETING_PIN_RATE_LIMIT"]


# Only failed look-ups count, per address: a room of phones behind one Wi-Fi address
# joins freely, a guesser is stopped after a few wrong PINs.
pin_guard = limiter.shared_limit(_pin_limit, scope="meeting-pin", methods=["GET", "POST"],
                                 deduct_when=lambda response: response.status_code == 404,
                                 error_message="too many PINs")


# ---------------------------------------------------------------- host

@bp.route("/meetings", methods=["GET", "POST"])
@role_required("secretary")
def index():
    form = CreateForm()
    form.unit.choices = [SelectChoice(u.id, u.name) for u in meeting.host_units(current_user)]
    form.section.choices = [SelectChoice("", _("The whole outline"))] + [
        SelectChoice(s.key, s.title) for s in meeting.section_choices()]
    if form.validate_on_submit():
        spec = meeting.SessionSpec(
            title=form.title.data, format=form.format.data,
            question_seconds=form.question_seconds.data, allow_guests=form.allow_guests.data,
            question_keys=(form.question_keys.data or "").split(),
            section_keys=[form.section.data] if form.section.data else [], count=form.count.data)
        try:
            unit = roster.get_unit_in_scope(current_user, form.unit.data)
            created = meeting.create_session(current_user, unit, spec)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            return redirect(url_for(".host", session_id=created.id))
    return render_template("meeting/index.html", form=form,
                           sessions=meeting.hosted_sessions(current_user))


def _join_url(pin: str) -> str:
    base = current_app.config.get("PUBLIC_URL")
    path = url_for(".join_pin", pin=pin)
    return base + path if base else url_for(".join_pin", pin=pin, _external=True)


@bp.get("/meetings/<int:session_id>/host")
@role_required("secretary")
def host(session_id: int):
    live = meeting.get_hosted(current_user, session_id)
    view = meeting.host_view(live)
    qr = ""
    if view.phase == "lobby":
        qr = segno.make(_join_url(live.pin), error="m").svg_inline(
            scale=4, border=2, omitsize=True, dark="#000", light="#fff")
    return render_template("meeting/host.html", view=view, qr=qr, join_url=_join_url(live.pin),
                           form=EmptyForm())


@bp.get("/meetings/<int:session_id>/host/state")
@role_required("secretary")
def host_state(session_id: int):
    live = meeting.get_hosted(current_user, session_id)
    return jsonify(meeting.poll_state(live, host=True))


@bp.post("/meetings/<int:session_id>/host/<action>")
@role_required("secretary")
def host_action(session_id: int, action: str):
    live = meeting.get_hosted(current_user, session_id)
    if action not in meeting.HOST_ACTIONS or not EmptyForm().validate_on_submit():
        return redirect(url_for(".host", session_id=live.id))
    try:
        meeting.HOST_ACTIONS[action](live)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for(".host", session_id=session_id))


# ---------------------------------------------------------------- players

def _guest_id(session_id: int) -> int | None:
    return (session.get(GUEST_KEY) or {}).get(str(session_id))


def _me():
    return current_user if current_user.is_authenticated else None


def _join_page(form: JoinForm, live=None, status: int = 200, error: str | None = None):
    elsewhere = meeting.active_elsewhere(current_user, live) if live and _me() else None
    return render_template("meeting/join.html", form=form, live=live, error=error,
                           elsewhere=elsewhere, leave_form=EmptyForm()), status


@bp.get("/join")
def join():
    return _join_page(JoinForm())[0]


@bp.get("/join/<pin>")
@pin_guard
def join_pin(pin: str):
    form = JoinForm(pin=pin)
    try:
        live = meeting.by_pin(pin)
    except DomainError as exc:
        return _join_page(form, status=exc.status_code, error=exc.message)
    if meeting.find_player(live, _me(), _guest_id(live.id)):
        return redirect(url_for(".play", session_id=live.id))
    return _join_page(form, live)


@bp.post("/join")
@pin_guard
def join_post():
    form = JoinForm()
    if not form.validate_on_submit():
        return _join_page(form, status=400, error=_("Type the six digits shown on the screen."))
    try:
        live = meeting.by_pin(form.pin.data)
    except DomainError as exc:
        return _join_page(form, status=exc.status_code, error=exc.message)
    try:
        player = meeting.join(live, _me(), form.guest_name.data)
    except DomainError as exc:
        db.session.rollback()
        return _join_page(form, live, status=exc.status_code if exc.status_code != 404 else 409,
                          error=exc.message)
    if player.user_id is None:
        guests = dict(session.get(GUEST_KEY) or {})
        guests[str(live.id)] = player.id
        session[GUEST_KEY] = guests
    return redirect(url_for(".play", session_id=live.id))


def _player_or_redirect(session_id: int):
    live = meeting.get_session(session_id)
    player = meeting.find_player(live, _me(), _guest_id(live.id))
    return live, player


@bp.get("/play/<int:session_id>")
def play(session_id: int):
    live, player = _player_or_redirect(session_id)
    if player is None:
        if live.phase == "finished":
            return render_template("errors/error.html", status=409, title=_("This cannot be done now"),
                                   message=_("This session has ended.")), 409
        return redirect(url_for(".join_pin", pin=live.pin))
    return render_template("meeting/play.html", view=meeting.player_view(live, player), form=EmptyForm())


@bp.get("/play/<int:session_id>/state")
def play_state(session_id: int):
    live, player = _player_or_redirect(session_id)
    if player is None:
        return jsonify(error=_("Join the session first."), v="out"), 403
    return jsonify(_phone_state(live, player))


def _phone_state(live, player) -> dict:
    """The phone's poll: the state, and while a question is asked the words the page
    shows (the same texts as templates/meeting/play.html), with the question itself
    when the phone's version (?v=) is not the current one."""
    state = meeting.player_state(live, player, known_version=request.args.get("v"))
    mine, question = state.get("mine"), state.get("question")
    if mine is None:
        return state
    if question is not None:
        question["label"] = (_("Rescue question") if question["rescue"] else
                             _("Question %(n)d of %(total)d", n=question["number"], total=question["total"]))
    if mine["answered"]:
        status = _("Answered: %(letters)s. Wait for the answer.", letters=", ".join(mine["letters"]))
    elif not mine["may_answer"]:
        status = (_("The rescue question is for eliminated players only.") if mine["rescue"]
                  else _("You are eliminated: wait for a rescue question."))
    elif state["phase"] == "paused":
        status = _("The host has paused the game: answer when it resumes.")
    elif state["phase"] == "closed":
        status = _("Time is up.")
    else:
        status = None
    state["status"] = status
    return state


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


@bp.post("/play/<int:session_id>/answer")
def play_answer(session_id: int):
    """One answer. The form (no JavaScript) is redirected back to the page; the page's
    script (Accept: application/json) gets the phone's new state, or the refusal."""
    live, player = _player_or_redirect(session_id)
    wants_json = _wants_json()
    if player is None:
        if wants_json:
            return jsonify(error=_("Join the session first."), v="out"), 403
        return redirect(url_for(".play", session_id=session_id))
    error, status = None, 400
    if EmptyForm().validate_on_submit():
        question_id = request.form.get("q", type=bounded_int)
        tokens = [int(t) for t in request.form.getlist("choice")
                  if t.isascii() and t.isdigit() and len(t) <= 10]
        try:
            meeting.answer(live, player, question_id or 0, tokens)
        except DomainError as exc:
            db.session.rollback()
            error, status = exc.message, exc.status_code
        else:
            status = 200
    if not wants_json:
        if error:
            flash(error, "error")
        return redirect(url_for(".play", session_id=session_id))
    state = _phone_state(live, player)
    if error:
        state["error"] = error
    return jsonify(state), status


@bp.post("/play/<int:session_id>/leave")
def play_leave(session_id: int):
    live, player = _player_or_redirect(session_id)
    if player is not None and EmptyForm().validate_on_submit():
        meeting.leave(player)
        flash(_("You have left «%(title)s». Your score is kept.", title=live.title), "success")
    back = request.form.get("back_pin", "")
    return redirect(url_for(".join_pin", pin=back) if back.isascii() and back.isdigit() and len(back) == 6
                    else url_for(".join"))


@bp.app_template_global()
def branch_meetings(unit):
    """For the branch page's partial: meetings held and members who took part."""
    return meeting.branch_meetings(unit)
