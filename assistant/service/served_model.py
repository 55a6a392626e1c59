"""The behavioural (CF) model the service answers with: loaded once from its published folder, refitted off
the request path after a forget, re-checked against its manifest."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from assistant.core.config import Settings

if TYPE_CHECKING:
    from assistant.behaviour import CFModel

log = logging.getLogger(__name__)


def cf_model_dir(settings: Settings) -> Path:
    """Where the behavioural model of the configured index lives."""
    return Path(settings.index_dir) / ".cf" / settings.index_name


def fit_demo_cf(settings: Settings, previous: "CFModel | None" = None) -> "CFModel":
    """Fit the demo store's CF model on its logs, as `aisle cf fit` chooses it (the choice it makes on the
    demo log is shipped with it; a refit keeps the choice of the `previous` model), and save it beside the
    demo index."""
    import json

    from assistant.behaviour.selection import ModelChoice, choice_of, fit_store_model
    from assistant.demo import cf_choice_path, customers_path, events_path
    from assistant.ingest.customers import read_customers, read_events
    from assistant.privacy.keys import forgotten, pseudonymizer

    pseudonymize = pseudonymizer(settings.state_dir)
    gone = forgotten(settings.state_dir)
    events = read_events([events_path()], pseudonymize, forgotten=gone)
    profiles, _ = read_customers([customers_path()], pseudonymize, forgotten=gone)
    if previous is not None:
        choice, selection = choice_of(previous), previous.selection
    else:  # the choice `aisle cf fit` makes on the demo log, shipped with it (assistant/demo/__init__.py)
        shipped = json.loads(cf_choice_path().read_text(encoding="utf-8"))
        choice, selection = ModelChoice.from_dict(shipped["choice"]), shipped["selection"]
    model, _ = fit_store_model(events, {c: p.segment for c, p in profiles.items()}, settings.cf_model, choice)
    if settings.cf_model == "auto":
        model.selection = selection  # the same choice, made on this store's data earlier
    model.save(cf_model_dir(settings), forgotten=gone)
    return model


class ServedModel:
    """The CF model of one index; None when the store has no interaction data, or its saved model is damaged
    with no earlier good version (`warning` says so; shoppers are still served)."""

    def __init__(self, settings: Settings, forgotten: Callable[[], set[str]]) -> None:
        self.settings = settings
        self._forgotten = forgotten
        self._model: CFModel | None = None
        self._loaded = False  # whether `_model` is what loading gave (None: no usable model)
        self.warning: str | None = None
        self._lock = threading.Lock()  # one load at a time; never held during a refit
        self._refit_lock = threading.Lock()
        self._refit_thread: threading.Thread | None = None
        self._refit_wanted = False
        self.refits = 0  # background refits finished

    @property
    def folder(self) -> Path:
        return cf_model_dir(self.settings)

    @property
    def model(self) -> "CFModel | None":
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._model, self.warning = self._load()
                    self._loaded = True
        return self._model

    @property
    def version(self) -> str | None:
        """The saved version of the model in memory (None when none is loaded); never loads one."""
        return self._model.version or None if self._loaded and self._model is not None else None

    def _load(self) -> "tuple[CFModel | None, str | None]":
        from assistant.behaviour import list_versions, load_serving_cf_model

        folder = self.folder
        demo = self.settings.index_name == "demo"
        if not (folder.is_symlink() or folder.exists() or list_versions(folder)):
            return (fit_demo_cf(self.settings) if demo else None), None
        model, warning = load_serving_cf_model(folder)
        if warning:
            log.warning("%s", warning)
        if demo and (model is None or not self._forgotten().isdisjoint(model.trained.users)):
            self.refit_in_background()  # damaged, or saved before a forget: refit; meanwhile serve this
        return model, warning

    def refit_in_background(self) -> None:
        """Refit the demo store's model off the request path, once however many ask (a request made while
        a refit runs is served by one more refit after it). The model in memory keeps serving; the new one
        is published (CFModel.save) and then swapped in."""
        with self._refit_lock:
            self._refit_wanted = True
            if self._refit_thread is None:
                self._refit_thread = threading.Thread(target=self._refit_loop, name="cf-refit", daemon=True)
                self._refit_thread.start()

    def _refit_loop(self) -> None:
        while True:
            with self._refit_lock:
                if not self._refit_wanted:
                    self._refit_thread = None
                    return
                self._refit_wanted = False
            try:
                model = fit_demo_cf(self.settings, self._model)
            except Exception as err:  # the model in memory keeps serving
                self.warning = f"refitting the CF model failed ({type(err).__name__}: {err})"
                log.warning("%s", self.warning)
                continue
            with self._lock:
                self._model, self.warning, self._loaded = model, None, True
            self.refits += 1

    def wait_for_refit(self, timeout: float | None = None) -> bool:
        """Wait for a background refit to finish; False when one is still running after `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._refit_lock:
                thread = self._refit_thread
            if thread is None:
                return True
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                return False

    def check(self) -> None:
        """Re-check the published model's checksums; damage is kept in `warning` (the copy in memory serves)."""
        from assistant.behaviour import ModelFitError, check_cf_model

        folder = self.folder
        if not (self._loaded and self._model is not None and (folder.is_symlink() or folder.exists())):
            return
        try:
            check_cf_model(folder)
        except ModelFitError as err:
            warning = f"{err} — the model loaded in memory keeps serving; refit: aisle cf fit"
            if warning != self.warning:
                self.warning = warning
                log.warning("%s", warning)
