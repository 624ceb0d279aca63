from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateTimeLocalField, HiddenField, IntegerField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import Form
from ..study.forms import MultiCheckboxField


def to_utc(value: datetime) -> datetime:
    """A wall-clock time typed in the configured zone, as aware UTC."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return value.replace(tzinfo=zone).astimezone(timezone.utc)


def to_local_naive(value: datetime) -> datetime:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return value.astimezone(zone).replace(tzinfo=None)


class ContestForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    rules = TextAreaField(_l("Rules shown to members"), validators=[Length(max=10000)])
    audience = MultiCheckboxField(_l("Audience (none chosen = every unit)"), coerce=int, choices=[])


class RoundForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    opens_at = DateTimeLocalField(_l("Opens at"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    closes_at = DateTimeLocalField(_l("Closes at"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    time_limit_minutes = IntegerField(_l("Time limit (minutes)"), default=20,
                                      validators=[InputRequired(), NumberRange(min=1, max=600)])
    question_count = IntegerField(_l("Number of questions"), default=20,
                                  validators=[InputRequired(), NumberRange(min=1, max=200)])
    draw_plan = TextAreaField(_l("Draw plan"), validators=[Length(max=5000)])
    question_pool = SelectField(_l("Questions drawn from"), default="all", choices=[
        SelectChoice("all", _l("The whole approved bank (its practice questions are held back from practice until the round closes)")),
        SelectChoice("reserve", _l("The contest reserve only (practice stays whole)"))])
    shuffle_questions = BooleanField(_l("Shuffle question order"), default=True)
    shuffle_choices = BooleanField(_l("Shuffle choice order"), default=True)
    attempts_allowed = IntegerField(_l("Attempts allowed per member"), default=1,
                                    validators=[InputRequired(), NumberRange(min=1, max=10)])
    counting = SelectField(_l("Which attempt counts"), choices=[
        SelectChoice("best", _l("The best")), SelectChoice("first", _l("The first")), SelectChoice("last", _l("The last"))])
    results_visibility = SelectField(_l("Members see their results"), default="at_close", choices=[
        SelectChoice("at_submit", _l("As soon as they submit")), SelectChoice("at_close", _l("When the round closes")),
        SelectChoice("on_publish", _l("When the organizers publish them"))])
    prediction_kind = SelectField(_l("Tie-break prediction question"), choices=[
        SelectChoice("", _l("None")), SelectChoice("participants", _l("How many members will take part in this round?")),
        SelectChoice("full_scores", _l("How many attempts will reach full score?"))])
    prize_first = IntegerField(_l("First prizes"), default=1, validators=[InputRequired(), NumberRange(min=0, max=100)])
    prize_second = IntegerField(_l("Second prizes"), default=2, validators=[InputRequired(), NumberRange(min=0, max=100)])
    prize_third = IntegerField(_l("Third prizes"), default=3, validators=[InputRequired(), NumberRange(min=0, max=100)])
    prize_consolation = IntegerField(_l("Consolation prizes"), default=5,
                                     validators=[InputRequired(), NumberRange(min=0, max=500)])
    paper_prizes = BooleanField(_l("Paper answer sheets count for prizes"), default=True)
    reason = StringField(_l("Reason for the change (kept in the log)"), validators=[Optional(), Length(max=500)])


class ConfirmForm(Form):
    """A step that cannot be taken back (a round goes out to members, results are
    shown): the box must be ticked, so it works without JavaScript."""
    confirm = BooleanField(_l("I have checked: go ahead"))


class ReasonForm(Form):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class CorrectionForm(Form):
    question_id = HiddenField(validators=[DataRequired()])
    action = SelectField(_l("Correction"), choices=[
        SelectChoice("void", _l("Void the question (it counts for nobody)")),
        SelectChoice("rekey", _l("Change the right answer"))])
    correct = MultiCheckboxField(_l("Right answer(s) after the correction"), coerce=int, choices=[],
                                 validate_choice=False)
    reason = StringField(_l("Reason (kept in the log)"), validators=[DataRequired(), Length(max=500)])


class CollectivePrizesForm(Form):
    """Confirm the collective prizes the page shows: `seen` is the proposal's
    fingerprint as rendered (services.branches.standings.proposal_fingerprint)."""
    seen = HiddenField(validators=[DataRequired()])
    ties_settled = BooleanField(_l("I have settled the tie across prize places (the proposed "
                                   "order stands)"))
