"""Telling a message with a recognisable need from one without: junk (random characters, markup, emoji
only, words the store has never heard of) gets a clarifying question and changes nothing in the
conversation (no "$6" is read out of it); a vague need ("something cool for my desk") gets broad picks and a
question too."""

from __future__ import annotations

import re

from assistant.core.text import CJK
from assistant.understand.request import Request
from assistant.understand.store import StoreProfile

_WORD = re.compile(r"[a-z][a-z']+")
_CJK_RUN = re.compile(rf"[{CJK}]")
# Words that say the shopper has no particular product in mind.
VAGUE_WORDS = frozenset({"something", "anything", "stuff", "thing", "things", "gift", "gifts", "present",
                         "ideas", "idea", "surprise", "whatever", "recommend", "suggest", "suggestions"})
VAGUE_ZH = ("东西", "礼物", "推荐", "随便", "什么都行", "建议")


def constraint_fields(request: Request) -> list[str]:
    """The fields of a parsed message that the parser recognised (anything but the free need text)."""
    names = ("price_min", "price_max", "price_target", "colors", "exclude_colors", "sizes", "brands",
             "exclude_brands", "exclude_terms", "audience", "age_years", "categories", "in_stock_only", "cheap",
             "cheaper", "more", "like_position", "clear", "segment_hint")
    return [n for n in names if getattr(request, n) not in (None, False, (), "")]


def need_is_known(request: Request, profile: StoreProfile,
                  dictionary: frozenset[str] = frozenset()) -> tuple[int, int]:
    """(known, total) words of the need that the catalog uses or the `dictionary` holds (Chinese: characters
    its titles use, or any the glossary read)."""
    words = _WORD.findall(request.need.lower())
    known = sum(profile.knows(w) or w in dictionary or w.rstrip("s") in dictionary for w in words)
    if request.need_original:
        chars = _CJK_RUN.findall(request.need_original)
        if chars:
            # Chinese words are words even where the glossary has none for them ("要声音大一点的"); one
            # leftover character ("只") is not a need.
            known += int(any(ch in profile.cjk_chars for ch in chars) or bool(words) or len(chars) >= 2)
            words.append(request.need_original)
    return known, len(words)


def is_unrecognised(parsed: Request, profile: StoreProfile, dictionary: frozenset[str] = frozenset()) -> bool:
    """True when a message holds no recognisable need: nothing recognised and no need at all, or a need of
    which no word is the catalog's or a dictionary word (random characters; then numbers in it are not
    budgets). A real word the store does not sell ("sofa") is a need: the answer says nothing matches."""
    recognised = constraint_fields(parsed)
    known, total = need_is_known(parsed, profile, dictionary)
    if known:
        return False
    if not recognised:
        return True
    # Something was recognised ("只看有货的", "尺码11C"): junk only when it sits in three or more unknown
    # words ("qwzx $6 vbnm plokij"), unless real words were recognised too (a brand, who it is for, a colour).
    if set(recognised) & {"brands", "exclude_brands", "categories", "audience", "colors", "exclude_colors"}:
        return False
    return len(_WORD.findall(parsed.need.lower())) >= 3


def is_vague(state: Request, text: str) -> bool:
    """A need that names no product: no category, constraint or specific words ("something cool for my desk")."""
    lowered = text.lower()
    if not (set(_WORD.findall(lowered)) & VAGUE_WORDS or any(w in text for w in VAGUE_ZH)):
        return False
    return not [n for n in constraint_fields(state) if n not in ("segment_hint", "audience", "cheap")]


def unsold_head_noun(request: Request, profile: StoreProfile) -> str | None:
    """The need's last word when no product of the store uses it although the need's other words are the
    store's ("grinder" in "coffee grinder" where only coffee makers are sold); else None. English needs only."""
    if request.language == "zh" or is_vague(request, request.text):
        return None
    words = _WORD.findall(request.need.lower())
    if len(words) < 2 or profile.knows(words[-1]):
        return None
    return words[-1] if any(profile.knows(w) for w in words[:-1]) else None
