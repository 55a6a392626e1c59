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

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import numpy as np

from assistant.ingest.catalog import Product
from assistant.behaviour import CFModel, Interactions, build_interactions, make_cf_model
from assistant.ingest.customers import InteractionLog
from assistant.evaluation.metrics import RequestCase, Split, evaluate_requests, heldout_scores, leave_last_out, ndcg_at_k
from assistant.understand import Request
from assistant.core.progress import progress_bar
from assistant.rank.hybrid import cap_popular, popular_head, popularity_deciles
from assistant.service.turn import without_popularity_cap
from assistant.rank.segments import GENERAL

if TYPE_CHECKING:
    from assistant.service.assistant import Assistant
    from assistant.core.config import FusionSettings

TIERS = ("cheap", "mid", "premium")
SOURCES = {"requests": "labelled answers", "heldout_cf": "held-out CF lists"}
PLOTS = ("segments_ndcg.png", "exposure_popularity.png", "exposure_price_tier.png", "lorenz.png")


# ---------------------------------------------------------------------------- measures


def exposure_weight(rank: int) -> float:
    """Attention paid to a list position (1-based): 1 / log2(rank + 1)."""
    return 1.0 / math.log2(rank + 1)


def exposure(lists: Iterable[Sequence[str]], ids: Sequence[str]) -> np.ndarray:
    """Exposure of each of `ids` summed over the shown `lists` (ids outside `ids` are ignored)."""
    position = {pid: i for i, pid in enumerate(ids)}
    out = np.zeros(len(ids))
    for shown in lists:
        for place, pid in enumerate(shown, start=1):
            if pid in position:
                out[position[pid]] += exposure_weight(place)
    return out


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values: 0 all equal, (n - 1) / n all on one; 0 when all are 0."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    if len(x) == 0 or x.sum() <= 0:
        return 0.0
    if x[0] < 0:
        raise ValueError("gini needs non-negative values")
    n = len(x)
    return float(2.0 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n)


def lorenz(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve: cumulative share of products (poorest first) and of their values, from (0, 0)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    total = x.sum()
    share = np.concatenate([[0.0], np.cumsum(x) / total]) if total > 0 else np.linspace(0, 1, len(x) + 1)
    return np.linspace(0.0, 1.0, len(x) + 1), share


def price_tiers(products: Sequence[Product]) -> list[str]:
    """cheap / mid / premium per product: its mid-rank price percentile within its category
    ((cheaper + equal / 2) / n, equal counting itself) below 1/3, up to 2/3, above 2/3."""
    by_category: dict[str, list[float]] = {}
    for p in products:
        by_category.setdefault(p.category, []).append(p.price)
    sorted_prices = {c: np.sort(v) for c, v in by_category.items()}
    tiers = []
    for p in products:
        prices = sorted_prices[p.category]
        below = np.searchsorted(prices, p.price, side="left")
        equal = np.searchsorted(prices, p.price, side="right") - below
        percentile = (below + equal / 2) / len(prices)
        tiers.append("cheap" if percentile < 1 / 3 else "premium" if percentile > 2 / 3 else "mid")
    return tiers


def shares(values: np.ndarray, groups: Sequence[str], order: Sequence[str] | None = None) -> dict[str, float]:
    """Share of the total of `values` per group label (groups in `order`, else sorted)."""
    total = float(np.sum(values))
    sums: dict[str, float] = {}
    for value, group in zip(values, groups):
        sums[group] = sums.get(group, 0.0) + float(value)
    keys = list(order) if order is not None else sorted(sums)
    return {key: (sums.get(key, 0.0) / total if total > 0 else 0.0) for key in keys}


# ---------------------------------------------------------------------------- results


@dataclass
class SegmentQuality:
    """NDCG@k of one way of ranking, overall and per customer segment."""

    name: str
    k: int
    cases: int
    ndcg: float
    per_segment: dict[str, float] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Best minus worst segment NDCG (0 with fewer than two segments)."""
        return max(self.per_segment.values()) - min(self.per_segment.values()) if self.per_segment else 0.0

    @property
    def worst(self) -> str:
        """The segment with the lowest NDCG ("" when there are none)."""
        return min(self.per_segment, key=lambda s: (self.per_segment[s], s)) if self.per_segment else ""

    def to_dict(self) -> dict:
        return {"name": self.name, "k": self.k, "cases": self.cases, "ndcg": round(self.ndcg, 4),
                "per_segment_ndcg": {s: round(v, 4) for s, v in self.per_segment.items()},
                "gap": round(self.gap, 4), "worst_segment": self.worst}


def _quality(name: str, k: int, ndcgs: Sequence[float], segments: Sequence[str]) -> SegmentQuality:
    values, labels = np.asarray(ndcgs, dtype=np.float64), np.asarray(segments)
    per_segment = {s: float(values[labels == s].mean()) for s in sorted(set(segments)) if s}
    return SegmentQuality(name, k, len(values), float(values.mean()) if len(values) else 0.0, per_segment)


@dataclass
class CatalogGroups:
    """The catalog products and the groups exposure is reported by."""

    ids: list[str]
    brands: list[str]
    tiers: list[str]
    popularity: np.ndarray  # interacting shoppers per product
    deciles: np.ndarray  # 1..10, 10 = most popular

    @classmethod
    def build(cls, products: Sequence[Product], popularity: Mapping[str, int]) -> "CatalogGroups":
        counts = np.array([popularity.get(p.id, 0) for p in products], dtype=np.float64)
        return cls([p.id for p in products], [p.brand or "(none)" for p in products], price_tiers(products),
                   counts, popularity_deciles(counts))

    @property
    def decile_labels(self) -> list[str]:
        return [str(d) for d in self.deciles]

    @property
    def head(self) -> np.ndarray:
        return self.deciles == 10


@dataclass
class FairnessRun:
    """Quality and exposure with one popularity cap (None = no cap)."""

    cap: float | None
    heldout: SegmentQuality
    hybrid: SegmentQuality | None = None
    requests: SegmentQuality | None = None
    exposure: dict[str, np.ndarray] = field(default_factory=dict)  # source -> exposure per catalog product
    lists: dict[str, int] = field(default_factory=dict)  # source -> shown lists

    @property
    def label(self) -> str:
        return "no cap" if self.cap is None else f"cap {self.cap:g}"

    @property
    def total(self) -> np.ndarray:
        return np.sum(list(self.exposure.values()), axis=0)


@dataclass
class FairnessReport:
    """Every run side by side, with the catalog groups they are measured against."""

    groups: CatalogGroups
    runs: list[FairnessRun]
    k: int
    request_k: int
    events: int

    def head_share(self, values: np.ndarray) -> float:
        total = float(values.sum())
        return float(values[self.groups.head].sum()) / total if total > 0 else 0.0

    def exposure_dict(self, run: FairnessRun) -> dict:
        g, total = self.groups, run.total
        return {"lists": run.lists, "gini": round(gini(total), 4), "head_share": round(self.head_share(total), 4),
                "by_source": {src: {"gini": round(gini(v), 4), "head_share": round(self.head_share(v), 4)}
                              for src, v in run.exposure.items()},
                "by_popularity_decile": _round(shares(total, g.decile_labels, [str(d) for d in range(1, 11)])),
                "by_price_tier": _round(shares(total, g.tiers, TIERS)),
                "by_brand": _round(shares(total, g.brands))}

    def to_dict(self) -> dict:
        g, ones = self.groups, np.ones(len(self.groups.ids))
        return {
            "k": self.k, "request_k": self.request_k, "events": self.events, "catalog_products": len(g.ids),
            "popularity": {"definition": "shoppers with a positive-weight interaction in the event log",
                           "head_products": int(g.head.sum()),
                           "head_min_shoppers": int(g.popularity[g.head].min()) if g.head.any() else 0},
            "exposure_definition": (f"sum of 1/log2(rank+1) over the hybrid's top {self.request_k} for each "
                                    f"labelled request and the CF top {self.k} for each held-out shopper"),
            "catalog_share": {"head": round(float(g.head.mean()), 4),
                              "by_popularity_decile": _round(shares(ones, g.decile_labels,
                                                                    [str(d) for d in range(1, 11)])),
                              "by_price_tier": _round(shares(ones, g.tiers, TIERS)),
                              "by_brand": _round(shares(ones, g.brands))},
            "runs": [{"cap": run.cap, "heldout_cf": run.heldout.to_dict(),
                      "heldout_hybrid": run.hybrid.to_dict() if run.hybrid else None,
                      "requests": run.requests.to_dict() if run.requests else None,
                      "exposure": self.exposure_dict(run)} for run in self.runs],
        }

    # ------------------------------------------------------------------ text

    def format(self, brands: int = 5) -> str:
        """A plain-text table, one column per cap setting."""
        g, runs = self.groups, self.runs
        segments = [s for r in runs for q in (r.heldout, r.hybrid, r.requests) if q for s in q.per_segment]
        width = max([12, *(len(s) + 2 for s in segments)])
        lines = [f"{len(g.ids):,} catalog products, {self.events:,} events. Popularity = shoppers who interacted "
                 f"with a product; top decile = {int(g.head.sum())} products "
                 f"(>= {int(g.popularity[g.head].min()) if g.head.any() else 0} shoppers).",
                 "Exposure = sum of 1/log2(rank+1) over the shown lists: "
                 + ", ".join(f"{n:,} {SOURCES.get(s, s)}" for s, n in runs[0].lists.items()) + ".", ""]
        head = f"{'':<48}" + "".join(f"{r.label:>{width}}" for r in runs)
        lines += [head, "-" * len(head)]

        def row(label: str, values: Sequence, fmt: str = ".4f") -> None:
            texts = ["–" if v is None else v[:width - 1] if isinstance(v, str) else format(v, fmt) for v in values]
            cells = "".join(f"{text:>{width}}" for text in texts)
            lines.append(f"{label[:48]:<48}{cells}")

        def quality(title: str, pick) -> None:
            items = [pick(r) for r in runs]
            if all(q is None for q in items):
                return
            first = next(q for q in items if q is not None)
            row(f"{title} (n={first.cases})", [q.ndcg if q else None for q in items])
            base = items[0].ndcg if items[0] else None
            if len(runs) > 1 and base is not None:
                row("  change vs no cap", [None] + [q.ndcg - base if q else None for q in items[1:]], "+.4f")
            for segment in first.per_segment:
                row(f"  {segment}", [q.per_segment.get(segment) if q else None for q in items])
            row("  gap (best - worst segment)", [q.gap if q else None for q in items])
            row("  worst segment", [q.worst if q else None for q in items])

        quality(f"held-out NDCG@{self.k}, CF blend", lambda r: r.heldout)
        quality(f"held-out NDCG@{self.k}, hybrid (no message)", lambda r: r.hybrid)
        quality(f"labelled NDCG@{self.request_k}, hybrid", lambda r: r.requests)
        lines.append("")
        totals = [r.total for r in runs]
        row(f"exposure Gini over {len(g.ids):,} products", [gini(t) for t in totals])
        for source, name in SOURCES.items():
            if source in runs[0].exposure:
                row(f"  {name}", [gini(r.exposure[source]) for r in runs])
        row(f"top-decile exposure share (catalog {g.head.mean():.1%})", [self.head_share(t) for t in totals], ".1%")
        for source, name in SOURCES.items():
            if source in runs[0].exposure:
                row(f"  {name}", [self.head_share(r.exposure[source]) for r in runs], ".1%")
        catalog_tiers = shares(np.ones(len(g.ids)), g.tiers, TIERS)
        by_tier = [shares(t, g.tiers, TIERS) for t in totals]
        lines.append("exposure share by price tier")
        for tier in TIERS:
            row(f"  {tier} (catalog {catalog_tiers[tier]:.1%})", [s[tier] for s in by_tier], ".1%")
        deciles = [str(d) for d in range(1, 11)]
        catalog_deciles = shares(np.ones(len(g.ids)), g.decile_labels, deciles)
        by_decile = [shares(t, g.decile_labels, deciles) for t in totals]
        lines.append("exposure share by popularity decile (10 = most popular)")
        for d in deciles:
            row(f"  decile {d} (catalog {catalog_deciles[d]:.1%})", [s[d] for s in by_decile], ".1%")
        catalog_brands = shares(np.ones(len(g.ids)), g.brands)
        by_brand = [shares(t, g.brands) for t in totals]
        top = sorted(by_brand[0], key=lambda b: -by_brand[0][b])[:brands]
        lines.append(f"exposure share of the {len(top)} most exposed brands (of {len(catalog_brands)})")
        for brand in top:
            row(f"  {brand} (catalog {catalog_brands[brand]:.1%})", [s.get(brand, 0.0) for s in by_brand], ".1%")
        return "\n".join(lines)

    # ------------------------------------------------------------------ plots

    def plot(self, folder: str | Path) -> list[Path]:
        """Write the four PNG plots (named in PLOTS) to `folder`; returns their paths."""
        try:
            import matplotlib
        except ImportError:
            raise ImportError("matplotlib is not available - install matplotlib==3.11.2 to draw the plots") from None
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        g, runs = self.groups, self.runs
        labels = [r.label for r in runs]
        paths = []

        def save(fig, name: str) -> None:
            fig.tight_layout()
            fig.savefig(folder / name, dpi=110)
            plt.close(fig)
            paths.append(folder / name)

        panels = [(f"held-out NDCG@{self.k}, CF blend", [r.heldout for r in runs]),
                  (f"held-out NDCG@{self.k}, hybrid (no message)", [r.hybrid for r in runs]),
                  (f"labelled requests NDCG@{self.request_k}, hybrid", [r.requests for r in runs])]
        panels = [(title, qs) for title, qs in panels if all(q is not None for q in qs)]
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
        for ax, (title, qs) in zip(axes[0], panels):
            segments = list(qs[0].per_segment)
            x = np.arange(len(segments))
            width = 0.8 / len(qs)
            for i, (q, label) in enumerate(zip(qs, labels)):
                ax.bar(x + (i - (len(qs) - 1) / 2) * width, [q.per_segment[s] for s in segments], width,
                       label=f"{label} (all {q.ndcg:.3f})")
            ax.set_xticks(x, [s.replace("_", "\n") for s in segments], fontsize=8)
            ax.set_title(title, fontsize=10)
            ax.set_ylabel("NDCG")
            ax.set_ylim(0, 1.3 * max(max(q.per_segment.values(), default=0.0) for q in qs) or 1.0)
            ax.legend(fontsize=7, loc="upper right")
        save(fig, PLOTS[0])

        def grouped(name: str, keys: list[str], group_labels: Sequence[str], xlabel: str, title: str) -> None:
            fig, ax = plt.subplots(figsize=(7.5, 4.2))
            x = np.arange(len(keys))
            width = 0.8 / (len(runs) + 1)
            catalog = shares(np.ones(len(g.ids)), group_labels, keys)
            ax.bar(x - 0.4 + width / 2, [catalog[key] for key in keys], width, color="lightgrey",
                   label="share of catalog")
            for i, run in enumerate(runs, start=1):
                values = shares(run.total, group_labels, keys)
                ax.bar(x - 0.4 + width / 2 + i * width, [values[key] for key in keys], width,
                       label=f"exposure, {run.label}")
            ax.set_xticks(x, keys)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("share")
            ax.set_title(title, fontsize=10)
            ax.legend(fontsize=8)
            save(fig, name)

        grouped(PLOTS[1], [str(d) for d in range(1, 11)], g.decile_labels, "popularity decile (10 = most popular)",
                "Exposure by popularity decile vs share of the catalog")
        grouped(PLOTS[2], list(TIERS), g.tiers, "price tier within category",
                "Exposure by price tier vs share of the catalog")

        fig, ax = plt.subplots(figsize=(5.5, 5))
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="equal exposure")
        for run in runs:
            x, y = lorenz(run.total)
            ax.plot(x, y, label=f"{run.label}: Gini {gini(run.total):.3f}")
        ax.set_xlabel("share of catalog products (least exposed first)")
        ax.set_ylabel("share of exposure")
        ax.set_title("Lorenz curve of exposure", fontsize=10)
        ax.legend(fontsize=8)
        save(fig, PLOTS[3])
        return paths


def _round(values: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


# ---------------------------------------------------------------------------- evaluation


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
    ndcgs: dict[float | None, list[float]] = {cap: [] for cap in settings}
    labels: list[str] = []
    for user in progress_bar(users, progress, "hybrid, held-out shoppers", "shopper"):
        row = data.user_index[user]
        segment = assistant.segments.get(data.segments[row], GENERAL)
        seen = {data.items[i] for i in data.matrix[row].indices}
        result = pipeline.rank_request(Request(), segment, pseudonym=user, k=k,
                                       fusion=without_popularity_cap(fusion), exclude=seen)
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
