"""Meeting mode: a live quiz for the branch meeting, one host screen and the members'
phones, in two formats.

- points: a right answer scores round(1000 × (1 − t / 2T)), t the time taken (server
  clock) and T the question's time, so an instant right answer scores 1000 and one in
  the last moment 500; a wrong or missing answer scores 0. Ranking: score, then the
  smaller total time of right answers, then who joined first.
- bell ("Rung chuông vàng"): when a question is revealed, every player still standing
  whose answer is wrong or missing is eliminated, unless that would eliminate every
  one of them (then nobody is: the room plays on). The host may then ask a rescue
  question that only eliminated players answer; those who answer it right come back.
  Ranking: standing first, then right answers to the main questions, then the smaller
  total time of those, then who joined first. A player who joins after the first
  question joins eliminated (a rescue can bring him in).

The clock is the server's (`clock.utcnow`): a question's row holds its start and its
deadline, "time is up" is computed from them, and an answer that arrives after the
deadline plus MEETING_GRACE_SECONDS, after the reveal, while paused, or for another
question than the one asked, is refused. One answer per player and question (a unique
constraint): the first counts. Scores change only at the reveal, once (compare-and-set
on `revealed_at`), so nothing already scored changes afterwards.

Phones never see a choice id: a choice is named by an opaque token from
services.attempts.choice_tokens, keyed by the negated session id so that a meeting's tokens
share no permutation with any attempt's. Questions are never contest reserve
questions nor questions whose key a scheduled or open round seals (services.contests.sealing),
checked when the session is made and again when each question is asked.

Guests (by name, when the host allows) play but never count: they are left out of the
podium and of the branch's attendance.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ...clock import utcnow
from ...extensions import db
from ...models import Question, Section, Unit, User
from ...models.meeting import (MEETING_FORMATS, MeetingAnswer, MeetingPlayer, MeetingQuestion,
                               MeetingSession)
from .. import grading
from ..attempts import choice_tokens, draw_questions
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..contests.sealing import sealed_keys

MAX_QUESTIONS = 50
SECONDS_RANGE = (5, 120)
MAX_POINTS = 1000
LETTERS = "ABCDEFGH"
GUEST_NAME_MAX = 60
PODIUM = 3


# ---------------------------------------------------------------- creating

@dataclass
class SessionSpec:
    title: str
    format: str = "points"
    question_seconds: int = 20
    allow_guests: bool = False
    question_keys: list[str] = field(default_factory=list)
    section_keys: list[str] = field(default_factory=list)
    count: int = 10


def _new_pin() -> str:
    """Six digits no unfinished session uses."""
    for _attempt in range(50):
        pin = f"{secrets.randbelow(10 ** 6):06d}"
        taken = db.session.scalar(select(MeetingSession.id).where(
            MeetingSession.pin == pin, MeetingSession.phase != "finished"))
        if taken is None:
            return pin
    raise Conflict(_("No free PIN: end some sessions that are still open."))


def _hand_picked(keys: list[str], sealed: frozenset[str]) -> list[Question]:
    found = {q.key: q for q in db.session.execute(select(Question).where(
        Question.key.in_(keys), Question.is_current.is_(True),
        Question.status == "approved")).scalars()}
    unknown = [k for k in keys if k not in found]
    if unknown:
        raise DomainError(_("Unknown or unapproved question: %(keys)s", keys=", ".join(unknown)))
    held = [k for k in keys if found[k].reserve or k in sealed]
    if held:
        raise DomainError(_("These questions are kept for contest rounds and cannot be used "
                            "in a meeting: %(keys)s", keys=", ".join(held)))
    return [found[k] for k in keys]


def create_session(host: User, unit: Unit, spec: SessionSpec,
                   rng: random.Random | None = None) -> MeetingSession:
    """A session in the lobby, for `unit` (the caller has checked the host's scope),
    with the hand-picked questions in the given order, or `count` drawn from the
    sections (attempts.draw_questions). Raises DomainError for an unknown, reserve or
    sealed key, an empty draw, or a value out of range."""
    rng = rng or random.SystemRandom()
    if spec.format not in MEETING_FORMATS:
        raise DomainError(_("Unknown format."))
    if not SECONDS_RANGE[0] <= spec.question_seconds <= SECONDS_RANGE[1]:
        raise DomainError(_("Seconds per question must be between %(low)d and %(high)d.",
                            low=SECONDS_RANGE[0], high=SECONDS_RANGE[1]))
    keys = list(dict.fromkeys(k.strip() for k in spec.question_keys if k.strip()))
    if len(keys) > MAX_QUESTIONS or not 1 <= spec.count <= MAX_QUESTIONS:
        raise DomainError(_("A session has between 1 and %(num)d questions.", num=MAX_QUESTIONS))
    sealed = sealed_keys()
    if keys:
        questions = _hand_picked(keys, sealed)
    else:
        questions = draw_questions(spec.section_keys or None, spec.count, rng, exclude_keys=sealed)
        if not questions:
            raise DomainError(_("No question can be drawn from these sections now."))
    session = MeetingSession(
        unit_id=unit.id, host_id=host.id, title=spec.title.strip()[:200] or _("Branch meeting quiz"),
        format=spec.format, pin=_new_pin(), allow_guests=spec.allow_guests,
        question_seconds=spec.question_seconds, section_keys=",".join(spec.section_keys)[:500])
    db.session.add(session)
    db.session.flush()
    for position, question in enumerate(questions):
        db.session.add(_frozen(session, question, position, rng))
    db.session.flush()
    return session


def _frozen(session: MeetingSession, question: Question, position: int, rng: random.Random,
            rescue: bool = False) -> MeetingQuestion:
    ids = [c.id for c in question.choices]
    if question.kind != "truefalse":
        rng.shuffle(ids)
    return MeetingQuestion(session_id=session.id, position=position, question_id=question.id,
                           choice_order=",".join(map(str, ids)), is_rescue=rescue)


# ---------------------------------------------------------------- finding

def may_host(user: User, session: MeetingSession) -> bool:
    """Organizers host any session; a secretary, sessions of his unit's subtree."""
    if user.has_role("organizer"):
        return True
    return user.role == "secretary" and session.unit.path.startswith(user.unit.path)


def get_hosted(user: User, session_id: int) -> MeetingSession:
    """The session if `user` may host it; NotFound otherwise (ids are not confirmed)."""
    session = db.session.get(MeetingSession, session_id)
    if session is None or not may_host(user, session):
        raise NotFound(_("Session not found."))
    return session


def hosted_sessions(user: User, limit: int = 50) -> list[MeetingSession]:
    """Sessions the user may host, unfinished first, newest first."""
    query = select(MeetingSession).join(Unit, Unit.id == MeetingSession.unit_id)
    if not user.has_role("organizer"):
        query = query.where(Unit.path.startswith(user.unit.path, autoescape=True))
    return list(db.session.execute(query.order_by(
        (MeetingSession.phase == "finished"), MeetingSession.id.desc()).limit(limit)).scalars())


class UnknownPin(NotFound):
    pass


def by_pin(pin: str) -> MeetingSession:
    """The session a PIN opens. Unknown → UnknownPin (404, counted by the rate limit);
    the newest session with it finished → Conflict."""
    pin = (pin or "").strip()
    session = None
    if len(pin) == 6 and pin.isdigit():
        session = db.session.scalar(select(MeetingSession).where(MeetingSession.pin == pin)
                                    .order_by((MeetingSession.phase != "finished").desc(),
                                              MeetingSession.id.desc()).limit(1))
    if session is None:
        raise UnknownPin(_("No session has this PIN. Check the six digits on the screen."))
    if session.phase == "finished":
        raise Conflict(_("This session has ended. Ask the host for the PIN of the new one."))
    return session


def get_session(session_id: int) -> MeetingSession:
    session = db.session.get(MeetingSession, session_id)
    if session is None:
        raise NotFound(_("Session not found."))
    return session


def find_player(session: MeetingSession, user: User | None,
                guest_player_id: int | None) -> MeetingPlayer | None:
    """The caller's player row in this session: by account, else by the guest id kept
    in the signed session cookie."""
    if user is not None:
        return db.session.scalar(select(MeetingPlayer).where(
            MeetingPlayer.session_id == session.id, MeetingPlayer.user_id == user.id))
    if guest_player_id:
        player = db.session.get(MeetingPlayer, guest_player_id)
        if player is not None and player.session_id == session.id and player.user_id is None:
            return player
    return None


# ---------------------------------------------------------------- joining

def _asked_main(session: MeetingSession) -> int:
    return db.session.scalar(select(func.count()).select_from(MeetingQuestion).where(
        MeetingQuestion.session_id == session.id, MeetingQuestion.started_at.is_not(None),
        MeetingQuestion.is_rescue.is_(False))) or 0


def join(session: MeetingSession, user: User | None = None, guest_name: str | None = None,
         now: datetime | None = None) -> MeetingPlayer:
    """Join (or rejoin: the same row) as a member or, when the host allows, a guest.
    Raises Conflict for a finished session or a member already playing another
    unfinished one, Forbidden for a member outside the session's unit or a guest the
    host did not allow, DomainError for a missing guest name."""
    now = now or utcnow()
    if session.phase == "finished":
        raise Conflict(_("This session has ended. Ask the host for the PIN of the new one."))
    if user is not None:
        if not user.unit.path.startswith(session.unit.path):
            raise Forbidden(_("This session is for %(unit)s.", unit=session.unit.name))
        other = db.session.execute(select(MeetingSession).join(
            MeetingPlayer, MeetingPlayer.session_id == MeetingSession.id).where(
            MeetingPlayer.user_id == user.id, MeetingPlayer.left_at.is_(None),
            MeetingSession.phase != "finished", MeetingSession.id != session.id).limit(1)).scalar()
        if other is not None:
            raise Conflict(_("You are still playing in «%(title)s» (PIN %(pin)s). Leave that "
                             "session first.", title=other.title, pin=other.pin))
        player = find_player(session, user, None)
        if player is not None:
            player.left_at = None
            db.session.flush()
            return player
        player = MeetingPlayer(session_id=session.id, user_id=user.id, joined_at=now)
    else:
        if not session.allow_guests:
            raise Forbidden(_("This session is for logged-in members: log in to join."))
        name = " ".join((guest_name or "").split())[:GUEST_NAME_MAX]
        if not name:
            raise DomainError(_("Type your name to join as a guest."))
        player = MeetingPlayer(session_id=session.id, guest_name=name, joined_at=now)
    player.eliminated = session.format == "bell" and _asked_main(session) > 0
    db.session.add(player)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # The same member joining twice at once (two taps): the first row wins.
        player = find_player(session, user, None)
        if player is None:
            raise
    return player


def leave(player: MeetingPlayer, now: datetime | None = None) -> None:
    """The player leaves; what he scored stays. He may join again."""
    if player.left_at is None:
        player.left_at = now or utcnow()
        db.session.flush()


def active_elsewhere(user: User, session: MeetingSession) -> MeetingPlayer | None:
    """The user's player row in another unfinished session he has not left."""
    return db.session.scalar(select(MeetingPlayer).join(
        MeetingSession, MeetingSession.id == MeetingPlayer.session_id).where(
        MeetingPlayer.user_id == user.id, MeetingPlayer.left_at.is_(None),
        MeetingSession.phase != "finished", MeetingSession.id != session.id).limit(1))


# ---------------------------------------------------------------- the clock

def grace() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("MEETING_GRACE_SECONDS", 1.0)))


def current_question(session: MeetingSession) -> MeetingQuestion | None:
    if session.current_id is None:
        return None
    return db.session.get(MeetingQuestion, session.current_id)


def remaining_ms(session: MeetingSession, mq: MeetingQuestion | None, now: datetime) -> int:
    if mq is None or mq.deadline is None or mq.revealed_at is not None:
        return 0
    if session.paused_remaining_ms is not None:
        return session.paused_remaining_ms
    return max(0, int((mq.deadline - now).total_seconds() * 1000))


def effective_phase(session: MeetingSession, mq: MeetingQuestion | None, now: datetime) -> str:
    """The session's phase, with "question" read as "paused" or "closed" (time up, not
    yet revealed) from the clock."""
    if session.phase == "question" and mq is not None:
        if session.paused_remaining_ms is not None:
            return "paused"
        if mq.deadline is not None and now >= mq.deadline:
            return "closed"
    return session.phase


# ---------------------------------------------------------------- the host's actions

def _expect(session: MeetingSession, *phases: str) -> None:
    if session.phase not in phases:
        raise Conflict(_("The session has moved on; the screen shows where it is now."))


def _ask(session: MeetingSession, mq: MeetingQuestion, now: datetime) -> None:
    mq.started_at = now
    mq.deadline = now + timedelta(seconds=session.question_seconds)
    session.current_id = mq.id
    session.phase = "question"
    session.paused_remaining_ms = None
    session.started_at = session.started_at or now


def _next_main(session: MeetingSession, now: datetime) -> MeetingQuestion | None:
    """The next main question not asked yet, skipping (and marking) any whose key a
    contest round has sealed since the session was made."""
    pending = list(db.session.execute(select(MeetingQuestion).options(
        selectinload(MeetingQuestion.question)).where(
        MeetingQuestion.session_id == session.id, MeetingQuestion.is_rescue.is_(False),
        MeetingQuestion.started_at.is_(None), MeetingQuestion.skipped.is_(False))
        .order_by(MeetingQuestion.position)).scalars())
    if not pending:
        return None
    sealed = sealed_keys(now)
    for mq in pending:
        if mq.question.key in sealed or mq.question.reserve:
            mq.skipped = True
            continue
        return mq
    return None


def start(session: MeetingSession, now: datetime | None = None) -> None:
    """Lobby → the first question."""
    _expect(session, "lobby")
    next_question(session, now, _from_lobby=True)


def next_question(session: MeetingSession, now: datetime | None = None, *,
                  _from_lobby: bool = False) -> None:
    """After the reveal or the leaderboard: ask the next main question, or finish when
    none is left."""
    now = now or utcnow()
    if not _from_lobby:
        _expect(session, "reveal", "leaderboard")
    mq = _next_main(session, now)
    if mq is None:
        _finish(session, now)
    else:
        _ask(session, mq, now)
    db.session.flush()


def pause(session: MeetingSession, now: datetime | None = None) -> None:
    """Stop the question's clock (answers wait until it resumes)."""
    now = now or utcnow()
    _expect(session, "question")
    mq = current_question(session)
    if session.paused_remaining_ms is None and mq is not None:
        left = remaining_ms(session, mq, now)
        if left <= 0:
            raise Conflict(_("Time is already up for this question."))
        session.paused_remaining_ms = left
        db.session.flush()


def resume(session: MeetingSession, now: datetime | None = None) -> None:
    now = now or utcnow()
    _expect(session, "question")
    mq = current_question(session)
    if session.paused_remaining_ms is not None and mq is not None:
        mq.deadline = now + timedelta(milliseconds=session.paused_remaining_ms)
        session.paused_remaining_ms = None
        db.session.flush()


def reveal(session: MeetingSession, now: datetime | None = None) -> None:
    """Close the current question (early, if the host wishes) and score it: points,
    eliminations, rescues. Once: a second reveal changes nothing."""
    now = now or utcnow()
    _expect(session, "question")
    mq = db.session.execute(select(MeetingQuestion).where(
        MeetingQuestion.id == session.current_id).with_for_update()).scalar_one()
    if mq.revealed_at is None:
        mq.revealed_at = now
        if mq.deadline is None or mq.deadline > now:
            mq.deadline = now
        _score(session, mq)
    session.phase = "reveal"
    session.paused_remaining_ms = None
    db.session.flush()


def _score(session: MeetingSession, mq: MeetingQuestion) -> None:
    players = {p.id: p for p in db.session.execute(select(MeetingPlayer).where(
        MeetingPlayer.session_id == session.id)).scalars()}
    answers = {a.player_id: a for a in db.session.execute(select(MeetingAnswer).where(
        MeetingAnswer.meeting_question_id == mq.id)).scalars()}
    if mq.is_rescue:
        for player_id, answer in answers.items():
            if answer.correct and players[player_id].eliminated:
                players[player_id].eliminated = False
        return
    for player_id, answer in answers.items():
        if answer.correct:
            player = players[player_id]
            player.score += answer.points
            player.right_answers += 1
            player.right_ms += answer.elapsed_ms
    if session.format == "bell":
        standing = [p for p in players.values() if not p.eliminated]
        failing = [p for p in standing if not (p.id in answers and answers[p.id].correct)]
        if len(failing) < len(standing):
            for player in failing:
                player.eliminated = True


def show_leaderboard(session: MeetingSession) -> None:
    _expect(session, "reveal")
    session.phase = "leaderboard"
    db.session.flush()


def rescue(session: MeetingSession, now: datetime | None = None,
           rng: random.Random | None = None) -> None:
    """Ask a rescue question (bell format, after a reveal, with players out): one
    question not used in this session yet, drawn from the session's sections."""
    now = now or utcnow()
    rng = rng or random.SystemRandom()
    _expect(session, "reveal", "leaderboard")
    if session.format != "bell":
        raise Conflict(_("Rescue questions belong to the Golden Bell format."))
    out = db.session.scalar(select(func.count()).select_from(MeetingPlayer).where(
        MeetingPlayer.session_id == session.id, MeetingPlayer.eliminated.is_(True)))
    if not out:
        raise Conflict(_("Nobody is eliminated: there is no one to rescue."))
    used = set(db.session.execute(select(Question.key).join(
        MeetingQuestion, MeetingQuestion.question_id == Question.id).where(
        MeetingQuestion.session_id == session.id)).scalars())
    keys = [k for k in session.section_keys.split(",") if k]
    drawn = draw_questions(keys or None, 1, rng, exclude_keys=used | sealed_keys(now))
    if not drawn:
        raise Conflict(_("No question is left for a rescue."))
    position = 1000 + (db.session.scalar(select(func.count()).select_from(MeetingQuestion).where(
        MeetingQuestion.session_id == session.id)) or 0)
    mq = _frozen(session, drawn[0], position, rng, rescue=True)
    db.session.add(mq)
    db.session.flush()
    _ask(session, mq, now)
    db.session.flush()


def end(session: MeetingSession, now: datetime | None = None) -> None:
    """Finish now (a question still open is revealed and scored first)."""
    now = now or utcnow()
    if session.phase == "finished":
        return
    if session.phase == "question":
        reveal(session, now)
    _finish(session, now)
    db.session.flush()


def _finish(session: MeetingSession, now: datetime) -> None:
    session.phase = "finished"
    session.finished_at = now
    session.paused_remaining_ms = None


HOST_ACTIONS = {
    "start": start, "next": next_question, "reveal": reveal, "leaderboard": show_leaderboard,
    "pause": pause, "resume": resume, "rescue": rescue, "end": end,
}


# ---------------------------------------------------------------- answering

def _namespace(session_id: int) -> int:
    # Attempt ids are positive: a negated session id never shares an attempt's key.
    return -session_id


def choice_order(mq: MeetingQuestion) -> list[int]:
    return [int(x) for x in mq.choice_order.split(",") if x]


def points_for(elapsed_ms: int, total_ms: int) -> int:
    """1000 × (1 − t / 2T), t clamped to [0, T]: 1000 at once, 500 at the buzzer."""
    t = min(max(elapsed_ms, 0), total_ms)
    return round(MAX_POINTS * (1 - t / (2 * total_ms)))


def may_answer(player: MeetingPlayer, mq: MeetingQuestion) -> bool:
    return player.eliminated if mq.is_rescue else not player.eliminated


def answer(session: MeetingSession, player: MeetingPlayer, meeting_question_id: int,
           tokens: list[int], now: datetime | None = None) -> MeetingAnswer:
    """Record the player's first answer to the question being asked. Refused
    (Conflict) when it is not the question being asked, the session is paused, the
    time is up (deadline + MEETING_GRACE_SECONDS), the player already answered, or he
    may not answer it (eliminated; a rescue question for one still standing);
    DomainError for a choice that is no token of this question."""
    now = now or utcnow()
    if player.session_id != session.id:
        raise NotFound(_("Session not found."))
    if session.phase != "question" or session.current_id != meeting_question_id:
        raise Conflict(_("This question is over; your phone now shows where the session is."))
    # Shared lock: the reveal (FOR UPDATE) waits for answers being written, and an
    # answer that comes after it sees revealed_at.
    mq = db.session.execute(select(MeetingQuestion).where(
        MeetingQuestion.id == meeting_question_id).with_for_update(read=True)).scalar_one()
    if mq.revealed_at is not None:
        raise Conflict(_("This question is over; your phone now shows where the session is."))
    if session.paused_remaining_ms is not None:
        raise Conflict(_("The host has paused the game: answer when it resumes."))
    if now > mq.deadline + grace():
        raise Conflict(_("Too late: time was up for this question. Your answer was not counted."))
    if not may_answer(player, mq):
        raise Conflict(_("The rescue question is for eliminated players only.") if mq.is_rescue
                       else _("You are eliminated: wait for a rescue question."))
    if _existing(player.id, mq.id) is not None:
        raise Conflict(_("You have already answered: your first answer counts."))
    question = db.session.execute(select(Question).options(selectinload(Question.choices))
                                  .where(Question.id == mq.question_id)).scalar_one()
    order = choice_order(mq)
    chosen = set(choice_tokens.choice_ids(_namespace(session.id), question.id, list(tokens)))
    if not chosen or not chosen <= set(order) or (len(chosen) > 1 and not grading.selects_many(question.kind)):
        raise DomainError(_("Choose one of the answers shown."))
    # Meeting mode has no partial credit: an answer short of the full mark is wrong
    # (the rules shown to players say so).
    correct = grading.grade(question.kind, {c.id for c in question.choices if c.is_correct}, chosen,
                            grading.choice_fractions(question.choices))
    total_ms = session.question_seconds * 1000
    elapsed = max(0, total_ms - int((mq.deadline - now).total_seconds() * 1000))
    row = MeetingAnswer(player_id=player.id, meeting_question_id=mq.id,
                        choice_ids=",".join(str(c) for c in sorted(chosen)), answered_at=now,
                        elapsed_ms=min(elapsed, total_ms), correct=correct,
                        points=points_for(elapsed, total_ms) if correct and session.format == "points"
                        and not mq.is_rescue else 0)
    db.session.add(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("You have already answered: your first answer counts.")) from None
    return row


def _existing(player_id: int, mq_id: int) -> MeetingAnswer | None:
    return db.session.scalar(select(MeetingAnswer).where(
        MeetingAnswer.player_id == player_id, MeetingAnswer.meeting_question_id == mq_id))


# ---------------------------------------------------------------- reading the state

def ranking(session: MeetingSession, limit: int | None = None,
            members_only: bool = False) -> list[MeetingPlayer]:
    """Players in ranking order (see the module's rules); one query."""
    query = select(MeetingPlayer).options(selectinload(MeetingPlayer.user)).where(
        MeetingPlayer.session_id == session.id)
    if members_only:
        query = query.where(MeetingPlayer.user_id.is_not(None))
    if session.format == "bell":
        order = (MeetingPlayer.eliminated, MeetingPlayer.right_answers.desc(),
                 MeetingPlayer.right_ms, MeetingPlayer.id)
    else:
        order = (MeetingPlayer.score.desc(), MeetingPlayer.right_ms, MeetingPlayer.id)
    query = query.order_by(*order)
    if limit:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def podium(session: MeetingSession) -> list[MeetingPlayer]:
    """The first three members (guests never count). In the bell format only players
    still standing win; if none stands, the best of the rest."""
    return ranking(session, PODIUM, members_only=True)


@dataclass
class ShownChoice:
    token: int
    letter: str
    text: str
    right: bool = False
    count: int = 0


@dataclass
class QuestionView:
    mq: MeetingQuestion
    number: int
    total: int
    prompt: str
    kind: str
    choices: list[ShownChoice]
    explanation: str = ""
    answered: int = 0
    eligible: int = 0


def _question_view(session: MeetingSession, mq: MeetingQuestion, revealed: bool) -> QuestionView:
    question = db.session.execute(select(Question).options(selectinload(Question.choices))
                                  .where(Question.id == mq.question_id)).scalar_one()
    by_id = {c.id: c for c in question.choices}
    order = choice_order(mq)
    tokens = choice_tokens.tokens(_namespace(session.id), question.id, order)
    choices = [ShownChoice(token=t, letter=LETTERS[i % len(LETTERS)], text=by_id[cid].text,
                           right=revealed and by_id[cid].is_correct)
               for i, (cid, t) in enumerate(zip(order, tokens))]
    main_total = db.session.scalar(select(func.count()).select_from(MeetingQuestion).where(
        MeetingQuestion.session_id == session.id, MeetingQuestion.is_rescue.is_(False),
        MeetingQuestion.skipped.is_(False))) or 0
    number = _asked_main(session) if not mq.is_rescue else 0
    return QuestionView(mq=mq, number=number, total=main_total, prompt=question.prompt,
                        kind=question.kind, choices=choices,
                        explanation=question.explanation if revealed else "")


def _distribution(view: QuestionView, session: MeetingSession) -> None:
    order = choice_order(view.mq)
    counts: dict[int, int] = {}
    for (ids,) in db.session.execute(select(MeetingAnswer.choice_ids).where(
            MeetingAnswer.meeting_question_id == view.mq.id)):
        for cid in ids.split(","):
            counts[int(cid)] = counts.get(int(cid), 0) + 1
    for cid, shown in zip(order, view.choices):
        shown.count = counts.get(cid, 0)


def answered_count(mq: MeetingQuestion) -> int:
    return db.session.scalar(select(func.count()).select_from(MeetingAnswer).where(
        MeetingAnswer.meeting_question_id == mq.id)) or 0


def eligible_count(session: MeetingSession, mq: MeetingQuestion) -> int:
    query = select(func.count()).select_from(MeetingPlayer).where(
        MeetingPlayer.session_id == session.id, MeetingPlayer.left_at.is_(None))
    if session.format == "bell":
        query = query.where(MeetingPlayer.eliminated.is_(mq.is_rescue))
    return db.session.scalar(query) or 0


def player_count(session: MeetingSession) -> int:
    return db.session.scalar(select(func.count()).select_from(MeetingPlayer).where(
        MeetingPlayer.session_id == session.id, MeetingPlayer.left_at.is_(None))) or 0


def version(session: MeetingSession, mq: MeetingQuestion | None, now: datetime,
            players: int | None = None) -> str:
    """What a screen shows changes exactly when this string does."""
    parts = [effective_phase(session, mq, now), str(session.current_id or 0)]
    if players is not None:
        parts.append(str(players))
    return ":".join(parts)


@dataclass
class HostView:
    session: MeetingSession
    phase: str
    question: QuestionView | None
    players: list[MeetingPlayer]
    remaining_ms: int
    version: str
    newly_out: int = 0
    standing: int = 0


def host_view(session: MeetingSession, now: datetime | None = None) -> HostView:
    now = now or utcnow()
    mq = current_question(session)
    phase = effective_phase(session, mq, now)
    view = None
    if mq is not None and phase != "lobby":
        view = _question_view(session, mq, revealed=mq.revealed_at is not None)
        if mq.revealed_at is not None:
            _distribution(view, session)
        view.answered = answered_count(mq)
        view.eligible = eligible_count(session, mq)
    if phase == "lobby":
        players = list(db.session.execute(select(MeetingPlayer).options(selectinload(MeetingPlayer.user))
                                          .where(MeetingPlayer.session_id == session.id,
                                                 MeetingPlayer.left_at.is_(None))
                                          .order_by(MeetingPlayer.id)).scalars())
    elif phase == "finished":
        players = ranking(session)
    else:
        players = ranking(session, 10)
    standing = 0
    if session.format == "bell":
        standing = db.session.scalar(select(func.count()).select_from(MeetingPlayer).where(
            MeetingPlayer.session_id == session.id, MeetingPlayer.eliminated.is_(False))) or 0
    return HostView(session=session, phase=phase, question=view, players=players,
                    remaining_ms=remaining_ms(session, mq, now),
                    version=version(session, mq, now, len(players) if phase == "lobby" else None),
                    standing=standing)


@dataclass
class PlayerView:
    session: MeetingSession
    player: MeetingPlayer
    phase: str
    question: QuestionView | None
    remaining_ms: int
    version: str
    my_answer: MeetingAnswer | None = None
    my_choices: list[str] = field(default_factory=list)
    may_answer: bool = False
    rank: int | None = None
    podium: list[MeetingPlayer] = field(default_factory=list)


def player_view(session: MeetingSession, player: MeetingPlayer,
                now: datetime | None = None) -> PlayerView:
    """What the phone shows. Nothing in it says which choice is right before the
    reveal; the player's own result appears only after it."""
    now = now or utcnow()
    mq = current_question(session)
    phase = effective_phase(session, mq, now)
    view = PlayerView(session=session, player=player, phase=phase, question=None,
                      remaining_ms=remaining_ms(session, mq, now), version=version(session, mq, now))
    if mq is not None and phase not in ("lobby", "finished"):
        revealed = mq.revealed_at is not None
        view.question = _question_view(session, mq, revealed=revealed)
        view.my_answer = _existing(player.id, mq.id)
        view.may_answer = may_answer(player, mq)
        if view.my_answer is not None:
            mine = {int(c) for c in view.my_answer.choice_ids.split(",")}
            view.my_choices = [c.letter for c, cid in zip(view.question.choices, choice_order(mq))
                               if cid in mine]
    if phase in ("leaderboard", "finished", "reveal"):
        order = [p.id for p in ranking(session)]
        view.rank = order.index(player.id) + 1 if player.id in order else None
    if phase == "finished":
        view.podium = podium(session)
    return view


def poll_state(session: MeetingSession, host: bool = False, now: datetime | None = None) -> dict:
    """state_json without building the screen: the session and its current question,
    plus (for the host) the answer and player counts. What the pages poll each second."""
    now = now or utcnow()
    mq = current_question(session)
    phase = effective_phase(session, mq, now)
    players = player_count(session) if host and phase == "lobby" else None
    out = {"v": version(session, mq, now, players), "phase": phase,
           "remaining_ms": remaining_ms(session, mq, now)}
    if host:
        out["players"] = players
        if mq is not None and phase in ("question", "paused", "closed"):
            out["answered"] = answered_count(mq)
            out["eligible"] = eligible_count(session, mq)
    return out



ASKING = ("question", "paused", "closed")


def player_state(session: MeetingSession, player: MeetingPlayer, now: datetime | None = None,
                 known_version: str | None = None) -> dict:
    """poll_state for one phone: while a question is asked (or paused, or its time is
    up), the player's own answer ("mine": answered, its letters, may he answer) and,
    unless the phone already shows this version (`known_version`), the question itself
    — prompt and choice tokens, letters and texts, never which is right (that stays for
    the reveal's page) — so the phone shows it without reloading its page."""
    now = now or utcnow()
    out = poll_state(session, now=now)
    mq = current_question(session)
    if mq is None or out["phase"] not in ASKING:
        return out
    mine = _existing(player.id, mq.id)
    chosen = {int(c) for c in mine.choice_ids.split(",")} if mine is not None else set()
    out["mine"] = {"answered": mine is not None, "may_answer": may_answer(player, mq), "rescue": mq.is_rescue,
                   "letters": [LETTERS[i % len(LETTERS)] for i, cid in enumerate(choice_order(mq))
                               if cid in chosen]}
    if out["v"] != known_version:
        view = _question_view(session, mq, revealed=False)
        out["question"] = {
            "id": mq.id, "rescue": mq.is_rescue, "number": view.number, "total": view.total,
            "prompt": view.prompt, "multiple": view.kind == "multiple",
            "choices": [{"token": c.token, "letter": c.letter, "text": c.text} for c in view.choices]}
    return out

# ---------------------------------------------------------------- the branch's record

@dataclass
class BranchMeetings:
    sessions: list[tuple[MeetingSession, int]]
    members: list[tuple[User, int]]


def branch_meetings(unit: Unit, limit: int = 20) -> BranchMeetings:
    """Sessions held (started) for this unit's subtree with their member players, and
    the members of the subtree who took part, with how many sessions each (guests
    never count). Two queries."""
    members_in = (select(MeetingPlayer.session_id, func.count().label("n"))
                  .where(MeetingPlayer.user_id.is_not(None)).group_by(MeetingPlayer.session_id)
                  .subquery())
    rows = db.session.execute(
        select(MeetingSession, func.coalesce(members_in.c.n, 0))
        .join(Unit, Unit.id == MeetingSession.unit_id)
        .outerjoin(members_in, members_in.c.session_id == MeetingSession.id)
        .where(Unit.path.startswith(unit.path, autoescape=True), MeetingSession.started_at.is_not(None))
        .order_by(MeetingSession.started_at.desc()).limit(limit)).all()
    people = db.session.execute(
        select(User, func.count(func.distinct(MeetingPlayer.session_id)))
        .join(MeetingPlayer, MeetingPlayer.user_id == User.id)
        .join(MeetingSession, MeetingSession.id == MeetingPlayer.session_id)
        .join(Unit, Unit.id == User.unit_id)
        .where(Unit.path.startswith(unit.path, autoescape=True), MeetingSession.started_at.is_not(None))
        .group_by(User.id).order_by(User.full_name)).all()
    return BranchMeetings(sessions=[(s, n) for s, n in rows], members=[(u, n) for u, n in people])


def section_choices() -> list[Section]:
    """Top-level outline sections, for the draw form."""
    return list(db.session.execute(select(Section).where(Section.depth <= 1)
                                   .order_by(Section.position)).scalars())


def host_units(user: User) -> list[Unit]:
    """Units the user may hold a session for: all (organizers) or his subtree."""
    query = select(Unit)
    if not user.has_role("organizer"):
        query = query.where(Unit.path.startswith(user.unit.path, autoescape=True))
    return list(db.session.execute(query.order_by(Unit.path)).scalars())
