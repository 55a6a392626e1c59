"""The Complete Journey grocery data (84.51°, CC0) as a second evaluation store.

`products.csv` has no titles and no prices, so `derive_catalog` builds both:

- title: "<Product Category> — <Product Type>, <package size>", title-cased ("Frozen Pizza — Pizza/Economy,
  2.75 oz"); the type is left out when it repeats the category, the size when there is none;
- category: "<Department> > <Product Category>" (title-cased; the department alone when there is no category);
- brand: as given ("Private" / "National"); tags and description say "store brand" / "national brand";
- size: the package size, spaces collapsed;
- price: the median unit price (value / quantity) over the product's purchases with quantity > 0 and
  value > 0, rounded to cents. A product with no such purchase has no price and is left out (counted).

Everything is read with the standard library and written in the file's product order: the same files give
the same catalog byte for byte. Which customer is in which Aisle segment (segments.toml) is decided from the
demographics by the rules in data/completejourney_segment_rules.toml (`customer_segment`), the only place
that knowledge lives.
"""

from __future__ import annotations

import csv
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from assistant.core.errors import AisleError
from assistant.core.resources import package_path
from assistant.ingest.segment_rules import SegmentRules, load_segment_rules

PRODUCTS_FILE, EVENTS_FILE, CUSTOMERS_FILE = "products.csv", "events.csv", "customers.csv"
SEGMENT_RULES_FILE = "completejourney_segment_rules.toml"
CATALOG_COLUMNS = ("id", "title", "price", "description", "category", "brand", "size", "tags")
BRAND_WORDS = {"private": "store brand", "national": "national brand"}
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_UNITS = {"OZ", "LB", "CT", "PK", "DZ", "GAL", "QT", "PT", "LTR", "ML", "FL", "PC", "SQ", "FT", "IN", "GM"}


class SourceMissing(AisleError):
    """The Complete Journey folder lacks one of its three files, or a file lacks a column."""


@dataclass(frozen=True)
class DerivedProduct:
    """One catalog row derived from products.csv and the purchases of that product."""

    id: str
    title: str
    price: float
    category: str
    brand: str
    size: str
    purchases: int  # purchases that priced it (quantity > 0, value > 0)

    def row(self) -> dict[str, str]:
        """The row in Aisle's canonical catalog columns."""
        word = BRAND_WORDS.get(self.brand.lower(), "")
        tags = "|".join(t for t in (word, "private label" if self.brand.lower() == "private" else "") if t)
        description = f"{word.capitalize()}. {self.category}." if word else f"{self.category}."
        return {"id": self.id, "title": self.title, "price": f"{self.price:.2f}", "description": description,
                "category": self.category, "brand": self.brand, "size": self.size, "tags": tags}


@dataclass
class DerivedCatalog:
    """The derived products and what was left out."""

    products: list[DerivedProduct]
    source_products: int
    unpriced: list[str] = field(default_factory=list)  # product ids with no usable purchase
    events_read: int = 0
    events_unusable: int = 0  # purchase lines with quantity <= 0 or value <= 0

    def summary(self) -> str:
        return (f"{len(self.products)} of {self.source_products} products priced from {self.events_read} purchase "
                f"lines ({self.events_unusable} lines with quantity or value <= 0 not used); "
                f"{len(self.unpriced)} products with no usable purchase left out")


def title_case(text: str) -> str:
    """"FROZEN PIZZA/ECONOMY" → "Frozen Pizza/Economy"; "KID'S" → "Kid's"."""
    return _WORD.sub(lambda m: m[0].capitalize(), " ".join(text.lower().split()))


def package_size(text: str) -> str:
    """"A D   1 DZ" → "A D 1 dz": spaces collapsed, known units in lower case."""
    return " ".join(w.lower() if w.upper() in _UNITS else w for w in text.split())


def product_title(category: str, kind: str, size: str, department: str) -> str:
    """A readable title from the category, the product type and the package size."""
    category, kind = title_case(category), title_case(kind)
    if category and kind.lower().startswith(category.lower() + " - "):
        kind = kind[len(category) + 3:]  # "Eggs - X-Large" under "Eggs" → "X-Large"
    if kind and category and kind.lower() != category.lower():
        title = f"{category} — {kind}"
    else:
        title = category or kind or title_case(department) or "Item"
    return f"{title}, {size}" if size else title


def median_prices(events: Path) -> tuple[dict[str, float], dict[str, int], int, int]:
    """{product id: median unit price}, {product id: purchases used}, lines read, lines unusable."""
    prices: dict[str, list[float]] = defaultdict(list)
    read = unusable = 0
    for row in _rows(events, ("product_id", "value", "quantity")):
        read += 1
        try:
            value, quantity = float(row["value"]), float(row["quantity"])
        except ValueError:
            unusable += 1
            continue
        if quantity <= 0 or value <= 0:
            unusable += 1
            continue
        prices[row["product_id"]].append(value / quantity)
    medians = {pid: round(statistics.median(values), 2) for pid, values in prices.items()}
    return medians, {pid: len(v) for pid, v in prices.items()}, read, unusable


def derive_catalog(source: str | Path, events: str | Path | None = None) -> DerivedCatalog:
    """The Aisle catalog of the Complete Journey folder `source` (prices from `events`, default its
    events.csv). Products priced at 0.00 after rounding are left out with the unpriced ones."""
    source = Path(source)
    prices, used, read, unusable = median_prices(Path(events) if events else source / EVENTS_FILE)
    products, unpriced, total = [], [], 0
    for row in _rows(source / PRODUCTS_FILE, ("product_id", "department", "brand", "product_category",
                                              "product_type", "package_size")):
        total += 1
        pid = row["product_id"].strip()
        price = prices.get(pid)
        if not price:
            unpriced.append(pid)
            continue
        department, category = title_case(row["department"]), title_case(row["product_category"])
        size = package_size(row["package_size"])
        products.append(DerivedProduct(
            pid, product_title(row["product_category"], row["product_type"], size, row["department"]), price,
            f"{department} > {category}" if category else department, row["brand"].strip(), size, used[pid]))
    return DerivedCatalog(products, total, unpriced, read, unusable)


def write_catalog(catalog: DerivedCatalog, path: str | Path) -> Path:
    """Write the catalog as CSV in Aisle's canonical columns (UTF-8, "\\n" line ends)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, CATALOG_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(p.row() for p in catalog.products)
    tmp.replace(path)
    return path


def segment_rules_path() -> Path:
    """The rules placing a household in a segment from its demographics
    (evaluation/data/completejourney_segment_rules.toml)."""
    return package_path("assistant.evaluation", "data", SEGMENT_RULES_FILE)


@cache
def segment_rules() -> SegmentRules:
    """The Complete Journey segment rules, read and checked against the shipped segments once."""
    from assistant.rank.segments import load_segments
    return load_segment_rules(segment_rules_path(), known=load_segments())


def customer_segment(row: Mapping[str, str]) -> str:
    """The Aisle segment of a household from its demographics ("" without them), by the shipped rules: kids
    → parents of young kids, 65+ → retirees, under 35 → young adults, anyone else → professionals."""
    return segment_rules().assign(row)


def customer_segments(source: str | Path) -> dict[str, str]:
    """{customer id (raw): Aisle segment} for every household the rules place in one."""
    rules = segment_rules()
    path = Path(source) / CUSTOMERS_FILE
    segments = {}
    for i, row in enumerate(_rows(path, ("customer_id",))):
        if i == 0:
            rules.check_columns(row, path.name)
        segment = rules.assign(row)
        if segment:
            segments[row["customer_id"].strip()] = segment
    return segments


def sample_catalog(catalog: DerivedCatalog, keep: int, required: Iterable[str] = ()) -> DerivedCatalog:
    """At most `keep` products: the `required` categories' products first, then the most purchased
    (ties by id), in the catalog's order. Deterministic."""
    wanted = {c.lower() for c in required}

    def needed(p: DerivedProduct) -> bool:
        return any(p.category.lower() == c or p.category.lower().startswith(c + " > ") for c in wanted)
    order = sorted(catalog.products, key=lambda p: (not needed(p), -p.purchases, p.id))
    chosen = {p.id for p in order[:keep]}
    return DerivedCatalog([p for p in catalog.products if p.id in chosen], catalog.source_products,
                          catalog.unpriced, catalog.events_read, catalog.events_unusable)


def _rows(path: Path, columns: Sequence[str]) -> Iterable[dict[str, str]]:
    if not path.is_file():
        raise SourceMissing(f"{path} is missing (a Complete Journey folder holds {PRODUCTS_FILE}, {EVENTS_FILE} "
                            f"and {CUSTOMERS_FILE})")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise SourceMissing(f"{path.name} has no column {', '.join(missing)}")
        for row in reader:
            yield {k: (v or "") for k, v in row.items() if k is not None}
