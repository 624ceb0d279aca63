from flask import Blueprint

bp = Blueprint("meeting", __name__)

from . import views  # noqa: E402,F401
