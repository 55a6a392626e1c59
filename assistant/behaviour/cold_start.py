"""Cold start for new products: CF scores inherited from their content neighbours."""

from __future__ import annotations

from typing import Mapping, Sequence


def inherit_scores(scores: Mapping[str, float], neighbours: Mapping[str, Sequence[tuple[str, float]]]
                   ) -> dict[str, float]:
    """A product with no interactions gets the similarity-weighted mean of its content neighbours' CF
    scores. `neighbours[new] = [(known product, content similarity), ...]`."""
    inherited = {}
    for product, near in neighbours.items():
        pairs = [(scores[p], max(sim, 0.0)) for p, sim in near if p in scores]
        total = sum(w for _, w in pairs)
        if total > 0:
            inherited[product] = sum(s * w for s, w in pairs) / total
    return inherited
