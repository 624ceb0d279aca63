"""Language: Vietnamese by default, English on request (?lang=en, remembered in the
session). Compiled catalogs (.mo) are build products, not in git: a catalog that is
missing or older than its .po is compiled when the app starts."""
from __future__ import annotations

import os
from pathlib import Path
import tempfile

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_translations
from jinja2 import pass_context

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


def compile_catalogs(directory: str | Path) -> list[Path]:
    """Compile every <lang>/LC_MESSAGES/*.po under `directory` whose .mo is missing or
    older, as `make translations` does (fuzzy entries included). Returns the .mo files
    written. Each is written to a temporary file and renamed, so workers starting
    together never read half a catalog. Raises RuntimeError, saying how to compile them
    by hand, when the directory cannot be written."""

    written = []
    for po_path in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        locale = po_path.parent.parent.name
        try:
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            fd, tmp_name = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    write_mo(handle, catalog, use_fuzzy=True)
                os.chmod(tmp_name, 0o644)
                os.replace(tmp_name, mo_path)
            except BaseException:
                os.unlink(tmp_name)
                raise
        except OSError as exc:
            raise RuntimeError(
                f"The message catalog {mo_path} is missing or older than {po_path.name} and "
                f"cannot be compiled here ({exc}). Compile the catalogs with `make translations` "
                f"(pybabel compile --use-fuzzy -d {directory}) and start again.") from exc
        written.append(mo_path)
    return written


def init_babel(app: Flask) -> None:
    translations = os.path.join(os.path.dirname(__file__), "translations")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translations)
    for directory in app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";"):
        for mo_path in compile_catalogs(directory):
            app.logger.info("compiled the message catalog %s", mo_path)
    babel.init_app(app, locale_selector=select_locale,
                   default_timezone=app.config["TIMEZONE"])
    # Templates translate through the catalog fetched once per render (a context
    # processor) instead of Flask-Babel's lookup of request, locale and catalog cache
    # for every string: a quiz page has some sixty strings, and that lookup was a fifth
    # of its rendering in the profile (benchmarks/REPORT.md).
    app.context_processor(lambda: {TEMPLATE_TRANSLATIONS: get_translations()})
    app.jinja_env.install_gettext_callables(
        gettext=_template_gettext, ngettext=_template_ngettext, newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n))


TEMPLATE_TRANSLATIONS = "_quizapp_translations"


def _translations_of(context):
    translations = context.get(TEMPLATE_TRANSLATIONS)
    return translations if translations is not None else get_translations()


@pass_context
def _template_gettext(context, string: str) -> str:
    return _translations_of(context).ugettext(string)


@pass_context
def _template_ngettext(context, singular: str, plural: str, num: int) -> str:
    return _translations_of(context).ungettext(singular, plural, num)
