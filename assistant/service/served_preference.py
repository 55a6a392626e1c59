"""The learned preference model the service ranks with: loaded once from its published folder beside the
index (`index/.preference/<index name>`), re-checked against its manifest. None — and the hand-tuned weights
rank — when none is fitted, LightGBM is missing, or the saved model is damaged with no earlier good version
(`warning` says so)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from assistant.core.config import Settings
from assistant.rank.scoring import Scorer

log = logging.getLogger(__name__)


def preference_model_dir(settings: Settings) -> Path:
    """Where the preference model of the configured index lives."""
    return Path(settings.index_dir) / ".preference" / settings.index_name


class ServedPreference:
    """The learned preference scorer of one index (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.warning: str | None = None
        self._scorer: Scorer | None = None
        self._loaded = False
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return preference_model_dir(self.settings)

    @property
    def scorer(self) -> Scorer | None:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._scorer, self.warning = self._load()
                    self._loaded = True
        return self._scorer

    @property
    def version(self) -> str | None:
        """The version of the model that ranks (loaded on first use); None while the hand-tuned weights rank."""
        return getattr(getattr(self.scorer, "model", None), "version", None)

    def use(self, scorer: Scorer | None) -> None:
        """Serve `scorer` instead of loading the published model (an evaluation's own model)."""
        with self._lock:
            self._scorer, self.warning, self._loaded = scorer, None, True

    def _load(self) -> tuple[Scorer | None, str | None]:
        folder = self.folder
        if not (folder.is_symlink() or folder.exists()):
            return None, None
        from assistant.rank.lambdarank import PreferenceModelError, load_serving_model
        from assistant.rank.preference import FEATURES, LearnedPreference

        try:
            model, warning = load_serving_model(folder, FEATURES)
        except PreferenceModelError as err:  # LightGBM is not installed
            model, warning = None, f"{err} — ranking with the hand-tuned weights"
        if warning:
            log.warning("%s", warning)
        return (LearnedPreference(model) if model is not None else None), warning

    def check(self) -> None:
        """Re-check the published model's checksum; damage is kept in `warning` (the copy in memory serves)."""
        from assistant.rank.lambdarank import PreferenceModelError, check_preference_model

        folder = self.folder
        if not (self._loaded and self._scorer is not None and (folder.is_symlink() or folder.exists())):
            return
        try:
            check_preference_model(folder)
        except PreferenceModelError as err:
            warning = f"{err} — the model loaded in memory keeps serving; refit: aisle rank fit"
            if warning != self.warning:
                self.warning = warning
                log.warning("%s", warning)
