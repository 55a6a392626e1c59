"""Segments inferred from baskets: basket profiles, the classifier on tiny data with a known answer, the
stratified k-fold measurement, `aisle eval segments` on a tiny store, and the real Complete Journey figure
(skipped when its folder is absent)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.behaviour.errors import ModelFitError
from assistant.behaviour.segment_inference import (ACTIVITY_FEATURE, PRICE_FEATURE, basket_profiles, category_levels,
                                                   fill_segments, fit_segment_classifier, infer_segments, macro_f1,
                                                   stratified_folds)
from assistant.evaluation.segment_recovery import completejourney_inputs, measure_recovery, measure_store
from assistant.ingest.customers import InteractionLog
from assistant.privacy.keys import Pseudonymizer
from assistant.surfaces.cli import main

SOURCE = Path(os.environ.get("CJ_DATA_DIR", "/work/shared/data/completejourney"))
CATEGORIES = {"T1": "Kids > Toys", "T2": "Kids > Toys", "G1": "Garden > Tools", "G2": "Garden > Seeds"}
PRICES = {"T1": 10.0, "T2": 10.0, "G1": 100.0, "G2": 100.0}


def shopping_log(shoppers: dict[str, list[str]]) -> InteractionLog:
    """One purchase per (shopper, product) listed, a second apart."""
    pairs = [(c, p) for c, products in shoppers.items() for p in products]
    return InteractionLog.from_rows([(c, p, "purchase", float(i), 1.0) for i, (c, p) in enumerate(pairs)])


def two_kinds(count: int) -> dict[str, list[str]]:
    """`count` toy shoppers t0.. and `count` garden shoppers g0.. (one stray toy each)."""
    toys = {f"t{i}": ["T1", "T2"] if i % 2 else ["T1", "T2", "G1"] for i in range(count)}
    garden = {f"g{i}": ["G1", "G2"] if i % 2 else ["G1", "G2", "T2"] for i in range(count)}
    return {**toys, **garden}


def test_category_levels() -> None:
    assert category_levels("Grocery > Baby Foods > Jars") == ["Grocery", "Grocery > Baby Foods",
                                                               "Grocery > Baby Foods > Jars"]
    assert category_levels("") == [] and category_levels("Garden") == ["Garden"]


def test_basket_profiles_are_square_rooted_shares_at_every_level_plus_price_and_activity() -> None:
    log = shopping_log({"a": ["T1", "T1", "G1", "G2"], "b": ["G1"]})  # T1 twice: purchases at two times
    profiles = basket_profiles(log, CATEGORIES, PRICES, min_shoppers=1)
    assert profiles.customers == ("a", "b")
    assert profiles.names == ("Garden", "Garden > Seeds", "Garden > Tools", "Kids", "Kids > Toys",
                              PRICE_FEATURE, ACTIVITY_FEATURE)
    a, b = profiles.features
    assert np.allclose(a[:5], np.sqrt([0.5, 0.25, 0.25, 0.5, 0.5]))
    assert np.allclose(b[:5], [1, 0, 1, 0, 0])
    assert math.isclose(a[5], (2 * math.log(10) + 2 * math.log(100)) / 4) and math.isclose(b[5], math.log(100))
    assert math.isclose(a[6], math.log(5)) and math.isclose(b[6], math.log(2))
    assert basket_profiles(log, CATEGORIES, PRICES, min_shoppers=2).names == ("Garden", "Garden > Tools",
                                                                             PRICE_FEATURE, ACTIVITY_FEATURE)


def test_shoppers_without_a_segment_get_the_one_their_basket_resembles() -> None:
    shoppers = {**two_kinds(6), "new_toys": ["T1", "T2", "T1"], "new_garden": ["G2", "G1"], "new_mixed": ["T1", "G1"]}
    known = {c: ("kids" if c.startswith("t") else "gardeners") for c in two_kinds(6)}
    inferred = infer_segments(shopping_log(shoppers), CATEGORIES, known | {"new_mixed": ""}, PRICES, min_shoppers=1)
    assert set(inferred) == {"new_toys", "new_garden", "new_mixed"}  # only those without a segment
    assert inferred["new_toys"].segment == "kids" and inferred["new_garden"].segment == "gardeners"
    assert inferred["new_toys"].confidence > 0.8 and inferred["new_garden"].confidence > 0.8
    assert inferred["new_mixed"].confidence < min(inferred["new_toys"].confidence, inferred["new_garden"].confidence)
    again = infer_segments(shopping_log(shoppers), CATEGORIES, known, PRICES, min_shoppers=1)
    assert again["new_toys"] == inferred["new_toys"]  # deterministic


def test_inference_needs_two_known_segments() -> None:
    with pytest.raises(ModelFitError, match="at least two known segments"):
        infer_segments(shopping_log({"a": ["T1"], "b": ["G1"]}), CATEGORIES, {"a": "kids"}, min_shoppers=1)
    with pytest.raises(ValueError, match="one row per shopper"):
        fit_segment_classifier(np.zeros((3, 2)), ["a", "b"])


def test_stratified_folds_split_every_segment_evenly_and_are_seeded() -> None:
    labels = ["a"] * 6 + ["b"] * 3 + ["c"] * 2
    folds = stratified_folds(labels, 3, seed=7)
    assert sorted(np.concatenate(folds).tolist()) == list(range(11))
    assert [sorted(np.asarray(labels)[f].tolist()).count("a") for f in folds] == [2, 2, 2]
    assert sorted(len(f) for f in folds) == [3, 4, 4]
    assert all((x == y).all() for x, y in zip(folds, stratified_folds(labels, 3, seed=7)))


def test_macro_f1_known_answer() -> None:
    # a: tp 1, 2 true, 2 guessed -> 1/2; b: tp 1, 1 true, 2 guessed -> 2/3; c: never right -> 0
    assert math.isclose(macro_f1(["a", "a", "b", "c"], ["a", "b", "b", "a"], ["a", "b", "c"]), (1 / 2 + 2 / 3) / 3)


def test_measure_recovery_finds_separable_segments_and_beats_the_baselines() -> None:
    shoppers = two_kinds(10)
    segments = {c: ("kids" if c.startswith("t") else "gardeners") for c in shoppers}
    profiles = basket_profiles(shopping_log(shoppers), CATEGORIES, PRICES, min_shoppers=1)
    result = measure_recovery("tiny", profiles, segments, folds=5, seed=3)
    assert result.shoppers == 20 and result.segment_counts == {"gardeners": 10, "kids": 10}
    inferred, majority = result.method("inferred"), result.method("majority")
    assert inferred.accuracy.mean == 1.0 and inferred.macro_f1.mean == 1.0 and inferred.macro_f1.se == 0.0
    assert majority.accuracy.mean == 0.5 and math.isclose(majority.macro_f1.mean, 1 / 3)
    assert result.to_dict()["methods"][0]["method"] == "inferred"


def write_tiny_completejourney(folder: Path) -> None:
    """Households by the shipped rules: kids (baby food), 65+ (denture care), 45-54 (coffee), and some
    without demographics."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "products.csv").write_text(
        "product_id,manufacturer_id,department,brand,product_category,product_type,package_size\n"
        "1,1,GROCERY,Private,BABY FOODS,JARS,4 OZ\n2,1,GROCERY,National,BABY FOODS,CEREAL,8 OZ\n"
        "3,1,DRUG GM,National,DENTURE CARE,ADHESIVE,2 OZ\n4,1,DRUG GM,Private,DENTURE CARE,CLEANER,1 CT\n"
        "5,1,GROCERY,National,COFFEE,GROUND,12 OZ\n6,1,GROCERY,Private,COFFEE,BEANS,16 OZ\n", encoding="utf-8")
    customers = ["customer_id,age_band,kids_count,has_demographics"]
    events = ["customer_id,product_id,event,timestamp,value,quantity,basket_id,store_id"]
    kinds = [("1", "35-44", ("1", "2")), ("0", "65+", ("3", "4")), ("0", "45-54", ("5", "6"))]
    for h in range(30):
        kids, age, products = kinds[h % 3]
        customers.append(f"{h},{age},{kids},1" if h < 24 else f"{h},,,0")
        events += [f"{h},{p},purchase,2017-01-{d + 1:02d}T10:00:00,2.50,1,{h}{d},1"
                   for d, p in enumerate((*products, products[h % 2]))]
    (folder / "customers.csv").write_text("\n".join(customers) + "\n", encoding="utf-8")
    (folder / "events.csv").write_text("\n".join(events) + "\n", encoding="utf-8")


def test_eval_segments_on_a_tiny_store(tmp_path: Path) -> None:
    write_tiny_completejourney(tmp_path / "cj")
    runner = CliRunner()
    result = runner.invoke(main, ["eval", "segments", "--store", "completejourney", "--source", str(tmp_path / "cj"),
                                  "--folds", "2", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [store] = json.loads(result.output)
    assert store["store"] == "completejourney" and store["shoppers"] == 24 and store["folds"] == 2
    assert store["segments"] == {"parents_young_kids": 8, "professionals": 8, "retirees": 8}
    methods = {m["method"]: m for m in store["methods"]}
    assert methods["inferred"]["macro_f1"] == 1.0 and methods["majority"]["accuracy"] == pytest.approx(1 / 3, abs=0.01)
    table = runner.invoke(main, ["eval", "segments", "--store", "completejourney", "--source", str(tmp_path / "cj"),
                                 "--folds", "2"], catch_exceptions=False)
    assert table.exit_code == 0 and "completejourney  inferred" in table.output and "majority" in table.output


def test_eval_segments_on_your_own_files_and_a_usage_error(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text("id,title,price,category\n" + "".join(f"{p},Item {p},{PRICES[p]},{c}\n"
                                                              for p, c in CATEGORIES.items()), encoding="utf-8")
    shoppers = two_kinds(6)
    (tmp_path / "customers.csv").write_text("customer_id,segment\n" + "".join(
        f"{c},{'kids' if c.startswith('t') else 'gardeners'}\n" for c in shoppers), encoding="utf-8")
    (tmp_path / "events.csv").write_text("customer_id,product_id,event,timestamp\n" + "".join(
        f"{c},{p},purchase,{i}\n" for c, ps in shoppers.items() for i, p in enumerate(ps)), encoding="utf-8")
    runner = CliRunner()
    args = ["eval", "segments", "--interactions", str(tmp_path / "events.csv"), "--customers",
            str(tmp_path / "customers.csv"), "--folds", "3"]
    missing = runner.invoke(main, args)
    assert missing.exit_code == 2 and "--catalog" in missing.output
    result = runner.invoke(main, [*args, "--catalog", str(catalog), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [store] = json.loads(result.output)
    assert store["store"] == "files" and store["shoppers"] == 12 and store["segments"] == {"gardeners": 6, "kids": 6}


@pytest.mark.skipif(not (SOURCE / "customers.csv").is_file(), reason="Complete Journey data not here")
def test_on_complete_journey_inference_beats_the_majority_baseline_macro_f1() -> None:
    inputs = completejourney_inputs(SOURCE, Pseudonymizer(b"k" * 32))
    result = measure_store("completejourney", inputs, folds=5, seed=0)
    assert result.shoppers == 801
    inferred, majority = result.method("inferred"), result.method("majority")
    assert inferred.macro_f1.mean > majority.macro_f1.mean + 2 * inferred.macro_f1.se


def test_fill_segments_adds_confident_inferred_segments_to_the_known_ones() -> None:
    shoppers = {**two_kinds(6), "new_toys": ["T1", "T2", "T1"], "new_mixed": ["T1", "G1"]}
    known = {c: ("kids" if c.startswith("t") else "gardeners") for c in two_kinds(6)}
    filled = fill_segments(shopping_log(shoppers), known, CATEGORIES, PRICES)
    assert filled.segments["new_toys"] == "kids" and "new_mixed" in filled.segments and filled.inferred == 2
    assert {c: filled.segments[c] for c in known} == known
    strict = fill_segments(shopping_log(shoppers), known, CATEGORIES, PRICES, min_confidence=0.99)
    assert strict.inferred + strict.left_out == 2 and "new_mixed" not in strict.segments
    assert "below confidence 0.99" in strict.note()
