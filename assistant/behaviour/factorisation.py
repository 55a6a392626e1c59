"""Matrix factorisation through the `implicit` library: ALS and BPR (CPU), with fold-in for new histories."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.interactions import Interactions
from assistant.behaviour.matrices import log_weights
from assistant.behaviour.model import CFModel


class ImplicitMF(CFModel):
    """Matrix factorisation through the `implicit` library (ALS or BPR), CPU."""

    # Defaults from a grid on the demo store (factors 64/128, regularization 0.05/1/5, alpha 2/10/40):
    # NDCG@10 0.089 here against 0.090 for the grid's best, and stable on tiny data.
    def __init__(self, factors: int = 64, iterations: int = 15, regularization: float = 5.0,
                 alpha: float = 2.0, learning_rate: float = 0.05, seed: int = 7) -> None:
        super().__init__(factors=factors, iterations=iterations, regularization=regularization, alpha=alpha,
                         learning_rate=learning_rate, seed=seed)

    def _make(self) -> Any:
        """The unfitted `implicit` model."""
        raise NotImplementedError

    def _fit(self, data: Interactions) -> None:
        from threadpoolctl import threadpool_limits

        model = self._make()
        confidence = log_weights(data.matrix) * self.params["alpha"]
        with threadpool_limits(1, "blas"):
            model.fit(confidence.tocsr().astype(np.float32), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)

    def _fold_in(self, rows: sp.csr_matrix) -> np.ndarray:
        """User vectors for new histories: regularised least squares against the item factors."""
        y = self.item_factors
        gram = y.T @ y
        reg = self.params["regularization"] * np.eye(y.shape[1], dtype=np.float32)
        confidence = log_weights(rows) * self.params["alpha"]
        out = np.zeros((rows.shape[0], y.shape[1]), dtype=np.float32)
        for r in range(rows.shape[0]):
            cols = confidence[r].indices
            if len(cols) == 0:
                continue
            c = confidence[r].data
            yi = y[cols]
            # implicit treats a stored value as the confidence c (preference 1): the user's normal equations
            # are (YᵀY + Yᵀ(C - I)Y + λI) x = Yᵀ C p.
            a = gram + (yi.T * (c - 1.0)) @ yi + reg
            out[r] = np.linalg.solve(a, yi.T @ c)
        return out

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        vectors = self._fold_in(rows)
        known = users >= 0
        if known.any():
            vectors[known] = self.user_factors[users[known]]
        return vectors @ self.item_factors.T

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.user_factors, self.item_factors = arrays["user_factors"], arrays["item_factors"]


class ALS(ImplicitMF):
    """implicit's AlternatingLeastSquares. Two threads and still the same model bit for bit on the same
    data: each thread solves its own shoppers' (or products') rows from the same read-only factors."""

    name = "als"

    def _make(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares
        return AlternatingLeastSquares(factors=self.params["factors"], regularization=self.params["regularization"],
                                       iterations=self.params["iterations"], random_state=self.params["seed"],
                                       num_threads=1)  # with more, implicit is not reproducible


class BPR(ImplicitMF):
    """implicit's BayesianPersonalizedRanking, on one thread: its threads update shared factors
    concurrently (Hogwild), so two threads gave a different model, and NDCG, on every run."""

    name = "bpr"

    def __init__(self, factors: int = 64, iterations: int = 300, regularization: float = 0.01,
                 alpha: float = 1.0, learning_rate: float = 0.05, seed: int = 7) -> None:
        super().__init__(factors, iterations, regularization, alpha, learning_rate, seed)

    def _make(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        return BayesianPersonalizedRanking(factors=self.params["factors"], learning_rate=self.params["learning_rate"],
                                           regularization=self.params["regularization"],
                                           iterations=self.params["iterations"], random_state=self.params["seed"],
                                           num_threads=1)  # with more, implicit is not reproducible

    def _fold_in(self, rows: sp.csr_matrix) -> np.ndarray:
        """BPR has no closed-form user solve: a new history is the mean of its items' factors."""
        weights = log_weights(rows)
        sums = np.asarray(weights.sum(axis=1)).ravel()
        return np.asarray(weights @ self.item_factors) / np.maximum(sums, 1e-12)[:, None]
