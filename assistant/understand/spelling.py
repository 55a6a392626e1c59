"""Typos matched against the store's own words: "jaket" → "jacket" where the catalog says jacket.

Only a word that is neither the catalog's nor a dictionary word is corrected, only to a catalog word, and
only when the match is close (rapidfuzz's normalised Levenshtein ratio ≥ MIN_SCORE); words of four letters
or fewer are never changed (too many near neighbours)."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from assistant.understand.store import StoreProfile

MIN_SCORE = 85.0
MIN_LETTERS = 5
_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{%d,}(?![A-Za-z])" % MIN_LETTERS)


def _choices(profile: StoreProfile) -> list[str]:
    """The store's words a typo may be corrected to (made once per profile)."""
    choices = profile.__dict__.get("_spelling_choices")
    if choices is None:
        choices = profile.__dict__["_spelling_choices"] = [w for w in profile.words if len(w) >= MIN_LETTERS - 1]
    return choices


def correct_spelling(text: str, profile: StoreProfile, dictionary: frozenset[str] = frozenset()) -> tuple[str, dict[str, str]]:
    """`text` with unknown words replaced by the closest catalog word, and {typed: corrected}."""
    choices = _choices(profile)
    if not choices:
        return text, {}
    fixed: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if profile.knows(lower) or lower in dictionary or lower.rstrip("s") in dictionary:
            return word
        if lower not in fixed:
            best = process.extractOne(lower, choices, scorer=fuzz.ratio, score_cutoff=MIN_SCORE)
            fixed[lower] = best[0] if best else ""
        return fixed[lower] or word

    corrected = _WORD.sub(replace, text)
    return corrected, {typed: word for typed, word in fixed.items() if word}


def spelling_variants(word: str, profile: StoreProfile, limit: int = 2) -> list[str]:
    """The store's own spellings close to a word ("pajamas" -> "pyjama" where the catalog says pyjamas)."""
    if len(word) < MIN_LETTERS or not word.isascii():
        return []
    choices = _choices(profile)
    found = process.extract(word.lower(), choices, scorer=fuzz.ratio, score_cutoff=MIN_SCORE, limit=limit + 1)
    return [w for w, _, _ in found if w != word.lower()][:limit]
