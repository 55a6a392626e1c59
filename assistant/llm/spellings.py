"""Every token sequence of a vocabulary that spells a Chinese word, so decoding can forbid the word itself.

A byte-level BPE vocabulary spells 著名 ("famous") as one token, but also as 著 + 名, and holds 著名的 as a
token of its own; forbidding the one usual token, the packaged Qwen wrote 著 + 名 or 著 + 称为 instead (23 of
the demo store's 35 rejected Chinese reasons). `SpellingIndex.spellings` gives the one-token spellings
(every token holding the word), the two-token ones (a token ending with the word's start, then one starting
with its rest) and the one-character-a-token one.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from assistant.core.text import has_cjk


class SpellingIndex:
    """The vocabulary's tokens that hold Chinese characters, found by a character they hold, start or end with."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = list(texts)
        self._holding: dict[str, list[int]] = defaultdict(list)
        self._starting: dict[str, list[int]] = defaultdict(list)
        self._ending: dict[str, list[int]] = defaultdict(list)
        self._single: dict[str, int] = {}
        for token, text in enumerate(self.texts):
            if not text or "\ufffd" in text or not has_cjk(text):
                continue  # partial UTF-8 bytes decode to U+FFFD: no character of their own
            for char in set(text):
                self._holding[char].append(token)
            self._starting[text[0]].append(token)
            self._ending[text[-1]].append(token)
            if len(text) == 1:
                self._single.setdefault(text, token)

    def spellings(self, word: str) -> set[tuple[int, ...]]:
        """Token sequences that write `word`: one token holding it, two tokens meeting inside it, or one
        character a token. (Three or more tokens mixing characters and pieces are not listed.)"""
        if not word:
            return set()
        found = {(t,) for t in self._holding.get(word[0], ()) if word in self.texts[t]}
        for cut in range(1, len(word)):
            head, rest = word[:cut], word[cut:]
            leads = [t for t in self._ending.get(head[-1], ()) if self.texts[t].endswith(head)]
            follows = [t for t in self._starting.get(rest[0], ()) if self.texts[t].startswith(rest)]
            found.update((a, b) for a in leads for b in follows)
        if all(char in self._single for char in word):
            found.add(tuple(self._single[char] for char in word))
        return found
