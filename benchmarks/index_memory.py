"""Memory, build time, search latency and recall@10 of the vector index kinds (flat, HNSW, IVF-PQ) by size.

    python benchmarks/index_memory.py --vectors index/completejourney/vectors.npy --sizes 0,100000,1000000

Size 0 means the real vectors as they are (e.g. the Complete Journey catalog, 20,790 products embedded with
the packaged MiniLM). A larger size is synthetic, drawn to mimic them: a random distinct real vector plus
Gaussian noise of `--noise` (relative norm), renormalised. Queries are held out: real vectors left out of the
base (size 0) or fresh draws (synthetic). Recall@10 is against exact search and counts ties: a returned
product whose exact score equals the 10th best's is a hit (the real catalog holds many products with the
same text, so the same vector). Memory is the serialised index's size (what it holds in RAM); IVF-PQ also
reads the float vectors (memory-mapped `vectors.npy`, 4·dim bytes a product on disk) to re-score its
candidates. `--sweep` tries IVF-PQ search settings (nprobe, refine), `--shapes` other shapes (m, OPQ).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.index.vector_index import IVFPQParams, build_vector_index, ivfpq_params  # noqa: E402

K = 10
REFINES = (1, 4, 10, 25, 50, 100)  # --sweep: candidates re-scored, as multiples of k


def synthetic(real: np.ndarray, count: int, noise: float, seed: int) -> np.ndarray:
    """`count` unit vectors, each a distinct real vector plus Gaussian noise of relative norm `noise`."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, real.shape[1]), dtype=np.float32)
    for start in range(0, count, 100_000):
        stop = min(count, start + 100_000)
        rows = real[rng.integers(0, len(real), stop - start)]
        rows = rows + rng.normal(scale=noise / np.sqrt(real.shape[1]), size=rows.shape).astype(np.float32)
        out[start:stop] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def exact_top(base: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k (scores, positions) by blocked matrix products."""
    scores = np.empty((len(queries), K), dtype=np.float32)
    positions = np.empty((len(queries), K), dtype=np.int64)
    for start in range(0, len(queries), 100):
        sims = queries[start:start + 100] @ base.T
        top = np.argpartition(-sims, K, axis=1)[:, :K]
        order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1)
        positions[start:start + 100] = np.take_along_axis(top, order, 1)
        scores[start:start + 100] = np.take_along_axis(sims, positions[start:start + 100], 1)
    return scores, positions


def recall_with_ties(found: np.ndarray, base: np.ndarray, queries: np.ndarray, exact_scores: np.ndarray) -> float:
    """Share of the k returned that score at least the exact k-th best (less 1e-5), capped at 1 per query."""
    hits = []
    for query, row, kth in zip(queries, found, exact_scores[:, -1]):
        row = row[row >= 0]
        hits.append(min(K, int(np.sum(base[row] @ query >= kth - 1e-5))) / K)
    return float(np.mean(hits))


def index_bytes(index) -> int:
    import faiss

    return int(faiss.serialize_index(index._index).size)


def latencies(index, queries: np.ndarray) -> tuple[float, float, np.ndarray]:
    """p50 and p95 milliseconds of one-query searches, and every query's top k."""
    times, found = [], []
    for query in queries:
        start = time.perf_counter()
        found.append(index.search(query[None, :], K)[1][0])
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95)), np.array(found)


def measure(kind: str, base: np.ndarray, queries: np.ndarray, exact_scores: np.ndarray, threads: int,
            params: IVFPQParams | None = None) -> dict:
    start = time.perf_counter()
    index = build_vector_index(base, kind, threads=threads, params=params)
    build_s = time.perf_counter() - start
    size = index_bytes(index)
    rows = []
    settings = [(params.nprobe, params.refine)] if params else [(0, 0)]
    for nprobe, refine in settings:
        p50, p95, found = latencies(index, queries)
        rows.append({"kind": kind, "n": len(base), "shape": params.factory() if params else kind,
                     "nprobe": nprobe or None, "refine": refine or None, "build_s": round(build_s, 1),
                     "bytes_per_product": round(size / len(base), 1),
                     "gib_per_1e6": round(size / len(base) * 1e6 / 2**30, 3),
                     "gib_per_1e7": round(size / len(base) * 1e7 / 2**30, 2),
                     "p50_ms": round(p50, 3), "p95_ms": round(p95, 3),
                     "recall_at_10": round(recall_with_ties(found, base, queries, exact_scores), 4)})
    return {"index": index, "rows": rows}


def sweep(index, params: IVFPQParams, base, queries, exact_scores, build_s: float, size: int) -> list[dict]:
    """Search-time settings of one trained IVF-PQ index: nprobe × refine."""
    import faiss

    rows = []
    ivf = faiss.extract_index_ivf(index._index)
    for nprobe in sorted({max(1, params.nlist // d) for d in (64, 32, 16, 8)}):
        for refine in REFINES:
            ivf.nprobe = nprobe
            index.params = IVFPQParams(params.nlist, params.m, params.nbits, nprobe, refine, params.opq)
            p50, p95, found = latencies(index, queries)
            rows.append({"kind": "ivfpq", "n": len(base), "shape": params.factory(), "nprobe": nprobe,
                         "refine": refine, "build_s": round(build_s, 1),
                         "bytes_per_product": round(size / len(base), 1),
                         "gib_per_1e6": round(size / len(base) * 1e6 / 2**30, 3),
                         "gib_per_1e7": round(size / len(base) * 1e7 / 2**30, 2),
                         "p50_ms": round(p50, 3), "p95_ms": round(p95, 3),
                         "recall_at_10": round(recall_with_ties(found, base, queries, exact_scores), 4)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=Path, required=True, help="a build's vectors.npy (real embeddings)")
    parser.add_argument("--sizes", default="0,100000", help="comma-separated; 0 = the real vectors")
    parser.add_argument("--kinds", default="flat,hnsw,ivfpq")
    parser.add_argument("--hnsw-max", type=int, default=200_000, help="skip HNSW above this size (slow build)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sweep", action="store_true", help="IVF-PQ search settings: nprobe x refine")
    parser.add_argument("--shapes", action="store_true", help="IVF-PQ shapes too: m = dim/4, and OPQ at size 0")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    real = np.load(args.vectors, mmap_mode="r", allow_pickle=False)
    distinct = np.unique(np.asarray(real, dtype=np.float32), axis=0)
    rng = np.random.default_rng(0)
    rows: list[dict] = []
    for size in (int(s) for s in args.sizes.split(",")):
        if size == 0:
            held = rng.choice(len(distinct), args.queries, replace=False)
            queries = distinct[held]
            base = np.asarray(real, dtype=np.float32)
            base = base[~(base @ queries.T > 1 - 1e-6).any(axis=1)]  # no product with a query's own vector
        else:
            base = synthetic(distinct, size, args.noise, seed=1)
            queries = synthetic(distinct, args.queries, args.noise, seed=2)
        start = time.perf_counter()
        exact_scores, _ = exact_top(base, queries)
        print(f"n={len(base):,}: exact ground truth {time.perf_counter() - start:.1f} s", flush=True)
        dim = base.shape[1]
        for kind in args.kinds.split(","):
            if kind == "hnsw" and len(base) > args.hnsw_max:
                continue
            if kind == "ivfpq":
                default = ivfpq_params(len(base), dim)
                shapes = [default]
                if args.shapes:
                    shapes += [IVFPQParams(default.nlist, dim // 4, 8, default.nprobe, default.refine)]
                    if size == 0:
                        shapes.append(IVFPQParams(default.nlist, default.m, 8, default.nprobe, default.refine, True))
                for params in shapes:
                    done = measure(kind, base, queries, exact_scores, args.threads, params)
                    print(json.dumps(done["rows"][0]), flush=True)
                    rows += done["rows"]
                    if args.sweep:
                        size_bytes = int(done["rows"][0]["bytes_per_product"] * len(base))
                        rows += sweep(done["index"], params, base, queries, exact_scores,
                                      done["rows"][0]["build_s"], size_bytes)
                    del done
            else:
                done = measure(kind, base, queries, exact_scores, args.threads)
                print(json.dumps(done["rows"][0]), flush=True)
                rows += done["rows"]
                del done
        del base
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
