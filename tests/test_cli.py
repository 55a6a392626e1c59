"""The `aisle` command line, run in-process with click's runner (model-free embedder)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.ingest.catalog import write_jsonl
from assistant.surfaces.cli import EXIT_FAILED, EXIT_SOME_REJECTED, main
from conftest import make_products


@pytest.fixture
def run(tmp_path: Path):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["--index-dir", str(tmp_path / "index"), *args], catch_exceptions=False)
    return invoke


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.jsonl"
    write_jsonl(make_products(24), path)
    return path


def test_build_info_search_roundtrip(run, catalog: Path) -> None:
    result = run("index", "build", str(catalog), "--name", "shop", "--embedder", "hashing", "--quiet")
    assert result.exit_code == 0, result.output
    assert "24 products loaded, 0 rows rejected" in result.output
    assert "24 re-embedded, 0 reused" in result.output
    info = run("index", "info", "shop")
    assert "products:    24" in info.output and "hashing-256" in info.output
    manifest = json.loads(run("index", "info", "shop", "--json").output)
    assert manifest["product_count"] == 24
    hits = json.loads(run("search", "rain jacket", "--index", "shop", "-k", "3", "--json").output)
    assert len(hits) == 3 and "Rain Jacket" in hits[0]["product"]["title"]
    text = run("search", "rain jacket", "--index", "shop", "-k", "2")
    assert text.output.startswith(" 1. Rain Jacket")
    assert run("index", "list").output.strip() == "shop"


def test_second_build_reuses_everything(run, catalog: Path) -> None:
    run("index", "build", str(catalog), "--name", "shop", "--embedder", "hashing", "--quiet")
    result = run("index", "build", str(catalog), "--name", "shop", "--embedder", "hashing", "--quiet")
    assert "0 re-embedded, 24 reused" in result.output


def test_rejected_rows_give_exit_3_and_a_full_report(run, tmp_path: Path) -> None:
    path = tmp_path / "shop.csv"
    path.write_text("ProductName,sku,Price (INR)\nJacket,A1,\"1,299.00\"\n,A2,5\nSocks,A3,-1\n")
    report = tmp_path / "report.json"
    result = run("index", "build", str(path), "--name", "shop", "--embedder", "hashing", "--quiet",
                 "--map", "title=ProductName", "--map", "price=Price (INR)", "--report", str(report))
    assert result.exit_code == EXIT_SOME_REJECTED
    assert "shop.csv:3: missing title" in result.output
    assert "shop.csv:4: negative price -1" in result.output
    saved = json.loads(report.read_text())
    assert saved["loaded"] == 1 and [r["line"] for r in saved["rejections"]] == [3, 4]


def test_failed_build_exits_1_and_says_nothing_was_published(run, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("foo,bar\n1,2\n")
    result = run("index", "build", str(path), "--name", "shop", "--embedder", "hashing", "--quiet")
    assert result.exit_code == EXIT_FAILED
    assert "no column for required field(s) id, title, price" in result.output
    assert "previous index (if any) keeps serving" in result.output


def test_bad_map_syntax_is_a_usage_error(run, catalog: Path) -> None:
    result = run("index", "build", str(catalog), "--map", "title")
    assert result.exit_code == 2 and "FIELD=COLUMN" in result.output


def test_search_without_index_explains_how_to_build(run) -> None:
    result = run("search", "anything", "--index", "nothing")
    assert result.exit_code == 1 and "aisle index build" in result.output


def test_rollback_command(run, catalog: Path, tmp_path: Path) -> None:
    run("index", "build", str(catalog), "--name", "shop", "--embedder", "hashing", "--quiet")
    write_jsonl(make_products(30), catalog)
    run("index", "build", str(catalog), "--name", "shop", "--embedder", "hashing", "--quiet")
    assert "now serves build" in run("index", "rollback", "shop").output
    assert "products:    24" in run("index", "info", "shop").output


def test_help_is_fast_and_imports_no_heavy_library() -> None:
    code = ("import sys; from assistant.surfaces.cli import main; "
            "heavy = [m for m in ('torch', 'gradio', 'faiss', 'transformers', 'numpy') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "assistant.surfaces.cli", "index", "build", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "--map FIELD=COLUMN" in help_text and "Exit status" in help_text
