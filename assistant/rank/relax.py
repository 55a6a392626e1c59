"""Honest lists: which products are related to a stated need at all (a relevance floor on content
similarity), and, when fewer than k products meet every constraint, the closest alternatives, each marked
with what it relaxes ("navy, not blue", "$156.99, over your $80") — never unrelated products as padding."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from assistant.ingest.catalog import Product
from assistant.understand import Request

# A product is related to a stated need when its similarity (dense cosine) is within RELEVANCE_MARGIN of the
# best product's in the whole catalog (and at least MIN_SIMILARITY). When even the best is below
# STRONG_SIMILARITY and no word of the need is in any product's text, nothing in the store is related ("sofa"
# in a store that sells none). Chosen on the labelled sets (docs/ranking.md).
RELEVANCE_MARGIN = 0.2
MIN_SIMILARITY = 0.15
STRONG_SIMILARITY = 0.45
# Where products holding a word of the need exist but none meets the constraints, a product holding none is
# related only when this close to the best: "infant formula under $1" must not bring string cheese as a match.
CLOSE_MARGIN = 0.08
# A category is of the kind asked for when it holds this share of the products that close to the best.
KIND_SHARE = 0.05


def states_a_need(request: Request) -> bool:
    """Whether the request names what it is for (a need or a category), so unrelated products can be told."""
    return bool(request.need or request.need_original or request.categories)


def relevance_floor(similarity: np.ndarray, request: Request, words_found: bool = True,
                    margin: float = RELEVANCE_MARGIN, strong: float = STRONG_SIMILARITY) -> float | None:
    """The least similarity of a related product (inf: none is), or None when the request states no need.
    `words_found`: some word of the need is in some product's text (its BM25 score is above 0)."""
    finite = similarity[np.isfinite(similarity)]
    if not states_a_need(request) or not len(finite):
        return None
    best = float(finite.max())
    if best < strong and not words_found:
        return float("inf")
    return max(best - margin, MIN_SIMILARITY)


def own_kind(similarity: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """The products of the need's own kind: those in a category that holds at least KIND_SHARE of the
    products within CLOSE_MARGIN of the best in the store (wine for "a bottle of wine"; not the sauces,
    though a cooking wine among them is as close)."""
    finite = np.where(np.isfinite(similarity), similarity, -np.inf)
    close = finite >= float(finite.max()) - CLOSE_MARGIN
    counts = np.bincount(categories[close], minlength=int(categories.max(initial=0)) + 1)
    return (counts / max(int(close.sum()), 1) >= KIND_SHARE)[categories]


def related_products(similarity: np.ndarray, floor: float, lexical: np.ndarray | None = None,
                     allowed: np.ndarray | None = None, categories: np.ndarray | None = None) -> np.ndarray:
    """Which products are related: similarity at least `floor`, and of the kind asked for (`own_kind`, by
    `categories`): "wine under $2" finds no wine, and a wine vinegar is no match for it; cookies are not
    completed with pizza where the best cookie is a weak match. Where some products' text holds a word of the
    need (`lexical` > 0) but none of those meets the constraints, a product without such a word must also be
    within CLOSE_MARGIN of the best: the words the shopper used are in the store, just not within what they
    asked, so look-alikes are not matches."""
    related = np.isfinite(similarity) & (similarity >= floor)
    if categories is not None and len(categories) == len(similarity) and np.isfinite(floor) and related.any():
        related &= own_kind(similarity, categories)
    if lexical is None or not len(lexical) or not np.isfinite(floor) or lexical.max(initial=0) <= 0:
        return related
    if allowed is not None and bool((allowed & related & (lexical > 0)).any()):
        return related
    best = float(similarity[np.isfinite(similarity)].max())
    return related & ((lexical > 0) | (similarity >= best - CLOSE_MARGIN))


def alternatives(products: Sequence[Product], checks: Sequence, related: np.ndarray, content_scores: np.ndarray,
                 taken: set[str], count: int) -> list[tuple[int, list[str]]]:
    """Up to `count` related products that fail some relaxable constraints (and no other), fewest failed
    first, then most similar: (position, what each relaxes)."""
    if count <= 0 or not checks:
        return []
    hard = np.ones(len(products), dtype=bool)
    failed = np.zeros(len(products), dtype=np.int64)
    for check in checks:
        if check.relaxable:
            failed += ~check.keep
        else:
            hard &= check.keep
    eligible = np.flatnonzero(hard & related & (failed > 0))
    eligible = np.array([i for i in eligible if products[i].id not in taken], dtype=np.int64)
    if not len(eligible):
        return []
    scores = np.where(np.isfinite(content_scores[eligible]), content_scores[eligible], -np.inf)
    order = eligible[np.lexsort((-scores, failed[eligible]))][:count]
    return [(int(i), [c.label(products[i]) for c in checks if c.relaxable and not c.keep[i]]) for i in order]
