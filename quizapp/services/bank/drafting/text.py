"""Text helpers shared by the outline reader and the generators: folding, keys, the
matching rule of contradictions, seeded randomness and bigram similarity."""
from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from functools import lru_cache

DASHES = "\u2013\u2014\u2212"  # en dash, em dash, minus


def fold(text: str) -> str:
    """Lowercase ASCII-ish form ("Quan điểm" → "quan diem") for keys and comparisons."""
    text = unicodedata.normalize("NFC", text).lower().replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFD", text)
                   if unicodedata.category(ch) != "Mn")


def slug(text: str, words: int = 5) -> str:
    parts = re.findall(r"[a-z0-9]+", fold(text))
    return "-".join(parts[:words])


def norm_for_match(text: str) -> str:
    """How contradiction strings and draft texts are compared: NFC, case-folded, one
    space, any dash as '-', no spaces around '-' and '/'."""
    text = unicodedata.normalize("NFC", text).casefold()
    for dash in DASHES:
        text = text.replace(dash, "-")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s*([-/])\s*", r"\1", text).strip()


def lower_first(text: str) -> str:
    """'Thương mại, dịch vụ' → 'thương mại, dịch vụ' inside a sentence; acronyms
    ('UBND …') and proper names in capitals keep their case."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        first = text.split(" ", 1)[0]
        # Vietnamese proper nouns inside labels (Đảng, Nhân dân…) start the label rarely;
        # lowering the first word is right for the common "Tỷ lệ …", "Thương mại …".
        if first not in {"Đảng", "Đại", "Nhà", "Thành", "Thủ", "Nhân"}:
            return text[0].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def display_title(title: str) -> str:
    """A section title as a reader would name it: no 'II.' / '3.' / 'a)' prefix, and
    sentence case for an all-capitals heading."""
    title = re.sub(r"^(?:[IVXLC]+|\d{1,2}|[a-zđ])[.)]\s+", "", title.strip())
    letters = [ch for ch in title if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters):
        title = title[:1] + title[1:].lower()
    return title.rstrip(" :")


def _seed(*parts: str) -> int:
    return int(hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16], 16)


def seeded_rng(*parts: str) -> random.Random:
    return random.Random(_seed(*parts))


def short_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:6]


# Similarity on syllable bigrams: Vietnamese words are several syllables long, so single
# syllables ("phát", "triển") match everywhere while bigrams ("chuyen doi") carry meaning.
@lru_cache(maxsize=8192)
def grams(text: str) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"\w+", fold(text))
    if len(words) == 1:
        return frozenset({(words[0],)})
    return frozenset(zip(words, words[1:]))


def contained(part: str, whole: str) -> float:
    """Share of `part`'s bigrams that also occur in `whole` (0..1)."""
    a = grams(part)
    return len(a & grams(whole)) / len(a) if a else 0.0


# Words that say little about what a passage is about; a shared three-word phrase counts
# only when at least two of its words are not among them.
GENERIC_WORDS = set("""thuc hien hieu qua cac va cua ve trong voi de theo cho la co nhung duoc
tren mot da tang cuong nang cao day manh tiep tuc dam bao xay dung phat trien doi moi chat luong
nham gan nhu tai tu den khi thi nay do sau hon rat moi toan dien""".split())


@lru_cache(maxsize=8192)
def phrases(text: str) -> frozenset[tuple[str, str, str]]:
    words = re.findall(r"\w+", fold(text))
    return frozenset(t for t in zip(words, words[1:], words[2:])
                     if sum(w not in GENERIC_WORDS for w in t) >= 2)


def shares_phrase(part: str, whole: str) -> bool:
    """Whether `part` and `whole` share a telling three-word phrase ("chuyển đổi số",
    "an sinh xã hội"): then `part` is too close to `whole` to be a wrong answer."""
    return bool(phrases(part) & phrases(whole))

