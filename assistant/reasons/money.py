"""Money in a reason: the store's currency only, amounts that are the price or a budget the shopper stated,
and no "your budget" the shopper never gave ("cheaper" sets a cap of its own)."""

from __future__ import annotations

import re

from assistant.ingest.catalog import Product
from assistant.understand import Request
from assistant.understand.store import StoreProfile

# Currency markers, longest first; a bare 元 counts only after a number.
CURRENCY_MARKERS = [
    (re.compile(r"US\$|\bUSD\b|\bdollars?\b|美元|美金", re.IGNORECASE), "USD"),
    (re.compile(r"₹|\bRs\.?(?=\s*\d)|\bINR\b|\brupees?\b|卢比", re.IGNORECASE), "INR"),
    (re.compile(r"€|\bEUR\b|\beuros?\b|欧元", re.IGNORECASE), "EUR"),
    (re.compile(r"£|\bGBP\b|\bpounds? sterling\b|英镑", re.IGNORECASE), "GBP"),
    (re.compile(r"\bRMB\b|\bCNY\b|\byuan\b|人民币|(?<=\d)\s*元", re.IGNORECASE), "CNY"),
    (re.compile(r"\bJPY\b|\byen\b|日元", re.IGNORECASE), "JPY"),
]
DOLLAR_SIGN = re.compile(r"(?<![A-Za-z])\$")
YEN_SIGN = re.compile(r"[¥￥]")
MONEY_EN = re.compile(r"(?:US\$|\$|₹|€|£|¥|￥)\s*(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)")
MONEY_ZH = re.compile(r"(\d+(?:\.\d+)?)\s*(?:美元|元|卢比|欧元|英镑|日元|港元)")
BUDGET_WORDS = re.compile(r"\bbudget\b|\bprice range\b|\bprice limit\b|\bspending limit\b|预算|价位|价格范围|限额",
                          re.IGNORECASE)


BUDGET_AMOUNT = re.compile(r"budget (?:of|is)\s*(?:US)?[$₹€£¥]?\s*(\d[\d,]*(?:\.\d+)?)|"
                           r"[$₹€£¥]\s*(\d[\d,]*(?:\.\d+)?)\s*budget|预算(?:为|是)?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def budget_stated(request: Request) -> bool:
    """Whether the shopper named the price limit: "cheaper" sets a cap of its own (0.8 × the last prices),
    which a reason must not call "your $33.59 budget"."""
    return not (request.cheaper and not re.search(r"\d", request.text or ""))


def wrong_money(text: str, product: Product, request: Request, store: StoreProfile | None) -> str | None:
    """A currency not the store's, an amount neither the price nor a stated budget, or an unstated budget."""
    currency = (request.currency or (store.currency if store else "") or "USD").upper()
    for pattern, code in CURRENCY_MARKERS:
        found = pattern.search(text)
        if found and code != currency and not (code == "CNY" and currency == "JPY"):
            return f"currency {found.group(0).strip()!r} is not the store's ({currency})"
    if DOLLAR_SIGN.search(text) and currency not in ("USD", "CAD", "AUD", "HKD", "SGD", "NZD"):
        return f"currency '$' is not the store's ({currency})"
    if YEN_SIGN.search(text) and currency not in ("CNY", "JPY"):
        return f"currency '¥' is not the store's ({currency})"
    stated = [v for v in (request.price_max, request.price_min, request.price_target) if v is not None] \
        if budget_stated(request) else []
    found = BUDGET_WORDS.search(re.sub(re.escape(product.title.split(" - ")[0]), " ", text, flags=re.IGNORECASE))
    if found and not stated:
        return f"mentions a budget ({found.group(0)!r}) the shopper did not state"
    for match in BUDGET_AMOUNT.finditer(text):  # "with a budget of $1.39" (the price called the budget)
        value = float(next(g for g in match.groups() if g).replace(",", ""))
        if not any(abs(value - v) < 0.5 for v in stated):
            return f"calls {match.group(0)!r} the budget, but the shopper's is {stated[0] if stated else 'not stated'}"
    prices = {round(product.price, 2), float(int(product.price) + (product.price % 1 > 0))}
    for match in list(MONEY_EN.finditer(text)) + list(MONEY_ZH.finditer(text)):
        value = float(match.group(1).replace(",", ""))
        if any(abs(value - p) < 0.005 for p in prices) or any(abs(value - s) < 0.5 for s in stated):
            continue
        return f"amount {match.group(0)!r} is neither the price ({product.price:.2f}) nor a stated budget"
    return None
