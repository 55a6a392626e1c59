"""Comparing shown products side by side: reading "compare 1 and 3" (比较1和3, "compare the first and the
last") as positions in the last answer, and the table of the products' own fields, in the shopper's language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from assistant.core.money import format_price
from assistant.ingest.catalog import Product

COMPARE_WORD = re.compile(r"\b(?:compare|comparison)\b|比较|对比|比一比|比一下", re.IGNORECASE)
ALL_WORDS = re.compile(r"\b(?:all|them|these|everything)\b|全部|所有|都", re.IGNORECASE)
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
            "fifth": 5, "5th": 5, "last": -1}
POSITION = re.compile(r"第([一二两三四五六七八九十])|([一二两三四五六七八九十])(?:个|款|件)|#?(?<![\d.$€£¥₹])(\d{1,2})(?![\d.])"
                      r"|\b(" + "|".join(ORDINALS) + r")\b", re.IGNORECASE)
LABELS = {
    "en": {"title": "Product", "brand": "Brand", "price": "Price", "color": "Colour", "sizes": "Sizes",
           "rating": "Rating", "stock": "In stock", "category": "Category", "audience": "For",
           "tags": "Features", "yes": "yes", "no": "no", "reviews": "reviews"},
    "zh": {"title": "商品", "brand": "品牌", "price": "价格", "color": "颜色", "sizes": "尺码", "rating": "评分",
           "stock": "有货", "category": "类别", "audience": "适用", "tags": "特点", "yes": "有", "no": "缺货",
           "reviews": "条评价"},
}


@dataclass(frozen=True)
class Comparison:
    """A side-by-side table: one column per product (`ids`, `titles`), one row per field that any of them
    fills (label, one value per product, "" where a product has none)."""

    ids: tuple[str, ...]
    titles: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    language: str = "en"
    positions: tuple[int, ...] = ()  # where each product was shown in the answer (1-based), when known

    def to_dict(self) -> dict:
        return {"ids": list(self.ids), "titles": list(self.titles), "language": self.language,
                "positions": list(self.positions),
                "rows": [{"field": label, "values": list(values)} for label, values in self.rows]}


def asks_to_compare(text: str) -> bool:
    """Whether a message asks for a comparison ("compare", 比较, 对比)."""
    return bool(COMPARE_WORD.search(text or ""))


def compare_positions(text: str, shown: int) -> tuple[int, ...] | None:
    """The 1-based positions a "compare" message names among `shown` products (at least two, in the order
    written), every shown one for "compare them all"; None when the message asks for no comparison."""
    if not asks_to_compare(text) or shown < 2:
        return None
    found: list[int] = []
    for m in POSITION.finditer(text):
        ordinal, counted, digits, word = m.groups()
        value = (CN_DIGITS[ordinal or counted] if (ordinal or counted) else int(digits) if digits
                 else ORDINALS[word.lower()])
        value = shown if value == -1 else value
        if 1 <= value <= shown and value not in found:
            found.append(value)
    if len(found) >= 2:
        return tuple(found)
    if ALL_WORDS.search(text) or not found:
        return tuple(range(1, shown + 1))
    return None


def compare(products: Sequence[Product], currency: str = "", language: str = "en",
            positions: Sequence[int] = ()) -> Comparison:
    """The table of `products`' own fields (title, brand, price in the store's currency, colour, sizes,
    rating, stock, category, audience, tags); a row no product fills is left out."""
    words = LABELS["zh" if language == "zh" else "en"]

    def rating(p: Product) -> str:
        return f"★ {p.rating:.1f} ({p.rating_count} {words['reviews']})" if p.rating is not None else ""

    fields = (("brand", lambda p: p.brand), ("price", lambda p: format_price(p.price, currency)),
              ("color", lambda p: p.color), ("sizes", lambda p: " / ".join(p.sizes)), ("rating", rating),
              ("stock", lambda p: words["yes"] if p.in_stock else words["no"]),
              ("category", lambda p: p.category), ("audience", lambda p: p.audience),
              ("tags", lambda p: ", ".join(p.tags)))
    rows = []
    for key, value in fields:
        values = tuple(value(p) for p in products)
        if any(values):
            rows.append((words[key], values))
    return Comparison(tuple(p.id for p in products), tuple(p.title for p in products), tuple(rows),
                      "zh" if language == "zh" else "en", tuple(positions))
