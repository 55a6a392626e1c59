"""Attribute enrichment: a colour or audience the catalog leaves empty, read from the product's own title
when the title names exactly one ("Black Solid Polo T-shirt" → black; "Roadster Men Hoodie" → men). The value
is stored marked as inferred (`attributes["inferred"]`, e.g. "color,audience") and, being unambiguous, is used
like a given one; a title naming two colours or two audiences is left alone. A catalog that gives no product a
colour gets only basic colour words read (BASIC_COLOURS): its shade names are mostly products ("coffee")."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

from assistant.ingest.catalog import Product
from assistant.understand.request import LANGUAGES
from assistant.understand.vocabulary import Vocabulary, load_vocabulary

INFERRED = "inferred"
# In a catalog that gives no product a colour, only these colour words are read from titles: there a shade
# name is mostly the product itself ("Ground Coffee" is no brown product, "Ice Cream" no cream one,
# "Charcoal Briquets" no grey one), while "Black Polo" and "Green Beans" name what the product looks like.
BASIC_COLOURS = frozenset("black white grey gray red green blue yellow orange pink purple brown".split())


def _one(matches: list[str]) -> str | None:
    values = set(matches)
    return matches[0] if len(values) == 1 else None


def enrich_products(products: Sequence[Product], vocab: Vocabulary | None = None) -> tuple[list[Product], dict[str, int]]:
    """The products with empty colours and audiences filled from their titles where unambiguous, and how many
    of each were inferred."""
    vocab = vocab or load_vocabulary(LANGUAGES)
    p = vocab.patterns
    counts = {"color": 0, "audience": 0}
    only_basic = not any(product.color for product in products)
    out: list[Product] = []
    for product in products:
        changes: dict[str, str] = {}
        title = product.title.lower()
        if not product.color:
            ignored = [m.span() for m in p.color_ignore.finditer(title)]
            phrases = [" ".join(m.group(0).split()) for m in p.color.finditer(title)
                       if not any(a < m.end() and m.start() < b for a, b in ignored)]
            if only_basic:
                phrases = [ph for ph in phrases if BASIC_COLOURS & set(ph.split())]
            shades = [p.color_map.get(ph) or "" for ph in phrases]
            shade = _one([s for s in shades if s])
            if shade:
                changes["color"] = shade
        if not product.audience:
            words = [re.sub(r"(?:'s|s'|')$", "", m.group(0)) for m in p.audience.finditer(title)]
            audience = _one([p.audience_map.get(w) or p.audience_map.get(w + "s") or "" for w in words])
            if audience:
                changes["audience"] = audience
        if changes:
            for name in changes:
                counts[name] += 1
            marked = ",".join(filter(None, [product.attributes.get(INFERRED, ""), *changes]))
            product = replace(product, **changes, attributes={**product.attributes, INFERRED: marked})
        out.append(product)
    return out, counts
