"""Benchmark: content retrieval by BM25 alone, dense (MiniLM) alone and their fusion, side by side.

Usage: python benchmarks/retrieval.py [--index-dir DIR] [--weights 0.1,0.2,0.3,0.5] [--cj-products 3000]
                                      [--cj-queries 60] [--skip-cj] [--skip-cj-store] [--cj-source DIR]
                                      [--skip-pipeline] [--json]

(a) The demo store's labelled requests (assistant/evaluation/data/requests.jsonl). Two query forms:
    "need"  — the parsed need of the whole conversation, scored as `TurnPipeline.content_scores` does (segment
              context included; the lexical side gets the need's words);
    "text"  — every turn's text joined, as a plain `Assistant.search` query (no segment context).
    Products meeting the request's hard constraints are ranked by content score alone and graded with the
    labelled `relevant` / `bonus` rules (gains 0/1/2): NDCG@10 and recall@50 (relevant found in the top 50
    over min(relevant, 50)), mean ± standard error over requests. With --skip-pipeline off, the full hybrid
    ranker (filters, attributes, CF, diversity; `aisle eval requests`) is also run at each lexical weight:
    NDCG@5 as in docs/ranking.md.
(b) The Complete Journey grocery catalog (../shared/data/completejourney/products.csv): a seeded sample of
    products, text = product type + category + department + brand; each query is one sampled
    product_category, lower-cased ("frozen pizza"); relevant = the sampled products of that category.
(c) The Complete Journey store as `aisle eval requests --store completejourney` serves it (its whole derived
    catalog, prepared into --index-dir on first use) and its labelled dialogues
    (evaluation/data/completejourney_requests.jsonl), graded as (a) "need"; infeasible dialogues (nothing
    relevant exists) are left out, as in every figure but `honest`.
Timing: ms per query for BM25 scoring (also on 12,000 Complete Journey products), dense scoring (query
embedding not included) and the fusion step. The demo index is built with MiniLM into --index-dir (a
temporary folder by default; give a folder to reuse the build on the next run).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.core.config import FusionSettings, Settings  # noqa: E402
from assistant.evaluation.metrics import (RequestCase, default_requests_path, evaluate_requests,  # noqa: E402
                                          gain, graded_ndcg, load_request_cases, matches_hard)
from assistant.evaluation.stores import completejourney_requests_path, prepare_completejourney  # noqa: E402
from assistant.index.lexical import LexicalIndex  # noqa: E402
from assistant.rank.content import fuse_content  # noqa: E402
from assistant.service.assistant import Assistant, ensure_demo_index  # noqa: E402
from assistant.understand import Conversation  # noqa: E402

CJ_PRODUCTS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "completejourney" / "products.csv"
Scorer = Callable[[np.ndarray, np.ndarray | None], np.ndarray]  # (dense, bm25) -> content scores


def methods(weights: Sequence[float]) -> dict[str, tuple[str, float]]:
    """name -> (fusion, lexical weight): BM25 alone, dense alone, min-max and RRF fusions."""
    table = {"bm25 only": ("minmax", 1.0), "dense only": ("minmax", 0.0)}
    table.update({f"minmax w={w:g}": ("minmax", w) for w in weights})
    table.update({f"rrf w={w:g}": ("rrf", w) for w in (0.3, 0.5)})
    return table


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    se = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0
    return float(values.mean()), se


def rank_metrics(scores: np.ndarray, gains: np.ndarray, k_ndcg: int = 10, k_recall: int = 50) -> tuple[float, float]:
    """NDCG@k (graded) and recall@k of one query over the candidates with `gains`."""
    order = np.argsort(-scores, kind="stable")
    ranked = gains[order]
    relevant = int(np.sum(gains > 0))
    recall = float(np.sum(ranked[:k_recall] > 0)) / min(relevant, k_recall) if relevant else 0.0
    return graded_ndcg(list(ranked[:k_ndcg]), list(gains), k_ndcg), recall


def evaluate(queries: list[tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]],
             table: dict[str, tuple[str, float]]) -> dict[str, dict]:
    """queries: (dense, bm25, candidate mask, gains over candidates) -> per method NDCG@10 / R@50 ± SE."""
    figures = {}
    for name, (how, weight) in table.items():
        ndcgs, recalls = [], []
        for dense, bm25, mask, gains in queries:
            fused = fuse_content(dense, bm25 if bm25 is not None else np.zeros_like(dense), weight, how)
            if weight >= 1.0 and bm25 is None:
                fused = np.zeros_like(dense)
            ndcg, recall = rank_metrics(fused[mask], gains)
            ndcgs.append(ndcg)
            recalls.append(recall)
        figures[name] = {"ndcg10": mean_se(ndcgs), "recall50": mean_se(recalls), "queries": len(ndcgs),
                         "per_query": np.array(ndcgs)}
    base = figures["dense only"]["per_query"]
    for f in figures.values():  # paired difference with dense alone, ± its standard error
        f["vs_dense"] = mean_se(f["per_query"] - base)
    return figures


def labelled_queries(shop: Assistant, cases: Sequence[RequestCase], mode: str) -> list:
    """(dense, bm25, mask, gains) per feasible labelled request; see the module docstring for the two modes."""
    pipeline, index, embedder = shop.turn_pipeline(), shop.index, shop.query_embedder()
    dense_only = replace(shop.settings.fusion, lexical=0.0)
    rows = []
    for case in cases:
        if case.infeasible:  # nothing relevant exists: graded by `honest` in `aisle eval requests`, not here
            continue
        conversation = Conversation()
        for message in case.turns:
            conversation.add(message)
        request = conversation.state
        if mode == "need":
            segment = shop.segments.get(case.segment) or next(iter(shop.segments.values()))
            dense = pipeline.content_scores(request, segment.description, None, dense_only)
            words = request.need or " ".join(request.categories)
        else:
            words = " ".join(case.turns)
            dense = index.vectors @ embedder.embed_query(words)
        bm25 = index.lexical.scores(words) if words.strip() else None
        mask = np.array([matches_hard(p, case.hard) for p in index.products])
        gains = np.array([gain(p, case) for p, ok in zip(index.products, mask) if ok])
        rows.append((dense, bm25, mask, gains))
    return rows


def pipeline_ndcg(shop: Assistant, cases: Sequence[RequestCase],
                  table: dict[str, tuple[str, float]]) -> dict[str, float]:
    """The full hybrid ranker's NDCG@5 on a labelled set at each content fusion."""
    out = {}
    for name, (how, weight) in table.items():
        if name == "bm25 only":
            continue
        fusion = replace(shop.settings.fusion, lexical=weight, lexical_fusion=how)
        result = evaluate_requests(shop, cases, fusion, k=5)
        out[name] = {"ndcg5": result.ndcg, "en": result.per_language.get("en", 0.0),
                     "zh": result.per_language.get("zh", 0.0)}
    return out


def cj_rows(limit: int | None = None, seed: int = 13) -> list[dict]:
    with open(CJ_PRODUCTS, newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["product_category"].strip()]
    rng = np.random.default_rng(seed)
    if limit is not None and limit < len(rows):
        rows = [rows[i] for i in sorted(rng.choice(len(rows), limit, replace=False))]
    return rows


def cj_text(row: dict) -> str:
    return " ".join(row[c] for c in ("product_type", "product_category", "department", "brand")).lower()


def complete_journey(embedder, products: int, queries: int, seed: int = 13) -> tuple[list, dict]:
    """(queries as in `evaluate`, timings) on a sample of the Complete Journey catalog."""
    rows = cj_rows(products, seed)
    texts = [cj_text(r) for r in rows]
    started = time.perf_counter()
    vectors = embedder.embed(texts, 64)
    embed_s = time.perf_counter() - started
    lexical = LexicalIndex.build(texts)
    categories = np.array([r["product_category"] for r in rows])
    names, counts = np.unique(categories, return_counts=True)
    eligible = names[counts >= 2]
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(eligible, min(queries, len(eligible)), replace=False))
    out, dense_ms, bm25_ms = [], [], []
    mask = np.ones(len(rows), dtype=bool)
    for category in chosen:
        query = category.lower()
        vector = embedder.embed_query(query)
        started = time.perf_counter()
        dense = vectors @ vector
        dense_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        bm25 = lexical.scores(query)
        bm25_ms.append((time.perf_counter() - started) * 1000)
        out.append((dense, bm25, mask, (categories == category).astype(int)))
    return out, {"cj_embed_catalog_s": embed_s, "cj_dense_ms_p50": float(np.median(dense_ms)),
                 "cj_bm25_ms_p50": float(np.median(bm25_ms)), "cj_terms": len(lexical.terms)}


def bm25_timing(count: int = 12_000) -> dict:
    """BM25 build time and per-query scoring time on `count` Complete Journey products."""
    rows = cj_rows(count)
    started = time.perf_counter()
    lexical = LexicalIndex.build([cj_text(r) for r in rows])
    build_s = time.perf_counter() - started
    queries = sorted({r["product_category"].lower() for r in rows})[:200]
    times, fuse = [], []
    dense = np.random.default_rng(0).random(len(rows)).astype(np.float32)
    for query in queries:
        started = time.perf_counter()
        bm25 = lexical.scores(query)
        times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        fuse_content(dense, bm25, 0.3)
        fuse.append((time.perf_counter() - started) * 1000)
    return {"products": len(rows), "build_s": build_s, "bm25_ms_p50": float(np.median(times)),
            "bm25_ms_p95": float(np.percentile(times, 95)), "fuse_ms_p50": float(np.median(fuse))}


def format_table(title: str, figures: dict[str, dict], pipeline: dict[str, dict] | None = None) -> str:
    head = f"{'method':<16}{'NDCG@10':>16}{'Δ vs dense':>17}{'R@50':>16}" + (f"{'hybrid NDCG@5':>15}{'en':>8}{'zh':>8}" if pipeline else "")
    lines = [title, head, "-" * len(head)]
    for name, f in figures.items():
        (n, n_se), (r, r_se), (d, d_se) = f["ndcg10"], f["recall50"], f["vs_dense"]
        line = f"{name:<16}{n:>9.4f} ±{n_se:.3f}{d:>+10.4f} ±{d_se:.3f}{r:>9.4f} ±{r_se:.3f}"
        if pipeline:
            p = pipeline.get(name)
            line += f"{p['ndcg5']:>15.4f}{p['en']:>8.4f}{p['zh']:>8.4f}" if p else f"{'—':>15}"
        lines.append(line)
    lines.append(f"({next(iter(figures.values()))['queries']} queries; mean ± standard error over queries; "
                 "Δ: paired difference with dense only)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=None, help="where the MiniLM demo index is built/reused")
    parser.add_argument("--weights", default="0.1,0.2,0.3,0.4,0.5,0.7", help="lexical weights of the min-max fusion")
    parser.add_argument("--cj-products", type=int, default=3000)
    parser.add_argument("--cj-queries", type=int, default=60)
    parser.add_argument("--skip-cj", action="store_true", help="skip (b), the category-name queries")
    parser.add_argument("--skip-cj-store", action="store_true",
                        help="skip (c), the Complete Journey store's labelled dialogues (its first build takes minutes)")
    parser.add_argument("--cj-source", type=Path, default=CJ_PRODUCTS.parent,
                        help="the Complete Journey folder (products.csv, events.csv, customers.csv)")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    table = methods([float(w) for w in args.weights.split(",") if w])
    with tempfile.TemporaryDirectory() as tmp:
        root = args.index_dir or Path(tmp)
        settings = Settings(index_dir=root / "index", state_dir=root / "state", llm_model="none")
        ensure_demo_index(settings)
        shop = Assistant(settings)
        if shop.index.lexical is None:  # a demo index built before lexical indexes
            shop.index.lexical = LexicalIndex.of_products(shop.index.products)
        report: dict = {}
        demo_cases = load_request_cases(default_requests_path())
        for mode in ("need", "text"):
            started = time.perf_counter()
            queries = labelled_queries(shop, demo_cases, mode)
            report[f"demo_{mode}_s"] = time.perf_counter() - started
            report[f"demo_{mode}"] = evaluate(queries, table)
        if not args.skip_pipeline:
            report["demo_pipeline"] = pipeline_ndcg(shop, demo_cases, table)
        if not args.skip_cj_store:
            cj_cases = load_request_cases(completejourney_requests_path())
            prepared = prepare_completejourney(settings, args.cj_source, cases=cj_cases)
            grocery = Assistant(prepared.settings)
            report["cj_store_need"] = evaluate(labelled_queries(grocery, cj_cases, "need"), table)
            if not args.skip_pipeline:
                report["cj_store_pipeline"] = pipeline_ndcg(grocery, cj_cases, table)
        words = [" ".join(c.turns) for c in load_request_cases(default_requests_path())]
        started = time.perf_counter()
        for text in words:
            shop.index.lexical.scores(text)
        report["demo_bm25_ms"] = (time.perf_counter() - started) * 1000 / len(words)
        if not args.skip_cj:
            cj, timings = complete_journey(shop.query_embedder(), args.cj_products, args.cj_queries)
            report["complete_journey"] = evaluate(cj, table)
            report.update(timings)
            report["bm25_12k"] = bm25_timing()
    if args.json:
        print(json.dumps(report, indent=1, default=lambda v: v.tolist() if hasattr(v, "tolist") else float(v)))
        return
    print(format_table("(a) demo store, parsed need (as TurnPipeline.content_scores)", report["demo_need"],
                       report.get("demo_pipeline")))
    print()
    print(format_table("(a) demo store, message text (as Assistant.search)", report["demo_text"]))
    if "cj_store_need" in report:
        print()
        print(format_table("(c) Complete Journey store, labelled dialogues, parsed need", report["cj_store_need"],
                           report.get("cj_store_pipeline")))
    if "complete_journey" in report:
        print()
        print(format_table(f"(b) Complete Journey, {args.cj_products} products, category queries",
                           report["complete_journey"]))
    print()
    print(f"timing: demo BM25 {report['demo_bm25_ms']:.3f} ms/query ({len(shop.index.products)} products)", end="")
    if "bm25_12k" in report:
        t = report["bm25_12k"]
        print(f"; Complete Journey {t['products']} products: BM25 build {t['build_s']:.2f} s, scoring p50 "
              f"{t['bm25_ms_p50']:.3f} ms, p95 {t['bm25_ms_p95']:.3f} ms, fusion {t['fuse_ms_p50']:.3f} ms; "
              f"dense scoring (dot product, {args.cj_products} products; query embedding not included) p50 "
              f"{report['cj_dense_ms_p50']:.3f} ms")
    else:
        print()


if __name__ == "__main__":
    main()
