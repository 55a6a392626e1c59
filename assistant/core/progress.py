"""Progress bars on stderr for long work (tqdm), off when not asked for."""

from __future__ import annotations

from typing import Iterable, TypeVar

T = TypeVar("T")


def progress_bar(items: Iterable[T], show: bool, desc: str, unit: str) -> Iterable[T]:
    """`items`, with a transient tqdm bar when `show` is true."""
    if not show:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=desc, unit=unit, leave=False)
