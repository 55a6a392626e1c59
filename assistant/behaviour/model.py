"""The one interface of every collaborative-filtering model (`CFModel`) and its `Evidence`."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.errors import ModelFitError
from assistant.behaviour.interactions import Interactions
from assistant.behaviour.store import publish_cf_model
from assistant.core.scores import top_k_indices


@dataclass(frozen=True)
class Evidence:
    """Why CF suggests `item` for a history, in numbers (and words via `text`)."""

    item: str
    shoppers: int  # shoppers who interacted with the item and with at least one item of the history
    item_shoppers: int  # shoppers who interacted with the item at all
    co_items: tuple[tuple[str, int], ...]  # history items most often together with it: (id, shoppers)
    score: float

    def text(self, titles: Mapping[str, str] | None = None) -> str:
        """E.g. "14 shoppers whose baskets overlap yours chose it; often together with X (9) and Y (5)"."""
        titles = titles or {}
        if not self.shoppers:
            if self.item_shoppers:
                return f"popular: chosen by {self.item_shoppers} shoppers"
            return "no behavioural evidence yet"
        named = [f"{titles.get(i, i)} ({n})" for i, n in self.co_items]
        together = f"; often together with {' and '.join(named)}" if named else ""
        return f"{self.shoppers} shoppers whose baskets overlap yours chose it{together}"


class CFModel(ABC):
    """A collaborative-filtering model. Subclasses implement `_fit`, `_scores` and their params."""

    name: str = ""

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.data: Interactions | None = None
        self.fit_seconds = 0.0
        self.version = ""  # the saved version it was loaded from or published as
        self.selection: dict | None = None  # what `aisle cf fit` tried and chose (saved in the manifest)

    # -- subclass hooks
    @abstractmethod
    def _fit(self, data: Interactions) -> None:
        """Learn from `data` (already stored as self.data)."""

    @abstractmethod
    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        """Dense (len(rows), items) scores for history rows; users[i] is the training row index or -1,
        segments[i] the shopper's segment ("" when unknown)."""

    def _arrays(self) -> dict[str, np.ndarray]:
        """Learned arrays to save (names -> arrays)."""
        return {}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Inverse of `_arrays`."""

    # -- public API
    def fit(self, data: Interactions) -> "CFModel":
        """Fit on an interaction matrix; returns self."""
        if data.matrix.nnz == 0:
            raise ModelFitError("the interaction matrix is empty")
        started = time.perf_counter()
        self.data = data
        self._fit(data)
        self.fit_seconds = time.perf_counter() - started
        return self

    @property
    def trained(self) -> Interactions:
        """The interactions the model was fitted on (or loaded with); raises before fit()."""
        if self.data is None:
            raise ModelFitError(f"{self.name}: call fit() or load() first")
        return self.data

    def score_rows(self, rows: sp.csr_matrix, users: np.ndarray | None = None,
                   segments: Sequence[str] | None = None, batch: int = 512) -> np.ndarray:
        """Scores for many history rows at once (used by evaluation), popularity breaking ties."""
        data = self.trained
        users = np.full(rows.shape[0], -1) if users is None else np.asarray(users)
        if segments is None:
            segments = [data.segments[u] if u >= 0 else "" for u in users]
        out = np.empty((rows.shape[0], len(data.items)), dtype=np.float32)
        for start in range(0, rows.shape[0], batch):
            stop = start + batch
            out[start:stop] = self._scores(rows[start:stop], users[start:stop], segments[start:stop])
        return out + 1e-6 * self._tie_breaker()

    def _tie_breaker(self) -> np.ndarray:
        if not hasattr(self, "_popularity_prior"):
            pop = np.asarray(self.trained.recency.sum(axis=0)).ravel()
            self._popularity_prior = (pop / max(pop.max(), 1e-12)).astype(np.float32)
        return self._popularity_prior

    def recommend(self, history: Mapping[str, float] | Iterable[str] = (), k: int = 10,
                  exclude: Iterable[str] = (), customer: str | None = None,
                  segment: str | None = None) -> list[tuple[str, float]]:
        """Top-k (product id, score) for a history, never returning an excluded or already-seen product.

        A known `customer` (pseudonym) uses their training row when no history is given; everything they
        have seen (viewed, bought, rated, however low) is left out as well (`buy_again` lists those).
        """
        data = self.trained
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        user = data.user_index.get(customer, -1) if customer else -1
        row = data.history_row(history)
        if row.nnz == 0 and user >= 0:
            row = data.profile[user]
        segment = segment or (data.segments[user] if user >= 0 else "")
        scores = self.score_rows(row, np.array([user]), [segment])[0]
        banned = set(row.indices.tolist()) | {data.item_index[p] for p in exclude if p in data.item_index}
        if user >= 0:
            banned.update(data.seen[user].indices.tolist())
        if banned:
            scores[list(banned)] = -np.inf
        top = top_k_indices(scores, k)
        return [(data.items[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def buy_again(self, customer: str, k: int = 10) -> list[tuple[str, float]]:
        """What a known shopper had before, most and most lately first (their recency-weighted profile
        weight); [] for anyone else. For stores where buying again is normal (`Interactions.repurchase_normal`)."""
        data = self.trained
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        user = data.user_index.get(customer, -1)
        if user < 0:
            return []
        row = data.profile[user]
        order = sorted(zip(row.indices.tolist(), row.data.tolist()), key=lambda pair: (-pair[1], data.items[pair[0]]))
        return [(data.items[i], float(w)) for i, w in order[:k]]

    @property
    def _binary(self) -> sp.csc_matrix:
        """Who interacted with what (0/1), by product column; computed once."""
        if getattr(self, "_binary_cache", None) is None:
            self._binary_cache = (self.trained.matrix > 0).astype(np.float32).tocsc()
        return self._binary_cache

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        """Products most often chosen by the same shoppers (cosine over customers)."""
        data = self.trained
        if item not in data.item_index:
            return []
        binary = self._binary
        column = binary[:, data.item_index[item]]
        overlap = np.asarray((binary.T @ column).todense()).ravel()
        counts = np.asarray(binary.sum(axis=0)).ravel()
        cosine = overlap / np.sqrt(np.maximum(counts * counts[data.item_index[item]], 1e-12))
        cosine[data.item_index[item]] = -np.inf
        top = top_k_indices(cosine, k)
        return [(data.items[i], float(cosine[i])) for i in top if cosine[i] > 0]

    def evidence(self, history: Mapping[str, float] | Iterable[str], item: str, top: int = 2) -> Evidence:
        """Behavioural evidence for suggesting `item` after `history`."""
        data = self.trained
        if item not in data.item_index:
            return Evidence(item, 0, 0, (), 0.0)
        binary = self._binary
        item_users = binary[:, data.item_index[item]].toarray().ravel() > 0
        row = data.history_row(history)
        history_items = [i for i in row.indices.tolist() if i != data.item_index[item]]
        overlap_users = np.zeros(len(data.users), dtype=bool)
        co: list[tuple[str, int]] = []
        for i in history_items:
            users_i = binary[:, i].toarray().ravel() > 0
            overlap_users |= users_i
            together = int(np.sum(users_i & item_users))
            if together:
                co.append((data.items[i], together))
        co.sort(key=lambda pair: (-pair[1], pair[0]))
        score = float(self.score_rows(row)[0][data.item_index[item]]) if history_items else 0.0
        return Evidence(item, int(np.sum(overlap_users & item_users)), int(item_users.sum()), tuple(co[:top]), score)

    # -- persistence
    def save(self, folder: str | Path, keep: int = 2, forgotten: Iterable[str] = ()) -> Path:
        """Publish the model at `folder` (see assistant.behaviour.store); returns `folder`. `keep` versions
        stay on disk (the older ones are fallbacks), except versions that hold a `forgotten` pseudonym."""
        folder = Path(folder)
        data = self.trained
        self.version = publish_cf_model(folder, name=self.name, params=self.params, data=data,
                                        arrays=self._arrays(), fit_seconds=self.fit_seconds, keep=keep,
                                        forgotten=forgotten, selection=self.selection)
        return folder
