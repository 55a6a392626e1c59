"""Currencies: how a store's prices are written, and which currency a catalog's own columns and values name.

The currency is the store's (a `currency` setting, else what the catalog file says); a shopper's "₹1500",
"Rs 3000" or "40刀" is read as an amount in it (see the parser's budget words), never converted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

DEFAULT_CURRENCY = "USD"

# ISO code -> (symbol written before the amount, decimals shown)
CURRENCIES: dict[str, tuple[str, int]] = {
    "USD": ("$", 2), "CAD": ("CA$", 2), "AUD": ("A$", 2), "NZD": ("NZ$", 2), "HKD": ("HK$", 2),
    "SGD": ("S$", 2), "EUR": ("€", 2), "GBP": ("£", 2), "INR": ("₹", 0), "CNY": ("¥", 2), "JPY": ("¥", 0),
    "KRW": ("₩", 0), "CHF": ("CHF ", 2), "SEK": ("SEK ", 2), "NOK": ("NOK ", 2), "DKK": ("DKK ", 2),
    "PLN": ("zł ", 2), "BRL": ("R$", 2), "MXN": ("MX$", 2), "ZAR": ("R ", 2), "AED": ("AED ", 2),
    "RUB": ("₽", 0), "TRY": ("₺", 2), "IDR": ("Rp ", 0), "THB": ("฿", 2), "VND": ("₫", 0), "PHP": ("₱", 2),
}

# A mark in a price value or a column name -> currency. Checked longest first, case-insensitively; the
# letter codes only as whole words ("Price (INR)", "INR 1,299"), so "Rs" never matches inside a word.
_MARKS: dict[str, str] = {
    "us$": "USD", "ca$": "CAD", "a$": "AUD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD", "r$": "BRL",
    "$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "rs.": "INR", "rs": "INR", "₩": "KRW", "₽": "RUB",
    "₺": "TRY", "฿": "THB", "₫": "VND", "₱": "PHP", "元": "CNY", "人民币": "CNY", "rmb": "CNY", "円": "JPY",
    "卢比": "INR", "rupees": "INR", "rupee": "INR", "euro": "EUR", "euros": "EUR",
    **{code.lower(): code for code in CURRENCIES},
}
_MARK_RE = re.compile("|".join(
    (rf"(?<![a-z]){re.escape(m)}(?![a-z])" if m[0].isascii() and m[0].isalpha() else re.escape(m))
    for m in sorted(_MARKS, key=len, reverse=True)), re.IGNORECASE)


def normalise_currency(code: str | None) -> str | None:
    """An ISO code ("inr" -> "INR", "₹" -> "INR"); None for empty or unknown."""
    text = (code or "").strip()
    if not text:
        return None
    upper = text.upper()
    if upper in CURRENCIES:
        return upper
    return _MARKS.get(text.lower())


def currency_marks(text: str) -> list[str]:
    """The currencies a text names, in order ("Price (INR)" -> ["INR"], "₹1,299" -> ["INR"])."""
    return [_MARKS[m.group(0).lower()] for m in _MARK_RE.finditer(text or "")]


def detect_currency(column_names: Iterable[str] = (), values: Iterable[str] = ()) -> str | None:
    """The currency a catalog names: in its price column's name, else the one most of its price values carry
    (a "¥" counts as yuan unless the file says JPY); None when it names none."""
    for name in column_names:
        marks = currency_marks(name)
        if marks:
            return marks[0]
    counts = Counter(mark for value in values for mark in currency_marks(str(value))[:1])
    if not counts:
        return None
    return counts.most_common(1)[0][0]


def format_price(value: float, currency: str | None = None) -> str:
    """A price as the store writes it: "$24.99", "₹1,500", "€40.00", "¥199" (whole amounts of a
    two-decimal currency keep no ".00" only when `value` is whole and the currency shows none)."""
    symbol, decimals = CURRENCIES.get((currency or DEFAULT_CURRENCY).upper(), (f"{currency} ", 2))
    if decimals == 0:
        return f"{symbol}{round(value):,}"
    return f"{symbol}{value:,.2f}"


def format_amount(value: float, currency: str | None = None) -> str:
    """A budget amount as a shopper would say it: "$40", "$24.50", "₹1,500"."""
    symbol, decimals = CURRENCIES.get((currency or DEFAULT_CURRENCY).upper(), (f"{currency} ", 2))
    if decimals == 0 or value == int(value):
        return f"{symbol}{round(value):,}"
    return f"{symbol}{value:,.2f}"
