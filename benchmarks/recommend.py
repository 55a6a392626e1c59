"""Benchmark: `Assistant.recommend()` latency without the LLM on the demo store, beside its parts.

Usage: python benchmarks/recommend.py [--repeat 3] [--json] [--store demo|completejourney] [--state DIR]
                                      [--sample N]

`--store completejourney` measures the real Complete Journey grocery (20,790 products, its own labelled
dialogues; prepared under `--state` on first use, about 5 minutes) — the catalog-size check of issue #13
(p95 <= 50 ms on a 12,000-product catalog: `--sample 12000` indexes that many of its products).

Every message of the labelled request set (assistant/evaluation/data/requests.jsonl) is sent as a fresh single-turn
request, `--repeat` times, after one warm-up pass. The peer is plain content search (embed the query and
search the FAISS index), the floor any ranker pays. Query embeddings are cached per text in production
too, so the repeated passes measure the warm path; the first pass is reported separately.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.service.assistant import Assistant, ensure_demo_index  # noqa: E402
from assistant.service.warm_up import warm_up  # noqa: E402
from assistant.core.config import Settings  # noqa: E402
from assistant.evaluation.metrics import default_requests_path, load_request_cases  # noqa: E402


def percentiles(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50) * 1000), float(np.percentile(times, 95) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--store", choices=("demo", "completejourney"), default="demo")
    parser.add_argument("--state", type=Path, default=None, help="Folder for indexes (default: a temporary one).")
    parser.add_argument("--sample", type=int, default=None, metavar="N",
                        help="Complete Journey: index N products (the dialogues' categories first), e.g. 12000")
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" /
                        "completejourney", help="The Complete Journey data folder.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.state or Path(tmp)
        settings = Settings(index_dir=root / "index", state_dir=root / "state", llm_model="none")
        if args.store == "demo":
            messages = [turn for case in load_request_cases(default_requests_path()) for turn in case.turns]
            ensure_demo_index(settings)
        else:
            from assistant.evaluation.stores import completejourney_requests_path, prepare_completejourney
            cases = load_request_cases(completejourney_requests_path())
            messages = [turn for case in cases for turn in case.turns]
            settings = prepare_completejourney(settings, args.source, args.sample, cases).settings
        assistant = Assistant(settings)
        warm_up(assistant)  # as `serve` does before the first shopper: models, dictionary, lazy tables
        cold = []
        for message in messages:
            started = time.perf_counter()
            assistant.recommend(message)
            cold.append(time.perf_counter() - started)
        warm, search = [], []
        for _ in range(args.repeat):
            for message in messages:
                started = time.perf_counter()
                assistant.recommend(message)
                warm.append(time.perf_counter() - started)
                started = time.perf_counter()
                assistant.search(message, 5)
                search.append(time.perf_counter() - started)
    figures = {"store": args.store, "products": len(assistant.index.products), "messages": len(messages),
               "recommend_first_pass_ms": percentiles(cold),
               "recommend_ms": percentiles(warm), "content_search_ms": percentiles(search)}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{args.store}: {figures['products']} products, {len(messages)} messages, {args.repeat} warm passes "
          "(p50 / p95 ms)")
    for name, key in (("recommend, first pass", "recommend_first_pass_ms"), ("recommend, warm", "recommend_ms"),
                      ("peer: content search only", "content_search_ms")):
        p50, p95 = figures[key]
        print(f"{name:<28}{p50:>8.1f}{p95:>8.1f}")
    print("goal: recommend p95 <= 50 ms on a 12,000-product catalog (issue #13)")


if __name__ == "__main__":
    main()
