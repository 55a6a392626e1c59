"""The store profile: what the served catalog lets the parser understand, built from the catalog itself.

Nothing here knows any one store. From the products it reads the colour values (grouped into colour families
with the vocabulary's colour words: "Navy Blue", "navy" and "Blue" are all the blue family), the brands (with
the known aliases of those brands, e.g. 耐克 for Nike), the audiences (mapped onto the canonical ones: baby,
kids / boys / girls, adults / women / men, seniors, unisex), the sizes, the category cues (the head nouns of
titles and the category leaves they fall in), phrases in which a colour word names a product ("coffee
grinder", "eye cream"), the catalog's languages and currency, and how well each attribute is filled.
`store_vocabulary` turns a profile into the `Vocabulary` the parser reads that store's messages with.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Sequence

from assistant.core.money import DEFAULT_CURRENCY, normalise_currency
from assistant.core.text import count_cjk, singular
from assistant.ingest.catalog import Product
from assistant.understand.dictionary import StoreDictionary
from assistant.understand.request import LANGUAGES
from assistant.understand.vocabulary import Vocabulary, brand_spellings, load_vocabulary

PROFILE_FILE = "profile.json"
PROFILE_VERSION = 3  # a profile of another version is rebuilt from the build's products when loaded
# An attribute filled for fewer products than this share is never a hard filter: filtering on it would
# remove every product that simply does not say (a catalog with no colour column has no "brown" items).
MIN_FILL = 0.5
# A brand or tag this share of the catalog has says nothing about one product ("National" on most of a
# grocery catalog): a reason naming only it is not specific, unless the shopper asked for it.
COMMON_SHARE = 0.2
COMMON_MIN_PRODUCTS = 20
CUE_MIN_PRODUCTS = 3  # a title head noun names a category when at least this many titles end with it...
CUE_TOP_SHARE = 0.4  # ...and this share of them are in one category leaf (else its top-level category);
CUE_MIN_SHARE = 0.2  # every leaf holding this share is named (so "pajamas" names Baby Clothing and Sleepwear)
MAX_PHRASES = 5_000
ATTRIBUTES = ("title", "description", "category", "brand", "color", "size", "audience", "tags", "rating",
              "image_url")
# Words that follow "not" / "no" without naming a thing to leave out ("not sure", "no more", "not too big").
NOT_EXCLUDABLE = frozenset("""sure more less much many very really too that this what which other else only
just even ever longer over under above below cheap cheaper expensive pricey pricy fancy good great nice best
better worse bad big bigger small smaller large larger heavy light lighter sized size color colour colours colors
brand brands matter problem hurry rush idea kind sort thing things stuff rush worries""".split())
CANONICAL_AUDIENCES = ("baby", "kids", "boys", "girls", "adults", "women", "men", "seniors", "unisex")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# "Rain Jacket - Navy (Kids)" -> "Rain Jacket"; a hyphen inside a word ("Leak-Proof") is not a cut
_TITLE_TAIL = re.compile(r"\s*(?:\(.*|\[.*|\s[-–—|]\s.*|[,:|].*)$")


@dataclass(frozen=True)
class StoreProfile:
    """What one catalog holds, as the parser and the ranker need it (saved as profile.json with the index)."""

    product_count: int
    currency: str = DEFAULT_CURRENCY
    currency_source: str = "default"  # "setting", "catalog" (column name or price values) or "default"
    languages: tuple[str, ...] = ("en",)
    fill: dict[str, float] = field(default_factory=dict)  # attribute -> share of products with a value
    colors: dict[str, list[str]] = field(default_factory=dict)  # catalog value -> [shade, family]
    color_counts: dict[str, int] = field(default_factory=dict)  # family -> products
    brands: tuple[str, ...] = ()  # as written in the catalog, most products first
    brand_aliases: dict[str, str] = field(default_factory=dict)  # alias (lower) -> a brand of this store
    audiences: dict[str, str] = field(default_factory=dict)  # catalog value -> canonical audience
    sizes: tuple[str, ...] = ()
    categories: dict[str, int] = field(default_factory=dict)  # category path -> products, most first
    category_cues: dict[str, list[str]] = field(default_factory=dict)  # head noun -> category leaves
    color_phrases: tuple[str, ...] = ()  # phrases with a colour word that name a product, not a colour
    quality: dict[str, int] = field(default_factory=dict)  # catalog-quality counts (see `_quality`)
    common: dict[str, list[str]] = field(default_factory=dict)  # "brand" / "tag" -> values too common to single out
    words: tuple[str, ...] = ()  # the catalog's own words (titles, categories, brands, tags), lower-case
    cjk_chars: str = ""  # the Chinese characters its titles use
    version: int = PROFILE_VERSION

    def filled(self, attribute: str) -> bool:
        """Whether an attribute is filled well enough to filter on (see MIN_FILL)."""
        return self.fill.get(attribute, 0.0) >= MIN_FILL

    def color_family(self, value: str) -> str | None:
        """The colour family of a catalog colour value; None when the value names no known colour."""
        entry = self.colors.get(value) or self.colors.get(value.strip().lower())
        return entry[1] if entry else None

    def values_for_color(self, shade: str, family: str) -> tuple[tuple[str, ...], bool]:
        """The catalog colour values (lower-case) a shade asks for, and whether the family stood in for it:
        a family word ("blue") takes the whole family; a shade ("navy") takes its own values, or the
        family's when the store has none of that shade."""
        exact = tuple(v for v, (s, _) in self.colors.items() if s == shade)
        if shade != family and exact:
            return exact, False
        return tuple(v for v, (_, f) in self.colors.items() if f == family), shade != family

    def knows(self, word: str) -> bool:
        """Whether a word (lower-case) is one of the catalog's own, as written or singular."""
        known = self.__dict__.get("_known")
        if known is None:
            known = self.__dict__["_known"] = frozenset(self.words)
        return word in known or singular(word) in known

    def is_common(self, attribute: str, value: str) -> bool:
        """Whether a brand or tag value (any case) is one that a large share of the catalog has."""
        return value.strip().lower() in self.common.get(attribute, ())

    def audience_of(self, value: str) -> str:
        """The canonical audience of a catalog audience value ("" when it names none)."""
        return self.audiences.get(value, "") if value else ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("languages", "brands", "sizes", "color_phrases", "words"):
            data[name] = list(data[name])
        return data

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StoreProfile":
        names = cls.__dataclass_fields__
        values = {k: v for k, v in data.items() if k in names}
        for name in ("languages", "brands", "sizes", "color_phrases", "words"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)

    def summary(self) -> dict[str, Any]:
        """The profile in short, for `aisle index info` and the Admin tab."""
        return {
            "products": self.product_count, "currency": f"{self.currency} ({self.currency_source})",
            "languages": list(self.languages),
            "filled": {k: f"{v:.0%}" for k, v in self.fill.items()},
            "colour families": dict(sorted(self.color_counts.items(), key=lambda kv: -kv[1])),
            "brands": f"{len(self.brands)}: " + ", ".join(self.brands[:12]) + (" ..." if len(self.brands) > 12 else ""),
            "audiences": dict(sorted(self.audiences.items())),
            "sizes": f"{len(self.sizes)}: " + ", ".join(self.sizes[:20]) + (" ..." if len(self.sizes) > 20 else ""),
            "categories": f"{len(self.categories)}: " + ", ".join(list(self.categories)[:8])
                          + (" ..." if len(self.categories) > 8 else ""),
            "category cues": len(self.category_cues),
            "too common to single out": {k: v for k, v in self.common.items() if v},
            "product phrases with colour words": len(self.color_phrases),
        }


def color_of(value: str, vocab: Vocabulary) -> tuple[str, str] | None:
    """(shade, family) of a catalog colour value: its longest colour phrase ("Navy Blue" -> navy, blue)."""
    text = " ".join(value.lower().replace("-", " ").split())
    if not text:
        return None
    found = [m for m in vocab.patterns.color.finditer(text)]
    if not found:
        return None
    best = max(found, key=lambda m: len(m.group(0)))
    shade = vocab.patterns.color_map.get(" ".join(best.group(0).split()))
    return (shade, vocab.color_family(shade)) if shade else None


def color_accepts(asked: str, value: str, vocab: Vocabulary | None = None) -> bool:
    """Whether a catalog colour value satisfies an asked colour shade: a family word ("blue") takes its whole
    family, a shade ("navy") takes itself (what `grounding.ground` does where the store has the shade)."""
    vocab = vocab or load_vocabulary(LANGUAGES)
    found = color_of(value, vocab)
    if found is None:
        return value.strip().lower() == asked.lower()
    family = vocab.color_family(asked.lower())
    return found[0] == asked.lower() or (asked.lower() == family and found[1] == family)


def _audience_of(value: str, vocab: Vocabulary) -> str:
    text = value.strip().lower()
    if text in CANONICAL_AUDIENCES:
        return text
    matches = list(vocab.patterns.audience.finditer(text))
    if not matches:
        return ""
    word = re.sub(r"(?:'s|s'|')$", "", max(matches, key=lambda m: len(m.group(0))).group(0))
    return vocab.patterns.audience_map.get(word) or vocab.patterns.audience_map.get(word + "s", "")


def head_nouns(title: str) -> tuple[str, ...]:
    """The last word and the last two words of a title's main part, singular ("Kids Waterproof Rain
    Jackets - Navy" -> ("jacket", "rain jacket"))."""
    main = _TITLE_TAIL.sub("", title) or title
    words = _WORD.findall(main.lower())
    if not words:
        return ()
    last = singular(words[-1])
    return (last, f"{words[-2]} {last}") if len(words) > 1 else (last,)


def _dominant(counts: Counter[str]) -> list[str]:
    """The values holding at least CUE_MIN_SHARE of the counts each (at most three, most first), provided the
    first holds CUE_TOP_SHARE; else none."""
    total = sum(counts.values())
    top = counts.most_common(3)
    if top[0][1] / total < CUE_TOP_SHARE:
        return []
    return [value for value, n in top if n / total >= CUE_MIN_SHARE]


def _category_cues(products: Sequence[Product]) -> dict[str, list[str]]:
    """Title head noun -> the category leaves (else the top-level category) most products so titled are in."""
    leaves: dict[str, Counter[str]] = defaultdict(Counter)
    tops: dict[str, Counter[str]] = defaultdict(Counter)
    for p in products:
        for word in head_nouns(p.title):
            if len(word) > 2 and p.category_path:
                leaves[word][p.category_path[-1]] += 1
                tops[word][p.category_path[0]] += 1
    cues: dict[str, list[str]] = {}
    # The category names themselves: "Toys", "Rain Gear", "Large Print" are this store's own words.
    for path in {p.category_path for p in products if p.category_path}:
        for part in {path[0], path[-1]}:
            name = " ".join(singular(w) for w in _WORD.findall(part.lower()))
            if len(name) > 2:
                cues.setdefault(name, [])
                if part not in cues[name]:
                    cues[name].append(part)
    for word, counts in leaves.items():
        if sum(counts.values()) >= CUE_MIN_PRODUCTS:
            found = _dominant(counts) or _dominant(tops[word])
            if found and word not in cues:
                cues[word] = found
    return dict(sorted(cues.items()))


def _color_phrases(products: Sequence[Product], vocab: Vocabulary, families: list[str | None]) -> tuple[str, ...]:
    """Phrases of titles holding a colour word where most such products are not that colour: two-word ones
    ("coffee grinder" in a store whose grinders are black), and the colour word alone when most titles
    that hold it are not of its colour ("coffee" where it names coffee makers, "golden" in book titles)."""
    single = {t: shade for t, shade in vocab.patterns.color_map.items() if " " not in t}
    seen: Counter[str] = Counter()
    agree: Counter[str] = Counter()
    word_seen: Counter[str] = Counter()
    word_agree: Counter[str] = Counter()
    for p, family in zip(products, families):
        words = _WORD.findall(p.title.lower())
        for i, w in enumerate(words):
            shade = single.get(w)
            if shade is None:
                continue
            word_seen[w] += 1
            word_agree[w] += family == vocab.color_family(shade)
            for phrase in (f"{w} {words[i + 1]}" if i + 1 < len(words) else "",
                           f"{words[i - 1]} {w}" if i else ""):
                if not phrase or phrase in vocab.patterns.color_map:
                    continue
                seen[phrase] += 1
                agree[phrase] += family == vocab.color_family(shade)
    product_words = [w for w, n in word_seen.most_common() if n >= 3 and word_agree[w] / n < 0.3]
    product_phrases = [ph for ph, n in seen.most_common() if agree[ph] / n < 0.5]
    return tuple(product_words + product_phrases[:MAX_PHRASES])


def _quality(products: Sequence[Product]) -> dict[str, int]:
    """How many products lack each field, share a title, or have a very short (< 20 characters) or very long
    (> 5,000) description."""
    counts: dict[str, int] = {f"missing {name}": sum(1 for p in products if getattr(p, name) in ("", (), None))
                              for name in ATTRIBUTES if name != "title"}
    titles = Counter(" ".join(p.title.lower().split()) for p in products)
    counts["duplicate titles"] = sum(n for n in titles.values() if n > 1)
    counts["very short descriptions"] = sum(1 for p in products if 0 < len(p.description) < 20)
    counts["very long descriptions"] = sum(1 for p in products if len(p.description) > 5_000)
    return counts


def _common_values(products: Sequence[Product]) -> dict[str, list[str]]:
    """Brand and tag values (lower-case) held by at least COMMON_SHARE of a catalog's products."""
    if len(products) < COMMON_MIN_PRODUCTS:
        return {}
    least = COMMON_SHARE * len(products)
    brands = Counter(p.brand.strip().lower() for p in products if p.brand.strip())
    tags = Counter(t for p in products for t in {t.strip().lower() for t in p.tags if t.strip()})
    return {name: sorted(v for v, n in counts.items() if n >= least) for name, counts in (("brand", brands), ("tag", tags))}


def _catalog_words(products: Sequence[Product]) -> tuple[str, ...]:
    words: set[str] = set()
    for p in products:
        text = " ".join((p.title, p.category, p.brand, " ".join(p.tags), p.color, p.audience)).lower()
        for word in _WORD.findall(text):
            if len(word) > 1 and word.isascii():
                words.add(singular(word))
    return tuple(sorted(words))


def _languages(products: Sequence[Product]) -> tuple[str, ...]:
    cjk = sum(1 for p in products if count_cjk(p.title) * 2 >= max(len(p.title.replace(" ", "")), 1))
    share = cjk / max(len(products), 1)
    if share >= 0.5:
        return ("zh", "en") if share < 0.9 else ("zh",)
    return ("en", "zh") if share >= 0.1 else ("en",)


def build_profile(products: Sequence[Product], currency: str | None = None, catalog_currency: str | None = None,
                  vocab: Vocabulary | None = None) -> StoreProfile:
    """Profile a catalog. `currency` is the store's setting (wins); `catalog_currency` what the file named."""
    vocab = vocab or load_vocabulary(LANGUAGES)
    n = max(len(products), 1)
    fill = {name: round(sum(1 for p in products if getattr(p, name) not in ("", (), None)) / n, 4)
            for name in ATTRIBUTES}
    colors: dict[str, list[str]] = {}
    for value in sorted({p.color for p in products if p.color}):
        found = color_of(value, vocab)
        if found:
            colors[value.lower()] = list(found)
    families = [colors[p.color.lower()][1] if p.color and p.color.lower() in colors else None for p in products]
    brand_counts = Counter(p.brand for p in products if p.brand)
    brands = tuple(b for b, _ in brand_counts.most_common())
    lower = {b.lower(): b for b in brands}
    aliases = {alias: lower[brand.lower()] for alias, brand in vocab.brand_aliases.items() if brand.lower() in lower}
    audiences = {value: _audience_of(value, vocab) for value in sorted({p.audience for p in products if p.audience})}
    size_counts = Counter(s for p in products for s in p.sizes)
    chosen = normalise_currency(currency)
    found_currency = normalise_currency(catalog_currency)
    languages = _languages(products)
    return StoreProfile(
        product_count=len(products),
        # A catalog in Chinese that names no currency is taken to be priced in yuan (say otherwise in settings).
        currency=chosen or found_currency or ("CNY" if languages[0] == "zh" else DEFAULT_CURRENCY),
        currency_source=("setting" if chosen else "catalog" if found_currency else
                         "catalog language" if languages[0] == "zh" else "default"),
        languages=languages,
        fill=fill,
        colors=colors,
        color_counts=dict(Counter(f for f in families if f)),
        brands=brands,
        brand_aliases=aliases,
        audiences=audiences,
        sizes=tuple(s for s, _ in size_counts.most_common()),
        categories=dict(Counter(p.category for p in products if p.category).most_common()),
        category_cues=_category_cues(products),
        color_phrases=_color_phrases(products, vocab, families) if fill["color"] else (),
        words=_catalog_words(products),
        quality=_quality(products),
        common=_common_values(products),
        cjk_chars="".join(sorted({ch for p in products for ch in p.title if count_cjk(ch)})),
    )


def store_vocabulary(profile: StoreProfile, languages: Iterable[str] = LANGUAGES) -> Vocabulary:
    """The vocabulary for messages to this store: the language's words plus the store's brands, sizes and
    category cues; colour words only where the store's colours can be filtered on, and never inside a
    phrase that names one of its products."""
    languages = tuple(languages)
    cache = profile.__dict__.setdefault("_vocabularies", {})  # one per profile object and languages
    if languages not in cache:
        cache[languages] = _store_vocabulary(profile, languages)
    return cache[languages]


def _store_vocabulary(profile: StoreProfile, languages: tuple[str, ...]) -> Vocabulary:
    base = load_vocabulary(languages)
    brands = dict(base.brands)
    for name in profile.brands:
        for alias in brand_spellings(name):
            brands[alias] = name
    brands.update(profile.brand_aliases)
    families = {family for _, family in profile.colors.values()}
    colors = ({phrase: shade for phrase, shade in base.colors.items() if base.color_family(shade) in families}
              if profile.filled("color") else {})
    cues = {word: tuple(leaves) for word, leaves in profile.category_cues.items()}
    # "cereal but not granola", "a jacket without a hood": any word of the store's own may be ruled out.
    exclude = {**{w: w for w in profile.words if len(w) >= 4 and w not in NOT_EXCLUDABLE and w not in colors},
               **base.exclude_terms}
    # A Chinese message to a store whose titles are not Chinese is read with a dictionary, in the store's words.
    dictionary = StoreDictionary(frozenset(profile.words), not profile.filled("audience")) \
        if "zh" in languages and profile.languages[0] != "zh" else None
    return replace(base, brands=brands, colors=colors, exclude_terms=exclude, store_words=frozenset(profile.words),
                   dictionary=dictionary,
                   color_ignore=base.color_ignore + profile.color_phrases,
                   size_known=frozenset(profile.sizes), categories=cues,
                   brand_names=tuple(dict.fromkeys(profile.brands + base.brand_names)))
