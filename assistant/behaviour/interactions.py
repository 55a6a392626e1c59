"""The customer × product matrices CF models learn from: event weights, what each shopper has seen, time
decay on the log's own time scale, `build_interactions`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.errors import ModelFitError
from assistant.ingest.customers import InteractionLog

EVENT_WEIGHTS = {"view": 1.0, "click": 2.0, "cart": 4.0, "purchase": 8.0, "rating": 0.0}
# Popularity (the cold-start model, the blend's prior, the tie-breaker) weighs an event by its age with a
# half-life of this share of the log's span: 30 days on Complete Journey's one year (its best of plain counts,
# span/4 and span/12 on held-out purchases), 3 months on a three-year log. A fixed 30 days put 89% of a
# multi-year log's weight on its last 90 days. `aisle cf fit` chooses the share on the store's own data.
POPULARITY_HALF_LIFE_SHARE = 1 / 12
# A shopper's profile weighs each interaction by its age relative to that shopper's latest one: what they
# looked at lately says most about what they want next (on the demo store this doubled NDCG@10 of the
# item models against whole-history profiles; on Complete Journey's sampled year of purchases the whole
# history is better: docs/collaborative.md). `aisle cf fit` chooses it on the store's own data.
PROFILE_HALF_LIFE_DAYS = 3.0
DAY = 86_400.0
# A store whose shoppers buy again what they bought before (groceries) is not one where a bought product is
# never shown again: when at least this share of its shoppers with two or more purchases bought some product
# twice (`repurchase_share`), the chat does not hide what a shopper had, and `CFModel.buy_again` lists it.
# Complete Journey's sampled grocery year: 52%; the demo store: 17% (docs/collaborative.md).
REPURCHASE_NORMAL = 1 / 3


def rating_weight(stars: np.ndarray) -> np.ndarray:
    """A rating's interest weight: 5 -> 6, 4 -> 4, 3 -> 2, 2 -> 0.5, 1 -> 0.25, 0 -> 0.125. A low rating is a
    product the shopper saw with little interest, not nothing: it stays in what they have seen (and the
    purchase it came with still counts)."""
    stars = np.asarray(stars, dtype=np.float64)
    return np.where(stars >= 3, (stars - 2.0) * 2.0, 0.5 * np.power(2.0, np.minimum(stars, 3.0) - 2.0))


def repurchase_share(log: InteractionLog) -> float:
    """Of the shoppers with two or more purchases, the share who bought some product more than once (0
    without such shoppers): how normal buying again is in the store."""
    _, users = np.unique(log.customers, return_inverse=True)
    items, codes = np.unique(log.products, return_inverse=True)
    return _repurchase_share(log.events == "purchase", users, codes, len(items))


def _repurchase_share(bought: np.ndarray, users: np.ndarray, items: np.ndarray, n_items: int) -> float:
    buyers = users[bought]
    if not len(buyers):
        return 0.0
    pairs, counts = np.unique(buyers.astype(np.int64) * n_items + items[bought], return_counts=True)
    purchases = np.bincount(buyers)
    again = np.zeros(len(purchases), dtype=bool)
    again[(pairs[counts > 1] // n_items).astype(np.int64)] = True
    several = purchases >= 2
    return float(again[several].mean()) if several.any() else 0.0


@dataclass
class Interactions:
    """Customer × product weights built from an interaction log."""

    matrix: sp.csr_matrix  # summed event weights, optionally time-decayed: what models learn from
    recency: sp.csr_matrix  # the same weights decayed on the popularity half-life (for popularity)
    profile: sp.csr_matrix  # decayed relative to each shopper's latest event: what a shopper is scored from
    users: list[str]
    items: list[str]
    segments: list[str]  # per user, "" when unknown
    seen: sp.csr_matrix | None = None  # 1 where the shopper had any event on the product (None: matrix > 0)
    meta: dict = field(default_factory=dict)  # how it was built: half-lives, log span, repurchase share
    # item × item: how often a shopper came to the column product 1, 2 or 3 products after the row product
    # (weights 1, 1/2, 1/3; by first contact). Only for fitting (`sequence`); not saved with a model.
    transitions: sp.csr_matrix | None = field(default=None, repr=False)
    user_index: dict[str, int] = field(init=False, repr=False)
    item_index: dict[str, int] = field(init=False, repr=False)

    _popularity: dict[str, int] | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.users)}
        self.item_index = {p: i for i, p in enumerate(self.items)}
        if self.seen is None:
            self.seen = (self.matrix > 0).astype(np.float32).tocsr()

    @property
    def repurchase(self) -> float:
        """`repurchase_share` of the log it was built from (0 when unknown)."""
        return float(self.meta.get("repurchase_share", 0.0))

    @property
    def repurchase_normal(self) -> bool:
        """Whether this store's shoppers buy the same products again (see REPURCHASE_NORMAL)."""
        return self.repurchase >= REPURCHASE_NORMAL

    def item_popularity(self) -> dict[str, int]:
        """Shoppers with a positive-weight interaction, per product (computed once). This is the
        popularity that `FusionSettings.max_popular_share` caps and `aisle eval fairness` groups by."""
        if self._popularity is None:
            counts = np.diff(self.matrix.tocsc().indptr)
            self._popularity = {item: int(n) for item, n in zip(self.items, counts)}
        return self._popularity

    def history_row(self, history: Mapping[str, float] | Iterable[str]) -> sp.csr_matrix:
        """A 1 × items row from {product: weight}, or from a list of products the shopper chose (each
        weighted as a purchase); unknown ids are skipped."""
        weights = history if isinstance(history, Mapping) else {p: EVENT_WEIGHTS["purchase"] for p in history}
        pairs = [(self.item_index[p], float(w)) for p, w in weights.items() if p in self.item_index and w > 0]
        cols = [c for c, _ in pairs]
        data = [w for _, w in pairs]
        return sp.csr_matrix((data, ([0] * len(cols), cols)), shape=(1, len(self.items)), dtype=np.float32)


def build_interactions(log: InteractionLog, segments: Mapping[str, str] | None = None,
                       weights: Mapping[str, float] | None = None, half_life_days: float | None = None,
                       now: float | None = None,
                       profile_half_life_days: float | None = PROFILE_HALF_LIFE_DAYS,
                       popularity_half_life_share: float | None = POPULARITY_HALF_LIFE_SHARE) -> Interactions:
    """Sum event weights per (customer, product) and mark every product a shopper had any event on as seen;
    optional exponential time decay of the training weights (`half_life_days`, relative to `now`), of
    popularity (half-life `popularity_half_life_share` of the log's span; None: plain counts) and of each
    shopper's profile (relative to their latest event; None: the whole history)."""
    weights = {**EVENT_WEIGHTS, **(weights or {})}
    if len(log) == 0:
        raise ModelFitError("no interactions to fit on")
    users, user_codes = np.unique(log.customers, return_inverse=True)
    items, item_codes = np.unique(log.products, return_inverse=True)
    base = np.array([weights.get(e, 0.0) for e in log.events], dtype=np.float64)
    is_rating = log.events == "rating"
    base[is_rating] = rating_weight(log.values[is_rating])
    now = float(log.timestamps.max()) if now is None else now
    span_days = max(float(log.timestamps.max() - log.timestamps.min()) / DAY, 1.0)
    age_days = np.maximum(now - log.timestamps, 0.0) / DAY
    latest = np.full(len(users), -np.inf)
    np.maximum.at(latest, user_codes, log.timestamps)
    age_in_profile = (latest[user_codes] - log.timestamps) / DAY
    shape = (len(users), len(items))

    def matrix(ages: np.ndarray | None, decay_days: float | None) -> sp.csr_matrix:
        # Decay in log space, floored, so a years-old event keeps a tiny weight instead of underflowing to 0.
        data = base if decay_days is None else base * np.exp2(-np.minimum(ages / decay_days, 100.0))
        m = sp.csr_matrix((data, (user_codes, item_codes)), shape=shape, dtype=np.float64)
        m.eliminate_zeros()
        return m.astype(np.float32)

    seen = sp.csr_matrix((np.ones(len(log), dtype=np.float32), (user_codes, item_codes)), shape=shape)
    seen.data[:] = 1.0  # duplicates summed: back to 0/1
    popularity_days = None if popularity_half_life_share is None else span_days * popularity_half_life_share
    segments = segments or {}
    meta = {"span_days": round(span_days, 3), "half_life_days": half_life_days,
            "profile_half_life_days": profile_half_life_days,
            "popularity_half_life_share": popularity_half_life_share,
            "repurchase_share": round(_repurchase_share(log.events == "purchase", user_codes, item_codes,
                                                                   len(items)), 4)}
    return Interactions(matrix(age_days, half_life_days), matrix(age_days, popularity_days),
                        matrix(age_in_profile, profile_half_life_days), users.tolist(), items.tolist(),
                        [segments.get(u, "") for u in users.tolist()], seen.tocsr(), meta,
                        _transitions(log.timestamps, user_codes, item_codes, len(items)))


def _transitions(times: np.ndarray, users: np.ndarray, items: np.ndarray, n_items: int,
                 window: int = 3) -> sp.csr_matrix:
    """Counts of "came to b within `window` products after a" over every shopper's first contacts in time order."""
    order = np.lexsort((np.arange(len(times)), times, users))
    pair = users[order].astype(np.int64) * n_items + items[order]
    _, first = np.unique(pair, return_index=True)
    rows = order[np.sort(first)]  # first contacts, still in (shopper, time) order
    who, what = users[rows], items[rows]
    sources, targets, weights = [], [], []
    for step in range(1, window + 1):
        same = who[step:] == who[:-step]
        sources.append(what[:-step][same])
        targets.append(what[step:][same])
        weights.append(np.full(int(same.sum()), 1.0 / step, dtype=np.float32))
    m = sp.csr_matrix((np.concatenate(weights), (np.concatenate(sources), np.concatenate(targets))),
                      shape=(n_items, n_items), dtype=np.float32)
    m.sum_duplicates()
    return m
