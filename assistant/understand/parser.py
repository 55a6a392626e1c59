"""Shopper message → `Request`: a deterministic, rule-based parser (stdlib only: re, unicodedata).

It never raises: any input gives a `Request`, possibly empty. Its words come from a `Vocabulary`.

How a message is read, in order (each step blanks out the words it used, so later steps do not see them):
brands (and "no <brand>"), "forget the budget"-style clears, budgets, operations (something like the
second one, cheaper, show me more), in stock, ages, sizes, colours (and "not <colour>"), excluded materials,
"cheap", segment cues (not blanked), audience. What is left, minus filler words, is the `need`; for text with
Chinese characters the need is an English gloss of the recognised words. Categories are read off the need.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from assistant.core.text import CJK, LATIN_RE, SPACES_RE, count_cjk, has_cjk
from assistant.understand.request import CHILD_AUDIENCES, MAX_CHARS, MAX_PRICE, Request
from assistant.understand.vocabulary import Vocabulary, load_vocabulary

_HTML_TAG = re.compile(r"<[^<>]{0,200}>")
_SCRIPT = re.compile(r"<(script|style)\b[^>]{0,200}>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\uff07": "'"})
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_SPELLED_MONEY = re.compile(
    r"(?<![a-z])(?:(?P<h>a|one|two|three|four|five)\s+hundred(?:\s+(?:and\s+)?)?)?"
    rf"(?:(?P<t>{'|'.join(_TENS)})(?:[\s-](?P<u>{'|'.join(_UNITS)}))?|(?P<o>{'|'.join(_UNITS)}))?"
    r"(?<=[a-z])\s+(?=(?:dollars?|bucks?|euros?|quid|rupees?|yuan)(?![a-z]))")
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def clean_message(text: object) -> str:
    """The message as the parser reads it: printable, NFKC-normalised, tag-free, whitespace-collapsed text of at most MAX_CHARS characters."""
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
    text = _HTML_TAG.sub(" ", _SCRIPT.sub(" ", text))  # a script's or style's content is code, not words
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return SPACES_RE.sub(" ", text).strip()[:MAX_CHARS].strip()


def _spelled_amount(m: re.Match[str]) -> str:
    """"twenty-five " -> "25 ", "a hundred and fifty " -> "150 " (only before a currency word)."""
    hundreds = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}.get(m.group("h") or "", 0) * 100
    value = hundreds + _TENS.get(m.group("t") or "", 0) + _UNITS.get(m.group("u") or m.group("o") or "", 0)
    return f"{value} " if value else m.group(0)


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


def unique(items: Iterable[Any]) -> tuple[Any, ...]:
    """The truthy items, first occurrence kept, in order."""
    return tuple(dict.fromkeys(i for i in items if i))


class _Parser:
    """One parse: the steps share the working text and the collected fields."""

    def __init__(self, text: str, vocab: Vocabulary):
        self.v, self.p = vocab, vocab.patterns
        self.text = text
        self.work = _Work(text.lower())
        self.f: dict[str, Any] = {}
        self.brand_words: list[str] = []

    def amount(self, text: str) -> float | None:
        m = self.p.number.search(text)
        if not m:
            return None
        value = float(m.group(0).replace(",", ""))
        if re.search(r"\d\s?k(?![a-z])", text):
            value *= 1000
        if re.search(r"\d\s?(?:cents?(?![a-z])|¢)", text):
            value /= 100  # "under 50 cents"
        return round(value, 2) if math.isfinite(value) and 0 <= value <= MAX_PRICE else None

    def not_followed_by_exception(self, m: re.Match[str]) -> bool:
        """"any brand but Rainbird" is an exclusion, not "any brand"."""
        return not re.match(r"\s*(?:but|except|other than|besides|apart from)(?![a-z])", self.work.s[m.end():])

    def budget(self) -> None:
        p, work, f = self.p, self.work, self.f
        work.s = _SPELLED_MONEY.sub(_spelled_amount, work.s)  # "twenty dollars" -> "20 dollars"

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
                f["like_position"] = p.ordinal_map.get(SPACES_RE.sub(" ", m.group("ord")))
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
                found.append((m.start(), p.size_word_map.get(SPACES_RE.sub(" ", m.group("w")), "")))
        for m in work.take(p.size_zh):
            w = m.group("w")
            found.append((m.start(), w if w.isdigit() else p.size_word_map.get(w, w.upper())))
        for m in work.take(p.size_alone):
            found.append((m.start(), p.size_map.get(SPACES_RE.sub(" ", m.group(0)), "")))
        for m in work.take(p.size_kid_shoe):
            found.append((m.start(), m.group("n") + "C"))
        sizes = unique(size for _, size in sorted(found) if size in known)
        if sizes:
            self.f["sizes"] = sizes

    def colors(self) -> None:
        p, work, f = self.p, self.work, self.f
        ignored = [m.span() for m in p.color_ignore.finditer(work.s)]

        def free(m: re.Match[str]) -> bool:
            return not any(a < m.end() and m.start() < b for a, b in ignored)

        excluded = [p.color_map.get(SPACES_RE.sub(" ", c.group(0)))
                    for m in work.take(p.color_neg, free) for c in p.color.finditer(m.group(0))]
        positive = [p.color_map.get(SPACES_RE.sub(" ", m.group(0))) for m in work.take(p.color, free)]
        f["exclude_colors"] = unique(excluded)
        f["colors"] = tuple(c for c in unique(positive) if c not in f["exclude_colors"])

    def run(self) -> Request:
        p, v, work, f = self.p, self.v, self.work, self.f
        cjk = count_cjk(self.text)
        latin = len(LATIN_RE.findall(self.text))
        f["language"] = "zh" if cjk and cjk * 3 >= latin else "en"

        # Brands first: "Moonbeam Baby", "Bluebell Press", "Acorn Kids" must not count as audience or colour.
        exclude_brands = [v.brands.get(SPACES_RE.sub(" ", b.group(0)))
                          for m in work.take(p.brand_neg) for b in p.brand.finditer(m.group(0))]
        brand_matches = work.take(p.brand)
        brands = [v.brands.get(SPACES_RE.sub(" ", m.group(0))) for m in brand_matches]
        # A brand (or model) word the shopper typed stays in the search text: "fitbit charge" is about Fitbit.
        self.brand_words = [typed if typed.isascii() else (brand or "") for typed, brand in
                            ((SPACES_RE.sub(" ", m.group(0)), b) for m, b in zip(brand_matches, brands))]
        f["exclude_brands"] = unique(exclude_brands)
        f["brands"] = tuple(b for b in unique(brands) if b not in f["exclude_brands"])
        f["clear"] = unique(p.clear_map.get(SPACES_RE.sub(" ", m.group(0))) for m in work.take(p.clear, self.not_followed_by_exception))
        for m in work.take(p.adult_age):
            if int(m.group("n")) >= 55:
                f["_age_audience"] = "seniors"
        self.budget()
        self.operations()
        self.ages()
        self.sizes()
        self.colors()
        excluded = [p.exclude_map.get(SPACES_RE.sub(" ", t.group(0)))
                    for m in work.take(p.exclude) for t in p.exclude_term.finditer(m.group(0))]
        if v.dictionary is not None:
            excluded += [w for m in work.take(p.negated_chinese) for w in v.dictionary.translate(m.group("x"))[0].split()]
        f["exclude_terms"] = unique(excluded)
        if work.take(p.cheap):
            f["cheap"] = True

        segments = [p.segment_map[SPACES_RE.sub(" ", m.group(0))] for m in p.segments.finditer(work.s)
                    if SPACES_RE.sub(" ", m.group(0)) in p.segment_map]
        audience_matches = work.take(p.audience)
        # "baby food", "kids' jacket": an audience word the store's own titles use is a search word too
        self.brand_words += [w for m in audience_matches
                             if (w := re.sub(r"(?:'s|s'|')$", "", m.group(0))) in v.store_words
                             or w.rstrip("s") in v.store_words]
        if v.dictionary is not None and v.dictionary.reads_audience:  # 婴儿食品 where audience is no field
            self.brand_words += [v.dictionary.translate(m.group(0))[0] for m in audience_matches if has_cjk(m.group(0))]
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
        if audience in CHILD_AUDIENCES:
            segments.append(("parents_young_kids", 0.8 if audience == "baby" else 0.75))
        elif audience == "seniors":
            segments.append(("retirees", 0.5))
        if segments:
            # Strongest cue wins; a grandchild cue (retirees, 0.6) beats the derived parents cue only if stronger.
            best = max(segments, key=lambda s: s[1])
            if any(s[0] == "retirees" and s[1] >= 0.6 for s in segments) and audience in CHILD_AUDIENCES:
                best = max((s for s in segments if s[0] == "retirees"), key=lambda s: s[1])
            f["segment_hint"], f["segment_confidence"] = best

        self.need()
        cats = [v.categories.get(p.category_keys.get(SPACES_RE.sub(" ", m.group(0)), ""), ())
                for m in p.categories.finditer(f["need"])]
        f["categories"] = unique(c for group in cats for c in group)
        return Request(text=self.text, **{k: val for k, val in f.items() if not k.startswith("_")})

    def need(self) -> None:
        p, v, f = self.p, self.v, self.f
        work = _Work(self.work.s)
        work.take(p.filler, lambda m: m.group(0).isascii())
        cjk_need = has_cjk(work.s)
        words: list[str] = []
        for m in p.word.finditer(work.s):
            if m.group("g"):
                words.append(p.gloss_map.get(SPACES_RE.sub(" ", m.group("g")), ""))
            else:
                w = m.group("w").strip("'-")
                if w and w not in v.stopwords:
                    words.append(w)
        f["need"] = SPACES_RE.sub(" ", " ".join(self.brand_words + words)).strip()
        if cjk_need and f["language"] == "zh":
            work.take(p.filler)
            original = re.sub(rf"[^\w{CJK}'\-]+", " ", work.s)
            original = re.sub(rf"(?<=[{CJK}])\s+(?=[{CJK}])", "", SPACES_RE.sub(" ", original)).strip()
            f["need_original"] = original
            if v.dictionary is not None:  # what the glossary did not read, in the store's own words
                english = v.dictionary.translate(p.gloss.sub(" ", original))[0]
                f["need"] = " ".join(dict.fromkeys(f"{f['need']} {english}".split()))


def parse_message(text: str, vocab: Vocabulary | None = None, *, strict: bool = False) -> Request:
    """Parse one shopper message into a `Request`. Never raises; odd input gives an (almost) empty Request.

    With `strict`, an error inside the parser propagates instead (tests use it so that a bug shows up).
    """
    cleaned = ""
    try:
        cleaned = clean_message(text)
        if not cleaned:
            return Request()
        return _Parser(cleaned, vocab or load_vocabulary()).run()
    except Exception:  # noqa: BLE001 - the contract is "never raises"
        if strict:
            raise
        return Request(text=cleaned)

