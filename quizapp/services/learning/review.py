"""Daily review ("Ôn tập hôm nay"): a short set of questions a day, scheduled by FSRS.

The rules:
- Each member has one card per question key (ReviewCard), scheduled by the `fsrs`
  package. A card is answered at most once per local day (TIMEZONE): no learning steps,
  so a wrong answer comes back the next day (FSRS's shortest interval) rather than a few
  minutes later in the sitting where the member has just read the right answer; a right
  answer comes back after the interval FSRS gives its stability (days to months).
- Today's set holds REVIEW_DAILY_COUNT questions: the cards due by the end of the local
  day, most overdue first, then questions never reviewed, at most REVIEW_NEW_PER_DAY a
  day, taken in outline order (section position, then question id), so the sections are
  introduced one after the other. Answers already given today count against the set.
- Review serves only current, approved questions that are not contest reserve
  (Question.reserve) and whose key is not sealed by a scheduled or open round
  (sealing.sealed_keys): such a card waits, due, until the round closes.
- The grade given to FSRS comes from the answer and the time the server measured
  between serving the question and receiving the answer (a signed ticket in the page
  carries the serving time; the browser's clock is never read): wrong or empty → Again;
  right within REVIEW_EASY_SECONDS → Easy; right after REVIEW_HARD_SECONDS → Hard;
  right otherwise → Good.
- Choices are shown with per-serving tokens (services.attempts.choice_tokens under a namespace
  of negative numbers, which no attempt id uses), in the tokens' order: the page tells
  nothing about which choice is right nor about the author's order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from fsrs import Card, Rating, Scheduler
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, func, or_, select, update

from ...clock import utcnow
from ...extensions import db
from ...models import Choice, Question, ReviewCard, ReviewLog, Section, Unit, User
from ...models.org import ROSTER_ROLES
from .. import grading
from ..attempts import choice_tokens
from ..contests import answer_key
from ..errors import Conflict, DomainError, NotFound
from ..contests.sealing import KeySealed, sealed_keys, sealed_message

# No (re)learning steps: see the module's rules. Fuzzing (the library's default) spreads
# long intervals over a few days so the cards of one day do not all fall due together.
SCHEDULER = Scheduler(learning_steps=(), relearning_steps=())
ACTIVITY_DAYS = 7


# ---------------------------------------------------------------- days

def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_day(when: datetime) -> date:
    """The day in the configured zone at an aware instant."""
    return when.astimezone(_zone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a local day starts and the next one starts."""
    zone = _zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _practice() -> tuple:
    """What makes a question fit for review, besides its key not being sealed."""
    return (Question.is_current.is_(True), Question.status == "approved", Question.reserve.is_(False))


# ---------------------------------------------------------------- today's set

@dataclass
class Today:
    day: date
    daily: int            # questions in a day's set (REVIEW_DAILY_COUNT)
    done: int             # questions answered today
    due: list[ReviewCard]  # cards to serve today, next first; at most what is left of the set
    new: int              # never-reviewed questions that starting would add to the set now
    streak: int

    @property
    def left(self) -> int:
        return len(self.due) + self.new


def _due_cards(user: User, start: datetime, end: datetime, sealed: frozenset[str],
               limit: int) -> list[ReviewCard]:
    query = (select(ReviewCard)
             .join(Question, and_(Question.key == ReviewCard.question_key, *_practice()))
             .where(ReviewCard.user_id == user.id, ReviewCard.due < end,
                    or_(ReviewCard.last_review.is_(None), ReviewCard.last_review < start))
             .order_by(ReviewCard.due, ReviewCard.id).limit(limit))
    if sealed:
        query = query.where(ReviewCard.question_key.not_in(list(sealed)))
    return list(db.session.execute(query).scalars())


def _new_questions(user: User, sealed: frozenset[str], limit: int) -> list[Question]:
    seen = select(ReviewCard.question_key).where(ReviewCard.user_id == user.id)
    query = (select(Question).join(Section, Section.id == Question.section_id)
             .where(*_practice(), Question.key.not_in(seen))
             .order_by(Section.position, Question.id).limit(limit))
    if sealed:
        query = query.where(Question.key.not_in(list(sealed)))
    return list(db.session.execute(query).scalars())


def today(user: User, now: datetime | None = None) -> Today:
    """The member's set for his local day (a read: nothing is written). A handful of
    queries, whatever the size of the bank or of his history."""
    now = now or utcnow()
    day = local_day(now)
    start, end = day_bounds(day)
    config = current_app.config
    daily = int(config["REVIEW_DAILY_COUNT"])
    done = db.session.scalar(select(func.count(func.distinct(ReviewLog.card_id))).where(
        ReviewLog.user_id == user.id, ReviewLog.day == day)) or 0
    room = max(0, daily - done)
    sealed = sealed_keys(now)
    due = _due_cards(user, start, end, sealed, room) if room else []
    new = 0
    if room > len(due):
        introduced = db.session.scalar(select(func.count()).select_from(ReviewCard).where(
            ReviewCard.user_id == user.id, ReviewCard.created_at >= start,
            ReviewCard.created_at < end)) or 0
        allowed = min(room - len(due), max(0, int(config["REVIEW_NEW_PER_DAY"]) - introduced))
        if allowed:
            new = len(_new_questions(user, sealed, allowed))
    return Today(day, daily, done, due, new, streak(user, day))


def new_card(user: User, question_key: str, now: datetime) -> ReviewCard:
    """A card never reviewed, due now (not added to the session)."""
    # card_id is the library's own id; ours is the row's, so a constant will do (the
    # default would read the wall clock and sleep a millisecond).
    fresh = Card(card_id=0, due=now)
    return ReviewCard(user_id=user.id, question_key=question_key, fsrs_card=fresh.to_json(),
                      state=int(fresh.state), due=now, last_review=None, reps=0, lapses=0,
                      created_at=now)


def start_today(user: User) -> int:
    """Add to today's set the never-reviewed questions it has room for (see the rules);
    how many were added. Starting twice adds nothing more: the day's new cards count."""
    now = utcnow()
    plan = today(user, now)
    if not plan.new:
        return 0
    questions = _new_questions(user, sealed_keys(now), plan.new)
    for question in questions:
        db.session.add(new_card(user, question.key, now))
    db.session.flush()
    return len(questions)


def get_own_card(user: User, card_id: int) -> ReviewCard:
    """The member's card; NotFound for another member's or an unknown id alike."""
    card = db.session.get(ReviewCard, card_id)
    if card is None or card.user_id != user.id:
        raise NotFound(_("This review question does not exist or is not yours."))
    return card


# ---------------------------------------------------------------- serving and answering

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="quizapp review ticket")


def _namespace(card_id: int, reps: int) -> int:
    """The choice-token key of one serving: negative, so never an attempt's id; the
    answer count in it gives each serving of a card a fresh order."""
    return -(card_id * 4096 + reps % 4096)


def _current_question(key: str) -> Question | None:
    return db.session.execute(select(Question).where(Question.key == key, *_practice())).scalars().first()


@dataclass
class Serving:
    card: ReviewCard
    question: Question
    choices: list[tuple[int, Choice]]  # (token, choice), in the page's order
    ticket: str


def serve(card: ReviewCard, now: datetime | None = None) -> Serving:
    """The card's question as the page shows it, with the signed ticket the answer must
    carry back (card, question version, answer count, serving time)."""
    now = now or utcnow()
    question = _current_question(card.question_key)
    if question is None or card.question_key in sealed_keys(now):
        raise Conflict(_("This question is not in the review now."))
    ids = [c.id for c in question.choices]
    by_id = {c.id: c for c in question.choices}
    tokens = choice_tokens.tokens(_namespace(card.id, card.reps), question.id, ids)
    choices = sorted(((t, by_id[i]) for t, i in zip(tokens, ids)), key=lambda pair: pair[0])
    ticket = _serializer().dumps({"c": card.id, "q": question.id, "r": card.reps,
                                  "t": round(now.timestamp(), 3)})
    return Serving(card, question, choices, ticket)


def rating_for(correct: bool, seconds: float) -> Rating:
    """The FSRS grade of one answer (thresholds: REVIEW_EASY_SECONDS, REVIEW_HARD_SECONDS)."""
    if not correct:
        return Rating.Again
    if seconds <= current_app.config["REVIEW_EASY_SECONDS"]:
        return Rating.Easy
    if seconds > current_app.config["REVIEW_HARD_SECONDS"]:
        return Rating.Hard
    return Rating.Good


def _stale() -> DomainError:
    return DomainError(_("This question page is out of date. Here is today's review again."))


@dataclass
class Answered:
    log: ReviewLog | None
    counted: bool  # False: this serving had already been answered (a double submit)


def last_log(card: ReviewCard) -> ReviewLog | None:
    return db.session.execute(select(ReviewLog).where(ReviewLog.card_id == card.id)
                              .order_by(ReviewLog.id.desc()).limit(1)).scalars().first()


def answer(user: User, card: ReviewCard, ticket: str, values: list[str]) -> Answered:
    """Record the member's answer to the serving the ticket names: grade it, give the
    grade to FSRS, move the card on and log it. A second answer to the same serving
    changes nothing (compare-and-set on the card's answer count) and returns the first.

    Raises NotFound (not his card), DomainError (a ticket that is no ticket or names
    another card, no choice, a value that is not one of the question's choices),
    KeySealed (the key got sealed since the question was served), Conflict (the question
    left the review)."""
    if card.user_id != user.id:
        raise NotFound(_("This review question does not exist or is not yours."))
    try:
        data = _serializer().loads(ticket or "")
    except BadSignature:
        raise _stale() from None
    if not isinstance(data, dict) or data.get("c") != card.id:
        raise _stale()
    if card.reps != data.get("r"):
        return Answered(last_log(card), counted=False)
    now = utcnow().astimezone(timezone.utc)
    question = db.session.get(Question, data.get("q"))
    if question is None or question.key != card.question_key or _current_question(card.question_key) is None:
        raise Conflict(_("This question is not in the review now."))
    if card.question_key in sealed_keys(now):
        raise KeySealed(sealed_message())
    if not values:
        raise DomainError(_("Choose an answer first."))
    try:
        numbers = [int(v) for v in values]
    except (TypeError, ValueError):
        raise DomainError(_("That choice is not part of this question.")) from None
    chosen = set(choice_tokens.choice_ids(_namespace(card.id, card.reps), question.id, numbers))
    if not chosen <= {c.id for c in question.choices}:
        raise DomainError(_("That choice is not part of this question."))
    right = answer_key([question.id], questions=[question])[question.id] or set()
    fractions = grading.choice_fractions(question.choices) if right == {
        c.id for c in question.choices if c.is_correct} else None
    credit = grading.credit(question.kind, right, chosen, fractions)
    correct = credit == grading.FULL
    seconds = max(0.0, now.timestamp() - float(data.get("t", 0)))
    # Partly right (partial credit): recalled with difficulty, not forgotten.
    rating = rating_for(correct, seconds) if correct or not credit else Rating.Hard
    before = Card.from_json(card.fsrs_card)
    after, _log = SCHEDULER.review_card(before, rating, review_datetime=now,
                                        review_duration=int(seconds * 1000))
    moved = db.session.execute(
        update(ReviewCard).where(ReviewCard.id == card.id, ReviewCard.reps == card.reps)
        .values(fsrs_card=after.to_json(), state=int(after.state), due=after.due,
                last_review=now, reps=ReviewCard.reps + 1,
                lapses=ReviewCard.lapses + (1 if rating == Rating.Again and card.last_review else 0))
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        db.session.refresh(card)
        return Answered(last_log(card), counted=False)
    log = ReviewLog(card_id=card.id, user_id=user.id, question_id=question.id,
                    selected=",".join(str(i) for i in sorted(chosen)), correct=correct,
                    rating=int(rating), duration_ms=min(int(seconds * 1000), 2**31 - 1),
                    reviewed_at=now, day=local_day(now))
    db.session.add(log)
    db.session.flush()
    db.session.expire(card)
    return Answered(log, counted=True)


@dataclass
class Feedback:
    card: ReviewCard
    log: ReviewLog
    right: set[int]
    sealed: bool  # the key is sealed now: nothing about the answer is shown


def feedback(card: ReviewCard) -> Feedback | None:
    """The last answer to the card, with the key to show it against (none shown while
    the key is sealed). None when the card was never answered."""
    log = last_log(card)
    if log is None:
        return None
    if card.question_key in sealed_keys():
        return Feedback(card, log, set(), sealed=True)
    right = answer_key([log.question_id], questions=[log.question])[log.question_id] or set()
    return Feedback(card, log, right, sealed=False)


# ---------------------------------------------------------------- streak and mastery

def streak(user: User, day: date) -> int:
    """Consecutive local days with at least one review answer, ending today, or
    yesterday when today's set is not done yet (the streak is not lost before the day
    is over). One query."""
    days = list(db.session.execute(
        select(ReviewLog.day).where(ReviewLog.user_id == user.id, ReviewLog.day <= day)
        .distinct().order_by(ReviewLog.day.desc()).limit(3660)).scalars())
    if not days or days[0] < day - timedelta(days=1):
        return 0
    count, expected = 0, days[0]
    for seen in days:
        if seen != expected:
            break
        count += 1
        expected = seen - timedelta(days=1)
    return count


@dataclass
class SectionMastery:
    section: Section
    questions: int   # questions of the section (and its sub-sections) fit for review
    reviewed: int    # of which the member has a reviewed card
    mastery: float   # the mean FSRS retrievability over them (never reviewed: 0)


def mastery(user: User, now: datetime | None = None) -> list[SectionMastery]:
    """Per top-level section of the outline, in outline order: how much of it the member
    would recall now, by the model's retrievability. Three queries."""
    now = (now or utcnow()).astimezone(timezone.utc)
    sections = list(db.session.execute(select(Section).order_by(Section.position)).scalars())
    parent = {s.id: s.parent_id for s in sections}

    def root(section_id: int) -> int:
        while parent.get(section_id) is not None:
            section_id = parent[section_id]
        return section_id

    totals: dict[int, int] = {}
    for section_id, n in db.session.execute(select(Question.section_id, func.count())
                                            .where(*_practice()).group_by(Question.section_id)):
        totals[root(section_id)] = totals.get(root(section_id), 0) + n
    recall: dict[int, float] = {}
    reviewed: dict[int, int] = {}
    for state, section_id in db.session.execute(
            select(ReviewCard.fsrs_card, Question.section_id)
            .join(Question, and_(Question.key == ReviewCard.question_key, *_practice()))
            .where(ReviewCard.user_id == user.id, ReviewCard.last_review.is_not(None))):
        top = root(section_id)
        recall[top] = recall.get(top, 0.0) + SCHEDULER.get_card_retrievability(Card.from_json(state), now)
        reviewed[top] = reviewed.get(top, 0) + 1
    return [SectionMastery(s, totals[s.id], reviewed.get(s.id, 0), recall.get(s.id, 0.0) / totals[s.id])
            for s in sections if s.parent_id is None and totals.get(s.id)]


@dataclass
class HomeReview:
    today: Today
    mastery: list[SectionMastery]


def home(user: User) -> HomeReview:
    """What the home page shows of the review: today's set, the streak, mastery."""
    now = utcnow()
    return HomeReview(today(user, now), mastery(user, now))


# ---------------------------------------------------------------- branches

@dataclass
class BranchReview:
    days: int
    active_members: int  # roster members who answered at least one review question
    reviews: int         # review answers by them
    roster: int          # the branch's active roster (the participation denominator)


def branch_activity(unit: Unit, now: datetime | None = None, days: int = ACTIVITY_DAYS) -> BranchReview:
    """Review activity of a unit's own roster (members and secretaries of the unit, as on
    the branch page) over the last `days` days. One query."""
    since = (now or utcnow()) - timedelta(days=days)
    members, reviews = db.session.execute(
        select(func.count(func.distinct(ReviewLog.user_id)), func.count(ReviewLog.id))
        .join(User, User.id == ReviewLog.user_id)
        .where(User.unit_id == unit.id, User.role.in_(ROSTER_ROLES),
               ReviewLog.reviewed_at >= since)).one()
    return BranchReview(days, int(members or 0), int(reviews or 0), unit.active_roster)
