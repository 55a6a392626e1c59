"""Operator logging: Aisle's messages at INFO and above, plain text on stderr (set once at start-up)."""

from __future__ import annotations

import logging
import sys


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (a test runner may swap it per call)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001
        pass


class _OperatorFormat(logging.Formatter):
    """`warning: <message>` / `error: <message>` for problems, the bare message for progress notes."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return f"{record.levelname.lower()}: {text}" if record.levelno >= logging.WARNING else text


def configure_logging(level: int = logging.INFO) -> None:
    """Send the `assistant` loggers' records at `level` and above to stderr as plain messages. Idempotent."""
    logger = logging.getLogger("assistant")
    logger.setLevel(level)
    if not any(isinstance(h, _CurrentStderr) for h in logger.handlers):
        handler = _CurrentStderr()
        handler.setFormatter(_OperatorFormat("%(message)s"))
        logger.addHandler(handler)
