"""The audit log: one row per change that someone may later ask about."""
from __future__ import annotations

import json

from ...extensions import db
from ...models import AuditLog, User


def log(actor: User | None, action: str, target: str, detail: dict | None = None,
        reason: str = "") -> AuditLog:
    entry = AuditLog(actor_id=actor.id if actor else None, action=action, target=target,
                     detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
                     reason=reason)
    db.session.add(entry)
    return entry
