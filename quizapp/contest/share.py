"""The round outside the site (the ward's portal, Fanpage, Zalo groups, bulletin boards):
its short public address, the text to paste in Zalo, the QR code of a poster.

Addresses come from PUBLIC_URL only, never from the request's Host header (which whoever
sends the request chooses): a link in a poster or a Zalo group must not point elsewhere."""
from __future__ import annotations

import segno
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..models import Round
from ..templating import local_time

# A QR module of 10 px in the SVG's own units; the print CSS sets the size on paper.
QR_SCALE = 10


def short_url(round_: Round) -> str | None:
    """PUBLIC_URL + /r/<id>, the round's public page; None when PUBLIC_URL is unset."""
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        return None
    return base + url_for("contest.round_public", round_id=round_.id)


def summary(round_: Round) -> str:
    """One line on the round for a link preview or a poster: the window and the size."""
    minutes = round_.time_limit_seconds // 60
    return _("Open from %(opens)s to %(closes)s: %(questions)s, %(minutes)s.",
             opens=local_time(round_.opens_at), closes=local_time(round_.closes_at),
             questions=ngettext("%(num)d question", "%(num)d questions", round_.question_count),
             minutes=ngettext("%(num)d minute", "%(num)d minutes", minutes))


def share_text(round_: Round) -> str:
    """The message an organizer pastes in a Zalo group or on the Fanpage."""
    url = short_url(round_) or _("[the contest site's address]")
    return "\n".join([
        _("Contest “%(contest)s” – %(round)s", contest=round_.contest.title, round=round_.title),
        summary(round_),
        _("Comrades, log in and take part here: %(url)s", url=url),
        _("No password yet? Ask your branch secretary."),
    ])


def qr_svg(url: str) -> str:
    """The QR code of `url` as inline SVG markup (no file, nothing fetched): a viewBox and
    no fixed size, so CSS sizes it; a title for screen readers."""
    return segno.make(url, error="m").svg_inline(scale=QR_SCALE, omitsize=True,
                                                  title=_("QR code: %(url)s", url=url))
