from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, RadioField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PracticeForm(Form):
    sections = MultiCheckboxField(_l("Sections (none chosen = the whole outline)"), choices=[],
                                  validate_choice=True)
    count = IntegerField(_l("Number of questions"), default=10,
                         validators=[NumberRange(min=1, max=50)])
    time_limit = IntegerField(_l("Time limit in minutes (empty = no limit)"),
                              validators=[Optional(), NumberRange(min=1, max=180)])
    feedback = RadioField(_l("When to show right answers"), default="immediate", choices=[
        SelectChoice("immediate", _l("After each answer")), SelectChoice("exam", _l("At the end, like an exam"))])
    start_token = HiddenField()
