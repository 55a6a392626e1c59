"""Benchmark: every CF model side by side — quality (temporal leave-last-out), fit time, recommend latency.

Usage:
  python benchmarks/cf.py                       # the demo store (quality + timings)
  python benchmarks/cf.py --synthetic 1000000   # timings on a synthetic long-tailed log of N events
  python benchmarks/cf.py --synthetic 10000000 --items 100000   # 10^7 events over 100,000 products
  python benchmarks/cf.py --synthetic 1000000 --items 8000 --quality --models ease,ease:dense_max_items=0
  python benchmarks/cf.py --models ease,blend --json

`popularity`, `als` and `bpr` are the peers (`als` / `bpr` are the `implicit` library's models). A model
may carry parameters, `name:key=value:...` (e.g. `ease:dense_max_items=0` forces the sparse EASE path).
The peak memory of the run is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.behaviour import build_interactions, cf_model_names, make_cf_model  # noqa: E402
from assistant.ingest.customers import InteractionLog, read_customers, read_events  # noqa: E402
from assistant.evaluation.metrics import evaluate_model, format_table, leave_last_out  # noqa: E402
from assistant.privacy.keys import Pseudonymizer  # noqa: E402


def synthetic_log(events: int, items: int = 0, seed: int = 0) -> InteractionLog:
    """A sparse, long-tailed log over `items` products (0: events / 20): Zipf product popularity,
    log-normal shopper activity (many one-event shoppers)."""
    rng = np.random.default_rng(seed)
    items = items or max(events // 20, 100)
    # Shopper activity is log-normal: most shoppers have a handful of events, many only one, a few hundreds.
    activity = np.maximum(1, np.round(rng.lognormal(mean=0.8, sigma=1.3, size=events // 4))).astype(int)
    user_ids = np.repeat(np.arange(len(activity)), activity)[:events]
    user_ids = np.concatenate([user_ids, rng.integers(0, len(activity), events - len(user_ids))])
    users = len(activity)
    # Each shopper leans to a "taste" block of products, so there is signal to learn.
    taste = rng.integers(0, 50, users)
    block = items // 50
    popular = np.minimum(rng.zipf(1.3, events), block) - 1
    item_ids = np.where(rng.random(events) < 0.7, taste[user_ids] * block + popular,
                        np.minimum(rng.zipf(1.2, events), items) - 1)
    kinds = rng.choice(["view", "click", "cart", "purchase"], size=events, p=[0.6, 0.25, 0.08, 0.07])
    times = 1.7e9 + rng.uniform(0, 365 * 86_400, events)
    return InteractionLog(np.char.add("u", user_ids.astype(str)), np.char.add("p", item_ids.astype(str)),
                          kinds.astype(str), times, np.full(events, np.nan))


def model_spec(spec: str) -> tuple[str, dict]:
    """`ease:dense_max_items=0:neighbours=50` -> ("ease", {"dense_max_items": 0, "neighbours": 50})."""
    name, *pairs = spec.split(":")
    params = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        params[key] = json.loads(value)
    return name, params


def peak_memory_gib() -> float:
    """The process's peak resident memory so far (Linux reports KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def recommend_latency(model, customers: list[str], repeats: int = 200) -> tuple[float, float]:
    """p50 and p95 milliseconds of one `recommend(customer=..., k=10)` call."""
    times = []
    for customer in customers[:repeats]:
        started = time.perf_counter()
        model.recommend(customer=customer, k=10)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(cf_model_names()), help="comma-separated, name[:key=value...]")
    parser.add_argument("--synthetic", type=int, default=0, help="events in a synthetic log (timings only, unless --quality)")
    parser.add_argument("--items", type=int, default=0, help="products in the synthetic log (default events / 20)")
    parser.add_argument("--quality", action="store_true",
                        help="with --synthetic: also temporal leave-last-out quality, as on the demo store")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    specs = [m for m in args.models.split(",") if m]

    rows = []
    if args.synthetic and not args.quality:
        started = time.perf_counter()
        log = synthetic_log(args.synthetic, args.items)
        data = build_interactions(log)
        print(f"synthetic log: {len(log):,} events, {len(data.users):,} shoppers, {len(data.items):,} products, "
              f"{data.matrix.nnz / (data.matrix.shape[0] * data.matrix.shape[1]):.2e} density, "
              f"built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        del log
        customers = [data.users[i] for i in np.random.default_rng(1).choice(len(data.users), 200, replace=False)]
        for spec in specs:
            name, params = model_spec(spec)
            model = make_cf_model(name, **params).fit(data)
            p50, p95 = recommend_latency(model, customers)
            rows.append({"model": spec, "fit_seconds": round(model.fit_seconds, 2),
                         "recommend_p50_ms": round(p50, 2), "recommend_p95_ms": round(p95, 2)})
            print(f"{spec}: fit {model.fit_seconds:.1f} s, recommend p50 {p50:.2f} ms, p95 {p95:.2f} ms, "
                  f"peak memory {peak_memory_gib():.1f} GiB", file=sys.stderr)
            del model
    else:
        if args.synthetic:
            log, segments = synthetic_log(args.synthetic, args.items), {}
            where = f"synthetic log over {args.items or args.synthetic // 20:,} products"
        else:
            from assistant.demo import customers_path, events_path
            key = Pseudonymizer(b"benchmark-key-not-a-secret")
            log = read_events([events_path()], key)
            profiles, _ = read_customers([customers_path()], key)
            segments = {c: p.segment for c, p in profiles.items()}
            where = "demo store"
        split = leave_last_out(log)
        data = build_interactions(split.train, segments)
        customers = sorted(split.targets)[:200]
        results = []
        for spec in specs:
            name, params = model_spec(spec)
            result = evaluate_model(name, data, split.targets, args.k, params)
            result.model = spec
            results.append(result)
            model = make_cf_model(name, **params).fit(data)
            p50, p95 = recommend_latency(model, customers)
            rows.append({**result.to_dict(), "recommend_p50_ms": round(p50, 2), "recommend_p95_ms": round(p95, 2)})
        if not args.json:
            print(f"{where}: {len(log):,} events, temporal leave-last-out, K={args.k}")
            print(format_table(results, args.k))
            print()
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    width = max([12, *(len(row["model"]) + 2 for row in rows)])
    print(f"{'model':<{width}}{'fit s':>8}{'recommend p50 ms':>18}{'p95 ms':>9}")
    for row in rows:
        print(f"{row['model']:<{width}}{row['fit_seconds']:>8.2f}{row['recommend_p50_ms']:>18.2f}"
              f"{row['recommend_p95_ms']:>9.2f}")
    print(f"peak memory {peak_memory_gib():.1f} GiB")


if __name__ == "__main__":
    main()
