"""Draw the demo product catalog: titles, descriptions, prices, tags and hidden quality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from assistant.demo.phrases import (
    AUDIENCE_SENTENCES, BOOK_ADJECTIVES, BOOK_NOUNS, BOOK_SENTENCES, COLOR_SENTENCES, KID_NAMES,
    MATERIAL_SENTENCES, NONFICTION_TITLES, OPENERS_BOOKS, OPENERS_BY_TOP, OPENERS_GENERIC,
    OPENERS_PLAIN, SIZE_SENTENCES, STYLE_WORDS, TAG_SENTENCES, TIER_SENTENCES, TITLE_ADJECTIVES,
)
from assistant.demo.product_types import PRODUCT_TYPES
from assistant.demo.taxonomy import (
    BRAND_TIERS, CATEGORY_BRANDS, COLORS, EXCLUSIVE_TAGS, SIZE_MIN_RUN, SIZE_SCHEMES, TIER_QUALITY,
    TIER_RANGE, ProductType,
)

Item = TypeVar("Item")

COUNT_SCALE = 1.09  # products per type = ProductType.count * COUNT_SCALE (about 2,400 in all)


@dataclass
class Catalog:
    """Generated products plus the hidden per-product arrays the event model uses."""

    rows: list[dict] = field(default_factory=list)
    type_index: list[int] = field(default_factory=list)
    tier: list[str] = field(default_factory=list)
    quality: np.ndarray = field(default_factory=lambda: np.zeros(0))
    log_popularity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rel_log_price: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def pick(rng: np.random.Generator, items: Sequence[Item]) -> Item:
    """One item drawn uniformly (a single `rng.integers` draw, so the stream stays stable)."""
    return items[int(rng.integers(len(items)))]


def _draw_sizes(rng: np.random.Generator, scheme: str) -> str:
    if not scheme:
        return ""
    sizes = SIZE_SCHEMES[scheme]
    run = int(rng.integers(SIZE_MIN_RUN[scheme], len(sizes) + 1))
    start = int(rng.integers(0, len(sizes) - run + 1))
    return "|".join(sizes[start:start + run])


def _draw_price(rng: np.random.Generator, ptype: ProductType, tier: str) -> float:
    lo, hi = TIER_RANGE[tier]
    position = lo + (hi - lo) * rng.random()
    raw = ptype.low * (ptype.high / ptype.low) ** position
    if raw < 20:
        price = round(raw * 2) / 2 - 0.01
    elif raw < 200:
        price = round(raw) - 0.01
    else:
        price = round(raw / 10) * 10 - 0.01
    return round(max(price, 0.99), 2)


def _draw_tags(rng: np.random.Generator, ptype: ProductType, material: str) -> list[str]:
    tags = list(ptype.must)
    if ptype.tags:
        count = min(len(ptype.tags), int(rng.integers(1, 4)))
        chosen = sorted(rng.choice(len(ptype.tags), size=count, replace=False).tolist())
        tags += [ptype.tags[i] for i in chosen if ptype.tags[i] not in tags]
    for group in EXCLUSIVE_TAGS:
        present = [t for t in tags if t in group]
        tags = [t for t in tags if t not in present[1:]]
    if material and material not in tags:
        tags.append(material)
    return tags


def _title(rng: np.random.Generator, ptype: ProductType, brand: str, tags: list[str],
           color: str) -> str:
    if ptype.top == "Books":
        return _book_title(rng, ptype)
    noun_words = ptype.noun.lower()
    adjectives = [TITLE_ADJECTIVES[t] for t in tags
                  if t in TITLE_ADJECTIVES and TITLE_ADJECTIVES[t].lower() not in noun_words]
    words = []
    roll = rng.random()
    if adjectives and roll < 0.65:
        if rng.random() < 0.3:
            words.append(pick(rng, STYLE_WORDS))
        words.append(pick(rng, adjectives))
    else:
        words.append(pick(rng, STYLE_WORDS))
    title = f"{brand} {' '.join(words)} {ptype.noun}"
    if color and ptype.sizes and rng.random() < 0.6:
        title += f" - {color.title()}"
    return title


def _book_title(rng: np.random.Generator, ptype: ProductType) -> str:
    if ptype.noun in NONFICTION_TITLES:
        firsts, seconds = NONFICTION_TITLES[ptype.noun]
        name = f"{pick(rng, firsts)} {pick(rng, seconds)}"
        return f"{name} (Large Print)" if "Large Print" in ptype.noun else name
    if ptype.audience in ("kids", "baby"):
        name = f"{pick(rng, KID_NAMES)} and the {pick(rng, BOOK_ADJECTIVES)} {pick(rng, BOOK_NOUNS)}"
    else:
        name = f"The {pick(rng, BOOK_ADJECTIVES)} {pick(rng, BOOK_NOUNS)}"
    return f"{name} (Large Print)" if "Large Print" in ptype.noun else name


def _description(rng: np.random.Generator, ptype: ProductType, row: dict, tier: str,
                 material: str) -> str:
    """3-5 sentences from several pools, each consistent with the product's own fields."""
    noun = ptype.phrase
    fill = {"brand": row["brand"], "noun": noun, "color": row["color"],
            "a_color": _a(row["color"]) if row["color"] else "", "title": row["title"]}
    if ptype.top == "Books":
        opener = pick(rng, OPENERS_BOOKS)
    else:
        pool = OPENERS_GENERIC + OPENERS_BY_TOP.get(ptype.top, [])
        opener = pick(rng, OPENERS_PLAIN if rng.random() < 0.3 else pool)
    optional: list[str] = []
    feature_tags = [t for t in row["tags"] if t in TAG_SENTENCES]
    if feature_tags:
        order = rng.permutation(len(feature_tags))[:2]
        optional += [pick(rng, TAG_SENTENCES[feature_tags[i]]) for i in order]
    if ptype.noun in BOOK_SENTENCES:
        optional.append(pick(rng, BOOK_SENTENCES[ptype.noun]))
    if material:
        optional.append(pick(rng, MATERIAL_SENTENCES).replace("{material}", material))
    optional.append(pick(rng, AUDIENCE_SENTENCES[ptype.audience]))
    sizes = row["size"].split("|") if row["size"] else []
    if sizes:
        label = "US " if ptype.sizes.startswith("shoe") else ""
        optional.append(pick(rng, SIZE_SENTENCES).format(
            sizes=", ".join(sizes), n=len(sizes), first=sizes[0], last=sizes[-1], label=label,
            Sizes=f"{label}sizes" if label else "Sizes"))
    if rng.random() < 0.35:
        optional.append(pick(rng, TIER_SENTENCES[tier]))
    if row["color"] and "color}" not in opener:  # {color} or {a_color}
        optional.append(pick(rng, COLOR_SENTENCES))
    keep = int(rng.integers(2, 5))
    chosen = [optional[i] for i in sorted(rng.permutation(len(optional))[:keep].tolist())]
    if rng.random() < 0.5:  # vary structure: not always features first
        chosen = [chosen[i] for i in rng.permutation(len(chosen)).tolist()]
    sentences = [opener] + chosen
    if feature_tags and rng.random() < 0.12 and len(sentences) > 2:
        sentences[0], sentences[1] = sentences[1], sentences[0]
    text = " ".join(s.format(**fill) for s in sentences)
    return text[0].upper() + text[1:]


def generate_products(rng: np.random.Generator) -> Catalog:
    """Draw every product of every type, then shuffle and number them P00001..."""
    drafts = []
    for t_index, ptype in enumerate(PRODUCT_TYPES):
        brands = list(ptype.brands or CATEGORY_BRANDS[ptype.top])
        for _ in range(round(ptype.count * COUNT_SCALE)):
            drafts.append(_draft_product(rng, t_index, ptype, brands))
    order = rng.permutation(len(drafts)).tolist()
    catalog = Catalog()
    quality, popularity, rel_price = [], [], []
    for number, index in enumerate(order, start=1):
        row, t_index, tier, q, pop, rp = drafts[index]
        row["id"] = f"P{number:05d}"
        catalog.rows.append({key: row[key] for key in (
            "id", "title", "price", "description", "category", "brand", "color", "size",
            "audience", "tags", "rating", "rating_count", "in_stock", "image_url")})
        catalog.type_index.append(t_index)
        catalog.tier.append(tier)
        quality.append(q)
        popularity.append(pop)
        rel_price.append(rp)
    catalog.quality = np.array(quality)
    catalog.log_popularity = np.array(popularity)
    catalog.rel_log_price = np.array(rel_price)
    return catalog


def _draft_product(rng: np.random.Generator, t_index: int, ptype: ProductType, brands: list[str]):
    brand = pick(rng, brands)
    tier = BRAND_TIERS[brand]
    material = pick(rng, ptype.materials) if ptype.materials else ""
    color = pick(rng, COLORS) if ptype.colored else ""
    tags = _draw_tags(rng, ptype, material)
    price = _draw_price(rng, ptype, tier)
    quality = TIER_QUALITY[tier] + rng.normal(0.0, 0.8)
    log_pop = rng.normal(0.0, 1.1)  # lognormal popularity: a long tail of rarely seen items
    rating_count = int(rng.poisson(np.exp(log_pop) * 35 * (1 + 0.4 * max(quality, -1)))) + 1
    noise = rng.normal(0.0, 0.5 / np.sqrt(rating_count))
    rating = float(np.clip(4.05 + 0.45 * quality + noise, 1.0, 5.0))
    row = {"title": "", "price": price, "description": "", "category": ptype.category,
           "brand": brand, "color": color, "size": _draw_sizes(rng, ptype.sizes),
           "audience": ptype.audience, "tags": tags, "rating": round(rating, 1),
           "rating_count": rating_count, "in_stock": bool(rng.random() < 0.93), "image_url": ""}
    row["title"] = _title(rng, ptype, brand, tags, color)
    row["description"] = _description(rng, ptype, row, tier, material)
    rel_price = float(np.log(price / np.sqrt(ptype.low * ptype.high)))
    return row, t_index, tier, float(quality), float(log_pop), rel_price

