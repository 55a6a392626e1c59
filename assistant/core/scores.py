"""Score arithmetic shared by the ranking stages."""

from __future__ import annotations

from typing import Mapping

import numpy as np


def min_max(scores: Mapping[str, float], min_spread: float = 0.0) -> dict[str, float]:
    """Min-max to 0..1 (all equal -> all 1). With `min_spread`, scores closer together than that are not
    stretched apart: the low end is at most `high - min_spread`."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    low = min(low, high - min_spread) if min_spread > 0 else low
    if high - low < 1e-12:
        return {k: 1.0 for k in scores}
    return {k: (v - low) / (high - low) for k, v in scores.items()}


def min_max_rows(scores: np.ndarray) -> np.ndarray:
    """Min-max each row of a score matrix to 0..1 (a row of equal scores -> all 0)."""
    low, high = scores.min(axis=1, keepdims=True), scores.max(axis=1, keepdims=True)
    return (scores - low) / np.maximum(high - low, 1e-12)


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first, ties to the smaller index: what
    `np.argsort(-scores, kind="stable")[:k]` returns, through a partition (linear time) and a sort of the
    k or so best only (on 100,000 products: well under a millisecond instead of several)."""
    negated = -np.asarray(scores)
    if k >= len(negated):
        return np.argsort(negated, kind="stable")[:k]
    kth = np.partition(negated, k - 1)[k - 1]
    candidates = np.flatnonzero(negated <= kth)  # the k best and every score tied with the k-th
    return candidates[np.argsort(negated[candidates], kind="stable")][:k]
