"""Character classes shared by the stages that read or write shopper-facing text (English and Chinese)."""

from __future__ import annotations

import re

#: CJK ideographs (extension A, unified, compatibility), for use inside a regex character class.
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK}]")
LATIN_RE = re.compile("[A-Za-z]")
SPACES_RE = re.compile(r"\s+")


def has_cjk(text: str) -> bool:
    """True when `text` holds at least one CJK ideograph."""
    return bool(CJK_RE.search(text))


def count_cjk(text: str) -> int:
    """How many CJK ideographs `text` holds."""
    return len(CJK_RE.findall(text))


def singular(word: str) -> str:
    """A plain English singular ("jackets" -> "jacket", "berries" -> "berry", "glasses" -> "glass")."""
    if word.endswith("sses"):
        return word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def word_forms(word: str) -> list[str]:
    """A word with its plain singular or plural ("earring" -> earring, earrings; "berries" -> berries,
    berry), for a search that does not stem."""
    one = singular(word)
    if one != word:
        return [word, one]
    if len(word) < 3 or not word.isascii() or not word.isalpha():
        return [word]
    many = word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else \
        word + "es" if word.endswith(("s", "x", "ch", "sh")) else word + "s"
    return [word, many]
