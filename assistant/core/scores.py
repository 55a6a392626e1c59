"""Score arithmetic shared by the ranking stages."""

from __future__ import annotations

from typing import Mapping


def min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Min-max to 0..1 (all equal -> all 1)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-12:
        return {k: 1.0 for k in scores}
    return {k: (v - low) / (high - low) for k, v in scores.items()}
