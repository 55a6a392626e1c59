"""Fault injection on index builds: `kill -9` at seeded-random moments, and a disk that fills up.

The promise under test (assistant/index/build.py): whatever happens to a build, `index/<name>` points at a
complete, checksum-verified build — the previous one or the complete new one — never a half-written one,
and the next normal build cleans up what a dead build left behind.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.service.assistant import Assistant
from assistant.ingest.catalog import CatalogReport, Product, write_jsonl
from assistant.surfaces.cli import EXIT_FAILED, main
from assistant.core.config import Settings
from assistant.index.embedding import HashingEmbedder
from assistant.index import (IndexDiskFull, build_index, list_builds, load_build, load_index,
                             published_path)
from conftest import make_products

TESTS = Path(__file__).resolve().parent


def catalog(version: int, count: int) -> list[Product]:
    """`count` products; each version rewrites the text of a different tenth of them (so a rebuild
    re-embeds about a fifth of the catalog and reuses the rest, like a real incremental rebuild)."""
    return [replace(p, description=f"{p.description} Edition {version}.") if i % 10 == version % 10 else p
            for i, p in enumerate(make_products(count))]


def file_digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def leftovers(root: Path, name: str = "shop") -> list[str]:
    """Temporary files and folders of builds under an index root."""
    builds = root / ".builds" / name
    found = [p.name for p in builds.iterdir() if p.name.endswith(".tmp")] if builds.is_dir() else []
    return found + [p.name for p in root.glob(f".{name}.link.tmp")]


# ---------------------------------------------------------------------------- kill -9 at random moments

# The build runs in this child. It passes build_index an observer that appends each phase the build enters
# to a log (one unbuffered write per line, so the log is complete up to the moment of the kill). The steps
# between "manifest written" and "done" take microseconds, so the observer stretches them with a short
# pause after each (rename to the final name, symlink creation, symlink swap, renaming an old build away),
# taken when it is told of the next phase — a test-only slow-down that widens the windows a random kill can
# land in.
CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path

    root, version, count, log_path, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
    sys.path.insert(0, {tests!r})
    import faiss  # noqa: F401 - loaded before "ready", so the measured window is the build alone
    from assistant.index import build_index
    from assistant.ingest.catalog import CatalogReport
    from assistant.index.embedding import HashingEmbedder
    from test_faults import PAUSED_AFTER, catalog

    class PhaseLog:
        def __init__(self):
            self.handle = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            self.last = None

        def mark(self, phase):
            if self.last in PAUSED_AFTER:
                time.sleep(pause)
            if phase != self.last:
                self.last = phase
                os.write(self.handle, f"{{time.monotonic():.6f}} {{phase}}\\n".encode())

        def phase(self, name, path):
            self.mark(f"write {{path.name}}" if name == "write" else name)

    products = catalog(version, count)
    observer = PhaseLog()
    observer.mark("ready")
    build_index(products, CatalogReport(), HashingEmbedder(), Path(root), "shop", keep_builds=1, observer=observer)
    observer.mark("done")
""")

COUNT = 5_000
KILLS = 10
SEED = 20261128
PAUSE = 0.05
WRITE_PHASES = {"write products.parquet", "write vectors.npy", "write report.json", "write vector index",
                "write lexical index", "checksums", "write manifest.json"}
PUBLISH_PHASES = {"rename to final", "new link", "swap link", "prune"}
PAUSED_AFTER = PUBLISH_PHASES


def read_log(path: Path) -> list[tuple[float, str]]:
    if not path.exists():
        return []
    return [(float(stamp), phase) for stamp, _, phase in
            (line.partition(" ") for line in path.read_text().splitlines())]


def start_child(root: Path, version: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD.format(tests=str(TESTS)), str(root), str(version),
                             str(COUNT), str(log), str(PAUSE)], cwd=TESTS.parent)


def wait_for_phase(process: subprocess.Popen, log: Path, wanted: str) -> float | None:
    """When the child entered phase `wanted` (monotonic clock), or None when it finished without it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for stamp, phase in read_log(log):
            if phase == wanted:
                return stamp
        if process.poll() is not None:
            assert process.returncode == 0, f"the build child failed with exit status {process.returncode}"
            return None
        time.sleep(0.001)
    raise AssertionError(f"the build child did not reach '{wanted}' within 60 s")


def check_published(root: Path, old: list[Product], old_index, old_digests: dict[str, str],
                    new: list[Product]) -> str:
    """The published index loads with checksum verification and is exactly the old build or exactly the
    complete new one; every build folder not named *.tmp is complete. Returns 'old' or 'new'."""
    for folder in list_builds(root, "shop"):
        load_build(folder)  # raises IndexCorrupt on a half-written or half-deleted build
    index = load_index(root, "shop")  # verifies every checksum
    if index.path == old_index.path:
        assert file_digests(index.path) == old_digests, "the previous build's files changed"
        assert [p.to_dict() for p in index.products] == [p.to_dict() for p in old]
        return "old"
    assert not index.path.name.endswith(".tmp")
    assert [p.to_dict() for p in index.products] == [p.to_dict() for p in new]
    old_vectors = dict(zip(old_index.content_hashes, old_index.vectors))
    changed = [i for i, h in enumerate(index.content_hashes) if h not in old_vectors]
    for i, h in enumerate(index.content_hashes):
        if h in old_vectors:
            np.testing.assert_array_equal(index.vectors[i], old_vectors[h])
    fresh = HashingEmbedder().embed([new[i].embedding_text() for i in changed])
    np.testing.assert_allclose(index.vectors[changed], fresh, atol=1e-6)
    assert index.manifest["product_count"] == COUNT and len(index.vectors_index) == COUNT
    return "new"


def test_a_build_killed_at_random_moments_never_leaves_a_half_published_index(tmp_path: Path) -> None:
    root = tmp_path / "index"
    build_index(catalog(0, COUNT), CatalogReport(), HashingEmbedder(), root, "shop", keep_builds=1)

    # An unkilled build first: how long the build, and each of its phases, takes in this environment.
    log = tmp_path / "measure.log"
    process = start_child(root, 1, log)
    assert process.wait(timeout=120) == 0
    phases = read_log(log)
    ready = next(stamp for stamp, phase in phases if phase == "ready")
    timeline = [(stamp - ready, phase) for stamp, phase in phases if stamp >= ready]
    duration = timeline[-1][0]
    assert timeline[-1][1] == "done" and len({phase for _, phase in timeline}) == len(timeline), timeline
    assert WRITE_PHASES | PUBLISH_PHASES <= {phase for _, phase in timeline}, timeline
    version, rng, outcomes = 1, random.Random(SEED), []

    # One seeded-random moment in each tenth of the unkilled build's duration. A moment is taken relative
    # to the start of the phase it fell in (the kill comes that long after the child logs that phase), so
    # a slower or faster start of the child on a busy machine does not shift the kill into another phase.
    for kill in range(KILLS):
        old = catalog(version, COUNT)
        old_index = load_index(root, "shop")
        old_digests = file_digests(old_index.path)
        version += 1
        new = catalog(version, COUNT)
        log = tmp_path / f"kill-{kill}.log"
        process = start_child(root, version, log)
        moment = (kill + rng.random()) * duration / KILLS
        start, anchor = [(start, phase) for start, phase in timeline if start <= moment][-1]
        entered = wait_for_phase(process, log, anchor)
        if entered is not None:
            time.sleep(max(0.0, entered + moment - start - time.monotonic()))
        os.kill(process.pid, signal.SIGKILL)  # (a no-op when the build had already finished)
        process.wait(timeout=30)
        killed_in = [phase for stamp, phase in read_log(log)][-1]
        outcome = check_published(root, old, old_index, old_digests, new)
        outcomes.append((round(moment, 3), killed_in, outcome))
        if killed_in not in {"swap link", "prune", "done"}:  # the link was not swapped yet
            assert outcome == "old", f"killed in '{killed_in}', yet a new build was published"

        # The next normal build succeeds, publishes the new catalog and removes what the dead one left.
        build_index(new, CatalogReport(), HashingEmbedder(), root, "shop", keep_builds=1)
        assert leftovers(root) == []
        assert list_builds(root, "shop") == [published_path(root, "shop")]
        assert [p.id for p in load_index(root, "shop").products] == [p.id for p in new]

    hit = {killed_in for _, killed_in, _ in outcomes}
    print(f"\nunkilled build {duration:.2f} s; kills (moment s, phase, published):", *outcomes, sep="\n  ")
    assert hit & WRITE_PHASES, f"no kill landed while the build was being written: {outcomes}"
    assert hit & PUBLISH_PHASES, f"no kill landed while the build was being published: {outcomes}"


# ---------------------------------------------------------------------------- a full disk

PAGE = 4096  # tmpfs counts space in pages


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (skips the test where mounting is not permitted)."""
    folder.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                                 check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        pytest.skip(f"cannot run mount to make a small disk: {err}")
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN), which this run lacks: "
                    + (mounted.stderr.strip() or f"mount exited with {mounted.returncode}"))
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], check=False, capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill_until(disk: Path, free: int) -> Path:
    """Write a filler file so that exactly `free` bytes stay free on `disk`."""
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (free_bytes(disk) - free))
    assert free_bytes(disk) == free
    return filler


def disk_settings(disk: Path, tmp_path: Path) -> Settings:
    return Settings(index_dir=disk / "index", index_name="shop", embedder="hashing", state_dir=tmp_path / "state",
                    llm_model="none")


def assert_failed_cleanly(error: IndexDiskFull, root: Path, before: Path, digests: dict[str, str],
                          products: list[Product]) -> None:
    message = str(error)
    assert message.startswith("the disk is full (ENOSPC: No space left on device) while writing "), message
    assert str(root) in message
    assert published_path(root, "shop") == before  # nothing new was published
    assert list_builds(root, "shop") == [before]  # no new build folder, complete or not
    assert leftovers(root) == [], "the failed build left its temporary folder behind"
    assert file_digests(before) == digests
    assert [p.id for p in load_index(root, "shop").products] == [p.id for p in products]


def test_a_full_disk_during_a_rebuild_fails_cleanly_and_the_previous_index_serves(tmp_path: Path) -> None:
    small, big = make_products(40), make_products(1_000, prefix="B")
    with small_disk(tmp_path / "disk", "512k") as disk:  # the small index fits, the big one does not
        settings = disk_settings(disk, tmp_path)
        root = settings.index_dir
        build_index(small, CatalogReport(), HashingEmbedder(), root, "shop")
        before = published_path(root, "shop")
        digests, free = file_digests(before), free_bytes(disk)
        assistant = Assistant(settings)
        answer = [hit.product.id for hit in assistant.search("rain jacket", 3)]
        catalog_file = tmp_path / "big.jsonl"
        write_jsonl(big, catalog_file)

        with pytest.raises(IndexDiskFull) as caught:
            assistant.rebuild_index([catalog_file])
        assert re.search(rf"while writing {re.escape(str(root))}/\.builds/shop/\d{{8}}T\d+Z\.tmp/vectors\.npy",
                         str(caught.value)), caught.value
        assert_failed_cleanly(caught.value, root, before, digests, small)
        assert free_bytes(disk) == free  # the partial files are gone
        assert [hit.product.id for hit in assistant.search("rain jacket", 3)] == answer  # still serving
        fresh = Assistant(settings)
        assert fresh.index_warning is None and len(fresh.index.products) == 40

        # With room again, the same rebuild goes through.
        subprocess.run(["mount", "-o", "remount,size=8m", str(disk)], check=True, capture_output=True)
        assistant.rebuild_index([catalog_file])
        assert len(load_index(root, "shop").products) == 1_000 and leftovers(root) == []


@pytest.mark.parametrize("step", ["products.parquet", "vectors.npy", "report.json", "faiss.index", "lexical.json",
                                  "lexical.npz", "manifest.json"])
def test_the_disk_filling_up_at_any_write_fails_cleanly(tmp_path: Path, step: str) -> None:
    """The disk is left exactly one page short of the build, at each file in the order they are written,
    and the error must name where it ran out. (With faiss.write_index, 'faiss.index' was truncated silently —
    it ignores a failed close — and only the manifest write noticed; had space been freed in between, the
    truncated file would have been checksummed and published.)"""
    small, big = make_products(40), make_products(600, prefix="B")
    reference = build_index(big, CatalogReport(), HashingEmbedder(), tmp_path / "reference", "shop").path
    order = ["products.parquet", "vectors.npy", "report.json", "faiss.index", "lexical.json", "lexical.npz",
             "manifest.json"]
    pages = {name: math.ceil((reference / name).stat().st_size / PAGE) for name in order}
    room = sum(pages[name] for name in order[:order.index(step) + 1]) - 1
    with small_disk(tmp_path / "disk", "4m") as disk:
        root = disk / "index"
        build_index(small, CatalogReport(), HashingEmbedder(), root, "shop")
        before = published_path(root, "shop")
        digests = file_digests(before)
        filler = fill_until(disk, room * PAGE)
        with pytest.raises(IndexDiskFull) as caught:
            build_index(big, CatalogReport(), HashingEmbedder(), root, "shop")
        # the vector and lexical indexes name their folder
        written = "" if step in ("faiss.index", "lexical.json", "lexical.npz") else "/" + re.escape(step)
        assert re.search(rf"while writing {re.escape(str(root))}/\.builds/shop/\d{{8}}T\d+Z\.tmp{written};",
                         str(caught.value)), caught.value
        assert_failed_cleanly(caught.value, root, before, digests, small)
        assert free_bytes(disk) == room * PAGE
        filler.unlink()
        build_index(big, CatalogReport(), HashingEmbedder(), root, "shop")  # room again: it goes through
        assert len(load_index(root, "shop").products) == 600


def test_a_full_disk_when_publishing_removes_the_finished_build(settings: Settings,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC at the very last step (creating the new link): the complete but unpublished build is removed
    too, so no build newer than the published one lingers for a fallback or a rollback to pick up."""
    root = settings.index_dir
    build_index(make_products(10), CatalogReport(), HashingEmbedder(), root, "shop")
    before = published_path(root, "shop")
    digests = file_digests(before)

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "symlink", no_room)
    with pytest.raises(IndexDiskFull, match=rf"while writing {re.escape(str(root / 'shop'))};") as caught:
        build_index(make_products(20), CatalogReport(), HashingEmbedder(), root, "shop")
    assert_failed_cleanly(caught.value, root, before, digests, make_products(10))


def test_the_cli_reports_a_full_disk_as_a_clean_error(tmp_path: Path) -> None:
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    write_jsonl(make_products(40), small)
    write_jsonl(make_products(1_000, prefix="B"), big)
    with small_disk(tmp_path / "disk", "512k") as disk:
        runner = CliRunner()

        def build(catalog_file: Path):
            return runner.invoke(main, ["--index-dir", str(disk / "index"), "index", "build", str(catalog_file),
                                        "--name", "shop", "--embedder", "hashing", "--quiet"],
                                 catch_exceptions=False)

        assert build(small).exit_code == 0
        before = published_path(disk / "index", "shop")
        result = build(big)
        assert result.exit_code == EXIT_FAILED, result.output
        assert "Traceback" not in result.output
        assert result.stderr.startswith("Error: the disk is full (ENOSPC: No space left on device) while writing "
                                        f"{disk / 'index'}/.builds/shop/"), result.stderr
        assert "Nothing was published; the previous index (if any) keeps serving." in result.stderr
        assert published_path(disk / "index", "shop") == before and leftovers(disk / "index") == []
