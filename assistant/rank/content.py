"""Content retrieval scores: dense cosine similarity fused with BM25 over the whole catalog.

Two fusions, both pure functions of two score arrays (one float per product) and a lexical weight `w`:
- "minmax" (the default, chosen on the labelled requests and the Complete Journey catalog — docs/ranking.md):
  (1 − w) · minmax(dense) + w · minmax(bm25), each normalised over the catalog; a query with no catalog
  word leaves the dense order unchanged.
- "rrf": (1 − w) / (k + dense rank) + w / (k + BM25 rank), a product without a BM25 match has no BM25 rank.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from assistant.core.config import FusionSettings

if TYPE_CHECKING:
    from assistant.index import ProductIndex
    from assistant.index.lexical import LexicalIndex
    from assistant.ingest.catalog import Product

ContentFusion = Literal["minmax", "rrf"]
RRF_K = 60


def min_max_array(scores: np.ndarray) -> np.ndarray:
    """Scores scaled to 0..1 over the array (all equal -> all 0)."""
    if not len(scores):
        return np.zeros(0, dtype=np.float32)
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - low) / (high - low)).astype(np.float32)


def ranks_of(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every entry by descending score (ties broken by position)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def fuse_content(dense: np.ndarray, lexical: np.ndarray | None, weight: float,
                 method: ContentFusion = "minmax", k: int = RRF_K) -> np.ndarray:
    """One content score per product from dense and BM25 scores. `lexical` None or `weight` 0: dense as is."""
    if lexical is None or weight <= 0:
        return dense
    if method == "rrf":
        lexical_part = np.where(lexical > 0, weight / (k + ranks_of(lexical)), 0.0)
        return ((1 - weight) / (k + ranks_of(dense)) + lexical_part).astype(np.float32)
    if method != "minmax":
        raise ValueError(f"content fusion method must be 'minmax' or 'rrf', not {method!r}")
    return (1 - weight) * min_max_array(dense) + weight * min_max_array(lexical)


def lexical_scores(lexical: "LexicalIndex | None", query: str) -> np.ndarray | None:
    """BM25 scores of every product for `query`, or None without a lexical index or query words."""
    if lexical is None or not query.strip():
        return None
    return lexical.scores(query)


def search_content(index: "ProductIndex", query_vector: np.ndarray, text: str, fusion: FusionSettings,
                   k: int) -> list[tuple["Product", float]]:
    """The k products with the best content score for a plain search, best first: the fused score when the
    index has a lexical part and the weight is above 0, else the vector index's cosine search."""
    lexical = lexical_scores(index.lexical, text) if fusion.lexical > 0 else None
    if lexical is None:
        return index.search_vector(query_vector, k)
    fused = fuse_content(index.vectors @ query_vector, lexical, fusion.lexical, fusion.lexical_fusion)
    top = np.argsort(-fused, kind="stable")[:k]
    return [(index.products[i], float(fused[i])) for i in top]
