"""What shoppers come to next: a first-order item-to-next-items model over the order of first contacts."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.errors import ModelFitError
from assistant.behaviour.interactions import Interactions
from assistant.behaviour.matrices import csr_from, csr_parts
from assistant.behaviour.model import CFModel


class NextItem(CFModel):
    """P(next products | product): each product's transition counts (`Interactions.transitions`: the next 1-3
    products shoppers came to after it, weighted 1, 1/2, 1/3), plus `backward` times the products they came
    from, smoothed by `smoothing` and normalised per product. A shopper's scores are their profile (recent
    products weigh most) times that matrix."""

    name = "sequence"

    def __init__(self, smoothing: float = 1.0, backward: float = 0.25) -> None:
        super().__init__(smoothing=smoothing, backward=backward)

    def _fit(self, data: Interactions) -> None:
        if data.transitions is None:
            raise ModelFitError("sequence: the interactions carry no order (build them with build_interactions)")
        forward = data.transitions.tocsr().astype(np.float32)
        t = (forward + self.params["backward"] * forward.T).tocsr()
        totals = np.asarray(t.sum(axis=1)).ravel() + self.params["smoothing"]
        self.next_items = (sp.diags(1.0 / totals) @ t).tocsr().astype(np.float32)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        return np.asarray((rows @ self.next_items).todense(), dtype=np.float32)

    def _arrays(self) -> dict[str, np.ndarray]:
        return csr_parts("next_items", self.next_items)

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.next_items = csr_from(arrays, "next_items")
