from flask import Blueprint

bp = Blueprint("branch", __name__)

from . import views  # noqa: E402,F401
