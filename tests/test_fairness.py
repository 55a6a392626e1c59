"""Fairness measures with hand-computed answers, the popularity cap, and `aisle eval fairness` end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.rank.attributes import ProductFeatures
from assistant.ingest.catalog import Product
from assistant.surfaces.cli import main
from assistant.behaviour import build_interactions
from assistant.core.config import FusionSettings
from assistant.ingest.customers import InteractionLog
from assistant.understand import Request
from assistant.evaluation.metrics import default_requests_path, evaluate_model, leave_last_out
from assistant.evaluation.fairness import (PLOTS, SegmentQuality, exposure, exposure_weight, gini, heldout_cf, lorenz,
                                price_tiers, shares)
from assistant.rank.hybrid import cap_popular, popular_head, popular_limit, popularity_deciles, rank
from assistant.rank.hybrid import RankContext
from assistant.rank.segments import GENERAL
from conftest import make_products

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REQUESTS = default_requests_path()


# ---------------------------------------------------------------------------- measures


def test_gini_of_known_vectors() -> None:
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)  # all on one of n: (n - 1) / n
    assert gini([4, 1, 3, 2]) == pytest.approx(0.25)  # 2·(1·1 + 2·2 + 3·3 + 4·4) / (4·10) − 5/4
    assert gini([0, 0, 0]) == 0.0 and gini([]) == 0.0


def test_lorenz_curve_starts_at_zero_and_ends_at_one() -> None:
    x, y = lorenz([1, 0, 0, 0])
    assert x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert y.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]


def test_exposure_is_position_weighted() -> None:
    assert exposure_weight(1) == 1.0 and exposure_weight(3) == 0.5
    values = exposure([["a", "b", "c"], ["b"], ["zz"]], ["a", "b", "c", "d"])  # "zz" is not in the catalog
    assert values.tolist() == pytest.approx([1.0, 1 / math.log2(3) + 1.0, 0.5, 0.0])
    assert shares(values, ["x", "y", "x", "y"], ["x", "y"]) == pytest.approx(
        {"x": 1.5 / values.sum(), "y": values[1] / values.sum()})


def test_price_tiers_are_tertiles_within_each_category() -> None:
    def product(pid: str, category: str, price: float) -> Product:
        return Product(pid, pid, price, category=category)
    products = [product("a1", "A", 30), product("a2", "A", 10), product("a3", "A", 20),  # 1/6, 1/2, 5/6
                product("b1", "B", 99),  # alone: percentile 1/2
                product("c1", "C", 5), product("c2", "C", 5),  # equal prices: 1/2 each
                product("d1", "D", 1), product("d2", "D", 2),  # 1/4 and 3/4
                product("e1", "E", 10), product("e2", "E", 10), product("e3", "E", 20)]  # 1/3, 1/3, 5/6
    assert price_tiers(products) == ["premium", "cheap", "mid", "mid", "mid", "mid", "cheap", "premium",
                                     "mid", "mid", "premium"]


def test_popularity_deciles_and_head() -> None:
    assert popularity_deciles(list(range(20))).tolist() == [d for d in range(1, 11) for _ in range(2)]
    assert popularity_deciles([5] * 10).tolist() == list(range(1, 11))  # ties: by position
    assert popularity_deciles([3, 1, 2]).tolist() == [7, 1, 4]
    ids = [f"p{i}" for i in range(20)]
    assert popular_head(ids, {"p3": 50, "p7": 40, "p1": 1}) == {"p3", "p7"}  # missing ids count 0


def test_segment_gap_and_worst_segment() -> None:
    quality = SegmentQuality("x", 5, 3, 0.5, {"a": 0.2, "b": 0.7, "c": 0.4})
    assert quality.gap == pytest.approx(0.5) and quality.worst == "a"
    assert SegmentQuality("x", 5, 0, 0.0).gap == 0.0


# ---------------------------------------------------------------------------- the cap


def test_cap_honours_the_limit_and_keeps_the_order_otherwise() -> None:
    order = ["h1", "a", "h2", "b", "h3", "c", "d"]
    head = {"h1", "h2", "h3"}
    assert cap_popular(order, head, 4, 0.25) == ["h1", "a", "b", "c"]
    assert cap_popular(order, head, 4, 0.5) == ["h1", "a", "h2", "b"]
    assert cap_popular(order, head, 4, 1.0) == order[:4]
    assert cap_popular(order, head, 4, 0.0) == ["a", "b", "c", "d"]
    assert cap_popular(order, set(), 3, 0.0) == order[:3]


def test_cap_fills_with_head_products_when_nothing_else_is_left() -> None:
    assert cap_popular(["h1", "a", "h2", "h3"], {"h1", "h2", "h3"}, 3, 0.0) == ["h1", "a", "h2"]


def test_cap_limit_is_a_ceiling_without_floating_point_surprises() -> None:
    assert popular_limit(0.3, 10) == 3 and popular_limit(0.2, 5) == 1 and popular_limit(0.25, 5) == 2
    with pytest.raises(ValueError, match="max_popular_share"):
        popular_limit(1.5, 5)


PRODUCTS = make_products(40)
FEATURES = ProductFeatures.build(PRODUCTS)
POPULARITY = {p.id: 100 - i for i, p in enumerate(PRODUCTS)}  # P0000 most popular; head = P0000..P0003
CONTENT = np.array([1.0 - i / 100 for i in range(40)], dtype=np.float32)  # the same order by content


def _vectors() -> np.ndarray:
    vectors = np.random.default_rng(0).normal(size=(40, 16)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _ids(result) -> list[str]:
    return [c.product.id for c in result.candidates]


def test_rank_with_the_cap_off_is_unchanged() -> None:
    vectors = _vectors()
    plain = rank(RankContext(PRODUCTS, FEATURES, vectors, CONTENT, {"P0005": 1.0}), Request(need="jacket"), GENERAL, k=5)
    given = rank(RankContext(PRODUCTS, FEATURES, vectors, CONTENT, {"P0005": 1.0}, popularity=POPULARITY), Request(need="jacket"), GENERAL, FusionSettings(max_popular_share=None), k=5)
    assert FusionSettings().max_popular_share is None
    assert _ids(given) == _ids(plain) and given.pool == plain.pool
    assert [c.score for c in given.candidates] == [c.score for c in plain.candidates]
    full = rank(RankContext(PRODUCTS, FEATURES, vectors, CONTENT, {"P0005": 1.0}, popularity=POPULARITY), Request(need="jacket"), GENERAL, FusionSettings(max_popular_share=1.0), k=5)
    assert _ids(full) == _ids(plain)


def test_rank_caps_the_most_popular_after_diversity() -> None:
    content_only = FusionSettings(content=1, cf=0, attributes=0, cf_pool=0, prior_pool=0, diversity=0,
                                  max_popular_share=0.2)
    result = rank(RankContext(PRODUCTS, FEATURES, _vectors(), CONTENT, {}, popularity=POPULARITY), Request(need="jacket"), GENERAL, content_only, k=5)
    assert _ids(result) == ["P0000", "P0004", "P0005", "P0006", "P0007"]
    assert [c.rank for c in result.candidates] == [1, 2, 3, 4, 5]
    assert "held back" in result.pool_details["P0001"].popularity_cap

    vectors = _vectors()  # with the default diversity the cap re-ranks the diversified list
    capped = rank(RankContext(PRODUCTS, FEATURES, vectors, CONTENT, {}, popularity=POPULARITY), Request(need="jacket"), GENERAL, FusionSettings(max_popular_share=0.4), k=5)
    plain = rank(RankContext(PRODUCTS, FEATURES, vectors, CONTENT, {}), Request(need="jacket"), GENERAL, k=5)
    chosen = _ids(plain)
    expected = cap_popular([*chosen, *(pid for pid, _ in plain.pool if pid not in chosen)],
                           {"P0000", "P0001", "P0002", "P0003"}, 5, 0.4)
    assert _ids(capped) == expected and sum(pid < "P0004" for pid in expected) <= 2


# ---------------------------------------------------------------------------- held-out CF


def _small_log() -> tuple[InteractionLog, dict[str, str]]:
    rng = np.random.default_rng(1)
    rows = []
    for c in range(80):
        liked = rng.choice(30, size=int(rng.integers(3, 8)), replace=False, p=np.linspace(2, 1, 30) / 45)
        for t, item in enumerate(liked):
            rows.append((f"c{c}", f"P{item:04d}", "purchase" if t % 2 else "view", 1000.0 * c + t, math.nan))
    return InteractionLog.from_rows(rows), {f"c{c}": ("early" if c % 2 else "late") for c in range(80)}


def test_heldout_cf_without_a_cap_matches_eval_cf_and_the_cap_holds() -> None:
    log, segments = _small_log()
    ids = [f"P{i:04d}" for i in range(30)]
    quality, lists, split, data, _ = heldout_cf(log, segments, ids, k=5, caps=[0.2])
    reference = evaluate_model("blend", build_interactions(leave_last_out(log).train, segments), split.targets, 5)
    assert quality[None].ndcg == pytest.approx(reference.ndcg)
    assert quality[None].per_segment == pytest.approx(reference.per_segment)
    head = popular_head(ids, data.item_popularity())
    assert len(head) == 3 and all(len(shown) == 5 for shown in lists[0.2])
    assert all(sum(pid in head for pid in shown) <= 1 for shown in lists[0.2])
    assert any(sum(pid in head for pid in shown) > 1 for shown in lists[None])


# ---------------------------------------------------------------------------- the command


def test_eval_fairness_on_the_demo_store(tmp_path: Path) -> None:
    """The whole command on the demo store (model-free hashing index; ten labelled requests)."""
    Path("aisle.toml").write_text('index_dir = "index"\nembedder = "hashing"\nstate_dir = "state"\n'
                                  'llm_model = "none"\n')
    cases = tmp_path / "requests.jsonl"
    cases.write_text("\n".join(REQUESTS.read_text(encoding="utf-8").splitlines()[:10]) + "\n", encoding="utf-8")
    runner = CliRunner()
    args = ["eval", "fairness", "--file", str(cases), "--cap", "0.4", "--quiet"]

    result = runner.invoke(main, [*args, "--out", "plots"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    table = result.stdout
    for text in ("no cap", "cap 0.4", "held-out NDCG@10, CF blend", "labelled NDCG@5, hybrid", "worst segment",
                 "gap (best - worst segment)", "exposure Gini", "top-decile exposure share", "decile 10", "premium"):
        assert text in table
    for name in PLOTS:
        data = (Path("plots") / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000

    result = runner.invoke(main, [*args, "--json", "--out", "json-plots"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"k", "request_k", "events", "catalog_products", "popularity", "catalog_share", "runs",
            "plots"} <= set(report)
    assert report["catalog_products"] > 2_000 and report["popularity"]["head_products"] > 200
    assert [run["cap"] for run in report["runs"]] == [None, 0.4]
    plain, capped = report["runs"]
    assert plain["requests"]["cases"] == 10 and plain["heldout_cf"]["cases"] > 1_000
    assert {"fitness_enthusiasts", "parents_young_kids", "professionals", "retirees", "young_adults"} == set(
        plain["heldout_cf"]["per_segment_ndcg"])
    assert plain["heldout_cf"]["worst_segment"] in plain["heldout_cf"]["per_segment_ndcg"]
    assert {"gini", "head_share", "by_source", "by_popularity_decile", "by_price_tier", "by_brand"} <= set(
        plain["exposure"])
    assert sum(plain["exposure"]["by_price_tier"].values()) == pytest.approx(1.0, abs=1e-3)
    assert capped["exposure"]["head_share"] < plain["exposure"]["head_share"]
    assert capped["exposure"]["gini"] < plain["exposure"]["gini"]
    assert all(Path(p).read_bytes().startswith(PNG_MAGIC) for p in report["plots"])


def test_eval_fairness_help_and_bad_cap() -> None:
    result = CliRunner().invoke(main, ["eval", "fairness", "--help"])
    assert result.exit_code == 0 and "--cap" in result.output and "--out" in result.output
    result = CliRunner().invoke(main, ["eval", "fairness", "--cap", "1.5"])
    assert result.exit_code == 2 and "1.5" in result.output


@pytest.mark.slow
def test_fairness_on_the_real_demo_index(demo_assistant, demo_settings) -> None:
    """MiniLM demo index: the uncapped hybrid keeps its labelled NDCG; a cap moves exposure off the head."""
    from assistant.ingest.customers import read_customers, read_events
    from assistant.demo import customers_path, events_path
    from assistant.evaluation.metrics import load_request_cases
    from assistant.evaluation.fairness import evaluate_fairness
    from assistant.privacy.keys import pseudonymizer

    pseudonymize = pseudonymizer(demo_settings.state_dir)
    log = read_events([events_path()], pseudonymize)
    profiles, _ = read_customers([customers_path()], pseudonymize)
    report = evaluate_fairness(demo_assistant, log, {c: p.segment for c, p in profiles.items()},
                               load_request_cases(REQUESTS), caps=[0.2])
    plain, capped = report.runs
    assert plain.requests.ndcg > 0.78 and plain.heldout.ndcg > 0.15
    assert report.head_share(capped.total) < report.head_share(plain.total)
    assert plain.requests.ndcg - capped.requests.ndcg < 0.05


def test_products_nobody_touched_are_never_head() -> None:
    ids = [f"P{i:02d}" for i in range(20)]
    assert popular_head(ids, {"P00": 9}) == {"P00"}  # P19 ties at 0 and would fill the decile by position
