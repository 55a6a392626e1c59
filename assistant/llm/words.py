"""Decoding held to whole allowed words, not just to their tokens.

Allowed the tokens of its facts' words, the packaged Qwen still built other words out of their pieces: "high-
performance", "families", "fiber", "well-name" in grocery reasons whose facts were a name, a brand type, a
price and a pack size. `WordConstraint.tokens(partial)` gives the tokens that keep every Latin word of the row
an allowed word: the word being written (`partial`) must go on to the start of an allowed word, and every
word a token finishes must be one. Digits, punctuation and Chinese characters are left to the token set.
"""

from __future__ import annotations

import functools
import re
from typing import Iterable, Mapping

_PIECES = re.compile(r"[A-Za-z]+|[^A-Za-z]+")
_LAST_WORD = re.compile(r"[A-Za-z]+$")


class WordConstraint:
    """The allowed words of one row, and the token ids that spell only those words."""

    def __init__(self, words: Iterable[str], token_texts: Mapping[int, str]) -> None:
        self.words = frozenset(w.lower() for word in words for w in re.findall(r"[A-Za-z]+", word))
        self.prefixes = frozenset(w[:n] for w in self.words for n in range(1, len(w) + 1))
        self._tokens = {token: _PIECES.findall(text) for token, text in token_texts.items()}

    def allows(self, partial: str, token: int) -> bool:
        """Whether `token` may follow a row whose last word so far is `partial` ("" after a space or a sign)."""
        word = partial.lower()
        pieces = self._tokens[token]
        for i, piece in enumerate(pieces):
            if piece[0].isascii() and piece[0].isalpha():
                word += piece.lower()
                if i == len(pieces) - 1:
                    return word in self.prefixes
                if word not in self.words:
                    return False
            else:
                if word and word not in self.words:
                    return False
                word = ""
        return not word or word in self.words  # a token of no letters (the end of the row) ends the word

    @functools.lru_cache(maxsize=512)
    def tokens(self, partial: str) -> tuple[int, ...]:
        """The allowed tokens that may follow `partial`."""
        return tuple(t for t in self._tokens if self.allows(partial, t))


def last_word(text: str) -> str:
    """The Latin word a text ends in the middle of, or "" ("It is a goo" -> "goo", "It is a " -> "")."""
    found = _LAST_WORD.search(text)
    return found.group(0) if found else ""
