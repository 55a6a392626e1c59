"""IVF-PQ through the public build and load path, the automatic choice of index kind, building in shards, and
the Parquet product table (round trip, built lazily, a damaged file refused, format-1 builds still loading)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.core.durable import checksums
from assistant.index import IndexCorrupt, build_index, check_build, load_build, load_index
from assistant.index.embedding import HashingEmbedder
from assistant.index.manifest import PRODUCTS, PRODUCTS_V1
from assistant.index.vector_index import (IVFPQParams, add, build_vector_index, choose_kind, load_vector_index,
                                          new_index, recall_at_k, train)
from assistant.ingest.catalog import CatalogReport, Product
from conftest import make_products
from stores import DEMO_PRODUCTS

COUNT = len(DEMO_PRODUCTS)  # 2,411


def catalog() -> list[Product]:
    """The demo store, two products replaced by ones with every kind of field the table stores: tags,
    attributes, a missing rating, sizes, non-ASCII text."""
    products = list(DEMO_PRODUCTS)
    products[1] = Product("X0001", "Veste de pluie enfant « Été »", 29.5, tags=("kids", "rain"), rating=None,
                          in_stock=False, attributes={"material": "nylon", "产地": "中国"}, size="S|M")
    products[2] = Product("X0002", "Wool socks", 4.0, rating=4.5, rating_count=12, image_url="http://x/y.png")
    return products


@pytest.fixture(scope="module")
def ivfpq_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One IVF-PQ build of the demo store's 2,411 products (hashing embedder), shared by the tests below."""
    root = tmp_path_factory.mktemp("kinds") / "index"
    build_index(catalog(), CatalogReport(), HashingEmbedder(), root, "big", index_kind="ivfpq")
    return root


def test_ivfpq_builds_and_loads_through_the_public_path(ivfpq_root: Path) -> None:
    index = load_index(ivfpq_root, "big")
    manifest = check_build(index.path)  # every file against its checksum
    assert manifest["format_version"] == 2 and PRODUCTS in manifest["files"]
    entry = manifest["vector_index"]
    assert entry["kind"] == "ivfpq" and entry["count"] == COUNT
    assert entry["params"] == {"nlist": 32, "m": 32, "nbits": 4, "nprobe": 16, "refine": 50, "opq": False}
    assert index.vectors_index.kind == "ivfpq" and isinstance(index.vectors, np.memmap)
    hits = index.search_vector(np.asarray(index.vectors[17]), 5)
    assert hits[0][0].id == DEMO_PRODUCTS[17].id and hits[0][1] == pytest.approx(1.0, abs=1e-5)


def test_ivfpq_recall_at_10_against_exact_search(ivfpq_root: Path) -> None:
    index = load_index(ivfpq_root, "big")
    vectors = np.asarray(index.vectors)
    queries = vectors[::12]  # 201 queries
    exact = build_vector_index(vectors, "flat").search(queries, 10)[1]
    recall = recall_at_k(index.vectors_index.search(queries, 10)[1], exact)
    unrefined = IVFPQParams(**{**index.manifest["vector_index"]["params"], "refine": 1})
    plain = load_vector_index(index.path, "ivfpq", params=unrefined.to_dict(), vectors=vectors)
    plain_recall = recall_at_k(plain.search(queries, 10)[1], exact)
    print(f"IVF-PQ recall@10 vs exact on {COUNT:,} demo products (hashing embedder): {recall:.3f} "
          f"(codes only, no re-scoring: {plain_recall:.3f})")
    assert recall >= 0.95 and recall > plain_recall


def test_kind_is_chosen_by_size_unless_set() -> None:
    assert [choose_kind(n, 50_000, 1_000_000) for n in (1_000, 50_001, 1_000_001)] == ["flat", "hnsw", "ivfpq"]
    assert choose_kind(10, 50_000, 1_000_000, kind="ivfpq") == "ivfpq"
    with pytest.raises(ValueError, match="ivf'"):
        choose_kind(10, 50_000, kind="ivf")


def test_auto_kind_through_a_build(tmp_path: Path) -> None:
    summary = build_index(make_products(400), CatalogReport(), HashingEmbedder(), tmp_path, "auto",
                          ann_threshold=100, ivfpq_threshold=300)
    assert summary.kind == "ivfpq" and load_index(tmp_path, "auto").vectors_index.kind == "ivfpq"
    small = build_index(make_products(50), CatalogReport(), HashingEmbedder(), tmp_path, "small",
                        ann_threshold=100, ivfpq_threshold=300)
    assert small.kind == "flat"


def test_building_in_shards_matches_one_build(ivfpq_root: Path, tmp_path: Path) -> None:
    vectors = np.asarray(load_index(ivfpq_root, "big").vectors)[:2_000]
    params = IVFPQParams(nlist=32, m=32, nbits=4, nprobe=8, refine=4)
    whole = build_vector_index(vectors, "ivfpq", params=params)  # trains on all of them (fewer than a sample)
    shards = new_index("ivfpq", vectors.shape[1], len(vectors), params=params)
    assert shards.training_size() >= len(vectors)
    train(shards, vectors)
    for start in range(0, len(vectors), 512):
        add(shards, vectors[start:start + 512])
    assert shards.save(tmp_path) == ["faiss.index"]
    loaded = load_vector_index(tmp_path, "ivfpq", params=params.to_dict(), vectors=vectors)
    np.testing.assert_array_equal(whole.search(vectors[:50], 10)[1], loaded.search(vectors[:50], 10)[1])
    with pytest.raises(ValueError, match="train"):
        add(new_index("ivfpq", vectors.shape[1], len(vectors), params=params), vectors[:10])


def test_product_table_round_trip_built_lazily(ivfpq_root: Path) -> None:
    index = load_index(ivfpq_root, "big")
    assert index.products.materialised == 0  # loading built no Product
    expected = catalog()
    assert index.products[1] == expected[1] and index.products[2] == expected[2]
    assert index.products.materialised == 2
    assert index.position_of(expected[-1].id) == COUNT - 1 and index.products.materialised == 2
    assert list(index.products) == expected and index.products[-1] == expected[-1]
    assert index.content_hashes[5] == expected[5].content_hash() and len(index.content_hashes) == COUNT
    assert index.products.column("price")[2] == 4.0


def test_a_damaged_product_table_is_refused(ivfpq_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(load_index(ivfpq_root, "big").path, copy)
    data = bytearray((copy / PRODUCTS).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / PRODUCTS).write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="products.parquet does not match its checksum"):
        load_build(copy)
    (copy / PRODUCTS).write_bytes(b"PAR1 not a parquet file")
    with pytest.raises(IndexCorrupt, match="cannot read index files"):
        load_build(copy, verify=False)


def test_a_format_1_build_still_loads_and_an_unknown_format_says_rebuild(tmp_path: Path) -> None:
    build_index(make_products(30), CatalogReport(), HashingEmbedder(), tmp_path, "old")
    folder = tmp_path / "old-copy"
    shutil.copytree(load_index(tmp_path, "old").path, folder)
    (folder / PRODUCTS).unlink()
    (folder / PRODUCTS_V1).write_text("".join(
        json.dumps({"content_hash": p.content_hash(), "product": p.to_dict()}) + "\n" for p in make_products(30)))
    manifest = json.loads((folder / "manifest.json").read_text())
    names = [n for n in manifest["files"] if n != PRODUCTS] + [PRODUCTS_V1]
    manifest.update(format_version=1, files=checksums(folder, names))
    (folder / "manifest.json").write_text(json.dumps(manifest))
    old = load_build(folder)
    assert [p.id for p in old.products] == [p.id for p in make_products(30)] and old.position_of("P0004") == 4
    manifest["format_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="rebuild it"):
        load_build(folder)
