"""Shopper message → `Request`; `Conversation` merges turns into explicit state.

`parse_message` is a deterministic, rule-based parser (stdlib only: re, tomllib, unicodedata). Its words
live in per-language TOML files under `assistant/understand/vocab/` (en.toml, zh.toml), loaded into a `Vocabulary`.
It never raises: any input gives a `Request`, possibly empty.

How a message is read, in order (each step blanks out the words it used, so later steps do not see them):
brands (and "no <brand>"), "forget the budget"-style clears, budgets, operations (something like the
second one, cheaper, show me more), in stock, ages, sizes, colours (and "not <colour>"), excluded materials,
"cheap", segment cues (not blanked), audience. What is left, minus filler words, is the `need`; for text with
Chinese characters the need is an English gloss of the recognised words. Categories are read off the need.

`Conversation` keeps the merged state; see `merge_requests` for the rules.
"""

from __future__ import annotations

import functools
import math
import re
import statistics
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

MAX_CHARS = 2_000  # longer messages are cut to this many characters
LANGUAGES = ("en", "zh")
MAX_PRICE = 10_000_000.0  # larger amounts are not budgets
CHEAPER_FACTOR = 0.8  # "cheaper": new price_max = 0.8 × the current one (or the median shown price)


@dataclass(frozen=True)
class Request:
    """What a shopper asked for, as parsed from one message (or merged over a conversation).

    Hard constraints (filters): price_min / price_max, colors, sizes, exclude_brands, exclude_colors,
    exclude_terms, in_stock_only, audience (when explicit). Soft preferences: need text, brands,
    categories, price_target, cheap, age_years, segment_hint.
    """

    text: str = ""  # the message as received (cleaned, truncated)
    need: str = ""  # the free-text need with constraint phrases removed, e.g. "waterproof jacket"
    language: str = "en"  # "en" or "zh"
    price_min: float | None = None
    price_max: float | None = None
    price_target: float | None = None  # "around $50"
    cheap: bool = False  # "cheap", "affordable", "便宜": prefer low prices (soft)
    colors: tuple[str, ...] = ()  # canonical catalog colours; navy is its own colour ("dark blue" → navy)
    exclude_colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()  # canonical catalog sizes, e.g. ("M",), ("6-7Y",), ("9",)
    age_years: int | None = None  # a child's age when the message names one (0 for babies in months)
    audience: str | None = None  # kids, baby, women, men, seniors
    categories: tuple[str, ...] = ()  # category cues: a top level, a full path or a leaf ("Outerwear")
    brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    exclude_terms: tuple[str, ...] = ()  # "no wool", "without leather"
    in_stock_only: bool = False
    segment_hint: str | None = None  # young_adults, parents_young_kids, retirees, ...
    segment_confidence: float = 0.0  # 0..1
    # Conversation operations found in the message (applied by Conversation, not by the ranker):
    cheaper: bool = False  # "cheaper", "less expensive", "便宜一点"
    more: bool = False  # "show me more", "其他的"
    like_position: int | None = None  # "something like the second one" -> 2; "the last one" -> -1
    clear: tuple[str, ...] = ()  # fields to forget: "price", "colors", "sizes", "brands", "all"
    need_original: str = ""  # the untranslated need of a Chinese message, e.g. "防水外套"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict without empty values (what staff see); an age of 0 is kept."""
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            empty = value is None or value is False or (isinstance(value, (tuple, str)) and not value)
            if (empty or (name == "segment_confidence" and not value)) and name != "language":
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass
class Turn:
    """One exchange: the parsed message, the merged state after it, and what was shown."""

    turn_id: str
    message: str
    parsed: Request
    state: Request
    shown: list[str] = field(default_factory=list)  # product ids, in the order shown
    shown_prices: list[float] = field(default_factory=list)  # their prices, same order

    def to_dict(self) -> dict[str, Any]:
        return {"turn_id": self.turn_id, "message": self.message, "parsed": self.parsed.to_dict(),
                "state": self.state.to_dict(), "shown": list(self.shown)}


# ---------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The words the parser knows, merged over languages. Build with `load_vocabulary`."""

    languages: tuple[str, ...]
    colors: dict[str, str]
    color_ignore: tuple[str, ...]
    sizes: dict[str, str]
    size_words: dict[str, str]
    size_known: frozenset[str]
    numbers: dict[str, int]
    ordinals: dict[str, int]
    audience: dict[str, str]
    audience_weak: dict[str, str]
    segments: dict[str, tuple[str, float]]
    categories: dict[str, tuple[str, ...]]
    brands: dict[str, str]  # lower-case alias -> brand name as written in the catalog
    exclude_terms: dict[str, str]
    negation: tuple[str, ...]
    negation_fillers: tuple[str, ...]
    budget: dict[str, tuple[str, ...]]
    operations: dict[str, tuple[str, ...]]
    clear: dict[str, str]
    age: dict[str, tuple[str, ...]]
    filler: tuple[str, ...]
    stopwords: frozenset[str]
    gloss: dict[str, str]

    @functools.cached_property
    def patterns(self) -> _Patterns:
        """The compiled regular expressions (built once per vocabulary)."""
        return _Patterns(self)


def load_vocabulary(languages: Iterable[str] = LANGUAGES) -> Vocabulary:
    """Load and merge the vocabulary files of `languages` (cached)."""
    if isinstance(languages, str):
        languages = (languages,)
    languages = tuple(languages)
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown or not languages:
        raise ValueError(f"languages: unknown or empty {list(languages)!r}; available: {', '.join(LANGUAGES)}")
    return _load_vocabulary(languages)


@functools.lru_cache(maxsize=8)
def _load_vocabulary(languages: tuple[str, ...]) -> Vocabulary:
    tables: dict[str, Any] = {}
    for lang in languages:
        with resources.files("assistant.understand.vocab").joinpath(f"{lang}.toml").open("rb") as fh:
            data = tomllib.load(fh)
        for name, table in data.items():
            merged = tables.setdefault(name, {})
            for key, value in table.items():
                if isinstance(value, list) and isinstance(merged.get(key), list):
                    merged[key] = merged[key] + value
                else:
                    merged[key] = value

    def get(name: str) -> dict[str, Any]:
        return {str(k).lower(): v for k, v in tables.get(name, {}).items()}

    def lists(name: str) -> dict[str, tuple[str, ...]]:
        return {k: tuple(str(x).lower() for x in v) for k, v in tables.get(name, {}).items()}

    brands: dict[str, str] = {}
    brand_table = tables.get("brands", {})
    for name in brand_table.get("catalog", []) + brand_table.get("other", []):
        for alias in {name.lower(), name.lower().replace("&", "and"), name.lower().replace(" & ", "&")}:
            brands.setdefault(alias, name)
    filler = tables.get("filler", {})
    negation = tables.get("negation", {})
    return Vocabulary(
        languages=languages,
        colors=get("colors"),
        color_ignore=tuple(t.lower() for t in tables.get("color_ignore", {}).get("terms", [])),
        sizes=get("sizes"),
        size_words=get("size_words"),
        size_known=frozenset(tables.get("size_known", {}).get("values", [])),
        numbers={k: int(v) for k, v in get("numbers").items()},
        ordinals={k: int(v) for k, v in get("ordinals").items()},
        audience=get("audience"),
        audience_weak=get("audience_weak"),
        segments={k: (str(v[0]), float(v[1])) for k, v in get("segments").items()},
        categories={k: tuple(v) for k, v in get("categories").items()},
        brands=brands,
        exclude_terms=get("exclude_terms"),
        negation=tuple(t.lower() for t in negation.get("terms", [])),
        negation_fillers=tuple(t.lower() for t in negation.get("fillers", [])),
        budget=lists("budget"),
        operations=lists("operations"),
        clear=get("clear"),
        age=lists("age"),
        filler=tuple(t.lower() for t in filler.get("phrases", [])),
        stopwords=frozenset(t.lower() for t in filler.get("stopwords", [])),
        gloss=get("gloss"),
    )


# ---------------------------------------------------------------------------- regex building

_AN = "a-z0-9"
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_LATIN_RE = re.compile("[a-zA-Z]")
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
            if t.endswith(("sh", "ch", "x")):
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


class _Patterns:
    """All compiled expressions of one vocabulary."""

    def __init__(self, v: Vocabulary):
        c = re.compile
        b = v.budget
        self.brand = c(_alt(v.brands))
        neg = _alt(v.negation)
        fill = _alt(v.negation_fillers)
        joiner = rf"\s*(?:,|/|&|(?<![{_AN}])(?:or|and|nor)(?![{_AN}])|或者|或|和|、)\s*"

        def negated(term_alt: str) -> re.Pattern[str]:
            item = rf"(?:{fill}\s*){{0,3}}{term_alt}"
            return c(rf"{neg}\s*{item}(?:{joiner}{item})*")

        self.brand_neg = negated(self.brand.pattern)
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
        self.word = c(rf"(?P<g>{self.gloss.pattern})|(?P<w>[^\W_{_CJK}]+(?:['\-][^\W_{_CJK}]+)*)")
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


# ---------------------------------------------------------------------------- parsing helpers

_HTML_TAG = re.compile(r"<[^<>]{0,200}>")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\uff07": "'"})
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _clean(text: object) -> str:
    """Printable, NFKC-normalised, tag-free, whitespace-collapsed text of at most MAX_CHARS characters."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # noqa: BLE001 - a hostile __str__ must not break parsing
            return ""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2]).translate(_QUOTES)
    text = _HTML_TAG.sub(" ", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return _SPACES.sub(" ", text).strip()[:MAX_CHARS].strip()


def _cn_number(text: str) -> int | None:
    """Small Chinese numerals and digits: "六" -> 6, "十二" -> 12, "二十" -> 20, "7" -> 7."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
        return value if all(ch in _CN_DIGITS or ch == "十" for ch in text) else None
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    return None


class _Work:
    """The lower-cased message; each step blanks out (with spaces) the spans it has used."""

    def __init__(self, text: str):
        self.s = text

    def take(self, pattern: re.Pattern[str], keep: Any = None) -> list[re.Match[str]]:
        """Matches of `pattern` (those `keep` accepts), blanked out of the text."""
        matches = [m for m in pattern.finditer(self.s) if m.group(0).strip() and (keep is None or keep(m))]
        if matches:
            parts, last = [], 0
            for m in matches:
                parts += [self.s[last:m.start()], " " * (m.end() - m.start())]
                last = m.end()
            self.s = "".join(parts) + self.s[last:]
        return matches


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


class _Parser:
    """One parse: the steps share the working text and the collected fields."""

    def __init__(self, text: str, vocab: Vocabulary):
        self.v, self.p = vocab, vocab.patterns
        self.text = text
        self.work = _Work(text.lower())
        self.f: dict[str, Any] = {}

    def amount(self, text: str) -> float | None:
        m = self.p.number.search(text)
        if not m:
            return None
        value = float(m.group(0).replace(",", ""))
        if re.search(r"\d\s?k(?![a-z])", text):
            value *= 1000
        return round(value, 2) if math.isfinite(value) and 0 <= value <= MAX_PRICE else None

    def not_followed_by_exception(self, m: re.Match[str]) -> bool:
        """"any brand but Rainbird" is an exclusion, not "any brand"."""
        return not re.match(r"\s*(?:but|except|other than|besides|apart from)(?![a-z])", self.work.s[m.end():])

    def budget(self) -> None:
        p, work, f = self.p, self.work, self.f

        def is_range(m: re.Match[str]) -> bool:
            return bool(m.group("pre") or m.group("post") or p.has_currency.search(m.group("a"))
                        or p.has_currency.search(m.group("b")))

        for m in work.take(p.money_range, is_range):
            a, b = self.amount(m.group("a")), self.amount(m.group("b"))
            if a is not None and b is not None:
                f["price_min"], f["price_max"] = min(a, b), max(a, b)
        for key, pattern in (("price_max", p.money_max), ("price_min", p.money_min),
                             ("price_target", p.money_target), ("price_target", p.money_bare)):
            for m in work.take(pattern):
                value = self.amount(m.group(0))
                if value is not None and key not in f:
                    f[key] = value
        if f.get("price_min") is not None and f.get("price_max") is not None and f["price_min"] > f["price_max"]:
            f["price_min"], f["price_max"] = f["price_max"], f["price_min"]

    def operations(self) -> None:
        p, work, f = self.p, self.work, self.f
        for m in work.take(p.like):
            if "like_position" in f:
                continue
            if m.group("ord"):
                f["like_position"] = p.ordinal_map.get(_SPACES.sub(" ", m.group("ord")))
            elif m.group("num"):
                f["like_position"] = int(m.group("num")) or None
            elif m.group("cn"):
                f["like_position"] = _cn_number(m.group("cn")) or None
            else:
                f["like_position"] = -1
        if work.take(p.cheaper):
            f["cheaper"] = True
        if work.take(p.more) or p.more_alone.fullmatch(work.s):
            f["more"] = True
            work.take(re.compile(r"(?<![a-z])more(?![a-z])"))
        if work.take(p.stock):
            f["in_stock_only"] = True

    def ages(self) -> None:
        p, work, f = self.p, self.work, self.f

        def value(m: re.Match[str]) -> int | None:
            if m.group("n"):
                return int(m.group("n"))
            if m.group("w"):
                return p.number_map.get(m.group("w"))
            return _cn_number(m.group("cn"))

        for m in work.take(p.age_months):
            months = value(m)
            if months is not None and "age_years" not in f:
                f["age_years"] = months // 12
                f["_age_audience"] = "baby" if months < 24 else "kids"
        for pattern in (p.age_years, p.age_before):
            for m in work.take(pattern):
                years = value(m)
                if years is None or "age_years" in f:
                    continue
                if years < 18:
                    f["age_years"] = years
                    f["_age_audience"] = "baby" if years < 2 else "kids"
                elif years >= 60:
                    f["_age_audience"] = "seniors"

    def sizes(self) -> None:
        p, work, known = self.p, self.work, self.v.size_known
        found: list[tuple[int, str]] = []
        for m in work.take(p.size_kids):
            a, b = m.group("a") or m.group("a2"), m.group("b") or m.group("b2")
            unit = (m.group("u") or "").upper()
            for u in ([unit] if unit else ["Y", "M"]):
                if f"{a}-{b}{u}" in known:
                    found.append((m.start(), f"{a}-{b}{u}"))
                    break
        for m in work.take(p.size_number):
            unit = {"k": "C"}.get(m.group("u") or "", (m.group("u") or "").upper())
            found.append((m.start(), m.group("n") + unit))
        for pattern in (p.size_word, p.size_in):
            for m in work.take(pattern):
                found.append((m.start(), p.size_word_map.get(_SPACES.sub(" ", m.group("w")), "")))
        for m in work.take(p.size_zh):
            w = m.group("w")
            found.append((m.start(), w if w.isdigit() else p.size_word_map.get(w, w.upper())))
        for m in work.take(p.size_alone):
            found.append((m.start(), p.size_map.get(_SPACES.sub(" ", m.group(0)), "")))
        for m in work.take(p.size_kid_shoe):
            found.append((m.start(), m.group("n") + "C"))
        sizes = _unique(size for _, size in sorted(found) if size in known)
        if sizes:
            self.f["sizes"] = sizes

    def colors(self) -> None:
        p, work, f = self.p, self.work, self.f
        ignored = [m.span() for m in p.color_ignore.finditer(work.s)]

        def free(m: re.Match[str]) -> bool:
            return not any(a < m.end() and m.start() < b for a, b in ignored)

        excluded = [p.color_map.get(_SPACES.sub(" ", c.group(0)))
                    for m in work.take(p.color_neg, free) for c in p.color.finditer(m.group(0))]
        positive = [p.color_map.get(_SPACES.sub(" ", m.group(0))) for m in work.take(p.color, free)]
        f["exclude_colors"] = _unique(excluded)
        f["colors"] = tuple(c for c in _unique(positive) if c not in f["exclude_colors"])

    def run(self) -> Request:
        p, v, work, f = self.p, self.v, self.work, self.f
        cjk = len(_CJK_RE.findall(self.text))
        latin = len(_LATIN_RE.findall(self.text))
        f["language"] = "zh" if cjk and cjk * 3 >= latin else "en"

        # Brands first: "Moonbeam Baby", "Bluebell Press", "Acorn Kids" must not count as audience or colour.
        exclude_brands = [v.brands.get(_SPACES.sub(" ", b.group(0)))
                          for m in work.take(p.brand_neg) for b in p.brand.finditer(m.group(0))]
        brands = [v.brands.get(_SPACES.sub(" ", m.group(0))) for m in work.take(p.brand)]
        f["exclude_brands"] = _unique(exclude_brands)
        f["brands"] = tuple(b for b in _unique(brands) if b not in f["exclude_brands"])
        f["clear"] = _unique(p.clear_map.get(_SPACES.sub(" ", m.group(0))) for m in work.take(p.clear, self.not_followed_by_exception))
        for m in work.take(p.adult_age):
            if int(m.group("n")) >= 55:
                f["_age_audience"] = "seniors"
        self.budget()
        self.operations()
        self.ages()
        self.sizes()
        self.colors()
        f["exclude_terms"] = _unique(p.exclude_map.get(_SPACES.sub(" ", t.group(0)))
                                     for m in work.take(p.exclude) for t in p.exclude_term.finditer(m.group(0)))
        if work.take(p.cheap):
            f["cheap"] = True

        segments = [p.segment_map[_SPACES.sub(" ", m.group(0))] for m in p.segments.finditer(work.s)
                    if _SPACES.sub(" ", m.group(0)) in p.segment_map]
        audience_matches = work.take(p.audience)
        audience = None
        if audience_matches:
            word = re.sub(r"(?:'s|s'|')$", "", audience_matches[0].group(0))
            audience = p.audience_map.get(word) or p.audience_map.get(audience_matches[0].group(0))
        audience = audience or f.pop("_age_audience", None)
        if audience == "baby" and (f.get("age_years") or 0) >= 2:
            audience = "kids"  # "3岁宝宝": the catalog's baby sizes stop at 18 months
        weak = work.take(p.audience_weak)
        if audience is None and weak:
            audience = p.weak_map.get(weak[0].group(0))
        f.pop("_age_audience", None)
        f["audience"] = audience
        if audience in ("kids", "baby"):
            segments.append(("parents_young_kids", 0.8 if audience == "baby" else 0.75))
        elif audience == "seniors":
            segments.append(("retirees", 0.5))
        if segments:
            # Strongest cue wins; a grandchild cue (retirees, 0.6) beats the derived parents cue only if stronger.
            best = max(segments, key=lambda s: s[1])
            if any(s[0] == "retirees" and s[1] >= 0.6 for s in segments) and audience in ("kids", "baby"):
                best = max((s for s in segments if s[0] == "retirees"), key=lambda s: s[1])
            f["segment_hint"], f["segment_confidence"] = best

        self.need()
        cats = [v.categories.get(p.category_keys.get(_SPACES.sub(" ", m.group(0)), ""), ())
                for m in p.categories.finditer(f["need"])]
        f["categories"] = _unique(c for group in cats for c in group)
        return Request(text=self.text, **{k: val for k, val in f.items() if not k.startswith("_")})

    def need(self) -> None:
        p, v, f = self.p, self.v, self.f
        work = _Work(self.work.s)
        work.take(p.filler, lambda m: m.group(0).isascii())
        has_cjk = bool(_CJK_RE.search(work.s))
        words: list[str] = []
        for m in p.word.finditer(work.s):
            if m.group("g"):
                words.append(p.gloss_map.get(_SPACES.sub(" ", m.group("g")), ""))
            else:
                w = m.group("w").strip("'-")
                if w and w not in v.stopwords:
                    words.append(w)
        f["need"] = _SPACES.sub(" ", " ".join(words)).strip()
        if has_cjk and f["language"] == "zh":
            work.take(p.filler)
            original = re.sub(rf"[^\w{_CJK}'\-]+", " ", work.s)
            original = re.sub(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])", "", _SPACES.sub(" ", original)).strip()
            f["need_original"] = original


def parse_message(text: str, vocab: Vocabulary | None = None) -> Request:
    """Parse one shopper message into a `Request`. Never raises; odd input gives an (almost) empty Request."""
    cleaned = ""
    try:
        cleaned = _clean(text)
        if not cleaned:
            return Request()
        return _Parser(cleaned, vocab or load_vocabulary()).run()
    except Exception:  # noqa: BLE001 - the contract is "never raises"; tests call _Parser directly
        return Request(text=cleaned)


# ---------------------------------------------------------------------------- conversation

_TOPIC_FIELDS = ("need", "need_original", "categories", "colors", "exclude_colors", "sizes", "brands",
                 "exclude_brands", "exclude_terms")


def starts_new_topic(state: Request, parsed: Request) -> bool:
    """True when `parsed` names a product category that the current state is not about.

    A message with no recognised category (or no need at all) refines the current topic; a need whose
    categories overlap the state's stays on topic.
    """
    if not (parsed.need or parsed.need_original) or not parsed.categories:
        return False
    if not (state.need or state.need_original or state.categories):
        return False
    return not set(parsed.categories) & set(state.categories)


def merge_requests(state: Request, parsed: Request, shown_prices: Iterable[float] = ()) -> Request:
    """The conversation state after `parsed`, given the state before it.

    Rules, in order:
    1. "start over" (clear "all") resets the state to empty before anything else.
    2. Other clears forget fields: price (min, max, target, cheap), colors (and exclude_colors), sizes,
       brands (and exclude_brands).
    3. Topic: a new need naming a different category (see `starts_new_topic`) resets need, categories,
       colours, sizes, brands and exclusions; budget, audience, age, segment and in-stock are kept. A new need
       in the same category replaces need and categories. A need with no category is added to the current
       need ("something warmer" → "rain jacket warmer").
    4. Every field the message sets overrides the state (colours, sizes, brands replace; "make it blue"
       replaces colours); excluded colours/brands/terms accumulate; a colour or brand named again is taken
       off its exclusion list and vice versa. A new non-child audience without an age drops the age.
    5. "cheaper" without an explicit budget sets price_max = 0.8 × (the current price_max, else the median
       price of the products shown last, else price_target); with none of those it sets cheap.
    6. The operation fields (cheaper, more, like_position, clear), text and language are the latest message's.
    """
    if "all" in parsed.clear:
        state = Request()
    clears = set(parsed.clear)
    if "price" in clears:
        state = replace(state, price_min=None, price_max=None, price_target=None, cheap=False)
    if "colors" in clears:
        state = replace(state, colors=(), exclude_colors=())
    if "sizes" in clears:
        state = replace(state, sizes=())
    if "brands" in clears:
        state = replace(state, brands=(), exclude_brands=())

    s: dict[str, Any] = {}
    if parsed.need or parsed.need_original:
        if starts_new_topic(state, parsed):
            state = replace(state, **{name: Request.__dataclass_fields__[name].default for name in _TOPIC_FIELDS})
        if parsed.categories or not state.need:
            s.update(need=parsed.need, need_original=parsed.need_original,
                     categories=parsed.categories or state.categories)
        else:
            s["need"] = " ".join(dict.fromkeys((state.need + " " + parsed.need).split()))
            s["need_original"] = (state.need_original + parsed.need_original).strip()

    for name in ("price_min", "price_max", "price_target", "age_years", "audience", "segment_hint"):
        if getattr(parsed, name) is not None:
            s[name] = getattr(parsed, name)
    if parsed.segment_hint:
        s["segment_confidence"] = parsed.segment_confidence
    if parsed.audience and parsed.audience not in ("kids", "baby") and parsed.age_years is None:
        s["age_years"] = None
    if parsed.price_max is not None and parsed.price_min is None and (state.price_min or 0) > parsed.price_max:
        s["price_min"] = None
    if parsed.price_min is not None and parsed.price_max is None and state.price_max is not None \
            and state.price_max < parsed.price_min:
        s["price_max"] = None
    s["cheap"] = state.cheap or parsed.cheap
    s["in_stock_only"] = state.in_stock_only or parsed.in_stock_only
    for keep, drop in (("colors", "exclude_colors"), ("brands", "exclude_brands")):
        positive = getattr(parsed, keep) or getattr(state, keep)
        negative = _unique(getattr(state, drop) + getattr(parsed, drop))
        negative = tuple(x for x in negative if x not in getattr(parsed, keep))
        s[keep] = tuple(x for x in positive if x not in getattr(parsed, drop))
        s[drop] = negative
    if parsed.sizes:
        s["sizes"] = parsed.sizes
    s["exclude_terms"] = _unique(state.exclude_terms + parsed.exclude_terms)
    s.update(text=parsed.text, language=parsed.language, cheaper=parsed.cheaper, more=parsed.more,
             like_position=parsed.like_position, clear=parsed.clear)
    merged = replace(state, **s)

    if parsed.cheaper and parsed.price_max is None:
        prices = [float(x) for x in shown_prices if x is not None and math.isfinite(float(x))]
        base = merged.price_max or (statistics.median(prices) if prices else None) or merged.price_target
        if base:
            new_max = round(base * CHEAPER_FACTOR, 2)
            merged = replace(merged, price_max=new_max,
                             price_min=None if (merged.price_min or 0) >= new_max else merged.price_min,
                             price_target=None if (merged.price_target or 0) > new_max else merged.price_target)
        else:
            merged = replace(merged, cheap=True)
    return merged


class Conversation:
    """The turns of one shopper's conversation and the merged state (explicit data, shown to staff)."""

    def __init__(self, vocab: Vocabulary | None = None):
        self.turns: list[Turn] = []
        self.state = Request()
        self._vocab = vocab
        self._topic_start = 0  # index of the first turn of the current topic

    def add(self, message: str) -> Turn:
        """Parse `message`, merge it into the state and record it as a new turn (ids t1, t2, ...)."""
        parsed = parse_message(message, self._vocab)
        prices = next((t.shown_prices for t in reversed(self.turns) if t.shown_prices), [])
        if "all" in parsed.clear or starts_new_topic(self.state, parsed):
            self._topic_start = len(self.turns)
        self.state = merge_requests(self.state, parsed, prices)
        turn = Turn(turn_id=f"t{len(self.turns) + 1}", message=parsed.text, parsed=parsed, state=self.state)
        self.turns.append(turn)
        return turn

    def record_shown(self, turn_id: str, shown: list[tuple[str, float]]) -> None:
        """Record the products shown for a turn: (product id, price) in the order shown."""
        turn = next((t for t in self.turns if t.turn_id == turn_id), None)
        if turn is None:
            raise KeyError(f"turn_id: no turn {turn_id!r} (have {[t.turn_id for t in self.turns]})")
        try:
            pairs = [(str(pid), float(price)) for pid, price in shown]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"shown: expected (product id, price) pairs, got {shown!r:.200}") from exc
        turn.shown = [pid for pid, _ in pairs]
        turn.shown_prices = [price for _, price in pairs]

    def excluded_ids(self) -> set[str]:
        """Everything shown earlier in the current topic when the latest message asked for more; else empty."""
        if not self.turns or not self.turns[-1].parsed.more:
            return set()
        return {pid for turn in self.turns[self._topic_start:-1] for pid in turn.shown}

    def like_product_id(self) -> str | None:
        """The product the latest message points at ("like the second one"), from the last shown list."""
        if not self.turns or self.turns[-1].parsed.like_position is None:
            return None
        position = self.turns[-1].parsed.like_position
        shown = next((t.shown for t in reversed(self.turns[:-1]) if t.shown), [])
        index = position - 1 if position > 0 else len(shown) + position
        return shown[index] if 0 <= index < len(shown) else None

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.to_dict(), "turns": [t.to_dict() for t in self.turns],
                "excluded_ids": sorted(self.excluded_ids()), "like_product_id": self.like_product_id()}
