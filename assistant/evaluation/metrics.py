"""Offline evaluation: ranking metrics and the temporal leave-last-out protocol for CF models."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np

from assistant.behaviour import CFModel, Interactions, make_cf_model
from assistant.behaviour.split import Split, leave_last_out  # noqa: F401  (re-exported)
from assistant.core.resources import package_path
from assistant.understand.store import color_accepts


def recall_at_k(rank: int, k: int) -> float:
    """1 when the single relevant item is within the top k (rank is 1-based)."""
    return 1.0 if rank <= k else 0.0


def ndcg_at_k(rank: int, k: int) -> float:
    """NDCG@k of one relevant item at `rank` (1-based): 1 / log2(rank + 1) inside the top k."""
    return 1.0 / math.log2(rank + 1) if rank <= k else 0.0


def reciprocal_rank(rank: int) -> float:
    return 1.0 / rank


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


def heldout_scores(model: CFModel, data: Interactions, targets: Mapping[str, str],
                   batch: int = 512) -> Iterator[tuple[list[str], np.ndarray, np.ndarray]]:
    """(shoppers, their training rows, scores) in batches for every shopper whose held-out product is
    in the training data; products a shopper already has score -inf."""
    users = [u for u in targets if u in data.user_index and targets[u] in data.item_index]
    rows_index = np.array([data.user_index[u] for u in users], dtype=np.int64)
    for start in range(0, len(users), batch):
        rows = rows_index[start:start + batch]
        scores = model.score_rows(data.profile[rows], rows)
        scores[data.seen[rows].nonzero()] = -np.inf  # never recommend what the shopper has seen
        yield users[start:start + batch], rows, scores


def evaluate_model(name: str, data: Interactions, targets: Mapping[str, str], k: int = 10,
                   params: Mapping | None = None) -> ModelResult:
    """Fit `name` on the training interactions and rank each shopper's held-out product."""
    model = make_cf_model(name, **(params or {}))
    started = time.perf_counter()
    model.fit(data)
    return rank_heldout(model, targets, k, name, time.perf_counter() - started)[0]


def rank_heldout(model: CFModel, targets: Mapping[str, str], k: int = 10, name: str = "",
                 fit_seconds: float = 0.0) -> tuple[ModelResult, np.ndarray]:
    """A fitted model's figures on the held-out products, and the NDCG@k of each evaluated shopper (in
    `targets` order, shoppers whose product the training data lacks left out)."""
    data = model.trained
    users: list[str] = []
    ranks, segments, shown = [], [], set()
    for batch_users, batch, scores in heldout_scores(model, data, targets):
        users.extend(batch_users)
        for r, user_row in enumerate(batch):
            user = batch_users[r]
            target = data.item_index[targets[user]]
            ranks.append(int(np.sum(scores[r] > scores[r, target])) + 1)
            segments.append(data.segments[user_row])
            shown.update(np.argpartition(-scores[r], k)[:k].tolist())
    ranks_arr = np.array(ranks)
    ndcgs = np.array([ndcg_at_k(r, k) for r in ranks])
    per_segment = {s: float(ndcgs[np.array(segments) == s].mean()) for s in sorted(set(segments)) if s}
    return ModelResult(name or model.name, float(np.mean(ranks_arr <= k)) if ranks else 0.0,
                       float(ndcgs.mean()) if ranks else 0.0,
                       float(np.mean(1.0 / ranks_arr)) if ranks else 0.0,
                       len(shown) / max(len(data.items), 1), fit_seconds, len(users), per_segment), ndcgs


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


# ---------------------------------------------------------------------------- labelled requests


@dataclass(frozen=True)
class RequestCase:
    """One labelled request: the shopper's turns, what the parser should find, the hard constraints every
    answer must meet, and the relevance rules (by product fields) that grade the answers."""

    id: str
    segment: str
    language: str
    turns: tuple[str, ...]
    expect: dict
    hard: dict
    relevant: dict
    bonus: dict = field(default_factory=dict)
    infeasible: bool = False  # no product meets `hard` and `relevant`: the honest answer says so


def default_requests_path() -> Path:
    """The labelled requests on the demo store shipped with the package (evaluation/data/requests.jsonl)."""
    return package_path("assistant.evaluation", "data", "requests.jsonl")


def load_request_cases(path) -> list[RequestCase]:
    """Read a JSONL file of labelled requests (the demo store's: `default_requests_path()`)."""
    import json

    cases = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(RequestCase(row["id"], row["segment"], row["language"], tuple(row["turns"]),
                                     row.get("expect", {}), row.get("hard", {}), row["relevant"],
                                     row.get("bonus") or {}, bool(row.get("infeasible", False))))
    return cases


def _lower(values) -> set[str]:
    return {str(v).lower() for v in values}


def matches_hard(product, hard: Mapping) -> bool:
    """True when a Product meets every hard constraint of a labelled request."""
    color, brand = product.color.lower(), product.brand.lower()
    checks = {
        "price_min": lambda v: product.price >= v,
        "price_max": lambda v: product.price <= v,
        "colors": lambda v: any(color_accepts(c, color) for c in v),
        "exclude_colors": lambda v: not any(color_accepts(c, color) for c in v),
        "sizes": lambda v: bool(_lower(product.sizes) & _lower(v)),
        "brands": lambda v: brand in _lower(v),
        "exclude_brands": lambda v: brand not in _lower(v),
        "in_stock_only": lambda v: product.in_stock or not v,
        "exclude_terms": lambda v: not any(t.lower() in " ".join([product.title, product.description,
                                                                   *product.tags]).lower() for t in v),
    }
    return all(checks[key](value) for key, value in hard.items())


def matches_rules(product, rules: Mapping) -> bool:
    """True when a Product meets every relevance rule (each rule is any-of its values)."""
    category = product.category.lower()
    checks = {
        "category_any": lambda v: any(category == c or category.startswith(c + " > ") for c in _lower(v)),
        "audience_any": lambda v: product.audience.lower() in _lower(v),
        "color_any": lambda v: product.color.lower() in _lower(v),
        "brand_any": lambda v: product.brand.lower() in _lower(v),
        "title_any": lambda v: any(w in product.title.lower() for w in _lower(v)),
        "tags_any": lambda v: bool(_lower(product.tags) & _lower(v)),
        "text_any": lambda v: any(w in (product.title + " " + product.description).lower() for w in _lower(v)),
    }
    return all(checks[key](value) for key, value in rules.items())


def gain(product, case: RequestCase) -> int:
    """0 not relevant, 1 relevant, 2 relevant and matching the bonus rules."""
    if not matches_rules(product, case.relevant):
        return 0
    return 2 if case.bonus and matches_rules(product, case.bonus) else 1


def graded_ndcg(gains: Sequence[int], ideal: Sequence[int], k: int) -> float:
    """NDCG@k with graded gains (2^g - 1) against the ideal ordering's gains."""
    def dcg(values: Sequence[int]) -> float:
        return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(values[:k]))
    best = dcg(sorted(ideal, reverse=True))
    return dcg(gains) / best if best > 0 else 0.0


def parsed_fields_match(expect: Mapping, state) -> tuple[int, int]:
    """(fields matched, fields expected) of a conversation's merged state against `expect`."""
    matched = 0
    for key, wanted in expect.items():
        got = getattr(state, key, None)
        if isinstance(wanted, list):
            ok = _lower(wanted) <= _lower(got or ())
        elif isinstance(wanted, float) or isinstance(got, float):
            ok = got is not None and wanted is not None and abs(float(got) - float(wanted)) < 1e-6
        else:
            ok = got == wanted
        matched += bool(ok)
    return matched, len(expect)


@dataclass
class RequestSetResult:
    """One ranking mode's figures on the labelled request set."""

    mode: str
    hard_satisfaction: float  # share of products shown as matches meeting every hard constraint
    ndcg: float
    precision: float
    segment_fit: float  # mean category prior of the shown products for the request's segment
    parse_accuracy: float  # share of expected parsed fields found
    requests: int
    per_language: dict[str, float] = field(default_factory=dict)  # language -> NDCG
    per_segment: dict[str, float] = field(default_factory=dict)  # segment -> NDCG
    failures: list[str] = field(default_factory=list)  # request ids with a hard-constraint violation
    shown: dict[str, list[str]] = field(default_factory=dict)  # request id -> product ids shown, best first
    infeasible: int = 0  # infeasible requests: graded apart, by `honest` only
    honest: float | None = None  # share of them whose answer reported 0 exact matches (None: not reported)

    def to_dict(self) -> dict:
        return {"mode": self.mode, "hard_satisfaction": round(self.hard_satisfaction, 4), "ndcg": round(self.ndcg, 4),
                "precision": round(self.precision, 4), "segment_fit": round(self.segment_fit, 4),
                "parse_accuracy": round(self.parse_accuracy, 4), "requests": self.requests,
                "per_language_ndcg": {k: round(v, 4) for k, v in self.per_language.items()},
                "per_segment_ndcg": {k: round(v, 4) for k, v in self.per_segment.items()},
                "hard_failures": self.failures, "infeasible": self.infeasible,
                "honest": None if self.honest is None else round(self.honest, 4)}


def ranking_modes(base) -> dict:
    """The modes compared side by side: content-only, CF-only and the hybrid (all behind the same filters)."""
    from dataclasses import replace
    return {
        "content-only": replace(base, method="weighted", content=1.0, cf=0.0, attributes=0.0, cf_pool=0,
                                prior_pool=0, diversity=0.0),
        "cf-only": replace(base, method="weighted", content=0.0, cf=1.0, attributes=0.0, content_pool=0,
                           prior_pool=0, diversity=0.0),
        "hybrid": base,
    }


def exact_matches(answer) -> int | None:
    """How many products the answer says meet every constraint (`answer.matched`), None when it says nothing."""
    matched = getattr(answer, "matched", None)
    return None if matched is None or isinstance(matched, bool) else int(matched)


def evaluate_requests(assistant, cases: Sequence[RequestCase], fusion, mode: str = "hybrid",
                      k: int = 5, use_llm: bool = False) -> RequestSetResult:
    """Run every labelled conversation through `assistant` with the given fusion (and optionally the LLM
    rerank) and grade the last answer. An infeasible case (nothing in the catalog meets it) is left out of
    every figure but `honest`: whether the answer reported no exact match (`exact_matches(answer) == 0`)."""
    from assistant.understand import Conversation

    segments = assistant.segments
    products = assistant.index.products
    rows = []
    shown_ids: list[tuple[RequestCase, list[str]]] = []
    honest: list[int | None] = []
    for case in cases:
        conversation = Conversation()
        rec = None
        for message in case.turns:
            rec = assistant.recommend(message, conversation, segment=case.segment, k=k, fusion=fusion,
                                      use_llm=use_llm)
        shown = [c.product for c in rec.items]
        if case.infeasible:
            honest.append(exact_matches(rec))
            shown_ids.append((case, [p.id for p in shown]))
            continue
        ideal = [gain(p, case) for p in products if matches_hard(p, case.hard)]
        gains = [gain(p, case) for p in shown]
        hard_ok = [matches_hard(p, case.hard) for p in shown[:rec.matched]]  # the alternatives are marked
        fit = [segments[case.segment].category_prior(p.category) for p in shown] if case.segment in segments else []
        matched, expected = parsed_fields_match(case.expect, conversation.state)
        rows.append((case, graded_ndcg(gains, ideal, k), sum(g > 0 for g in gains) / k, hard_ok, fit,
                     matched, expected))
        shown_ids.append((case, [p.id for p in shown]))

    def mean(values) -> float:
        values = list(values)
        return float(np.mean(values)) if values else 0.0
    shown_ok = [ok for row in rows for ok in row[3]]
    return RequestSetResult(
        mode, mean(shown_ok) if shown_ok else 1.0, mean(r[1] for r in rows), mean(r[2] for r in rows),
        mean(f for r in rows for f in r[4]), sum(r[5] for r in rows) / max(sum(r[6] for r in rows), 1), len(rows),
        {lang: mean(r[1] for r in rows if r[0].language == lang) for lang in sorted({r[0].language for r in rows})},
        {seg: mean(r[1] for r in rows if r[0].segment == seg) for seg in sorted({r[0].segment for r in rows})},
        [r[0].id for r in rows if not all(r[3])], {case.id: ids for case, ids in shown_ids}, len(honest),
        None if not honest or None in honest else mean(m == 0 for m in honest))


def format_request_table(results: Sequence[RequestSetResult], k: int = 5) -> str:
    """Modes side by side, one per line."""
    head = (f"{'mode':<14}{'hard ok':>9}{'NDCG@' + str(k):>9}{'P@' + str(k):>8}{'seg fit':>9}{'parse':>8}"
            f"{'NDCG en':>9}{'NDCG zh':>9}")
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r.mode:<14}{r.hard_satisfaction:>9.3f}{r.ndcg:>9.4f}{r.precision:>8.3f}{r.segment_fit:>9.3f}"
                     f"{r.parse_accuracy:>8.3f}{r.per_language.get('en', float('nan')):>9.4f}"
                     f"{r.per_language.get('zh', float('nan')):>9.4f}")
    if results:
        lines.append(f"({results[0].requests} labelled requests; hard ok = share of shown products meeting every "
                     f"hard constraint; parse = share of expected fields the parser found)")
    return "\n".join(lines)
