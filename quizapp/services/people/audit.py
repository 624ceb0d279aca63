"""The audit log: one row per change that someone may later ask about."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import AuditLog, User


def log(actor: User | None, action: str, target: str, detail: dict | None = None,
        reason: str = "") -> AuditLog:
    entry = AuditLog(actor_id=actor.id if actor else None, action=action, target=target,
                     detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
                     reason=reason)
    db.session.add(entry)
    return entry


# What each action code means, in words an organizer reads in the change log.
ACTION_LABELS = {
    "bank.drafts": _l("drafts generated for the bank"),
    "bank.import": _l("questions imported into the bank"),
    "contest.create": _l("contest created"),
    "contest.weights": _l("standings weights changed"),
    "question.create": _l("question created"),
    "question.edit": _l("question edited"),
    "question.new_version": _l("new version of the question"),
    "question.duplicate": _l("question duplicated"),
    "question.status": _l("question status changed"),
    "roster.activate": _l("member made active again"),
    "roster.deactivate": _l("member deactivated"),
    "roster.add": _l("member added"),
    "roster.exempt": _l("member exempted"),
    "roster.unexempt": _l("member counts again"),
    "roster.import": _l("roster imported"),
    "roster.reset_password": _l("password reset by the secretary"),
    "user.large_text": _l("large text turned on"),
    "user.normal_text": _l("large text turned off"),
    "round.create": _l("round created"),
    "round.update": _l("round settings changed"),
    "round.schedule": _l("round scheduled"),
    "round.unschedule": _l("round moved back to draft"),
    "round.close": _l("round closed early"),
    "round.extra_time": _l("a member's extra time granted or taken back"),
    "paper.print": _l("paper answer sheets printed"),
    "paper.enter": _l("a paper answer sheet entered"),
    "round.finalize": _l("round finalized"),
    "round.publish": _l("results published to members"),
    "round.prizes": _l("prizes confirmed"),
    "round.prizes.cleared": _l("confirmed prizes cleared"),
    "round.collective_prizes": _l("branch prizes confirmed"),
    "round.collective_prizes.cleared": _l("confirmed branch prizes cleared"),
    "round.question.void": _l("question voided"),
    "round.question.rekey": _l("right answer changed"),
}


def action_label(action: str) -> str:
    """The change log's words for an action code; an unknown code is shown as it is."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
