"""Recency-weighted popularity per shopper segment: the cold-start model and the blend's prior."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.interactions import Interactions
from assistant.behaviour.model import CFModel


class SegmentPopularity(CFModel):
    """Recency-weighted popularity within the shopper's segment, blended with overall popularity."""

    name = "popularity"

    def _fit(self, data: Interactions) -> None:
        overall = np.asarray(data.recency.sum(axis=0)).ravel()
        self.overall = overall / max(overall.max(), 1e-12)
        segments = np.array(data.segments)
        self.by_segment: dict[str, np.ndarray] = {}  # each normalised to max 1
        for segment in sorted(set(data.segments) - {""}):
            pop = np.asarray(data.recency[segments == segment].sum(axis=0)).ravel()
            self.by_segment[segment] = pop / max(pop.max(), 1e-12)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        return np.stack([self.segment_scores(segment) for segment in segments]) if len(segments) else \
            np.zeros((0, len(self.overall)), dtype=np.float32)

    def segment_scores(self, segment: str) -> np.ndarray:
        """Popularity within `segment` (80%) and overall (20%); overall alone for an unknown segment."""
        if segment in self.by_segment:
            return 0.8 * self.by_segment[segment] + 0.2 * self.overall
        return self.overall.copy()

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"overall": self.overall, **{f"segment:{s}": v for s, v in self.by_segment.items()}}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.overall = arrays["overall"]
        self.by_segment = {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith("segment:")}
