"""The BM25 lexical index: tokens, scores, save/load through the real build, checksums, older builds, and its
fusion with dense scores (real MiniLM on the demo store for the exact-word case)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.core.config import FusionSettings, Settings
from assistant.index import IndexCorrupt, build_index, load_index, load_serving_index, published_path
from assistant.index.embedding import HashingEmbedder
from assistant.index.lexical import LexicalIndex, lexical_text, tokenize
from assistant.ingest.catalog import CatalogReport, Product
from assistant.rank.content import fuse_content, search_content
from conftest import make_products


def build(settings: Settings, products):
    return build_index(products, CatalogReport(), HashingEmbedder(), settings.index_dir, settings.index_name)


def test_tokens_are_lower_case_words_and_cjk_characters_and_pairs() -> None:
    assert tokenize("Water-Resistant CAFÉ 4K") == ["water", "resistant", "café", "4k"]
    assert tokenize("防水外套") == ["防", "水", "外", "套", "防水", "水外", "外套"]
    assert tokenize("Nike跑鞋") == ["nike", "跑", "鞋", "跑鞋"]
    assert tokenize("") == [] and tokenize("!!! ...") == []


def test_scores_are_zero_without_a_matching_word_and_highest_for_the_rarest_match() -> None:
    index = LexicalIndex.build(["red wool socks", "blue wool socks", "garden hose", "the zorvik x9 band for a wrist"])
    assert len(index) == 4
    np.testing.assert_array_equal(index.scores("teapot"), np.zeros(4, np.float32))
    scores = index.scores("Red socks")
    assert scores.dtype == np.float32 and scores[0] > scores[1] > 0 and scores[2] == scores[3] == 0
    assert int(np.argmax(index.scores("zorvik"))) == 3
    assert index.knows("ZORVIK") and index.knows("socks") and not index.knows("teapot")
    assert not index.knows("the")  # English stop words are not catalog words
    assert {"red", "blue", "wool", "socks", "garden", "hose", "zorvik", "x9", "band", "wrist"} == index.vocabulary


def test_chinese_text_tokenises_and_matches() -> None:
    index = LexicalIndex.build(["儿童防水外套 蓝色", "羊毛袜子", "花园水管", "waterproof jacket"])
    scores = index.scores("给孩子买一件防水的外套")
    assert int(np.argmax(scores)) == 0 and scores[3] == 0  # 孩子 shares 子 with 袜子: a weaker match
    assert int(np.argmax(index.scores("袜子"))) == 1
    assert index.knows("外套") and index.knows("防水") and not index.knows("跑鞋")


def test_product_text_puts_title_brand_category_tags_then_description() -> None:
    product = Product(id="A", title="Trail Runner", price=1.0, description="Light.", category="Shoes > Running",
                      brand="Pulse", tags=("grippy", "vegan"))
    assert lexical_text(product) == "Trail Runner . Pulse . Shoes > Running . grippy vegan . Light."


def test_save_and_load_mirror_each_other(tmp_path: Path) -> None:
    index = LexicalIndex.build([p.title for p in make_products(30)] + ["日本茶 緑茶"])
    names = index.save(tmp_path)
    assert sorted(names) == ["lexical.json", "lexical.npz"]
    np.load(tmp_path / "lexical.npz", allow_pickle=False).close()  # plain arrays: no pickle anywhere
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.vocabulary == index.vocabulary and len(loaded) == len(index)
    for query in ("rain jacket model 7", "socks", "緑茶", "nothing here"):
        np.testing.assert_array_equal(loaded.scores(query), index.scores(query))


def test_the_real_build_publishes_and_loads_the_lexical_index(settings: Settings) -> None:
    products = make_products(40)
    build(settings, products)
    index = load_index(settings.index_dir, "shop")
    manifest = json.loads((index.path / "manifest.json").read_text())
    assert manifest["lexical"]["backend"] == "bm25s" and manifest["lexical"]["terms"] == len(index.lexical.vocabulary)
    assert {"lexical.json", "lexical.npz"} <= set(manifest["files"])
    expected = LexicalIndex.of_products(products)
    np.testing.assert_array_equal(index.lexical.scores("garden hose 17"), expected.scores("garden hose 17"))
    assert int(np.argmax(index.lexical.scores("garden hose model 18"))) == 18


@pytest.mark.parametrize("name", ["lexical.json", "lexical.npz"])
def test_a_damaged_lexical_file_is_caught_by_its_checksum(settings: Settings, name: str) -> None:
    build(settings, make_products(10))
    build(settings, make_products(12))
    target = published_path(settings.index_dir, "shop") / name
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=rf"{name} does not match its checksum"):
        load_index(settings.index_dir, "shop")
    index, warning = load_serving_index(settings.index_dir, "shop")  # the previous good build serves
    assert len(index.products) == 10 and index.lexical is not None and "previous good build" in warning


def without_lexical(folder: Path) -> None:
    """Make a build look like one made before lexical indexes (no files, no manifest entries)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in ("lexical.json", "lexical.npz"):
        (folder / name).unlink()
        del manifest["files"][name]
    del manifest["lexical"]
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_an_older_build_without_lexical_files_loads_and_searches_dense_only(settings: Settings) -> None:
    from conftest import shop_over
    shop = shop_over(settings, 30)
    without_lexical(published_path(settings.index_dir, "shop"))
    index = load_index(settings.index_dir, "shop")
    assert index.lexical is None
    vector = HashingEmbedder().embed_query("wool socks model 9")
    dense = [(p.id, round(s, 5)) for p, s in index.search_vector(vector, 5)]
    fused = [(p.id, round(s, 5)) for p, s in search_content(index, vector, "wool socks model 9", FusionSettings(), 5)]
    assert fused == dense
    from assistant.service.assistant import Assistant
    served = Assistant(shop.settings)
    assert served.index.lexical is None and served.search("wool socks", 3)
    assert served.recommend("wool socks").items  # the turn path falls back to dense content scores


def test_fusion_of_hand_made_scores() -> None:
    dense = np.array([0.9, 0.5, 0.4, 0.1], np.float32)
    assert fuse_content(dense, None, 0.5) is dense and fuse_content(dense, dense, 0.0) is dense
    no_match = fuse_content(dense, np.zeros(4, np.float32), 0.3)  # no query word in the catalog: dense order
    assert list(np.argsort(-no_match)) == [0, 1, 2, 3]
    lexical = np.array([0.0, 0.0, 8.0, 0.0], np.float32)
    fused = fuse_content(dense, lexical, 0.5)
    np.testing.assert_allclose(fused, 0.5 * (dense - 0.1) / 0.8 + 0.5 * lexical / 8.0, rtol=1e-6)
    assert int(np.argmax(fused)) == 2 and int(np.argmax(fuse_content(dense, lexical, 0.1))) == 0
    rrf = fuse_content(dense, lexical, 0.5, "rrf", k=1)
    np.testing.assert_allclose(rrf, [0.5 / 2, 0.5 / 3, 0.5 / 4 + 0.5 / 2, 0.5 / 5], rtol=1e-6)
    with pytest.raises(ValueError, match="minmax"):
        fuse_content(dense, lexical, 0.5, "sum")  # type: ignore[arg-type]


def test_an_exact_brand_and_product_word_ranks_its_product_first_only_with_fusion(demo_assistant) -> None:
    """MiniLM alone puts another Lantern Books title first for "lantern books puzzles"; BM25's exact words
    bring the one Lantern Books puzzle book to the top."""
    index, query = demo_assistant.index, "lantern books puzzles"
    assert index.lexical is not None and index.lexical.knows("lantern")
    vector = demo_assistant.query_embedder().embed_query(query)
    dense_top = search_content(index, vector, query, FusionSettings(lexical=0.0), 1)[0][0]
    fused_top = demo_assistant.search(query, 1)[0].product
    assert fused_top.title == "Sunday Crossword Puzzles (Large Print)" and fused_top.brand == "Lantern Books"
    assert dense_top.id != fused_top.id
