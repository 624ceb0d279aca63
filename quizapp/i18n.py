"""Language: Vietnamese by default, English on request (?lang=en, remembered in the
session)."""
from __future__ import annotations

import os

from flask import Flask, current_app, has_request_context, request, session

from .extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        asked = request.args.get("lang")
        if asked in languages:
            session["lang"] = asked
            return asked
        if session.get("lang") in languages:
            return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_babel(app: Flask) -> None:
    translations = os.path.join(os.path.dirname(__file__), "translations")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translations)
    babel.init_app(app, locale_selector=select_locale,
                   default_timezone=app.config["TIMEZONE"])
