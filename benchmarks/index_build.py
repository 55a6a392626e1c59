"""Benchmark: index build throughput vs raw sentence-transformers encode, and a 1%-changed rebuild.

Usage: python benchmarks/index_build.py [--catalog FILE] [--changed 0.01] [--json]

Both sides embed the same texts with the same model (loaded once, outside the timings):
- raw:     SentenceTransformer.encode(texts, batch_size=64)
- build:   read the catalog file, validate, hash, embed, build FAISS, write and publish the index
- rebuild: the same catalog with a share of the products changed (only those are re-embedded)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.ingest.catalog import read_catalog, write_jsonl  # noqa: E402
from assistant.index.embedding import make_embedder  # noqa: E402
from assistant.index import build_index  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", type=Path, default=None, help="catalog file (default: the demo store)")
    parser.add_argument("--changed", type=float, default=0.01, help="share of products changed for the rebuild")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.catalog is None:
        from assistant.demo import catalog_path
        args.catalog = catalog_path()

    started = time.perf_counter()
    embedder = make_embedder("minilm", threads=2)
    load_seconds = time.perf_counter() - started
    products, _ = read_catalog([args.catalog])
    texts = [p.embedding_text() for p in products]
    raw_model = embedder._model  # the very SentenceTransformer object: same weights, same threads
    raw_model.encode(texts[:64], batch_size=args.batch_size)  # warm-up for both sides

    started = time.perf_counter()
    raw_model.encode(texts, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False)
    raw_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "index"
        started = time.perf_counter()
        products_built, report = read_catalog([args.catalog])
        full = build_index(products_built, report, embedder, root, "bench", batch_size=args.batch_size)
        full_seconds = time.perf_counter() - started

        rng = random.Random(0)
        changed_ids = set(rng.sample([p.id for p in products], max(1, round(len(products) * args.changed))))
        changed = [replace(p, description=p.description + " Updated for the new season.")
                   if p.id in changed_ids else p for p in products]
        changed_file = Path(tmp) / "changed.jsonl"
        write_jsonl(changed, changed_file)
        started = time.perf_counter()
        products_changed, report = read_catalog([changed_file])
        rebuild = build_index(products_changed, report, embedder, root, "bench", batch_size=args.batch_size)
        rebuild_seconds = time.perf_counter() - started

    figures = {
        "products": len(products),
        "model_load_seconds": round(load_seconds, 2),
        "raw_encode_seconds": round(raw_seconds, 2),
        "raw_encode_per_second": round(len(texts) / raw_seconds, 1),
        "full_build_seconds": round(full_seconds, 2),
        "full_build_per_second": round(len(products) / full_seconds, 1),
        "build_vs_raw_throughput": round(raw_seconds / full_seconds, 3),
        "rebuild_changed": len(changed_ids),
        "rebuild_re_embedded": rebuild.re_embedded,
        "rebuild_seconds": round(rebuild_seconds, 3),
        "rebuild_speedup_vs_full": round(full_seconds / rebuild_seconds, 1),
        "full_re_embedded": full.re_embedded,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"catalog: {args.catalog} ({len(products)} products); model load {load_seconds:.1f} s (not timed below)")
    print(f"{'':28}{'seconds':>10}{'products/s':>12}")
    print(f"{'raw SentenceTransformer':28}{raw_seconds:>10.2f}{len(texts) / raw_seconds:>12.1f}")
    print(f"{'aisle full build':28}{full_seconds:>10.2f}{len(products) / full_seconds:>12.1f}")
    print(f"{'aisle rebuild, ' + str(len(changed_ids)) + ' changed':28}{rebuild_seconds:>10.2f}"
          f"{'':>12}  re-embedded {rebuild.re_embedded}")
    print(f"build throughput / raw encode throughput: {figures['build_vs_raw_throughput']:.3f} (goal >= 0.85)")
    print(f"full build / changed rebuild: {figures['rebuild_speedup_vs_full']:.1f}x faster (goal >= 10x)")


if __name__ == "__main__":
    main()
