"""Benchmark: the LLM stage on 2 cores — model load, rerank, reasons, a full chat turn split by stage,
peak memory, and NDCG@5 with and without the LLM rerank on the labelled request set.

Usage: python benchmarks/llm.py [--model qwen] [--turns 20] [--skip-quality] [--drafts 0,5] [--json]

A chat turn here is: parse + hybrid ranking (the first ranked list) + LLM rerank of the top N (when its
weight is above 0; measured separately below either way) + one batched decode of the shown items' reasons.

Streaming, as the shop shows reasons: the same request is asked again as a new turn and its reasons are
written with `on_reason` (the first product's alone, then the rest in one batch, each handed over as it
ends); `first_reason_after_cards` is the time from the cards being ready to the first reason handed over,
`all_reasons_streamed` to the last. `reasons` (all in one batch, no streaming) is the path without it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.service.assistant import Assistant, ensure_demo_index  # noqa: E402
from assistant.core.config import Settings  # noqa: E402
from assistant.evaluation.metrics import default_requests_path, evaluate_requests, gain, graded_ndcg, load_request_cases, matches_hard  # noqa
from assistant.llm.model import make_language_model  # noqa: E402
from assistant.llm.rerank import rerank  # noqa: E402


def p50_p95(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen")
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--skip-quality", action="store_true", help="skip the NDCG comparison (slow)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--drafts", default="", metavar="N,M",
                        help="draft tokens per decoding step to compare, interleaved in the same run (e.g. 0,5; "
                             "0 is decoding without drafts); default: the model's setting only")
    args = parser.parse_args()
    cases = load_request_cases(default_requests_path())
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", state_dir=Path(tmp) / "state", llm_model=args.model)
        # Built in a child process, so the peak RSS below is the serving process's alone (building the
        # index with MiniLM is an operator's job, done before serving).
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pool.apply(ensure_demo_index, (settings,))
        # A server has imported torch, transformers and sentence-transformers for its embedder before the LLM
        # loads: timed apart.
        started = time.perf_counter()
        import sentence_transformers, torch, transformers  # noqa: E401, F401
        figures["imports_before_the_llm_seconds"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        lm = make_language_model(args.model, threads=settings.threads, quantize=settings.llm_int8)
        figures["model_load_seconds_cached"] = round(time.perf_counter() - started, 2)
        assistant = Assistant(settings)
        assistant.recommend("warm up", reasons=True)
        first_list, rerank_s, reasons_s, turn_s, llm_written, shown = [], [], [], [], 0, 0
        default_drafts = lm.draft_tokens
        draft_settings = [int(d) for d in args.drafts.split(",")] if args.drafts else [default_drafts]
        first_reason: dict[int, list[float]] = {}
        all_streamed: dict[int, list[float]] = {}
        written: dict[int, list[bool]] = {}
        for case in cases[: args.turns]:
            message = case.turns[0]
            t0 = time.perf_counter()
            rec = assistant.recommend(message, segment=case.segment, k=5)
            t1 = time.perf_counter()
            record = assistant.turn(rec.turn_id)
            pool = assistant.recommend(message, segment=case.segment, k=settings.rerank_top_n, use_llm=False)
            t2 = time.perf_counter()
            rerank(lm, record.request, case.segment, pool.items, settings.rerank_top_n, 0.5)
            t3 = time.perf_counter()
            assistant.explain(rec.turn_id)
            t4 = time.perf_counter()
            for drafts in draft_settings:  # interleaved, so each setting sees the same machine state
                lm.draft_tokens = drafts
                again = assistant.recommend(message, segment=case.segment, k=5)
                handed: list[float] = []
                sources: list[str] = []

                def take(reason) -> None:
                    handed.append(time.perf_counter() - t5)
                    sources.append(reason.source)
                t5 = time.perf_counter()
                assistant.explain(again.turn_id, on_reason=take)
                first_reason.setdefault(drafts, []).append(handed[0] if handed else time.perf_counter() - t5)
                all_streamed.setdefault(drafts, []).append(time.perf_counter() - t5)
                written.setdefault(drafts, []).extend(source == "llm" for source in sources)
            lm.draft_tokens = default_drafts
            first_list.append(t1 - t0)
            rerank_s.append(t3 - t2)
            reasons_s.append(t4 - t3)
            turn_s.append((t1 - t0) + (t4 - t3) + ((t3 - t2) if settings.llm_weight > 0 else 0.0))
            llm_written += sum(c.breakdown.reason is not None and c.breakdown.reason.source == "llm" for c in rec.items)
            shown += len(rec.items)
        streaming = {}
        for drafts in draft_settings:
            label = "" if len(draft_settings) == 1 else f"_drafts{drafts}"
            streaming[f"first_reason_after_cards{label}"] = first_reason[drafts]
            streaming[f"all_reasons_streamed{label}"] = all_streamed[drafts]
            figures[f"llm_written_share_streamed{label}"] = round(sum(written[drafts]) / max(len(written[drafts]), 1), 3)
        for name, values in (("first_list", first_list), ("rerank_top_n", rerank_s), ("reasons", reasons_s),
                             *streaming.items(), ("full_turn", turn_s)):
            p50, p95 = p50_p95(values)
            figures[f"{name}_p50_s"], figures[f"{name}_p95_s"] = round(p50, 3), round(p95, 3)
        figures["rerank_top_n"] = settings.rerank_top_n
        figures["llm_weight"] = settings.llm_weight
        figures["llm_written_share"] = round(llm_written / max(shown, 1), 3)
        figures["peak_rss_gb_serving"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2)
        if not args.skip_quality:
            base = evaluate_requests(assistant, cases, settings.fusion, "hybrid")
            assistant.settings = replace(settings, llm_weight=0.2)
            with_llm = evaluate_requests(assistant, cases, settings.fusion, "hybrid + LLM 0.2", use_llm=True)
            figures["ndcg5_hybrid"], figures["ndcg5_hybrid_llm_0.2"] = round(base.ndcg, 4), round(with_llm.ndcg, 4)
            figures["p5_hybrid"], figures["p5_hybrid_llm_0.2"] = round(base.precision, 3), round(with_llm.precision, 3)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"model {args.model}; {args.turns} single-turn requests; 2 cores")
    for key, value in figures.items():
        print(f"{key:<28}{value}")


if __name__ == "__main__":
    main()
