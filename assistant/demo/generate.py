"""Generate the built-in demo store: products, customers and a year of shopping events.

    python -m assistant.demo.generate [--out DIR] [--seed N]

Everything is drawn from one `numpy.random.default_rng(seed)`, so a seed always gives
byte-identical files. The model is described in docs/demo-store.md: products carry a hidden
quality and popularity; customers carry hidden segment affinities, a personal category mix,
favourite brands and colours, and a price sensitivity; sessions of view -> click -> cart ->
purchase -> rating events are drawn from a softmax over each customer's utility.

This module holds the command line, the order of the draws and the file writers; the parts live
in `products` (catalog), `shoppers` (customers), `events` (interaction log), with their tables in
`taxonomy`, `product_types` and `phrases`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from assistant.demo import CUSTOMERS_FILE, DATA_DIR, EVENTS_FILE, PRODUCTS_FILE
from assistant.demo.events import build_event_model, generate_events
from assistant.demo.products import Catalog, generate_products
from assistant.demo.shoppers import Customer, generate_customers

BASE_TIME = datetime(2025, 11, 1, tzinfo=timezone.utc)  # event times are seconds after this


def write_products(catalog: Catalog, path: Path) -> None:
    """One JSON object per line, canonical field order."""
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for row in catalog.rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_customers(customers: list[Customer], path: Path) -> None:
    """The visible profile only: id, segment, age band, household."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["customer_id", "segment", "age_band", "household"])
        for c in customers:
            writer.writerow([c.id, c.segment, c.age_band, c.household])


def write_events(events: list[tuple[int, int, int, int, str, str]], catalog: Catalog,
                 customers: list[Customer], path: Path) -> None:
    """Gzipped CSV with mtime=0 and no file name in the header, so bytes depend only on content."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["customer_id", "product_id", "event", "timestamp", "value"])
    base = int(BASE_TIME.timestamp())
    for t, c_index, _, p_index, event, value in events:
        stamp = datetime.fromtimestamp(base + t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        writer.writerow([customers[c_index].id, catalog.rows[p_index]["id"], event, stamp, value])
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    path.write_bytes(raw.getvalue())


def generate(out_dir: Path, seed: int = 7) -> dict:
    """Write products.jsonl, customers.csv and events.csv.gz into `out_dir`; return counts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    catalog = generate_products(rng)
    customers = generate_customers(rng)
    model = build_event_model(catalog)
    events = generate_events(rng, model, customers)
    write_products(catalog, out_dir / PRODUCTS_FILE)
    write_customers(customers, out_dir / CUSTOMERS_FILE)
    write_events(events, catalog, customers, out_dir / EVENTS_FILE)
    by_type: dict[str, int] = {}
    for row in events:
        by_type[row[4]] = by_type.get(row[4], 0) + 1
    return {
        "products": len(catalog.rows),
        "categories": len({r["category"].split(" > ")[0] for r in catalog.rows}),
        "customers": len(customers),
        "events": len(events),
        "event_types": {k: by_type.get(k, 0) for k in ("view", "click", "cart", "purchase", "rating")},
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m assistant.demo.generate [--out DIR] [--seed N]."""
    parser = argparse.ArgumentParser(description="Generate the Aisle demo store.")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"output folder (default {DATA_DIR})")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.out, args.seed)
    elapsed = time.perf_counter() - started
    print(json.dumps(counts, indent=2))
    print(f"wrote {args.out} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
