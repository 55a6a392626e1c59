"""Results of a fairness evaluation and how they are shown: JSON-ready dicts, a plain-text table and
PNG plots (matplotlib, imported only when plotting)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from assistant.ingest.catalog import Product
from assistant.evaluation.exposure import TIERS, gini, lorenz, price_tiers, shares
from assistant.rank.hybrid import popularity_deciles

SOURCES = {"requests": "labelled answers", "heldout_cf": "held-out CF lists"}
PLOTS = ("segments_ndcg.png", "exposure_popularity.png", "exposure_price_tier.png", "lorenz.png")


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
