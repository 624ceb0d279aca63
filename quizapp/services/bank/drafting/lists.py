"""List drafts: how many members a heading announces, which of these is one of them,
which belong to it, and true/false membership statements."""
from __future__ import annotations

import re

from ..schema import ChoiceData
from .context import Context, MemberList
from .distractors import list_distractors
from .sink import Drafts, excerpt, lines_ref
from .text import display_title, seeded_rng


def lists(ctx: Context, drafts: Drafts) -> None:
    gen = _ListDrafts(ctx, drafts)
    for lst in ctx.lists:
        of = " của Đại hội" if lst.sentence.startswith("Đại hội") else ""
        if lst.from_children and lst.count:
            gen.count(lst)
            group = f"{lst.count} {lst.noun}{of}"
            gen.which_one(lst, f"Nội dung nào sau đây là một trong {group}?")
            gen.which_many(lst, f"Những nội dung nào sau đây thuộc {group}?")
            gen.member_truefalse(lst, group)
        elif not lst.from_children:
            title = display_title(lst.owner.title)
            gen.which_one(lst, f"Nội dung nào sau đây thuộc «{title}»?")


class _ListDrafts:
    def __init__(self, ctx: Context, drafts: Drafts):
        self.ctx, self.drafts = ctx, drafts

    def count(self, lst: MemberList) -> None:
        n = lst.count
        assert n is not None
        section, sentence = lst.owner, lst.sentence
        others = sorted({o.count for o in self.ctx.lists if o.count and o.count != n})
        options = others[:1] + [c for c in (n + 1, n - 1, n + 2, n + 3) if c >= 2]
        picks: list[int] = []
        for c in options:
            if c != n and c not in picks and len(picks) < 3:
                picks.append(c)
        question = re.sub(rf"(?<!\d){n}(?!\d)", "bao nhiêu", sentence, count=1)
        if question == sentence:
            question = f"Có bao nhiêu {lst.noun}"
        explanation = (f"Văn bản ghi: «{sentence}», tiếp theo là các {lst.noun} đánh số từ (1) "
                       f"đến ({n}).{lines_ref(section)}")
        choices = [ChoiceData(f"{n} {lst.noun}", True)] + [ChoiceData(f"{c} {lst.noun}", False) for c in picks]
        self.drafts.add(section, "count", lst.noun, "single", 1, question.rstrip(" .") + "?", choices,
                        explanation)
        self.count_truefalse(lst, others)

    def count_truefalse(self, lst: MemberList, others: list[int]) -> None:
        n, section, sentence = lst.count, lst.owner, lst.sentence
        explanation = f"Văn bản ghi: «{sentence}».{lines_ref(section)}"
        rng = seeded_rng(section.key, "counttf", lst.noun)
        if rng.random() < 0.5:
            wrong = others[0] if others else n + 1  # type: ignore[operator]
            statement = re.sub(rf"(?<!\d){n}(?!\d)", str(wrong), sentence, count=1)
            if statement != sentence:
                self.drafts.truefalse(section, "counttf", lst.noun, statement.rstrip(" .") + ".", False,
                                      explanation, difficulty=1)
                return
        self.drafts.truefalse(section, "counttf", lst.noun, sentence.rstrip(" .") + ".", True,
                              explanation, difficulty=1)

    def which_one(self, lst: MemberList, prompt: str) -> None:
        for entry in lst.entries:
            if self.ctx.contradicted(entry.text):
                continue
            rng = seeded_rng(entry.section.key, "one", entry.text)
            wrong = list_distractors(self.ctx, lst, 3, rng, entry.text)
            if len(wrong) < 2:
                continue
            notes = [f"«{e.text}» thuộc {o.name_of(e)}." for e, o in wrong]
            verb = "là" if lst.from_children else "thuộc"
            explanation = (f"«{entry.text}» {verb} {lst.name_of(entry)}: «{excerpt(entry.full)}». "
                           + " ".join(notes) + lines_ref(entry.section))
            choices = [ChoiceData(entry.text, True)] + [ChoiceData(e.text, False) for e, _ in wrong]
            self.drafts.add(entry.section, "one" if lst.from_children else "in", entry.text, "single", 2,
                            prompt, choices, explanation)

    def which_many(self, lst: MemberList, prompt: str) -> None:
        rng = seeded_rng(lst.owner.key, "many", lst.noun)
        usable = [e for e in lst.entries if not self.ctx.contradicted(e.text)]
        if len(usable) < 2:
            return
        rights = usable if len(usable) <= 3 else sorted(rng.sample(usable, 3), key=lambda e: e.number)
        wrong = list_distractors(self.ctx, lst, 2, rng, rights[0].text)
        if len(wrong) < 1:
            return
        explanation = ("Thuộc danh sách: " + "; ".join(f"{lst.name_of(e)} «{e.text}»" for e in rights)
                       + ". Không thuộc: " + "; ".join(f"«{e.text}» ({o.name_of(e)})" for e, o in wrong)
                       + "." + lines_ref(lst.owner))
        choices = [ChoiceData(e.text, True) for e in rights] + [ChoiceData(e.text, False) for e, _ in wrong]
        self.drafts.add(lst.owner, "many", lst.noun, "multiple", 3, prompt, choices, explanation)

    def member_truefalse(self, lst: MemberList, group: str) -> None:
        used: set[str] = set()  # one false statement per wrong member
        for entry in lst.entries:
            if self.ctx.contradicted(entry.text):
                continue
            rng = seeded_rng(entry.section.key, "tf", entry.text)
            if rng.random() < 0.5:
                wrong = [w for w in list_distractors(self.ctx, lst, 6, rng, entry.text)
                         if w[0].text not in used]
                if wrong:
                    other, other_list = wrong[0]
                    used.add(other.text)
                    self.drafts.truefalse(lst.owner, "tf", entry.text,
                                          f"«{other.text}» là một trong {group}.", False,
                                          f"«{other.text}» thuộc {other_list.name_of(other)}, không nằm "
                                          f"trong {group}.{lines_ref(lst.owner)}")
                    continue
            self.drafts.truefalse(entry.section, "tf", entry.text, f"«{entry.text}» là một trong {group}.",
                                  True, f"Đây là {lst.name_of(entry)}: «{excerpt(entry.full)}»."
                                  + lines_ref(entry.section))
