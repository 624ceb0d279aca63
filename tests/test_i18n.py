"""The Vietnamese catalog (the default language) is complete and well-formed, and the
message ids in it are the ones the code and templates use."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
VI = ROOT / "quizapp" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _catalog():
    with VI.open("rb") as handle:
        return read_po(handle)


def test_every_message_has_a_vietnamese_translation():
    missing = []
    for message in _catalog():
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id)
    assert missing == []


def test_translations_keep_every_placeholder():
    wrong = []
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(set(PLACEHOLDER.findall(i)) for i in ids))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) - wanted or (
                    not isinstance(message.id, tuple) and set(PLACEHOLDER.findall(text)) != wanted):
                wrong.append((message.id, text))
    assert wrong == []


def test_catalog_is_up_to_date_with_the_sources(tmp_path):
    """Every string the code marks for translation is in the catalog (run
    `make translations-update` after changing user-facing text)."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F",
                    str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), str(ROOT)],
                   check=True, cwd=ROOT)
    with pot.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    known = {m.id for m in _catalog() if m.id}
    assert sorted(map(str, extracted - known)) == []
