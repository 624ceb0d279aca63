from flask import Blueprint

bp = Blueprint("quiz", __name__)

from . import views  # noqa: E402,F401
