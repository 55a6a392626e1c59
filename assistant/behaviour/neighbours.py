"""Neighbourhood models: user-user (the product's source formula) and item-item cosine."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.interactions import Interactions
from assistant.behaviour.matrices import csr_from, csr_parts, log_weights, top_k_per_column
from assistant.behaviour.model import CFModel


class UserUserCF(CFModel):
    """User-user CF with the product's source formula:

        Sim(u, v) = Σᵢ I(uᵢ = vᵢ = liked) / sqrt(Σᵢ uᵢ² · Σᵢ vᵢ²)

    uᵢ is u's interaction weight with item i; "liked" means a weight of at least `like_threshold`
    (a cart, a purchase or a good rating). Scores are Σ over the top-N neighbours of Sim(u, v) · vᵢ.
    """

    name = "user_user"

    def __init__(self, neighbours: int = 50, like_threshold: float = 4.0) -> None:
        super().__init__(neighbours=neighbours, like_threshold=like_threshold)

    def _fit(self, data: Interactions) -> None:
        self._prepare(data)

    def _prepare(self, data: Interactions) -> None:
        self.liked = (data.matrix >= self.params["like_threshold"]).astype(np.float32).tocsr()
        self.norms = np.sqrt(np.asarray(data.matrix.multiply(data.matrix).sum(axis=1)).ravel())

    def similarity(self, rows: sp.csr_matrix) -> np.ndarray:
        """Sim(row, v) for every training user v: (len(rows), users)."""
        liked = (rows >= self.params["like_threshold"]).astype(np.float32)
        overlap = np.asarray((liked @ self.liked.T).todense())
        row_norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
        return overlap / np.maximum(row_norms[:, None] * self.norms[None, :], 1e-12)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        sims = self.similarity(rows)
        for r, user in enumerate(users):
            if user >= 0:
                sims[r, user] = 0.0  # a shopper is not their own neighbour
        n = min(self.params["neighbours"], sims.shape[1])
        if n < sims.shape[1]:
            cut = np.argpartition(-sims, n - 1, axis=1)[:, n:]
            np.put_along_axis(sims, cut, 0.0, axis=1)
        return np.asarray((self.trained.matrix.T @ sims.T).T, dtype=np.float32)

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self._prepare(self.trained)


class ItemItemCF(CFModel):
    """Item-item cosine similarity over log-weighted interactions, top-N neighbours per item."""

    name = "item_item"

    def __init__(self, neighbours: int = 100) -> None:
        super().__init__(neighbours=neighbours)

    def _fit(self, data: Interactions) -> None:
        x = log_weights(data.matrix).tocsc()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        xn = (x @ sp.diags(1.0 / np.maximum(norms, 1e-12))).astype(np.float32)
        sim = (xn.T @ xn).tocsc()  # sparse: on long-tailed data most item pairs never co-occur
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        self.similarity = top_k_per_column(sim, self.params["neighbours"]).tocsr()

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        return np.asarray((log_weights(rows) @ self.similarity).todense())

    def _arrays(self) -> dict[str, np.ndarray]:
        return csr_parts("similarity", self.similarity)

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.similarity = csr_from(arrays, "similarity")
