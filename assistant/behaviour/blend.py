"""The blend: EASE + item-item + segment popularity, each normalised per shopper, weighted."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.core.scores import min_max_rows
from assistant.behaviour.interactions import Interactions
from assistant.behaviour.linear import EASE
from assistant.behaviour.model import CFModel
from assistant.behaviour.neighbours import ItemItemCF
from assistant.behaviour.popularity import SegmentPopularity


class Blend(CFModel):
    """EASE + item-item + segment popularity, each min-max normalised per shopper, weighted."""

    name = "blend"

    def __init__(self, ease: float = 1.0, item_item: float = 0.3, popularity: float = 0.1,
                 l2: float = 300.0) -> None:
        super().__init__(ease=ease, item_item=item_item, popularity=popularity, l2=l2)
        self.parts: dict[str, CFModel] = {"ease": EASE(l2=l2), "item_item": ItemItemCF(),
                                          "popularity": SegmentPopularity()}

    def _fit(self, data: Interactions) -> None:
        for part in self.parts.values():
            part.fit(data)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        total = np.zeros((rows.shape[0], len(self.trained.items)), dtype=np.float32)
        for name, part in self.parts.items():
            total += self.params[name] * min_max_rows(part._scores(rows, users, segments))
        return total

    def _arrays(self) -> dict[str, np.ndarray]:
        return {f"{name}/{k}": v for name, part in self.parts.items() for k, v in part._arrays().items()}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        for name, part in self.parts.items():
            part.data = self.data
            part._restore({k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(name + "/")})
