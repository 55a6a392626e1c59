"""Segments, the attribute value function and the hybrid ranker on tiny data with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from assistant.rank.attributes import (ProductFeatures, category_matches, fits_age, kids_size_for_age, price_fit,
                                  score_product, size_system, smoothed_rating)
from assistant.ingest.catalog import Product
from assistant.core.config import FusionSettings
from assistant.understand import Request
from assistant.core.scores import min_max
from assistant.llm import LanguageModel
from assistant.rank.hybrid import RankContext, diversify, fuse_rrf, fuse_weighted, hard_filters, rank
from assistant.rank.segments import GENERAL, SegmentError, load_segments, resolve_segment

SEGMENTS = load_segments()

PRODUCTS = [
    Product("k1", "Kids Waterproof Rain Jacket", 29.0, category="Kids > Outerwear", color="blue", size="4-5Y|6-7Y",
            audience="kids", tags=("waterproof", "hooded"), rating=4.5, rating_count=40),
    Product("k2", "Kids Puffer Jacket", 55.0, category="Kids > Outerwear", color="red", size="6-7Y|8-9Y",
            audience="kids", tags=("insulated",), rating=4.0, rating_count=10),
    Product("k3", "Toddler Raincoat", 25.0, category="Kids > Outerwear", color="yellow", size="2-3Y",
            audience="kids", tags=("waterproof",), rating=4.8, rating_count=5),
    Product("m1", "Men's Rain Jacket", 35.0, category="Men's Fashion > Outerwear", color="blue", size="M|L",
            audience="men", brand="Pulse", tags=("waterproof",), rating=4.2, rating_count=100),
    Product("u1", "Unisex Rain Poncho", 12.0, category="Outdoor > Rain Gear", color="green", audience="unisex",
            brand="Pulse", tags=("waterproof", "packable"), rating=3.9, rating_count=3, in_stock=False),
    Product("s1", "Easy-Grip Walking Cane", 30.0, category="Health & Mobility > Mobility Aids", color="black",
            audience="seniors", tags=("easy-grip", "lightweight"), rating=4.6, rating_count=200),
]
FEATURES = ProductFeatures.build(PRODUCTS)
VECTORS = np.eye(len(PRODUCTS), dtype=np.float32)


def content(*scores: float) -> np.ndarray:
    return np.array(scores, dtype=np.float32)


def ids(result) -> list[str]:
    return [c.product.id for c in result.candidates]


# ---------------------------------------------------------------------------- segments


def test_shipped_segments_cover_the_main_groups() -> None:
    assert {"young_adults", "parents_young_kids", "retirees"} <= set(SEGMENTS)
    retirees = SEGMENTS["retirees"]
    assert retirees.category_prior("Health & Mobility > Vision") == 1.0
    assert retirees.category_prior("Unknown > Thing") == 0.2
    assert "easy-grip" in retirees.valued_tags and retirees.description


def test_a_store_adds_a_segment_by_editing_the_file(tmp_path: Path) -> None:
    path = tmp_path / "segments.toml"
    path.write_text('[segments.students]\nname = "Students"\ndescription = "students on a budget"\n'
                    'price_sensitivity = 0.9\n[segments.students.weights]\nprice_fit = 2.0\n'
                    '[segments.students.category_priors]\n"Books" = 1.0\n')
    segments = load_segments(path)
    assert segments["students"].weights["price_fit"] == 2.0 and segments["students"].category_prior("Books") == 1.0
    path.write_text('[segments.x]\n[segments.x.weights]\nsparkle = 1.0\n')
    with pytest.raises(SegmentError, match="unknown term"):
        load_segments(path)
    path.write_text('[segments.x]\nprice_sensitivity = 7\n')
    with pytest.raises(SegmentError, match="price_sensitivity"):
        load_segments(path)


def test_segment_source_order_of_trust() -> None:
    assert resolve_segment(SEGMENTS, "retirees", "young_adults", "parents_young_kids", 0.9)[1] == "ui"
    assert resolve_segment(SEGMENTS, None, "young_adults", "retirees", 0.9)[0].key == "young_adults"
    assert resolve_segment(SEGMENTS, None, None, "retirees", 0.9) == (SEGMENTS["retirees"], "message")
    assert resolve_segment(SEGMENTS, None, None, "retirees", 0.2) == (GENERAL, "none")
    with pytest.raises(SegmentError, match="unknown segment"):
        resolve_segment(SEGMENTS, "aliens")


# ---------------------------------------------------------------------------- attributes


@pytest.mark.parametrize("size, system", [("M", "letter"), ("xl", "letter"), ("6-7Y", "kids_age"),
                                          ("3-6M", "baby"), ("11C", "kids_shoe"), ("2Y", "kids_shoe"),
                                          ("9", "numeric"), ("9.5", "numeric"), ("one size", "other")])
def test_size_systems(size: str, system: str) -> None:
    assert size_system(size) == system


def test_ages_and_kids_sizes() -> None:
    assert fits_age("6-7Y", 6) and fits_age("6-7Y", 7) and not fits_age("6-7Y", 8)
    assert kids_size_for_age(6) == "6-7Y" and kids_size_for_age(11) == "10-12Y" and kids_size_for_age(30) is None


def test_category_cues() -> None:
    assert category_matches("Kids > Outerwear", "Kids")
    assert category_matches("Kids > Outerwear", "outerwear")
    assert category_matches("Kids > Outerwear", "Kids > Outerwear")
    assert not category_matches("Kids > Outerwear", "Outdoor")


def test_rating_is_smoothed_by_its_count() -> None:
    assert smoothed_rating(5.0, 1) < smoothed_rating(4.8, 500)
    assert smoothed_rating(None, 0) == pytest.approx(3.8)


def test_price_fit_prefers_the_target_and_cheap() -> None:
    near = price_fit(50, 0.5, Request(price_target=50), 0.5)
    far = price_fit(100, 0.5, Request(price_target=50), 0.5)
    assert near == 1.0 and far == pytest.approx(0.0)
    assert price_fit(10, 0.1, Request(cheap=True), 0.5) > price_fit(90, 0.9, Request(cheap=True), 0.5)


def test_attribute_score_is_the_weighted_sum_of_its_terms() -> None:
    request = Request(colors=("blue",), age_years=6, audience="kids", categories=("Outerwear",), price_max=40)
    segment = SEGMENTS["parents_young_kids"]
    score = score_product(PRODUCTS[0], 0, FEATURES, request, segment)
    assert score.terms["color_match"][1] == 1.0
    assert score.terms["size_match"][1] == 1.0
    assert score.terms["audience_match"][1] == 1.0
    assert score.terms["category_match"][1] == 1.0
    assert score.terms["category_prior"][1] == 1.0
    assert score.terms["valued_tags"][1] == 0.5  # waterproof is valued; hooded is not
    weights = sum(w for w, _ in score.terms.values())
    assert score.total == pytest.approx(sum(w * f for w, f in score.terms.values()) / weights)
    other = score_product(PRODUCTS[3], 3, FEATURES, request, segment)
    assert other.total < score.total
    assert set(score.to_dict()["terms"]["rating"]) == {"weight", "value", "contribution"}


# ---------------------------------------------------------------------------- filters and fusion


def test_hard_filters_count_and_explain_each_removal() -> None:
    request = Request(price_max=40, colors=("blue", "yellow"), age_years=6, audience="kids", in_stock_only=True)
    allowed, counts, blocked = hard_filters(PRODUCTS, FEATURES, request)
    assert [p.id for p, ok in zip(PRODUCTS, allowed) if ok] == ["k1"]
    assert counts == {"budget": 1, "in stock": 1, "colour": 1, "age": 1, "audience": 1}
    assert blocked["k2"].startswith("budget: price $55.00")
    assert blocked["k3"] == "age: no size for a 6-year-old (2-3Y)"
    assert blocked["u1"] == "in stock: out of stock"


def test_exclusions_sizes_and_seen_products() -> None:
    request = Request(exclude_brands=("pulse",), exclude_terms=("insulated",))
    allowed, counts, blocked = hard_filters(PRODUCTS, FEATURES, request, excluded_ids={"k3"})
    assert [p.id for p, ok in zip(PRODUCTS, allowed) if ok] == ["k1", "s1"]
    assert counts == {"already shown or declined": 1, "excluded brand": 2, "excluded term": 1}
    assert blocked["m1"] == "excluded brand: brand Pulse was excluded"
    assert blocked["k2"] == "excluded term: mentions insulated"
    allowed, _, blocked = hard_filters(PRODUCTS, FEATURES, Request(sizes=("6-7y",)))
    assert [p.id for p, ok in zip(PRODUCTS, allowed) if ok] == ["k1", "k2"]
    assert blocked["s1"] == "size: sizes (none) do not include 6-7Y"


def test_fusion_functions_known_answers() -> None:
    assert min_max({"a": 2.0, "b": 4.0}) == {"a": 0.0, "b": 1.0}
    assert min_max({"a": 3.0}) == {"a": 1.0}
    fused = fuse_weighted({"x": {"a": 1.0, "b": 0.0}, "y": {"b": 1.0, "a": 0.0}}, {"x": 0.7, "y": 0.3})
    assert fused == {"a": 0.7, "b": 0.3}
    rrf = fuse_rrf({"x": {"a": 2.0, "b": 1.0}, "y": {"b": 5.0}}, {"x": 1.0, "y": 1.0}, k=60)
    assert rrf["b"] == pytest.approx(1 / 62 + 1 / 61) and rrf["a"] == pytest.approx(1 / 61)


def test_diversity_skips_near_duplicates() -> None:
    vectors = {"a": np.array([1.0, 0.0]), "b": np.array([1.0, 0.0]), "c": np.array([0.0, 1.0])}
    scores = {"a": 1.0, "b": 0.95, "c": 0.9}
    assert diversify(["a", "b", "c"], scores, vectors, 2, penalty=0.0) == ["a", "b"]
    assert diversify(["a", "b", "c"], scores, vectors, 2, penalty=0.2) == ["a", "c"]


def test_rank_respects_constraints_and_keeps_a_breakdown() -> None:
    request = Request(need="rain jacket", price_max=40, audience="kids", age_years=6)
    context = RankContext(PRODUCTS, FEATURES, VECTORS, content(0.9, 0.8, 0.85, 0.95, 0.7, 0.1), {"k1": 1.0, "s1": 0.5})
    result = rank(context, request, SEGMENTS["parents_young_kids"], k=3)
    assert ids(result)[0] == "k1"
    matches, alternatives = result.candidates[:result.matched], result.candidates[result.matched:]
    assert matches and all(c.product.price <= 40 and c.product.audience in ("kids", "unisex") for c in matches)
    assert all(c.breakdown.relaxes for c in alternatives)  # what each alternative does not meet is said
    top = result.candidates[0].breakdown
    assert top.sources == ["content", "cf", "segment prior"]
    assert top.content_similarity == pytest.approx(0.9)
    assert {"content", "cf", "attributes", "fused"} <= set(top.to_dict())
    assert result.filter_counts["budget"] == 1 and result.blocked["m1"].startswith("audience")


def test_content_only_and_cf_only_modes() -> None:
    request = Request(need="rain jacket")
    scores = content(0.2, 0.1, 0.3, 0.9, 0.5, 0.0)
    content_only = FusionSettings(content=1, cf=0, attributes=0, cf_pool=0, prior_pool=0, diversity=0)
    assert ids(rank(RankContext(PRODUCTS, FEATURES, VECTORS, scores, {}), request, GENERAL, content_only, k=2)) == ["m1", "u1"]
    cf_only = FusionSettings(content=0, cf=1, attributes=0, content_pool=0, prior_pool=0, diversity=0)
    with_cf = RankContext(PRODUCTS, FEATURES, VECTORS, scores, {"s1": 3.0, "k2": 1.0})
    result = rank(with_cf, request, GENERAL, cf_only, k=2)
    assert ids(result) == ["s1", "k2"]


def test_nothing_allowed_gives_an_empty_answer_not_an_error() -> None:
    context = RankContext(PRODUCTS, FEATURES, VECTORS, content(0.1, 0.2, 0.3, 0.4, 0.5, 0.6), {"k1": 1.0})
    result = rank(context, Request(price_max=1.0), GENERAL, k=5)
    assert result.matched == 0 and result.allowed == 0
    assert all(c.breakdown.relaxes[0].endswith("over your $1") for c in result.candidates)  # marked alternatives


class PrefersSocksLM(LanguageModel):
    """A tiny deterministic judge: "Yes" for a product card that says socks, "No" otherwise."""

    model_id = "prefers-socks"

    def chat_prompt(self, system: str, user: str) -> str:
        return f"{system}\n{user}"

    def generate(self, prompts: Sequence[str], max_new_tokens: int, prefix: str = "", stop=None, banned=None, allowed=None,
                 on_done=None) -> list[str]:
        return [""] * len(prompts)

    def next_token_scores(self, prefix: str, suffixes: Sequence[str], options: Sequence[str]) -> np.ndarray:
        return np.array([[4.0, 0.0] if "sock" in s.lower() else [0.0, 4.0] for s in suffixes], dtype=np.float32)


def test_llm_rerank_records_its_scores_in_the_breakdown_of_every_candidate() -> None:
    from assistant.llm.rerank import rerank

    context = RankContext(PRODUCTS, FEATURES, VECTORS, content(0.9, 0.8, 0.85, 0.95, 0.7, 0.1), {})
    ranked = rank(context, Request(need="rain jacket"), GENERAL, k=4).candidates
    outcome = rerank(PrefersSocksLM(), Request(need="rain jacket"), "General", ranked, top_n=3, weight=1.0)
    judged, rest = outcome.candidates[:3], outcome.candidates[3:]
    assert [c.rank for c in outcome.candidates] == [1, 2, 3, 4]
    for c in judged:
        shown = c.breakdown.to_dict()
        assert {"llm_yes", "standing", "final", "rank_after_rerank"} <= set(shown)
        assert shown["rank_after_rerank"] == c.rank
    assert [c.breakdown.rerank.final for c in judged] == sorted((c.breakdown.rerank.final for c in judged),
                                                                   reverse=True)
    for c in rest:  # below the judged head: the new rank only
        shown = c.breakdown.to_dict()
        assert "llm_yes" not in shown and shown["rank_after_rerank"] == c.rank


def test_llm_rerank_at_weight_zero_keeps_the_diversified_order_even_where_scores_disagree() -> None:
    from assistant.llm.rerank import rerank

    context = RankContext(PRODUCTS, FEATURES, VECTORS, content(0.9, 0.8, 0.85, 0.95, 0.7, 0.1), {})
    ranked = rank(context, Request(need="rain jacket"), GENERAL, k=5).candidates
    ranked = [ranked[-1], *ranked[:-1]]  # an order that is not by score, as diversity makes one
    before = [c.product.id for c in ranked]
    outcome = rerank(PrefersSocksLM(), Request(need="rain jacket"), "General", ranked, top_n=5, weight=0.0)
    assert [c.product.id for c in outcome.candidates] == before
    assert [c.breakdown.rerank.standing for c in outcome.candidates] == [1.0, 0.75, 0.5, 0.25, 0.0]


def test_equal_prices_carry_no_order_so_catalog_order_never_ranks() -> None:
    same = [Product(f"p{i}", f"Plain Mug {i}", 12.0, category="Kitchen > Mugs") for i in range(5)]
    features = ProductFeatures.build(same)
    assert set(features.price_percentile.tolist()) == {0.5}  # one shared rank, not the file's order
    vectors = np.ones((5, 4), dtype=np.float32) / 2.0
    flat = np.full(5, 0.5, dtype=np.float32)

    def ranked(products: list[Product]) -> list[str]:
        context = RankContext(products, ProductFeatures.build(products), vectors, flat, {})
        return ids(rank(context, Request(need="mug"), GENERAL, k=5))

    assert ranked(same) == ranked(same[::-1])
    mixed = ProductFeatures.build([*same[:2], Product("c", "Cheap Mug", 5.0, category="Kitchen > Mugs")])
    assert mixed.price_percentile.tolist() == [0.75, 0.75, 0.0]
