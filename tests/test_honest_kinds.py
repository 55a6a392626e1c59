"""Honest answers where a store has the kind of product asked for but not within the constraints, and Chinese
messages to an English catalog read in its own words (CC-CEDICT, understand/dictionary.py). A small grocery
shaped like the Complete Journey one (derived "Category — Type, size" titles), on the real MiniLM index."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from assistant.core.config import Settings
from assistant.rank.relax import own_kind, related_products
from assistant.service.assistant import Assistant
from assistant.understand import Conversation, parse_message
from assistant.understand.dictionary import StoreDictionary
from assistant.understand.store import build_profile, store_vocabulary

ROWS = [
    ("W1", "Domestic Wine — Value Glass Wine, 750 ml", "4.99", "Grocery > Domestic Wine"),
    ("W2", "Domestic Wine — Fruit Varietal Wines, 750 ml", "6.49", "Grocery > Domestic Wine"),
    ("W3", "Imported Wine — South American Wines, 750 ml", "7.99", "Grocery > Imported Wine"),
    ("W4", "Domestic Wine — Fighting Varietal Wines, 1.5 L", "9.99", "Grocery > Domestic Wine"),
    ("V1", "Condiments/Sauces — Vinegar All-Except Wine/Ric, 32 oz", "0.79", "Grocery > Condiments/Sauces"),
    ("V2", "Condiments/Sauces — Red Wine Vinegar, 16 oz", "1.19", "Grocery > Condiments/Sauces"),
    ("V3", "Condiments/Sauces — Ketchup, 24 oz", "1.49", "Grocery > Condiments/Sauces"),
    ("V4", "Condiments/Sauces — Yellow Mustard, 8 oz", "0.99", "Grocery > Condiments/Sauces"),
    ("S1", "Shoe Care — Shoe Care: Laces/Polish/Clot, 36 in", "1.29", "Drug Gm > Shoe Care"),
    ("S2", "Shoe Care — Shoe Polish, 2.5 oz", "2.49", "Drug Gm > Shoe Care"),
    ("D1", "Diapers & Disposables — Baby Diapers, 60 ct", "15.99", "Drug Gm > Diapers & Disposables"),
    ("D2", "Diapers & Disposables — Baby Diapers, 34 ct", "7.99", "Drug Gm > Diapers & Disposables"),
    ("D3", "Baby Hbc — Baby Wipes, 48 ct", "0.99", "Drug Gm > Baby Hbc"),
    ("D4", "Baby Hbc — Baby Powder, 15 oz", "2.99", "Drug Gm > Baby Hbc"),
    ("B1", "Tropical Fruit — Bananas, 3 lb", "0.67", "Produce > Tropical Fruit"),
    ("B2", "Tropical Fruit — Pineapple", "2.99", "Produce > Tropical Fruit"),
    ("T1", "Oral Hygiene Products — Toothpaste, 6.4 oz", "1.99", "Drug Gm > Oral Hygiene Products"),
    ("T2", "Oral Hygiene Products — Toothbrushes", "2.49", "Drug Gm > Oral Hygiene Products"),
    ("C1", "Cookies/Cones — Chocolate Chip Cookies, 13 oz", "2.99", "Grocery > Cookies/Cones"),
    ("C2", "Cookies/Cones — Oatmeal Cookies, 12 oz", "2.49", "Grocery > Cookies/Cones"),
    ("C3", "Cookies/Cones — Sugar Wafer Cookies, 8 oz", "1.99", "Grocery > Cookies/Cones"),
    ("C4", "Cookies/Cones — Chocolate Sandwich Cookies, 14 oz", "3.29", "Grocery > Cookies/Cones"),
    ("P1", "Frozen Pizza — Pizza/Traditional, 21.5 oz", "4.50", "Grocery > Frozen Pizza"),
    ("P2", "Frozen Pizza — Pizza/Economy, 5 oz", "0.99", "Grocery > Frozen Pizza"),
    ("P3", "Frozen Pizza — Pizza/Premium, 26 oz", "6.99", "Grocery > Frozen Pizza"),
]


@pytest.fixture(scope="module")
def grocery_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("grocery") / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        # brand, description and tags as the Complete Journey derivation writes them (evaluation/completejourney.py)
        writer.writerow(["id", "title", "price", "category", "brand", "description", "tags"])
        writer.writerows([*row, "National", f"National brand. {row[3]}.", "national brand"] for row in ROWS)
    return path


@pytest.fixture(scope="module")
def grocery(tmp_path_factory: pytest.TempPathFactory, grocery_file: Path, minilm) -> Assistant:
    root = tmp_path_factory.mktemp("grocery-store")
    assistant = Assistant(Settings(index_dir=root / "index", index_name="grocery", state_dir=root / "state",
                                   llm_model="none", embedder="minilm"))
    assistant.rebuild_index([grocery_file])
    return assistant


# ---------------------------------------------------------------------------- the kind of product asked for


def test_own_kind_is_the_categories_holding_the_products_closest_to_the_need() -> None:
    similarity = np.array([0.70, 0.69, 0.68, 0.66, 0.67, 0.30, 0.20])
    categories = np.array([0, 0, 0, 0, 1, 1, 2])  # one close product of category 1 among many of category 0
    assert own_kind(similarity, categories).tolist() == [True] * 4 + [True, True, False]
    many = np.array([0.70] * 40 + [0.68, 0.30])
    codes = np.array([0] * 40 + [1, 1])
    assert own_kind(many, codes).tolist() == [True] * 40 + [False, False]  # 1 of 41 close is not a kind


def test_only_products_of_the_kind_asked_for_are_related() -> None:
    similarity = np.array([0.70, 0.68, 0.55, 0.50])  # two wines, two vinegars that name wine
    categories = np.array([0, 0, 1, 1])
    lexical = np.array([3.0, 3.0, 1.7, 1.7])
    allowed = np.array([False, False, True, True])  # under $2: only the vinegars
    assert related_products(similarity, 0.5, lexical, allowed, categories).tolist() == [True, True, False, False]
    one_category = np.zeros(4, dtype=np.int64)  # a catalog without categories: the kind says nothing
    assert related_products(similarity, 0.5, None, allowed, one_category).tolist() == [True] * 4


def test_wine_under_two_dollars_is_no_exact_match_and_vinegar_is_no_match(grocery: Assistant) -> None:
    rec = grocery.recommend("a bottle of wine under $2", k=5)
    assert rec.matched == 0
    assert all("Wine" in i.product.category for i in rec.items)  # alternatives are wines, marked over budget
    assert all(i.breakdown.relaxes for i in rec.items)


def test_what_names_the_need_without_being_it_is_no_match(grocery: Assistant) -> None:
    rec = grocery.recommend("wine under $8", k=5)  # Red Wine Vinegar is $1.19 and says "wine"
    assert rec.matched == 3 and {i.product.id for i in rec.items[:3]} == {"W1", "W2", "W3"}
    assert [i.product.id for i in rec.items[3:]] == ["W4"]  # over budget, marked


def test_a_word_shared_with_other_products_does_not_make_them_matches(grocery: Assistant) -> None:
    rec = grocery.recommend("running shoes size 10", k=5)  # "shoe" is in the Shoe Care titles; "running" in none
    assert rec.matched == 0 and rec.items == []
    assert "No exact match for running shoes" in rec.to_dict()["summary"]
    polish = grocery.recommend("shoe polish", k=5)  # in the store's own words
    assert polish.matched >= 1 and polish.items[0].product.id == "S2"


def test_diapers_under_a_dollar_in_chinese_are_no_exact_match(grocery: Assistant) -> None:
    rec = grocery.recommend("1美元以下的尿布", k=5)
    assert rec.matched == 0 and "D3" not in {i.product.id for i in rec.items}  # wipes are no diapers


# ---------------------------------------------------------------------------- Chinese in the store's words


def test_the_dictionary_reads_chinese_only_in_the_stores_words() -> None:
    grocery = StoreDictionary(frozenset({"banana", "toothpaste", "wine", "chocolate", "cookie", "pizza", "sheet"}))
    assert grocery.translate("香蕉") == ("banana", "")
    assert grocery.translate("牙膏") == ("toothpaste", "")
    assert grocery.translate("红酒")[0] == "wine"  # a lone head character in its first sense
    assert grocery.translate("一张沙发") == ("", "一张沙发")  # a classifier is never "sheet"
    shoes = StoreDictionary(frozenset({"shoe", "sneaker"}))
    assert shoes.translate("香蕉") == ("", "香蕉")  # a shoe shop sells no bananas
    assert not shoes.covers("香蕉") and grocery.covers("香蕉") and not grocery.covers("冷冻披萨")  # 冷冻: "freeze"


def test_a_chinese_catalog_gets_no_dictionary(tmp_path: Path) -> None:
    from assistant.ingest.catalog import read_catalog
    path = tmp_path / "c.csv"
    path.write_text("id,title,price\n1,儿童防水外套,99\n2,女士羊毛衫,199\n3,男士跑鞋,299\n", encoding="utf-8")
    products, _ = read_catalog([path])
    assert store_vocabulary(build_profile(products)).dictionary is None


def test_chinese_needs_and_exclusions_in_the_stores_words(grocery: Assistant) -> None:
    vocab = store_vocabulary(grocery.turn_pipeline().profile)
    assert parse_message("香蕉", vocab).need == "banana"
    assert parse_message("不要巧克力的", vocab).exclude_terms == ("chocolate",)
    bananas = grocery.recommend("香蕉", k=3)
    assert bananas.matched >= 1 and bananas.items[0].product.id == "B1"
    paste = grocery.recommend("牙膏3美元以下", k=3)
    assert paste.items[0].product.id == "T1"
    conversation = Conversation()
    grocery.recommend("饼干", conversation, k=5)
    no_chocolate = grocery.recommend("不要巧克力的", conversation, k=5)
    shown = [i.product for i in no_chocolate.items[:no_chocolate.matched]]
    assert shown and all("Chocolate" not in p.title and "Cookies" in p.title for p in shown)


def test_cheaper_in_chinese_keeps_the_need(grocery: Assistant) -> None:
    conversation = Conversation()
    for message in ("冷冻披萨", "5美元以下", "再便宜一点"):
        rec = grocery.recommend(message, conversation, k=5)
    assert conversation.state.need_original == "冷冻披萨" and conversation.state.cheaper
    assert rec.matched >= 1 and all("Pizza" in i.product.title for i in rec.items[:rec.matched])
