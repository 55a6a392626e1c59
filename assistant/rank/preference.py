"""The learned preference model as a `Scorer`: every pooled candidate becomes one row of `FEATURES` (the
signals the hybrid already computes, plus how specific the turn is and how much history the shopper has),
and a ranking model (`RankingModel`; the LightGBM lambdarank backend is `rank/lambdarank.py`) scores them.

`feature_matrix` is the only place features are made: training (`evaluation/preference_training.py`)
records the very rows that serving scores. Any failure of the model falls back to the hand-tuned sum.
"""

from __future__ import annotations

import math
from typing import Protocol, Sequence

import numpy as np

from assistant.core.config import FusionSettings
from assistant.core.scores import min_max
from assistant.rank.breakdown import PreferenceNote
from assistant.rank.scoring import Pool, Scored, Scorer, WeightedSum
from assistant.rank.segments import ATTRIBUTE_TERMS

TURN_FEATURES = ("vague", "need_words", "constraints", "history")
CANDIDATE_FEATURES = ("hybrid", "dense", "dense_gap", "lexical", "content", "cf", "cf_rank", "from_cf",
                      "from_prior", "popularity", "attributes")
FEATURES: tuple[str, ...] = (*TURN_FEATURES, *CANDIDATE_FEATURES, *ATTRIBUTE_TERMS)
EXPLAINED = 20  # candidates per turn whose features and contributions the trace keeps (the best scored)
# Boost from 5 × the hand-tuned score: the trees learn corrections to it (docs/ranking.md: from scratch the
# labelled requests lost 0.005 NDCG@5; from 5 × hybrid they gain 0.004, the vague-shopper lift unchanged).
START = ("hybrid", 5.0)


def feature_matrix(pool: Pool, hybrid: dict[str, float]) -> np.ndarray:
    """One row of `FEATURES` per id of `pool` (float32; NaN where a value is unknown):

    vague, need_words, constraints, history   the turn's `TurnSignals` (the same on every row)
    hybrid       the hand-tuned weighted sum (`WeightedSum`)
    dense        cosine similarity to the query; dense_gap: the pool's best dense minus this one
    lexical      BM25 of the need's words over the catalog's best (0 when no word matched)
    content, cf  the fused content score and the CF score, min-max scaled over the pool
    cf_rank      log2(1 + rank) in the CF proposals (NaN when CF did not propose it); from_cf, from_prior 0/1
    popularity   log(1 + shoppers who interacted with it)
    attributes   the attribute value, and each attribute term's value f_k (`rank/attributes.py`)
    """
    ids = list(pool.ids)
    n = len(ids)
    out = np.full((n, len(FEATURES)), np.nan, dtype=np.float32)
    if not n:
        return out
    column = {name: i for i, name in enumerate(FEATURES)}
    signals = pool.signals
    for name, value in (("vague", float(signals.vague)), ("need_words", signals.need_words),
                        ("constraints", signals.constraints), ("history", signals.history)):
        out[:, column[name]] = value
    content, cf = min_max(pool.sources.get("content", {})), min_max(pool.sources.get("cf", {}))
    similarity = pool.sources.get("content", {})
    if pool.dense is not None:
        dense = pool.dense[pool.positions].astype(np.float64)
    else:
        dense = np.array([similarity.get(pid, np.nan) for pid in ids], dtype=np.float64)
    finite = dense[np.isfinite(dense)]
    best_lexical = float(pool.lexical.max(initial=0.0)) if pool.lexical is not None and len(pool.lexical) else 0.0
    cf_rank = {pid: r for r, pid in enumerate(pool.cf_ranked, start=1)}
    popularity = pool.popularity or {}
    out[:, column["dense"]] = np.where(np.isfinite(dense), dense, np.nan)
    out[:, column["dense_gap"]] = np.where(np.isfinite(dense), (finite.max() if len(finite) else 0.0) - dense, np.nan)
    out[:, column["lexical"]] = (pool.lexical[pool.positions] / best_lexical if best_lexical > 0 else 0.0)
    for row, pid in enumerate(ids):
        attribute = pool.attributes[pid]
        values = out[row]
        values[column["hybrid"]] = hybrid.get(pid, 0.0)
        values[column["content"]] = content.get(pid, 0.0)
        values[column["cf"]] = cf.get(pid, 0.0)
        if pid in cf_rank:
            values[column["cf_rank"]] = math.log2(1 + cf_rank[pid])
        values[column["from_cf"]] = float(pid in cf_rank)
        values[column["from_prior"]] = float(pid in pool.prior)
        values[column["popularity"]] = math.log1p(max(float(popularity.get(pid, 0.0)), 0.0))
        values[column["attributes"]] = attribute.total
        for term in ATTRIBUTE_TERMS:
            values[column[term]] = attribute.terms.get(term, (0.0, 0.0))[1]
    return out


class RankingModel(Protocol):
    """What a learned backend offers: a score per row, and per row each feature's contribution to it plus
    the bias in the last column (`pred_contrib`). `feature_names` must equal `FEATURES`."""

    version: str
    feature_names: Sequence[str]

    def predict(self, rows: np.ndarray) -> np.ndarray: ...

    def contributions(self, rows: np.ndarray) -> np.ndarray: ...


class LearnedPreference(Scorer):
    """Scores a pool with a fitted `RankingModel`; min-max scaled over the pool (so the diversity penalty
    means what it means for the weighted sum). Falls back to the weighted sum when the model fails."""

    name = "learned preference model"

    def __init__(self, model: RankingModel) -> None:
        if tuple(model.feature_names) != FEATURES:
            raise ValueError(f"the preference model was fitted on features {list(model.feature_names)}, "
                             f"not on this Aisle's {list(FEATURES)}; refit it: aisle rank fit")
        self.model = model

    def score(self, pool: Pool, fusion: FusionSettings) -> Scored:
        fallback = WeightedSum().score(pool, fusion)
        ids = list(pool.ids)
        if not ids:
            return Scored({}, self.name)
        rows = feature_matrix(pool, fallback.scores)
        try:
            raw = np.asarray(self.model.predict(rows), dtype=np.float64)
            if raw.shape != (len(ids),) or not np.all(np.isfinite(raw)):
                raise ValueError(f"{raw.shape} scores for {len(ids)} candidates, or not finite")
            top = np.argsort(-raw, kind="stable")[:EXPLAINED]
            parts = np.asarray(self.model.contributions(rows[top]), dtype=np.float64)
        except Exception as err:  # the turn must not depend on the learned model working
            fallback.note = (f"preference model {self.model.version} failed ({type(err).__name__}: {err}): "
                             "ranked with the hand-tuned weights")
            return fallback
        scaled = min_max({pid: float(s) for pid, s in zip(ids, raw)})
        explain = {}
        for row, i in enumerate(top):
            explain[ids[i]] = PreferenceNote(
                self.model.version, round(float(raw[i]), 4), round(fallback.scores[ids[i]], 4),
                {name: _rounded(rows[i, j]) for j, name in enumerate(FEATURES)},
                {name: round(float(parts[row, j]), 4) for j, name in enumerate(FEATURES)},
                round(float(parts[row, -1]), 4))
        return Scored({pid: scaled.get(pid, 0.0) for pid in ids}, self.name, explain,
                      f"{self.name} {self.model.version}")


def _rounded(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 4)
