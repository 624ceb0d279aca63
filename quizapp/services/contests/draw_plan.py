"""Draw plans for contest rounds.

A plan is text, one rule a line:
    viewpoints: 2 each      → 2 questions from each child section of "viewpoints"
    breakthroughs: 1 each
    congress: 3             → 3 questions from the "congress" subtree
    targets: rest           → whatever the round still needs, from "targets"
    purpose recall: at most 20%        → the mix of what questions test (at most / at least)
Blank lines and lines starting with '#' are ignored. An empty plan draws from the whole
bank, spread across sections.

Two more rules hold for every draw. Questions that give each other away (a question's
`excludes`, either way round) never land in one attempt. And a plan without a `purpose`
line gets the contest default, DEFAULT_MIX: at most 20 % `recall`, kept whenever the
plan's section rules leave room for it (a rule on a section holding only recall
questions still draws them); an explicit `purpose` line is a hard rule that `check`
refuses to accept when the bank cannot meet it.

A round's pool ("all" or "reserve", Round.question_pool) says which approved questions
the plan draws from: all of them, contest reserve included, or the reserve only.
"""
from __future__ import annotations

import math
import random
import re
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, select

from ...extensions import db
from ...models import Choice, Question, Section
from ...models.bank import bank_revision_token
from ..attempts import ChoiceOrders
from ..errors import DomainError

PURPOSES = ("meaning", "application", "distinguish", "target", "recall")

# The plan's keywords, English and Vietnamese alike (a line is NFC-normalised and matched
# case-insensitively): "viewpoints: 2 câu mỗi mục", "targets: còn lại",
# "mục đích ghi nhớ: tối đa 20%" mean "viewpoints: 2 each", "targets: rest",
# "purpose recall: at most 20%".
EACH_WORDS = ("each", "mỗi mục", "mỗi phần", "mỗi")
REST_WORDS = ("rest", "phần còn lại", "còn lại")
COUNT_NOUNS = ("câu hỏi", "câu")        # optional after N: "3 câu" is "3"
PURPOSE_WORDS = ("purpose", "mục đích")
AT_MOST = ("at most", "max", "tối đa")
AT_LEAST = ("at least", "min", "tối thiểu")
PURPOSE_ALIASES = {"ý nghĩa": "meaning", "hiểu": "meaning", "vận dụng": "application",
                   "phân biệt": "distinguish", "chỉ tiêu": "target", "ghi nhớ": "recall"}


def _words(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w).replace("\\ ", r"\s+") for w in words)


RULE_RE = re.compile(rf"^\s*([a-z0-9][a-z0-9-]*)\s*:\s*(?:(\d+)\s*(?:(?:{_words(COUNT_NOUNS)})\s*)?"
                     rf"({_words(EACH_WORDS)})?|({_words(REST_WORDS)}))\s*$", re.IGNORECASE)
MIX_RE = re.compile(rf"^\s*(?:{_words(PURPOSE_WORDS)})\s+([^\W\d_]+(?:\s+[^\W\d_]+)?)\s*:\s*"
                    rf"({_words(AT_MOST + AT_LEAST)})\s*(\d{{1,3}})\s*%\s*$", re.IGNORECASE)


@dataclass
class Rule:
    section: str
    count: int | None  # None for "rest"
    each: bool = False
    line: int = 0


@dataclass
class MixRule:
    """At most / at least `percent` % of the round's questions test `purpose`. `soft`
    (the default mix only) yields to the plan's section rules."""
    purpose: str
    at_most: bool
    percent: int
    line: int = 0
    soft: bool = False

    def limit(self, question_count: int) -> int:
        share = self.percent * question_count / 100
        return math.floor(share) if self.at_most else math.ceil(share)


DEFAULT_MIX = (MixRule("recall", True, 20, soft=True),)


def _split(rules: list) -> tuple[list[Rule], list[MixRule]]:
    sections = [r for r in rules if isinstance(r, Rule)]
    mix = [r for r in rules if isinstance(r, MixRule)]
    return sections, mix or list(DEFAULT_MIX)


def parse(text: str) -> tuple[list, list[str]]:
    """Rules (Rule, MixRule) and line-numbered errors ("line 2: ...")."""
    rules: list = []
    errors: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = unicodedata.normalize("NFC", raw).strip()
        if not line or line.startswith("#"):
            continue
        mix = MIX_RE.match(line)
        if mix:
            purpose = " ".join(mix.group(1).lower().split())
            purpose = PURPOSE_ALIASES.get(purpose, purpose)
            how, percent = " ".join(mix.group(2).lower().split()), int(mix.group(3))
            if purpose not in PURPOSES or percent > 100:
                errors.append(_("line %(n)d: write 'purpose P: at most N%%' or 'purpose P: at least "
                                "N%%', P one of %(purposes)s", n=number, purposes=", ".join(PURPOSES)))
            else:
                rules.append(MixRule(purpose, how in AT_MOST, percent, number))
            continue
        match = RULE_RE.match(line)
        if not match:
            errors.append(_("line %(n)d: write 'section: N', 'section: N each' or 'section: rest'",
                            n=number))
            continue
        key, count, each, rest = match.groups()
        key = key.lower()
        rules.append(Rule(key, None if rest else int(count), bool(each), number))
    if sum(1 for r in rules if isinstance(r, Rule) and r.count is None) > 1:
        errors.append(_("only one 'rest' line is allowed"))
    return rules, errors


@dataclass(frozen=True, slots=True)
class _Section:
    """What a draw needs of a section (plain values: pools outlive the session)."""
    id: int
    key: str
    parent_id: int | None
    position: int
    depth: int


class _Pools:
    """Approved, current question ids per section subtree, of the round's pool. Never
    changed once built: `pools` shares one per bank revision and pool between requests."""

    def __init__(self, pool: str = "all") -> None:
        table = Section.__table__
        self.sections = {row.key: _Section(row.id, row.key, row.parent_id, row.position, row.depth)
                         for row in db.session.execute(select(
                             table.c.id, table.c.key, table.c.parent_id, table.c.position,
                             table.c.depth))}
        self.children: dict[int | None, list[_Section]] = {}
        for s in sorted(self.sections.values(), key=lambda s: s.position):
            self.children.setdefault(s.parent_id, []).append(s)
        self.by_section: dict[int, list[int]] = {}
        self.purpose: dict[int, str] = {}
        self.apart: dict[int, set[int]] = {}  # questions never drawn with this one
        ids: dict[str, int] = {}
        excludes: list[tuple[int, str]] = []
        query = select(Question.id, Question.section_id, Question.key, Question.purpose,
                       Question.excludes).where(
            Question.is_current.is_(True), Question.status == "approved")
        if pool == "reserve":
            query = query.where(Question.reserve.is_(True))
        for qid, sid, key, purpose, excluded in db.session.execute(query.order_by(Question.id)):
            self.by_section.setdefault(sid, []).append(qid)
            self.purpose[qid] = purpose or ""
            ids[key] = qid
            excludes.extend((qid, other) for other in (excluded or "").split(",") if other)
        for qid, other_key in excludes:
            other = ids.get(other_key)
            if other is not None:
                self.apart.setdefault(qid, set()).add(other)
                self.apart.setdefault(other, set()).add(qid)
        self._orders: dict[int, ChoiceOrders] | None = None
        self.pool = pool
        self.shared = False  # kept between requests (pools_for): read every question once

    def orders(self, question_ids: list[int]) -> list[ChoiceOrders]:
        """What freezing needs of these questions (kind, choice ids in the author's and
        in natural order), read once for the whole pool on the first start after a
        change of the bank (the revision token covers choices too), so that a contest
        start loads no question and no choice. A question the cache lacks (the bank
        changed between the pools' read and this one) is read on its own."""
        if self._orders is None and self.shared:
            self._orders = _read_orders(self._current())
        known = self._orders or {}
        missing = [qid for qid in question_ids if qid not in known]
        if missing:
            known = {**known, **_read_orders(Question.id.in_(missing))}
        return [known[qid] for qid in question_ids]

    def _current(self):
        """The pool's questions as a condition (no list of ids: a bank of any size)."""
        condition = and_(Question.is_current.is_(True), Question.status == "approved")
        return and_(condition, Question.reserve.is_(True)) if self.pool == "reserve" else condition

    def subtree(self, section: _Section) -> list[int]:
        out: list[int] = []
        stack = [section]
        while stack:
            node = stack.pop()
            out.extend(self.by_section.get(node.id, []))
            stack.extend(self.children.get(node.id, []))
        return out

    def all_ids(self) -> list[int]:
        return [qid for ids in self.by_section.values() for qid in ids]


def _read_orders(condition) -> dict[int, ChoiceOrders]:
    """ChoiceOrders of the questions `condition` selects: two statements."""
    kinds = dict(db.session.execute(select(Question.id, Question.kind).where(condition)).all())
    choices: dict[int, list[tuple[int, str]]] = {qid: [] for qid in kinds}
    for qid, cid, text in db.session.execute(
            select(Choice.question_id, Choice.id, Choice.text)
            .join(Question, Question.id == Choice.question_id).where(condition)
            .order_by(Choice.question_id, Choice.position, Choice.id)):
        if qid in choices:   # a question added between the two reads waits for the next
            choices[qid].append((cid, text))
    return {qid: ChoiceOrders.from_choices(qid, kind, choices[qid]) for qid, kind in kinds.items()}


# (bank revision token, pool) → _Pools: a start spike draws from pools built once per
# worker, not once per start. The token changes in the transaction of any write to the
# bank (models.bank.BankRevision), so the first draw after a committed change of the
# bank rebuilds them; a round's own settings (its plan, its pool) are read at each draw.
_POOLS: dict[tuple[str, str], _Pools] = {}
POOLS_CACHED = 8


def pools_for(pool: str = "all") -> _Pools:
    """The draw pools of the bank as this transaction sees it: one statement when they
    are cached for its revision, three when they are built."""
    token = bank_revision_token(db.session)
    if token is None:
        return _Pools(pool)
    found = _POOLS.get((token, pool))
    if found is None:
        if len(_POOLS) >= POOLS_CACHED:
            _POOLS.clear()
        found = _POOLS[(token, pool)] = _Pools(pool)
        found.shared = True
    return found


def _targets(rules: list[Rule], pools: "_Pools") -> list[tuple[_Section, int, Rule]]:
    """The fixed rules expanded ("each" → one target per child), deepest first: a rule on
    a sub-section is served before a rule on the section around it, so neither can take
    what the other needs."""
    out = []
    for rule in rules:
        section = pools.sections.get(rule.section)
        if section is None or rule.count is None:
            continue
        for target in (pools.children.get(section.id, []) if rule.each else [section]):
            out.append((target, rule.count, rule))
    return sorted(out, key=lambda t: -t[0].depth)


def _inside(inner: _Section, outer: _Section, pools: "_Pools") -> bool:
    node = inner
    while node is not None:
        if node.id == outer.id:
            return True
        node = next((s for s in pools.sections.values() if s.id == node.parent_id), None)
    return False


def check(rules: list, question_count: int, pool: str = "all") -> list[str]:
    """Errors that make the plan impossible against the current approved bank (its
    reserve only, for pool "reserve"). A plan
    that passes always draws `question_count` questions: the section counts are checked
    exactly (rules are served deepest first, each from what earlier rules left in its
    subtree), then a draw that spends capped purposes last shows that the purpose mix and
    the questions kept apart leave enough."""
    rules, mix = _split(rules)
    pools = pools_for(pool)
    errors: list[str] = []
    for rule in rules:
        section = pools.sections.get(rule.section)
        if section is None:
            errors.append(_("line %(n)d: unknown section '%(key)s'", n=rule.line, key=rule.section))
        elif rule.each and not pools.children.get(section.id):
            errors.append(_("line %(n)d: '%(key)s' has no sub-sections for 'each'",
                            n=rule.line, key=rule.section))
    if errors:
        return errors
    served: list[tuple[_Section, int]] = []
    fixed = 0
    for target, count, rule in _targets(rules, pools):
        taken = sum(n for s, n in served if _inside(s, target, pools))
        available = len(pools.subtree(target)) - taken
        if count > available:
            errors.append(_("line %(n)d: asks for %(want)d from '%(key)s', which has only "
                            "%(have)d approved questions left", n=rule.line, want=count,
                            key=target.key, have=max(0, available)))
        served.append((target, count))
        fixed += count
    rest = [r for r in rules if r.count is None]
    if fixed > question_count:
        errors.append(_("the plan asks for %(fixed)d questions but the round has %(count)d",
                        fixed=fixed, count=question_count))
    elif rules and not rest and fixed != question_count:
        errors.append(_("the plan gives %(fixed)d questions but the round has %(count)d: "
                        "add a 'section: rest' line or change the numbers",
                        fixed=fixed, count=question_count))
    for rule in rest:
        section = pools.sections[rule.section]
        taken = sum(n for s, n in served if _inside(s, section, pools))
        available = len(pools.subtree(section)) - taken
        if question_count - fixed > available:
            errors.append(_("line %(n)d: the rest (%(want)d) is more than '%(key)s' has "
                            "approved questions left (%(have)d)", n=rule.line,
                            want=question_count - fixed, key=rule.section, have=max(0, available)))
    if not rules and question_count > len(pools.all_ids()):
        errors.append(_("the bank has only %(have)d approved questions", have=len(pools.all_ids())))
    if not errors and _draw(rules, mix, pools, question_count, random.Random(0), spend_capped_last=True) is None:
        errors.append(_("the bank cannot fill this plan while keeping the purpose mix (%(mix)s) and "
                        "keeping apart the questions that give each other away; change the numbers",
                        mix=", ".join(f"{m.purpose} {'≤' if m.at_most else '≥'} {m.percent}%" for m in mix)))
    if errors and pool == "reserve":
        errors.append(_("this round draws from the contest reserve only: the numbers above "
                        "count reserve questions"))
    return errors


def pool_ids(rules: list, pool: str = "all") -> set[int]:
    """Every question id the plan could draw: the subtrees its section rules name (the
    whole pool for a plan without any). What a member might meet in the round."""
    rules, _mix = _split(rules)
    pools = pools_for(pool)
    if not rules:
        return set(pools.all_ids())
    out: set[int] = set()
    for rule in rules:
        section = pools.sections.get(rule.section)
        if section is not None:
            out.update(pools.subtree(section))
    return out


def _draw(rules: list[Rule], mix: list[MixRule], pools: "_Pools", question_count: int,
          rng: random.Random, spend_capped_last: bool) -> list[int] | None:
    """One draw, or None when the rules cannot all be met. Each pick takes, at random, a
    free question of the best rank: a purpose still under its minimum, then any purpose
    under its cap (with `spend_capped_last`, uncapped purposes first), then, for a soft
    cap only, one over it. A drawn question blocks the ones kept apart from it."""
    caps = {m.purpose: m for m in mix if m.at_most}
    minimums = {m.purpose: m.limit(question_count) for m in mix if not m.at_most}
    drawn: list[int] = []
    taken: set[int] = set()
    blocked: set[int] = set()
    counts: dict[str, int] = {}

    def rank(qid: int) -> int | None:
        purpose = pools.purpose.get(qid, "")
        if counts.get(purpose, 0) < minimums.get(purpose, 0):
            return 0
        cap = caps.get(purpose)
        if cap is None:
            return 1
        if counts.get(purpose, 0) < cap.limit(question_count):
            return 2 if spend_capped_last else 1
        return 3 if cap.soft else None

    def take(candidates: list[int], n: int) -> None:
        pool = [q for q in candidates if q not in taken]
        rng.shuffle(pool)
        for _i in range(n):
            best, best_rank = None, None
            for qid in pool:
                if qid in taken or qid in blocked:
                    continue
                r = rank(qid)
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = qid, r
            if best is None:
                return
            drawn.append(best)
            taken.add(best)
            blocked.update(pools.apart.get(best, ()))
            purpose = pools.purpose.get(best, "")
            counts[purpose] = counts.get(purpose, 0) + 1

    if not rules:
        buckets = [list(ids) for ids in pools.by_section.values()]
        rng.shuffle(buckets)
        while len(drawn) < question_count:
            before = len(drawn)
            for bucket in buckets:
                if len(drawn) < question_count:
                    take(bucket, 1)
            if len(drawn) == before:
                break
    else:
        for target, count, _rule in _targets(rules, pools):
            before = len(drawn)
            take(pools.subtree(target), count)
            if len(drawn) - before < count:
                return None
        for rule in rules:
            if rule.count is None:
                take(pools.subtree(pools.sections[rule.section]), question_count - len(drawn))
    if len(drawn) < question_count or any(
            counts.get(p, 0) < n for p, n in minimums.items()):
        return None
    return drawn[:question_count]


def draw_orders(rules: list, question_count: int, rng: random.Random,
                pool: str = "all") -> list[ChoiceOrders]:
    """`draw`, with what freezing needs of each drawn question, from the same pools."""
    pools = pools_for(pool)
    return pools.orders(draw(rules, question_count, rng, pool, pools=pools))


def draw(rules: list, question_count: int, rng: random.Random,
         pool: str = "all", *, pools: "_Pools | None" = None) -> list[int]:
    """Question ids following the plan (sections, purpose mix, questions kept apart), no
    question twice, from the round's pool. A random draw first; if its choices left the plan unfillable, a draw
    that spends capped purposes last (the one `check` vouches for). Raises DomainError if
    the bank changed since the plan was checked and cannot fill the round any more."""
    rules, mix = _split(rules)
    pools = pools or pools_for(pool)
    drawn = (_draw(rules, mix, pools, question_count, rng, spend_capped_last=False)
             or _draw(rules, mix, pools, question_count, rng, spend_capped_last=True))
    if drawn is None:
        raise DomainError(_("The bank no longer has enough approved questions for this round's "
                            "draw plan; ask the organizers to check it."))
    return drawn
