"""Freed heap memory goes back to the operating system (what the language model's load relies on)."""

from __future__ import annotations

import sys

import pytest

from assistant.core.memory import release_freed_memory


def resident_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is Linux-only")
def test_memory_freed_on_the_heap_is_returned() -> None:
    blocks = [bytearray(64 * 1024) for _ in range(3000)]  # ~200 MB in heap-sized blocks, then freed
    for block in blocks:
        block[::4096] = b"x" * len(block[::4096])  # touched, so resident
    keep = blocks[-1]  # one live block at the top of the heap: a plain free cannot shrink the heap past it
    del blocks
    before = resident_bytes()
    assert release_freed_memory()
    assert resident_bytes() < before - 100 * 1024 * 1024
    assert keep[0] == ord("x")
