"""EASE, the closed-form linear item model."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.interactions import Interactions
from assistant.behaviour.matrices import log_weights
from assistant.behaviour.model import CFModel


class EASE(CFModel):
    """Embarrassingly Shallow Autoencoder (Steck, 2019): B = I - P / diag(P), P = (XᵀX + λI)⁻¹.

    Closed form, one matrix inverse. Items beyond the `max_items` most popular are left out of the
    model (they get no EASE score) so memory stays bounded on large catalogs.
    """

    name = "ease"

    def __init__(self, l2: float = 300.0, max_items: int = 8_000) -> None:
        super().__init__(l2=l2, max_items=max_items)

    def _fit(self, data: Interactions) -> None:
        x = log_weights(data.matrix)
        counts = np.asarray((x > 0).sum(axis=0)).ravel()
        keep = np.sort(np.argsort(-counts, kind="stable")[: self.params["max_items"]])
        xk = x[:, keep]
        gram = (xk.T @ xk).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.params["l2"]
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)[None, :]
        np.fill_diagonal(b, 0.0)
        self.kept = keep
        self.weights = b.astype(np.float32)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        out = np.zeros((rows.shape[0], len(self.trained.items)), dtype=np.float32)
        out[:, self.kept] = np.asarray(log_weights(rows)[:, self.kept] @ self.weights)
        return out

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"kept": self.kept, "weights": self.weights}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.kept, self.weights = arrays["kept"], arrays["weights"]
