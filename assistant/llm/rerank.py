"""LLM rerank of the top-N hybrid candidates: P(Yes) that a product suits the request, blended with
the hybrid score. The prompt's shared part (instructions, segment, request) is encoded once and its KV
cache reused for every candidate; only the "Yes"/"No" logits are computed."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

from assistant.core.money import format_price
from assistant.ingest.catalog import Product
from assistant.rank.breakdown import RerankScore
from assistant.understand import Request
from assistant.llm.prompts import Template, load_template, quote, quote_shopper

_MARK = "\u2063PRODUCT\u2063"  # an invisible separator no tokenizer merges with data


@dataclass
class RerankOutcome:
    """The reranked candidates, each one's P(Yes), and how long it took."""

    candidates: list  # hybrid.Candidate, new order, ranks renumbered
    llm_scores: dict[str, float]
    seconds: float


def product_card(product: Product, description_chars: int = 240, currency: str = "") -> str:
    """The product as quoted data fields for a prompt (the description cut to `description_chars`)."""
    fields = [f"title «{quote(product.title, 160)}»", f"category «{quote(product.category.replace('>', '/'), 80)}»",
              f"price {format_price(product.price, currency)}"]
    for label, value in (("brand", product.brand), ("colour", product.color), ("audience", product.audience),
                         ("sizes", product.size.replace("|", ", "))):
        if value:
            fields.append(f"{label} «{quote(value, 80)}»")
    if product.tags:
        fields.append(f"features «{quote(', '.join(product.tags), 160)}»")
    if product.rating is not None:
        fields.append(f"rating {product.rating:.1f} of 5 from {product.rating_count} reviews")
    if product.description:
        fields.append(f"description «{quote(product.description, description_chars)}»")
    return "; ".join(fields)


def constraints_text(request: Request) -> str:
    """The hard constraints in words (already enforced; context for the judge)."""
    parts = []
    if request.price_max is not None:
        parts.append(f"price at most {format_price(request.price_max, request.currency)}")
    if request.price_min is not None:
        parts.append(f"price at least {format_price(request.price_min, request.currency)}")
    if request.price_target is not None:
        parts.append(f"price around {format_price(request.price_target, request.currency)}")
    if request.audience:
        parts.append(f"for {request.audience}")
    if request.age_years is not None:
        parts.append(f"for a {request.age_years}-year-old")
    if request.colors:
        parts.append("colour " + " or ".join(request.colors))
    if request.sizes:
        parts.append("size " + " or ".join(request.sizes))
    return quote("; ".join(parts) or "none", 300)


def split_prompt(lm, template: Template, **values: str) -> tuple[str, str]:
    """(shared prefix, per-product suffix template with {product}) of the chat prompt."""
    user = template.render("user", product=_MARK, **values)
    full = lm.chat_prompt(template.render("system"), user)
    prefix, _, suffix = full.partition(_MARK)
    return prefix, suffix


def yes_probability(log_yes: float, log_no: float) -> float:
    """P(Yes) among {Yes, No}."""
    return 1.0 / (1.0 + math.exp(log_no - log_yes))


def rerank(lm, request: Request, segment_name: str, candidates: Sequence, top_n: int, weight: float,
           history: str = "") -> RerankOutcome:
    """Rerank the first `top_n` candidates by (1 - weight) · standing + weight · P(Yes); the rest keep order.
    A candidate's standing is its place in the order it came in (1 first, 0 last), not its hybrid score: the
    order is the diversified one, which sorting by score would undo (weight 0 keeps it exactly)."""
    started = time.perf_counter()
    head, tail = list(candidates[:top_n]), list(candidates[top_n:])
    if not head:
        return RerankOutcome(list(candidates), {}, 0.0)
    template = load_template("rerank")
    prefix, suffix = split_prompt(lm, template, segment=quote(segment_name, 60),
                                  request=quote_shopper(request.text or request.need, 400),
                                  constraints=constraints_text(request),
                                  history=quote_shopper(history, 300) or "none")
    scores = lm.next_token_scores(prefix, [product_card(c.product, currency=request.currency) + suffix for c in head], ["Yes", "No"])
    llm = {c.product.id: yes_probability(float(s[0]), float(s[1])) for c, s in zip(head, scores)}
    standing = {c.product.id: 1.0 - place / max(len(head) - 1, 1) for place, c in enumerate(head)}
    for c in head:
        yes = llm[c.product.id]
        c.breakdown.rerank = RerankScore(round(yes, 4), round(standing[c.product.id], 4),
                                         round((1 - weight) * standing[c.product.id] + weight * yes, 4))
    head.sort(key=lambda c: -c.breakdown.rerank.final)  # stable: equal blends keep the incoming order
    ordered = head + tail
    for rank, c in enumerate(ordered, start=1):
        c.breakdown.rank_after_rerank = rank
        c.rank = rank
    return RerankOutcome(ordered, llm, time.perf_counter() - started)
