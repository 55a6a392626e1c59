"""Shared fixtures. Every test's state goes to a temporary folder; real models load once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.ingest.catalog import Product
from assistant.core.config import Settings


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AISLE_* setting from the outer environment; the working folder is the test's own."""
    for key in list(os.environ):
        if key.startswith("AISLE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private index folder and the model-free hashing embedder."""
    return Settings(index_dir=tmp_path / "index", index_name="shop", embedder="hashing", state_dir=tmp_path / "state")


def make_products(count: int, prefix: str = "P") -> list[Product]:
    """Small distinct products with a known text each."""
    kinds = ["rain jacket", "wool socks", "garden hose", "reading glasses", "wireless headphones",
             "yoga mat", "teddy bear", "cast iron pan"]
    return [Product(id=f"{prefix}{i:04d}", title=f"{kinds[i % len(kinds)].title()} model {i}",
                    price=10.0 + i, description=f"A {kinds[i % len(kinds)]} number {i}.",
                    category="Test > " + kinds[i % len(kinds)].split()[-1])
            for i in range(count)]


def shop_over(settings: Settings, count: int, **changes: object):
    """An Assistant (LLM off) serving a fresh index of `count` small products built with `settings`
    (plus `changes`); the catalog file goes beside the index folder."""
    from dataclasses import replace

    from assistant.service.assistant import Assistant
    from assistant.ingest.catalog import write_jsonl
    catalog = Path(settings.index_dir).parent / f"catalog-{count}.jsonl"
    write_jsonl(make_products(count), catalog)
    shop = Assistant(replace(settings, llm_model="none", **changes))
    shop.rebuild_index([catalog])
    return shop


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 embedder, loaded once for the whole session."""
    from assistant.index.embedding import make_embedder
    return make_embedder("minilm", threads=2)


@pytest.fixture(scope="session")
def use_embedder():
    """The real multilingual USE embedder, loaded once for the whole session."""
    from assistant.index.embedding import make_embedder
    return make_embedder("use", threads=2)


@pytest.fixture(scope="session")
def demo_assistant(demo_settings: Settings):
    """One Assistant over the real demo index, shared by the end-to-end tests."""
    from assistant.service.assistant import Assistant
    return Assistant(demo_settings)


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory, minilm) -> Settings:
    """The demo store indexed with the real MiniLM model (built once per session)."""
    from assistant.service.assistant import ensure_demo_index
    root = tmp_path_factory.mktemp("demo")
    settings = Settings(index_dir=root / "index", index_name="demo", embedder="minilm", state_dir=root / "state",
                        llm_model="none")  # the LLM stage has its own end-to-end tests
    ensure_demo_index(settings)
    return settings


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory):
    """A real `aisle serve` process over the demo store (hashing embedder, no LLM, a staff token), started
    once per session; security tests reach it over HTTP as an outside caller would."""
    from server_process import server_env, start_server
    folder = tmp_path_factory.mktemp("live-server")
    server = start_server(folder, env=server_env(folder, max_upload_bytes=str(32 * 1024 * 1024)))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the whole session (tests/postgres_server.py); `fresh_dsn()` gives each
    test an empty schema of its own."""
    from postgres_server import start_postgres
    server = start_postgres()
    yield server
    server.stop()
