"""Pieces of the web app that need no browser: escaping, column mapping, switching the served index."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.service.assistant import Assistant
from assistant.ingest.catalog import Product, write_jsonl
from assistant.core.config import Settings
from assistant.rank.hybrid import Candidate
from assistant.ingest.mapping import parse_field_map
from assistant.service.compare import compare
from assistant.surfaces.web import render_cards, render_comparison
from conftest import make_products


def test_cards_escape_catalog_text() -> None:
    hostile = Product("x<1>", "<script>alert('x')</script> Jacket", 9.5, brand="<b>B</b>", color="blue",
                      image_url="javascript:alert(1)")
    html = render_cards([Candidate(hostile, 1.0, 1)], {"x<1>": "<img src=x onerror=alert(1)>"})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and "javascript:" not in html
    assert 'data-product-id="x&lt;1&gt;"' in html
    assert "Writing why this fits" in render_cards([Candidate(hostile, 1.0, 1)])
    assert "正在写推荐理由" in render_cards([Candidate(hostile, 1.0, 1)], language="zh")
    visible = html.split(">", 1)[1].replace('data-product-id="x&lt;1&gt;"', "")
    assert "x&lt;1&gt;" not in visible  # no internal id on screen (only in the card's data attribute)
    table = render_comparison(compare([hostile, hostile], "INR"))
    assert "<script>" not in table and "&lt;b&gt;B&lt;/b&gt;" in table and "₹10" in table


def test_column_mapping_text() -> None:
    assert parse_field_map("title=ProductName, price = Price (INR)") == {"title": "ProductName", "price": "Price (INR)"}
    assert parse_field_map("") == {}
    with pytest.raises(ValueError, match="FIELD=COLUMN"):
        parse_field_map("title")


def test_switching_the_served_index(settings: Settings, tmp_path: Path) -> None:
    catalog = tmp_path / "a.jsonl"
    write_jsonl(make_products(10), catalog)
    first = Assistant(replace(settings, llm_model="none", index_name="one"))
    first.rebuild_index([catalog])
    write_jsonl(make_products(14), catalog)
    Assistant(replace(settings, llm_model="none", index_name="two")).rebuild_index([catalog])
    assert first.available_indexes() == ["one", "two"]
    assert len(first.index.products) == 10
    first.switch_index("two")
    assert len(first.index.products) == 14 and first.settings.index_name == "two"
    with pytest.raises(Exception, match="no index named 'three'"):
        first.switch_index("three")
    assert first.settings.index_name == "two"
