"""A catalog file before it is loaded: its first rows, each column's detected type and fill, the canonical
field each column would map to (by name, as the reader maps it), the currency its price column or values
name, and which canonical fields no column fills — what an operator checks before building an index
(`aisle index preview`, the Admin tab)."""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from assistant.core.money import currency_marks, detect_currency
from assistant.ingest.catalog import CANONICAL_FIELDS, COLUMN_SYNONYMS, REQUIRED_FIELDS, resolve_columns
from assistant.ingest.tabular import DataFileError, ReadLimits, format_of, iter_rows

# "$1,299.00", "Rs. 1500", "₹1,500", "1.299,00 €", "1 299 EUR"; not "16 OZ" or "A D 1 DZ"
NUMBER = re.compile(r"^(?:[^\d\s\-]{1,4}\s?)?-?\d[\d,.]*(?:[\s\u00a0]\d{3}(?:[,.]\d+)?)*(?:\s?(?:[^\w\s]{1,2}|[A-Z]{3}))?$")
URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
BOOLEAN = {"true", "false", "yes", "no", "y", "n", "0", "1", "in stock", "out of stock", "有货", "缺货"}


@dataclass(frozen=True)
class ColumnPreview:
    """One column of the file: its detected type, how many sampled rows fill it, a few of its values and
    the canonical field it maps to (None: left out of the products)."""

    name: str
    kind: str  # empty, number, price, boolean, url, list, long text, text
    filled: float  # share of sampled rows with a value
    examples: tuple[str, ...]
    field: str | None


@dataclass
class CatalogPreview:
    """What `preview_catalog` found in a catalog file."""

    path: str
    format: str
    sampled: int  # rows read to detect the types
    columns: list[ColumnPreview]
    rows: list[dict[str, str]]  # the first rows as read (values cut to 200 characters)
    mapping: dict[str, str]  # canonical field -> column, as the loader would map them now
    currency: str | None  # from the price column's name, else most price values
    missing_required: list[str]  # required fields no column fills: the build would fail
    empty_fields: list[str]  # optional canonical fields no column fills (inferred from titles, or left empty)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def column_kind(values: list[str]) -> str:
    """The type most of a column's sampled values have."""
    present = [v for v in values if v.strip()]
    if not present:
        return "empty"

    def share(test) -> float:
        return sum(1 for v in present if test(v)) / len(present)

    if share(lambda v: v.strip().lower() in BOOLEAN) >= 0.9 and len({v.strip().lower() for v in present}) <= 4:
        return "boolean"
    if share(lambda v: bool(NUMBER.match(v.strip()))) >= 0.9:
        return "price" if share(lambda v: bool(currency_marks(v))) >= 0.5 else "number"
    if share(lambda v: bool(URL.match(v.strip()))) >= 0.9:
        return "url"
    if share(lambda v: "|" in v or ";" in v) >= 0.5:
        return "list"
    return "long text" if sum(len(v) for v in present) / len(present) > 120 else "text"


def preview_catalog(path: str | Path, mapping: Mapping[str, str] | None = None, rows: int = 5, sample: int = 200,
                    limits: ReadLimits | None = None, encoding: str = "auto") -> CatalogPreview:
    """Read the first `sample` rows of a catalog file (never the whole file) and describe its columns.
    `mapping` (canonical field -> column) overrides the name-based mapping, as `--map` does."""
    path = Path(path)
    notes: list[str] = []
    sampled: list[dict[str, Any]] = []
    for _, row, error in itertools.islice(iter_rows(path, notes, limits, encoding), sample):
        if row is None:
            notes.append(f"a row could not be read: {error}")
            continue
        sampled.append(row)
    names = list(dict.fromkeys(k for row in sampled for k in row if k is not None))
    resolved = resolve_columns(names, mapping, missing_ok=True)
    field_of = {column: canonical for canonical, column in resolved.items()}
    texts = {n: [_text(row.get(n)) for row in sampled] for n in names}
    columns = [ColumnPreview(n, column_kind(texts[n]), round(sum(1 for v in texts[n] if v.strip()) / max(len(sampled), 1), 3),
                             tuple(dict.fromkeys(v[:60] for v in texts[n] if v.strip()))[:3], field_of.get(n))
               for n in names]
    price_column = resolved.get("price")
    currency = detect_currency([price_column] if price_column else [],
                               texts.get(price_column, []) if price_column else [])
    return CatalogPreview(str(path), format_of(path), len(sampled), columns,
                          [{n: _text(row.get(n))[:200] for n in names} for row in sampled[:rows]], dict(resolved),
                          currency, *unmapped(resolved), notes)


def unmapped(mapping: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(required fields, optional fields) that no column of `mapping` (field -> column) fills."""
    return ([f for f in REQUIRED_FIELDS if f not in mapping],
            [f for f in CANONICAL_FIELDS if f not in mapping and f not in REQUIRED_FIELDS])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "|".join(str(v) for v in value)
    return str(value)


def known_fields() -> dict[str, tuple[str, ...]]:
    """Canonical field -> the column names it is recognised by (for the mapping dropdowns)."""
    return dict(COLUMN_SYNONYMS)


__all__ = ["CatalogPreview", "ColumnPreview", "DataFileError", "column_kind", "known_fields", "preview_catalog",
           "unmapped"]
