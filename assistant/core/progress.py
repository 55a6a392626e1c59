"""Progress on stderr for long work (tqdm): a `(done, total)` callback for index builds, and a bar over an
iterable for evaluations."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Iterable, TypeVar

T = TypeVar("T")


class ProgressBar:
    """Callable as `progress(done, total)`: opens a tqdm bar on the first call, moves it to `done` after.

    A new `total` restarts the bar; a total of 0 (nothing to do) or `disable=True` draws nothing.
    Use it as a context manager, or call `close()`, so the bar's last line is finished.
    """

    def __init__(self, desc: str, unit: str = "product", disable: bool = False) -> None:
        self.desc = desc
        self.unit = unit
        self.disable = disable
        self._bar: Any = None

    def __call__(self, done: int, total: int, what: str | None = None) -> None:
        """Move to `done` of `total`; `what` (optional) names the step under way."""
        if self.disable:
            return
        if self._bar is None:
            from tqdm import tqdm  # loaded on first use: `aisle --help` stays fast

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, disable=total == 0)
        elif self._bar.total != total:
            self._bar.reset(total)
        if what is not None:
            self._bar.set_postfix_str(what, refresh=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Finish the bar (if one was drawn)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def progress_bar(items: Iterable[T], show: bool, desc: str, unit: str) -> Iterable[T]:
    """`items`, with a transient tqdm bar when `show` is true."""
    if not show:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=desc, unit=unit, leave=False)
