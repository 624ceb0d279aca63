"""The Vietnamese catalog (the default language) is complete and well-formed, and the
message ids in it are the ones the code and templates use."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
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


# ---------------------------------------------------------------- compiled on first start

def _catalog_copy(tmp_path: Path) -> Path:
    """The project's .po files, without any compiled .mo (a fresh clone)."""
    source = ROOT / "quizapp" / "translations"
    target = tmp_path / "translations"
    for po in source.glob("*/LC_MESSAGES/messages.po"):
        dest = target / po.relative_to(source)
        dest.parent.mkdir(parents=True)
        dest.write_bytes(po.read_bytes())
    return target


@pytest.fixture
def fresh_translations():
    """Flask-Babel caches loaded catalogs per process, keyed by language only: empty the
    cache so these tests read their own catalogs, and so that no other test reads them."""
    from quizapp.extensions import babel

    def clear():
        domain = babel.__dict__.get("domain_instance")  # a cached_property, once used
        if domain is not None:
            domain.cache.clear()
    clear()
    yield
    clear()


def _app(tmp_path: Path, translations: Path):
    from quizapp import create_app
    from quizapp.extensions import db
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key-0123456789",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'i18n.sqlite3'}",
                      "BABEL_TRANSLATION_DIRECTORIES": str(translations)})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return app


def _translated(message) -> bool:
    return bool(message.id) and isinstance(message.id, str) and bool(message.string) \
        and message.string != message.id and "%" not in message.id


def _vietnamese(app, msgid: str) -> str:
    from flask_babel import force_locale, gettext
    with app.test_request_context("/"), force_locale("vi"):
        return gettext(msgid)


def test_missing_catalogs_are_compiled_when_the_app_starts(tmp_path, fresh_translations):
    translations = _catalog_copy(tmp_path)
    assert not list(translations.glob("*/LC_MESSAGES/*.mo"))
    message = next(m for m in _catalog() if _translated(m))

    app = _app(tmp_path, translations)

    assert sorted(p.parent.parent.name for p in translations.glob("*/LC_MESSAGES/messages.mo")) \
        == ["en", "vi"]
    assert _vietnamese(app, message.id) == message.string
    page = app.test_client().get("/login").get_data(as_text=True)
    assert 'lang="vi"' in page and "Đăng nhập" in page


def test_a_catalog_older_than_its_po_is_compiled_again(tmp_path, fresh_translations):
    translations = _catalog_copy(tmp_path)
    _app(tmp_path, translations)
    po = translations / "vi" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    message = next(m for m in _catalog() if _translated(m))
    text = po.read_text(encoding="utf-8")
    quoted = f'msgstr "{message.string}"'
    assert quoted in text, quoted
    po.write_text(text.replace(quoted, 'msgstr "Bản dịch mới"', 1), encoding="utf-8")
    old = mo.stat().st_mtime - 60
    os.utime(mo, (old, old))

    app = _app(tmp_path, translations)

    assert mo.stat().st_mtime > old
    assert _vietnamese(app, message.id) == "Bản dịch mới"


def test_catalogs_that_cannot_be_compiled_stop_the_start_with_how_to_fix_it(tmp_path, monkeypatch):
    translations = _catalog_copy(tmp_path)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("quizapp.i18n.tempfile.mkstemp", read_only)
    with pytest.raises(RuntimeError, match=r"make translations"):
        _app(tmp_path, translations)
