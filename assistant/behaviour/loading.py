"""Load a saved CF model, checking its checksums; for serving, fall back to the previous good version."""

from __future__ import annotations

import zipfile
from pathlib import Path

from assistant.behaviour.errors import ModelCorrupt, ModelFitError
from assistant.behaviour.factory import make_cf_model
from assistant.behaviour.model import CFModel
from assistant.behaviour.store import check_cf_model, list_versions, read_arrays, read_interactions


def load_cf_model(folder: str | Path) -> CFModel:
    """Load a model saved with `CFModel.save`, checking its checksums. Raises ModelCorrupt."""
    folder = Path(folder).resolve()  # one version throughout, even if a save publishes meanwhile
    manifest = check_cf_model(folder)
    try:
        data = read_interactions(folder)
        model = make_cf_model(manifest["model"], **manifest["params"])
        model.data = data
        model.fit_seconds = manifest.get("fit_seconds", 0.0)
        model._restore(read_arrays(folder))
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as err:
        raise ModelCorrupt(f"CF model {folder}: cannot read its files ({type(err).__name__}: {err})") from None
    model.version = manifest.get("version", "")
    model.selection = manifest.get("selection")
    return model


def load_serving_cf_model(folder: str | Path) -> tuple[CFModel | None, str | None]:
    """The published model, or — when its files are damaged, half-written or missing — the newest earlier
    version that loads, or None (shoppers are then served without the behavioural model); with a warning
    that says so. Never raises for a damaged model."""
    folder = Path(folder)
    try:
        return load_cf_model(folder), None
    except ModelFitError as damaged:
        current = folder.resolve()
        for version in reversed(list_versions(folder)):
            if version.resolve() == current:
                continue
            try:
                model = load_cf_model(version)
            except ModelFitError:
                continue
            return model, f"{damaged} — serving the previous good version {version.name}; refit: aisle cf fit"
        return None, f"{damaged} — no earlier good version: serving without the behavioural model; refit: aisle cf fit"
