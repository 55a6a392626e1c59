"""The index stage's errors, all `AisleError`s."""

from __future__ import annotations

from assistant.core.errors import AisleError


class IndexError_(AisleError):
    """Base class for index problems (named to avoid shadowing the builtin IndexError)."""


class IndexNotFound(IndexError_):
    """No published index of that name."""


class IndexCorrupt(IndexError_):
    """A published index's files do not match the checksums in its manifest, or cannot be read."""


class IndexDiskFull(IndexError_):
    """The disk filled up (ENOSPC) while a build was written; the partial build was removed, nothing published."""
