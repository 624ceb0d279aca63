from flask import Blueprint

bp = Blueprint("editor", __name__, url_prefix="/organize/bank")

from . import views  # noqa: E402,F401
