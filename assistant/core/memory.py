"""Giving freed memory back to the operating system after a big load."""

from __future__ import annotations

import ctypes
import ctypes.util


def release_freed_memory() -> bool:
    """Ask glibc to return the heap it holds but no longer uses (`malloc_trim(0)`); False where there is no
    glibc. Loading the 0.5B model frees ~0.5 GB of temporary fp32 tensors that glibc would otherwise keep
    for the life of the process (resident 1.97 GB after load, 1.48 GB after this call)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False
