"""How well `infer_segments` recovers segments that are known: stratified k-fold over the shoppers with a
known segment and a basket, accuracy and macro-F1 per fold (mean ± standard error across folds), beside a
majority-class baseline (the training folds' most common segment for everyone) and a chance baseline
(segments drawn at random by the training folds' shares, seeded).

Stores: the demo store (every shopper has a segment column) and the Complete Journey grocery (segments
from demographics by its rules, for the 801 of 2,377 households that have them); `store_inputs` reads any
store's files the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from assistant.behaviour.segment_inference import (BasketProfiles, basket_profiles, fit_segment_classifier,
                                                   macro_f1, stratified_folds)
from assistant.core.config import ReadLimits
from assistant.ingest.customers import InteractionLog, read_customers, read_events
from assistant.ingest.segment_rules import SegmentRules

METHODS = ("inferred", "majority", "chance")


@dataclass(frozen=True)
class Score:
    """A metric's mean across folds and its standard error (sample sd / sqrt(folds))."""

    mean: float
    se: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Score":
        values = np.asarray(values, dtype=np.float64)
        se = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
        return cls(float(values.mean()), se)


@dataclass(frozen=True)
class MethodResult:
    """One way of guessing segments: accuracy and macro-F1 across folds."""

    method: str
    accuracy: Score
    macro_f1: Score


@dataclass
class RecoveryResult:
    """One store's measurement."""

    store: str
    shoppers: int  # with a known segment and a basket
    segment_counts: dict[str, int]
    folds: int
    seed: int
    features: int
    methods: list[MethodResult]
    notes: list[str] = field(default_factory=list)
    segment_f1: dict[str, float] = field(default_factory=dict)  # the inferred segments' F1, mean over folds

    def method(self, name: str) -> MethodResult:
        return next(m for m in self.methods if m.method == name)

    def to_dict(self) -> dict:
        return {"store": self.store, "shoppers": self.shoppers, "segments": self.segment_counts,
                "folds": self.folds, "seed": self.seed, "features": self.features, "notes": self.notes,
                "inferred_f1_by_segment": {s: round(v, 4) for s, v in self.segment_f1.items()},
                "methods": [{"method": m.method, "accuracy": round(m.accuracy.mean, 4),
                             "accuracy_se": round(m.accuracy.se, 4), "macro_f1": round(m.macro_f1.mean, 4),
                             "macro_f1_se": round(m.macro_f1.se, 4)} for m in self.methods]}


@dataclass
class StoreInputs:
    """What inference needs from a store: its log, product categories and prices, and known segments."""

    log: InteractionLog
    categories: dict[str, str]
    prices: dict[str, float]
    segments: dict[str, str]  # {shopper: segment}; "" = unknown
    notes: list[str] = field(default_factory=list)


def accuracy(truth: Sequence[str], guess: Sequence[str]) -> float:
    return float(np.mean(np.asarray(truth) == np.asarray(guess))) if len(truth) else math.nan


def measure_recovery(store: str, profiles: BasketProfiles, segments: Mapping[str, str], folds: int = 5,
                     seed: int = 0, l2: float | None = None) -> RecoveryResult:
    """Stratified `folds`-fold measurement of inference against the baselines on the shoppers of
    `profiles` with a known segment. Shoppers are dealt into folds in the order of `segments` (the customer
    file's), so the folds do not depend on the pseudonymisation key."""
    have = set(profiles.customers)
    known = [c for c, s in segments.items() if s and c in have]
    labels = np.array([segments[c] for c in known], dtype=str)
    if len(set(labels.tolist())) < 2:
        raise ValueError(f"{store}: fewer than two known segments among shoppers with a basket")
    x = profiles.rows(known)
    names = sorted(set(labels.tolist()))
    rng = np.random.default_rng(seed + 1)
    scores: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in METHODS}
    penalties, by_segment = [], {s: [] for s in names}
    for test in stratified_folds(labels, folds, seed):
        train = np.setdiff1d(np.arange(len(labels)), test)
        model = fit_segment_classifier(x[train], labels[train].tolist(), l2)
        penalties.append(f"{model.l2:g}")
        values, counts = np.unique(labels[train], return_counts=True)
        guesses = {"inferred": [r.segment for r in model.predict(x[test])],
                   "majority": [str(values[counts.argmax()])] * len(test),
                   "chance": rng.choice(values, size=len(test), p=counts / counts.sum()).tolist()}
        for method, guess in guesses.items():
            scores[method][0].append(accuracy(labels[test], guess))
            scores[method][1].append(macro_f1(labels[test], guess, names))
        for s in names:
            by_segment[s].append(macro_f1(labels[test], guesses["inferred"], [s]))
    methods = [MethodResult(m, Score.of(a), Score.of(f)) for m, (a, f) in scores.items()]
    counts = {s: int(np.sum(labels == s)) for s in names}
    how = "given" if l2 is not None else "chosen in each training fold by an inner 3-fold split"
    return RecoveryResult(store, len(known), counts, folds, seed, len(profiles.names), methods,
                          [f"L2 penalty {how}: {', '.join(penalties)}"],
                          {s: float(np.mean(v)) for s, v in by_segment.items()})


def store_inputs(events: Sequence[str | Path], customers: Sequence[str | Path], categories: Mapping[str, str],
                 prices: Mapping[str, float], pseudonymize: Callable[[str], str],
                 rules: SegmentRules | None = None, limits: ReadLimits | None = None) -> StoreInputs:
    """Read a store's logs and customer files (segments by `rules` when given, else the segment column)."""
    log = read_events(events, pseudonymize, limits=limits)
    profiles, report = read_customers(customers, pseudonymize, limits=limits, rules=rules)
    segments = {c: p.segment for c, p in profiles.items()}
    notes = [f"{len(log)} events, {len(profiles)} customers ({sum(1 for s in segments.values() if s)} with a "
             f"segment{' by ' + rules.source if rules else ''})"]
    if log.report.rejected or report.rejected:
        notes.append(f"{log.report.rejected} event rows and {report.rejected} customer rows rejected")
    return StoreInputs(log, dict(categories), dict(prices), segments, notes)


def demo_inputs(pseudonymize: Callable[[str], str]) -> StoreInputs:
    """The demo store: its events, customers (segment column) and catalog."""
    from assistant.demo import catalog_path, customers_path, events_path
    from assistant.ingest.catalog import read_catalog

    products, _ = read_catalog([catalog_path()])
    return store_inputs([events_path()], [customers_path()], {p.id: p.category for p in products},
                        {p.id: p.price for p in products if p.price}, pseudonymize)


def completejourney_inputs(source: str | Path, pseudonymize: Callable[[str], str]) -> StoreInputs:
    """The Complete Journey folder: purchases, households placed by the shipped demographic rules, and the
    derived catalog's categories ("Department > Product Category") and median prices."""
    from assistant.evaluation.completejourney import (CUSTOMERS_FILE, EVENTS_FILE, derive_catalog,
                                                      segment_rules)

    source = Path(source)
    catalog = derive_catalog(source)
    return store_inputs([source / EVENTS_FILE], [source / CUSTOMERS_FILE], {p.id: p.category for p in catalog.products},
                        {p.id: p.price for p in catalog.products}, pseudonymize, segment_rules())


def measure_store(store: str, inputs: StoreInputs, folds: int = 5, seed: int = 0, l2: float | None = None,
                  min_shoppers: int = 5) -> RecoveryResult:
    """Profiles from the store's baskets, then `measure_recovery`."""
    profiles = basket_profiles(inputs.log, inputs.categories, inputs.prices, min_shoppers)
    result = measure_recovery(store, profiles, inputs.segments, folds, seed, l2)
    without = sum(1 for s in inputs.segments.values() if s) - result.shoppers
    result.notes = [*inputs.notes, *([f"{without} shoppers with a segment but no basket left out"] if without else []),
                    *result.notes]
    return result


def format_recovery(results: Sequence[RecoveryResult]) -> str:
    """One line per (store, method): accuracy and macro-F1, each ± its standard error across folds."""
    head = f"{'store':<17}{'method':<11}{'accuracy':>18}{'macro-F1':>18}"
    lines = [head, "-" * len(head)]
    for r in results:
        for m in r.methods:
            lines.append(f"{r.store:<17}{m.method:<11}{m.accuracy.mean:>10.3f} ± {m.accuracy.se:.3f}"
                         f"{m.macro_f1.mean:>10.3f} ± {m.macro_f1.se:.3f}")
    for r in results:
        shares = ", ".join(f"{s} {n}" for s, n in sorted(r.segment_counts.items(), key=lambda kv: -kv[1]))
        lines.append(f"{r.store}: {r.shoppers} shoppers with a known segment and a basket ({shares}); "
                     f"{r.folds}-fold stratified, seed {r.seed}; {r.features} basket features")
        lines.append("  inferred F1 by segment: " + ", ".join(f"{s} {v:.3f}" for s, v in r.segment_f1.items()))
        lines.extend(f"  {note}" for note in r.notes)
    lines.append("inferred = logistic regression on basket profiles (behaviour/segment_inference.py); majority = "
                 "the training folds' commonest segment; chance = drawn by the training folds' segment shares")
    return "\n".join(lines)
