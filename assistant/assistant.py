"""The facade: the one place that wires the pipeline stages together.

`ui.py`, `cli.py` (and later `api.py`) call only this module.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .catalog import CatalogReport, Product, catalog_hash, read_catalog
from .config import Settings, load_settings
from .embedding import Embedder, backend_for_model, make_embedder
from .index_store import (BuildSummary, Progress, ProductIndex, build_index, load_index,
                          published_path, read_manifest)

MAX_QUERY_CHARS = 2_000


@dataclass(frozen=True)
class SearchHit:
    """One content-search result."""

    rank: int
    product: Product
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "score": round(self.score, 4), "product": self.product.to_dict()}


class Assistant:
    """Serves one published index; a failed rebuild leaves the index it serves untouched."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self._index: ProductIndex | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ index

    @property
    def index(self) -> ProductIndex:
        """The published index, loaded once and reloaded when a newer build is published."""
        with self._lock:
            current = published_path(self.settings.index_dir, self.settings.index_name)
            if self._index is None or (current is not None and current != self._index.path):
                self._index = load_index(self.settings.index_dir, self.settings.index_name)
            return self._index

    def query_embedder(self) -> Embedder:
        """The embedder that built the served index (a query must be embedded by the same model)."""
        return make_embedder(backend_for_model(self.index.model_id), threads=self.settings.threads)

    def rebuild_index(self, paths: Iterable[str | Path], mapping: Mapping[str, str] | None = None,
                      progress: Progress | None = None) -> BuildSummary:
        """Read catalog files, embed what changed and publish a new build of the configured index."""
        products, report = read_catalog(paths, {**self.settings.column_map, **(mapping or {})})
        return self.publish_products(products, report, progress)

    def publish_products(self, products: list[Product], report: CatalogReport,
                         progress: Progress | None = None) -> BuildSummary:
        """Embed what changed among already-validated products and publish a new build."""
        embedder = make_embedder(self.settings.embedder, threads=self.settings.threads)
        return build_index(products, report, embedder, self.settings.index_dir, self.settings.index_name,
                           ann_threshold=self.settings.ann_threshold, batch_size=self.settings.batch_size,
                           keep_builds=self.settings.keep_builds, progress=progress,
                           threads=self.settings.threads)

    def index_info(self) -> dict[str, Any]:
        """The served index's manifest."""
        folder = published_path(self.settings.index_dir, self.settings.index_name)
        if folder is None:
            self.index  # raises IndexNotFound with a helpful message
        return read_manifest(folder)

    def index_is_current(self, products: list[Product]) -> bool:
        """True when the published index holds exactly these products, built by the configured embedder."""
        folder = published_path(self.settings.index_dir, self.settings.index_name)
        if folder is None:
            return False
        manifest = read_manifest(folder)
        try:
            same_embedder = backend_for_model(manifest["embedder"]["model_id"]) == self.settings.embedder
        except (KeyError, ValueError):
            return False
        return same_embedder and manifest.get("catalog_hash") == catalog_hash(products)

    # ------------------------------------------------------------------ search

    def search(self, query: str, k: int = 10) -> list[SearchHit]:
        """Plain content search: the k products whose text is nearest to the query."""
        text = " ".join(str(query or "").split())[:MAX_QUERY_CHARS]
        if not text:
            return []
        k = max(1, min(int(k), 100))
        vector = self.query_embedder().embed_query(text)
        results = self.index.search_vector(vector, k)
        return [SearchHit(rank, product, score) for rank, (product, score) in enumerate(results, start=1)]


def ensure_demo_index(settings: Settings, progress: Progress | None = None) -> BuildSummary | None:
    """Build (or refresh) the demo store's index unless the published one already matches it."""
    from .demo import catalog_path

    assistant = Assistant(settings)
    products, report = read_catalog([catalog_path()])
    if assistant.index_is_current(products):
        return None
    return assistant.publish_products(products, report, progress)
