"""Writes that reach the disk or raise: Python's own file writes (a short write on a full disk raises
OSError with its errno, where C writers such as numpy's and FAISS's can report it silently), then
flush and fsync."""

from __future__ import annotations

import os
from pathlib import Path


def write_durably(path: Path, *chunks: bytes | memoryview) -> None:
    """Write `chunks` one after another to a new file at `path` and fsync it."""
    with open(path, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
