"""`aisle eval cf`: the store's default CF model against tuned peers, with standard errors and a paired test.

Protocol (every figure on the same split): each shopper's latest new product is the test target
(`leave_last_out`); the rest of the log is split the same way again for validation. Every family is tuned on
that validation split (`select_model`: grids, time decays, blends) and the default model is what `aisle cf fit`
would choose there; each family's best and the default are then refitted on the whole training part and
ranked on the untouched test targets. The paired test compares the default with the best tuned peer on the
same shoppers: mean difference ± its standard error.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from assistant.behaviour.interactions import build_interactions
from assistant.behaviour.model import CFModel
from assistant.behaviour.selection import (FAMILIES, ModelChoice, Progress, Selection, fit_choice, select_model,
                                           standard_error)
from assistant.behaviour.split import Split, leave_last_out
from assistant.evaluation.metrics import rank_heldout
from assistant.ingest.customers import InteractionLog

PEERS = ("als", "bpr", "ease", "item_item")  # the tuned peers the default must beat (implicit's ALS / BPR)


@dataclass
class HeldOutResult:
    """One tuned model's figures on the test targets."""

    name: str  # family, or "default"
    choice: ModelChoice
    validation_ndcg: float
    ndcg: float
    se: float
    recall: float
    mrr: float
    coverage: float
    fit_seconds: float
    users: int
    per_segment: dict[str, float] = field(default_factory=dict)
    values: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # NDCG per test shopper

    def to_dict(self) -> dict:
        return {"model": self.name, "choice": self.choice.label(), "params": self.choice.to_dict(),
                "validation_ndcg": round(self.validation_ndcg, 4), "ndcg": round(self.ndcg, 4),
                "se": round(self.se, 4), "recall": round(self.recall, 4), "mrr": round(self.mrr, 4),
                "coverage": round(self.coverage, 4), "fit_seconds": round(self.fit_seconds, 2), "users": self.users,
                "per_segment_ndcg": {k: round(v, 4) for k, v in self.per_segment.items()}}


@dataclass
class PairedDifference:
    """Default minus a peer, shopper by shopper."""

    peer: str
    ratio: float  # default NDCG / peer NDCG
    difference: float
    se: float

    @property
    def clear(self) -> bool:
        """Whether the difference lies outside two standard errors."""
        return abs(self.difference) > 2 * self.se

    def to_dict(self) -> dict:
        return {"peer": self.peer, "ratio": round(self.ratio, 3), "difference": round(self.difference, 4),
                "se": round(self.se, 4), "outside_two_se": self.clear}


@dataclass
class BuyAgain:
    """How normal buying again is in a store, and how well a "buy again" list catches it."""

    repurchase_share: float  # of shoppers with two or more purchases, the share who bought a product twice
    shoppers: int  # shoppers whose latest purchase had earlier purchases before it
    repeat_share: float  # of those latest purchases, the share that repeat an earlier one
    hit_rate: float  # share of those latest purchases (repeats or not) in the buy-again top k

    def to_dict(self) -> dict:
        return {"repurchase_share": round(self.repurchase_share, 4), "shoppers": self.shoppers,
                "latest_purchase_is_repeat": round(self.repeat_share, 4), "buy_again_hit_rate": round(self.hit_rate, 4)}


@dataclass
class CFComparison:
    """`aisle eval cf` for one store."""

    store: str
    events: int
    k: int
    selection: Selection
    results: list[HeldOutResult]  # each family's best, then the default
    paired: PairedDifference | None
    buy_again: BuyAgain | None
    seconds: float

    @property
    def default(self) -> HeldOutResult:
        return next(r for r in self.results if r.name == "default")

    def to_dict(self) -> dict:
        return {"store": self.store, "events": self.events, "k": self.k, "seconds": round(self.seconds, 1),
                "selection": self.selection.to_dict(), "results": [r.to_dict() for r in self.results],
                "default_vs_best_peer": self.paired.to_dict() if self.paired else None,
                "buy_again": self.buy_again.to_dict() if self.buy_again else None}


def heldout_result(name: str, choice: ModelChoice, validation: float, split: Split, segments: Mapping[str, str] | None,
                k: int) -> HeldOutResult:
    """Fit `choice` on the split's training part and rank every test shopper's held-out product."""
    started = time.perf_counter()
    model = fit_choice(split.train, choice, segments)
    seconds = time.perf_counter() - started
    return _rank_test(name, choice, validation, model, split.targets, k, seconds)


def _rank_test(name: str, choice: ModelChoice, validation: float, model: CFModel, targets: Mapping[str, str],
               k: int, seconds: float) -> HeldOutResult:
    result, ndcg = rank_heldout(model, targets, k, name, seconds)
    return HeldOutResult(name, choice, validation, result.ndcg, standard_error(ndcg), result.recall, result.mrr,
                         result.coverage, seconds, result.users, result.per_segment, ndcg)


def paired_difference(default: HeldOutResult, peer: HeldOutResult) -> PairedDifference:
    """Default minus peer over the same test shoppers."""
    diff = default.values - peer.values
    return PairedDifference(peer.name, default.ndcg / peer.ndcg if peer.ndcg > 0 else math.inf, float(diff.mean()),
                            standard_error(diff))


def buy_again(log: InteractionLog, k: int = 10) -> BuyAgain | None:
    """Each shopper's latest purchase held out (one event): is it a repeat, and is it in the buy-again top k
    built from everything before it? None for a log without purchases."""
    bought = np.flatnonzero(log.events == "purchase")
    if not len(bought):
        return None
    order = bought[np.lexsort((bought, log.timestamps[bought], log.customers[bought]))]
    customers = log.customers[order]
    last = order[np.r_[np.flatnonzero(customers[1:] != customers[:-1]), len(order) - 1]]
    held = np.zeros(len(log), dtype=bool)
    held[last] = True
    train = log.subset(~held)
    if len(train) == 0:
        return None
    from assistant.behaviour import make_cf_model
    from assistant.behaviour.interactions import repurchase_share
    model = make_cf_model("popularity").fit(build_interactions(train))
    data = model.trained
    earlier = {str(c): set() for c in log.customers[last]}
    for c, p in zip(train.customers[train.events == "purchase"], train.products[train.events == "purchase"]):
        if str(c) in earlier:
            earlier[str(c)].add(str(p))
    shoppers = [(str(log.customers[r]), str(log.products[r])) for r in last if earlier[str(log.customers[r])]]
    if not shoppers:
        return BuyAgain(repurchase_share(log), 0, 0.0, 0.0)
    repeats = [p in earlier[c] for c, p in shoppers]
    hits = [p in {q for q, _ in model.buy_again(c, k)} for c, p in shoppers if c in data.user_index]
    return BuyAgain(repurchase_share(log), len(shoppers), float(np.mean(repeats)),
                    float(np.mean(hits)) if hits else 0.0)


def compare_cf(log: InteractionLog, segments: Mapping[str, str] | None = None, k: int = 10,
               families: Sequence[str] = FAMILIES, store: str = "", progress: Progress | None = None) -> CFComparison:
    """The default model (chosen as `aisle cf fit` chooses) against every family tuned the same way."""
    started = time.perf_counter()
    split = leave_last_out(log)
    note = progress or (lambda done, total, what: None)
    selection = select_model(split.train, segments, k, families, progress=note)
    results = []
    for done, family in enumerate(families):
        trial = selection.best(family)
        if trial is not None:
            note(done, len(families) + 1, f"test split: {family}")
            results.append(heldout_result(family, trial.choice, trial.ndcg, split, segments, k))
    chosen = next(t for t in selection.trials if t.choice == selection.chosen)
    same = next((r for r in results if r.choice == selection.chosen), None)
    default = (HeldOutResult("default", same.choice, same.validation_ndcg, same.ndcg, same.se, same.recall, same.mrr,
                          same.coverage, same.fit_seconds, same.users, same.per_segment, same.values) if same else
               heldout_result("default", selection.chosen, chosen.ndcg, split, segments, k))
    results.append(default)
    peers = [r for r in results if r.name in PEERS]
    best_peer = max(peers, key=lambda r: r.ndcg) if peers else None
    paired = paired_difference(default, best_peer) if best_peer else None
    return CFComparison(store, len(log), k, selection, results, paired, buy_again(log, k),
                        time.perf_counter() - started)


def format_comparison(comparison: CFComparison) -> str:
    """The table `aisle eval cf` prints for one store."""
    k = comparison.k
    head = (f"{'model':<12}{'val NDCG':>9}{'NDCG@' + str(k):>9}{'± se':>8}{'Recall@' + str(k):>10}{'MRR':>8}"
            f"{'coverage':>9}{'fit s':>7}  chosen setting")
    lines = [f"{comparison.store or 'store'}: {comparison.events} events; temporal leave-last-out, K={k}, "
             f"every model tuned on a validation split before the test split", head, "-" * len(head)]
    for r in comparison.results:
        lines.append(f"{r.name:<12}{r.validation_ndcg:>9.4f}{r.ndcg:>9.4f}{r.se:>8.4f}{r.recall:>10.4f}{r.mrr:>8.4f}"
                     f"{r.coverage:>9.3f}{r.fit_seconds:>7.1f}  {r.choice.label()}")
    users = comparison.results[0].users if comparison.results else 0
    lines.append(f"({users} test shoppers; validation: {comparison.selection.users} shoppers, "
                 f"{len(comparison.selection.trials)} candidates)")
    if comparison.paired:
        p = comparison.paired
        verdict = "outside" if p.clear else "within"
        lines.append(f"default vs best tuned peer ({p.peer}): {p.ratio:.2f}×, paired difference "
                     f"{p.difference:+.4f} ± {p.se:.4f} ({verdict} two standard errors)")
    if comparison.buy_again:
        b = comparison.buy_again
        lines.append(f"buying again: {b.repurchase_share:.1%} of shoppers with 2+ purchases bought a product twice; of {b.shoppers} "
                     f"shoppers' latest purchases {b.repeat_share:.1%} are repeats, and the buy-again top {k} holds "
                     f"{b.hit_rate:.1%} of them")
    return "\n".join(lines)
