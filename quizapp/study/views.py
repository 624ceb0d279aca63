"""Reading the outline and starting practice quizzes."""
import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice
from flask_login import current_user, login_required

from ..extensions import db
from ..forms import EmptyForm
from ..services import sealing, study
from ..services.attempts import PracticeSpec
from . import bp
from .forms import PracticeForm


@bp.get("/outline")
@login_required
def outline():
    return render_template("study/outline.html", sections=study.outline_sections(),
                           counts=study.approved_counts())


@bp.get("/outline/<key>")
@login_required
def section(key: str):
    sections = study.outline_sections()
    index = next((i for i, s in enumerate(sections) if s.key == key), None)
    if index is None:
        abort(404)
    return render_template("study/section.html", section=sections[index],
                           previous=sections[index - 1] if index > 0 else None,
                           next=sections[index + 1] if index + 1 < len(sections) else None,
                           form=_practice_form(preselect=[key]))


def _practice_form(preselect: list[str] | None = None) -> PracticeForm:
    form = PracticeForm()
    form.sections.choices = [SelectChoice(s.key, ("— " * s.depth) + s.title) for s in study.outline_sections()]
    if not form.is_submitted():
        form.start_token.data = secrets.token_urlsafe(16)
        if preselect:
            form.sections.data = preselect
    return form


@bp.route("/practice", methods=["GET", "POST"])
@login_required
def practice():
    form = _practice_form(preselect=request.args.getlist("section"))
    if form.validate_on_submit():
        spec = PracticeSpec(section_keys=form.sections.data or [], count=form.count.data,
                            time_limit_minutes=form.time_limit.data, feedback=form.feedback.data,
                            title=_("Practice"))
        attempt = sealing.start_practice(current_user, spec, start_token=form.start_token.data or None)
        db.session.commit()
        return redirect(url_for("quiz.show", attempt_id=attempt.id))
    return render_template("study/practice.html", form=form, notice=sealing.practice_notice())


@bp.post("/practice/mistakes")
@login_required
def practice_mistakes():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    question_ids = study.mistake_question_ids(current_user, exclude_keys=sealing.sealed_keys())
    if not question_ids:
        flash(_("You have no mistakes to retry. Well done!"), "info")
        return redirect(url_for("main.home"))
    spec = PracticeSpec(section_keys=[], count=len(question_ids), time_limit_minutes=None,
                        feedback="immediate", title=_("Retry my mistakes"))
    attempt = sealing.start_practice(current_user, spec, question_ids=question_ids)
    db.session.commit()
    return redirect(url_for("quiz.show", attempt_id=attempt.id))
