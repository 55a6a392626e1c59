"""Fairness of what Aisle shows (docs/fairness.md): quality per customer segment, exposure of products by
brand, price tier and popularity decile, popularity bias (Gini, head share), and what capping the most
popular products (`FusionSettings.max_popular_share`) costs in NDCG.

Definitions used throughout:

- popularity of a product: shoppers with a positive-weight interaction with it in the event log
  (`Interactions.item_popularity`); deciles over every catalog product, zeros included, decile 10 the
  most popular (`hybrid.popularity_deciles`); the head is decile 10.
- exposure of a product: Σ 1 / log2(rank + 1) over every shown list it appears in (rank 1-based). The
  shown lists are the hybrid's answer (top `request_k`) to each labelled request, and the CF model's top
  k for each held-out shopper; every list counts once.
- price tier: cheap / mid / premium by the mid-rank price percentile within the product's category
  (below 1/3, 1/3..2/3, above 2/3).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from assistant.behaviour import CFModel, Interactions, build_interactions, make_cf_model
from assistant.ingest.customers import InteractionLog
from assistant.evaluation.exposure import TIERS, exposure, exposure_weight, gini, lorenz, price_tiers, shares
from assistant.evaluation.fairness_report import (PLOTS, SOURCES, CatalogGroups, FairnessReport, FairnessRun,
                                                  SegmentQuality)
from assistant.evaluation.metrics import RequestCase, Split, evaluate_requests, heldout_scores, leave_last_out, ndcg_at_k
from assistant.understand import Request
from assistant.core.progress import progress_bar
from assistant.rank.hybrid import cap_popular, popular_head
from assistant.rank.segments import GENERAL

if TYPE_CHECKING:
    from assistant.service.assistant import Assistant
    from assistant.core.config import FusionSettings

__all__ = ["PLOTS", "SOURCES", "TIERS", "CatalogGroups", "FairnessReport", "FairnessRun", "SegmentQuality",
           "evaluate_fairness", "exposure", "exposure_weight", "gini", "heldout_cf", "heldout_hybrid",
           "labelled_requests", "lorenz", "price_tiers", "shares"]


def _quality(name: str, k: int, ndcgs: Sequence[float], segments: Sequence[str]) -> SegmentQuality:
    values, labels = np.asarray(ndcgs, dtype=np.float64), np.asarray(segments)
    per_segment = {s: float(values[labels == s].mean()) for s in sorted(set(segments)) if s}
    return SegmentQuality(name, k, len(values), float(values.mean()) if len(values) else 0.0, per_segment)


def _check_caps(caps: Sequence[float]) -> list[float | None]:
    for cap in caps:
        if not 0.0 <= cap <= 1.0:
            raise ValueError(f"cap must be between 0 and 1, got {cap!r}")
    return [None, *dict.fromkeys(caps)]


def heldout_cf(log: InteractionLog, segments: Mapping[str, str], ids: Sequence[str], k: int = 10,
               caps: Sequence[float] = (), model_name: str = "blend") -> tuple[
        dict[float | None, SegmentQuality], dict[float | None, list[list[str]]], Split, Interactions, CFModel]:
    """Fit `model_name` on a leave-last-out split and rank every held-out shopper's products, without a cap
    and with each cap (the head taken from the training data's popularity over `ids`).

    Returns ({cap: SegmentQuality}, {cap: top-k lists}, split, training data, model). Without a cap the
    NDCG is exactly `aisle eval cf`'s."""
    settings = _check_caps(caps)
    split = leave_last_out(log)
    data = build_interactions(split.train, segments)
    model = make_cf_model(model_name).fit(data)
    head_ids = popular_head(ids, data.item_popularity())
    head = {data.item_index[p] for p in head_ids if p in data.item_index}
    reach = k + len(head)  # enough of each ranking to fill k after skipping every head product
    ndcgs: dict[float | None, list[float]] = {cap: [] for cap in settings}
    lists: dict[float | None, list[list[str]]] = {cap: [] for cap in settings}
    labels: list[str] = []
    for users, rows, scores in heldout_scores(model, data, split.targets):
        top = np.argsort(-scores, axis=1, kind="stable")[:, :reach]
        for r, user in enumerate(users):
            target = data.item_index[split.targets[user]]
            order = [int(i) for i in top[r] if np.isfinite(scores[r, i])]
            labels.append(data.segments[rows[r]])
            for cap in settings:
                shown = order[:k] if cap is None else cap_popular(order, head, k, cap)
                if cap is None:  # the rank among all products, as evaluate_model counts it
                    ndcgs[cap].append(ndcg_at_k(int(np.sum(scores[r] > scores[r, target])) + 1, k))
                else:
                    ndcgs[cap].append(ndcg_at_k(shown.index(target) + 1, k) if target in shown else 0.0)
                lists[cap].append([data.items[i] for i in shown])
    quality = {cap: _quality(f"CF {model_name}", k, ndcgs[cap], labels) for cap in settings}
    return quality, lists, split, data, model


def heldout_hybrid(assistant: "Assistant", model: CFModel, data: Interactions, targets: Mapping[str, str],
                   fusion: "FusionSettings", k: int = 10, caps: Sequence[float] = (), shoppers: int | None = 500,
                   progress: bool = False) -> dict[float | None, SegmentQuality]:
    """The full hybrid for held-out shoppers who type nothing specific: content from their segment's
    description, CF from their training profile (`model`, fitted on the split), products they already have
    excluded. `shoppers` evenly spaced shoppers are ranked (None = all); each cap re-ranks the same pool
    exactly as `hybrid.rank` does."""
    settings = _check_caps(caps)
    pipeline = assistant.turn_pipeline(cf=model)
    index = pipeline.index
    users = [u for u in targets if u in data.user_index and targets[u] in data.item_index]
    if shoppers is not None and len(users) > shoppers:
        users = [users[int(i)] for i in np.linspace(0, len(users) - 1, shoppers)]
    popularity = data.item_popularity()
    head = popular_head([p.id for p in index.products], popularity)
    request = Request()
    content: dict[str, np.ndarray] = {}
    ndcgs: dict[float | None, list[float]] = {cap: [] for cap in settings}
    labels: list[str] = []
    for user in progress_bar(users, progress, "hybrid, held-out shoppers", "shopper"):
        row = data.user_index[user]
        segment = assistant.segments.get(data.segments[row], GENERAL)
        seen = {data.items[i] for i in data.matrix[row].indices}
        if segment.key not in content:  # the same request for every shopper: its content once per segment
            content[segment.key] = pipeline.content_scores(request, segment.description, None)
        result = pipeline.rank_request(request, segment, pseudonym=user, k=k,
                                       fusion=replace(fusion, max_popular_share=None), exclude=seen,
                                       content=content[segment.key])
        chosen = [c.product.id for c in result.candidates]
        picked = set(chosen)
        order = [*chosen, *(pid for pid, _ in result.pool if pid not in picked)]
        labels.append(data.segments[row])
        for cap in settings:
            shown = chosen if cap is None else cap_popular(order, head, k, cap)
            target = targets[user]
            ndcgs[cap].append(ndcg_at_k(shown.index(target) + 1, k) if target in shown else 0.0)
    return {cap: _quality("hybrid, no message", k, ndcgs[cap], labels) for cap in settings}


def labelled_requests(assistant: "Assistant", cases: Sequence[RequestCase], fusion: "FusionSettings", k: int = 5,
                      caps: Sequence[float] = (), progress: bool = False
                      ) -> tuple[dict[float | None, SegmentQuality], dict[float | None, list[list[str]]]]:
    """The hybrid (no LLM) on the labelled requests without a cap and with each; returns
    ({cap: SegmentQuality}, {cap: shown lists})."""
    quality, lists = {}, {}
    settings = _check_caps(caps)
    for cap in progress_bar(settings, progress, "labelled requests", "setting"):
        result = evaluate_requests(assistant, cases, replace(fusion, max_popular_share=cap), "hybrid", k)
        quality[cap] = SegmentQuality("hybrid", k, result.requests, result.ndcg, result.per_segment)
        lists[cap] = list(result.shown.values())
    return quality, lists


def evaluate_fairness(assistant: "Assistant", log: InteractionLog, segments: Mapping[str, str],
                      cases: Sequence[RequestCase] = (), k: int = 10, request_k: int = 5,
                      caps: Sequence[float] = (), hybrid_shoppers: int | None = 0,
                      progress: bool = False) -> FairnessReport:
    """Everything in docs/fairness.md for one store: the served index's catalog, the event log with its
    customer segments, and the labelled requests (none: the labelled part is left out). `hybrid_shoppers`
    held-out shoppers are also ranked by the full hybrid (0 = skip, None = all)."""
    settings = _check_caps(caps)
    products = assistant.index.products
    groups = CatalogGroups.build(products, build_interactions(log, segments).item_popularity())
    fusion = assistant.settings.fusion
    cf_quality, cf_lists, split, data, model = heldout_cf(log, segments, groups.ids, k, caps)
    hybrid = (heldout_hybrid(assistant, model, data, split.targets, fusion, k, caps, hybrid_shoppers, progress)
              if hybrid_shoppers != 0 else {})
    requests, request_lists = ({}, {}) if not cases else labelled_requests(assistant, cases, fusion, request_k, caps,
                                                                            progress)
    runs = []
    for cap in settings:
        sources = {"heldout_cf": cf_lists[cap]}
        if cases:
            sources = {"requests": request_lists[cap], **sources}
        runs.append(FairnessRun(cap, cf_quality[cap], hybrid.get(cap), requests.get(cap),
                                {s: exposure(lists, groups.ids) for s, lists in sources.items()},
                                {s: len(lists) for s, lists in sources.items()}))
    return FairnessReport(groups, runs, k, request_k, len(log))
