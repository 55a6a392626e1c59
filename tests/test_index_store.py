"""Index build, incremental rebuild, atomic publish, checksums and rollback (model-free embedder)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assistant.service.assistant import Assistant
from assistant.ingest.catalog import CatalogReport, write_jsonl
from assistant.core.config import Settings
from assistant.index.embedding import HashingEmbedder
from assistant.index import (IndexCorrupt, IndexError_, IndexNotFound, build_index, list_builds,
                             list_indexes, load_index, published_path, rollback)
from conftest import make_products


def build(settings: Settings, products, embedder=None, **kwargs):
    return build_index(products, CatalogReport(), embedder or HashingEmbedder(), settings.index_dir,
                       settings.index_name, **kwargs)


class CountingEmbedder(HashingEmbedder):
    """Hashing embedder that counts the texts it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_batch(self, texts):
        self.embedded.extend(texts)
        return super().embed_batch(texts)


class FailingEmbedder(HashingEmbedder):
    """Fails after embedding a few batches: a crash in the middle of a build."""

    def __init__(self, fail_after: int) -> None:
        super().__init__()
        self.calls = 0
        self.fail_after = fail_after

    def embed_batch(self, texts):
        self.calls += 1
        if self.calls > self.fail_after:
            raise RuntimeError("simulated crash mid-build")
        return super().embed_batch(texts)


def test_build_writes_a_readable_manifest_and_loads_back(settings: Settings) -> None:
    products = make_products(40)
    summary = build(settings, products)
    assert (summary.loaded, summary.re_embedded, summary.reused, summary.deleted) == (40, 40, 0, 0)
    index = load_index(settings.index_dir, "shop")
    assert [p.id for p in index.products] == [p.id for p in products]
    manifest = json.loads((index.path / "manifest.json").read_text())
    assert manifest["embedder"] == {"model_id": "hashing-256", "dim": 256}
    assert manifest["product_count"] == 40
    assert manifest["vector_index"]["kind"] == "flat"
    assert set(manifest["files"]) == {"products.parquet", "vectors.npy", "report.json", "faiss.index", "lexical.json",
                                      "lexical.npz"}
    assert manifest["lexical"]["backend"] == "bm25s" and manifest["lexical"]["terms"] > 0
    assert {"numpy", "faiss-cpu"} <= set(manifest["library_versions"])
    assert len(manifest["catalog_hash"]) == 64 and manifest["built_at"]
    assert list_indexes(settings.index_dir) == ["shop"]
    top = index.search_vector(HashingEmbedder().embed_query(products[5].embedding_text()), 1)
    assert top[0][0].id == products[5].id


def test_rebuild_reembeds_only_changed_products(settings: Settings) -> None:
    products = make_products(100)
    build(settings, products)
    changed = list(products)
    changed[3] = replace(changed[3], description="Now with a new lining.")
    changed[50] = replace(changed[50], title="Renamed product")
    changed[7] = replace(changed[7], price=999.0)  # price is not embedded: vector reused
    embedder = CountingEmbedder()
    summary = build(settings, changed, embedder)
    assert summary.re_embedded == 2
    assert summary.reused == 98
    assert sorted(embedder.embedded) == sorted([changed[3].embedding_text(), changed[50].embedding_text()])
    index = load_index(settings.index_dir, "shop")
    assert index.products[7].price == 999.0
    fresh = HashingEmbedder().embed([p.embedding_text() for p in changed])
    np.testing.assert_allclose(index.vectors, fresh, atol=1e-6)


def test_rebuild_drops_deleted_products(settings: Settings) -> None:
    products = make_products(30)
    build(settings, products)
    new = [replace(p, title=f"Brand new item {i}") for i, p in enumerate(make_products(2, prefix="N"))]
    summary = build(settings, products[:25] + new)
    assert (summary.deleted, summary.re_embedded, summary.reused) == (5, 2, 25)
    ids = {p.id for p in load_index(settings.index_dir, "shop").products}
    assert "P0029" not in ids and "N0001" in ids and len(ids) == 27


def test_another_embedder_means_a_full_reembed(settings: Settings) -> None:
    products = make_products(10)
    build(settings, products)
    summary = build(settings, products, HashingEmbedder(dim=128))
    assert summary.re_embedded == 10 and summary.reused == 0


def test_crash_mid_build_leaves_previous_index_serving(settings: Settings) -> None:
    build(settings, make_products(20))
    before = published_path(settings.index_dir, "shop")
    before_manifest = (before / "manifest.json").read_bytes()
    with pytest.raises(RuntimeError, match="simulated crash"):
        build(settings, make_products(60, prefix="X"), FailingEmbedder(fail_after=2), batch_size=8)
    assert published_path(settings.index_dir, "shop") == before
    assert (before / "manifest.json").read_bytes() == before_manifest
    assert len(load_index(settings.index_dir, "shop").products) == 20


def test_stale_temporary_builds_are_cleaned(settings: Settings) -> None:
    build(settings, make_products(5))
    stale = settings.index_dir / ".builds" / "shop" / "20200101T000000000000Z.tmp"
    stale.mkdir()
    (stale / "vectors.npy").write_bytes(b"half written")
    build(settings, make_products(6))
    assert not stale.exists()


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from assistant.ingest.catalog import CatalogReport
    from assistant.index.embedding import HashingEmbedder
    from assistant.index import build_index
    from conftest import make_products

    class SlowEmbedder(HashingEmbedder):
        def embed_batch(self, texts):
            Path({marker!r}).touch()
            time.sleep(0.05)
            return super().embed_batch(texts)

    build_index(make_products(2000, prefix="K"), CatalogReport(), SlowEmbedder(), Path({root!r}), "shop",
                batch_size=1)
""")


def test_kill_9_during_build_leaves_previous_index_loadable_and_unchanged(settings: Settings,
                                                                          tmp_path: Path) -> None:
    build(settings, make_products(20))
    before = published_path(settings.index_dir, "shop")
    files_before = {p.name: p.read_bytes() for p in before.iterdir()}
    marker = tmp_path / "embedding-started"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), marker=str(marker),
                                root=str(settings.index_dir))
    process = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the build never started embedding"
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert published_path(settings.index_dir, "shop") == before
    assert {p.name: p.read_bytes() for p in before.iterdir()} == files_before
    assert [p.id for p in load_index(settings.index_dir, "shop").products] == [f"P{i:04d}" for i in range(20)]
    summary = build(settings, make_products(20))  # the next build recovers the lock and cleans up
    assert summary.reused == 20


def test_damaged_file_is_detected_by_checksum(settings: Settings) -> None:
    build(settings, make_products(10))
    folder = published_path(settings.index_dir, "shop")
    vectors = folder / "vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-1] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="vectors.npy does not match its checksum"):
        load_index(settings.index_dir, "shop")


def test_missing_index_names_the_build_command(settings: Settings) -> None:
    with pytest.raises(IndexNotFound, match="aisle index build"):
        load_index(settings.index_dir, "shop")


def test_rollback_serves_the_previous_build(settings: Settings) -> None:
    build(settings, make_products(10))
    build(settings, make_products(12))
    assert len(list_builds(settings.index_dir, "shop")) == 2
    rollback(settings.index_dir, "shop")
    assert len(load_index(settings.index_dir, "shop").products) == 10
    with pytest.raises(IndexError_, match="no earlier build"):
        rollback(settings.index_dir, "shop")


def test_old_builds_are_pruned(settings: Settings) -> None:
    for count in range(5, 10):
        build(settings, make_products(count), keep_builds=3)
    assert len(list_builds(settings.index_dir, "shop")) == 3


def test_empty_catalog_and_bad_names_are_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="no products to index"):
        build(settings, [])
    with pytest.raises(ValueError, match="index name"):
        build_index(make_products(1), CatalogReport(), HashingEmbedder(), settings.index_dir, "../evil")


def test_assistant_keeps_serving_when_a_rebuild_fails(settings: Settings, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    write_jsonl(make_products(15), catalog)
    assistant = Assistant(settings)
    assistant.rebuild_index([catalog])
    assert assistant.search("rain jacket", 3)[0].product.title.startswith("Rain Jacket")
    broken = tmp_path / "broken.csv"
    broken.write_text("foo,bar\n1,2\n")
    with pytest.raises(Exception, match="no column for required field"):
        assistant.rebuild_index([broken])
    assert len(assistant.index.products) == 15
    write_jsonl(make_products(18), catalog)
    assistant.rebuild_index([catalog])
    assert len(assistant.index.products) == 18  # a newly published build is picked up


def test_search_handles_odd_queries(settings: Settings, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.jsonl"
    write_jsonl(make_products(8), catalog)
    assistant = Assistant(settings)
    assistant.rebuild_index([catalog])
    assert assistant.search("   ", 3) == []
    for query in ["🙂🙂", "<script>alert(1)</script>", "'; DROP TABLE products; --", "x" * 50_000, "雨衣"]:
        hits = assistant.search(query, 3)
        assert len(hits) == 3 and [h.rank for h in hits] == [1, 2, 3]


def test_a_damaged_published_build_falls_back_to_the_previous_good_one(settings: Settings, tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    build(settings, make_products(10))
    build(settings, make_products(12))
    vectors = published_path(settings.index_dir, "shop") / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-8])  # a truncated file
    assistant = Assistant(replace(settings, llm_model="none"))
    assert len(assistant.index.products) == 10  # the previous good build serves
    assert "does not match its checksum" in assistant.index_warning
    assert "aisle index rollback shop" in assistant.index_warning
    assert any(r.levelname == "WARNING" and "does not match its checksum" in r.getMessage()
               for r in caplog.records)  # the operator's log says so too
    assert assistant.search("rain jacket", 2)  # and answers
    assert len(assistant.index.products) == 10  # not reloaded on every access


def test_pruning_never_removes_the_published_build_under_a_relative_index_folder(settings: Settings) -> None:
    from assistant.index import prune, rollback
    root = Path("index")  # relative, as the default setting is (the test runs in its own folder)
    for version in range(2):
        build_index(make_products(5 + version), CatalogReport(), HashingEmbedder(), root, "shop", keep_builds=5)
    older = rollback(root, "shop")  # the published build is now not the newest
    prune(root, "shop", keep=1)
    assert published_path(root, "shop") == older.resolve()
    assert load_index(root, "shop").manifest["product_count"] == 5
