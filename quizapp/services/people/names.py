"""Vietnamese names: sorted by given name (the last word) first, then the rest."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

# Vietnamese alphabetical order of base letters; đ sorts after d.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_VOWEL_MARKS = {"\u0306": "ă", "\u0302": "â", "\u031b": "ơ"}


def _letter_key(ch: str) -> tuple[int, int]:
    decomposed = unicodedata.normalize("NFD", ch.lower())
    base = decomposed[0]
    tone = 0
    for mark in decomposed[1:]:
        if mark in _TONES:
            tone = _TONES[mark]
        elif mark == "\u0302":
            base = {"a": "â", "e": "ê", "o": "ô"}.get(base, base)
        elif mark == "\u0306":
            base = "ă" if base == "a" else base
        elif mark == "\u031b":
            base = {"o": "ơ", "u": "ư"}.get(base, base)
    if base == "đ" or ch.lower() == "đ":
        base = "đ"
    return (_RANK.get(base, 100 + ord(base)), tone)


@lru_cache(maxsize=65536)
def word_key(word: str) -> tuple:
    letters = tuple(_letter_key(ch)[0] for ch in word)
    tones = tuple(_letter_key(ch)[1] for ch in word)
    return letters + (-1,) + tones


@lru_cache(maxsize=65536)
def sort_key(full_name: str) -> tuple:
    """Key for sorting "Nguyễn Văn An" as Vietnamese lists do: given name first (An),
    then family and middle names in order; letters in Vietnamese order, tones last."""
    words = full_name.split()
    if not words:
        return ()
    given, rest = words[-1], words[:-1]
    return (word_key(given), tuple(word_key(w) for w in rest))
