from flask import Blueprint

bp = Blueprint("organize", __name__, url_prefix="/organize")

from . import views  # noqa: E402,F401
