"""`VectorIndex` interface and its FAISS backend (exact for small catalogs, HNSW for large ones).

Vectors are unit length, so inner product is cosine similarity. An index saves to a directory
(`faiss.index` in FAISS's own binary format, plus a small JSON header) and loads back; no pickle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable

import numpy as np

from assistant.core.durable import write_durably

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 256  # recall@10 0.996 vs exact on 20k clustered vectors (tests)


def _faiss():
    try:
        import faiss
    except ImportError as err:
        raise ImportError("FAISS is not available - install faiss-cpu to enable vector search") from err
    return faiss


class VectorIndex(ABC):
    """Nearest-neighbour search over unit vectors, addressed by row position."""

    kind: str = ""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each query row, the top-k (scores, positions); position -1 pads a short answer."""

    @abstractmethod
    def save(self, folder: Path) -> list[str]:
        """Write the index into `folder`; return the names of the files written."""

    @abstractmethod
    def __len__(self) -> int:
        ...


class FaissIndex(VectorIndex):
    """FAISS inner-product index: `flat` (exact) or `hnsw` (approximate, for large catalogs)."""

    FILE = "faiss.index"

    def __init__(self, index, kind: str) -> None:
        self._index = index
        self.kind = kind

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat", threads: int | None = None) -> "FaissIndex":
        """Index `vectors` (n, dim) float32 with the given kind."""
        faiss = _faiss()
        if threads:
            faiss.omp_set_num_threads(threads)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise ValueError(f"unknown vector index kind {kind!r}; use 'flat' or 'hnsw'")
        if len(vectors):
            index.add(vectors)
        return cls(index, kind)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, max(len(self), 1)))
        scores, positions = self._index.search(queries, k)
        return scores, positions

    def save(self, folder: Path) -> list[str]:
        # Serialised here and written by Python, not with faiss.write_index: that one ignores a failed
        # close, so on a full disk it can leave a silently truncated file (seen on a 1-page shortfall).
        write_durably(folder / self.FILE, memoryview(_faiss().serialize_index(self._index)))
        return [self.FILE]

    @classmethod
    def load(cls, folder: Path, kind: str) -> "FaissIndex":
        index = _faiss().read_index(str(folder / cls.FILE))
        if kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index, kind)

    def __len__(self) -> int:
        return int(self._index.ntotal)


def choose_kind(count: int, threshold: int) -> str:
    """Exact search up to `threshold` vectors, HNSW above it."""
    return "hnsw" if count > threshold else "flat"


_BACKENDS: dict[str, Callable[..., VectorIndex]] = {"faiss": FaissIndex.build}
_LOADERS: dict[str, Callable[[Path, str], VectorIndex]] = {"faiss": FaissIndex.load}


def build_vector_index(vectors: np.ndarray, kind: str, backend: str = "faiss",
                       threads: int | None = None) -> VectorIndex:
    """The one factory: build an index of `kind` with the named backend."""
    if backend not in _BACKENDS:
        raise ValueError(f"unknown vector index backend {backend!r}; choose one of {', '.join(_BACKENDS)}")
    return _BACKENDS[backend](vectors, kind=kind, threads=threads)


def load_vector_index(folder: Path, kind: str, backend: str = "faiss") -> VectorIndex:
    """Load what `build_vector_index(...).save(folder)` wrote."""
    if backend not in _LOADERS:
        raise ValueError(f"unknown vector index backend {backend!r}; choose one of {', '.join(_LOADERS)}")
    return _LOADERS[backend](folder, kind)


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top-k positions that the approximate top-k also found."""
    hits = [len(set(a.tolist()) & set(e.tolist())) / max(len(e), 1) for a, e in zip(approx, exact)]
    return float(np.mean(hits)) if hits else 0.0

