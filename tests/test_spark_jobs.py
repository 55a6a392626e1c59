"""The Spark engine of the offline jobs (`--engine spark`), in local[2] on small data: what it writes is
what the single-machine path writes (the agreement tests say within what tolerance), and `aisle serve`'s
loading path serves it unchanged. One SparkSession for the whole module (its JVM starts in ~10 s)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from assistant.behaviour import load_cf_model
from assistant.behaviour.loading import load_serving_cf_model
from assistant.behaviour.selection import ModelChoice, fit_choice
from assistant.behaviour.spark_events import read_events_spark
from assistant.behaviour.spark_fit import fit_spark_model, spark_interactions
from assistant.behaviour.split import leave_last_out
from assistant.behaviour.store import check_cf_model
from assistant.behaviour.interactions import build_interactions
from assistant.core.config import Settings
from assistant.core.spark import spark_session
from assistant.demo import catalog_path, events_path
from assistant.evaluation.metrics import rank_heldout
from assistant.index import build_index, load_index
from assistant.index.embedding import make_embedder
from assistant.index.spark_build import spark_vectors
from assistant.ingest.catalog import read_catalog, write_jsonl
from assistant.ingest.customers import read_events
from assistant.privacy.keys import Pseudonymizer
from assistant.surfaces.cli import main

SHOPPERS = 250  # of the demo store's 1,800: about a seventh of its log (keeps each Spark job to seconds)
KEY = "spark-test-key-0123456789"


@pytest.fixture(scope="module")
def spark():
    return spark_session("local[2]", app="aisle-tests", driver_memory="1g",
                         conf={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"})


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo log's first SHOPPERS shoppers as a CSV, plus one bad row and one duplicate row."""
    with gzip.open(events_path(), "rt", encoding="utf-8") as handle:
        events = pd.read_csv(handle, dtype=str, keep_default_na=False)
    keep = sorted(events["customer_id"].unique())[:SHOPPERS]
    events = events[events["customer_id"].isin(keep)]
    bad = pd.DataFrame([{"customer_id": "C99999", "product_id": "P00001", "event": "teleport",
                         "timestamp": "2025-11-02T00:00:00Z", "value": ""}])
    path = tmp_path_factory.mktemp("spark-log") / "events.csv"
    pd.concat([events, bad, events.iloc[:1]]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def pseudonymize():
    return Pseudonymizer(KEY.encode())


@pytest.fixture(scope="module")
def both_logs(spark, log_file: Path, pseudonymize):
    """The same file read by Spark and by the single-machine reader."""
    return read_events_spark(spark, [log_file], pseudonymize), read_events([log_file], pseudonymize)


def test_bad_and_duplicate_rows_are_reported_not_fatal(both_logs) -> None:
    spark_read, single = both_logs
    assert spark_read.report.loaded == single.report.loaded == len(single) > 10_000
    reasons = [r.reason for r in spark_read.report.rejections]
    assert any("unknown event 'teleport'" in r for r in reasons)
    assert any("1 duplicate events" in r for r in reasons)


def test_interactions_equal_the_single_machine_ones(both_logs) -> None:
    spark_read, single = both_logs
    ours, theirs = spark_interactions(spark_read.frame).interactions, build_interactions(single)
    assert ours.users == theirs.users and ours.items == theirs.items
    for name in ("matrix", "recency", "profile", "seen"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.nnz == b.nnz and abs(a - b).max() <= 1e-6 * max(abs(b).max(), 1.0), name
    assert {k: v for k, v in ours.meta.items() if k != "engine"} == theirs.meta


def test_item_item_neighbours_agree_up_to_ties_at_the_cut(both_logs) -> None:
    """Every column keeps the same neighbours, except among products tied at the 100th place (which of
    them is kept is arbitrary on both paths); shared entries agree within 1e-5; top-10 recommendations
    overlap at least 0.95 on average."""
    spark_read, single = both_logs
    ours, theirs = fit_spark_model(spark_read.frame, "item_item"), fit_choice(single, ModelChoice("item_item"))
    a, b = ours.similarity.tocsc(), theirs.similarity.tocsc()
    assert a.nnz == b.nnz
    for j in range(a.shape[1]):
        x = dict(zip(a.indices[a.indptr[j]:a.indptr[j + 1]].tolist(), a.data[a.indptr[j]:a.indptr[j + 1]]))
        y = dict(zip(b.indices[b.indptr[j]:b.indptr[j + 1]].tolist(), b.data[b.indptr[j]:b.indptr[j + 1]]))
        assert all(abs(x[i] - y[i]) <= 1e-5 for i in x.keys() & y.keys())
        for i in x.keys() ^ y.keys():
            assert abs(x.get(i, y.get(i)) - min(y.values())) <= 1e-5  # a tie at the cut
    shoppers = theirs.data.users[::10]
    overlap = [len({p for p, _ in ours.recommend(customer=c)} & {p for p, _ in theirs.recommend(customer=c)}) / 10
               for c in shoppers]
    assert np.mean(overlap) >= 0.95


def test_spark_als_ranks_held_out_products_as_well_as_implicit(spark, both_logs) -> None:
    """Two ALS implementations (Spark's regularisation scales with each row's count; implicit's does not)
    cannot give the same factors: on the temporal hold-out their NDCG@10 must agree within 0.03 and
    hit-rate@10 within 0.05 (measured on this data: see docs/scale.md)."""
    _, single = both_logs
    split = leave_last_out(single)
    train = split.train
    frame = spark.createDataFrame(pd.DataFrame({"customer": train.customers, "product": train.products,
                                                "event": train.events, "timestamp": train.timestamps,
                                                "value": train.values}))
    ours = rank_heldout(fit_spark_model(frame, "als"), split.targets)[0]
    theirs = rank_heldout(fit_choice(train, ModelChoice("als")), split.targets)[0]
    assert ours.users == theirs.users > 200
    assert abs(ours.ndcg - theirs.ndcg) <= 0.03 and abs(ours.recall - theirs.recall) <= 0.05
    assert ours.ndcg > 0.04  # far better than chance (1 / 2,000 products)


@pytest.fixture(scope="module")
def served(spark, tmp_path_factory: pytest.TempPathFactory, log_file: Path):
    """`aisle index build --engine spark` and `aisle cf fit --engine spark` run as a user runs them."""
    root = tmp_path_factory.mktemp("spark-served")
    env = {"AISLE_PSEUDONYM_KEY": KEY, "AISLE_STATE_DIR": str(root / "state")}
    runner = CliRunner()
    built = runner.invoke(main, ["--index-dir", str(root / "index"), "index", "build", str(catalog_path()),
                                 "--name", "demo", "--embedder", "hashing", "--engine", "spark",
                                 "--master", "local[2]", "--quiet"], env=env)
    fitted = runner.invoke(main, ["--index-dir", str(root / "index"), "cf", "fit", "--interactions",
                                  str(log_file), "--name", "demo", "--engine", "spark", "--master", "local[2]",
                                  "--model", "item_item", "--quiet"], env=env)
    return root, built, fitted


def test_the_cli_jobs_publish_what_serving_loads(served, monkeypatch: pytest.MonkeyPatch) -> None:
    root, built, fitted = served
    assert built.exit_code == 0, built.output
    assert fitted.exit_code == 3, fitted.output  # published; the bad row was rejected
    assert "item_item (Spark, local[2])" in fitted.output
    folder = root / "index" / ".cf" / "demo"
    manifest = check_cf_model(folder)  # every checksum, as serving checks them
    assert manifest["model"] == "item_item" and manifest["data"]["engine"] == "spark"
    model, warning = load_serving_cf_model(folder)
    assert warning is None and len(model.recommend(customer=model.data.users[0], k=5)) == 5
    from assistant.service.assistant import Assistant
    monkeypatch.setenv("AISLE_PSEUDONYM_KEY", KEY)
    shop = Assistant(Settings(index_dir=root / "index", index_name="demo", embedder="hashing",
                              state_dir=root / "state", llm_model="none"))
    assert shop.cf_model is not None and shop.cf_warning is None
    assert shop.index.manifest["product_count"] == 2411
    assert shop.recommend("rain jacket for a child", k=5).items


def test_spark_index_build_equals_the_single_machine_build(spark, tmp_path: Path) -> None:
    """Same products, same embedder (hashing): vectors within 1e-5, the same manifest facts, the same
    top-10 for queries."""
    products, report = read_catalog([catalog_path()])
    products = products[:300]
    from assistant.index.spark_build import SparkIndexJob
    embedder = make_embedder("hashing")
    job = SparkIndexJob(spark, tmp_path / "spark")
    try:
        ours = build_index(products, report, job.embedder_for("hashing", products), tmp_path / "spark", "shop",
                           index_builder=job.index_builder)
    finally:
        job.close()
    assert len(job.shard_rows) > 1 and sum(job.shard_rows) == len({p.embedding_text() for p in products})
    theirs = build_index(products, report, embedder, tmp_path / "local", "shop")
    a, b = load_index(tmp_path / "spark", "shop"), load_index(tmp_path / "local", "shop")
    assert np.abs(a.vectors - b.vectors).max() <= 1e-5
    for key in ("product_count", "catalog_hash", "embedder", "vector_index"):
        assert a.manifest[key] == b.manifest[key]
    queries = embedder.embed(["rain jacket", "wooden toy train", "garden hose", "red dress for a party"])
    assert np.array_equal(a.vectors_index.search(queries, 10)[1], b.vectors_index.search(queries, 10)[1])
    assert ours.kind == theirs.kind and not list((tmp_path / "spark").glob(".spark-shards-*"))


def test_the_packaged_minilm_in_each_executor_embeds_as_the_driver_does(spark, tmp_path: Path, minilm) -> None:
    texts = [p.embedding_text() for p in read_catalog([catalog_path()])[0][:48]]
    result = spark_vectors(spark, texts, "minilm", tmp_path / "shards", partitions=2)
    assert result.embedder.model_id == minilm.model_id
    assert np.abs(result.embedder.embed(texts) - minilm.embed(texts)).max() <= 1e-5
