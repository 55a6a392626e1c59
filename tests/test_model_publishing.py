"""The CF model is published like the index (written aside, checksummed, swapped in atomically), a damaged
one is detected at load and at runtime, and a forget refits it once, off the request path."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.service.assistant import Assistant, cf_model_dir
from assistant.behaviour import (Interactions, ModelCorrupt, build_interactions, check_cf_model, list_versions,
                                 load_cf_model, load_serving_cf_model, make_cf_model)
from assistant.core.config import Settings
from assistant.ingest.customers import InteractionLog
from assistant.index import published_path
from conftest import shop_over
from server_process import server_env, start_server


def flip_a_byte(path: Path) -> None:
    """Damage a file in place (the same inode, as a failing disk or an editor would)."""
    with open(path, "r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))


def interactions(products: int = 6, shoppers: int = 8) -> Interactions:
    rows = [(f"c{u}", f"P{(u + i) % products:04d}", "purchase", 1_700_000_000.0 + 60 * (u + i), 1.0)
            for u in range(shoppers) for i in range(3)]
    return build_interactions(InteractionLog.from_rows(rows))


# ---------------------------------------------------------------------------- save / load / verify


def test_a_save_is_published_with_checksums_and_leaves_no_temporary_folder(tmp_path: Path) -> None:
    folder = tmp_path / ".cf" / "shop"
    first = make_cf_model("item_item").fit(interactions())
    assert first.save(folder) == folder
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {"ids.json", "matrix.npz", "arrays.npz"}
    assert all(len(digest) == 64 for digest in manifest["files"].values())
    assert folder.is_symlink() and folder.resolve().name == manifest["version"] == first.version
    assert check_cf_model(folder) == manifest
    for _ in range(2):
        make_cf_model("item_item").fit(interactions()).save(folder)
    versions = list_versions(folder)
    assert len(versions) == 2 and versions[-1] == folder.resolve()  # the published one and one fallback
    leftovers = [p.name for p in (tmp_path / ".cf").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    assert load_cf_model(folder).version == versions[-1].name


def test_a_model_saved_before_versions_is_kept_as_the_fallback(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "manifest.json").write_text("{}")  # an old, unversioned model folder
    make_cf_model("popularity").fit(interactions()).save(folder)
    assert folder.is_symlink() and len(list_versions(folder)) == 2


@pytest.mark.parametrize("damage", ["flip", "truncate", "missing"])
def test_a_damaged_model_falls_back_to_the_previous_good_version(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "model"
    make_cf_model("ease").fit(interactions()).save(folder)
    previous = folder.resolve().name
    make_cf_model("ease").fit(interactions(shoppers=9)).save(folder)
    target = folder / "matrix.npz"
    if damage == "flip":
        flip_a_byte(target)
    elif damage == "truncate":  # half-written
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    else:
        target.unlink()
    with pytest.raises(ModelCorrupt, match="matrix.npz"):
        load_cf_model(folder)
    model, warning = load_serving_cf_model(folder)
    assert model is not None and model.version == previous
    assert "matrix.npz" in warning and f"previous good version {previous}" in warning
    assert model.recommend(["P0001"], k=3)


def test_with_no_good_version_there_is_no_model_and_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    make_cf_model("blend").fit(interactions()).save(folder)
    flip_a_byte(folder / "arrays.npz")
    model, warning = load_serving_cf_model(folder)
    assert model is None and "arrays.npz does not match its checksum" in warning
    (folder.resolve() / "manifest.json").write_text('{"format_version": ')  # half-written manifest
    assert load_serving_cf_model(folder)[0] is None


def test_a_damaged_model_never_fails_a_request(settings: Settings) -> None:
    shop = shop_over(settings, 12)
    make_cf_model("item_item").fit(interactions()).save(cf_model_dir(shop.settings))
    flip_a_byte(cf_model_dir(shop.settings) / "matrix.npz")
    fresh = Assistant(shop.settings)
    _, rec = fresh.chat("rain jacket")
    assert rec.items and fresh.cf_model is None
    assert "matrix.npz" in fresh.cf_warning and fresh.warnings() == [fresh.cf_warning]
    assert "matrix.npz" in fresh.turn(rec.turn_id).stages["behavioural model"]  # kept for the trace


def test_a_running_assistant_notices_damage_and_serves_the_previous_good_build(settings: Settings) -> None:
    shop = shop_over(settings, 10)
    shop.rebuild_index([Path(settings.index_dir).parent / "catalog-10.jsonl"])  # a second build, same products
    make_cf_model("item_item").fit(interactions()).save(cf_model_dir(shop.settings))
    serving = Assistant(shop.settings)
    assert len(serving.index.products) == 10 and serving.cf_model is not None
    assert serving.check_published() == []
    published = published_path(settings.index_dir, settings.index_name)
    flip_a_byte(published / "products.parquet")
    flip_a_byte(cf_model_dir(shop.settings) / "ids.json")
    warnings = serving.check_published()
    assert any("products.parquet" in w for w in warnings) and any("ids.json" in w for w in warnings)
    assert serving.index.path != published and serving.index.path.parent == published.parent  # the previous build
    assert serving.cf_model is not None  # the model loaded in memory keeps serving
    assert serving.chat("rain jacket")[1].items
    assert serving.check_published(every=3600) == warnings  # cached: no re-check within the interval


# ---------------------------------------------------------------------------- through the real server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One `aisle serve` process over the demo store of its own (its files get damaged), re-checking its
    published files every second."""
    folder = tmp_path_factory.mktemp("publishing-server")
    process = start_server(folder, env=server_env(folder, verify_seconds="1"))
    yield process
    process.stop()


def test_chats_keep_answering_while_a_forget_refits_the_model(server) -> None:
    before = server.request("GET", "/api/health").json()
    assert before["cf_model"] and before["cf_refits"] == 0
    answers: list[tuple[int, float]] = []
    stop = threading.Event()

    def chat() -> None:
        while not stop.is_set():
            started = time.monotonic()
            answer = server.request("POST", "/api/recommend", {"message": "rain jacket"}, timeout=30)
            answers.append((answer.status, time.monotonic() - started))

    threads = [threading.Thread(target=chat) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    forget = server.request("POST", "/api/forget", {"customer": "C00001"}, headers=server.staff())
    forget_seconds = time.monotonic() - started
    deadline = time.monotonic() + 60
    health = before
    while time.monotonic() < deadline and health["cf_refits"] < 1:
        time.sleep(0.5)
        health = server.request("GET", "/api/health").json()
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert forget.status == 200 and forget.json()["removed"]["cf_model_refit"] == 1, forget.body
    assert forget_seconds < 5  # the refit is not on the request path
    assert health["cf_refits"] == 1 and health["cf_model"] != before["cf_model"]  # refitted once, swapped in
    manifest = json.loads((server.index_dir / ".cf" / "demo" / "manifest.json").read_text())
    assert manifest["version"] == health["cf_model"]  # and published
    assert len(answers) >= 6 and {status for status, _ in answers} == {200}
    assert max(seconds for _, seconds in answers) < 5, sorted(s for _, s in answers)[-5:]


def test_damaged_index_and_model_files_show_in_health_and_chats_still_answer(server) -> None:
    assert server.request("GET", "/api/health").json()["status"] == "ok"
    flip_a_byte(server.index_dir / "demo" / "products.parquet")
    flip_a_byte(server.index_dir / ".cf" / "demo" / "matrix.npz")
    deadline = time.monotonic() + 20
    health = {}
    while time.monotonic() < deadline:
        health = server.request("GET", "/api/health").json()
        if health["status"] == "degraded" and "matrix.npz" in (health["warning"] or ""):
            break
        time.sleep(0.5)
    assert health["status"] == "degraded", health
    assert "products.parquet" in health["warning"] and "matrix.npz" in health["warning"], health
    answer = server.request("POST", "/api/recommend", {"message": "rain jacket"})
    assert answer.status == 200 and answer.json()["items"]
    assert "products.parquet" in server.log_text()  # and on the server's stderr
