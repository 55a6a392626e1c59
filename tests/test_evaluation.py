"""Metrics with known answers, the leave-last-out split, and `aisle eval cf` on the demo store."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from assistant.surfaces.cli import main
from assistant.ingest.customers import InteractionLog
from assistant.evaluation.metrics import leave_last_out, ndcg_at_k, recall_at_k, reciprocal_rank


def test_metric_known_answers() -> None:
    assert ndcg_at_k(1, 10) == 1.0
    assert ndcg_at_k(3, 10) == pytest.approx(0.5)
    assert ndcg_at_k(11, 10) == 0.0
    assert recall_at_k(10, 10) == 1.0 and recall_at_k(11, 10) == 0.0
    assert reciprocal_rank(4) == 0.25


def test_leave_last_out_holds_out_the_latest_new_product() -> None:
    nan = math.nan
    log = InteractionLog.from_rows([
        ("a", "x", "view", 1.0, nan), ("a", "y", "view", 2.0, nan), ("a", "x", "purchase", 5.0, 1.0),
        ("a", "z", "view", 3.0, nan), ("a", "z", "purchase", 4.0, 1.0),
        ("b", "x", "view", 1.0, nan),  # one product only: training data, not evaluated
    ])
    split = leave_last_out(log)
    assert split.targets == {"a": "z"}
    kept = sorted(zip(split.train.customers.tolist(), split.train.products.tolist(), split.train.events.tolist()))
    assert kept == [("a", "x", "purchase"), ("a", "x", "view"), ("a", "y", "view"), ("b", "x", "view")]


def test_leave_last_out_breaks_time_ties_by_log_order_and_counts_distinct_products() -> None:
    nan = math.nan
    log = InteractionLog.from_rows([
        ("a", "x", "view", 1.0, nan), ("a", "y", "view", 2.0, nan), ("a", "z", "view", 2.0, nan),  # y, z tie
        ("b", "x", "view", 1.0, nan), ("b", "x", "cart", 2.0, nan), ("b", "y", "view", 3.0, nan),
        ("c", "x", "view", 5.0, nan), ("c", "y", "view", 4.0, nan), ("c", "x", "purchase", 6.0, 1.0),
    ])
    assert leave_last_out(log).targets == {"a": "z", "b": "y", "c": "x"}  # c came to x last (first at 5.0)
    split = leave_last_out(log, min_items=3)
    assert split.targets == {"a": "z"}
    assert sorted(zip(split.train.customers.tolist(), split.train.products.tolist())) == [
        ("a", "x"), ("a", "y"), ("b", "x"), ("b", "x"), ("b", "y"), ("c", "x"), ("c", "x"), ("c", "y")]


def test_eval_cf_on_the_demo_store_tunes_every_model_and_compares_the_default() -> None:
    result = CliRunner().invoke(main, ["eval", "cf", "--json", "--quiet", "--models", "popularity,item_item,blend"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    store = json.loads(result.output)["stores"][0]
    by_model = {r["model"]: r for r in store["results"]}
    assert set(by_model) == {"popularity", "item_item", "blend", "default"}
    assert store["events"] > 60_000 and by_model["default"]["users"] > 1_000
    assert by_model["default"]["ndcg"] >= 1.3 * by_model["popularity"]["ndcg"]
    assert by_model["default"]["choice"] == store["selection"]["label"]
    assert store["default_vs_best_peer"]["peer"] == "item_item" and store["default_vs_best_peer"]["se"] > 0
    assert {"parents_young_kids", "retirees", "young_adults"} <= set(by_model["default"]["per_segment_ndcg"])


def test_eval_cf_rejects_unknown_models() -> None:
    result = CliRunner().invoke(main, ["eval", "cf", "--models", "ease,magic"])
    assert result.exit_code == 2 and "magic" in result.output
