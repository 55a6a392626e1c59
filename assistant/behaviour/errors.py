"""The errors of the behavioural models: a model that cannot be fitted, or saved files that cannot be read."""

from __future__ import annotations

from assistant.core.errors import AisleError


class ModelFitError(AisleError):
    """A model cannot be fitted on the given interactions (empty, or too small for the method)."""


class ModelCorrupt(ModelFitError):
    """A saved model's files are missing, do not match their checksums, or cannot be read."""
