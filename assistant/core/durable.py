"""Writes that reach the disk or raise: Python's own file writes (a short write on a full disk raises
OSError with its errno, where C writers such as numpy's and FAISS's can report it silently), then
flush and fsync; and the sha256 checksums that index and CF-model manifests hold."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping


def write_durably(path: Path, *chunks: bytes | memoryview) -> None:
    """Write `chunks` one after another to a new file at `path` and fsync it."""
    with open(path, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """fsync a folder, so a rename or a new entry in it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """{file name: sha256} of the named files in `folder`, for a manifest."""
    return {name: sha256_file(Path(folder) / name) for name in names}


def write_version(builds: Path, version: str, files: Mapping[str, bytes], manifest: Mapping[str, Any]) -> dict:
    """Write `files` and `manifest.json` (the `manifest` plus "files": each file's sha256) into
    `builds/<version>.tmp`, each durably, then rename it to `builds/<version>`: a version folder is either
    complete or absent (a failed write leaves nothing). Returns the manifest written."""
    tmp, final = builds / f"{version}.tmp", builds / version
    try:
        tmp.mkdir()
        for name, data in files.items():
            write_durably(tmp / name, data)
        written = {**manifest, "files": checksums(tmp, files)}
        write_durably(tmp / "manifest.json", json.dumps(written, indent=2).encode("utf-8"))
        fsync_dir(tmp)
        os.rename(tmp, final)
        fsync_dir(builds)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written


def checksum_problem(folder: Path, files: Mapping[str, str]) -> str | None:
    """What is wrong with `folder` against a manifest's {file name: sha256}: the first missing or
    damaged file, in words; None when every file matches."""
    for name, expected in files.items():
        path = Path(folder) / name
        if not path.is_file():
            return f"{name} is missing"
        if sha256_file(path) != expected:
            return f"{name} does not match its checksum (damaged or edited)"
    return None
