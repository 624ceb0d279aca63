from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import Form


class MemberForm(Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=20)])
    birth_year = IntegerField(_l("Birth year"), validators=[Optional(), NumberRange(min=1900, max=2100)])


class ReasonedForm(Form):
    reason = StringField(_l("Reason (kept in the log)"), validators=[Optional(), Length(max=300)])


class ExtraTimeForm(Form):
    """Extra minutes for one member in one round (0 takes them back)."""
    round_id = IntegerField(_l("Round"), validators=[DataRequired()])
    minutes = IntegerField(_l("Extra minutes"), validators=[
        Optional(), NumberRange(min=0, max=240, message=_l("Extra time must be between 0 and %(max)s minutes."))])
    reason = StringField(_l("Reason (kept in the log)"), validators=[Optional(), Length(max=300)])


class RevokeExtraTimeForm(Form):
    """Take a member's extra time in a round back: the box must be ticked (it works
    without JavaScript), the reason goes to the log."""
    confirm = BooleanField(_l("Yes, take these extra minutes back"))
    reason = StringField(_l("Reason (kept in the log)"), validators=[Optional(), Length(max=300)])


class RosterUploadForm(Form):
    file = FileField(_l("Roster file (.xlsx)"), validators=[
        FileRequired(), FileAllowed(["xlsx"], _l("Choose an .xlsx file."))])


class WeightsForm(Form):
    participation = IntegerField(_l("Participation weight (%)"), validators=[NumberRange(min=0, max=100)])
    score = IntegerField(_l("Average score weight (%)"), validators=[NumberRange(min=0, max=100)])
    improvement = IntegerField(_l("Improvement weight (%)"), validators=[NumberRange(min=0, max=100)])
    review = IntegerField(_l("Daily review weight (%)"), default=0,
                          validators=[Optional(), NumberRange(min=0, max=100)])
    public = BooleanField(_l("Publish the branch standings (readable without logging in)"))

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        total = (self.participation.data or 0) + (self.score.data or 0) + \
            (self.improvement.data or 0) + (self.review.data or 0)
        if total != 100:
            self.improvement.errors.append(_l("The weights must add up to 100 %."))
            return False
        return True
