"""The ingest stage's errors, all `AisleError`s."""

from __future__ import annotations

from assistant.core.errors import AisleError


class DataFileError(AisleError):
    """A data file cannot be read at all (missing, unknown format, no usable columns)."""
