"""Understanding grounded in the served catalog (issue #13), on a store shaped nothing like the demo one: an
Indian fashion catalog with rupee prices, "Navy Blue" colours, Men/Women/Boys/Girls audiences and brands the
code has never seen; and a catalog with no colour column at all. Unit checks of the store profile and the
grounding, then the real Assistant (real MiniLM index) answering honestly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.ingest.catalog import read_catalog
from assistant.service.assistant import Assistant
from assistant.understand import Conversation, parse_message
from assistant.understand.grounding import ground
from assistant.understand.store import build_profile, store_vocabulary

HEADER = ["Product ID", "Name", "Price (INR)", "Brand", "Colour", "Gender", "Size", "Category", "Description"]
ROWS = [
    ("F01", "Roadster Men Navy Blue Solid Hooded Sweatshirt", "1299", "Roadster", "Navy Blue", "Men", "S|M|L|XL", "Apparel > Sweatshirts", "Cotton fleece hooded sweatshirt"),
    ("F02", "HRX Men Blue Printed Sweatshirt", "999", "HRX", "Blue", "Men", "M|L|XL", "Apparel > Sweatshirts", "Printed sweatshirt for men"),
    ("F03", "Roadster Boys Black Sweatshirt", "799", "Roadster", "Black", "Boys", "8-9Y|10-12Y", "Apparel > Sweatshirts", "A warm sweatshirt for boys"),
    ("F04", "HRX Boys Grey Melange Sweatshirt", "699", "HRX", "Grey Melange", "Boys", "8-9Y|10-12Y", "Apparel > Sweatshirts", "Soft sweatshirt for boys"),
    ("F05", "Gini and Jony Girls Pink Sweatshirt", "899", "Gini and Jony", "Pink", "Girls", "8-9Y|10-12Y", "Apparel > Sweatshirts", "A cosy pink sweatshirt for girls"),
    ("F06", "Gini and Jony Girls Lavender Hooded Sweatshirt", "1099", "Gini and Jony", "Lavender", "Girls", "10-12Y", "Apparel > Sweatshirts", "Hooded sweatshirt for girls"),
    ("F07", "Mast & Harbour Women Maroon Sweatshirt", "1199", "Mast & Harbour", "Maroon", "Women", "S|M|L", "Apparel > Sweatshirts", "Relaxed sweatshirt for women"),
    ("F08", "Wild Stone Men Deodorant Perfume Spray", "349", "Wild Stone", "", "Men", "", "Personal Care > Fragrance", "Long lasting perfume for men"),
    ("F09", "Wild Stone Ultra Sensual Perfume", "449", "Wild Stone", "", "Men", "", "Personal Care > Fragrance", "Eau de parfum with a woody scent"),
    ("F10", "Park Avenue Good Morning Perfume", "399", "Park Avenue", "", "Men", "", "Personal Care > Fragrance", "Fresh perfume for every day"),
    ("F11", "Fogg Scent Impressio Perfume", "499", "Fogg", "", "Men", "", "Personal Care > Fragrance", "A perfume with a citrus note"),
    ("F12", "Engage Women Blush Perfume", "299", "Engage", "", "Women", "", "Personal Care > Fragrance", "Floral perfume for women"),
    ("F13", "Nike Men Black Revolution Running Shoes", "3495", "Nike", "Black", "Men", "7|8|9|10", "Footwear > Sports Shoes", "Light running shoes"),
    ("F14", "Nike Women Pink Running Shoes", "3295", "Nike", "Pink", "Women", "4|5|6|7", "Footwear > Sports Shoes", "Cushioned running shoes"),
    ("F15", "Puma Men Navy Blue Sneakers", "2799", "Puma", "Navy Blue", "Men", "7|8|9|10", "Footwear > Casual Shoes", "Everyday sneakers"),
    ("F16", "Zaveri Pearls Gold Toned Earrings", "599", "Zaveri Pearls", "Gold", "Women", "", "Jewellery > Earrings", "Gold-plated drop earrings"),
    ("F17", "Zaveri Pearls Gold Toned Jhumka Earrings", "699", "Zaveri Pearls", "Gold", "Women", "", "Jewellery > Earrings", "Traditional gold-plated jhumkas"),
    ("F18", "Accessorize Silver Toned Stud Earrings", "499", "Accessorize", "Silver", "Women", "", "Jewellery > Earrings", "Silver-toned studs"),
    ("F19", "Accessorize Yellow Beaded Earrings", "399", "Accessorize", "Yellow", "Women", "", "Jewellery > Earrings", "Bright yellow beads"),
    ("F20", "Libas Women Red Printed Kurta", "1499", "Libas", "Red", "Women", "S|M|L|XL", "Apparel > Kurtas", "Cotton kurta with a block print"),
    ("F21", "Libas Women Blue Kurta", "1299", "Libas", "Blue", "Women", "S|M|L", "Apparel > Kurtas", "Straight kurta in blue"),
    ("F22", "W Women Green Kurta", "1799", "W", "Green", "Women", "M|L|XL", "Apparel > Kurtas", "A-line kurta in green"),
]


def write_catalog(folder: Path, header: list[str], rows: list[tuple]) -> Path:
    path = folder / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def fashion_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("fashion"), HEADER, ROWS)


@pytest.fixture(scope="module")
def fashion(fashion_file: Path):
    products, report = read_catalog([fashion_file], {"audience": "Gender"})
    return products, build_profile(products, None, report.currency)


# ---------------------------------------------------------------------------- the store profile


def test_the_profile_reads_the_stores_own_values(fashion) -> None:
    _, profile = fashion
    assert profile.currency == "INR" and profile.currency_source == "catalog"  # from "Price (INR)"
    assert profile.color_family("Navy Blue") == "blue" and profile.color_family("Blue") == "blue"
    assert profile.color_family("Gold") == "gold" and profile.color_family("Grey Melange") == "grey"
    assert profile.audiences == {"boys": "boys", "girls": "girls", "men": "men", "women": "women"}
    assert "Wild Stone" in profile.brands and "Nike" in profile.brands
    assert profile.brand_aliases["耐克"] == "Nike" and profile.brand_aliases["彪马"] == "Puma"
    assert "阿迪达斯" not in profile.brand_aliases  # the store sells no Adidas
    assert profile.fill["color"] == pytest.approx(17 / 22, abs=1e-3) and profile.filled("color")
    assert profile.quality["missing color"] == 5 and profile.quality["duplicate titles"] == 0
    summary = profile.summary()
    assert summary["currency"] == "INR (catalog)" and summary["colour families"]["blue"] == 4


def test_a_currency_setting_wins_and_prices_are_found_in_values() -> None:
    products, report = read_catalog([write_catalog_text("id,title,price\na,Mug,₹299\nb,Cup,₹199\n")])
    assert report.currency == "INR"
    assert build_profile(products, "EUR", report.currency).currency == "EUR"
    assert build_profile(products, None, None).currency == "USD"


def write_catalog_text(text: str) -> Path:
    import tempfile
    path = Path(tempfile.mkdtemp()) / "c.csv"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- grounding


def grounded(message: str, profile, conversation: Conversation | None = None):
    vocab = store_vocabulary(profile)
    if conversation is not None:
        conversation.add(message, vocab)
        return ground(conversation.state, profile, vocab)
    return ground(parse_message(message, vocab, strict=True), profile, vocab)


def test_blue_takes_the_blue_family_and_navy_takes_navy(fashion) -> None:
    _, profile = fashion
    blue = grounded("a blue sweatshirt", profile)
    assert set(blue.color_values) == {"navy blue", "blue"} and not blue.grounding
    navy = grounded("navy sneakers", profile)
    assert navy.color_values == ("navy blue",)


def test_a_shade_the_store_lacks_falls_back_to_its_family_and_says_so(fashion) -> None:
    _, profile = fashion
    request = grounded("a burgundy kurta", profile)  # no burgundy / maroon kurta shade... but maroon exists
    assert request.color_values == ("maroon",)
    teal = grounded("a cobalt kurta", profile)  # cobalt is the blue family's; the store has blue values
    assert set(teal.color_values) == {"navy blue", "blue"}


def test_gold_earrings_are_gold_not_yellow(fashion) -> None:
    _, profile = fashion
    request = grounded("gold earrings", profile)
    assert request.color_values == ("gold",) and "earrings" in request.need


def test_brands_stay_in_the_search_text_and_the_stores_brands_are_excluded(fashion) -> None:
    _, profile = fashion
    request = grounded("perfume, not Wild Stone", profile)
    assert request.exclude_brands == ("Wild Stone",) and request.need == "perfume"
    nike = grounded("nike running shoes", profile)
    assert nike.brands == ("Nike",) and nike.need.startswith("nike")
    assert grounded("耐克跑鞋", profile).brands == ("Nike",)


@pytest.mark.parametrize("message, price_max", [
    ("perfume under ₹1500", 1500), ("a kurta under Rs 3000", 3000), ("1500卢比以内的香水", 1500),
    ("sweatshirt below INR 999", 999), ("earrings under 500 rupees", 500)])
def test_rupee_budgets(fashion, message: str, price_max: float) -> None:
    _, profile = fashion
    request = grounded(message, profile)
    assert request.price_max == price_max and request.currency == "INR"


def test_a_teenage_girl_is_a_girl_and_for_my_daughter_instead_drops_the_adult_size(fashion) -> None:
    _, profile = fashion
    assert grounded("sweatshirt for a teenage girl", profile).audience == "girls"
    conversation = Conversation()
    grounded("a sweatshirt for my husband, size XL", profile, conversation)
    assert conversation.state.sizes == ("XL",) and conversation.state.audience == "men"
    state = grounded("for my daughter instead", profile, conversation)
    assert state.audience == "girls" and state.sizes == ()


def test_colour_words_in_a_catalog_without_colours_stay_search_words(tmp_path: Path) -> None:
    rows = [("g1", "Burr Coffee Grinder", "59.99"), ("g2", "Manual Coffee Grinder", "29.99"),
            ("g3", "Hydrating Eye Cream", "19.99"), ("g4", "Green Bay Packers Cap", "24.99"),
            ("g5", "Silver Ring", "39.99")]
    products, report = read_catalog([write_catalog(tmp_path, ["id", "title", "price"], rows)])
    profile = build_profile(products, None, report.currency)
    for message in ("coffee grinder", "eye cream", "green bay packers", "silver ring"):
        request = grounded(message, profile)
        assert request.colors == () and request.color_values == (), message
        assert request.need == message, message


def test_a_product_phrase_with_a_colour_word_is_not_a_colour(tmp_path: Path) -> None:
    rows = [(f"c{i}", f"{brand} Coffee Maker", "49.99", colour) for i, (brand, colour) in
            enumerate([("Acme", "Black"), ("Brewo", "Silver"), ("Kaffa", "Red"), ("Mokka", "White")])]
    rows += [("t1", "Brown Leather Belt", "19.99", "Brown"), ("t2", "Black Belt", "17.99", "Black")]
    products, report = read_catalog([write_catalog(tmp_path, ["id", "title", "price", "color"], rows)])
    profile = build_profile(products, None, report.currency)
    assert grounded("coffee maker", profile).colors == ()  # "coffee" here names the product, not brown
    assert grounded("a brown belt", profile).color_values == ("brown",)


# ---------------------------------------------------------------------------- the real assistant


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, fashion_file: Path, minilm) -> Assistant:
    root = tmp_path_factory.mktemp("fashion-store")
    settings = Settings(index_dir=root / "index", index_name="fashion", state_dir=root / "state",
                        llm_model="none", embedder="minilm", column_map={"audience": "Gender"})
    assistant = Assistant(settings)
    assistant.rebuild_index([fashion_file])
    return assistant


def test_a_teenage_girl_gets_no_boys_sweatshirts(shop: Assistant) -> None:
    rec = shop.recommend("a sweatshirt for a teenage girl", k=5)
    matches = rec.items[:rec.matched]
    assert matches and {i.product.id for i in matches} <= {"F05", "F06"}
    for item in rec.items[rec.matched:]:  # boys' or men's sweatshirts only ever as marked alternatives
        assert any(r.startswith("made for") for r in item.breakdown.relaxes), item.breakdown.relaxes


def test_not_wild_stone_shows_no_wild_stone(shop: Assistant) -> None:
    rec = shop.recommend("perfume, not Wild Stone", k=3)
    assert rec.items and all(i.product.brand != "Wild Stone" for i in rec.items)


def test_rupee_prices_are_shown_in_rupees(shop: Assistant) -> None:
    rec = shop.recommend("perfume under ₹400", k=5)
    assert rec.request.currency == "INR" and all(i.product.price <= 400 for i in rec.items[:rec.matched])
    reasons = shop.explain(rec.turn_id)
    assert all("$" not in text for text in reasons.values()) and any("₹" in text for text in reasons.values())
    assert "₹400" in rec.to_dict()["summary"]


def test_too_few_matches_are_completed_with_marked_alternatives_never_padding(shop: Assistant) -> None:
    rec = shop.recommend("navy running shoes for men", k=5)
    data = rec.to_dict()
    assert data["matched"] == rec.matched < 5
    for item in data["items"][rec.matched:]:
        assert not item["match"] and item["relaxes"], item
        assert "Shoes" in item["product"]["category"]  # related: shoes, not perfume or kurtas
    assert "closest alternative" in data["summary"]
    reasons = shop.explain(rec.turn_id)
    for item in rec.items[rec.matched:]:  # an alternative's reason says first what it does not meet
        assert reasons[item.product.id].startswith("Not an exact match: " + item.breakdown.relaxes[0])


@pytest.mark.parametrize("junk", ["", "   ", "<script>alert(1)</script>", "😀😀😀", "qwzx vbnm $6 plokij",
                                  "x" * 3000])
def test_junk_gets_a_clarifying_question_and_changes_nothing(shop: Assistant, junk: str) -> None:
    conversation = Conversation()
    first = shop.recommend("a blue kurta", conversation)
    assert first.items and not first.clarify
    rec = shop.recommend(junk, conversation)
    assert rec.items == [] and rec.clarify and rec.suggestions
    assert conversation.state.price_max is None and conversation.state.need == "kurta"  # no "$6" kept


def test_a_vague_need_gets_picks_and_a_question(shop: Assistant) -> None:
    rec = shop.recommend("something nice as a gift")
    assert rec.items and rec.clarify and "budget" in rec.clarify


def test_something_the_store_does_not_sell_says_so(shop: Assistant) -> None:
    rec = shop.recommend("a sofa under ₹20000")
    assert rec.items == [] and rec.matched == 0
    assert rec.to_dict()["summary"].startswith("No exact match")


def test_a_typo_is_matched_against_the_stores_words(shop: Assistant) -> None:
    rec = shop.recommend("sweatshrt for a girl")
    assert rec.request.need == "girl sweatshirt" and rec.items[0].product.id in {"F05", "F06"}  # sweatshrt fixed


def test_an_empty_colour_or_audience_is_read_from_an_unambiguous_title() -> None:
    from assistant.ingest.catalog import Product
    from assistant.understand.enrich import enrich_products

    products = [Product("a", "Black Solid Polo T-shirt", 10.0), Product("b", "Roadster Men Navy Blue Hoodie", 20.0),
                Product("c", "Red and Blue Scarf", 5.0), Product("d", "Green Tea Mug", 5.0),
                Product("e", "Kids Raincoat", 15.0, color="Yellow")]
    enriched, counts = enrich_products(products)
    assert counts == {"color": 2, "audience": 2}
    a, b, c, d, e = enriched
    assert (a.color, a.attributes["inferred"]) == ("black", "color")
    assert (b.color, b.audience, b.attributes["inferred"]) == ("navy", "men", "color,audience")
    assert c.color == "" and d.color == ""  # two colours; "green tea" is no colour
    assert (e.color, e.audience) == ("Yellow", "kids")  # a given colour is never replaced


def test_a_catalog_with_no_colours_gets_only_basic_colour_words_read_from_titles() -> None:
    """A grocery gives no colours: its shade names are products (coffee, ice cream, charcoal), never colours."""
    from assistant.ingest.catalog import Product
    from assistant.understand.enrich import enrich_products

    titles = ["Coffee — Ground Coffee, 11.5 oz", "Ice Cream — Premium Ice Cream", "Charcoal — Briquets, 16 lb",
              "Condiments — Hot Mustard, 12 oz", "Vegetables — Green Beans, 14.5 oz", "Bread — White Bread, 24 oz"]
    enriched, counts = enrich_products([Product(str(i), t, 2.0) for i, t in enumerate(titles)])
    assert [p.color for p in enriched] == ["", "", "", "", "green", "white"] and counts["color"] == 2
    given = [Product("x", "Charcoal Wool Coat", 90.0), Product("y", "Blue Scarf", 9.0, color="Blue")]
    assert enrich_products(given)[0][0].color == "charcoal"  # where the catalog gives colours, shade names count


def test_inferred_values_are_marked_in_the_served_index(shop: Assistant) -> None:
    inferred = {p.id: p.attributes["inferred"] for p in shop.index.products if "inferred" in p.attributes}
    # Only F12's title names a colour ("Blush": a perfume's name read as pink — why it stays marked inferred)
    assert inferred == {"F12": "color"}


def test_chinese_words_the_glossary_lacks_still_find_the_english_products(shop: Assistant) -> None:
    """The fashion store is English (MiniLM), so its build keeps multilingual vectors too: "香水" (perfume)
    and "耳环" (earrings), which the parser's glossary does not translate, are searched as written."""
    assert shop.index.extra_file("vectors_use.npy") is not None
    perfume = shop.recommend("香水", k=3)
    assert perfume.matched == 3 and all("Perfume" in i.product.title for i in perfume.items)
    earrings = shop.recommend("耳环", k=3)
    assert all("Earrings" in i.product.title for i in earrings.items[:earrings.matched]) and earrings.matched
    sofa = shop.recommend("我想买一张沙发")
    assert sofa.matched == 0 and sofa.items == []
