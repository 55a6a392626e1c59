"""The shipped demo store: counts, determinism, loadability and learnable behavioural signal."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from assistant.ingest.catalog import read_catalog
from assistant.demo import DATA_DIR, catalog_path, customers_path, events_path
from assistant.demo.generate import generate

MAIN_SEGMENTS = ("young_adults", "parents_young_kids", "retirees")
EVENT_TYPES = {"view", "click", "cart", "purchase", "rating"}


@pytest.fixture(scope="module")
def products() -> list[dict]:
    return [json.loads(line) for line in catalog_path().read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def customers() -> list[dict]:
    with open(customers_path(), encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def events() -> list[dict]:
    text = gzip.decompress(events_path().read_bytes()).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def purchases_by_segment(products, customers, events) -> dict[str, Counter]:
    """Purchased quantity-free counts per segment and top-level category."""
    category = {p["id"]: p["category"].split(" > ")[0] for p in products}
    segment = {c["customer_id"]: c["segment"] for c in customers}
    counts: dict[str, Counter] = defaultdict(Counter)
    for e in events:
        if e["event"] == "purchase":
            counts[segment[e["customer_id"]]][category[e["product_id"]]] += 1
    return counts


def test_paths_point_into_the_package() -> None:
    assert catalog_path().parent == DATA_DIR
    for path in (catalog_path(), customers_path(), events_path()):
        assert path.is_file(), path


def test_product_counts_and_fields(products) -> None:
    assert len(products) >= 2_000
    assert len({p["id"] for p in products}) == len(products)
    tops = {p["category"].split(" > ")[0] for p in products}
    assert len(tops) >= 10
    audiences = {p["audience"] for p in products}
    assert {"kids", "baby", "women", "men", "seniors"} <= audiences
    assert audiences <= {"kids", "baby", "women", "men", "seniors", "unisex", "adults"}
    in_stock = sum(p["in_stock"] for p in products) / len(products)
    assert 0.88 <= in_stock <= 0.97
    for p in products:
        assert p["price"] > 0 and round(p["price"], 2) == p["price"]
        assert 0 <= p["rating"] <= 5 and isinstance(p["rating_count"], int)
        assert isinstance(p["tags"], list) and p["tags"]
        assert p["image_url"] == ""


def test_every_product_loads_through_the_catalog_reader() -> None:
    loaded, report = read_catalog([catalog_path()])
    assert report.rejected == 0, report.format(10)
    assert len(loaded) >= 2_000


def test_sizes_follow_the_schemes(products) -> None:
    kids_ages = ["2-3Y", "4-5Y", "6-7Y", "8-9Y", "10-12Y"]
    for p in products:
        if p["category"].startswith(("Kids > Outerwear", "Kids > Tops")):
            sizes = p["size"].split("|")
            start = kids_ages.index(sizes[0])
            assert sizes == kids_ages[start:start + len(sizes)], p["id"]
        if p["category"].startswith(("Electronics", "Books", "Home & Kitchen")):
            assert p["size"] == "", p["id"]


def test_kids_rain_jackets_have_several_right_answers(products) -> None:
    rain = [p for p in products if p["audience"] == "kids" and "waterproof" in p["tags"]
            and p["category"] == "Kids > Outerwear"]
    assert len(rain) >= 20


def test_descriptions_vary(products) -> None:
    descriptions = [p["description"] for p in products]
    assert len(set(descriptions)) == len(descriptions)
    openings = Counter(" ".join(d.split()[:3]) for d in descriptions)
    assert openings.most_common(1)[0][1] < 0.1 * len(descriptions)


def test_customer_counts(customers) -> None:
    assert len(customers) >= 1_500
    segments = Counter(c["segment"] for c in customers)
    assert set(MAIN_SEGMENTS) <= set(segments)
    assert sum(segments[s] for s in MAIN_SEGMENTS) >= 0.7 * len(customers)
    retirees = [c for c in customers if c["segment"] == "retirees"]
    assert all(c["age_band"] in {"55-64", "65-74", "75+"} for c in retirees)


def test_event_counts_and_format(events, products, customers) -> None:
    assert len(events) >= 60_000
    assert {e["event"] for e in events} == EVENT_TYPES
    product_ids = {p["id"] for p in products}
    customer_ids = {c["customer_id"] for c in customers}
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    for e in events:
        assert e["product_id"] in product_ids and e["customer_id"] in customer_ids
        assert e["timestamp"].endswith("Z") and len(e["timestamp"]) == 20
        if e["event"] == "rating":
            assert e["value"] in {"1", "2", "3", "4", "5"}
        elif e["event"] == "purchase":
            assert int(e["value"]) >= 1
        else:
            assert e["value"] == ""


def test_activity_is_long_tailed(events) -> None:
    per_customer = Counter(e["customer_id"] for e in events)
    assert min(per_customer.values()) == 1
    assert max(per_customer.values()) >= 200


def test_segments_buy_differently(purchases_by_segment) -> None:
    def family_share(segment: str) -> float:
        counts = purchases_by_segment[segment]
        return (counts["Kids"] + counts["Baby"] + counts["Toys"]) / sum(counts.values())

    assert family_share("parents_young_kids") > 4 * family_share("retirees")
    top = {s: purchases_by_segment[s].most_common(1)[0][0] for s in MAIN_SEGMENTS}
    assert len(set(top.values())) == 3, top


def test_co_purchases_exist(products, events) -> None:
    """Buyers of a laptop buy a laptop bag far more often than the average customer does."""
    noun_of = {p["id"]: p["category"] + "|" + ("bag" if "Laptop Bag" in p["title"] else
                                               "laptop" if p["title"].endswith("Laptop") else "")
               for p in products}
    bought: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e["event"] == "purchase":
            bought[e["customer_id"]].add(noun_of[e["product_id"]])
    laptop = [c for c, kinds in bought.items() if "Electronics > Computers|laptop" in kinds]
    bag_rate_laptop = sum("Electronics > Computers|bag" in bought[c] for c in laptop) / len(laptop)
    bag_rate_all = sum("Electronics > Computers|bag" in k for k in bought.values()) / len(bought)
    assert bag_rate_laptop > 3 * bag_rate_all


def test_regenerating_gives_identical_files(tmp_path: Path) -> None:
    counts = generate(tmp_path, seed=7)
    assert counts["products"] >= 2_000 and counts["events"] >= 60_000
    for path in (catalog_path(), customers_path(), events_path()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
