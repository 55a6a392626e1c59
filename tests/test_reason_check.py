"""The grounding check on the sentences a person caught the LLM writing (issue 15): each is rejected with its
failure in words, and the template sentence shown instead passes the same check. Store words (type nouns,
brands, currency) come from a `StoreProfile`, as they do from the served catalog."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.ingest.catalog import Product
from assistant.reasons import check_reason, template_reason
from assistant.reasons.explain import complete_sentence
from assistant.understand import parse_message
from assistant.understand.store import StoreProfile

STORE = StoreProfile(product_count=6, brands=("Zenko", "Arcbyte", "Puddlejump"),
                     category_cues={"ballet flat": ["Shoes"], "boot": ["Shoes"], "sneaker": ["Shoes"],
                                    "sweater": ["Tops"], "shirt": ["Tops"], "t-shirt": ["Tops"], "cap": ["Accessories"],
                                    "jacket": ["Outerwear"], "headphone": ["Audio"]})
WINE = Product(id="W1", title="Domestic Wine — Fruit Varietal Wines", price=5.99, category="Grocery > Domestic Wine",
               brand="National")
FLATS = Product(id="F1", title="Zenko Classic Ballet Flats - Black", price=34.99, category="Women > Shoes",
                brand="Zenko", color="black", audience="women", size="6|7|8|9|10", tags=("leather", "cushioned"),
                rating=4.4, rating_count=52)
SNEAKERS = Product(id="S1", title="Zenko Everyday Sneakers - White", price=49.99, category="Women > Shoes",
                   brand="Zenko", color="white", audience="women", size="6|7|8|9|10", tags=("breathable", "mesh"))
SWEATER = Product(id="W1", title="Arcbyte Merino Crew Sweater - Grey", price=59.0, category="Men > Tops",
                  brand="Arcbyte", color="grey", audience="men", size="S|M|L", tags=("merino wool", "warm"))
GIRLS_TEE = Product(id="G1", title="Puddlejump Girls' Graphic T-Shirt - Pink", price=12.99, category="Kids > Tops",
                    brand="Puddlejump", color="pink", audience="kids", size="4-5Y|6-7Y|8-9Y", tags=("cotton",))
CAP = Product(id="C1", title="Arcbyte Baseball Cap - Navy", price=19.99, category="Accessories", brand="Arcbyte",
              color="navy", audience="unisex", size="One Size", tags=("adjustable",))
SAUCE = Product(id="S2", title="Pasta Sauce — Premium, 24 oz", price=2.0, category="Grocery > Pasta Sauce",
                brand="National", size="24 oz", tags=("national brand",))
CHICKEN = Product(id="B1", title="Chicken — Chicken Breast Bone In", price=3.77, category="Meat > Chicken",
                  brand="National", tags=("national brand",))
PAN = Product(id="P1", title="Zenko Nonstick Frying Pan", price=1044.0, category="Kitchen > Cookware", brand="Zenko",
              tags=("nonstick",))

EN_FLATS = parse_message("ballet flats size 8")
ZH_SHOES = parse_message("想要白色的运动鞋")
EN_BOY = parse_message("t-shirt for a 6 year old boy")
EN_CAP = parse_message("a cap")
EN_HEADPHONES = parse_message("wireless headphones under $30")


@pytest.mark.parametrize("text, product, request_, failure", [
    ("These ballet flats come in black for women under", FLATS, EN_FLATS, "cut mid-phrase"),
    ("The ballet flats are cushioned and its main material is T", FLATS, EN_FLATS, "cut mid-phrase"),
    ("这款黑色黑色黑色黑色芭蕾平底鞋很舒适。", FLATS, parse_message("黑色的平底鞋"), "repeats"),
    ("Ballet flats for my daughter fit your request because they are cushioned.", FLATS,
     parse_message("ballet flats for my daughter"), "echoes the request"),
    ("Shopper's request for \"show me more\" is a great match for these flats.", FLATS, EN_FLATS, "echo"),
    ("Under $30 is a great choice for the Arcbyte headphones.", CAP, EN_HEADPHONES, "echoes the request"),
    ("这款女装靴售价34.99美元，黑色。", FLATS, parse_message("黑色的平底鞋"), "not the product's type"),
    ("These black boots are cushioned and cost $34.99.", FLATS, EN_FLATS, "not the product's type"),
    ("这款衬衫由美利奴羊毛制成，售价59美元。", SWEATER, parse_message("男士毛衣"), "not the product's type"),
    ("这款运动鞋保暖透气，售价49.99美元。", SNEAKERS, ZH_SHOES, "claims '保暖'"),
    ("这款白色运动鞋透气，适合各种尺寸。", SNEAKERS, ZH_SHOES, "claims '各种尺寸'"),
    ("这款白色运动鞋耐高温，售价49.99美元。", SNEAKERS, ZH_SHOES, "claims '耐高温'"),
    ("这款运动鞋以其透气设计而闻名，售价49.99美元。", SNEAKERS, ZH_SHOES, "claims '闻名'"),  # seen over HTTP
    ("These white sneakers are waterproof and breathable.", SNEAKERS, parse_message("white sneakers"), "waterproof"),
    ("Made from sustainable mesh, these white sneakers breathe.", SNEAKERS, parse_message("white sneakers"),
     "sustainable"),
    ("This pink graphic T-shirt is right for your 6-year-old boy.", GIRLS_TEE, EN_BOY, "other sex"),
    ("This grey merino crew sweater comes in size XL.", SWEATER, parse_message("merino sweater"), "size 'xl'"),
    ("The Zenk ballet flats are cushioned and cost $34.99.", FLATS, EN_FLATS, "not exactly 'Zenko'"),
    ("This navy baseball cap fits your budget.", CAP, EN_CAP, "budget"),
    ("This navy baseball cap is adjustable and within your budget.", CAP, EN_CAP, "budget"),
    ("This nonstick frying pan from Zenko costs $1,044.", PAN, parse_message("a frying pan"), "currency '$'"),
    ("The product suits you because it meets the requirements of your request.", FLATS, EN_FLATS, "generic"),
    ("The baseball cap is a good pick because it is a brand name, adjustable and navy.", CAP, EN_CAP,  # hand-read
     "calls the product a brand"),
    ("The navy cap is adjustable, which is a brand that offers a navy colour.", CAP, EN_CAP, "calls the product a brand"),
    ("The Arcbyte baseball cap is a high-performance, adjustable cap.", CAP, EN_CAP, "high-performance"),
    ("The navy Arcbyte cap is sleek and adjustable.", CAP, EN_CAP, "sleek"),
    ("The baseball cap is a good pick because it is a high-stocked, adjustable cap.", CAP, EN_CAP, "high-stocked"),
    ("The navy cap is a good pick because it is a well-regulated, adjustable cap.", CAP, EN_CAP, "well-regulated"),
    ("The baseball cap is a good pick for you with an adjustable.", CAP, EN_CAP, "cut mid-phrase"),
    ("The baseball cap is a good pick for Arcbyte, which offers an adjustable navy cap.", CAP, EN_CAP,
     "calls the product a brand"),
    ("这款运动鞋透气，价格在60美元，白色。", SNEAKERS, parse_message("60美元以内的白色运动鞋"),  # harvested, 2026-12-03
     "says the price is 60"),
    ("The premium 24 oz is a good pick because it is a premium brand, priced at $2.", SAUCE, parse_message("premium"),
     "calls the product a brand ('a premium brand')"),  # "Premium" is the line, not the brand (harvested)
    ("It is a store brand, priced at $2.", SAUCE, parse_message("pasta sauce"), "calls the product a brand"),
    ("The premium sauce is a good pick because it is a 24 oz premium brand, priced at $2.", SAUCE,
     parse_message("pasta sauce"), "calls the product a brand ('a 24 oz premium brand')"),
    ("这款芭蕾平底鞋是Zenko的、评分4.4的高端产品。", FLATS, parse_message("平底鞋"), "高端"),  # hand-read (a tablet)
    ("The ballet flats are a good pick because they are cushioned, which is a common feature for flats.", FLATS,
     EN_FLATS, "common feature"),
    ("The product is a good pick because it meets your requirements for a cotton T-shirt, which is a 6-year-old.",
     GIRLS_TEE, EN_BOY, "calls the product an age"),  # from `make run`, 2026-12-03
    ("The graphic T-shirt is a good pick because it fits the features of the machine-washable.", GIRLS_TEE, EN_BOY,
     "cut mid-phrase"),
    ("Chicken breast bone in is a good pick because it is a bone in chicken breast.", CHICKEN,
     parse_message("chicken breast"), "generic"),  # its own name said twice (harvested)
    ("Salad: lettuce is a good pick because it is a salad.", Product(
        id="L2", title="Salads/Dips — Salad: Lettuce", price=2.99, category="Deli > Salads/Dips", brand="National"),
     parse_message("bagged salad"), "generic"),
    ("The pasta sauce is a good pick because it is a 24 oz pack, a brand of sauce.", SAUCE, parse_message("sauce"),
     "calls the product a brand ('a brand of')"),
    # The hand-read sample of 2026-12-04 (oneDNN int8): a doubled brand, a rating cut at its decimal point,
    # a claim the data does not make, the shopper's "favourites".
    ("The Zenko Zenko ballet flats are a good pick for those looking for cushioned flats.", FLATS, EN_FLATS,
     "repeats 'zenko'"),
    ("The classic ballet flats are a good pick with a black colour and a rating of 4.", FLATS, EN_FLATS,
     "says the rating is 4 but it is 4.4"),
    ("The classic ballet flats are a great choice for those looking for a reliable.", FLATS, EN_FLATS, "reliable"),
    ("The ballet flats are a good pick, making them a standout product among your favorites.", FLATS, EN_FLATS,
     "claims"),
    ("The classic ballet flats are a good pick for their cushioned sole, making them a fun.", FLATS, EN_FLATS,
     "cut mid-phrase"),
    ("这款平底鞋非常推荐，售价34.99美元。", FLATS, parse_message("平底鞋"), "非常推荐"),
    ("这款红酒售价5.99美元。", WINE, parse_message("红酒"), "红酒"),
    ("The cushioned ballet flats are a good pick because they are machine-washble.", dataclasses.replace(
        FLATS, tags=("cushioned", "machine-washable")), EN_FLATS, "misspells 'machine-washable'"),
    ("这款平底鞋在预算内是价格的34.99美元。", FLATS, parse_message("40美元以下的平底鞋"), "garbled"),
    ("The Zenko classic ballet flats.", FLATS, EN_FLATS, "only the product's name"),
    ("这款平底鞋小巧，黑色，性价比高。", FLATS, parse_message("平底鞋"), "性价比"),  # the seed-33 draw
    ("这款平底鞋非常适合无线充电，黑色。", dataclasses.replace(FLATS, tags=("wireless", "rechargeable")),
     parse_message("平底鞋"), "无线充电"),
    ("The zenko ballet flats are cushioned leather.", FLATS, EN_FLATS, "brand written 'zenko', not exactly 'Zenko'"),
])
def test_a_bad_reason_is_rejected_with_its_failure(text, product, request_, failure) -> None:
    if product is PAN:  # a rupee store
        import dataclasses
        request_ = dataclasses.replace(request_, currency="INR")
    result = check_reason(text, product, request_, store=STORE)
    assert result is not None and failure in result, result


@pytest.mark.parametrize("text, product, request_", [
    ("These Zenko ballet flats are cushioned leather and come in size 8 for $34.99.", FLATS, EN_FLATS),
    ("These Zenko ballet flats are cushioned and rated 4.4 by 52 shoppers.", FLATS, EN_FLATS),
    ("这款Zenko芭蕾平底鞋评分4.4。", FLATS, parse_message("平底鞋")),
    ("这款Zenko白色运动鞋透气，售价49.99美元。", SNEAKERS, ZH_SHOES),
    ("The Arcbyte merino crew sweater is warm and comes in grey.", SWEATER, parse_message("warm sweater")),
    ("The Puddlejump graphic T-shirt is cotton and comes in 6-7Y.", GIRLS_TEE, EN_BOY),
    ("The Arcbyte baseball cap is adjustable and one size fits all.", CAP, EN_CAP),
    ("The Arcbyte cap is a brand-name, adjustable navy cap.", CAP, EN_CAP),
    ("这款白色运动鞋透气，价格在60美元以内。", SNEAKERS, parse_message("60美元以内的白色运动鞋")),  # the budget
    ("The pasta sauce is a national brand, priced at $2.", SAUCE, parse_message("pasta sauce")),
    ("The Puddlejump graphic T-shirt is cotton and comes in 6-7Y, which fits a 6-year-old.", GIRLS_TEE, EN_BOY),
    ("The chicken breast is a good pick because it is within your $5 budget.", CHICKEN,
     parse_message("chicken breast under $5")),  # the price against the budget the shopper stated
    ("这款鸡胸肉在5美元预算内。", CHICKEN, parse_message("5美元以下的鸡胸肉")),
    ("The Zenko brand ballet flats are cushioned and cost $34.99.", FLATS, EN_FLATS),
    ("Its brand, Zenko, makes these cushioned flats in size 8.", FLATS, EN_FLATS),
    ("这款牙膏是6.4 oz的包装。", Product(id="T1", title="Toothpaste, 6.4 oz", price=1.0, size="6.4 oz",
                                                category="Oral Hygiene", brand="National"), parse_message("牙膏")),
])
def test_a_true_specific_reason_passes(text, product, request_) -> None:
    assert check_reason(text, product, request_, store=STORE) is None


@pytest.mark.parametrize("product, request_", [(FLATS, EN_FLATS), (SNEAKERS, ZH_SHOES), (GIRLS_TEE, EN_BOY),
                                               (CAP, EN_CAP), (SWEATER, parse_message("男士毛衣"))])
def test_the_template_shown_instead_passes_the_same_check(product, request_) -> None:
    text = template_reason(product, request_, None, request_.language)
    assert check_reason(text, product, request_, store=STORE) is None, text


def test_after_cheaper_the_template_never_calls_the_cap_your_budget() -> None:
    import dataclasses
    request_ = dataclasses.replace(parse_message("cheaper"), price_max=23.99)  # the cap "cheaper" set itself
    assert request_.cheaper
    text = template_reason(CAP, request_, None, "en")
    assert "budget" not in text and check_reason(text, CAP, request_, store=STORE) is None, text
    assert "budget" in check_reason("This navy cap is within your $23.99 budget.", CAP, request_, store=STORE)


@pytest.mark.parametrize("cut, kept", [
    ("The Zenko flats are cushioned leather, and come in size 8 for wide", "The Zenko flats are cushioned leather."),
    ("这款运动鞋透气，售价49.99美元，适合", "这款运动鞋透气，售价49.99美元。"),
    ("It is waterproof.", "It is waterproof."),
])
def test_a_cut_sentence_is_cut_back_to_its_last_complete_clause(cut: str, kept: str) -> None:
    assert complete_sentence(cut) == kept


def test_identical_prompts_still_leave_every_row_a_line_to_decode() -> None:
    from assistant.reasons import shared_prefix
    prompts = ["<system>facts</system>\n<user>same product</user>\n<assistant>\n"] * 5
    prefix = shared_prefix(prompts)
    assert all(p[len(prefix):].strip() for p in prompts)


def test_an_unfounded_last_clause_is_cut_off_and_the_rest_kept() -> None:
    from assistant.reasons import grounded_sentence
    text = "The Zenko ballet flats are cushioned leather, making them a popular choice for everyone."
    shown, failure, cut = grounded_sentence(text, FLATS, EN_FLATS, store=STORE)
    assert (shown, failure) == ("The Zenko ballet flats are cushioned leather.", None) and "popular" in cut
    shown, failure, _ = grounded_sentence("Shopper's request: ballet flats, cushioned.", FLATS, EN_FLATS, store=STORE)
    assert failure is not None  # an echo at the start is not cut away


def test_a_word_of_the_product_s_own_name_is_no_claim() -> None:
    book = Product(id="B1", title="Budget Recipes", price=20.99, category="Books > Cooking", brand="Lantern Books",
                   tags=("illustrated", "hardcover"))
    request_ = parse_message("hardcover")
    text = template_reason(book, request_, None, "en")
    assert text.startswith("Budget Recipes") and check_reason(text, book, request_, store=STORE) is None, text
    assert "budget" in check_reason("Budget Recipes is illustrated and fits your budget.", book, request_, store=STORE)


GROCERY = StoreProfile(product_count=100, brands=("National", "Private"), common={"brand": ["national", "private"],
                                                                              "tag": ["national brand", "store brand"]})
COFFEE = Product(id="K1", title="Coffee — Ground Coffee, 11.5 oz", price=1.67, category="Grocery > Coffee",
                 brand="National", size="11.5 oz", tags=("national brand",))


@pytest.mark.parametrize("text, failure", [
    ("The product is a good pick because it is a national brand.", "generic"),  # what most of the store is
    ("Ground coffee is a high-end coffee from National for $1.67.", "high-end"),  # praise no data gives
    ("Ground coffee is a good pick because it has a strong reputation for taste.", "reputation"),
    ("Product: ground coffee, brand: National, price: $1.67.", "echoes the prompt"),  # the facts, not a sentence
    ("Ground coffee is a good pick because it is a store brand and offers high prices.", "high prices"),  # HTTP, "cheaper"
])
def test_a_grocery_reason_that_says_nothing_of_this_product_is_rejected(text: str, failure: str) -> None:
    result = check_reason(text, COFFEE, parse_message("ground coffee"), store=GROCERY)
    assert result is not None and failure in result, result


def test_a_common_brand_is_specific_when_the_shopper_asked_for_it() -> None:
    text = "This ground coffee is a national brand in an 11.5 oz pack for $1.67."
    assert check_reason(text, COFFEE, parse_message("ground coffee"), store=GROCERY) is None
    asked = parse_message("national brand coffee")
    assert check_reason("The product is a national brand, as you asked.", COFFEE, asked, store=GROCERY) is None


def test_the_profile_marks_brands_and_tags_most_of_the_store_shares() -> None:
    from assistant.understand.store import build_profile
    products = [Product(id=str(i), title=f"Soup {i}", price=1.0, category="Grocery > Soup",
                        brand="National" if i % 2 else f"Maker {i}", tags=("national brand",) if i % 2 else (f"flavour {i}",))
                for i in range(40)]
    common = build_profile(products).common
    assert common == {"brand": ["national"], "tag": ["national brand"]}
    assert build_profile(products[:10]).common == {}  # too few products to tell


def test_decoding_bans_the_claims_the_check_would_reject_and_the_prompt_s_words() -> None:
    from assistant.reasons.claims import unsupported_claims
    banned = unsupported_claims(COFFEE)
    assert {"popular", "high-end", "waterproof", "listed", "保暖"} <= set(banned)
    jacket = Product(id="J1", title="Rain Jacket", price=20.0, tags=("waterproof", "popular"))
    assert "waterproof" not in unsupported_claims(jacket) and "popular" not in unsupported_claims(jacket)


def test_a_grocery_template_names_the_product_not_the_last_word_of_its_category() -> None:
    from assistant.reasons.templates import grocery_name
    salad = Product(id="L3", title="Salads/Dips — Salad: Lettuce", price=2.99, category="Deli > Salads/Dips",
                    brand="National")
    text = template_reason(salad, parse_message("bagged salad"), None, "en")
    assert text.startswith("Salad lettuce from National") and "Dips" not in text  # was "Dips from National"
    assert grocery_name("Pnt Btr/Jelly/Jams — Peanut Butter, 18 oz") == "Peanut Butter"
    assert grocery_name("Eggs — Large, 12 ct") == "" and grocery_name("Zenko Rain Jacket - Navy") == ""

