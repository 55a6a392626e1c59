"""Chat latency with the shopper store in SQLite vs PostgreSQL, and with 1 vs 2 serving replicas.

    python benchmarks/replicas.py [--turns 90] [--clients 4]

1. In process: one `Assistant` over the demo store (hashing embedder, no LLM) answers the same 3-turn
   conversations with `shopper_store = "sqlite"` and `"postgresql"`: p50 / p95 of `chat`, and the size of
   one sealed shared trace and conversation row.
2. Over HTTP: `aisle serve` processes on loopback, `--clients` threads each holding 3-turn conversations,
   turns sent round-robin across the replicas (no load balancer: the client alternates): 1 replica on
   SQLite, 1 on PostgreSQL, 2 on PostgreSQL. On a 2-core machine two replicas share the same cores, so
   this measures the cost of the shared store, not the scaling a second machine would give.

PostgreSQL is Debian's package started in a temporary folder (tests/postgres_server.py), or the server
AISLE_TEST_POSTGRES_DSN names.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

CONVERSATION = ["a waterproof jacket for my 6-year-old", "under $30", "show me more"]
DATA_KEY = "benchmark-data-key-0123456789abcdef"


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1), "n": len(ordered)}


def in_process(turns: int, dsn: str, folder: Path) -> dict:
    import os

    from assistant.core.config import Settings
    from assistant.service.assistant import Assistant, ensure_demo_index

    os.environ["AISLE_DATA_KEY"] = DATA_KEY
    out = {}
    for store in ("sqlite", "postgresql"):
        settings = Settings(index_dir=folder / "index", index_name="demo", embedder="hashing", llm_model="none",
                            state_dir=folder / f"state-{store}", shopper_store=store,
                            postgres_dsn=dsn if store == "postgresql" else "")
        ensure_demo_index(settings)
        shop = Assistant(settings)
        shop.chat(CONVERSATION[0])  # warm: index, CF model, features
        times = []
        for i in range(turns):
            conversation_id = None
            for message in CONVERSATION:
                started = time.perf_counter()
                conversation_id, _ = shop.chat(message, conversation_id)
                times.append(time.perf_counter() - started)
                if len(times) >= turns:
                    break
            if len(times) >= turns:
                break
        out[store] = percentiles(times)
    import psycopg
    with psycopg.connect(dsn) as conn:
        trace = conn.execute("SELECT avg(length(sealed)) FROM traces").fetchone()[0]
        conversation = conn.execute("SELECT avg(length(sealed)) FROM conversations").fetchone()[0]
    out["sealed_bytes"] = {"trace": round(float(trace)), "conversation": round(float(conversation)),
                           "products": len(shop.index.products)}
    return out


def over_http(turns: int, clients: int, servers: list) -> dict:
    times: list[float] = []
    lock, counter = threading.Lock(), [0]

    def client() -> None:
        while True:
            conversation_id = None
            for message in CONVERSATION:
                with lock:
                    if counter[0] >= turns:
                        return
                    server = servers[counter[0] % len(servers)]
                    counter[0] += 1
                started = time.perf_counter()
                answer = server.request("POST", "/api/recommend", {"message": message, "reasons": False,
                                                                   "conversation_id": conversation_id})
                elapsed = time.perf_counter() - started
                assert answer.status == 200, answer.body[:300]
                conversation_id = answer.json()["conversation_id"]
                with lock:
                    times.append(elapsed)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {**percentiles(times), "turns_per_s": round(len(times) / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=90)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    from postgres_server import start_postgres
    from server_process import server_env, start_server

    postgres = start_postgres()
    results: dict = {"turns": args.turns, "clients": args.clients}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            results["in_process"] = in_process(args.turns, postgres.fresh_dsn(), folder)
            print(json.dumps(results["in_process"]), flush=True)
            for label, store, count in (("1 replica, sqlite", "sqlite", 1), ("1 replica, postgresql", "postgresql", 1),
                                        ("2 replicas, postgresql", "postgresql", 2)):
                dsn = postgres.fresh_dsn() if store == "postgresql" else ""
                servers = []
                try:
                    for n in range(count):
                        home = folder / f"{store}-{count}-{n}"
                        servers.append(start_server(home, env=server_env(
                            home, index_dir=str(folder / "index"), shopper_store=store, postgres_dsn=dsn,
                            data_key=DATA_KEY)))
                    over_http(6, 1, servers)  # warm
                    results[label] = over_http(args.turns, args.clients, servers)
                    print(label, json.dumps(results[label]), flush=True)
                finally:
                    for server in servers:
                        server.stop()
    finally:
        postgres.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
