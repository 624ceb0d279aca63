"""Forms shared by several areas, and the base of every form: WTForms' own messages
("This field is required.", "Number must be between 1 and 50.") in the user's language.

WTForms ships no Vietnamese catalog (wtforms/locale has none), so its messages are
listed below for extraction into our catalogs and translated there, through
Flask-Babel, like every other string."""
from flask_babel import get_translations, ngettext
from flask_wtf import FlaskForm


def N_(message: str) -> str:
    """Marks a WTForms message for extraction; WTForms itself asks for the translation."""
    return message


# The messages of the validators and fields the app uses (wtforms.validators, .fields).
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Invalid input."),
    N_("Field must be equal to %(other_name)s."),
    N_("Field must be between %(min)d and %(max)d characters long."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Not a valid choice."),
    N_("Not a valid integer value."),
    N_("Not a valid datetime value."),
    N_("Not a valid date value."),
    N_("Invalid Choice: could not coerce."),
    N_("Invalid choice(s): one or more data inputs could not be coerced."),
)


def _plural_messages(n: int) -> tuple[str, ...]:
    # Never called: lists the plural messages for extraction.
    return (ngettext("Field must be at least %(min)d character long.",
                     "Field must be at least %(min)d characters long.", n),
            ngettext("Field cannot be longer than %(max)d character.",
                     "Field cannot be longer than %(max)d characters.", n))


class BabelTranslations:
    """What WTForms calls to translate its messages: our catalog of the request's locale.
    No %-formatting here: WTForms fills in %(min)s and the like itself."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_translations = BabelTranslations()


class Form(FlaskForm):
    """The base of every form of the app (CSRF from Flask-WTF, messages from our catalog)."""

    class Meta:
        def get_translations(self, form):
            return _translations


class EmptyForm(Form):
    """For button-only posts: carries the CSRF token and nothing else."""
