"""The attribute value function: score(p) = Σ_k w_k · f_k(p), with the segment's weights w_k.

Each term f_k is in 0..1 and kept for the staff trace. The terms:
  price_fit       fit to the budget (target, maximum, "cheap") and the segment's price sensitivity
  audience_match  the product's audience against the shopper's (asked for, else the segment's)
  color_match     the product has a colour the shopper asked for
  size_match      the product offers the size asked for, or a kids' size for the child's age
  brand_affinity  brands the shopper asked for or bought before
  rating          the star rating, smoothed by its count (a Bayesian average)
  valued_tags     tags the segment values (durable, easy-grip, ...)
  category_prior  how likely the segment shops this category
  category_match  the product is in a category the shopper named
Also here: the size systems and audience compatibility that the hard filters use.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from assistant.ingest.catalog import Product
from assistant.understand import Request
from assistant.understand.store import StoreProfile
from assistant.rank.segments import ATTRIBUTE_TERMS, Segment

RATING_PRIOR = 3.8
RATING_PRIOR_COUNT = 10
_AGE_RANGE = re.compile(r"^(\d{1,2})-(\d{1,2})Y$", re.IGNORECASE)
_LETTER = {"XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL", "3XL"}

# Audiences a product must not have when the shopper explicitly shops for someone ("unisex" always fits; a
# product whose audience is unknown is never removed). Audiences are the canonical ones (understand/store.py).
_ADULTS = {"women", "men", "seniors", "adults"}
_CHILDREN = {"kids", "boys", "girls", "baby"}
INCOMPATIBLE_AUDIENCES = {
    "kids": _ADULTS,
    "boys": _ADULTS | {"girls"},
    "girls": _ADULTS | {"boys"},
    "baby": _ADULTS,
    "seniors": _CHILDREN,
    "adults": _CHILDREN,
    "women": _CHILDREN | {"men"},
    "men": _CHILDREN | {"women"},
}
# How well a product's audience fits the one asked for (1 when equal; missing pairs 0.2).
AUDIENCE_FIT = {
    ("kids", "unisex"): 0.4, ("baby", "kids"): 0.5, ("baby", "unisex"): 0.3, ("kids", "baby"): 0.3,
    ("kids", "boys"): 0.8, ("kids", "girls"): 0.8, ("boys", "kids"): 0.8, ("girls", "kids"): 0.8,
    ("boys", "unisex"): 0.4, ("girls", "unisex"): 0.4, ("boys", "baby"): 0.3, ("girls", "baby"): 0.3,
    ("baby", "boys"): 0.4, ("baby", "girls"): 0.4,
    ("seniors", "adults"): 0.6, ("seniors", "unisex"): 0.6, ("women", "adults"): 0.7, ("women", "unisex"): 0.7,
    ("men", "adults"): 0.7, ("men", "unisex"): 0.7, ("adults", "women"): 0.8, ("adults", "men"): 0.8,
    ("adults", "unisex"): 0.8, ("adults", "seniors"): 0.6, ("seniors", "women"): 0.5, ("seniors", "men"): 0.5,
}


# A quantity with a unit of measure or count: how much is in the pack ("16 oz", "3-LB BAG", "9 OZ/2 pk").
_PACK = re.compile(r"\d[\s-]*(?:fl\.?\s*oz|oz|ounces?|lbs?|pounds?|ct|count|pk|packs?|ml|cl|l|ltrs?|lit(?:re|er)s?|"
                   r"g|grams?|kg|gal|gallons?|qt|pt|dz|doz|rolls?|sheets?|loads?|lds)\b", re.IGNORECASE)


def size_system(size: str) -> str:
    """Which sizing a size belongs to: letter, kids_age, baby, kids_shoe, numeric, pack or other."""
    text = size.strip().upper()
    if text in _LETTER:
        return "letter"
    if _AGE_RANGE.match(text):
        return "kids_age"
    if re.fullmatch(r"\d{1,2}-\d{1,2}M", text):
        return "baby"
    if re.fullmatch(r"\d{1,2}(\.5)?C|[1-7]Y", text):
        return "kids_shoe"
    if re.fullmatch(r"\d{1,2}(\.5)?", text):
        return "numeric"
    if _PACK.search(text):
        return "pack"
    return "other"


def fits_age(size: str, age: int) -> bool:
    """True when an age-range size such as "6-7Y" covers `age` years."""
    match = _AGE_RANGE.match(size.strip())
    return bool(match) and int(match.group(1)) <= age <= int(match.group(2))


def kids_size_for_age(age: int) -> str | None:
    """The demo store's kids' clothing size for an age (2-3Y ... 10-12Y)."""
    for size in ("2-3Y", "4-5Y", "6-7Y", "8-9Y", "10-12Y"):
        if fits_age(size, age):
            return size
    return None


def category_matches(category: str, cue: str) -> bool:
    """A cue matches a category path when it is the top level, the full path, a leading part or the leaf."""
    parts = [p.strip().lower() for p in category.split(">")]
    cue_parts = [p.strip().lower() for p in cue.split(">")]
    if parts[:len(cue_parts)] == cue_parts:
        return True
    return len(cue_parts) == 1 and cue_parts[0] == parts[-1]


def smoothed_rating(rating: float | None, count: int) -> float:
    """Bayesian average towards RATING_PRIOR with RATING_PRIOR_COUNT pseudo-ratings."""
    if rating is None:
        return RATING_PRIOR
    return (rating * count + RATING_PRIOR * RATING_PRIOR_COUNT) / (count + RATING_PRIOR_COUNT)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """0-based ranks of `values`, equal values sharing the mean of their ranks ([5, 1, 5] -> [1.5, 0, 1.5])."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1] if len(values) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(values)] if len(values) else np.array([], dtype=int)
    ranks = np.empty(len(values))
    ranks[order] = np.repeat((starts + ends - 1) / 2.0, ends - starts)
    return ranks


@dataclass(frozen=True)
class ProductFeatures:
    """Per-product values the ranker needs, computed once per index."""

    price_percentile: np.ndarray  # 0..1 within the product's leaf category
    rating: np.ndarray  # smoothed stars, 1..5
    tags: list[frozenset[str]]
    text: list[str]  # lower-cased title + tags + description, for exclusions
    audience: list[str]  # the canonical audience of each product ("" when unknown), see understand/store.py
    positions: dict[str, int] = field(default_factory=dict)  # product id -> its position
    age_ranges: list[tuple[tuple[int, int], ...]] = field(default_factory=list)  # kids' sizes "6-7Y" as (6, 7)
    months_only: list[bool] = field(default_factory=list)  # sized in months only (a baby's)
    # each product's category as a number (equal numbers, same category), for what kind of product it is
    category_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def build(cls, products: Sequence[Product], profile: StoreProfile | None = None) -> "ProductFeatures":
        """Features of a catalog; `profile` maps its audience values onto the canonical ones (without one,
        a value is taken as written, lower-cased)."""
        prices = np.array([p.price for p in products], dtype=np.float64)
        percentile = np.zeros(len(products))
        by_category: dict[str, list[int]] = {}
        for i, p in enumerate(products):
            by_category.setdefault(p.category, []).append(i)
        for rows in by_category.values():
            # Equal prices share one (average) rank: a tie says nothing, so it must not order products by
            # their place in the catalog file.
            ranks = average_ranks(prices[rows])
            percentile[rows] = ranks / max(len(rows) - 1, 1)
        return cls(percentile,
                   np.array([smoothed_rating(p.rating, p.rating_count) for p in products]),
                   [frozenset(t.lower() for t in p.tags) for p in products],
                   [" ".join([p.title, " ".join(p.tags), p.description]).lower() for p in products],
                   [profile.audience_of(p.audience) if profile is not None else p.audience.lower()
                    for p in products],
                   {p.id: i for i, p in enumerate(products)},
                   [tuple((int(m.group(1)), int(m.group(2))) for s in p.sizes if (m := _AGE_RANGE.match(s.strip())))
                    for p in products],
                   [bool(p.sizes) and all(size_system(s) == "baby" for s in p.sizes) for p in products],
                   _codes(by_category, len(products)))


def _codes(groups: dict[str, list[int]], n: int) -> np.ndarray:
    codes = np.zeros(n, dtype=np.int64)
    for code, rows in enumerate(groups.values()):
        codes[rows] = code
    return codes


@dataclass(frozen=True)
class AttributeScore:
    """Σ_k w_k · f_k, normalised by Σ_k w_k; `terms[k] = (w_k, f_k)`."""

    total: float
    terms: dict[str, tuple[float, float]]

    def to_dict(self) -> dict:
        return {"total": round(self.total, 4),
                "terms": {k: {"weight": w, "value": round(f, 4), "contribution": round(w * f, 4)}
                          for k, (w, f) in self.terms.items()}}


def price_fit(price: float, percentile: float, request: Request, sensitivity: float) -> float:
    """How well a price fits the budget: near a target, comfortably under a maximum, cheap when asked."""
    if request.price_target:
        return max(0.0, 1.0 - abs(math.log(max(price, 0.01) / request.price_target)) / math.log(2.0))
    if request.price_max:
        return max(0.0, 1.0 - 0.6 * sensitivity * min(price / request.price_max, 1.0))
    if request.cheap:
        return 1.0 - percentile
    return 1.0 - 0.6 * sensitivity * percentile


def audience_fit(product_audience: str, request: Request, segment: Segment) -> float:
    """1 for the audience asked for; partial for compatible ones; else the segment's audience fit."""
    if request.audience and not product_audience:
        return 0.5  # the catalog does not say who it is for
    if request.audience:
        if product_audience == request.audience:
            return 1.0
        return AUDIENCE_FIT.get((request.audience, product_audience), 0.2)
    return segment.audiences.get(product_audience, 0.5 if not segment.audiences else 0.3)


def color_fit(color: str, request: Request) -> float:
    """1 for a colour value the request accepts (grounded values, else the colours as written), else 0."""
    if not color:
        return 0.0
    wanted = set(request.color_values) or {c.lower() for c in request.colors}
    return 1.0 if color.lower() in wanted else 0.0


def size_fit(product: Product, request: Request) -> float:
    sizes = product.sizes
    if request.sizes:
        return 1.0 if set(s.upper() for s in sizes) & set(s.upper() for s in request.sizes) else 0.0
    if request.age_years is not None and sizes:
        if any(size_system(s) == "kids_age" for s in sizes):
            return 1.0 if any(fits_age(s, request.age_years) for s in sizes) else 0.0
    return 0.0


def score_product(product: Product, index: int, features: ProductFeatures, request: Request,
                  segment: Segment, brand_affinity: Mapping[str, float] | None = None) -> AttributeScore:
    """The segment's attribute value of one product for one request."""
    brand_affinity = brand_affinity or {}
    asked_brands = {b.lower() for b in request.brands}
    values = {
        "price_fit": price_fit(product.price, float(features.price_percentile[index]), request,
                               segment.price_sensitivity),
        "audience_match": audience_fit(features.audience[index], request, segment),
        "color_match": color_fit(product.color, request),
        "size_match": size_fit(product, request),
        "brand_affinity": 1.0 if product.brand.lower() in asked_brands else
        float(brand_affinity.get(product.brand, 0.0)),
        "rating": (float(features.rating[index]) - 1.0) / 4.0,
        "valued_tags": min(len(features.tags[index] & set(segment.valued_tags)) / 2.0, 1.0),
        "category_prior": segment.category_prior(product.category),
        "category_match": 1.0 if any(category_matches(product.category, c) for c in request.categories) else 0.0,
    }
    terms = {k: (segment.weights.get(k, 0.0), values[k]) for k in ATTRIBUTE_TERMS}
    weight_sum = sum(w for w, _ in terms.values()) or 1.0
    return AttributeScore(sum(w * f for w, f in terms.values()) / weight_sum, terms)
