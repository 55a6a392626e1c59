"""The regular expressions of a `Vocabulary`: word lists → alternations with word boundaries."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from assistant.core.text import CJK

if TYPE_CHECKING:
    from assistant.understand.vocabulary import Vocabulary

_AN = "a-z0-9"
_NEVER = "(?!)"


def _variants(term: str, plurals: bool = False) -> set[str]:
    """A term plus its hyphen/space spellings (and plurals for product words)."""
    term = term.lower().strip()
    out = {term}
    if "-" in term:
        out |= {term.replace("-", " "), term.replace("-", "")}
    if " " in term:
        out.add(term.replace(" ", "-"))
    if plurals:
        for t in list(out):
            if t[-1:].isascii() and t[-1:].isalpha() and not t.endswith("s"):
                out.add(t[:-1] + "ies" if t.endswith("y") and t[-2:-1] not in "aeiou" else t + "s")
            if t.endswith(("sh", "ch", "x", "ss")):
                out.add(t + "es")
    return {t for t in out if t}


def _trie(words: Iterable[str]) -> str:
    """One regex alternative for many literal words; longest match wins (greedy, with backtracking)."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict[str, dict]) -> str:
        alts, optional = [], False
        for ch in sorted(node):
            if ch == "":
                optional = True
            else:
                alts.append(re.escape(ch) + walk(node[ch]))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if optional:
            body = "(?:" + body + ")?" if len(alts) > 1 or len(alts[0]) > 1 else body + "?"
        return body

    return walk(root)


def _alt(terms: Iterable[str], left: bool = True, right: bool = True, plurals: bool = False) -> str:
    """Alternation of `terms`, with word boundaries on the sides where a term has an ASCII letter/digit."""
    groups: dict[tuple[bool, bool], set[str]] = {}
    for term in terms:
        for t in _variants(term, plurals):
            key = (left and bool(re.match(f"[{_AN}]", t)), right and bool(re.search(f"[{_AN}]$", t)))
            groups.setdefault(key, set()).add(t)
    parts = []
    for (lb, rb), words in sorted(groups.items()):
        body = _trie(words)
        parts.append((f"(?<![{_AN}])" if lb else "") + f"(?:{body})" + (f"(?![{_AN}])" if rb else ""))
    return "(?:" + "|".join(parts) + ")" if parts else _NEVER


def negation_alt(terms: Iterable[str], questions: dict[str, str]) -> str:
    """Alternation of the negation terms; one that follows its question word ("有" before "没有": 有没有,
    "是" before "不是": 是不是) is a yes/no question, not a negation, so it does not match there."""
    terms = tuple(terms)
    guarded = [f"(?<!{re.escape(questions[t])}){_alt([t])}" for t in sorted(questions, key=len, reverse=True)
               if t in terms]
    plain = _alt(t for t in terms if t not in questions)
    return "(?:" + "|".join(guarded + [plain]) + ")" if guarded else plain


class Patterns:
    """All compiled expressions of one vocabulary."""

    def __init__(self, v: Vocabulary):
        c = re.compile
        b = v.budget
        self.brand = c(_alt(v.brands))
        neg = negation_alt(v.negation, v.negation_questions)
        fill = _alt(v.negation_fillers)
        joiner = rf"\s*(?:,|/|&|(?<![{_AN}])(?:or|and|nor)(?![{_AN}])|或者|或|和|、)\s*"

        def negated(term_alt: str) -> re.Pattern[str]:
            item = rf"(?:{fill}\s*){{0,3}}{term_alt}"
            return c(rf"{neg}\s*{item}(?:{joiner}{item})*")

        self.brand_neg = negated(self.brand.pattern)
        # "不要巧克力的": a Chinese word ruled out, read with the store's dictionary (vocabulary.dictionary);
        # only after a negation of two characters or more: 无 starts 无线 (wireless), 别 starts 别的 (other)
        long_neg = negation_alt(tuple(t for t in v.negation if len(t) > 1 and not t.isascii()), v.negation_questions)
        self.negated_chinese = c(rf"{long_neg}\s*(?:{fill}\s*){{0,2}}(?P<x>[{CJK}]+?)(?=的|[^{CJK}]|$)")
        self.clear = c(_alt(v.clear))

        num = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\d|[.,]\d)"
        pre, post = _alt(b.get("currency_before", ())), _alt(b.get("currency_after", ()), left=False)
        kilo = rf"(?:\s?k(?![{_AN}]))?"
        amount = rf"(?:{pre}\s?)?{num}{kilo}(?:\s?{post})?"
        with_currency = rf"(?:{pre}\s?{num}{kilo}(?:\s?{post})?|{num}{kilo}\s?{post})"
        start = r"(?<![a-z0-9.$\-])"
        word_units = (r"years?|yrs?|yo|y/o|months?|mos?|mths?|%|percent|kg|kgs|lbs?|pounds?|inch(?:es)?|cm|mm|"
                      r"ft|feet|foot|people|persons?|players?|pieces?|pcs|pack|packs|gb|tb|mah|watts?|hours?|"
                      r"hrs?|days?|weeks?|minutes?|mins?|ml|oz|ounces?|liters?|litres?|qt|quarts?|cups?|"
                      r"stars?|miles?|km|meters?|metres?|seats?|steps?|degrees?|times|kids|children")
        unit = rf"(?!\s*-?\s*(?:{word_units})(?![a-z])|[cymlwxs](?![a-z])|\s*(?:岁|个月|周|天|码|号|个|件|楼|层|人|斤|公斤|寸))"
        before = lambda key: _alt(b.get(key, ()), right=False)
        after = lambda key: _alt(b.get(key, ()), left=False)
        self.money_range = c(rf"(?P<pre>{before('range_before')}\s*)?{start}(?P<a>{amount})\s*"
                             rf"(?:{after('range_sep')})\s*(?P<b>{amount}){unit}\s*(?P<post>{after('range_after')})?")
        self.money_max = c(rf"{before('max_before')}\s*:?\s*{start}(?P<a>{amount}){unit}|"
                           rf"{start}(?P<b>{amount}){unit}\s*{after('max_after')}")
        self.money_min = c(rf"{before('min_before')}\s*:?\s*{start}(?P<a>{amount}){unit}|"
                           rf"{start}(?P<b>{amount}){unit}\s*{after('min_after')}")
        self.money_target = c(rf"{before('target_before')}\s*:?\s*{start}(?P<a>{amount}){unit}|"
                              rf"{start}(?P<b>{amount}){unit}\s*{after('target_after')}")
        self.money_bare = c(rf"{start}(?P<a>{with_currency}){unit}")
        self.has_currency = c(rf"{pre}|{post}")
        self.number = c(num)
        self.adult_age = c(r"(?<![a-z])(?:someone|somebody|people|person|adults?|seniors?|folks|anyone|those|"
                           r"men|women|man|woman|aged?)\s+(?:over|above|older than|past)\s+(?P<n>\d{2,3})"
                           r"(?!\s*(?:\$|dollars?|bucks|usd|€|£))")

        ordinal = _alt(v.ordinals)
        self.like = c(rf"{_alt(v.operations.get('like_words', ()), right=False)}\s*"
                      r"(?:(?:to\s+)?(?:the|that)\s+)?(?:(?:#|no\.?|number|item|option|product|result)\s*)?"
                      rf"(?:(?P<ord>{ordinal})|(?P<num>\d{{1,2}})(?:st|nd|rd|th)?(?![\d.])|"
                      r"第\s*(?P<cn>[一二两三四五六七八九十\d]{1,3})\s*(?:个|款|件|项)?|(?P<zhlast>最后一个|最后那个|最后一款))"
                      r"(?:\s*(?:one|item|option|product|result|pick))?(?![a-z])"
                      r"(?:\s*(?:那样的|一样的|那样|一样|那种|类似的|差不多的))?")
        self.cheaper = c(_alt(v.operations.get("cheaper", ())))
        self.more = c(_alt(v.operations.get("more", ())))
        self.more_alone = c(r"\W*(?:some\s+|any\s+)?more\W*(?:please)?\W*")
        self.stock = c(_alt(v.operations.get("stock", ())))
        self.cheap = c(_alt(b.get("cheap", ())))

        age_num = (rf"(?:(?P<n>\d{{1,2}})(?![\d.])|(?P<w>{_alt(v.numbers)})|"
                   r"(?P<cn>[一二两三四五六七八九十]{1,3}))")
        years = _alt(v.age.get("year_words", ()), left=False)
        months = _alt(v.age.get("month_words", ()), left=False)
        self.age_months = c(rf"(?<![\d.$]){age_num}\s*-?\s*{months}")
        self.age_years = c(rf"(?<![\d.$]){age_num}\s*-?\s*{years}")
        self.age_before = c(rf"{_alt(v.age.get('before', ()), right=False)}\s*(?:of\s+)?{age_num}")

        marker = r"(?<![a-z])(?:shoe\s+size|us\s+size|size|sz|sized|尺码|码数|穿)"
        self.size_kids = c(rf"(?:{marker}\s*:?\s*)?(?<![\d.\-])(?P<a>\d{{1,2}})\s*-\s*(?P<b>\d{{1,2}})\s*"
                           rf"(?P<u>[ym])(?![a-z])|{marker}\s*:?\s*(?P<a2>\d{{1,2}})\s*-\s*(?P<b2>\d{{1,2}})"
                           r"(?![\d.])(?!\s*(?:years?|yrs?|months?|mos?))")
        self.size_number = c(rf"{marker}\s*:?\s*(?P<n>\d{{1,2}}(?:\.5)?)\s*(?P<u>[cyk])?(?![\d.a-z])")
        words = _alt(v.size_words)
        self.size_word = c(rf"{marker}\s*:?\s*(?:(?:an?|us)\s+)?(?P<w>{words})")
        self.size_in = c(rf"(?<![a-z])in\s+(?:an?\s+)?(?:size\s+)?(?P<w>{words})(?!\s*-?\s*(?:print|screen|display|"
                         r"buttons?|text|font|type|quantit|numbers?|amounts?|capacity|batch|letters?|sizes))")
        self.size_zh = c(r"(?P<w>xxxl|xxl|2xl|xl|xs|s|m|l|\d{1,2})\s*码")
        self.size_alone = c(_alt(v.sizes))
        self.size_kid_shoe = c(r"(?<![a-z0-9.\-])(?P<n>\d{1,2})c(?![a-z0-9])")

        colors = _alt(v.colors)
        self.color = c(colors)
        self.color_neg = negated(colors)
        self.color_ignore = c(_alt(v.color_ignore))
        self.exclude = negated(_alt(v.exclude_terms))
        self.exclude_term = c(_alt(v.exclude_terms))
        self.segments = c(_alt(v.segments))
        self.audience = c(_alt(v.audience) + r"(?:'s|s'|')?")
        self.audience_weak = c(_alt(v.audience_weak))
        self.filler = c(_alt(v.filler))
        self.categories = c(_alt(v.categories, plurals=True))
        self.category_keys = {t: k for k in v.categories for t in _variants(k, plurals=True)}
        self.gloss = c(_alt(v.gloss))
        self.word = c(rf"(?P<g>{self.gloss.pattern})|(?P<w>[^\W_{CJK}]+(?:['\-][^\W_{CJK}]+)*)")
        self.size_word_map = {t: val for k, val in v.size_words.items() for t in _variants(k)}
        self.size_map = {t: val for k, val in v.sizes.items() for t in _variants(k)}
        self.color_map = {t: val for k, val in v.colors.items() for t in _variants(k)}
        self.exclude_map = {t: val for k, val in v.exclude_terms.items() for t in _variants(k)}
        self.audience_map = {t: val for k, val in v.audience.items() for t in _variants(k)}
        self.clear_map = {t: val for k, val in v.clear.items() for t in _variants(k)}
        self.segment_map = {t: val for k, val in v.segments.items() for t in _variants(k)}
        self.ordinal_map = {t: val for k, val in v.ordinals.items() for t in _variants(k)}
        self.number_map = {t: val for k, val in v.numbers.items() for t in _variants(k)}
        self.gloss_map = {t: val for k, val in v.gloss.items() for t in _variants(k)}
        self.weak_map = {t: val for k, val in v.audience_weak.items() for t in _variants(k)}

