"""Checks the labelled request set (assistant/evaluation/data/requests.jsonl) against the demo catalog.

Each line is one evaluation request: a shopper's segment, language, 1-4 turns, the merged state a
good parser should extract (`expect`), hard constraints every returned product must satisfy
(`hard`), and relevance rules (`relevant`, gain 1; `bonus`, gain 2 for relevant products that
also match). The matching semantics (implemented in assistant/evaluation/metrics.py):

hard (all given keys must hold):
    price_min / price_max   price >= / <= the value
    colors                  product colour in the list; exclude_colors: not in the list
    sizes                   the product's "|"-separated sizes share at least one with the list
    brands                  product brand in the list; exclude_brands: not in the list
    in_stock_only           true -> product in_stock
    exclude_terms           no term is a case-insensitive substring of title, description or a tag
relevant / bonus (all given keys must hold; each is "any of the list"):
    category_any            category equals the value or starts with value + " > "
    audience_any, color_any, brand_any   exact (case-insensitive) field match
    title_any               case-insensitive substring of the title
    tags_any                some tag equals a value (case-insensitive)
    text_any                case-insensitive substring of the title or description
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.ingest.catalog import Product, read_catalog
from assistant.evaluation.metrics import RequestCase, default_requests_path, gain, matches_hard

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = default_requests_path()
PRODUCTS = ROOT / "assistant" / "demo" / "data" / "products.jsonl"

SEGMENTS = {"young_adults", "parents_young_kids", "retirees", "professionals", "fitness_enthusiasts"}
MAIN_SEGMENTS = ("young_adults", "parents_young_kids", "retirees")
TOP_KEYS = {"id", "segment", "language", "turns", "expect", "hard", "relevant", "bonus"}
REQUIRED_KEYS = TOP_KEYS - {"bonus"}
EXPECT_KEYS = {"price_min", "price_max", "price_target", "cheap", "colors", "exclude_colors", "sizes",
               "age_years", "audience", "categories", "brands", "exclude_brands", "exclude_terms",
               "in_stock_only", "segment_hint"}
HARD_KEYS = {"price_min", "price_max", "colors", "exclude_colors", "sizes", "brands", "exclude_brands",
             "in_stock_only", "exclude_terms"}
RULE_KEYS = {"category_any", "audience_any", "title_any", "tags_any", "color_any", "brand_any", "text_any"}
LIST_KEYS = {"colors", "exclude_colors", "sizes", "categories", "brands", "exclude_brands",
             "exclude_terms"} | RULE_KEYS
MIN_MATCHES = 3


# ---------------------------------------------------------------------------- matching


def answers(request: dict, products: list[Product]) -> list[Product]:
    """Products that satisfy the request's hard constraints and are relevant."""
    case = RequestCase(request["id"], request["segment"], request["language"], tuple(request["turns"]),
                       request["expect"], request["hard"], request["relevant"], request.get("bonus") or {})
    return [p for p in products if matches_hard(p, case.hard) and gain(p, case) > 0]


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def requests() -> list[dict]:
    with REQUESTS.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def products() -> list[Product]:
    return read_catalog([PRODUCTS])[0]


# ---------------------------------------------------------------------------- tests


def test_schema(requests):
    ids = [r["id"] for r in requests]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for r in requests:
        where = r.get("id", r)
        assert set(r) <= TOP_KEYS and REQUIRED_KEYS <= set(r), where
        assert r["segment"] in SEGMENTS, where
        assert r["language"] in ("en", "zh"), where
        assert isinstance(r["turns"], list) and 1 <= len(r["turns"]) <= 4, where
        assert all(isinstance(t, str) and t.strip() for t in r["turns"]), where
        assert set(r["expect"]) <= EXPECT_KEYS, where
        assert set(r["hard"]) <= HARD_KEYS, where
        assert r["relevant"] and set(r["relevant"]) <= RULE_KEYS, where
        assert set(r.get("bonus", {})) <= RULE_KEYS, where
        for section in ("expect", "hard", "relevant", "bonus"):
            for key, value in r.get(section, {}).items():
                if key in LIST_KEYS:
                    assert isinstance(value, list) and value, (where, section, key)
                    assert all(isinstance(v, str) and v for v in value), (where, section, key)
        if r["hard"].get("in_stock_only") is not None:
            assert r["hard"]["in_stock_only"] is True, where
        for key in ("price_min", "price_max"):
            if key in r["hard"]:
                assert r["expect"].get(key) == r["hard"][key], (where, key)
        if r["language"] == "zh":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in " ".join(r["turns"])), where


def test_coverage(requests):
    assert len(requests) >= 80
    assert sum(r["language"] == "zh" for r in requests) >= 22
    assert sum(len(r["turns"]) >= 2 for r in requests) >= 30
    per_segment = Counter(r["segment"] for r in requests)
    for segment in MAIN_SEGMENTS:
        assert per_segment[segment] >= 20, segment
    for segment in SEGMENTS - set(MAIN_SEGMENTS):
        assert per_segment[segment] >= 3, segment


def test_every_request_is_answerable(requests, products):
    short = {r["id"]: len(answers(r, products)) for r in requests}
    short = {rid: n for rid, n in short.items() if n < MIN_MATCHES}
    assert not short, f"requests with fewer than {MIN_MATCHES} matching products: {short}"
