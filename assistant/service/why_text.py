"""Why a product ranked where it did, in one sentence for store staff, built from the turn's trace only:
"Ranked 1st: matches 'waterproof' and 'jacket'; size 6-7Y for a 6-year-old; $24.99 is well inside the $40
budget; rated 4.0 by 16 shoppers; bought by shoppers with baskets like this one". The numeric trace follows
it in `why` (every figure here is in the trace too)."""

from __future__ import annotations

from typing import Sequence

from assistant.core.money import format_price
from assistant.ingest.catalog import Product
from assistant.rank.attributes import fits_age
from assistant.rank.breakdown import ScoreBreakdown
from assistant.understand import Request

WELL_INSIDE = 0.75  # a price at most this share of the budget is "well inside" it


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _quoted(words: Sequence[str]) -> str:
    quoted = [f"'{w}'" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _budget(product: Product, request: Request) -> str:
    price = format_price(product.price, request.currency)
    if request.price_max is not None:
        budget = format_price(request.price_max, request.currency)
        if product.price > request.price_max:
            return f"{price} is over the {budget} budget"
        inside = "well inside" if product.price <= WELL_INSIDE * request.price_max else "inside"
        return f"{price} is {inside} the {budget} budget"
    if request.price_min is not None:
        return f"{price} is at least the {format_price(request.price_min, request.currency)} asked for"
    if request.cheap:
        return f"{price} for a shopper who asked for something cheap"
    return ""


def _fits(product: Product, request: Request, breakdown: ScoreBreakdown) -> list[str]:
    terms = breakdown.attributes.terms
    out = []
    if request.colors and terms.get("color_match", (0, 0))[1] > 0:
        out.append(f"colour {product.color} as asked")
    if terms.get("size_match", (0, 0))[1] > 0:
        if request.sizes:
            wanted = {x.upper() for x in request.sizes}
            out.append("size " + ", ".join(s for s in product.sizes if s.upper() in wanted) + " as asked")
        elif request.age_years is not None:
            fitting = [s for s in product.sizes if fits_age(s, request.age_years)]
            out.append(f"size {', '.join(fitting)} for a {request.age_years}-year-old")
    if request.brands and terms.get("brand_affinity", (0, 0))[1] >= 1.0:
        out.append(f"brand {product.brand} as asked")
    elif terms.get("brand_affinity", (0, 0))[1] > 0:
        out.append(f"a brand ({product.brand}) this shopper often buys")
    if request.audience and terms.get("audience_match", (0, 0))[1] >= 1.0 and product.audience:
        out.append(f"made for {product.audience}")
    return out


def why_sentence(rank: int, product: Product, breakdown: ScoreBreakdown, request: Request,
                 matched: Sequence[str], segment: str) -> str:
    """One sentence on why a shown product stands at `rank` (from its breakdown and the parsed request)."""
    if breakdown.relaxes:
        head = f"Shown {ordinal(rank)} as an alternative, not an exact match ({'; '.join(breakdown.relaxes)})"
    else:
        head = f"Ranked {ordinal(rank)}"
    parts = [r for r in breakdown.rules if r.startswith(("pin", "boost"))]
    if matched:
        parts.append(f"matches {_quoted(list(matched)[:4])}")
    elif breakdown.content_similarity == breakdown.content_similarity and breakdown.content_similarity > 0:
        parts.append(f"close in meaning to the request (similarity {breakdown.content_similarity:.2f})")
    parts += _fits(product, request, breakdown)
    budget = _budget(product, request)
    if budget and not (breakdown.relaxes and "over" in budget):  # the alternative's head already says so
        parts.append(budget)
    if product.rating is not None and product.rating_count:
        parts.append(f"rated {product.rating:.1f} by {product.rating_count} shoppers")
    if breakdown.cf_evidence:
        parts.append(breakdown.cf_evidence.replace("; ", ", ").replace(" yours ", " this shopper's ").rstrip("."))
    elif breakdown.cf_score > 0:
        parts.append("bought by shoppers with baskets like this one")
    if "segment prior" in breakdown.sources:
        parts.append(f"a category the {segment.replace('_', ' ')} segment favours")
    if breakdown.rerank is not None and breakdown.rank_before_diversity != rank:
        parts.append(f"the language model judged it {breakdown.rerank.llm_yes:.0%} likely to suit")
    if breakdown.popularity_cap:
        parts.append(breakdown.popularity_cap)
    return head + (": " + "; ".join(parts) if parts else "") + "."


def why_not_sentence(stage: str, why: str) -> str:
    """The one-line answer of why-not: which stage kept the product out, and why."""
    if stage == "shown":
        return f"It was shown: {why}."
    return f"Not shown — {stage}: {why}."
