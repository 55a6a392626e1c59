"""Score arithmetic shared by the ranking stages."""

from __future__ import annotations

from typing import Mapping

import numpy as np


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Min-max to 0..1 (all equal -> all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-12:
        return {k: 1.0 for k in scores}
    return {k: (v - low) / (high - low) for k, v in scores.items()}


def min_max_rows(scores: np.ndarray) -> np.ndarray:
    """Min-max each row of a score matrix to 0..1 (a row of equal scores -> all 0)."""
    low, high = scores.min(axis=1, keepdims=True), scores.max(axis=1, keepdims=True)
    return (scores - low) / np.maximum(high - low, 1e-12)
