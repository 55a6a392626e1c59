"""Load benchmark: concurrent clients against POST /api/recommend on loopback.

Usage: python benchmarks/serve.py [--clients 20] [--requests 10] [--reasons] [--llm none|qwen] [--json]

Starts the real app (demo index, real embedder and CF model) on 127.0.0.1 in this process, then runs
`--clients` threads that each send `--requests` requests (messages from the labelled request set), bounded
in count, and stops by itself. Reports p50 / p95 latency, throughput and errors. The peer figure is one
client alone, sending the same requests one after another, in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.surfaces.server import create_app, serving_in_background  # noqa: E402
from assistant.service.assistant import Assistant, ensure_demo_index  # noqa: E402
from assistant.core.config import Settings  # noqa: E402
from assistant.evaluation.metrics import default_requests_path, load_request_cases  # noqa: E402


def post(url: str, body: dict) -> tuple[float, bool]:
    data = json.dumps(body).encode()
    started = time.perf_counter()
    try:
        request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            ok = response.status == 200 and bool(json.load(response).get("items") is not None)
    except Exception:
        ok = False
    return time.perf_counter() - started, ok


def run_clients(url: str, messages: list[str], clients: int, per_client: int, reasons: bool) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(index: int) -> None:
        nonlocal errors
        for i in range(per_client):
            message = messages[(index * per_client + i) % len(messages)]
            seconds, ok = post(url, {"message": message, "k": 5, "reasons": reasons})
            with lock:
                latencies.append(seconds)
                errors += not ok

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"requests": len(latencies), "errors": errors, "seconds": round(wall, 2),
            "throughput_per_s": round(len(latencies) / wall, 2),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--reasons", action="store_true", help="ask for LLM reasons (slow on 2 cores)")
    parser.add_argument("--llm", default="none", help="language model: none (default here) or qwen")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    messages = [t for case in load_request_cases(default_requests_path()) for t in case.turns[:1]]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", state_dir=Path(tmp) / "state", llm_model=args.llm)
        ensure_demo_index(settings)
        assistant = Assistant(settings)
        assistant.recommend("warm up", reasons=args.reasons)
        with serving_in_background(create_app(assistant, mount_ui=False)) as base:
            url = f"{base}/api/recommend"
            single = run_clients(url, messages, 1, args.clients * args.requests // 4, args.reasons)
            loaded = run_clients(url, messages, args.clients, args.requests, args.reasons)
    figures = {"clients": args.clients, "per_client": args.requests, "reasons": args.reasons, "llm": args.llm,
               "concurrent": loaded, "peer_one_client": single}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{args.clients} clients x {args.requests} requests, reasons={args.reasons}, llm={args.llm}")
    for name, result in (("concurrent", loaded), ("peer: one client", single)):
        print(f"{name:<18} requests {result['requests']:>4}  errors {result['errors']}  p50 {result['p50_ms']} ms  "
              f"p95 {result['p95_ms']} ms  {result['throughput_per_s']} req/s")


if __name__ == "__main__":
    main()
