"""The shopper-facing data of an answer, without a browser: follow-up chips made from the store's own words
(each one read back by the store's parser), "compare 1 and 3" in English and Chinese, the comparison table
in the store's currency, and the one-line headline of what was understood and relaxed. Real Assistant over
a small rupee fashion store (the model-free hashing embedder), nothing like the demo store."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.service.answers import headline, relaxed_constraints, summary
from assistant.service.assistant import Assistant
from assistant.service.compare import compare, compare_positions
from assistant.service.followups import budget_between, follow_ups
from assistant.understand import parse_message
from assistant.understand.store import store_vocabulary

HEADER = ["SKU", "ProductName", "Price (INR)", "Brand", "Colour", "Gender", "Size", "Category", "Rating"]
ROWS = [
    ("K1", "Roadster Boys Black Hooded Sweatshirt", "799", "Roadster", "Black", "Boys", "8-9Y|10-12Y", "Apparel > Sweatshirts", "4.1"),
    ("K2", "HRX Boys Grey Sweatshirt", "699", "HRX", "Grey", "Boys", "8-9Y", "Apparel > Sweatshirts", "3.9"),
    ("K3", "Gini and Jony Girls Pink Sweatshirt", "899", "Gini and Jony", "Pink", "Girls", "8-9Y|10-12Y", "Apparel > Sweatshirts", "4.4"),
    ("K4", "Gini and Jony Girls Lavender Sweatshirt", "1099", "Gini and Jony", "Lavender", "Girls", "10-12Y", "Apparel > Sweatshirts", ""),
    ("K5", "Roadster Men Navy Blue Sweatshirt", "1299", "Roadster", "Navy Blue", "Men", "S|M|L", "Apparel > Sweatshirts", "4.0"),
    ("K6", "HRX Men Blue Printed Sweatshirt", "999", "HRX", "Blue", "Men", "M|L|XL", "Apparel > Sweatshirts", "3.7"),
    ("K7", "Mast & Harbour Women Maroon Sweatshirt", "1199", "Mast & Harbour", "Maroon", "Women", "S|M|L", "Apparel > Sweatshirts", "4.2"),
    ("K8", "Libas Women Blue Kurta", "1299", "Libas", "Blue", "Women", "S|M|L", "Apparel > Kurtas", "4.5"),
    ("K9", "Libas Women Red Printed Kurta", "1499", "Libas", "Red", "Women", "S|M|L|XL", "Apparel > Kurtas", "4.3"),
    ("K10", "W Women Green Kurta", "1799", "W", "Green", "Women", "M|L|XL", "Apparel > Kurtas", "4.0"),
    ("K11", "Nike Men Black Running Shoes", "3495", "Nike", "Black", "Men", "7|8|9|10", "Footwear > Sports Shoes", "4.6"),
    ("K12", "Nike Women Pink Running Shoes", "3295", "Nike", "Pink", "Women", "4|5|6|7", "Footwear > Sports Shoes", "4.4"),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    folder = tmp_path_factory.mktemp("rupee-shop")
    path = folder / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *ROWS])
    settings = Settings(index_dir=folder / "index", index_name="rupees", embedder="hashing",
                        state_dir=folder / "state", llm_model="none")
    assistant = Assistant(settings)
    assistant.rebuild_index([path], mapping={"id": "SKU", "title": "ProductName", "audience": "Gender"})
    return assistant


def reads_as(shop: Assistant, chip: str):
    return parse_message(chip, store_vocabulary(shop.store_profile()))


def test_chips_refine_the_answer_in_the_stores_words_and_currency(shop: Assistant) -> None:
    conversation, rec = shop.chat("sweatshirt")
    chips = follow_ups(rec, shop.store_profile())
    assert 2 <= len(chips) <= 4 and len(set(chips)) == len(chips), chips
    for chip in chips:  # each one a refinement the store's parser reads, never a new need
        assert set(reads_as(shop, chip).need.split()) <= set(chip.split()), chip
    budget = next(c for c in chips if c.startswith("under "))
    assert "₹" in budget and "$" not in budget
    assert any(c.startswith("in ") for c in chips), chips  # a colour of this store
    # Sending the budget chip keeps the need and adds the budget.
    _, refined = shop.chat(budget, conversation)
    assert refined.request.need == "sweatshirt" and refined.request.price_max == reads_as(shop, budget).price_max
    assert all(i.product.price <= refined.request.price_max for i in refined.items[:refined.matched])
    assert "cheaper" in follow_ups(refined, shop.store_profile())  # a budget is set: offer cheaper instead


def test_a_childs_answer_offers_girl_or_boy_and_chinese_gets_chinese_chips(shop: Assistant) -> None:
    _, rec = shop.chat("sweatshirt for my 9 year old")
    chips = follow_ups(rec, shop.store_profile())
    assert "for a girl" in chips or "for a boy" in chips, chips
    _, zh = shop.chat("跑鞋")
    chinese = follow_ups(zh, shop.store_profile())
    assert chinese and all(not c.isascii() for c in chinese), chinese
    assert "其他的" in chinese and any(reads_as(shop, c).price_max or reads_as(shop, c).colors for c in chinese)


def test_a_message_the_store_cannot_serve_gets_its_categories_as_chips(shop: Assistant) -> None:
    _, rec = shop.chat("asdf qwerty")
    assert rec.clarify and not rec.items
    assert follow_ups(rec, shop.store_profile()) == list(rec.suggestions)[:4] and rec.suggestions


@pytest.mark.parametrize("message, shown, positions", [
    ("compare 1 and 3", 5, (1, 3)), ("比较1和3", 5, (1, 3)), ("比较第一个和第三个", 5, (1, 3)),
    ("compare the first and the last", 4, (1, 4)), ("compare #2 with #5 under $30", 5, (2, 5)),
    ("compare them all", 3, (1, 2, 3)), ("对比一下1、2", 5, (1, 2)),
    ("compare 1 and 9", 5, None), ("jacket 1 and 3", 5, None), ("compare 1 and 3", 0, None)])
def test_compare_positions(message: str, shown: int, positions) -> None:
    assert compare_positions(message, shown) == positions


def test_the_comparison_table_holds_the_products_own_fields_in_the_stores_currency(shop: Assistant) -> None:
    products = [shop.index.products[shop.index.position_of(pid)] for pid in ("K1", "K4")]
    table = compare(products, shop.store_profile().currency, "en", (1, 3))
    rows = dict(table.rows)
    assert table.titles == ("Roadster Boys Black Hooded Sweatshirt", "Gini and Jony Girls Lavender Sweatshirt")
    assert rows["Price"] == ("₹799", "₹1,099") and rows["Brand"] == ("Roadster", "Gini and Jony")
    assert rows["Colour"] == ("Black", "Lavender") and rows["Sizes"] == ("8-9Y / 10-12Y", "10-12Y")
    assert rows["Rating"][1] == "" and "Features" not in rows  # no tags in this catalog: no empty row
    chinese = dict(compare(products, "INR", "zh").rows)
    assert chinese["价格"] == ("₹799", "₹1,099") and table.to_dict()["positions"] == [1, 3]


def test_the_headline_says_what_was_understood_and_what_was_relaxed(shop: Assistant) -> None:
    _, rec = shop.chat("blue kurta under ₹1,400")
    line = headline(rec)
    assert "kurta" in line.understood and "₹1,400" in line.understood
    assert line.shown == len(rec.items) and line.matched == rec.matched
    if rec.matched < len(rec.items):  # alternatives are named in the reply, not only on the cards
        assert line.relaxed and line.relaxed[0] in summary(rec)


def test_round_budgets() -> None:
    assert budget_between([699, 799, 899, 999, 1099]) == 1000  # some shown products meet it, some do not
    assert budget_between([21.99, 24.99, 26.99, 30.99, 31.99]) == 25
    assert budget_between([5, 5, 5]) is None and budget_between([]) is None


def test_relaxed_constraints_are_named_once() -> None:
    labels = ["$37.99, over your $15", "$24.99, over your $15", "navy, not blue", "no size M", "₹1,499，超出您的₹1,400预算"]
    assert relaxed_constraints(labels) == ("over your $15", "not blue", "no size M", "超出您的₹1,400预算")


def test_where_nothing_meets_the_budget_the_chip_drops_it(shop: Assistant) -> None:
    _, rec = shop.chat("sweatshirt under ₹100")
    assert rec.matched == 0 and rec.items  # marked alternatives only
    chips = follow_ups(rec, shop.store_profile())
    assert chips[0] == "forget the budget" and "cheaper" not in chips, chips


def test_the_shop_gets_the_reasons_one_by_one_then_all(shop: Assistant) -> None:
    from assistant.surfaces.web.shop import reasons_as_written

    _, rec = shop.chat("sweatshirt for a boy")
    steps = list(reasons_as_written(shop, rec.turn_id))
    shown = [i.product.id for i in rec.items]
    assert [len(s) for s in steps[:-1]] == list(range(1, len(shown) + 1))  # one more each time
    assert steps[-1] == steps[-2] == shop.explain(rec.turn_id) and set(steps[-1]) == set(shown)
    assert all(earlier.items() <= later.items() for earlier, later in zip(steps, steps[1:]))  # none rewritten
