"""Draw plans for contest rounds.

A plan is text, one rule a line:
    viewpoints: 2 each      → 2 questions from each child section of "viewpoints"
    breakthroughs: 1 each
    congress: 3             → 3 questions from the "congress" subtree
    targets: rest           → whatever the round still needs, from "targets"
Blank lines and lines starting with '#' are ignored. An empty plan draws from the whole
bank, spread across sections.

A round's pool ("all" or "reserve", Round.question_pool) says which approved questions
the plan draws from: all of them, contest reserve included, or the reserve only.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Question, Section

RULE_RE = re.compile(r"^\s*([a-z0-9][a-z0-9-]*)\s*:\s*(?:(\d+)\s*(each)?|(rest))\s*$")


@dataclass
class Rule:
    section: str
    count: int | None  # None for "rest"
    each: bool = False
    line: int = 0


def parse(text: str) -> tuple[list[Rule], list[str]]:
    """Rules and line-numbered errors ("line 2: ...")."""
    rules: list[Rule] = []
    errors: list[str] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = RULE_RE.match(line)
        if not match:
            errors.append(_("line %(n)d: write 'section: N', 'section: N each' or 'section: rest'",
                            n=number))
            continue
        key, count, each, rest = match.groups()
        rules.append(Rule(key, None if rest else int(count), bool(each), number))
    if sum(1 for r in rules if r.count is None) > 1:
        errors.append(_("only one 'rest' line is allowed"))
    return rules, errors


class _Pools:
    """Approved, current question ids per section subtree, of the round's pool."""

    def __init__(self, pool: str = "all") -> None:
        self.sections = {s.key: s for s in db.session.execute(select(Section)).scalars()}
        self.children: dict[int | None, list[Section]] = {}
        for s in sorted(self.sections.values(), key=lambda s: s.position):
            self.children.setdefault(s.parent_id, []).append(s)
        self.by_section: dict[int, list[int]] = {}
        query = select(Question.id, Question.section_id).where(
            Question.is_current.is_(True), Question.status == "approved")
        if pool == "reserve":
            query = query.where(Question.reserve.is_(True))
        for qid, sid in db.session.execute(query.order_by(Question.id)):
            self.by_section.setdefault(sid, []).append(qid)

    def subtree(self, section: Section) -> list[int]:
        out: list[int] = []
        stack = [section]
        while stack:
            node = stack.pop()
            out.extend(self.by_section.get(node.id, []))
            stack.extend(self.children.get(node.id, []))
        return out

    def all_ids(self) -> list[int]:
        return [qid for ids in self.by_section.values() for qid in ids]


def _targets(rules: list[Rule], pools: "_Pools") -> list[tuple[Section, int, Rule]]:
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


def _inside(inner: Section, outer: Section, pools: "_Pools") -> bool:
    node = inner
    while node is not None:
        if node.id == outer.id:
            return True
        node = next((s for s in pools.sections.values() if s.id == node.parent_id), None)
    return False


def check(rules: list[Rule], question_count: int, pool: str = "all") -> list[str]:
    """Errors that make the plan impossible against the current approved bank (its
    reserve only, for pool "reserve"). Exact: a plan that passes always draws
    `question_count` questions (rules are served deepest first, each from what earlier
    rules left in its subtree)."""
    pools = _Pools(pool)
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
    served: list[tuple[Section, int]] = []
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
    if errors and pool == "reserve":
        errors.append(_("this round draws from the contest reserve only: the numbers above "
                        "count reserve questions"))
    return errors


def pool_ids(rules: list[Rule], pool: str = "all") -> set[int]:
    """Every question id the plan could draw: the subtrees its rules name (the whole pool
    for an empty plan). What a member might meet in the round."""
    pools = _Pools(pool)
    if not rules:
        return set(pools.all_ids())
    out: set[int] = set()
    for rule in rules:
        section = pools.sections.get(rule.section)
        if section is not None:
            out.update(pools.subtree(section))
    return out


def draw(rules: list[Rule], question_count: int, rng: random.Random,
         pool: str = "all") -> list[int]:
    """Question ids following the plan, no question twice, from the round's pool. Raises
    DomainError if the bank changed since the plan was checked and cannot fill the round
    any more."""
    pools = _Pools(pool)
    drawn: list[int] = []
    taken: set[int] = set()

    def take(candidates: list[int], n: int) -> None:
        free = [q for q in candidates if q not in taken]
        for qid in rng.sample(free, min(n, len(free))):
            drawn.append(qid)
            taken.add(qid)

    if not rules:
        buckets = [list(ids) for ids in pools.by_section.values()]
        for bucket in buckets:
            rng.shuffle(bucket)
        while len(drawn) < question_count and any(buckets):
            for bucket in buckets:
                if bucket and len(drawn) < question_count:
                    take([bucket.pop()], 1)
    else:
        for target, count, _rule in _targets(rules, pools):
            take(pools.subtree(target), count)
        for rule in rules:
            if rule.count is None:
                take(pools.subtree(pools.sections[rule.section]), question_count - len(drawn))
    drawn = drawn[:question_count]
    if len(drawn) < question_count:
        from .errors import DomainError
        raise DomainError(_("The bank no longer has enough approved questions for this round's "
                            "draw plan; ask the organizers to check it."))
    return drawn
