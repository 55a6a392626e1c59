"""CF models: the source formula by hand, one shared suite for every model, evidence, cold start."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from assistant.behaviour import repurchase_share
from assistant.behaviour import (Interactions, ModelFitError, SegmentPopularity, UserUserCF,
                                 build_interactions, cf_model_names, inherit_scores, load_cf_model,
                                 make_cf_model)
from assistant.core.scores import top_k_indices
from assistant.ingest.customers import InteractionLog

DAY = 86_400.0


def toy_log() -> InteractionLog:
    """Two tastes on a checkerboard: 'kids' shoppers buy K items, 'seniors' shoppers buy S items.

    Eight shoppers per group, each buying 3 of their group's 4 items (rotating), plus one view across.
    """
    rows = []
    t = 1_700_000_000.0
    for group, prefix, segment in (("k", "K", "parents"), ("s", "S", "retirees")):
        for n in range(8):
            customer = f"{group}{n}"
            for j in range(3):
                item = f"{prefix}{(n + j) % 4}"
                rows.append((customer, item, "purchase", t, 1.0))
                t += 60
            other = "S0" if prefix == "K" else "K0"
            if n == 0:
                rows.append((customer, other, "view", t, math.nan))
            t += 60
    return InteractionLog.from_rows(rows)


SEGMENTS = {f"k{n}": "parents" for n in range(8)} | {f"s{n}": "retirees" for n in range(8)}


@pytest.fixture(scope="module")
def toy() -> Interactions:
    return build_interactions(toy_log(), SEGMENTS)


def test_source_formula_against_a_hand_computed_example() -> None:
    # u = (8, 0, 4, 1), v = (8, 4, 0, 4); liked means weight >= 4.
    # Liked together: item 0 only -> numerator 1. Σu² = 64 + 16 + 1 = 81, Σv² = 64 + 16 + 16 = 96.
    matrix = sp.csr_matrix(np.array([[8, 0, 4, 1], [8, 4, 0, 4]], dtype=np.float32))
    data = Interactions(matrix, matrix, matrix, ["u", "v"], ["a", "b", "c", "d"], ["", ""])
    model = UserUserCF(like_threshold=4.0).fit(data)
    sims = model.similarity(matrix)
    assert sims[0, 1] == pytest.approx(1 / math.sqrt(81 * 96), rel=1e-6)
    assert sims[1, 0] == pytest.approx(sims[0, 1])
    # With itself: liked items a, c -> 2 / sqrt(81 * 81).
    assert sims[0, 0] == pytest.approx(2 / 81, rel=1e-6)


def test_interaction_weights_sum_events() -> None:
    log = InteractionLog.from_rows([("a", "x", "view", 0.0, math.nan), ("a", "x", "purchase", 10.0, 1.0),
                                    ("a", "y", "rating", 20.0, 5.0), ("b", "y", "rating", 30.0, 1.0)])
    data = build_interactions(log)
    dense = data.matrix.toarray()
    assert data.users == ["a", "b"] and data.items == ["x", "y"]
    assert dense[0].tolist() == [9.0, 6.0]  # view 1 + purchase 8; a 5-star rating weighs 6
    assert dense[1].tolist() == [0.0, 0.25]  # a 1-star rating: low interest, not nothing
    assert data.seen.toarray().tolist() == [[1.0, 1.0], [0.0, 1.0]]


def test_low_ratings_stay_seen_and_never_come_back() -> None:
    """A shopper who rated a product 1 star has seen it: CF never recommends it to them again."""
    rows = [(f"u{i}", p, "purchase", float(i), 1.0) for i in range(6) for p in ("x", "y", "z")]
    rows += [("me", "x", "purchase", 10.0, 1.0), ("me", "y", "rating", 11.0, 1.0)]
    model = make_cf_model("item_item").fit(build_interactions(InteractionLog.from_rows(rows)))
    assert [p for p, _ in model.recommend(customer="me", k=5)] == ["z"]


def test_seen_survives_decay_over_years() -> None:
    """A profile decayed over a long log keeps a years-old purchase (no underflow to zero): still seen."""
    year = 365 * 86_400.0
    rows = [("me", "old", "purchase", 0.0, 1.0), ("me", "new", "purchase", 10 * year, 1.0),
            ("u", "old", "purchase", 0.0, 1.0), ("u", "new", "purchase", 1.0, 1.0), ("u", "z", "view", 2.0, 1.0)]
    data = build_interactions(InteractionLog.from_rows(rows))
    me = data.user_index["me"]
    assert sorted(data.items[i] for i in data.profile[me].indices) == ["new", "old"]
    model = make_cf_model("item_item").fit(data)
    assert "old" not in [p for p, _ in model.recommend(customer="me", k=5)]


def test_repurchase_share_and_buy_again() -> None:
    rows = [("a", "milk", "purchase", 1.0, 1.0), ("a", "milk", "purchase", 2.0, 1.0),
            ("a", "eggs", "purchase", 3.0, 1.0), ("b", "milk", "purchase", 4.0, 1.0), ("b", "tea", "view", 5.0, 1.0)]
    log = InteractionLog.from_rows(rows)
    assert repurchase_share(log) == 1.0  # the one shopper with two purchases or more bought milk twice
    data = build_interactions(log, profile_half_life_days=None)
    assert data.repurchase == 1.0 and data.repurchase_normal
    once = InteractionLog.from_rows([r for r in rows if r[3] != 2.0])
    assert repurchase_share(once) == 0.0 and not build_interactions(once).repurchase_normal
    model = make_cf_model("popularity").fit(data)
    assert [p for p, _ in model.buy_again("a")] == ["milk", "eggs"]  # bought twice first
    assert model.buy_again("nobody") == []


@pytest.mark.parametrize("name", cf_model_names())
class TestEveryModel:
    """The shared suite: every CF model must pass it."""

    def test_known_answer_on_the_checkerboard(self, name: str, toy: Interactions) -> None:
        model = make_cf_model(name).fit(toy)
        recs = [p for p, _ in model.recommend(["K0", "K1"], k=2, segment="parents")]
        assert set(recs) <= {"K2", "K3"}, recs
        recs = [p for p, _ in model.recommend(["S1", "S2"], k=2, segment="retirees")]
        assert set(recs) <= {"S0", "S3"}, recs

    def test_excluded_and_seen_items_are_never_returned(self, name: str, toy: Interactions) -> None:
        model = make_cf_model(name).fit(toy)
        recs = [p for p, _ in model.recommend(["K0"], k=20, exclude=["K1", "S0"])]
        assert "K0" not in recs and "K1" not in recs and "S0" not in recs
        assert len(recs) == len(toy.items) - 3
        known = [p for p, _ in model.recommend(customer="k1", k=20)]
        assert not {"K1", "K2", "K3"} & set(known)  # k1 bought K1, K2, K3

    def test_save_then_load_gives_the_same_recommendations(self, name: str, toy: Interactions,
                                                           tmp_path: Path) -> None:
        model = make_cf_model(name).fit(toy)
        model.save(tmp_path / name)
        loaded = load_cf_model(tmp_path / name)
        assert loaded.name == name
        for history in (["K0"], ["S1", "S3"], ["K2", "S2"]):
            before = model.recommend(history, k=5)
            after = loaded.recommend(history, k=5)
            assert [p for p, _ in before] == [p for p, _ in after]
            np.testing.assert_allclose([s for _, s in before], [s for _, s in after], rtol=1e-5)
        assert loaded.recommend(customer="s3", k=3) == model.recommend(customer="s3", k=3)

    def test_no_pickle_on_disk(self, name: str, toy: Interactions, tmp_path: Path) -> None:
        make_cf_model(name).fit(toy).save(tmp_path)
        for path in tmp_path.iterdir():
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as arrays:
                    assert all(arrays[k].dtype != object for k in arrays.files)
        assert {p.name for p in tmp_path.iterdir()} == {"manifest.json", "ids.json", "matrix.npz", "arrays.npz"}

    def test_the_same_data_gives_the_same_model_bit_for_bit(self, name: str, toy: Interactions,
                                                            tmp_path: Path) -> None:
        for run in ("first", "second"):
            make_cf_model(name).fit(toy).save(tmp_path / run)
        assert_same_files(tmp_path / "first", tmp_path / "second")


def test_saves_seconds_apart_are_byte_identical(toy: Interactions, tmp_path: Path) -> None:
    model = make_cf_model("popularity").fit(toy)
    model.save(tmp_path / "first")
    time.sleep(2.1)  # a zip entry's time has a 2-second resolution
    model.save(tmp_path / "second")
    assert_same_files(tmp_path / "first", tmp_path / "second")


def assert_same_files(first: Path, second: Path) -> None:
    """Two saved models hold byte-identical files and equal checksums (their time and version may differ)."""
    for file in ("ids.json", "matrix.npz", "arrays.npz"):
        assert (first / file).read_bytes() == (second / file).read_bytes(), file
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (first, second)]
    assert manifests[0]["files"] == manifests[1]["files"]
    assert manifests[0]["params"] == manifests[1]["params"]


def ease_reference(x: np.ndarray, l2: float) -> np.ndarray:
    """EASE by the book: B = I - P / diag(P), P = (XᵀX + λI)⁻¹, on log-weighted interactions."""
    x = np.log1p(x)
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def dense_interactions(shoppers: int = 30, products: int = 6, seed: int = 3) -> Interactions:
    """Every shopper has every product, with weights 1..8: every pair of products co-occurs."""
    matrix = sp.csr_matrix(np.random.default_rng(seed).integers(1, 9, (shoppers, products)).astype(np.float32))
    return Interactions(matrix, matrix, matrix, [f"u{i}" for i in range(shoppers)],
                        [f"p{i}" for i in range(products)], [""] * shoppers)


def test_ease_is_the_closed_form() -> None:
    data = dense_interactions()
    model = make_cf_model("ease", l2=5.0).fit(data)
    expected = np.log1p(data.profile.toarray()) @ ease_reference(data.matrix.toarray(), 5.0)
    np.testing.assert_allclose(model.score_rows(data.profile), expected, atol=1e-4)


def test_sparse_ease_is_exact_when_every_other_product_is_a_neighbour() -> None:
    data = dense_interactions()
    dense = make_cf_model("ease", l2=5.0).fit(data)
    sparse = make_cf_model("ease", l2=5.0, dense_max_items=0, neighbours=5).fit(data)
    np.testing.assert_allclose(sparse.score_rows(data.profile), dense.score_rows(data.profile), atol=1e-5)
    fewer = make_cf_model("ease", l2=5.0, dense_max_items=0, neighbours=2).fit(data)
    assert not np.allclose(fewer.score_rows(data.profile), dense.score_rows(data.profile), atol=1e-3)


def test_sparse_ease_passes_the_shared_checks(toy: Interactions, tmp_path: Path) -> None:
    """Above `dense_max_items` products EASE takes its sparse path: same answers on the checkerboard,
    every product still recommendable, the same save -> load and the same bytes twice."""
    model = make_cf_model("ease", dense_max_items=4, neighbours=3).fit(toy)
    assert set(p for p, _ in model.recommend(["K0", "K1"], k=2)) <= {"K2", "K3"}
    assert set(p for p, _ in model.recommend(["S1", "S2"], k=2)) <= {"S0", "S3"}
    assert len(model.recommend(["K0"], k=20)) == len(toy.items) - 1
    for run in ("first", "second"):
        make_cf_model("ease", dense_max_items=4, neighbours=3).fit(toy).save(tmp_path / run)
    assert_same_files(tmp_path / "first", tmp_path / "second")
    loaded = load_cf_model(tmp_path / "first")
    assert loaded.recommend(["K0"], k=5) == model.recommend(["K0"], k=5)


def test_top_k_is_the_stable_order() -> None:
    scores = np.array([1.0, 3.0, 3.0, -np.inf, 3.0, 2.0])
    assert top_k_indices(scores, 2).tolist() == [1, 2]
    assert top_k_indices(scores, 4).tolist() == [1, 2, 4, 5]
    assert top_k_indices(scores, 9).tolist() == [1, 2, 4, 5, 0, 3]


def test_unfitted_and_empty_inputs_are_refused(toy: Interactions) -> None:
    with pytest.raises(ModelFitError, match="fit"):
        make_cf_model("ease").recommend(["K0"])
    empty = Interactions(sp.csr_matrix((1, 1), dtype=np.float32), sp.csr_matrix((1, 1)),
                         sp.csr_matrix((1, 1)), ["u"], ["i"], [""])
    with pytest.raises(ModelFitError, match="empty"):
        make_cf_model("ease").fit(empty)
    with pytest.raises(ModelFitError, match="no interactions"):
        build_interactions(InteractionLog.from_rows([]))
    with pytest.raises(ValueError, match="unknown CF model 'svd'"):
        make_cf_model("svd")
    with pytest.raises(ValueError, match="k must be"):
        make_cf_model("ease").fit(toy).recommend(["K0"], k=0)


def test_cold_start_shopper_gets_their_segments_popular_products(toy: Interactions) -> None:
    model = SegmentPopularity().fit(toy)
    parents = [p for p, _ in model.recommend([], k=4, segment="parents")]
    retirees = [p for p, _ in model.recommend([], k=4, segment="retirees")]
    assert set(parents) == {"K0", "K1", "K2", "K3"}
    assert set(retirees) == {"S0", "S1", "S2", "S3"}
    blend = make_cf_model("blend").fit(toy)
    assert set(p for p, _ in blend.recommend([], k=4, segment="retirees")) == {"S0", "S1", "S2", "S3"}


def test_cold_start_product_inherits_from_content_neighbours() -> None:
    scores = {"a": 1.0, "b": 0.5, "c": 0.0}
    inherited = inherit_scores(scores, {"new1": [("a", 0.9), ("b", 0.3)], "new2": [("zzz", 0.9)],
                                        "new3": [("c", 0.5), ("a", -0.2)]})
    assert inherited["new1"] == pytest.approx((1.0 * 0.9 + 0.5 * 0.3) / 1.2)
    assert "new2" not in inherited  # no known neighbour: nothing to inherit
    assert inherited["new3"] == 0.0  # negative similarity carries no weight


def test_evidence_counts_overlapping_shoppers(toy: Interactions) -> None:
    model = make_cf_model("ease").fit(toy)
    evidence = model.evidence(["K0", "K1"], "K2")
    # K2 was bought by k0, k1, k2 (n, n+1, n+2 mod 4) and by k7 (7+3=10 -> 2)... count directly:
    binary = toy.matrix.toarray() > 0
    k2 = binary[:, toy.item_index["K2"]]
    overlap = binary[:, toy.item_index["K0"]] | binary[:, toy.item_index["K1"]]
    assert evidence.shoppers == int(np.sum(k2 & overlap))
    assert evidence.item_shoppers == int(k2.sum())
    assert evidence.co_items[0][1] == max(int(np.sum(k2 & binary[:, toy.item_index[i]])) for i in ("K0", "K1"))
    text = evidence.text({"K0": "Rain boots", "K1": "Raincoat"})
    assert f"{evidence.shoppers} shoppers whose baskets overlap yours" in text
    assert "Rain boots" in text or "Raincoat" in text
    assert model.evidence(["K0"], "unknown").text() == "no behavioural evidence yet"


def test_similar_items_stay_within_the_taste_group(toy: Interactions) -> None:
    model = make_cf_model("item_item").fit(toy)
    similar = [p for p, _ in model.similar_items("K1", k=3)]
    assert similar and all(p.startswith("K") for p in similar)
    assert model.similar_items("nope") == []


def test_recent_interactions_weigh_more_in_a_profile() -> None:
    log = InteractionLog.from_rows([("a", "old", "purchase", 0.0, 1.0), ("a", "new", "purchase", 30 * DAY, 1.0)])
    data = build_interactions(log)
    profile = data.profile.toarray()[0]
    assert profile[data.item_index["new"]] == pytest.approx(8.0)
    assert profile[data.item_index["old"]] < 0.01  # 30 days is ten half-lives
    assert data.matrix.toarray()[0].tolist() == [8.0, 8.0]  # the learned matrix is not decayed by default
