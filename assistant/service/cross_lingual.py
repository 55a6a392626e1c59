"""Chinese (or any other language's) words against an English catalog: beside its MiniLM vectors, an English
store's build keeps the multilingual USE vectors of its products (`vectors_use.npy`, checksummed with the
build), so a shopper's words that the parser's glossary does not translate ("冷冻披萨", "尿布") are embedded by
USE and still find the English products. Unchanged products reuse the vectors of the previous build."""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np

from assistant.index import ProductIndex
from assistant.index.embedding import Embedder, make_embedder
from assistant.ingest.catalog import Product

CROSS_LINGUAL_FILE = "vectors_use.npy"
CROSS_LINGUAL_BACKEND = "use"
# USE similarities run lower than MiniLM's: across languages a real match scored 0.40-0.64 on the Complete
# Journey grocery ("尿布" 0.41, "冷冻披萨" 0.64), things it does not sell 0.22-0.32 ("沙发", "笔记本电脑").
STRONG_SIMILARITY = 0.38


def cross_lingual_vectors(products: Sequence[Product], previous: ProductIndex | None, threads: int | None = None,
                          batch_size: int = 64) -> bytes:
    """The USE vectors of `products` (in their order) as .npy bytes, reusing those of `previous` by content hash."""
    reuse: dict[str, np.ndarray] = {}
    if previous is not None:
        old = load_cross_lingual(previous)
        if old is not None:
            reuse = dict(zip(previous.content_hashes, old))
    hashes = [p.content_hash() for p in products]
    todo = sorted({h: i for i, h in enumerate(hashes) if h not in reuse}.values())
    if todo:
        embedder = make_embedder(CROSS_LINGUAL_BACKEND, threads=threads)
        fresh = embedder.embed([products[i].embedding_text() for i in todo], batch_size)
        reuse.update({hashes[i]: fresh[row] for row, i in enumerate(todo)})
    vectors = np.stack([reuse[h] for h in hashes]).astype(np.float32)
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    return buffer.getvalue()


def load_cross_lingual(index: ProductIndex) -> np.ndarray | None:
    """A build's USE vectors (one row per product), or None when it has none."""
    data = index.extra_file(CROSS_LINGUAL_FILE)
    if data is None:
        return None
    vectors = np.load(io.BytesIO(data), allow_pickle=False)
    return vectors if vectors.shape[0] == len(index.products) else None


def query_embedder(threads: int | None = None) -> Embedder:
    """The multilingual embedder the cross-lingual vectors were made with (loaded on first use)."""
    return make_embedder(CROSS_LINGUAL_BACKEND, threads=threads)
