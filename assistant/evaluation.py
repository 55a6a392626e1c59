"""Offline evaluation: ranking metrics and the temporal leave-last-out protocol for CF models."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .collaborative import Interactions, build_interactions, make_cf_model
from .customers import InteractionLog


def recall_at_k(rank: int, k: int) -> float:
    """1 when the single relevant item is within the top k (rank is 1-based)."""
    return 1.0 if rank <= k else 0.0


def ndcg_at_k(rank: int, k: int) -> float:
    """NDCG@k of one relevant item at `rank` (1-based): 1 / log2(rank + 1) inside the top k."""
    return 1.0 / math.log2(rank + 1) if rank <= k else 0.0


def reciprocal_rank(rank: int) -> float:
    return 1.0 / rank


@dataclass
class Split:
    """A temporal leave-last-out split: training events and one held-out product per evaluated shopper."""

    train: InteractionLog
    targets: dict[str, str]  # customer -> held-out product


def leave_last_out(log: InteractionLog, min_items: int = 2) -> Split:
    """For every shopper with at least `min_items` distinct products, hold out the product they came to
    last (by first contact) and every event on it; everything else is training data."""
    order = np.lexsort((log.timestamps, log.customers))
    held = np.zeros(len(log), dtype=bool)
    targets: dict[str, str] = {}
    start = 0
    customers = log.customers[order]
    while start < len(order):
        stop = start
        while stop < len(order) and customers[stop] == customers[start]:
            stop += 1
        rows = order[start:stop]
        first_seen: dict[str, int] = {}
        for row in rows:
            first_seen.setdefault(str(log.products[row]), int(row))
        if len(first_seen) >= min_items:
            target = max(first_seen, key=lambda p: (log.timestamps[first_seen[p]], first_seen[p]))
            targets[str(customers[start])] = target
            held[rows[log.products[rows] == target]] = True
        start = stop
    return Split(log.subset(~held), targets)


@dataclass
class ModelResult:
    """One model's figures on one split."""

    model: str
    recall: float
    ndcg: float
    mrr: float
    coverage: float
    fit_seconds: float
    users: int
    per_segment: dict[str, float] = field(default_factory=dict)  # segment -> NDCG@k

    def to_dict(self) -> dict:
        return {"model": self.model, "recall": round(self.recall, 4), "ndcg": round(self.ndcg, 4),
                "mrr": round(self.mrr, 4), "coverage": round(self.coverage, 4),
                "fit_seconds": round(self.fit_seconds, 2), "users": self.users,
                "per_segment_ndcg": {k: round(v, 4) for k, v in self.per_segment.items()}}


def evaluate_model(name: str, data: Interactions, targets: Mapping[str, str], k: int = 10,
                   params: Mapping | None = None) -> ModelResult:
    """Fit `name` on the training interactions and rank each shopper's held-out product."""
    model = make_cf_model(name, **(params or {}))
    started = time.perf_counter()
    model.fit(data)
    fit_seconds = time.perf_counter() - started
    users = [u for u in targets if u in data.user_index and targets[u] in data.item_index]
    rows_index = np.array([data.user_index[u] for u in users], dtype=np.int64)
    ranks, segments, shown = [], [], set()
    for start in range(0, len(users), 512):
        batch = rows_index[start:start + 512]
        scores = model.score_rows(data.profile[batch], batch)
        scores[data.matrix[batch].nonzero()] = -np.inf  # never recommend what the shopper already has
        for r, user_row in enumerate(batch):
            user = users[start + r]
            target = data.item_index[targets[user]]
            ranks.append(int(np.sum(scores[r] > scores[r, target])) + 1)
            segments.append(data.segments[user_row])
            shown.update(np.argpartition(-scores[r], k)[:k].tolist())
    ranks_arr = np.array(ranks)
    ndcgs = np.array([ndcg_at_k(r, k) for r in ranks])
    per_segment = {s: float(ndcgs[np.array(segments) == s].mean()) for s in sorted(set(segments)) if s}
    return ModelResult(name, float(np.mean(ranks_arr <= k)) if ranks else 0.0,
                       float(ndcgs.mean()) if ranks else 0.0,
                       float(np.mean(1.0 / ranks_arr)) if ranks else 0.0,
                       len(shown) / max(len(data.items), 1), fit_seconds, len(users), per_segment)


def evaluate_cf(log: InteractionLog, segments: Mapping[str, str] | None = None,
                models: Sequence[str] = ("popularity", "user_user", "item_item", "als", "bpr", "ease", "blend"),
                k: int = 10) -> list[ModelResult]:
    """Every model side by side on one temporal leave-last-out split of `log`."""
    split = leave_last_out(log)
    data = build_interactions(split.train, segments)
    return [evaluate_model(name, data, split.targets, k) for name in models]


def format_table(results: Sequence[ModelResult], k: int) -> str:
    """A plain-text table of results, one model per line, with per-segment NDCG columns."""
    segments = sorted({s for r in results for s in r.per_segment})
    head = f"{'model':<12}{'Recall@' + str(k):>10}{'NDCG@' + str(k):>9}{'MRR':>8}{'coverage':>10}{'fit s':>8}"
    head += "".join(f"{s[:18]:>20}" for s in segments)
    lines = [head, "-" * len(head)]
    for r in results:
        line = f"{r.model:<12}{r.recall:>10.4f}{r.ndcg:>9.4f}{r.mrr:>8.4f}{r.coverage:>10.3f}{r.fit_seconds:>8.2f}"
        line += "".join(f"{r.per_segment.get(s, float('nan')):>20.4f}" for s in segments)
        lines.append(line)
    users = results[0].users if results else 0
    lines.append(f"({users} shoppers evaluated; per-segment columns are NDCG@{k})")
    return "\n".join(lines)
