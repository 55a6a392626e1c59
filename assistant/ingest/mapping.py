"""FIELD=COLUMN column mappings as people type them (`--map title=ProductName`, the admin page's box)."""

from __future__ import annotations

from typing import Iterable


def parse_field_map(pairs: str | Iterable[str]) -> dict[str, str]:
    """Canonical field -> file column from FIELD=COLUMN pairs.

    `pairs` is either the pairs themselves (`["title=ProductName", "price = Price (INR)"]`) or one
    comma-separated text of them (`"title=ProductName, price=Price (INR)"`, blank parts skipped).
    A pair that is not FIELD=COLUMN raises ValueError naming it.
    """
    if isinstance(pairs, str):
        pairs = [part.strip() for part in pairs.split(",") if part.strip()]
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ValueError(f"{pair!r} is not FIELD=COLUMN (e.g. title=ProductName)")
        mapping[field.strip()] = column.strip()
    return mapping
