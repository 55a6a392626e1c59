"""Catalog files in GBK / GB18030 / Big5 / Shift-JIS / cp1252 / Latin-1 load their exact text, with the encoding
noted in the load report; a file mixing two encodings, or random bytes, is rejected with a clear message."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from assistant.core.config import ConfigError, Settings, load_settings
from assistant.ingest.catalog import CatalogError, decode_text, read_catalog

ZH_CATALOG = Path(__file__).parent / "data" / "zh_catalog.csv"
BIG5 = ("編號,名稱,價格,顏色\nT1,男士防風連帽外套 冬季加厚,399,黑色\nT2,兒童紅色羽絨外套 保暖防水,259,紅色\n"
        "T3,女士輕便跑步運動鞋 透氣網面,289,白色\nT4,不鏽鋼真空保溫杯 五百毫升,89,藍色\nT5,碎花雪紡連衣裙 夏季新款,199,藍色\n"
        "T6,兒童書包 護脊減負,199,藍色\nT7,男士羊毛圍巾 柔軟保暖,129,灰色\nT8,自動折疊雨傘 防風,69,藍色\n")
JAPANESE = ("id,title,price,color\nJ1,メンズ 防水 ジャケット,5980,黒\nJ2,子供用 スニーカー 赤,3980,赤\n"
            "J3,ステンレス 保温 タンブラー 500ml,2480,銀\nJ4,レディース ワンピース 花柄,4980,青\n"
            "J5,抹茶 チョコレート 詰め合わせ,1500,緑\nJ6,ランニングシューズ 軽量,7980,白\n"
            "J7,ダウンジャケット 冬 暖かい,12800,紺\nJ8,折りたたみ傘 自動開閉,2200,黒\n")
WESTERN = ('id,title,price,description\nF1,Café moulu Arabica,"4,50","Torréfié à Besançon, goût délicat"\n'
           'F2,Veste imperméable enfant,"39,90","Légère, idéale pour l\'été"\nF3,Müsli Früchte,"3,20","Für Frühstück, süß"\n'
           'F4,Poêle à crêpes,"29,00","Fonte émaillée, 28 cm, « qualité »"\nF5,Größe L Wanderschuhe,"89,00","Wasserdicht"\n')


def zh_text() -> str:
    return ZH_CATALOG.read_text(encoding="utf-8")


def titles_in(text: str) -> list[str]:
    return [line.split(",")[1] for line in text.splitlines()[1:]]


CASES = {  # name: (text, codec written in, the name the note gives)
    "gbk": (zh_text, "gbk", "GB18030"),
    "gb18030": (lambda: zh_text() + "ZH041,镕基复古皮鞋 䶮,499,鞋 > 皮鞋,镕基,棕色,,男,,,4.1,3,有货\n", "gb18030", "GB18030"),
    "big5": (lambda: BIG5, "big5", "Big5"),
    "shift_jis": (lambda: JAPANESE, "shift_jis", "Shift-JIS"),
    "cp1252": (lambda: WESTERN.replace("« qualité »", "„Qualität“ – 29 €"), "cp1252", "Windows-1252"),
    "latin-1": (lambda: WESTERN, "latin-1", "Windows-1252"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_encoding_round_trips_the_exact_text(tmp_path, name):
    make, codec, shown = CASES[name]
    text = make()
    path = tmp_path / f"{name}.csv"
    path.write_bytes(text.encode(codec))
    products, report = read_catalog([path])
    assert [p.title for p in products] == titles_in(text)
    assert report.rejected == 0
    assert len(report.notes) == 1 and f"read as {shown}" in report.notes[0] and "(detected)" in report.notes[0]
    assert decode_text(text.encode(codec)) == (text, report.notes[0].split(": ", 1)[1])


def test_a_cp1252_file_with_cafe_still_loads_as_before(tmp_path):
    path = tmp_path / "win.csv"
    path.write_bytes("id,title,price\nA1,café,5\n".encode("cp1252"))
    products, report = read_catalog([path])
    assert products[0].title == "café"
    assert report.notes == ["win.csv: not valid UTF-8 (byte 21); read as Windows-1252 (detected)"]


@pytest.mark.parametrize("data", [
    zh_text().encode("gbk") + WESTERN.encode("cp1252"),
    zh_text().encode("utf-8") + zh_text().encode("gbk"),
    WESTERN.encode("cp1252") + zh_text().encode("gbk"),
    zh_text().encode("gbk") + JAPANESE.encode("shift_jis"),
    b"id,title,price\n" + random.Random(1).randbytes(4000),
], ids=["gbk+cp1252", "utf8+gbk", "cp1252+gbk", "gbk+shift_jis", "random bytes"])
def test_a_mixed_or_undecodable_file_is_rejected_clearly(tmp_path, data):
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(CatalogError) as caught:
        read_catalog([path])
    message = str(caught.value)
    assert message.startswith("bad.csv: not valid UTF-8 (byte ")
    assert "could not be told with confidence" in message and "GB18030" in message and "Shift-JIS" in message
    assert "Save the file as UTF-8" in message and "--encoding" in message and "catalog_encoding" in message


def test_an_explicit_encoding_is_used_and_checked(tmp_path):
    path = tmp_path / "zh.csv"
    path.write_bytes(zh_text().encode("gb18030"))
    products, report = read_catalog([path], encoding="gb18030")
    assert products[0].title == "儿童红色连帽防风外套" and report.notes == ["zh.csv: read as GB18030 (set)"]
    with pytest.raises(CatalogError, match=r"zh.csv: byte 0 is not text in the encoding set \(utf-8\)"):
        read_catalog([path], encoding="utf-8")
    with pytest.raises(CatalogError, match="unknown text encoding 'klingon'"):
        read_catalog([path], encoding="klingon")


def test_the_detected_encoding_holds_past_the_first_mib(tmp_path):
    """Detection reads the first MiB; the whole (streamed) file is checked in that encoding."""
    rows = "".join(f"ZH{i:06d},不锈钢真空保温杯 {i} 号,89.00\n" for i in range(60_000))
    path = tmp_path / "big.csv"
    path.write_bytes(("商品编号,商品名称,价格\n" + rows).encode("gb18030"))
    products, report = read_catalog([path])
    assert len(products) == 60_000 and products[-1].title == "不锈钢真空保温杯 59999 号"
    assert "read as GB18030 (detected)" in report.notes[0]
    path.write_bytes(("商品编号,商品名称,价格\n" + rows).encode("gb18030") + b"ZH9,\xff\xfe\xff,1\n")
    with pytest.raises(CatalogError, match=r"byte [\d,]+ is not text in GB18030 \(detected on its first MiB\)"):
        read_catalog([path])


def test_catalog_encoding_setting(tmp_path, monkeypatch):
    assert Settings().catalog_encoding == "auto"
    monkeypatch.setenv("AISLE_CATALOG_ENCODING", "gb18030")
    assert load_settings(tmp_path / "none.toml").catalog_encoding == "gb18030"
    monkeypatch.setenv("AISLE_CATALOG_ENCODING", "klingon")
    with pytest.raises(ConfigError, match="AISLE_CATALOG_ENCODING must be \"auto\" or a Python codec name"):
        load_settings(tmp_path / "none.toml")


def test_aisle_index_build_encoding_flag(tmp_path):
    from click.testing import CliRunner

    from assistant.surfaces.cli import main

    path = tmp_path / "zh.csv"
    path.write_bytes(zh_text().encode("gb18030"))
    runner = CliRunner()
    base = ["--index-dir", str(tmp_path / "index"), "index", "build", "--embedder", "hashing", "--quiet"]
    result = runner.invoke(main, [*base, "--encoding", "gb18030", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "read as GB18030 (set)" in result.output and "40 loaded" in result.output
    result = runner.invoke(main, [*base, "--encoding", "klingon", str(path)], catch_exceptions=False)
    assert result.exit_code == 2 and "unknown text encoding 'klingon'" in result.output
    result = runner.invoke(main, [*base, "--encoding", "utf-8", str(path)], catch_exceptions=False)
    assert result.exit_code == 1 and "is not text in the encoding set (utf-8)" in result.output
