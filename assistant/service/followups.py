"""Follow-up suggestions ("chips") after an answer: a few short messages the shopper can send next, in their
language, made from the store's own vocabulary and the products just shown ("in blue", "under $30",
"for a girl", 更便宜的). Every chip is parsed with the store's vocabulary before it is offered, and kept only
when it refines the request as intended (and names no new need), so a chip never starts an unrelated search."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Callable, Iterable

from assistant.core.money import format_amount
from assistant.service.answers import suggestions
from assistant.understand import Request
from assistant.understand.parser import parse_message
from assistant.understand.store import StoreProfile, store_vocabulary

if TYPE_CHECKING:
    from assistant.service.turn import Recommendation

MAX_CHIPS = 4
# Language words for an audience, tried in order (the first the store's parser reads as that audience wins).
AUDIENCE_WORDS = {
    "en": {"girls": ("for a girl", "for girls"), "boys": ("for a boy", "for boys"), "kids": ("for kids", "for a child"),
           "baby": ("for a baby",), "women": ("for women", "for a woman"), "men": ("for men", "for a man"),
           "seniors": ("for seniors",)},
    "zh": {"girls": ("给女孩",), "boys": ("给男孩",), "kids": ("儿童的",), "baby": ("宝宝的",), "women": ("女士的",),
           "men": ("男士的",), "seniors": ("老人的",)},
}
CHILD_AUDIENCES = ("kids", "girls", "boys")
GENERAL_AUDIENCES = ("adults", "unisex", "")
MORE = {"en": ("show me more", "something like the first one"), "zh": ("其他的", "类似第一个的")}
CHEAPER = {"en": "cheaper", "zh": "更便宜的"}
# Dropping a constraint, for an answer where nothing meets all of them: (request field, clear field, words).
RELAX = (("price_max", "price", {"en": "forget the budget", "zh": "不限预算"}),
         ("colors", "colors", {"en": "any colour", "zh": "颜色不限"}),
         ("sizes", "sizes", {"en": "any size", "zh": "尺码不限"}),
         ("brands", "brands", {"en": "any brand", "zh": "品牌不限"}))


def budget_between(prices: list[float]) -> float | None:
    """A round budget that some shown products (sorted `prices`) meet and some do not: the largest round
    number at most the median and above the cheapest, else the smallest above the cheapest and below the
    dearest; None when all cost the same."""
    if not prices or prices[0] <= 0 or prices[0] >= prices[-1]:
        return None
    low, median, high = prices[0], prices[len(prices) // 2], prices[-1]
    exponent = math.floor(math.log10(low))
    rounds = sorted(step * 10.0 ** k for k in range(exponent - 1, exponent + 3) for step in (1, 2, 2.5, 5))
    below = [r for r in rounds if low < r <= median]
    if below:
        return below[-1]
    return next((r for r in rounds if low < r < high), None)


def price_words(amount: float, currency: str, language: str) -> str:
    """"under $30" / "30美元以下" (another currency: "₹500以下")."""
    if language == "zh":
        return (f"{amount:g}美元以下" if currency in ("", "USD") else f"{format_amount(amount, currency)}以下")
    return f"under {format_amount(amount, currency)}"


def colour_words(family: str, language: str, vocab) -> Iterable[str]:
    """Ways to ask for a colour family: "in blue"; in Chinese the vocabulary's own phrases ("蓝色的")."""
    if language != "zh":
        return (f"in {family}",)
    phrases = [p for p, shade in vocab.colors.items() if shade == family and not p.isascii()]
    return [p + "的" for p in sorted(phrases, key=lambda p: (not p.endswith("色"), len(p)))][:2]


def follow_ups(rec: "Recommendation", profile: StoreProfile, limit: int = MAX_CHIPS) -> list[str]:
    """2 to `limit` messages to offer after `rec`: the clarifying question's suggestions; where nothing meets
    every constraint, dropping one ("forget the budget"); else a budget (or "cheaper"), a colour and an
    audience drawn from the store and the products shown; then "show me more" and "something like the first
    one". With nothing shown: dropping a constraint, then the store's biggest kinds."""
    request = rec.request
    language = "zh" if request.language == "zh" else "en"
    if rec.clarify and not rec.items:
        return list(dict.fromkeys(rec.suggestions))[:limit]
    vocab = store_vocabulary(profile)

    def understood(options: Iterable[str], wanted: Callable[[Request], bool], need_words: bool = False) -> str | None:
        """The first option the store's parser reads as wanted, naming no need of its own (`need_words`: an
        audience word the store also uses in titles may stay a search word: "for a girl" in a store whose
        titles say "Girls"; the conversation adds it to the need)."""
        for text in options:
            parsed = parse_message(text, vocab)
            repeated = text.strip().lower() == request.text.strip().lower()
            if (not parsed.need or need_words) and wanted(parsed) and not repeated:
                return text
        return None

    relax = [c for c in (understood((words[language],), lambda r, f=field: f in r.clear)
                         for name, field, words in RELAX if getattr(request, name)) if c] if not rec.matched else []
    if not rec.items:  # nothing close: drop a constraint, or start from what the store sells
        return list(dict.fromkeys(relax + suggestions(profile)))[:max(limit - 1, 2)]
    chips = [*relax, None if relax else price_chip(rec, language, understood),
             colour_chip(rec, profile, language, vocab, understood), audience_chip(rec, profile, language, understood)]
    chips = [c for c in chips if c]
    more, like = MORE[language]
    chips.append(understood((more,), lambda r: r.more))
    if len(chips) < limit and len(rec.items) > 1:
        chips.append(understood((like,), lambda r: r.like_position == 1))
    return list(dict.fromkeys(c for c in chips if c))[:limit]


def price_chip(rec: "Recommendation", language: str, understood) -> str | None:
    """"cheaper" when a budget or cheapness was asked, else a round budget some shown products meet."""
    request = rec.request
    if request.price_max is not None or request.cheap:
        return understood((CHEAPER[language],), lambda r: r.cheaper)
    cap = budget_between(sorted(item.product.price for item in rec.items))
    if cap is None:
        return None
    return understood((price_words(cap, request.currency, language),), lambda r: r.price_max == cap)


def colour_chip(rec: "Recommendation", profile: StoreProfile, language: str, vocab, understood) -> str | None:
    """A colour family of some (not all) shown products, else one of the store's commonest, when the store's
    colours can be filtered on and no colour was asked."""
    if rec.request.colors or not profile.filled("color"):
        return None
    shown = Counter(f for f in (profile.color_family(i.product.color) for i in rec.items if i.product.color) if f)
    everywhere = {f for f, n in shown.items() if n == len(rec.items)}
    ordered = [f for f, _ in shown.most_common()] + sorted(profile.color_counts, key=lambda f: -profile.color_counts[f])
    for family in dict.fromkeys(f for f in ordered if f not in everywhere):
        chip = understood(colour_words(family, language, vocab), lambda r, f=family: r.colors == (f,))
        if chip:
            return chip
    return None


def audience_chip(rec: "Recommendation", profile: StoreProfile, language: str, understood) -> str | None:
    """For a child: a girl or a boy (where the store sells for children); with no audience asked: an
    audience of some shown products."""
    request = rec.request
    store = set(profile.audiences.values())
    child = request.audience in CHILD_AUDIENCES or (request.age_years is not None and request.age_years < 13)
    if child and store & set(CHILD_AUDIENCES):
        options = [a for a in ("girls", "boys") if a != request.audience]
    elif request.audience is None:
        seen = Counter(profile.audiences.get(i.product.audience, i.product.audience) for i in rec.items)
        options = [a for a, _ in seen.most_common() if a not in GENERAL_AUDIENCES]
    else:
        return None
    words = AUDIENCE_WORDS[language]
    for audience in options:
        chip = understood(words.get(audience, ()), lambda r, a=audience: r.audience == a, need_words=True)
        if chip:
            return chip
    return None
