"""A Chinese store end to end: its catalog file (Chinese headers, 红色 / 儿童 values, prices in 元) is indexed
through the real Assistant with the embedder chosen by the titles' language (USE), Chinese requests find the
right products, and the template reasons (LLM off) are Chinese, in 元."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.core.text import count_cjk
from assistant.demo import catalog_path
from assistant.index.embedding import CJK_TITLE_SHARE, ENGLISH_WORD_SHARE, choose_backend, english_share
from assistant.ingest.catalog import read_catalog
from assistant.service.assistant import Assistant
from assistant.service.publishing import index_is_current

pytestmark = pytest.mark.slow
ZH_CATALOG = Path(__file__).parent / "data" / "zh_catalog.csv"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("zh-store")
    settings = Settings(index_dir=root / "index", index_name="zh", state_dir=root / "state", llm_model="none")
    assert settings.embedder == "auto"
    assistant = Assistant(settings)
    summary = assistant.rebuild_index([ZH_CATALOG])
    assert (summary.loaded, summary.rejected) == (40, 0)
    return assistant


def test_the_embedder_is_chosen_by_the_titles_language(shop: Assistant) -> None:
    assert shop.index_info()["embedder"]["model_id"].startswith("use-multilingual-v3")
    products, _ = read_catalog([ZH_CATALOG])
    assert index_is_current(shop.settings, products)
    assert not index_is_current(replace(shop.settings, embedder="minilm"), products)
    demo, _ = read_catalog([catalog_path()])
    assert choose_backend("auto", [p.title for p in demo]) == "minilm"  # the demo store stays on MiniLM
    assert choose_backend("auto", ["运动鞋"] * 5 + ["Socks"] * 5) == "use" and CJK_TITLE_SHARE == 0.5
    assert choose_backend("auto", ["运动鞋"] * 4 + ["Socks"] * 6) == "minilm"
    assert choose_backend("hashing", ["运动鞋"]) == "hashing"


def test_a_catalog_in_another_language_builds_with_the_multilingual_embedder() -> None:
    spanish = ["Chaqueta impermeable para niños", "Zapatillas de correr para mujer", "Vestido de verano floral",
               "Mochila escolar resistente al agua", "Cafetera eléctrica de acero inoxidable"]
    german = ["Wasserdichte Regenjacke für Kinder", "Laufschuhe für Damen", "Kaffeemaschine aus Edelstahl"]
    indian_english = ["Roadster Men Navy Blue Solid Hooded Sweatshirt", "Libas Women Red Printed Kurta",
                      "Zaveri Pearls Gold Toned Jhumka Earrings", "Wild Stone Ultra Sensual Perfume"]
    assert choose_backend("auto", spanish) == "use" and choose_backend("auto", german) == "use"
    assert english_share(spanish) < ENGLISH_WORD_SHARE < english_share(indian_english)
    assert choose_backend("auto", indian_english) == "minilm"  # English with brand and Indian product words


def test_the_chinese_file_is_read_into_canonical_fields() -> None:
    products, report = read_catalog([ZH_CATALOG])
    coat = products[0]
    assert (coat.id, coat.title, coat.price, coat.color, coat.audience) == ("ZH001", "儿童红色连帽防风外套", 159.0,
                                                                          "红色", "儿童")
    assert coat.category_path == ("童装", "外套") and coat.sizes == ("110", "120", "130", "140")
    assert coat.tags == ("防风", "保暖", "可机洗") and coat.rating == 4.7 and coat.in_stock
    assert not products[-1].in_stock  # 缺货
    assert report.notes == [] and not coat.attributes


def test_a_gb18030_copy_builds_the_same_catalog(tmp_path: Path) -> None:
    copy = tmp_path / "zh_gb18030.csv"
    copy.write_bytes(ZH_CATALOG.read_text(encoding="utf-8").encode("gb18030"))
    products, report = read_catalog([copy])
    assert products == read_catalog([ZH_CATALOG])[0]
    assert report.notes == ["zh_gb18030.csv: not valid UTF-8 (byte 0); read as GB18030 (detected)"]


def reasons_are_chinese_in_yuan(shop: Assistant, turn_id: str) -> dict[str, str]:
    reasons = shop.explain(turn_id)
    for text in reasons.values():
        assert count_cjk(text) >= 6 and "$" not in text and "美元" not in text and "元" in text, text
    return reasons


def test_a_red_coat_for_my_son(shop: Assistant) -> None:
    rec = shop.recommend("给我儿子买一件红色的外套", k=5)
    assert rec.request.colors == ("red",) and rec.request.audience == "boys"  # 儿子: a son
    assert {i.product.id for i in rec.items[:2]} == {"ZH001", "ZH002"}  # the two red children's coats
    matches = rec.items[:rec.matched]
    assert len(matches) >= 2 and all(i.product.color == "红色" and i.product.audience == "儿童" for i in matches)
    reasons = reasons_are_chinese_in_yuan(shop, rec.turn_id)
    assert "红色儿童外套" in reasons["ZH001"] and "159元" in reasons["ZH001"] and "正是您要的颜色" in reasons["ZH001"]


def test_sneakers_within_300_yuan(shop: Assistant) -> None:
    rec = shop.recommend("300元以内的运动鞋", k=5)
    assert rec.request.price_max == 300
    assert len(rec.items) == 5
    assert all(i.product.category.endswith("运动鞋") and i.product.price <= 300 for i in rec.items)
    reasons = reasons_are_chinese_in_yuan(shop, rec.turn_id)
    assert all("在您的300元预算内" in text for text in reasons.values())


def test_an_insulated_cup(shop: Assistant) -> None:
    rec = shop.recommend("保温杯", k=5)
    assert {"ZH017", "ZH018", "ZH019"} <= {i.product.id for i in rec.items[:4]}  # the three 保温杯 lead
    reasons_are_chinese_in_yuan(shop, rec.turn_id)
