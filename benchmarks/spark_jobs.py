"""Benchmark: the offline jobs on the single-machine engine against Spark local[2], at multiples of the demo
store — wall time and peak resident memory of the whole process tree (Spark's JVM and Python workers
included), each job run as a user runs it (`python -m assistant ...` in a fresh process).

Usage:
  python benchmarks/spark_jobs.py --scales 1,10            # cf fit (als) and index build at 1x and 10x
  python benchmarks/spark_jobs.py --scales 100 --jobs cf --model item_item --embedder hashing

The log is synthetic (benchmarks/cf.py's long-tailed generator) with the demo log's size times the scale
(97,246 events; products 2,411 times the scale); the catalog is the demo catalog repeated with new ids.
`run_job` and `peak_tree_rss` are what benchmarks/scale.py can reuse.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cf import synthetic_log  # noqa: E402

DEMO_EVENTS, DEMO_PRODUCTS = 97_246, 2_411


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants now (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS"))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_job(args: list[str], env: dict[str, str], every: float = 0.1, timeout: float | None = None) -> dict:
    """Run `python -m assistant <args>`; its wall seconds, exit status and the peak RSS (GiB) of its tree.
    Past `timeout` seconds the whole process group is killed and the status is "timeout"."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as output:
        process = subprocess.Popen([sys.executable, "-m", "assistant", *args], env=env, cwd=ROOT,
                                   stdout=output, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        peak, status = 0, None
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            if timeout is not None and time.perf_counter() - started > timeout:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                status = "timeout"
                break
            time.sleep(every)
        output.seek(0)
        lines = output.read().strip().splitlines()
    return {"seconds": round(time.perf_counter() - started, 1), "peak_gib": round(peak / 2**30, 2),
            "status": status or process.returncode, "tail": lines[-1:]}


def write_log(scale: float, folder: Path) -> Path:
    log = synthetic_log(int(DEMO_EVENTS * scale), int(DEMO_PRODUCTS * scale))
    path = folder / f"events-{scale:g}x.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["customer_id", "product_id", "event", "timestamp", "value"])
        out.writerows(zip(log.customers.tolist(), log.products.tolist(), log.events.tolist(),
                          log.timestamps.tolist(), [""] * len(log)))
    return path


def write_catalog(scale: float, folder: Path) -> Path:
    from assistant.demo import catalog_path
    rows = [json.loads(line) for line in catalog_path().read_text(encoding="utf-8").splitlines() if line.strip()]
    path = folder / f"catalog-{scale:g}x.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for copy in range(max(1, round(scale))):
            for row in rows:
                handle.write(json.dumps({**row, "id": f"{row['id']}-{copy}",
                                         "title": f"{row['title']} #{copy}" if copy else row["title"]}) + "\n")
    return path


def job_command(job: str, engine: str, data: Path, index_dir: Path, model: str, embedder: str,
                master: str) -> list[str]:
    """The `aisle` command line of one job ("cf" or "index") on one engine ("local" or "spark")."""
    common = ["--index-dir", str(index_dir)]
    if job == "cf":
        cmd = [*common, "cf", "fit", "--interactions", str(data), "--name", "bench", "--model", model,
               "--no-feedback", "--quiet", "--engine", engine]
    else:
        cmd = [*common, "index", "build", str(data), "--name", "bench", "--embedder", embedder,
               "--quiet", "--engine", engine]
    return cmd + (["--master", master] if engine == "spark" else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10", help="multiples of the demo store, comma-separated")
    parser.add_argument("--jobs", default="cf,index", help="cf, index or both")
    parser.add_argument("--model", default="als", choices=["als", "item_item"])
    parser.add_argument("--embedder", default="hashing", help="the index build's embedder (hashing: no model)")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    env = {**os.environ, "AISLE_PSEUDONYM_KEY": "benchmark-key-0123456789", "PYTHONPATH": str(ROOT)}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for scale in [float(s) for s in args.scales.split(",")]:
            for job in args.jobs.split(","):
                data = write_log(scale, folder) if job == "cf" else write_catalog(scale, folder)
                for engine in ("local", "spark"):
                    cmd = job_command(job, engine, data, folder / f"index-{job}-{engine}-{scale:g}", args.model,
                                      args.embedder, args.master)
                    result = run_job(cmd, {**env, "AISLE_STATE_DIR": str(folder / "state")})
                    row = {"job": job, "scale": scale, "engine": engine if engine == "local" else args.master,
                           **result}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    print(f"\n| job | scale | engine | wall s | peak RSS GiB (tree) | exit |\n|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['job']} | {row['scale']:g}x | {row['engine']} | {row['seconds']} | {row['peak_gib']} | "
              f"{row['status']} |")


if __name__ == "__main__":
    main()
