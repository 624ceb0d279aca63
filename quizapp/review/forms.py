from flask_wtf import FlaskForm
from wtforms import HiddenField


class ReviewAnswerForm(FlaskForm):
    """One review question's answer: the choices are read from the request (their names
    are per-serving tokens); the ticket says which serving is answered, and when it was
    served."""

    ticket = HiddenField()
