"""Build folders of an index and the link that publishes one.

    index/<name>                 -> symlink to the published build, e.g. .builds/<name>/20261128T231500Z
    index/.builds/<name>/<id>/   one complete build; `<id>.tmp` while it is written or deleted

Publishing replaces the symlink atomically, so a crash leaves either the old or the new build published.
Old builds are renamed to `*.tmp` before they are deleted, so every build folder without that suffix is
complete.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Protocol

from assistant.core.durable import fsync_dir
from assistant.index.errors import IndexError_

BUILDS = ".builds"


class BuildObserver(Protocol):
    """Told which step of a build (or publish, or prune) is about to run, and on what path.

    Phases, in order: "load previous" (the published link), "embed" and "build vector index" (the index's
    builds folder), "write" (each file of the new build), "write vector index" (the build folder the vector
    index writes into), "checksums" (the build folder), "rename to final" (the completed folder),
    "new link" and "swap link" (the published link), "prune" (each old build, before it is renamed away).
    Fault tests use it to learn where a build is when they kill it; it must not raise.
    """

    def phase(self, name: str, path: Path) -> None: ...


def builds_dir(root: Path, name: str) -> Path:
    """The folder that holds every build of index `name`."""
    return root / BUILDS / name


def check_name(name: str) -> str:
    """`name`, when it is a valid index name; raises ValueError otherwise."""
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise ValueError(f"index name {name!r} must be letters, digits, '-', '_' or '.', not starting with '.'")
    return name


def published_path(root: Path, name: str) -> Path | None:
    """The build folder that `index/<name>` points to, or None when nothing is published."""
    link = root / check_name(name)
    if not link.is_symlink():
        return None
    target = (link.parent / os.readlink(link)).resolve()
    return target if target.is_dir() else None


def list_builds(root: Path, name: str) -> list[Path]:
    """Completed builds of `name`, oldest first."""
    folder = builds_dir(root, name)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.endswith(".tmp"))


def list_indexes(root: Path) -> list[str]:
    """Names of published indexes under `root`."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_symlink() and published_path(root, p.name))


def publish(root: Path, name: str, build: Path, observer: BuildObserver | None = None) -> None:
    """Point `index/<name>` at a completed build, atomically (symlink swap)."""
    link = root / check_name(name)
    if link.exists() and not link.is_symlink():
        raise IndexError_(f"{link} is a real folder, not a published index link; move it aside")
    temp_link = root / f".{name}.link.tmp"
    if temp_link.is_symlink() or temp_link.exists():
        temp_link.unlink()
    if observer is not None:
        observer.phase("new link", link)
    os.symlink(os.path.relpath(build, root), temp_link)
    if observer is not None:
        observer.phase("swap link", link)
    os.replace(temp_link, link)
    fsync_dir(root)


def prune(root: Path, name: str, keep: int, observer: BuildObserver | None = None) -> None:
    """Delete all but the newest `keep` (at least 1) builds of `name`, never the published one."""
    current = published_path(root, name)
    for old in list_builds(root, name)[:-max(keep, 1)]:
        if old.resolve() != current:
            doomed = old.with_name(old.name + ".tmp")  # never a half-deleted folder under a build's name
            if observer is not None:
                observer.phase("prune", old)
            try:
                os.rename(old, doomed)
            except OSError:
                continue
            shutil.rmtree(doomed, ignore_errors=True)
