"""`VectorIndex` interface and its FAISS backend: exact (`flat`) for small catalogs, `hnsw` for large ones and
`ivfpq` (an inverted file of product-quantised codes, optionally OPQ-rotated) for very large ones.

Vectors are unit length, so inner product is cosine similarity. An index saves to a directory
(`faiss.index` in FAISS's own binary format; its parameters go in the build manifest) and loads back; no
pickle. IVF-PQ keeps only a short code per vector in memory; its candidates (`refine` × k of them) are
re-scored exactly against the build's float vectors when they are attached (a memory-mapped `vectors.npy`),
which lifts its recall@10 against exact search from 0.76 to 0.999 on a real catalog and from 0.53 to
0.98 at 10^5 vectors, but only to 0.81 at 10^6 synthetic ones (benchmarks/index_memory.py, docs/index.md).

Building in steps (for a build that embeds shard by shard): `new_index(kind, dim, n_expected)`, then
`train(index, sample)` on a sample of `training_size(index)` vectors, then `add(index, shard)` per shard.
`build_vector_index(vectors, kind)` does all three at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from assistant.core.durable import write_durably

KINDS = ("flat", "hnsw", "ivfpq")
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 256  # recall@10 0.996 vs exact on 20k clustered vectors (tests)
IVFPQ_THRESHOLD = 1_000_000  # "auto": above this many products IVF-PQ instead of HNSW (docs/index.md)
TRAIN_MAX = 200_000  # at most this many vectors train an IVF-PQ index (k-means and codebooks)


def _faiss():
    try:
        import faiss
    except ImportError as err:
        raise ImportError("FAISS is not available - install faiss-cpu to enable vector search") from err
    return faiss


@dataclass(frozen=True)
class IVFPQParams:
    """An IVF-PQ index's shape: `nlist` k-means cells, `m` sub-vectors of `nbits`-bit codes, `nprobe` cells
    searched per query, `refine` × k candidates re-scored exactly, `opq` a learned rotation before coding."""

    nlist: int
    m: int
    nbits: int = 8
    nprobe: int = 32
    refine: int = 50
    opq: bool = False

    def factory(self) -> str:
        """The FAISS index-factory string."""
        rotation = f"OPQ{self.m}," if self.opq else ""
        return f"{rotation}IVF{self.nlist},PQ{self.m}x{self.nbits}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "IVFPQParams":
        return cls(**{k: data[k] for k in ("nlist", "m", "nbits", "nprobe", "refine", "opq") if k in data})


def ivfpq_params(n_expected: int, dim: int) -> IVFPQParams:
    """The measured default shape for about `n_expected` vectors of `dim` dimensions: about 4·√n cells (a
    power of two, at least 39 training vectors each), sub-vectors of 8 dimensions (m = dim/8; 8-bit codes,
    fewer bits below 9,984 vectors),
    nprobe a 32nd of the cells (at least 16), 50 × k candidates re-scored (docs/index.md, "IVF-PQ": at 10⁶
    vectors recall@10 was 0.81 / 0.945 / 0.985 / 0.996 re-scoring 10 / 25 / 50 / 100 × k, the same at
    nprobe 64 to 512)."""
    if n_expected < 1 or dim < 1:
        raise ValueError(f"ivfpq_params needs n_expected >= 1 and dim >= 1, not {n_expected}, {dim}")
    target = max(16, int(4 * np.sqrt(n_expected)))
    nlist = 1 << int(np.round(np.log2(target)))
    while nlist > 16 and nlist * 39 > n_expected:
        nlist //= 2
    m = next(m for m in (dim // 8, dim // 6, dim // 4, dim // 2, dim) if m >= 1 and dim % m == 0)
    nbits = next(b for b in (8, 6, 4) if n_expected >= 39 << b or b == 4)  # 39 training vectors a centroid
    return IVFPQParams(nlist=nlist, m=m, nbits=nbits, nprobe=min(nlist, max(16, nlist // 32)), refine=50)


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

    def manifest_entry(self) -> dict[str, Any]:
        """What the build manifest records of this index (kind, count and any parameters)."""
        return {"kind": self.kind, "count": len(self)}


class FaissIndex(VectorIndex):
    """FAISS inner-product index: `flat` (exact), `hnsw` or `ivfpq` (approximate, for large catalogs)."""

    FILE = "faiss.index"

    def __init__(self, index, kind: str, params: IVFPQParams | None = None) -> None:
        self._index = index
        self.kind = kind
        self.params = params
        self._vectors: np.ndarray | None = None  # for re-scoring IVF-PQ candidates exactly

    @classmethod
    def empty(cls, kind: str, dim: int, n_expected: int = 0, params: IVFPQParams | None = None) -> "FaissIndex":
        """An empty index of `kind` for `dim`-dimensional vectors (IVF-PQ shaped for `n_expected` of them,
        or by `params`); IVF-PQ must be trained before vectors are added."""
        faiss = _faiss()
        if kind == "flat":
            return cls(faiss.IndexFlatIP(dim), kind)
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
            return cls(index, kind)
        if kind == "ivfpq":
            params = params or ivfpq_params(max(n_expected, 1), dim)
            if dim % params.m:
                raise ValueError(f"ivfpq m={params.m} must divide the vector dimension {dim}")
            index = faiss.index_factory(dim, params.factory(), faiss.METRIC_INNER_PRODUCT)
            ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
            ivf.nprobe = params.nprobe
            ivf.do_polysemous_training = False  # the factory's default; slow (minutes) and unused here
            return cls(index, kind, params)
        raise ValueError(f"unknown vector index kind {kind!r}; use one of {', '.join(KINDS)}")

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat", threads: int | None = None,
              params: IVFPQParams | None = None, seed: int = 0) -> "FaissIndex":
        """Index `vectors` (n, dim) float32 with the given kind (IVF-PQ trained on a seeded sample of them)."""
        if threads:
            _faiss().omp_set_num_threads(threads)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = cls.empty(kind, vectors.shape[1], len(vectors), params)
        if not index.is_trained:
            size = min(len(vectors), index.training_size())
            rows = np.sort(np.random.default_rng(seed).choice(len(vectors), size, replace=False))
            index.train(vectors[rows])
        if len(vectors):
            index.add(vectors)
        index.attach(vectors)
        return index

    @property
    def is_trained(self) -> bool:
        return bool(self._index.is_trained)

    def training_size(self) -> int:
        """How many vectors `train` wants (0 when this kind needs no training)."""
        if self.params is None:
            return 0
        return min(TRAIN_MAX, max(64 * self.params.nlist, 64 << self.params.nbits))

    def train(self, sample: np.ndarray) -> None:
        """Learn the cells and codebooks from `sample` (nothing to learn for flat and HNSW)."""
        if self.is_trained:
            return
        sample = np.ascontiguousarray(sample, dtype=np.float32)
        needed = max(self.params.nlist, 1 << self.params.nbits) if self.params else 1
        if len(sample) < needed:
            raise ValueError(f"training an {self.kind} index needs at least {needed} vectors, got {len(sample)}")
        self._index.train(sample)

    def add(self, vectors: np.ndarray) -> None:
        """Append `vectors`: they take the next positions."""
        if not self.is_trained:
            raise ValueError(f"train this {self.kind} index before adding vectors")
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def attach(self, vectors: np.ndarray | None) -> None:
        """The float vectors of the indexed rows (e.g. memory-mapped), to re-score IVF-PQ candidates exactly."""
        if vectors is not None and len(vectors) != len(self):
            raise ValueError(f"attached vectors count {len(vectors)}, the index {len(self)}")
        self._vectors = vectors

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, max(len(self), 1)))
        if self.params is None or self._vectors is None or self.params.refine <= 1:
            return self._index.search(queries, k)
        wide = min(len(self), k * self.params.refine)
        _, candidates = self._index.search(queries, wide)
        return _rescore(queries, candidates, self._vectors, k)

    def save(self, folder: Path) -> list[str]:
        # Serialised here and written by Python, not with faiss.write_index: that one ignores a failed
        # close, so on a full disk it can leave a silently truncated file (seen on a 1-page shortfall).
        write_durably(folder / self.FILE, memoryview(_faiss().serialize_index(self._index)))
        return [self.FILE]

    def manifest_entry(self) -> dict[str, Any]:
        entry = super().manifest_entry()
        if self.params is not None:
            entry["params"] = self.params.to_dict()
        return entry

    @classmethod
    def load(cls, folder: Path, kind: str, params: Mapping[str, Any] | None = None,
             vectors: np.ndarray | None = None) -> "FaissIndex":
        faiss = _faiss()
        index = faiss.read_index(str(folder / cls.FILE))
        shape = None
        if kind == "hnsw":
            index.hnsw.efSearch = HNSW_EF_SEARCH
        elif kind == "ivfpq":
            ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
            shape = IVFPQParams.from_dict(params) if params else IVFPQParams(  # a manifest without params
                ivf.nlist, ivf.pq.M, ivf.pq.nbits, ivf.nprobe, opq=isinstance(index, faiss.IndexPreTransform))
            ivf.nprobe = shape.nprobe
        loaded = cls(index, kind, shape)
        if shape is not None and vectors is not None:
            loaded.attach(vectors)
        return loaded

    def __len__(self) -> int:
        return int(self._index.ntotal)


def _rescore(queries: np.ndarray, candidates: np.ndarray, vectors: np.ndarray,
             k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top k of each query's candidate positions by exact inner product with `vectors` (-1: none)."""
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    positions = np.full((len(queries), k), -1, dtype=np.int64)
    for row, (query, found) in enumerate(zip(queries, candidates)):
        found = found[found >= 0]
        if not len(found):
            continue
        order = np.sort(found)  # ascending reads of a memory-mapped file
        exact = np.asarray(vectors[order], dtype=np.float32) @ query
        best = np.argsort(-exact, kind="stable")[:k]
        scores[row, :len(best)], positions[row, :len(best)] = exact[best], order[best]
    return scores, positions


def choose_kind(count: int, threshold: int, ivfpq_threshold: int = IVFPQ_THRESHOLD, kind: str = "auto") -> str:
    """The configured `kind`, or for "auto": exact search up to `threshold` vectors, HNSW above it, IVF-PQ
    above `ivfpq_threshold`."""
    if kind != "auto":
        if kind not in KINDS:
            raise ValueError(f"unknown vector index kind {kind!r}; use 'auto' or one of {', '.join(KINDS)}")
        return kind
    if count > ivfpq_threshold:
        return "ivfpq"
    return "hnsw" if count > threshold else "flat"


def new_index(kind: str, dim: int, n_expected: int, backend: str = "faiss",
              params: IVFPQParams | None = None) -> FaissIndex:
    """An empty index of `kind` sized for about `n_expected` vectors: `train` it on a sample of
    `index.training_size()` vectors, then `add` the vectors shard by shard, then `save` it."""
    _check_backend(backend)
    return FaissIndex.empty(kind, dim, n_expected, params)


def train(index: FaissIndex, sample: np.ndarray) -> None:
    """Train `index` on `sample` (a no-op for kinds that need no training)."""
    index.train(sample)


def add(index: FaissIndex, vectors: np.ndarray) -> None:
    """Add one shard of vectors to a trained `index` (they take the next positions)."""
    index.add(vectors)


_BACKENDS: dict[str, Callable[..., VectorIndex]] = {"faiss": FaissIndex.build}
_LOADERS: dict[str, Callable[..., VectorIndex]] = {"faiss": FaissIndex.load}


def _check_backend(backend: str) -> None:
    if backend not in _BACKENDS:
        raise ValueError(f"unknown vector index backend {backend!r}; choose one of {', '.join(_BACKENDS)}")


def build_vector_index(vectors: np.ndarray, kind: str, backend: str = "faiss",
                       threads: int | None = None, params: IVFPQParams | None = None) -> VectorIndex:
    """The one factory: build an index of `kind` with the named backend."""
    _check_backend(backend)
    return _BACKENDS[backend](vectors, kind=kind, threads=threads, params=params)


def load_vector_index(folder: Path, kind: str, backend: str = "faiss", params: Mapping[str, Any] | None = None,
                      vectors: np.ndarray | None = None) -> VectorIndex:
    """Load what `build_vector_index(...).save(folder)` wrote; `params` are the manifest's, `vectors` the
    indexed rows' float vectors (IVF-PQ re-scores its candidates with them)."""
    _check_backend(backend)
    return _LOADERS[backend](folder, kind, params, vectors)


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top-k positions that the approximate top-k also found."""
    hits = [len(set(a.tolist()) & set(e.tolist())) / max(len(e), 1) for a, e in zip(approx, exact)]
    return float(np.mean(hits)) if hits else 0.0
