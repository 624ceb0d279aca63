"""Forms shared by several areas."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """For button-only posts: carries the CSRF token and nothing else."""
