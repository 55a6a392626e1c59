"""Benchmark: where a store outgrows one process — the offline jobs (cf fit, index build) on the single-machine
path against Spark local[2] at 10x, 100x and 1,000x the demo store, and the vector index's memory per million
products for flat, HNSW and IVF-PQ.

    python benchmarks/scale.py                                   # 10x and 100x, both jobs, both engines
    python benchmarks/scale.py --scales 10,100,1000 --timeout 3600 --out scale.json

Each job runs as a user runs it (`python -m assistant ...`, a fresh process); wall seconds and the peak
resident memory of its whole process tree (Spark's JVM and Python workers included) are sampled every 0.1 s
(benchmarks/spark_jobs.py's `run_job`). The log is synthetic (benchmarks/cf.py's long-tailed generator) with
the demo log's size times the scale (97,246 events, 2,411 products at 1x); the catalog is the demo catalog
repeated with new ids. A path is not run at a scale where the straight line through its two largest measured
peaks says it would need more than `--budget-gib`, nor after it timed out or failed at a smaller scale; "the
largest size in 24 GiB" is that straight line's answer (an extrapolation, marked as such). The load average
is printed beside each row: on a shared 2-core machine times are upper bounds.

Index memory: flat, HNSW (M32) and IVF-PQ built on synthetic vectors drawn to mimic the demo index's real
MiniLM vectors (benchmarks/index_memory.py's generator) at `--index-sizes`; bytes per product from the
serialised index, which is what it holds in RAM.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from index_memory import exact_top, measure, synthetic  # noqa: E402
from spark_jobs import DEMO_EVENTS, DEMO_PRODUCTS, job_command, run_job, write_catalog, write_log  # noqa: E402


def projected_peak(history: list[tuple[float, float]], scale: float) -> float | None:
    """The peak GiB at `scale` on the straight line through the two largest measured (scale, peak) points."""
    if len(history) < 2:
        return None
    (s1, p1), (s2, p2) = sorted(history)[-2:]
    slope = max((p2 - p1) / (s2 - s1), 0.0)
    return p2 + slope * (scale - s2)


def largest_scale(history: list[tuple[float, float]], budget: float) -> float | None:
    """The scale at which that straight line reaches `budget` GiB (None with fewer than two points)."""
    if len(history) < 2:
        return None
    (s1, p1), (s2, p2) = sorted(history)[-2:]
    slope = (p2 - p1) / (s2 - s1)
    return float("inf") if slope <= 0 else s2 + (budget - p2) / slope


def run_jobs(args: argparse.Namespace) -> list[dict]:
    env = {**os.environ, "AISLE_PSEUDONYM_KEY": "benchmark-key-0123456789", "PYTHONPATH": str(ROOT)}
    rows: list[dict] = []
    history: dict[tuple[str, str], list[tuple[float, float]]] = {}
    stopped: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for scale in [float(s) for s in args.scales.split(",")]:
            for job in args.jobs.split(","):
                data = None
                for engine in ("local", "spark"):
                    path = (job, engine)
                    projected = projected_peak(history.get(path, []), scale)
                    if path not in stopped and projected is not None and projected > args.budget_gib:
                        stopped[path] = f"projected {projected:.1f} GiB > {args.budget_gib:g}"
                    row = {"job": job, "scale": scale, "engine": engine if engine == "local" else args.master,
                           "events" if job == "cf" else "products":
                               int(DEMO_EVENTS * scale) if job == "cf" else DEMO_PRODUCTS * max(1, round(scale))}
                    if path in stopped:
                        rows.append({**row, "status": f"not run: {stopped[path]}"})
                        print(json.dumps(rows[-1]), flush=True)
                        continue
                    if data is None:
                        data = write_log(scale, folder) if job == "cf" else write_catalog(scale, folder)
                    result = run_job(job_command(job, engine, data, folder / f"index-{job}-{engine}-{scale:g}",
                                                 args.model, args.embedder, args.master),
                                     {**env, "AISLE_STATE_DIR": str(folder / "state")}, timeout=args.timeout)
                    rows.append({**row, **result, "load_avg": round(os.getloadavg()[0], 1)})
                    print(json.dumps(rows[-1]), flush=True)
                    if result["status"] == 0:
                        history.setdefault(path, []).append((scale, result["peak_gib"]))
                    else:
                        stopped[path] = f"{result['status']} at {scale:g}x"
                if data is not None:
                    data.unlink()
    for (job, engine), points in history.items():
        top = largest_scale(points, args.budget_gib)
        if top is not None:
            rows.append({"job": job, "engine": engine if engine == "local" else args.master,
                         "largest_scale_in_budget": None if top == float("inf") else round(top),
                         "estimated": True})
    return rows


def index_memory(args: argparse.Namespace) -> list[dict]:
    real = np.load(ROOT / "index" / "demo" / "vectors.npy", mmap_mode="r", allow_pickle=False)
    distinct = np.unique(np.asarray(real, dtype=np.float32), axis=0)
    rows = []
    for size in (int(s) for s in args.index_sizes.split(",")):
        base = synthetic(distinct, size, 0.5, seed=1)
        queries = synthetic(distinct, 200, 0.5, seed=2)
        exact_scores, _ = exact_top(base, queries)
        for kind in ("flat", "hnsw", "ivfpq"):
            if kind == "hnsw" and size > args.hnsw_max:
                continue
            done = measure(kind, base, queries, exact_scores, threads=2)
            row = {k: done["rows"][0][k] for k in ("kind", "n", "shape", "build_s", "bytes_per_product",
                                                   "gib_per_1e6", "p50_ms", "recall_at_10")}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| job | scale | size | engine | wall s | peak RSS GiB | exit | load avg |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if "scale" in row:
            size = row.get("events", row.get("products"))
            lines.append(f"| {row['job']} | {row['scale']:g}x | {size:,} | {row['engine']} | "
                         f"{row.get('seconds', '')} | {row.get('peak_gib', '')} | {row['status']} | "
                         f"{row.get('load_avg', '')} |")
    estimates = [row for row in rows if "largest_scale_in_budget" in row]
    if estimates:
        lines += ["", "| job | engine | largest scale in budget (extrapolated) |", "|---|---|---|"]
        lines += [f"| {r['job']} | {r['engine']} | {r['largest_scale_in_budget'] or 'no growth measured'} |"
                  for r in estimates]
    memory = [row for row in rows if "bytes_per_product" in row]
    if memory:
        lines += ["", "| vectors | kind | shape | B / product | GiB / 10⁶ products | recall@10 |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['n']:,} | {r['kind']} | {r['shape']} | {r['bytes_per_product']} | {r['gib_per_1e6']} | "
                  f"{r['recall_at_10']} |" for r in memory]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="10,100", help="multiples of the demo store, comma-separated")
    parser.add_argument("--jobs", default="cf,index", help="cf, index or both (comma-separated)")
    parser.add_argument("--model", default="als", choices=["als", "item_item"], help="the cf job's model")
    parser.add_argument("--embedder", default="hashing", help="the index build's embedder (hashing: no model)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--budget-gib", type=float, default=24.0, help="the machine's memory")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a job is killed")
    parser.add_argument("--index-sizes", default="24110,241100", help="vector counts for the index rows ('' none)")
    parser.add_argument("--hnsw-max", type=int, default=50_000, help="no HNSW row above this many vectors (slow build)")
    parser.add_argument("--out", type=Path, help="write every row as JSON here")
    args = parser.parse_args()
    rows = run_jobs(args) if args.jobs else []
    if args.index_sizes:
        rows += index_memory(args)
    print("\n" + table(rows))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
