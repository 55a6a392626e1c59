"""Building an index: embed the catalog (reusing unchanged vectors), write a build folder durably, publish it.

A build is written beside the published one (`<id>.tmp`), renamed when complete, and published by
atomically replacing the symlink (assistant/index/builds.py), so a crash or `kill -9` mid-build leaves the
previous index serving. A build that fails (a full disk: `IndexDiskFull`) removes its partial folder; one
killed outright leaves a `*.tmp` folder that the next build deletes (tests/test_faults.py kills builds to
check this). A rebuild re-embeds only products whose embedded text changed (content hash) and drops deleted
ones. A BM25 lexical index (assistant/index/lexical.py) is built beside the vector index every time (it
takes well under a second for thousands of products). Every file's sha256 is in the manifest and checked on load. Nothing is pickled.
"""

from __future__ import annotations

import errno
import fcntl
import io
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from assistant.core.durable import checksums, fsync_dir, write_durably
from assistant.ingest.catalog import CatalogReport, Product, catalog_hash
from assistant.index.builds import BuildObserver, builds_dir, check_name, prune, publish, published_path
from assistant.index.embedding import Embedder
from assistant.index.errors import IndexCorrupt, IndexDiskFull, IndexError_
from assistant.index.lexical import LexicalIndex
from assistant.index.load import load_build
from assistant.index.manifest import (FORMAT_VERSION, MANIFEST, PRODUCTS, REPORT, VECTORS, check_extra_name,
                                      library_versions)
from assistant.index.product_table import product_table_bytes
from assistant.index.vector_index import IVFPQ_THRESHOLD, VectorIndex, build_vector_index, choose_kind

Progress = Callable[[int, int], None]


@dataclass
class BuildSummary:
    """What a build did; `report` lists every rejected catalog row."""

    name: str
    build_id: str
    path: Path
    loaded: int
    rejected: int
    re_embedded: int
    reused: int
    deleted: int
    seconds: float
    kind: str
    report: CatalogReport = field(repr=False, default_factory=CatalogReport)

    def format(self) -> str:
        return (f"index '{self.name}' published ({self.build_id}, {self.kind}): "
                f"{self.loaded} loaded, {self.rejected} rejected, {self.re_embedded} re-embedded, "
                f"{self.reused} reused, {self.deleted} dropped, {self.seconds:.1f} s")


def build_index(products: Sequence[Product], report: CatalogReport, embedder: Embedder, root: Path,
                name: str, ann_threshold: int = 50_000, batch_size: int = 64, keep_builds: int = 3,
                progress: Progress | None = None, threads: int | None = None,
                observer: BuildObserver | None = None, extra_files: Mapping[str, bytes] | None = None,
                index_kind: str = "auto", ivfpq_threshold: int = IVFPQ_THRESHOLD,
                index_builder: Callable[..., VectorIndex] = build_vector_index) -> BuildSummary:
    """Embed `products` (reusing unchanged vectors of the published index), build and publish.

    `progress(done, total)` is called as products are embedded; `observer.phase(name, path)` before each
    step (see `BuildObserver`). `extra_files` (name -> bytes, e.g. the store profile) are written into the
    build beside the index files and checksummed with them. `index_kind` "auto" picks flat, HNSW (above
    `ann_threshold` products) or IVF-PQ (above `ivfpq_threshold`); `index_builder(vectors, kind, threads=...)`
    makes the vector index (the Spark build fills it shard by shard: index/spark_build.py). Raises ValueError
    on an empty catalog,
    IndexDiskFull on a full disk.
    """
    if not products:
        raise ValueError("no products to index: every row was rejected or the catalog is empty")
    started = time.perf_counter()
    root = Path(root)
    check_name(name)
    builds = builds_dir(root, name)
    track = _Tracker(observer, builds)
    with _BuildLock(builds):
        for stale in builds.glob("*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
        track.phase("load previous", root / name)
        previous = _previous_vectors(root, name, embedder.model_id)
        hashes = [p.content_hash() for p in products]
        todo = sorted({h: i for i, h in enumerate(hashes) if h not in previous}.values())
        if progress is not None:
            progress(0, len(todo))
        done = 0

        def step(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, len(todo))

        track.phase("embed", builds)
        fresh = embedder.embed([products[i].embedding_text() for i in todo], batch_size, step)
        new_vectors = {hashes[i]: fresh[row] for row, i in enumerate(todo)}
        vectors = np.stack([new_vectors.get(h, previous.get(h)) for h in hashes]).astype(np.float32)
        kind = choose_kind(len(products), ann_threshold, ivfpq_threshold, index_kind)
        track.phase("build vector index", builds)
        vindex = index_builder(vectors, kind, threads=threads)
        track.phase("build lexical index", builds)
        lexical = LexicalIndex.of_products(products)

        build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        tmp, final = builds / f"{build_id}.tmp", builds / build_id
        table = product_table_bytes(products, hashes)
        reused = len(products) - len(todo)
        deleted = len(set(previous) - set(hashes))
        track.target = tmp
        try:
            tmp.mkdir(parents=True)
            track.phase("write", tmp / PRODUCTS)
            write_durably(tmp / PRODUCTS, table)
            track.phase("write", tmp / VECTORS)
            _write_npy(tmp / VECTORS, vectors)
            track.phase("write", tmp / REPORT)
            write_durably(tmp / REPORT, json.dumps(report.to_dict(), ensure_ascii=False, indent=1).encode())
            track.phase("write vector index", tmp)
            written = [PRODUCTS, VECTORS, REPORT] + vindex.save(tmp)
            track.phase("write lexical index", tmp)
            written += lexical.save(tmp)
            for extra, data in (extra_files or {}).items():
                track.phase("write", tmp / check_extra_name(extra))
                write_durably(tmp / extra, data)
                written.append(extra)
            seconds = time.perf_counter() - started
            manifest = {
                "format_version": FORMAT_VERSION,
                "name": name,
                "build_id": build_id,
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "build_seconds": round(seconds, 3),
                "embedder": {"model_id": embedder.model_id, "dim": int(vectors.shape[1])},
                "vector_index": {"backend": "faiss", **vindex.manifest_entry()},
                "lexical": lexical.manifest_entry(),
                "product_count": len(products),
                "catalog_hash": catalog_hash(products),
                "source_files": report.files,
                "counts": {"loaded": len(products), "rejected": report.rejected,
                           "re_embedded": len(todo), "reused": reused, "deleted": deleted},
                "library_versions": library_versions(),
                "extra_files": sorted(extra_files or {}),
            }
            track.phase("checksums", tmp)
            manifest["files"] = checksums(tmp, written)
            track.phase("write", tmp / MANIFEST)
            write_durably(tmp / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
            track.phase("rename to final", final)
            os.rename(tmp, final)
            fsync_dir(builds)
            publish(root, name, final, track)
        except BaseException as err:
            if published_path(root, name) != final.resolve():  # never remove what the link points to
                for folder in (tmp, final):
                    shutil.rmtree(folder, ignore_errors=True)
            code = _out_of_space(err)
            if code:
                raise _disk_full_error(code, track.target, root) from err
            raise
        prune(root, name, keep_builds, observer)
    return BuildSummary(name, build_id, final, len(products), report.rejected, len(todo), reused,
                        deleted, seconds, kind, report)


class _Tracker:
    """Tells the caller's observer each phase and remembers the path being written, for the disk-full message."""

    def __init__(self, observer: BuildObserver | None, target: Path) -> None:
        self.observer = observer
        self.target = target

    def phase(self, name: str, path: Path) -> None:
        self.target = path
        if self.observer is not None:
            self.observer.phase(name, path)


class _BuildLock:
    """One build per index name at a time (an advisory lock file)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._handle = open(folder / ".lock", "w")

    def __enter__(self) -> "_BuildLock":
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise IndexError_("another build of this index is running") from None
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def _previous_vectors(root: Path, name: str, model_id: str) -> dict[str, np.ndarray]:
    """content hash -> vector from the published index, when it was embedded by the same model."""
    folder = published_path(root, name)
    if folder is None:
        return {}
    try:
        previous = load_build(folder)
    except IndexCorrupt:
        return {}
    if previous.model_id != model_id:
        return {}
    return dict(zip(previous.content_hashes, previous.vectors))


def _write_npy(path: Path, array: np.ndarray) -> None:
    """What `np.save` writes, written durably (numpy's C writer reports a short write only as a count)."""
    array = np.ascontiguousarray(array)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    write_durably(path, header.getvalue(), memoryview(array).cast("B"))


def _out_of_space(err: BaseException) -> str | None:
    """'ENOSPC' / 'EDQUOT' when `err` says the disk (or quota) is full, else None. FAISS reports it as a
    RuntimeError whose text carries the C library's message, so the text is checked too."""
    for code in (errno.ENOSPC, errno.EDQUOT):
        if (isinstance(err, OSError) and err.errno == code) or os.strerror(code) in str(err):
            return errno.errorcode[code]
    return None


def _disk_full_error(code: str, target: Path, root: Path) -> IndexDiskFull:
    try:
        stats = os.statvfs(root)
        free = f"; {stats.f_bavail * stats.f_frsize / 1e6:,.1f} MB free there now"
    except OSError:
        free = ""
    what = "the disk is full" if code == "ENOSPC" else "the disk quota is used up"
    return IndexDiskFull(f"{what} ({code}: {os.strerror(getattr(errno, code))}) while writing "
                         f"{target}{free}; the partial build was removed. Free some space under {root} "
                         f"(or build into another index folder) and build again")

