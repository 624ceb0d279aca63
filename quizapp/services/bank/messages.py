"""What a question file's readers say about it: errors, warnings, skipped items.

Each message is the English line the command line prints and the tests read
("line 12: the question has no 'ANSWER:' line"), and also says itself in the page's
language (`localized`): the organizers who import files on the Vietnamese page are often
not English readers. The English is built when the file is read; the translation only
when a page shows it, so a message can be kept, copied or pickled without a request.

Templates are marked for `make translations-update` by babel.cfg's keywords: the second
argument of `Message(...)` and the first of a reader's local `fault(...)` helper. Places
are built by at_line, at_row and at_file_line, which localize_where reads back (and an
f-string inside a marked call would make the extraction warn).
Parameters are the file's own text (titles, tokens, cells) or numbers and are never
translated, except those that are themselves places (`Where`, `Places`) or messages.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from flask_babel import gettext

_LINE_OR_ROW = re.compile(r"(line|row) (\d+)")
_FILE_LINE = re.compile(r"(.+):(\d+)")


def at_line(number: int) -> str:
    """The place of a text file's line: "line 12"."""
    return f"line {number}"


def at_row(number: int) -> str:
    """The place of a spreadsheet's row: "row 4" (Excel's numbering)."""
    return f"row {number}"


def at_file_line(path, number: int) -> str:
    """The place of a line in a named file: "bank/a.yaml:7" (the bundled bank's checks)."""
    return f"{path}:{number}"


def localize_where(where: str) -> str:
    """"line 12" → "dòng 12", "row 4" → "hàng 4", "bank/a.yaml:7" → "bank/a.yaml, dòng 7"
    in the current language; anything else as it is."""
    match = _LINE_OR_ROW.fullmatch(where)
    if match:
        if match.group(1) == "line":
            return gettext("line %(number)s", number=match.group(2))
        return gettext("row %(number)s", number=match.group(2))
    match = _FILE_LINE.fullmatch(where)
    if match:
        return gettext("%(file)s, line %(number)s", file=match.group(1), number=match.group(2))
    return where


def localized(message: str) -> str:
    """A message in the current language when it can say itself so (Message, Skipped,
    Where…); a plain string as it is."""
    say = getattr(message, "localized", None)
    return say() if callable(say) else message


class Where(str):
    """A place named inside a message ("… already used at line 5"): English as it is,
    localized like a message's own place."""

    def localized(self) -> str:
        return localize_where(self)


class Places(str):
    """The first few of several places, then how many more: "line 3, line 9 and 4 more"."""

    def __new__(cls, places: Sequence[str], shown: int = 5):
        more = len(places) - shown
        english = ", ".join(places[:shown]) + (f" and {more} more" if more > 0 else "")
        item = super().__new__(cls, english)
        item.places, item.shown = list(places), shown
        return item

    def __getnewargs__(self):
        return self.places, self.shown

    def localized(self) -> str:
        listed = ", ".join(localize_where(place) for place in self.places[:self.shown])
        more = len(self.places) - self.shown
        return listed + (gettext(" and %(count)d more", count=more) if more > 0 else "")


class Message(str):
    """"where: template % params" in English (the string itself), and `localized()`: the
    place and the template in the current language, with the same parameters. An empty
    `where` gives a message without a place (a part of another message, such as a
    partial-credit problem put into a question's error)."""

    def __new__(cls, where: str, template: str, **params):
        body = template % params if params else template
        item = super().__new__(cls, f"{where}: {body}" if where else body)
        item.where, item.template, item.params = where, template, params
        return item

    def __getnewargs_ex__(self):
        return (self.where, self.template), self.params

    def at(self, where: str) -> Message:
        """The same message about another place (a line of the file instead of a line of
        the YAML the reader was given)."""
        return Message(where, self.template, **self.params)

    def localized(self) -> str:
        params = {name: localized(value) for name, value in self.params.items()}
        body = gettext(self.template, **params)
        where = localize_where(self.where)
        return f"{where}: {body}" if where else body
