"""Jinja filters and globals: local times, durations, scores."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .clock import utcnow
from .services.branches.standings import format_index
from .services.grading import REGISTRY, average_text, fraction_to_credit, points_text


def local_time(value: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return value.astimezone(zone).strftime(fmt)


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:.0f}%"
    return text


def decimal(value: float | None, places: int = 2) -> str:
    """A figure a person reads (a rate, a share, a statistic) with the Vietnamese decimal
    comma, like points and averages: 62.5 → "62,50"; None → "—". Files meant for other
    programs (CSV, JSON, xlsx numbers) keep their own number formats."""
    return "—" if value is None else f"{value:.{places}f}".replace(".", ",")


_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


def decimal_commas(text: str | None) -> str:
    """A computed text with numbers in it (an index, its arithmetic: "(50×50.00 + …) ÷
    100 = 62.00") as pages print it: every decimal point between digits a comma."""
    return "—" if text is None else _DECIMAL_POINT.sub(",", text)


def flag_label(flag: str) -> str:
    return {"no_explanation": _("no explanation"), "few_choices": _("fewer than 3 choices"),
            "duplicate_prompt": _("same text as another question"),
            "too_easy": _("too easy in contests"), "too_hard": _("too hard in contests"),
            "negative_discrimination": _("negative discrimination")}.get(flag, flag)


def switch_language_url(lang: str) -> str:
    args = dict(request.args)
    args["lang"] = lang
    return url_for(request.endpoint or "main.index", **(request.view_args or {}), **args)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["points"] = points_text   # hundredths of a question → "7,5"
    app.jinja_env.filters["average"] = average_text  # questions per participant → "5,25"
    app.jinja_env.filters["index"] = lambda value: decimal_commas(format_index(value))
    app.jinja_env.filters["decimal"] = decimal               # 62.5 → "62,50"
    app.jinja_env.filters["decimal_commas"] = decimal_commas  # "… = 62.00" → "… = 62,00"
    app.jinja_env.filters["reject_page"] = lambda args: {k: v for k, v in args.items() if k != "page"}
    app.jinja_env.globals["switch_language_url"] = switch_language_url
    app.jinja_env.globals["flag_label"] = flag_label
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["now_utc"] = utcnow
    app.jinja_env.globals["fraction_percent"] = fraction_to_credit
    app.jinja_env.globals["kind_label"] = lambda name: REGISTRY[name].label if name in REGISTRY else name
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
