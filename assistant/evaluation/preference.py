"""Fit the learned preference model on a store's log, and measure both of its targets in one run
(docs/ranking.md, "Learned preference model"):

- known shoppers with a vague message: held-out NDCG@k (the leave-last-out targets, CF fitted on the events
  before them, as `aisle eval fairness --hybrid-shoppers` measures the hybrid) for CF-only, the hand-tuned
  hybrid and the hybrid ranked by the preference model — which was trained one step earlier
  (`preference_training.training_split`), so it never saw these targets;
- the labelled requests: `evaluate_requests` for the hybrid and for hybrid+preference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from assistant.core.progress import progress_bar
from assistant.evaluation.metrics import (RequestCase, RequestSetResult, evaluate_requests, leave_last_out, ndcg_at_k,
                                          ranking_modes)
from assistant.evaluation.preference_training import (TURN_KINDS, build_training_set, parse, prepare_training,
                                                      sampled, store_cf, warm)
from assistant.ingest.customers import InteractionLog
from assistant.rank.lambdarank import ROUNDS, LambdaRankModel, TrainingSet
from assistant.rank.preference import START, LearnedPreference
from assistant.rank.segments import GENERAL
from assistant.understand import Request

if TYPE_CHECKING:
    from assistant.service.assistant import Assistant

MODES = ("CF-only", "hybrid", "hybrid+preference")


def fit_preference(assistant: "Assistant", log: InteractionLog, segments: Mapping[str, str],
                   shoppers: int | None = 600, rounds: int = ROUNDS, cf_model: str | None = None,
                   kinds: Sequence[str] = TURN_KINDS, progress: bool = False) -> tuple[LambdaRankModel, TrainingSet]:
    """Build the training turns from `log` (see `preference_training`) and fit the lambdarank model."""
    started = time.perf_counter()
    prepared = prepare_training(log, segments, cf_model or assistant.settings.cf_model, assistant.cf_model)
    data = build_training_set(assistant, prepared, shoppers, kinds, progress)
    built = time.perf_counter()
    model = LambdaRankModel.fit(data, rounds, start=START)
    model.manifest["training"].update(turns_seconds=round(built - started, 1),
                                      fit_seconds=round(time.perf_counter() - built, 1),
                                      index=assistant.settings.index_name, products=len(assistant.index.products))
    return model, data


@dataclass
class VagueShoppers:
    """Held-out NDCG@k of known shoppers who type nothing specific, mode by mode."""

    k: int
    shoppers: int
    ndcg: dict[str, float]
    per_segment: dict[str, dict[str, float]] = field(default_factory=dict)  # mode -> segment -> NDCG
    message: str = ""  # what the shoppers "typed" ("" = nothing)

    def row(self) -> str:
        """One line: "vague known shoppers: CF-only 0.2170 / hybrid 0.0077 / hybrid+preference ..."."""
        said = f"'{self.message}'" if self.message else "no words"
        return (f"vague known shoppers ({said}, {self.shoppers}, NDCG@{self.k}): "
                + " / ".join(f"{mode} {self.ndcg.get(mode, float('nan')):.4f}" for mode in MODES))

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "shoppers": self.shoppers, "message": self.message,
                "ndcg": {m: round(v, 4) for m, v in self.ndcg.items()},
                "per_segment_ndcg": {m: {s: round(v, 4) for s, v in seg.items()} for m, seg in self.per_segment.items()}}


def evaluate_vague_shoppers(assistant: "Assistant", log: InteractionLog, segments: Mapping[str, str],
                            model: LambdaRankModel | None = None, shoppers: int | None = 500, k: int = 10,
                            message: str = "", cf_model: str | None = None, progress: bool = False) -> VagueShoppers:
    """CF-only, hybrid and hybrid+preference for held-out known shoppers (leave-last-out targets) whose turn
    is `message` ("" = an empty request). Without `model`, one is fitted on the earlier split first."""
    if model is None:
        model, _ = fit_preference(assistant, log, segments, cf_model=cf_model, progress=progress)
    split = leave_last_out(log)
    cf = store_cf(split.train, segments, cf_model or assistant.settings.cf_model, assistant.cf_model)
    data = cf.trained
    pipeline = assistant.turn_pipeline(cf=cf)
    pipeline.preference = LearnedPreference(model)
    base = replace(assistant.settings.fusion, max_popular_share=None)
    fusions = {"CF-only": replace(ranking_modes(base)["cf-only"], preference=False),
               "hybrid": replace(base, preference=False), "hybrid+preference": replace(base, preference=True)}
    known = {p.id for p in pipeline.index.products}
    users = sampled([u for u in split.targets if u in data.user_index and split.targets[u] in known], shoppers)
    request = parse(pipeline, message) if message else Request()
    warm(pipeline, [request], assistant.segments.values())
    ndcgs: dict[str, list[float]] = {mode: [] for mode in MODES}
    labels: list[str] = []
    for user in progress_bar(users, progress, "vague known shoppers", "shopper"):
        row = data.user_index[user]
        segment = assistant.segments.get(data.segments[row], GENERAL)
        seen = {data.items[i] for i in data.seen[row].indices}
        labels.append(data.segments[row])
        for mode, fusion in fusions.items():
            shown = [c.product.id for c in pipeline.rank_request(request, segment, user, k=k, fusion=fusion, exclude=seen).candidates]
            target = split.targets[user]
            ndcgs[mode].append(ndcg_at_k(shown.index(target) + 1, k) if target in shown else 0.0)
    segments_seen = sorted({s for s in labels if s})
    per_segment = {mode: {s: float(np.mean([v for v, lab in zip(values, labels) if lab == s])) for s in segments_seen}
                   for mode, values in ndcgs.items()}
    return VagueShoppers(k, len(users), {m: float(np.mean(v)) if v else 0.0 for m, v in ndcgs.items()}, per_segment,
                         message)


def vague_shopper_row(assistant: "Assistant", log: InteractionLog, segments: Mapping[str, str],
                      shoppers: int | None = 300, k: int = 10, model: LambdaRankModel | None = None) -> str:
    """The "vague known shoppers: CF-only / hybrid / hybrid+preference" line for `aisle eval cf` (fits a
    preference model on the earlier split unless `model` is given)."""
    return evaluate_vague_shoppers(assistant, log, segments, model, shoppers, k).row()


def labelled_with_preference(assistant: "Assistant", cases: Sequence[RequestCase], model: LambdaRankModel,
                             k: int = 5) -> list[RequestSetResult]:
    """The labelled requests ranked by the hybrid and by hybrid+preference with `model`."""
    base = assistant.settings.fusion
    assistant.preference.use(LearnedPreference(model))
    return [evaluate_requests(assistant, cases, replace(base, preference=False), "hybrid", k),
            evaluate_requests(assistant, cases, replace(base, preference=True), "hybrid+preference", k)]


@dataclass
class PreferenceReport:
    """Both targets of the preference model, measured in one run on one store."""

    store: str
    vague: list[VagueShoppers]
    requests: list[RequestSetResult]
    training: dict[str, Any]
    importance: dict[str, float]
    seconds: float

    def format(self) -> str:
        lines = [f"{self.store}: preference model trained on {self.training.get('turns_used')} turns "
                 f"({self.training.get('rows_used')} rows) from {self.training.get('shoppers')} shoppers"]
        lines += [v.row() for v in self.vague]
        lines += [f"labelled requests ({r.requests}), {r.mode}: NDCG@5 {r.ndcg:.4f}  P@5 {r.precision:.3f}  "
                  f"hard ok {r.hard_satisfaction:.3f}" for r in self.requests]
        top = ", ".join(f"{name} {gain:.0f}" for name, gain in list(self.importance.items())[:8])
        lines.append(f"most used features (gain): {top}")
        lines.append(f"({self.seconds:.0f} s)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "vague_shoppers": [v.to_dict() for v in self.vague],
                "requests": [r.to_dict() for r in self.requests], "training": self.training,
                "importance": self.importance, "seconds": round(self.seconds, 1)}


def evaluate_preference(assistant: "Assistant", log: InteractionLog, segments: Mapping[str, str],
                        cases: Sequence[RequestCase], store: str = "demo", shoppers: int | None = 500,
                        train_shoppers: int | None = 600, messages: Sequence[str] = ("",),
                        cf_model: str | None = None, progress: bool = False) -> PreferenceReport:
    """Fit on the earlier split, then measure vague known shoppers (one row per message) and the labelled
    requests (hybrid vs hybrid+preference) with that one model."""
    started = time.perf_counter()
    model, _ = fit_preference(assistant, log, segments, train_shoppers, cf_model=cf_model, progress=progress)
    vague = [evaluate_vague_shoppers(assistant, log, segments, model, shoppers, 10, m, cf_model, progress)
             for m in messages]
    requests = labelled_with_preference(assistant, cases, model) if cases else []
    return PreferenceReport(store, vague, requests, model.manifest["training"], model.importance(),
                            time.perf_counter() - started)
