"""Forms of meeting mode."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..services.learning.meeting import GUEST_NAME_MAX, MAX_QUESTIONS, SECONDS_RANGE


class CreateForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    unit = SelectField(_l("For"), coerce=int)
    format = RadioField(_l("Format"), choices=[SelectChoice("points", _l("Points (faster right answers score more)")),
                                               SelectChoice("bell", _l("Golden Bell (a wrong answer eliminates)"))],
                        default="points")
    question_seconds = IntegerField(_l("Seconds per question"), default=20,
                                    validators=[NumberRange(*SECONDS_RANGE)])
    allow_guests = BooleanField(_l("Let guests join by name (they never count)"))
    question_keys = TextAreaField(_l("Question keys, one a line (leave empty to draw)"),
                                  validators=[Optional(), Length(max=5000)])
    section = SelectField(_l("Draw from section"), default="")
    count = IntegerField(_l("Number of questions to draw"), default=10,
                         validators=[NumberRange(1, MAX_QUESTIONS)])


class JoinForm(FlaskForm):
    pin = StringField(_l("PIN"), validators=[DataRequired(), Length(max=6)])
    guest_name = StringField(_l("Your name (guests)"), validators=[Optional(), Length(max=GUEST_NAME_MAX)])
