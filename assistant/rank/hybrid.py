"""Hybrid ranking: hard filters, a candidate pool from content + CF + segment priors, score fusion,
and a diversity step. Plain data in, `RankResult` out; the facade supplies the scores it needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Collection, Mapping, Sequence

import numpy as np

from assistant.rank.attributes import INCOMPATIBLE_AUDIENCES, AttributeScore, ProductFeatures, score_product
from assistant.core.money import format_amount, format_price
from assistant.core.scores import min_max
from assistant.ingest.catalog import Product
from assistant.core.config import FusionSettings
from assistant.understand import Request
from assistant.rank.breakdown import ScoreBreakdown
from assistant.rank.relax import alternatives, related_products
from assistant.rank.rules import MerchRule, blocking_rule, boosts, pin_first, pins, unblocked
from assistant.rank.scoring import RRF_K, Pool, Scorer, TurnSignals, WeightedSum, fuse_rrf, fuse_weighted
from assistant.rank.segments import Segment

__all__ = ["RRF_K", "Candidate", "RankContext", "RankResult", "fuse_rrf", "fuse_weighted", "rank"]



@dataclass
class Candidate:
    """One ranked product with its full score breakdown."""

    product: Product
    score: float
    rank: int
    breakdown: ScoreBreakdown = field(default_factory=ScoreBreakdown.unscored)

    def to_dict(self) -> dict:
        return {"rank": self.rank, "score": round(self.score, 4), "product_id": self.product.id,
                "title": self.product.title, "breakdown": self.breakdown.to_dict()}


@dataclass
class RankResult:
    """The ranked list and everything staff need to see why."""

    candidates: list[Candidate]
    filter_counts: dict[str, int]  # filter -> products it removed (each product blamed on its first filter)
    blocked: Mapping[str, str]  # product id -> "filter: reason"
    allowed: int
    pool: list[tuple[str, float]]  # every pooled product id with its fused score, best first
    pool_details: dict[str, ScoreBreakdown]  # product id -> breakdown, for every pooled product
    segment: str
    fusion: FusionSettings
    content_scores: np.ndarray  # similarity of every catalog product to the query (for "why not")
    k: int = 5
    matched: int = -1  # how many of `candidates` meet every constraint (the rest are marked alternatives)
    relevance_floor: float | None = None  # the least content similarity of a related product
    scoring: str = WeightedSum.name  # which scorer ranked the pool, and how it went

    def __post_init__(self) -> None:
        if self.matched < 0:
            self.matched = len(self.candidates)

    @property
    def relaxed(self) -> list[str]:
        """What the shown alternatives relax, each once, in order."""
        return list(dict.fromkeys(r for c in self.candidates for r in c.breakdown.relaxes))


@dataclass(frozen=True)
class RankContext:
    """The catalog and the scores one ranking works from.

    `content_scores[i]` is the cosine similarity of product i to the query (-inf where not computed);
    `cf_scores` maps product id -> behavioural score (higher is better) for the shopper or segment;
    `popularity` maps product id -> shoppers who interacted with it (the CF model's `item_popularity()`),
    needed only when `fusion.max_popular_share` caps the most popular products; `excluded_ids` are never
    shown (turned down, or already owned)."""

    products: Sequence[Product]
    features: ProductFeatures
    vectors: np.ndarray
    content_scores: np.ndarray
    cf_scores: Mapping[str, float] = field(default_factory=dict)
    brand_affinity: Mapping[str, float] | None = None
    popularity: Mapping[str, float] | None = None
    excluded_ids: Collection[str] = frozenset()
    relevance_floor: float | None = None  # products less similar to a stated need are not related to it...
    relevance_scores: np.ndarray | None = None  # ...by this similarity (default: `content_scores`)
    lexical_scores: np.ndarray | None = None  # BM25 of the need's words (a product holding none is less related)
    scorer: Scorer | None = None  # scores the pool (None: the hand-tuned `WeightedSum` of the fusion settings)
    signals: TurnSignals = field(default_factory=TurnSignals)  # how specific the turn is, the shopper's history
    rules: Sequence[MerchRule] = ()  # the merchandising rules that hold for this turn (rank/rules.py)


# ---------------------------------------------------------------------------- hard filters


@dataclass(frozen=True)
class Check:
    """One hard constraint over the catalog: which products pass it, why one failed (for staff) and what
    a shopper is told when a failing product is shown as an alternative ("$156.99, over your $80")."""

    name: str
    keep: np.ndarray  # bool per product
    reason: Callable[[Product], str]
    label: Callable[[Product], str]
    relaxable: bool = True  # "already shown or declined" is never relaxed


def constraint_checks(products: Sequence[Product], features: ProductFeatures, request: Request,
                      excluded_ids: Collection[str] = frozenset()) -> list[Check]:
    """The hard constraints of a request, in the order a product is blamed for the first it fails."""
    checks: list[Check] = []
    zh = request.language == "zh"
    money = lambda value: format_price(value, request.currency)  # noqa: E731
    amount = lambda value: format_amount(value, request.currency)  # noqa: E731

    if excluded_ids:
        checks.append(Check("already shown or declined", np.array([p.id not in excluded_ids for p in products]),
                            lambda p: "shown earlier in this conversation, declined, or the shopper already has it",
                            lambda p: "", False))
    prices = np.array([p.price for p in products])
    if request.price_min is not None or request.price_max is not None:
        low = request.price_min if request.price_min is not None else -np.inf
        high = request.price_max if request.price_max is not None else np.inf

        def over(p: Product) -> str:
            if request.price_max is not None and p.price > request.price_max:
                return (f"{money(p.price)}，超出您的{amount(request.price_max)}预算" if zh else
                        f"{money(p.price)}, over your {amount(request.price_max)}")
            return (f"{money(p.price)}，低于您的{amount(request.price_min)}" if zh else
                    f"{money(p.price)}, under your {amount(request.price_min)} minimum")
        checks.append(Check("budget", (prices >= low) & (prices <= high),
                            lambda p: f"price {money(p.price)} is outside {_budget_text(request)}", over))
    if request.in_stock_only:
        checks.append(Check("in stock", np.array([p.in_stock for p in products]), lambda p: "out of stock",
                            lambda p: "缺货" if zh else "out of stock"))
    if request.colors:
        wanted = set(request.color_values) or {c.lower() for c in request.colors}
        asked = " or ".join(request.colors)
        checks.append(Check("colour", np.array([p.color.lower() in wanted for p in products]),
                            lambda p: f"colour {p.color or '(none given)'} is not {asked}",
                            lambda p: (f"{p.color or '颜色未标明'}，不是{asked}" if zh else
                                       f"{p.color or 'colour not given'}, not {asked}")))
    if request.exclude_colors:
        unwanted = set(request.exclude_color_values) or {c.lower() for c in request.exclude_colors}
        checks.append(Check("excluded colour", np.array([p.color.lower() not in unwanted for p in products]),
                            lambda p: f"colour {p.color} was excluded",
                            lambda p: f"{p.color}（您不要的颜色）" if zh else f"{p.color}, a colour you ruled out"))
    if request.sizes:
        wanted_sizes = {s.upper() for s in request.sizes}
        sizes_text = " or ".join(sorted(wanted_sizes))
        checks.append(Check("size", np.array([bool({s.upper() for s in p.sizes} & wanted_sizes) for p in products]),
                            lambda p: f"sizes {', '.join(p.sizes) or '(none)'} do not include {sizes_text}",
                            lambda p: f"没有{sizes_text}码" if zh else f"no size {sizes_text}"))
    if request.age_years is not None:
        age = request.age_years

        def fits(ranges: tuple[tuple[int, int], ...], months_only: bool) -> bool:
            if months_only:
                return age < 2  # sized in months only: a baby's, not a 4-year-old's
            return not ranges or any(low <= age <= high for low, high in ranges)
        checks.append(Check("age", np.array([fits(r, m) for r, m in zip(features.age_ranges, features.months_only)]),
                            lambda p: f"no size for a {age}-year-old ({', '.join(p.sizes)})",
                            lambda p: f"没有{age}岁的尺码" if zh else f"no size for a {age}-year-old"))
    if request.audience in INCOMPATIBLE_AUDIENCES:
        bad = INCOMPATIBLE_AUDIENCES[request.audience]
        checks.append(Check("audience", np.array([audience not in bad for audience in features.audience]),
                            lambda p: f"made for {p.audience}, the shopper asked for {request.audience}",
                            lambda p: (f"适用于{p.audience}" if zh else f"made for {p.audience}")))
    if request.exclude_brands:
        unwanted_brands = {b.lower() for b in request.exclude_brands}
        checks.append(Check("excluded brand", np.array([p.brand.lower() not in unwanted_brands for p in products]),
                            lambda p: f"brand {p.brand} was excluded",
                            lambda p: f"{p.brand}（您不要的品牌）" if zh else f"{p.brand}, a brand you ruled out"))
    if request.exclude_terms:
        terms = [t.lower() for t in request.exclude_terms if t.strip()]  # substring: "leather" also hits "faux leather"
        checks.append(Check("excluded term", np.array([not any(term in text for term in terms) for text in features.text]),
                            lambda p: f"mentions {', '.join(request.exclude_terms)}",
                            lambda p: (f"含有{'、'.join(request.exclude_terms)}" if zh else
                                       f"mentions {', '.join(request.exclude_terms)}")))
    return checks


class BlockedReasons(Mapping[str, str]):
    """Product id -> "filter: reason" for every product a filter removed, each blamed on the first it
    failed; the reason is worded only when asked for (a request can remove most of a large catalog)."""

    def __init__(self, products: Sequence[Product], checks: Sequence[Check], first_failed: np.ndarray,
                 positions: Mapping[str, int]) -> None:
        self._products, self._checks, self._failed, self._positions = products, checks, first_failed, positions

    def __getitem__(self, product_id: str) -> str:
        position = self._positions.get(product_id)
        if position is None or self._failed[position] < 0:
            raise KeyError(product_id)
        check = self._checks[int(self._failed[position])]
        return f"{check.name}: {check.reason(self._products[position])}"

    def __iter__(self):
        return (self._products[i].id for i in np.flatnonzero(self._failed >= 0))

    def __len__(self) -> int:
        return int((self._failed >= 0).sum())


def hard_filters(products: Sequence[Product], features: ProductFeatures, request: Request,
                 excluded_ids: Collection[str] = frozenset(),
                 checks: Sequence[Check] | None = None) -> tuple[np.ndarray, dict[str, int], Mapping[str, str]]:
    """Apply every hard constraint; returns (allowed mask, removed count per filter, blocked reasons).

    A product is blamed on the first filter it fails, in the order of `constraint_checks`.
    """
    checks = list(checks) if checks is not None else constraint_checks(products, features, request, excluded_ids)
    allowed = np.ones(len(products), dtype=bool)
    first_failed = np.full(len(products), -1, dtype=np.int64)
    counts: dict[str, int] = {}
    for number, check in enumerate(checks):
        newly = allowed & ~check.keep
        counts[check.name] = int(newly.sum())
        first_failed[newly] = number
        allowed &= check.keep
    positions = features.positions or {p.id: i for i, p in enumerate(products)}
    return allowed, counts, BlockedReasons(products, checks, first_failed, positions)


def _budget_text(request: Request) -> str:
    low, high = request.price_min, request.price_max
    if low is not None and high is not None:
        return f"{format_price(low, request.currency)}–{format_price(high, request.currency)}"
    if high is not None:
        return f"the budget of {format_price(high, request.currency)}"
    return f"the minimum of {format_price(low, request.currency)}"


# ---------------------------------------------------------------------------- fusion


def diversify(order: list[str], scores: Mapping[str, float], vectors: Mapping[str, np.ndarray], k: int,
              penalty: float) -> list[str]:
    """Maximal marginal relevance: pick by score minus `penalty` × similarity to the already chosen."""
    if penalty <= 0:
        return order[:k]
    chosen: list[str] = []
    remaining = list(order[: max(k * 6, 30)])
    while remaining and len(chosen) < k:
        best, best_value = None, -np.inf
        for key in remaining:
            similarity = max((float(vectors[key] @ vectors[c]) for c in chosen), default=0.0)
            value = scores[key] - penalty * similarity
            if value > best_value:
                best, best_value = key, value
        chosen.append(best)
        remaining.remove(best)
    return chosen


# ---------------------------------------------------------------------------- popularity cap


def popularity_deciles(counts: Sequence[float]) -> np.ndarray:
    """Decile 1..10 of each count (10 = most popular): products sorted by count, ties by position, and
    the i-th of n (0-based) gets 1 + floor(10 · i / n)."""
    counts = np.asarray(counts, dtype=np.float64)
    order = np.argsort(counts, kind="stable")
    deciles = np.empty(len(counts), dtype=np.int64)
    deciles[order] = 1 + (10 * np.arange(len(counts))) // max(len(counts), 1)
    return deciles


def popular_head(ids: Sequence[str], popularity: Mapping[str, float]) -> set[str]:
    """The ids in the top popularity decile of `ids` that someone interacted with (a product missing from
    `popularity` counts 0, and is never head: in a sparse catalog, ties at 0 can reach the top decile)."""
    counts = [popularity.get(pid, 0) for pid in ids]
    deciles = popularity_deciles(counts)
    return {pid for pid, d, n in zip(ids, deciles, counts) if d == 10 and n > 0}


def popular_limit(share: float, k: int) -> int:
    """How many of the top k may come from the head: ceil(share · k)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"max_popular_share must be between 0 and 1, got {share!r}")
    return math.ceil(share * k - 1e-9)  # 0.3 · 10 is 3.0000000000000004 in floating point


def cap_popular(order: Sequence[str], head: Collection[str], k: int, share: float) -> list[str]:
    """The first k of `order` with at most ceil(share · k) from `head`: walking down the order, a head
    product past the limit is skipped; everything kept stays in its order. When fewer than k other
    products remain, skipped head products fill the list (in order), so it is never shorter."""
    limit = popular_limit(share, k)
    kept: list[str] = []
    skipped: list[str] = []
    used = 0
    for pid in order:
        if len(kept) == k:
            break
        if pid in head:
            if used >= limit:
                skipped.append(pid)
                continue
            used += 1
        kept.append(pid)
    if len(kept) < k:
        keep = set(kept) | set(skipped[: k - len(kept)])
        kept = [pid for pid in order if pid in keep]
    return kept


# ---------------------------------------------------------------------------- ranking


def rank(context: RankContext, request: Request, segment: Segment, fusion: FusionSettings = FusionSettings(),
         k: int = 5) -> RankResult:
    """Rank the catalog of `context` for one request and segment."""
    products, features, vectors = context.products, context.features, context.vectors
    content_scores, cf_scores, popularity = context.content_scores, context.cf_scores, context.popularity
    excluded_ids = set(context.excluded_ids)
    checks = constraint_checks(products, features, request, excluded_ids)
    keep = unblocked(products, context.rules)
    if keep is not None:  # staff's blocks come first and are never relaxed
        checks.insert(0, Check("merchandising rule", np.array(keep), lambda p: blocking_rule(p, context.rules).label(),
                               lambda p: "", False))
    allowed, counts, blocked = hard_filters(products, features, request, checks=checks)
    eligible = allowed.copy()  # meets every hard constraint (a pin needs no more)
    related = np.ones(len(products), dtype=bool)
    if context.relevance_floor is not None:
        similarity = content_scores if context.relevance_scores is None else context.relevance_scores
        related = related_products(similarity, context.relevance_floor, context.lexical_scores, allowed,
                                   features.category_codes)
        counts["not related to the request"] = int((allowed & ~related).sum())
        allowed = allowed & related
    positions = features.positions
    allowed_idx = np.flatnonzero(allowed)

    content = {}
    if len(allowed_idx):
        scores = content_scores[allowed_idx]
        finite = np.isfinite(scores)
        top = allowed_idx[finite][np.argsort(-scores[finite], kind="stable")[: fusion.content_pool]]
        content = {products[i].id: float(content_scores[i]) for i in top}
    cf = {pid: s for pid, s in sorted(cf_scores.items(), key=lambda kv: -kv[1])
          if pid in positions and allowed[positions[pid]]}
    cf = dict(list(cf.items())[: fusion.cf_pool])
    prior = {}
    if segment.category_priors and len(allowed_idx):
        prior_value = np.array([segment.category_prior(products[i].category) * features.rating[i]
                                for i in allowed_idx])
        top = allowed_idx[np.argsort(-prior_value, kind="stable")[: fusion.prior_pool]]
        prior = {products[i].id: float(segment.category_prior(products[i].category)) for i in top}

    pool_ids = list(dict.fromkeys([*content, *cf, *prior]))
    attribute: dict[str, AttributeScore] = {
        pid: score_product(products[positions[pid]], positions[pid], features, request, segment,
                              context.brand_affinity)
        for pid in pool_ids}
    # Content similarity for pooled products that came from CF or priors (computed over the whole catalog).
    content_all = {pid: float(content_scores[positions[pid]]) for pid in pool_ids
                   if np.isfinite(content_scores[positions[pid]])}
    sources = {"content": content_all, "cf": {pid: cf.get(pid, 0.0) for pid in pool_ids},
               "attributes": {pid: a.total for pid, a in attribute.items()}}
    pool = Pool(pool_ids, np.array([positions[pid] for pid in pool_ids], dtype=np.int64), sources, attribute,
                list(cf), frozenset(prior), context.relevance_scores, context.lexical_scores, popularity,
                context.signals)
    scored = (context.scorer or WeightedSum()).score(pool, fusion)
    fused = dict(scored.scores)
    boosted = boosts({pid: products[positions[pid]] for pid in pool_ids}, context.rules)
    for pid, by in boosted.items():
        fused[pid] = fused.get(pid, 0.0) + sum(r.boost for r in by)
    order = sorted(pool_ids, key=lambda pid: (-fused.get(pid, 0.0), pid))
    chosen = diversify(order, fused, {pid: vectors[positions[pid]] for pid in order}, k, fusion.diversity)
    held_back: set[str] = set()
    if fusion.max_popular_share is not None and popularity:
        head = popular_head([p.id for p in products], popularity)
        picked = set(chosen)
        capped = cap_popular([*chosen, *(pid for pid in order if pid not in picked)], head, k,
                             fusion.max_popular_share)
        held_back = picked - set(capped)
        chosen = capped
    pinned = [r for r in pins(context.rules) if r.product in positions and eligible[positions[r.product]]]
    chosen = pin_first(chosen, [r.product for r in pinned], k)

    normalised = {name: min_max(scores) for name, scores in sources.items()}
    details = {}
    for position, pid in enumerate(order, start=1):
        details[pid] = ScoreBreakdown(
            sources=[name for name, pool in (("content", content), ("cf", cf), ("segment prior", prior))
                     if pid in pool],
            content_similarity=round(content_all.get(pid, float("nan")), 4),
            content=round(normalised["content"].get(pid, 0.0), 4),
            cf_score=round(cf.get(pid, 0.0), 4),
            cf=round(normalised["cf"].get(pid, 0.0), 4),
            attributes=attribute[pid],
            fused=round(fused.get(pid, 0.0), 4),
            rank_before_diversity=position, preference=scored.explain.get(pid))
        details[pid].rules = [r.label() for r in boosted.get(pid, [])]
        if pid in held_back:
            details[pid].popularity_cap = (f"held back: a top-decile product over the cap of "
                                           f"{popular_limit(fusion.max_popular_share, k)} in {k}")
    for rule in pinned:
        if rule.product in chosen:  # a pinned product the pools had not found gets a breakdown of its own
            shown = details.setdefault(rule.product, ScoreBreakdown.unscored())
            shown.content_similarity = round(float(content_scores[positions[rule.product]]), 4)
            shown.rules = [rule.label(), *shown.rules]
    candidates = [Candidate(products[positions[pid]], fused.get(pid, 0.0), rank_, details[pid])
                  for rank_, pid in enumerate(chosen, start=1)]
    matched = len(candidates)
    for i, relaxes in alternatives(products, checks, related, content_scores, set(chosen), k - matched):
        breakdown = ScoreBreakdown.unscored()
        breakdown.content_similarity = round(float(content_scores[i]), 4)
        breakdown.relaxes = relaxes
        candidates.append(Candidate(products[i], 0.0, len(candidates) + 1, breakdown))
    return RankResult(candidates, counts, blocked, int(allowed.sum()),
                      [(pid, round(fused.get(pid, 0.0), 4)) for pid in order], details, segment.key, fusion,
                      content_scores, k, matched, context.relevance_floor, scored.note or scored.scorer)
