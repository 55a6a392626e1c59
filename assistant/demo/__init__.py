"""The built-in demo store: a synthetic catalog, customers and a year of shopping events.

The files under `data/` are produced by `python -m assistant.demo.generate` (deterministic for a
given seed) and shipped inside the package; see docs/demo-store.md for the generative model.
"""

from __future__ import annotations

from pathlib import Path

from assistant.core.resources import package_path

DATA_DIR = package_path(__name__, "data")

PRODUCTS_FILE = "products.jsonl"
CUSTOMERS_FILE = "customers.csv"
EVENTS_FILE = "events.csv.gz"
# The CF model `aisle cf fit` chooses on these events (selection.select_model on the log as read, raw ids),
# kept with the data so the demo starts in seconds; tests/test_model_selection.py re-derives it.
CF_CHOICE_FILE = "cf_choice.json"


def catalog_path() -> Path:
    """The demo catalog: one canonical product JSON object per line."""
    return DATA_DIR / PRODUCTS_FILE


def customers_path() -> Path:
    """The demo customers: customer_id,segment,age_band,household."""
    return DATA_DIR / CUSTOMERS_FILE


def events_path() -> Path:
    """The demo events (gzipped CSV): customer_id,product_id,event,timestamp,value."""
    return DATA_DIR / EVENTS_FILE


def cf_choice_path() -> Path:
    """The CF model choice made on the demo events (JSON: `ModelChoice.to_dict()` and the selection)."""
    return DATA_DIR / CF_CHOICE_FILE
