"""The stores `aisle eval requests` measures: the demo store (tuned on) and the Complete Journey grocery
(measured; no weight is chosen on it alone, but its failures were read while building: docs/ranking.md).
Each store is an index, a CF model and a labelled request set.

The Complete Journey store is prepared on first use: its catalog is derived (evaluation/completejourney.py)
into `<state_dir>/completejourney/catalog.csv`, published as the index `completejourney` (rebuilt only when the
derived catalog changed) and a CF model is fitted on its purchases, households placed in segments by
`customer_segment`. `sample` keeps the products of the categories the dialogues name plus the most bought
others, for a quicker first build.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from assistant.core.config import Settings
from assistant.core.resources import package_path
from assistant.evaluation.completejourney import (CUSTOMERS_FILE, EVENTS_FILE, DerivedCatalog, customer_segments,
                                                  derive_catalog, sample_catalog, write_catalog)
from assistant.evaluation.metrics import (RequestCase, RequestSetResult, default_requests_path, evaluate_requests,
                                          load_request_cases, ranking_modes)
from assistant.index import Progress

STORES = ("demo", "completejourney")
COMPLETEJOURNEY = "completejourney"


def completejourney_requests_path() -> Path:
    """The labelled dialogues on the Complete Journey grocery (evaluation/data/completejourney_requests.jsonl)."""
    return package_path("assistant.evaluation", "data", "completejourney_requests.jsonl")


def requests_path(store: str) -> Path:
    """The labelled request set shipped for `store`."""
    return completejourney_requests_path() if store == COMPLETEJOURNEY else default_requests_path()


def rule_categories(cases: Sequence[RequestCase]) -> list[str]:
    """Every category the cases' relevance rules name, sorted."""
    return sorted({c for case in cases for rules in (case.relevant, case.bonus) for c in rules.get("category_any", ())})


@dataclass
class PreparedStore:
    """A store ready to be measured: the settings that serve it and what preparing it did."""

    store: str
    settings: Settings
    products: int
    notes: list[str] = field(default_factory=list)


def prepare_completejourney(settings: Settings, source: str | Path, sample: int | None = None,
                            cases: Sequence[RequestCase] = (), progress: Progress | None = None) -> PreparedStore:
    """Derive the catalog, publish its index (when it changed) and fit its CF model (when the index was
    rebuilt or none exists); returns settings serving the index `completejourney`."""
    from assistant.ingest.catalog import read_catalog
    from assistant.service.publishing import index_is_current, publish_products

    settings = settings.with_overrides(index_name=COMPLETEJOURNEY)
    catalog: DerivedCatalog = derive_catalog(source)
    notes = [catalog.summary()]
    if sample and sample < len(catalog.products):
        catalog = sample_catalog(catalog, sample, rule_categories(cases))
        notes.append(f"sample: {len(catalog.products)} products (the dialogues' categories first, then the "
                     f"most bought)")
    path = write_catalog(catalog, Path(settings.state_dir) / COMPLETEJOURNEY / "catalog.csv")
    products, report = read_catalog([path], limits=settings.limits)
    rebuilt = False
    if not index_is_current(settings, products):
        started = time.perf_counter()
        publish_products(settings, products, report, progress)
        rebuilt = True
        notes.append(f"index {COMPLETEJOURNEY} built in {time.perf_counter() - started:.0f} s")
    if rebuilt or not cf_model_exists(settings):
        notes.append(fit_completejourney_cf(settings, source, {p.id for p in products}))
    return PreparedStore(COMPLETEJOURNEY, settings, len(products), notes)


def cf_model_exists(settings: Settings) -> bool:
    from assistant.service.assistant import cf_model_dir
    folder = cf_model_dir(settings)
    return folder.is_symlink() or folder.exists()


def completejourney_log(settings: Settings, source: str | Path, products: set[str] | None = None):
    """The store's purchases of `products` (default: all) and {customer: segment} for the households with
    demographics, customer ids pseudonymised."""
    import numpy as np

    from assistant.ingest.customers import read_events
    from assistant.privacy.keys import forgotten, pseudonymizer

    pseudonymize = pseudonymizer(settings.state_dir)
    log = read_events([Path(source) / EVENTS_FILE], pseudonymize, forgotten=forgotten(settings.state_dir),
                      limits=settings.limits)
    if products is not None:
        log = log.subset(np.isin(log.products.astype(str), sorted(products)))
    return log, {pseudonymize(c): s for c, s in customer_segments(source).items()}


def fit_completejourney_cf(settings: Settings, source: str | Path, products: set[str] | None = None) -> str:
    """Fit the store's CF model on its purchases of `products` (default: all), chosen as `aisle cf fit`
    chooses (`cf_model` setting), and save it beside its index; returns a one-line note."""
    from assistant.behaviour.selection import fit_store_model
    from assistant.privacy.keys import forgotten
    from assistant.service.assistant import cf_model_dir

    log, segments = completejourney_log(settings, source, products)
    model, chosen = fit_store_model(log, segments, settings.cf_model)
    model.save(cf_model_dir(settings), forgotten=forgotten(settings.state_dir))
    return (f"{chosen} CF model fitted in {model.fit_seconds:.1f} s on {len(model.data.users)} "
            f"households ({len(segments)} with demographics, from {CUSTOMERS_FILE}) and {len(log)} purchases")


@dataclass
class StoreResult:
    """One store's figures, mode by mode."""

    store: str
    index: str
    products: int
    results: list[RequestSetResult]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"store": self.store, "index": self.index, "products": self.products, "seconds": round(self.seconds, 1),
                "notes": self.notes, "results": [r.to_dict() for r in self.results]}


def evaluate_store(prepared: PreparedStore, cases: Sequence[RequestCase], k: int = 5,
                   with_llm: bool = False) -> StoreResult:
    """Content-only, CF-only and the hybrid (and optionally the hybrid with the LLM rerank) on one store."""
    from assistant.service.assistant import Assistant

    started = time.perf_counter()
    assistant = Assistant(prepared.settings)
    base = replace(assistant.settings.fusion, preference=False)  # the hand-tuned weights, as tuned
    results = [evaluate_requests(assistant, cases, fusion, mode, k) for mode, fusion in ranking_modes(base).items()]
    notes = list(prepared.notes)
    if assistant.preference.version:
        results.append(evaluate_requests(assistant, cases, replace(base, preference=True), "hybrid+preference", k))
        notes.append(f"hybrid+preference: the published preference model {assistant.preference.version}")
    else:
        notes.append("no preference model for this index (aisle rank fit): no hybrid+preference row")
    if with_llm:
        results.append(evaluate_requests(assistant, cases, base, "hybrid + LLM", k, use_llm=True))
    return StoreResult(prepared.store, prepared.settings.index_name, len(assistant.index.products), results,
                       time.perf_counter() - started, notes)


def format_stores(stores: Sequence[StoreResult], k: int = 5) -> str:
    """Every store's modes side by side, one line per (store, mode)."""
    head = (f"{'store':<17}{'mode':<18}{'hard ok':>8}{'NDCG@' + str(k):>8}{'P@' + str(k):>7}{'seg fit':>8}"
            f"{'parse':>7}{'NDCG en':>8}{'NDCG zh':>8}{'honest':>8}")
    lines = [head, "-" * len(head)]
    for s in stores:
        for r in s.results:
            honest = "n/a" if r.honest is None else f"{r.honest:.2f}"
            lines.append(f"{s.store:<17}{r.mode:<18}{r.hard_satisfaction:>8.3f}{r.ndcg:>8.4f}{r.precision:>7.3f}"
                         f"{r.segment_fit:>8.3f}{r.parse_accuracy:>7.3f}{r.per_language.get('en', float('nan')):>8.4f}"
                         f"{r.per_language.get('zh', float('nan')):>8.4f}{honest:>8}")
    for s in stores:
        if not s.results:
            continue
        first = s.results[0]
        lines.append(f"{s.store}: {first.requests} graded + {first.infeasible} infeasible requests on "
                     f"{s.products} products (index {s.index}), {s.seconds:.0f} s")
        lines.extend(f"  {note}" for note in s.notes)
    lines.append("hard ok = share of products shown as matches meeting every hard constraint (alternatives "
                 "are marked); parse = share of expected fields the parser found; honest = share of infeasible requests answered with 0 exact matches "
                 "(n/a: the answer does not report a match count)")
    return "\n".join(lines)


def store_cases(store: str, path: Path | None = None) -> list[RequestCase]:
    """The labelled requests of `store` (or those in `path`)."""
    return load_request_cases(path or requests_path(store))


def demo_cf_selection():
    """What `aisle cf fit` chooses on the demo store's log (read with raw ids): a `Selection`."""
    from assistant.behaviour.selection import select_model
    from assistant.demo import customers_path, events_path
    from assistant.ingest.customers import read_customers, read_events

    log = read_events([events_path()], lambda raw: raw)
    profiles, _ = read_customers([customers_path()], lambda raw: raw)
    return select_model(log, {c: p.segment for c, p in profiles.items()})


def write_demo_cf_choice() -> str:
    """Re-derive the demo store's shipped CF choice (assistant/demo/data/cf_choice.json) after its data
    changed; returns the choice's label. Run: python -c "from assistant.evaluation.stores import
    write_demo_cf_choice as w; print(w())"."""
    import json

    from assistant.demo import cf_choice_path
    selection = demo_cf_selection()
    cf_choice_path().write_text(json.dumps({"choice": selection.chosen.to_dict(), "selection": selection.to_dict()},
                                           indent=2) + "\n", encoding="utf-8")
    return selection.chosen.label()
