"""The blend: other models' scores, each min-max normalised per shopper, in a weighted sum."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.core.scores import min_max_rows
from assistant.behaviour.interactions import Interactions
from assistant.behaviour.model import CFModel

# The parts and weights when none are given (`aisle cf fit` chooses them on the store's own data).
DEFAULT_WEIGHTS = {"ease": 1.0, "item_item": 0.3, "popularity": 0.1}


def combine(part_scores: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """Σ weight · (part's scores min-max normalised per row): the blend's score, from its parts' raw scores."""
    total = None
    for name, scores in part_scores.items():
        if weights.get(name, 0.0):
            term = weights[name] * min_max_rows(scores)
            total = term if total is None else total + term
    if total is None:
        raise ValueError("a blend needs at least one part with a positive weight")
    return total.astype(np.float32)


class Blend(CFModel):
    """Any of the other models (`parts`: name -> its params), each min-max normalised per shopper, weighted
    (`weights`: name -> weight; parts weighted 0 are not fitted). `make_part` is the factory (it makes blends)."""

    name = "blend"

    def __init__(self, weights: Mapping[str, float] | None = None,
                 parts: Mapping[str, Mapping[str, Any]] | None = None,
                 make_part: Callable[..., CFModel] | None = None, **legacy: float) -> None:
        if legacy:  # saved before blends were configurable: ease=, item_item=, popularity= weights and l2=
            l2 = legacy.pop("l2", None)
            weights = {**DEFAULT_WEIGHTS, **legacy}
            parts = {"ease": {"l2": l2}} if l2 is not None else {}
        weights = {name: float(w) for name, w in (weights or DEFAULT_WEIGHTS).items() if float(w) > 0}
        if not weights or "blend" in weights:
            raise ValueError(f"a blend needs parts with positive weights (other models), got {weights!r}")
        parts = {name: dict((parts or {}).get(name) or {}) for name in weights}
        super().__init__(weights=weights, parts=parts)
        if make_part is None:
            raise ValueError("a blend is made by make_cf_model('blend', ...), which knows its parts")
        self.parts: dict[str, CFModel] = {name: make_part(name, **params) for name, params in parts.items()}

    def _fit(self, data: Interactions) -> None:
        for part in self.parts.values():
            part.fit(data)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        return combine({name: part._scores(rows, users, segments) for name, part in self.parts.items()},
                       self.params["weights"])

    def _arrays(self) -> dict[str, np.ndarray]:
        return {f"{name}/{k}": v for name, part in self.parts.items() for k, v in part._arrays().items()}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        for name, part in self.parts.items():
            part.data = self.data
            part._restore({k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(name + "/")})
