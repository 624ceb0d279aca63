from flask import Blueprint

bp = Blueprint("contest", __name__)

from . import views  # noqa: E402,F401
