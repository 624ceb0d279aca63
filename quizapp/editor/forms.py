from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, FieldList, Form, FormField, IntegerField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..forms import Form as AppForm
from ..services.grading import kind_choices


class ChoiceForm(Form):
    text = StringField(_l("Choice"), validators=[Optional(), Length(max=1000)])
    correct = BooleanField(_l("Right"))
    # Partial credit in percent (Moodle's fraction × 100); empty on every choice: classic.
    credit = StringField(_l("Credit (percent)"), validators=[Optional(), Regexp(
        r"^\s*-?\d{1,3}([.,]\d{1,5})?\s*$", message=_l("A credit is a percent between -100 and 100."))])


class QuestionForm(AppForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=80)])
    section = SelectField(_l("Section"), choices=[], validate_choice=True)
    kind = SelectField(_l("Kind"), choices=[SelectChoice(name, label) for name, label in kind_choices()])
    difficulty = SelectField(_l("Difficulty"), coerce=int, choices=[
        SelectChoice(1, _l("Easy")), SelectChoice(2, _l("Medium")), SelectChoice(3, _l("Hard"))])
    status = SelectField(_l("Status"), choices=[
        SelectChoice("draft", _l("Draft")), SelectChoice("approved", _l("Approved")),
        SelectChoice("retired", _l("Retired"))])
    purpose = SelectField(_l("What it tests"), choices=[
        SelectChoice("", _l("Not tagged")), SelectChoice("meaning", _l("Meaning")),
        SelectChoice("application", _l("Application (a concrete local situation)")),
        SelectChoice("distinguish", _l("Distinguish (which is not, which belongs where)")),
        SelectChoice("target", _l("Target (a figure that matters)")),
        SelectChoice("recall", _l("Recall (wording, procedure, letter details)"))], default="")
    reserve = BooleanField(_l("Contest reserve: used only in contest rounds, never in practice"))
    prompt = TextAreaField(_l("Question"), validators=[DataRequired(), Length(max=4000)])
    choices = FieldList(FormField(ChoiceForm), min_entries=6, max_entries=26)
    explanation = TextAreaField(_l("Explanation (quote the outline passage, with its line)"),
                                validators=[Length(max=4000)])
    covers = StringField(_l("Outline items checked (keys, comma-separated)"), validators=[Length(max=500)])
    excludes = StringField(_l("Never in one attempt with (question keys, comma-separated)"),
                           validators=[Length(max=500)])


class ImportForm(AppForm):
    file = FileField(_l("File"), validators=[FileRequired()])
    format = SelectField(_l("Format"), choices=[
        SelectChoice("auto", _l("From the file name")), SelectChoice("yaml", "YAML"),
        SelectChoice("gift", "Moodle GIFT"), SelectChoice("xml", "Moodle XML"), SelectChoice("aiken", "Aiken"), SelectChoice("xlsx", "Excel (.xlsx)")])
    section = SelectField(_l("Section for questions that name none"), choices=[])


class CoverageForm(AppForm):
    class Meta:
        csrf = False
    minimum = IntegerField(_l("Minimum per section"), default=2, validators=[Optional(), NumberRange(min=0, max=100)])


class OutlineUploadForm(AppForm):
    file = FileField(_l("Outline file (.yaml, .txt, .md or .docx); empty = the bundled outline"))
