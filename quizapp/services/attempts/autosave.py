"""The quiz page's autosave as one SQL statement: the hottest write of a contest.

`autosave` applies, in SQL, the rules submit.save_answer applies in Python, and
returns None (having written nothing) whenever it cannot: the caller then runs the
general path, which applies every rule again and gives the member the reason.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import bindparam, case, literal, or_, select
from sqlalchemy.exc import DBAPIError

from ...clock import request_time, utcnow
from ...db_setup import autosave_engine
from ...models import Attempt, AttemptQuestion, Question, User
from ...models.attempts import IN_PROGRESS
from .. import grading
from .state import grace


@dataclass
class Autosaved:
    """What one autosave stored."""
    choice_ids: list[int]
    seconds_left: int | None


def autosave(user_id: int, session_version: int, attempt_id: int, question_id: int,
             choice_ids: list[int], seq: int | None = None,
             client: str | None = None) -> Autosaved | None:
    """The common case of the quiz page's autosave, the hottest write of a contest, as
    ONE statement committed on its own (no BEGIN/COMMIT round trips): the profile in
    benchmarks/REPORT.md showed the general path's seven statements, their building
    and the round trips to the database as most of an autosave's cost.

    The UPDATE of the answer row applies, in SQL, the rules `save_answer` applies in
    Python: the session's user is active and has this session version (a password
    change or deactivation still ends the session); the attempt is theirs, in progress
    and not past deadline + grace; the question is in the attempt and not locked by an
    immediate check; every choice is in its frozen choice order, and several only for a
    multiple-choice question; the sequence number is newer than this page's last one.
    The attempt's row is locked first (FOR UPDATE in a materialized CTE; SQLite
    serializes writers itself), as every save does, so a save never lands after a
    concurrent finish has graded.

    Returns None, having written nothing, when the UPDATE matched no row — any of
    those rules refused it, or the request is not that common case: the caller then
    runs the general path (`save_answer`), which applies every rule again and gives
    the member the reason."""
    now = request_time()  # the proxy's receive time when trusted (clock.request_time)
    mode = "none" if seq is None else "seq" if client is None else "seq_client"
    chosen = sorted(set(choice_ids))
    params = {"a_id": attempt_id, "u_id": user_id, "version": session_version,
              "q_id": question_id, "cutoff": now - grace(), "now": now,
              "value": ",".join(str(i) for i in chosen) or None, "seq": seq, "client": client}
    params.update({f"c{n}": f"%,{c},%" for n, c in enumerate(chosen)})
    engine = autosave_engine()
    if engine is None:  # a database too old for this statement: the general path
        return None
    try:
        with engine.connect() as conn:
            row = conn.execute(_autosave_statement(len(chosen), mode), params).one_or_none()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # The database dropped this idle connection (a restart, a failover): the
        # general path's pool pings before it uses one, so the member sees nothing.
        return None
    if row is None:
        return None
    seconds_left = None if row.deadline is None else \
        max(0, int((row.deadline - utcnow()).total_seconds()))  # left from now, not from receipt
    return Autosaved(chosen, seconds_left)


@functools.lru_cache(maxsize=64)
def _autosave_statement(choices: int, mode: str):
    """autosave's UPDATE for `choices` chosen ids and a sequence `mode` ("none", "seq",
    "seq_client"), built once per shape (building and cache-keying a statement per
    request was a sixth of an autosave in the profile)."""
    users, attempts_t = User.__table__, Attempt.__table__
    items, questions = AttemptQuestion.__table__, Question.__table__
    target = (select(attempts_t.c.id)
              .join(users, users.c.id == attempts_t.c.user_id)
              .where(attempts_t.c.id == bindparam("a_id"),
                     attempts_t.c.user_id == bindparam("u_id"),
                     attempts_t.c.status == IN_PROGRESS,
                     attempts_t.c.on_paper.is_(False),
                     attempts_t.c.deadline.is_(None)
                     | (attempts_t.c.deadline >= bindparam("cutoff", type_=attempts_t.c.deadline.type)),
                     users.c.active.is_(True),
                     users.c.session_version == bindparam("version"))
                # FOR NO KEY UPDATE on PostgreSQL: the strength an UPDATE of the row takes.
              .with_for_update(of=attempts_t, key_share=True)
              .cte("target").prefix_with("MATERIALIZED"))
    conditions = [items.c.attempt_id == bindparam("a_id"),  # the (attempt, question) index
                  items.c.attempt_id.in_(select(target.c.id)),
                  items.c.question_id == bindparam("q_id"),
                  items.c.locked.is_(False)]
    framed = literal(",").concat(items.c.choice_order).concat(",")
    conditions += [framed.like(bindparam(f"c{n}")) for n in range(choices)]
    if choices > 1:
        many = [kind.name for kind in grading.REGISTRY.values() if kind.selects_many]
        conditions.append(select(questions.c.id).where(
            questions.c.id == items.c.question_id,
            or_(*(questions.c.kind == kind for kind in many))).exists())
    now = bindparam("now", type_=items.c.answered_at.type)
    value = bindparam("value", type_=items.c.selected.type)
    values = {"selected": value,
              "answered_at": case((items.c.selected.is_distinct_from(value), now),
                                  else_=items.c.answered_at)}
    if mode != "none":
        seq = bindparam("seq", type_=items.c.save_seq.type)
        newer = items.c.save_seq.is_(None) | (items.c.save_seq < seq)
        if mode == "seq_client":
            client = bindparam("client", type_=items.c.save_client.type)
            newer = newer | items.c.save_client.is_(None) | (items.c.save_client != client)
            values.update(save_seq=seq, save_client=client)
        else:
            values.update(save_seq=seq, save_client=None)
        conditions.append(newer)
    deadline = select(attempts_t.c.deadline).where(
        attempts_t.c.id == items.c.attempt_id).scalar_subquery()
    return items.update().where(*conditions).values(**values).returning(
        deadline.label("deadline"))
