"""Exposure and inequality measures for fairness (definitions in `assistant.evaluation.fairness`):
exposure of products over shown lists, Gini and Lorenz curve, price tiers, group shares."""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from assistant.ingest.catalog import Product

TIERS = ("cheap", "mid", "premium")


def exposure_weight(rank: int) -> float:
    """Attention paid to a list position (1-based): 1 / log2(rank + 1)."""
    return 1.0 / math.log2(rank + 1)


def exposure(lists: Iterable[Sequence[str]], ids: Sequence[str]) -> np.ndarray:
    """Exposure of each of `ids` summed over the shown `lists` (ids outside `ids` are ignored)."""
    position = {pid: i for i, pid in enumerate(ids)}
    out = np.zeros(len(ids))
    for shown in lists:
        for place, pid in enumerate(shown, start=1):
            if pid in position:
                out[position[pid]] += exposure_weight(place)
    return out


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values: 0 all equal, (n - 1) / n all on one; 0 when all are 0."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    if len(x) == 0 or x.sum() <= 0:
        return 0.0
    if x[0] < 0:
        raise ValueError("gini needs non-negative values")
    n = len(x)
    return float(2.0 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n)


def lorenz(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve: cumulative share of products (poorest first) and of their values, from (0, 0)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    total = x.sum()
    share = np.concatenate([[0.0], np.cumsum(x) / total]) if total > 0 else np.linspace(0, 1, len(x) + 1)
    return np.linspace(0.0, 1.0, len(x) + 1), share


def price_tiers(products: Sequence[Product]) -> list[str]:
    """cheap / mid / premium per product: its mid-rank price percentile within its category
    ((cheaper + equal / 2) / n, equal counting itself) below 1/3, up to 2/3, above 2/3."""
    by_category: dict[str, list[float]] = {}
    for p in products:
        by_category.setdefault(p.category, []).append(p.price)
    sorted_prices = {c: np.sort(v) for c, v in by_category.items()}
    tiers = []
    for p in products:
        prices = sorted_prices[p.category]
        below = np.searchsorted(prices, p.price, side="left")
        equal = np.searchsorted(prices, p.price, side="right") - below
        percentile = (below + equal / 2) / len(prices)
        tiers.append("cheap" if percentile < 1 / 3 else "premium" if percentile > 2 / 3 else "mid")
    return tiers


def shares(values: np.ndarray, groups: Sequence[str], order: Sequence[str] | None = None) -> dict[str, float]:
    """Share of the total of `values` per group label (groups in `order`, else sorted)."""
    total = float(np.sum(values))
    sums: dict[str, float] = {}
    for value, group in zip(values, groups):
        sums[group] = sums.get(group, 0.0) + float(value)
    keys = list(order) if order is not None else sorted(sums)
    return {key: (sums.get(key, 0.0) / total if total > 0 else 0.0) for key in keys}
