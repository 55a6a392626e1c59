"""Loading a published index (checksum-verified), falling back to an earlier good build, and rolling back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from assistant.ingest.catalog import Product
from assistant.index.builds import list_builds, list_indexes, publish, published_path
from assistant.index.errors import IndexCorrupt, IndexError_, IndexNotFound
from assistant.index.lexical import LexicalIndex
from assistant.index.manifest import PRODUCTS, PRODUCTS_V1, VECTORS, check_build, check_format, read_manifest
from assistant.index.product_table import HASH, ProductTable, read_jsonl_table
from assistant.index.vector_index import VectorIndex, load_vector_index


@dataclass
class ProductIndex:
    """A loaded index: the product table, its vectors, the vector index over them and the BM25 lexical index
    (None for a build made before lexical indexes: content retrieval is then dense only).

    `products` is a `ProductTable` (Parquet, memory-mapped: a product is built when first asked for) for
    builds of format 2, a list for older ones; `vectors` is memory-mapped from `vectors.npy`."""

    path: Path
    manifest: dict[str, Any]
    products: Sequence[Product]
    vectors: np.ndarray
    vectors_index: VectorIndex
    content_hashes: Sequence[str]
    lexical: LexicalIndex | None = None

    @property
    def model_id(self) -> str:
        return self.manifest["embedder"]["model_id"]

    def position_of(self, product_id: str) -> int | None:
        if not hasattr(self, "_positions"):
            ids = self.products.strings("id") if isinstance(self.products, ProductTable) else (
                p.id for p in self.products)
            self._positions = {pid: i for i, pid in enumerate(ids)}
        return self._positions.get(product_id)

    def extra_file(self, name: str) -> bytes | None:
        """An extra file of this build (written with `build_index(extra_files=...)`, checksummed with the
        build), or None when the build has none of that name (older builds)."""
        if name not in self.manifest.get("extra_files", ()):
            return None
        try:
            return (self.path / name).read_bytes()
        except OSError as err:
            raise IndexCorrupt(f"{self.path}: cannot read {name} ({err})") from None

    def search_vector(self, query: np.ndarray, k: int) -> list[tuple[Product, float]]:
        """The k products nearest to a query vector, best first, with cosine scores."""
        scores, positions = self.vectors_index.search(query[None, :], k)
        return [(self.products[p], float(s)) for s, p in zip(scores[0], positions[0]) if p >= 0]


def load_build(folder: Path, verify: bool = True) -> ProductIndex:
    """Load one build folder, checking every file against the manifest's checksums."""
    if verify:
        manifest = check_build(folder)
    else:
        manifest = read_manifest(folder)
        check_format(folder, manifest)
    try:
        products: Sequence[Product]
        if manifest["format_version"] == 1:
            products, hashes = read_jsonl_table(folder / PRODUCTS_V1)
        else:
            products = table = ProductTable.read(folder / PRODUCTS)
            hashes = table.strings(HASH)
        vectors = np.load(folder / VECTORS, mmap_mode="r", allow_pickle=False)
        entry = manifest["vector_index"]
        vindex = load_vector_index(folder, entry["kind"], entry["backend"], entry.get("params"), vectors)
        lexical = LexicalIndex.load(folder) if "lexical" in manifest else None
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise IndexCorrupt(f"{folder}: cannot read index files ({err})") from None
    if not (len(products) == len(vectors) == len(vindex) == manifest["product_count"]):
        raise IndexCorrupt(f"{folder}: product, vector and index counts disagree")
    if lexical is not None and len(lexical) != len(products):
        raise IndexCorrupt(f"{folder}: the lexical index counts {len(lexical)} products, not {len(products)}")
    return ProductIndex(folder, manifest, products, vectors, vindex, hashes, lexical)


def load_index(root: Path, name: str) -> ProductIndex:
    """Load the published index `name`. Raises IndexNotFound or IndexCorrupt."""
    folder = published_path(root, name)
    if folder is None:
        known = ", ".join(list_indexes(root)) or "none"
        raise IndexNotFound(f"no index named {name!r} under {root} (published: {known}); "
                            f"build one with: aisle index build CATALOG --name {name}")
    return load_build(folder)


def load_serving_index(root: Path, name: str) -> tuple[ProductIndex, str | None]:
    """The published index, or — when its files are damaged — the newest earlier build that loads,
    with a warning that says so (the published link is left for an operator: `aisle index rollback`)."""
    try:
        return load_index(root, name), None
    except IndexCorrupt as damaged:
        current = published_path(root, name)
        for build in reversed(list_builds(root, name)):
            if build == current:
                continue
            try:
                index = load_build(build)
            except IndexCorrupt:
                continue
            return index, (f"{damaged} — serving the previous good build {build.name} instead; "
                           f"rebuild, or run: aisle index rollback {name}")
        raise


def rollback(root: Path, name: str) -> Path:
    """Publish the build before the current one; returns it. Raises IndexError_ when there is none."""
    current = published_path(root, name)
    builds = list_builds(root, name)
    older = [b for b in builds if current is None or b.name < current.name]
    if not older:
        raise IndexError_(f"index {name!r} has no earlier build to roll back to")
    load_build(older[-1])  # refuse to publish a damaged build
    publish(root, name, older[-1])
    return older[-1]
