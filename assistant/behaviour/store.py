"""The published model directory: write a CF model's files as a new version, check them, list versions.

A model saves to a directory: `manifest.json`, id lists as JSON, arrays as `.npz` (the layout `np.savez`
writes, with fixed entry dates so that the same model gives the same bytes; loaded with
`allow_pickle=False`). Nothing is pickled. A save is published like an index build (assistant.index):
`<folder>` is a symlink to `.builds/<folder name>/<version>` beside it, written as `<version>.tmp`, durably,
every file's sha256 in the manifest, renamed when complete and swapped in atomically; the previous version
is kept. Loading (with the fallback to that previous version) is in `assistant.behaviour.loading`.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from assistant.behaviour.errors import ModelCorrupt
from assistant.behaviour.interactions import Interactions
from assistant.behaviour.matrices import csr_from, csr_parts

FORMAT_VERSION = 1
MODEL_FILES = ("ids.json", "matrix.npz", "arrays.npz")


def publish_cf_model(folder: Path, *, name: str, params: Mapping[str, Any], data: Interactions,
                     arrays: Mapping[str, np.ndarray], fit_seconds: float, keep: int = 2,
                     forgotten: Iterable[str] = (), selection: Mapping[str, Any] | None = None) -> str:
    """Write a fitted model as a new version and publish it at `folder`; returns the version. `keep`
    versions stay on disk (the older ones are fallbacks), except versions that hold a `forgotten` pseudonym;
    `selection` (what `aisle cf fit` tried and chose) goes into the manifest."""
    from assistant.core.durable import write_version
    from assistant.index import BUILDS, prune, publish

    builds = folder.parent / BUILDS / folder.name
    builds.mkdir(parents=True, exist_ok=True)
    version = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)
    final = builds / version
    with _SaveLock(builds):
        for stale in builds.glob("*.tmp"):  # left by a save that was killed
            shutil.rmtree(stale, ignore_errors=True)
        files = {"ids.json": json.dumps({"users": data.users, "items": data.items, "segments": data.segments,
                                         "meta": data.meta}).encode("utf-8"),
                 "matrix.npz": _npz({**csr_parts("matrix", data.matrix), **csr_parts("recency", data.recency),
                                     **csr_parts("profile", data.profile), **csr_parts("seen", data.seen)}),
                 "arrays.npz": _npz(arrays)}
        write_version(builds, version, files, {
            "format_version": FORMAT_VERSION, "model": name, "params": dict(params), "version": version,
            "users": len(data.users), "items": len(data.items), "interactions": int(data.matrix.nnz),
            "data": data.meta, **({"selection": dict(selection)} if selection else {}),
            "fit_seconds": round(fit_seconds, 3),
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        if folder.is_dir() and not folder.is_symlink():  # a model saved before versions: keep it
            if any(folder.iterdir()):
                os.rename(folder, builds / "00000000T000000000000Z-unversioned")
            else:
                folder.rmdir()
        publish(folder.parent, folder.name, final)
        gone = set(forgotten)
        for old in list_versions(folder) if gone else []:
            if old != final and _holds_any(old, gone):  # no fallback may still hold a forgotten shopper
                doomed = old.with_name(old.name + ".tmp")
                os.rename(old, doomed)
                shutil.rmtree(doomed, ignore_errors=True)
        prune(folder.parent, folder.name, keep)
    return version


class _SaveLock:
    """One publish of a model folder at a time (waits for the other; the fit itself is not locked)."""

    def __init__(self, builds: Path) -> None:
        self._handle = open(builds / ".lock", "w")

    def __enter__(self) -> "_SaveLock":
        import fcntl
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()  # releases the lock


def _npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    """What `np.savez` writes (an uncompressed zip of .npy files, read back without pickles; object arrays
    are refused), as bytes for a durable write, byte for byte the same
    for the same arrays: every entry's date and mode are set here (np.savez leaves them to `zipfile`'s
    defaults, which differ for entries written with `writestr`: the current time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, value in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            entry.external_attr = 0o644 << 16
            with archive.open(entry, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asanyarray(value), allow_pickle=False)
    return buffer.getvalue()


_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold


def _holds_any(version: Path, pseudonyms: set[str]) -> bool:
    try:
        users = json.loads((version / "ids.json").read_text(encoding="utf-8"))["users"]
    except (OSError, ValueError, KeyError):
        return True  # unreadable: do not keep it as a fallback either
    return not pseudonyms.isdisjoint(users)


def list_versions(folder: str | Path) -> list[Path]:
    """Completed saved versions of the model published at `folder`, oldest first."""
    from assistant.index import list_builds
    folder = Path(folder)
    return list_builds(folder.parent, folder.name)


def check_cf_model(folder: str | Path) -> dict[str, Any]:
    """The manifest of a saved model (the published version when `folder` is its link), after checking
    every file against its checksums, without loading it. Raises ModelCorrupt."""
    folder = Path(folder).resolve()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelCorrupt(f"CF model {folder}: unreadable manifest.json ({err})") from None
    if not isinstance(manifest, dict):
        raise ModelCorrupt(f"CF model {folder}: unreadable manifest.json")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelCorrupt(f"CF model {folder}: format {manifest.get('format_version')!r} is not {FORMAT_VERSION}")
    from assistant.core.durable import checksum_problem
    problem = checksum_problem(folder, manifest.get("files", {}))  # none listed: saved before checksums
    if problem:
        raise ModelCorrupt(f"CF model {folder}: {problem}")
    return manifest


def read_interactions(version: Path) -> Interactions:
    """The interactions saved in one version folder (ids.json, matrix.npz); raises what reading raises."""
    ids = json.loads((version / "ids.json").read_text(encoding="utf-8"))
    with np.load(version / "matrix.npz", allow_pickle=False) as parts:
        seen = csr_from(parts, "seen") if "seen_data" in parts.files else None  # saved before "seen": matrix > 0
        return Interactions(csr_from(parts, "matrix"), csr_from(parts, "recency"), csr_from(parts, "profile"),
                            ids["users"], ids["items"], ids["segments"], seen, ids.get("meta") or {})


def read_arrays(version: Path) -> dict[str, np.ndarray]:
    """A version's learned arrays (arrays.npz); raises what reading raises."""
    with np.load(version / "arrays.npz", allow_pickle=False) as arrays:
        return {k: arrays[k] for k in arrays.files}
