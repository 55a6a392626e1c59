"""The published index the service answers from: loaded once, reloaded when a newer build is published,
and replaced by the previous good build when the published one turns out damaged."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from typing import Any

from assistant.ingest.catalog import Product
from assistant.index import (IndexCorrupt, ProductIndex, check_build, load_serving_index, published_path,
                                   read_manifest)
from assistant.rank.attributes import ProductFeatures
from assistant.service.cross_lingual import load_cross_lingual
from assistant.service.publishing import store_profile
from assistant.understand.store import StoreProfile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchHit:
    """One content-search result."""

    rank: int
    product: Product
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "score": round(self.score, 4), "product": self.product.to_dict()}


class ServedIndex:
    """One named index under `index_dir`, as served."""

    def __init__(self, index_dir: Path, name: str, loaded: ProductIndex | None = None, currency: str = "") -> None:
        self.index_dir, self.name = Path(index_dir), name
        self._index = loaded
        self._served_for: Path | None = loaded.path if loaded is not None else None
        self.warning: str | None = None  # the published build is damaged and an earlier one serves
        self._lock = threading.Lock()
        self._features: tuple[Path, ProductFeatures] | None = None
        self._profile: tuple[Path, StoreProfile] | None = None
        self._cross_lingual: tuple[Path, np.ndarray | None] | None = None
        self.currency = currency  # the store's currency setting ("" = the catalog's)

    @property
    def index(self) -> ProductIndex:
        """The published index, loaded once and reloaded when a newer build is published. A damaged
        published build is detected by its checksums and the previous good build serves instead
        (`warning` says so)."""
        with self._lock:
            current = published_path(self.index_dir, self.name)
            if self._index is None or (current is not None and current != self._served_for):
                self._index, self.warning = load_serving_index(self.index_dir, self.name)
                self._served_for = current
                if self.warning:
                    log.warning("%s", self.warning)
            return self._index

    def features(self, index: ProductIndex | None = None) -> ProductFeatures:
        """Per-product ranking features of an index (default: the served one), computed once per build."""
        index = index or self.index
        cached = self._features
        if cached is None or cached[0] != index.path:
            cached = self._features = (index.path, ProductFeatures.build(index.products, self.profile(index)))
        return cached[1]

    def cross_lingual(self, index: ProductIndex | None = None) -> np.ndarray | None:
        """The multilingual vectors of an index's products (None when the build has none), read once per build."""
        index = index or self.index
        cached = self._cross_lingual
        if cached is None or cached[0] != index.path:
            cached = self._cross_lingual = (index.path, load_cross_lingual(index))
        return cached[1]

    def profile(self, index: ProductIndex | None = None) -> StoreProfile:
        """The store profile of an index (default: the served one), read once per build."""
        index = index or self.index
        cached = self._profile
        if cached is None or cached[0] != index.path:
            cached = self._profile = (index.path, store_profile(index, self.currency))
        return cached[1]

    def manifest(self) -> dict[str, Any]:
        """The served index's manifest."""
        folder = published_path(self.index_dir, self.name)
        if folder is None:
            self.index  # raises IndexNotFound with a helpful message
        return read_manifest(folder)

    def check(self) -> None:
        """Re-check the published build's checksums; when the build being served is damaged, serve the
        previous good build (or keep the copy in memory when there is none) and say so in `warning`."""
        folder = published_path(self.index_dir, self.name)
        if folder is None or self._index is None or folder != self._served_for:
            return
        try:
            check_build(folder)
        except IndexCorrupt as err:
            if self._index.path != folder:  # already serving an earlier build
                return
            try:
                index, warning = load_serving_index(self.index_dir, self.name)
            except IndexCorrupt:
                index, warning = self._index, (f"{err} — no earlier good build: the copy loaded in "
                                               f"memory keeps serving; rebuild the index")
            changed = False
            with self._lock:
                if self._served_for == folder:
                    self._index, changed = index, warning != self.warning
                    self.warning = warning
            if changed:
                log.warning("%s", warning)
