"""How the pooled candidates of one turn get the score they are ranked by: one small interface (`Scorer`),
two implementations — the hand-tuned weighted sum here (`WeightedSum`, always the fallback) and the learned
preference model (`rank/preference.py`). `hybrid.rank` builds the `Pool` and asks its scorer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from assistant.core.config import FusionSettings
from assistant.core.scores import min_max
from assistant.rank.attributes import AttributeScore
from assistant.rank.breakdown import PreferenceNote

RRF_K = 60


@dataclass(frozen=True)
class TurnSignals:
    """What a turn says about itself, the same for every candidate: how specific the message is and how much
    history the shopper has (0 for an anonymous shopper or a newcomer)."""

    vague: bool = False  # names no product (`screening.is_vague`), or states no need at all
    need_words: int = 0  # words of the need text
    constraints: int = 0  # fields the parser recognised (budget, colour, category ...)
    history: int = 0  # distinct products in the shopper's behavioural profile


@dataclass(frozen=True)
class Pool:
    """The candidates of one turn with every signal `hybrid.rank` computed for them.

    `sources` holds what the weighted sum fuses: "content" (fused content similarity), "cf" (behavioural
    score, 0 when not proposed by CF) and "attributes" (the segment's attribute value), each by product id.
    The arrays `dense` / `lexical` are over the whole catalog (index by `positions`), None when unknown."""

    ids: Sequence[str]
    positions: np.ndarray  # catalog position of each id
    sources: Mapping[str, Mapping[str, float]]
    attributes: Mapping[str, AttributeScore]
    cf_ranked: Sequence[str] = ()  # the ids CF proposed, best first
    prior: frozenset[str] = frozenset()  # the ids the segment's category priors proposed
    dense: np.ndarray | None = None  # cosine similarity to the query
    lexical: np.ndarray | None = None  # BM25 of the need's words
    popularity: Mapping[str, float] | None = None  # shoppers who interacted with each product
    signals: TurnSignals = field(default_factory=TurnSignals)


@dataclass
class Scored:
    """A scorer's answer: a score per pooled id (higher is better) and, for the staff trace, per id the
    features it read and their contributions (a learned model only)."""

    scores: dict[str, float]
    scorer: str
    explain: dict[str, PreferenceNote] = field(default_factory=dict)
    note: str = ""  # one line for the turn's trace (e.g. why a learned model fell back)


class Scorer(ABC):
    """Scores a turn's pool. Every implementation returns `Scored`; `name` is shown in traces."""

    name: str = "scorer"

    @abstractmethod
    def score(self, pool: Pool, fusion: FusionSettings) -> Scored:
        """One score per id of `pool`."""


# Content scores (dense and BM25 fused, 0..1 over the catalog) of a pool of near-equal products are not
# stretched over 0..1: grits are not "far more cereal" than kids' cereal because every candidate is a cereal.
# Measured 0, 0.15, 0.25, 0.5 on both labelled sets (docs/ranking.md): 0.25.
CONTENT_SPREAD = 0.25

def fuse_weighted(sources: Mapping[str, Mapping[str, float]], weights: Mapping[str, float]) -> dict[str, float]:
    """Σ_source weight · normalised score (a product missing from a source gets 0 from it)."""
    fused: dict[str, float] = {}
    for name, scores in sources.items():
        for key, value in min_max(scores, CONTENT_SPREAD if name == "content" else 0.0).items():
            fused[key] = fused.get(key, 0.0) + weights.get(name, 0.0) * value
    return fused


def fuse_rrf(sources: Mapping[str, Mapping[str, float]], weights: Mapping[str, float],
             k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: Σ_source weight / (k + rank in that source); a zero score is no rank."""
    fused: dict[str, float] = {}
    for name, scores in sources.items():
        ranked = sorted((key for key in scores if scores[key] > 0), key=lambda key: -scores[key])
        for rank, key in enumerate(ranked, start=1):
            fused[key] = fused.get(key, 0.0) + weights.get(name, 0.0) / (k + rank)
    return fused


class WeightedSum(Scorer):
    """The hand-tuned fusion of `FusionSettings` (content, cf, attributes weights; weighted sum or RRF)."""

    name = "hand-tuned weights"

    def score(self, pool: Pool, fusion: FusionSettings) -> Scored:
        weights = {"content": fusion.content, "cf": fusion.cf, "attributes": fusion.attributes}
        fused = (fuse_rrf if fusion.method == "rrf" else fuse_weighted)(pool.sources, weights)
        return Scored({pid: fused.get(pid, 0.0) for pid in pool.ids}, self.name)
