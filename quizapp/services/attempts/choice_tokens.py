"""Opaque per-attempt choice tokens: what the quiz page, its form and its JSON call a
choice instead of the choice's database id.

Choice ids follow the author's order in the bank files, and the right answer is
usually written first: a page whose option values were those ids told the key to
anyone who ticked the lowest value (issue 10, case 1). A token is the choice id run
through a keyed permutation whose key depends on the attempt and the question, so
the tokens of one question are in an order that is random for each attempt and says
nothing about which choice is right, nor about the author's order.

A token is a whole number in 1..2**30, so the JSON body keeps its integer fields. It
is computed, never stored: mapping one back needs no database read, which keeps the
one-statement autosave (attempts.autosave) at one statement. The permutation is a
six-round Feistel network over 30 bits with keyed BLAKE2b as its round function, its
key derived from SECRET_KEY, the attempt id and the question id; without SECRET_KEY
a member cannot tell which token stands for which stored choice.
"""
from __future__ import annotations

import functools
import hashlib

from flask import current_app
from flask_babel import gettext as _

from ..errors import DomainError

_HALF_BITS = 15
_HALF_MASK = (1 << _HALF_BITS) - 1
_DOMAIN = 1 << (2 * _HALF_BITS)  # choice ids and tokens - 1 live in [0, 2**30)
_ROUNDS = 6


@functools.lru_cache(maxsize=8)
def _master(secret: str) -> bytes:
    # Domain separation: this key is used for nothing else SECRET_KEY signs.
    return hashlib.sha256(b"quizapp choice tokens\0" + secret.encode()).digest()


@functools.lru_cache(maxsize=4096)
def _key(secret: str, attempt_id: int, question_id: int):
    """The round function's keyed hash, ready to copy (a copy is cheaper than keying)."""
    key = hashlib.blake2b(f"{attempt_id}:{question_id}".encode(), key=_master(secret),
                          digest_size=32).digest()
    return hashlib.blake2b(key=key, digest_size=2)


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _round(key, number: int, half: int) -> int:
    hasher = key.copy()
    hasher.update(bytes((number, half >> 8, half & 0xFF)))
    return int.from_bytes(hasher.digest(), "big") & _HALF_MASK


def _permute(key: bytes, value: int) -> int:
    left, right = value >> _HALF_BITS, value & _HALF_MASK
    for number in range(_ROUNDS):
        left, right = right, left ^ _round(key, number, right)
    return (left << _HALF_BITS) | right


def _unpermute(key: bytes, value: int) -> int:
    left, right = value >> _HALF_BITS, value & _HALF_MASK
    for number in reversed(range(_ROUNDS)):
        left, right = right ^ _round(key, number, left), left
    return (left << _HALF_BITS) | right


def token(attempt_id: int, question_id: int, choice_id: int) -> int:
    """The token that stands for `choice_id` in this attempt's question."""
    if not 0 <= choice_id < _DOMAIN:
        raise ValueError("choice id outside the token domain")
    return _permute(_key(_secret(), attempt_id, question_id), choice_id) + 1


def tokens(attempt_id: int, question_id: int, choice_ids) -> list[int]:
    """token() of each id, in the given order."""
    key = _key(_secret(), attempt_id, question_id)
    return [_permute(key, c) + 1 for c in choice_ids]


def frozen_tokens(attempt_id: int, question_id: int, choice_ids: tuple[int, ...]) -> tuple[int, ...]:
    """tokens() of a question's frozen choice order, computed once per process: the quiz
    page shows the same tokens at every load (six keyed hashes per choice)."""
    return _frozen_tokens(_secret(), attempt_id, question_id, choice_ids)


@functools.lru_cache(maxsize=16384)
def _frozen_tokens(secret: str, attempt_id: int, question_id: int,
                   choice_ids: tuple[int, ...]) -> tuple[int, ...]:
    if not all(0 <= c < _DOMAIN for c in choice_ids):
        raise ValueError("choice id outside the token domain")
    key = _key(secret, attempt_id, question_id)
    return tuple(_permute(key, c) + 1 for c in choice_ids)


def choice_ids(attempt_id: int, question_id: int, values) -> list[int]:
    """The choice ids the tokens stand for. A value that is no token at all is a
    DomainError (400); whether the choice belongs to the question is checked by the
    save, as for any choice id."""
    key = _key(_secret(), attempt_id, question_id)
    out = []
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _DOMAIN:
            raise DomainError(_("That choice is not part of this question."))
        out.append(_unpermute(key, value - 1))
    return out
