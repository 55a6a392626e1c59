"""The LightGBM lambdarank backend of the preference model: fit, score, explain, save and load.

A saved model is a directory (never a pickle), published like a CF model (`behaviour/store.py`):
`<folder>` is a symlink to `.builds/<folder name>/<version>`, written as `<version>.tmp`, durably, renamed
when complete and swapped in atomically; the previous version is kept. It holds

    model.txt      LightGBM's own text model (trees, feature names, parameters)
    manifest.json  format, version, feature names, parameters, rounds, training figures, sha256 of model.txt

Fitting is deterministic (one thread, `deterministic`, a fixed seed, column-wise histograms): the same
rows give the same `model.txt`, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from assistant.core.errors import AisleError

FORMAT_VERSION = 1
MODEL_FILE = "model.txt"
MANIFEST = "manifest.json"
ROUNDS = 150
PARAMS: dict[str, Any] = {
    "objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": 0.05, "num_leaves": 15,
    "min_data_in_leaf": 40, "lambdarank_truncation_level": 20, "label_gain": [0, 1, 3],
    "num_threads": 1, "deterministic": True, "force_col_wise": True, "seed": 7, "verbose": -1,
}


class PreferenceModelError(AisleError, ValueError):
    """A preference model cannot be fitted, or a saved one is missing, damaged or made for other features."""


@dataclass
class TrainingSet:
    """Rows of features, one graded label each (0 not relevant, 1 related, 2 the product chosen), grouped by
    turn: `groups[i]` consecutive rows belong to the i-th turn."""

    rows: np.ndarray
    labels: np.ndarray
    groups: list[int]
    feature_names: tuple[str, ...]
    figures: dict[str, Any] = field(default_factory=dict)  # how it was made (shown in the manifest)

    def __post_init__(self) -> None:
        if self.rows.ndim != 2 or self.rows.shape[1] != len(self.feature_names):
            raise PreferenceModelError(f"rows must be n × {len(self.feature_names)} features, got {self.rows.shape}")
        if len(self.labels) != len(self.rows) or sum(self.groups) != len(self.rows):
            raise PreferenceModelError(f"{len(self.rows)} rows, {len(self.labels)} labels and groups summing to "
                                       f"{sum(self.groups)} must agree")


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError:
        raise PreferenceModelError("LightGBM is not available - install lightgbm (pip install lightgbm==4.7.0) "
                                   "to fit or serve the preference model") from None
    return lightgbm


class LambdaRankModel:
    """A fitted LightGBM ranker over named features (a `rank.preference.RankingModel`)."""

    def __init__(self, booster: Any, manifest: Mapping[str, Any]) -> None:
        self.booster = booster
        self.manifest = dict(manifest)
        self.feature_names: tuple[str, ...] = tuple(manifest["features"])
        self.version: str = str(manifest.get("version", "unsaved"))

    @classmethod
    def fit(cls, data: TrainingSet, rounds: int = ROUNDS, params: Mapping[str, Any] | None = None,
            start: tuple[str, float] | None = None) -> "LambdaRankModel":
        """Fit on `data`; turns whose labels are all 0 teach nothing and are left out. `start` (feature,
        scale): boost from scale × that feature (e.g. the hand-tuned score), so the trees learn corrections."""
        if rounds < 1:
            raise PreferenceModelError(f"rounds must be at least 1, got {rounds}")
        rows, labels, groups = _useful_turns(data)
        if not groups:
            raise PreferenceModelError("no training turn has a relevant candidate in its pool")
        lgb = _lightgbm()
        params = {**PARAMS, **(params or {})}
        init = None if start is None else start[1] * rows[:, list(data.feature_names).index(start[0])]
        dataset = lgb.Dataset(rows, labels, group=groups, feature_name=list(data.feature_names),
                              init_score=init, free_raw_data=False, params={"verbose": -1})
        booster = lgb.train(params, dataset, num_boost_round=rounds)
        manifest = {"format_version": FORMAT_VERSION, "backend": f"lightgbm {lgb.__version__} lambdarank",
                    "features": list(data.feature_names), "params": params, "rounds": rounds,
                    "start": None if start is None else {"feature": start[0], "scale": start[1]},
                    "training": {**data.figures, "turns_used": len(groups), "rows_used": int(len(rows))}}
        return cls(booster, manifest)

    def _start(self, rows: np.ndarray) -> tuple[int, np.ndarray] | None:
        start = self.manifest.get("start")
        if not start:
            return None
        column = self.feature_names.index(start["feature"])
        return column, float(start["scale"]) * np.asarray(rows[:, column], dtype=np.float64)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        trees = np.asarray(self.booster.predict(np.asarray(rows, dtype=np.float64), num_threads=1))
        start = self._start(rows)
        return trees if start is None else trees + start[1]

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        """Per row: each feature's contribution, then the bias (they sum to `predict`; a `start` feature's
        scaled value counts as its contribution)."""
        parts = np.asarray(self.booster.predict(np.asarray(rows, dtype=np.float64), pred_contrib=True, num_threads=1))
        start = self._start(rows)
        if start is not None:
            parts[:, start[0]] += start[1]
        return parts

    def importance(self) -> dict[str, float]:
        """Total gain of each feature's splits, largest first."""
        gains = self.booster.feature_importance(importance_type="gain")
        return dict(sorted(((n, round(float(g), 2)) for n, g in zip(self.feature_names, gains)), key=lambda x: -x[1]))

    def model_text(self) -> str:
        return self.booster.model_to_string()

    # ------------------------------------------------------------------ persistence

    def save(self, folder: str | Path, keep: int = 2) -> Path:
        """Publish at `folder` as a new version (atomically; `keep` versions stay); returns `folder`."""
        from assistant.core.durable import write_version
        from assistant.index import BUILDS, prune, publish

        folder = Path(folder)
        text = self.model_text().encode("utf-8")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        version = f"{stamp}-{hashlib.sha256(text).hexdigest()[:8]}"
        builds = folder.parent / BUILDS / folder.name
        builds.mkdir(parents=True, exist_ok=True)
        manifest = write_version(builds, version, {MODEL_FILE: text}, {
            **self.manifest, "version": version, "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        final = builds / version
        publish(folder.parent, folder.name, final)
        prune(folder.parent, folder.name, keep)
        self.manifest, self.version = manifest, version
        return folder

    @classmethod
    def load(cls, folder: str | Path, features: Sequence[str] | None = None) -> "LambdaRankModel":
        """Load a saved model after checking its checksum (and, given `features`, that it was fitted on
        exactly those). Raises PreferenceModelError."""
        manifest = check_preference_model(folder)
        if features is not None and tuple(manifest.get("features", ())) != tuple(features):
            raise PreferenceModelError(f"preference model {Path(folder).resolve()}: fitted on features "
                                       f"{manifest.get('features')}, not {list(features)}; refit: aisle rank fit")
        lgb = _lightgbm()
        try:
            text = (Path(folder).resolve() / MODEL_FILE).read_text(encoding="utf-8")
            booster = lgb.Booster(model_str=text)
        except (OSError, ValueError, lgb.basic.LightGBMError) as err:
            raise PreferenceModelError(f"preference model {Path(folder).resolve()}: cannot read {MODEL_FILE} "
                                       f"({type(err).__name__}: {err})") from None
        return cls(booster, manifest)


def check_preference_model(folder: str | Path) -> dict[str, Any]:
    """The manifest of a saved model (the published version when `folder` is its link), after checking its
    files against their checksums, without loading it. Raises PreferenceModelError."""
    from assistant.core.durable import checksum_problem

    folder = Path(folder).resolve()
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PreferenceModelError(f"preference model {folder}: unreadable {MANIFEST} ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise PreferenceModelError(f"preference model {folder}: not format {FORMAT_VERSION}")
    files = manifest.get("files")
    if not isinstance(files, dict) or MODEL_FILE not in files:
        raise PreferenceModelError(f"preference model {folder}: the manifest lists no checksum of {MODEL_FILE}")
    problem = checksum_problem(folder, files)
    if problem:
        raise PreferenceModelError(f"preference model {folder}: {problem}")
    return manifest


def load_serving_model(folder: str | Path, features: Sequence[str]) -> tuple[LambdaRankModel | None, str | None]:
    """The published model, else the newest earlier version that loads, else None — with a warning when
    one was published but could not be used; (None, None) when none was ever fitted. Never raises."""
    from assistant.index import list_builds

    folder = Path(folder)
    if not (folder.is_symlink() or folder.exists()):
        return None, None
    try:
        return LambdaRankModel.load(folder, features), None
    except PreferenceModelError as damaged:
        current = folder.resolve()
        for version in reversed(list_builds(folder.parent, folder.name)):
            if version.resolve() == current:
                continue
            try:
                model = LambdaRankModel.load(version, features)
            except PreferenceModelError:
                continue
            return model, f"{damaged} — serving the previous good version {version.name}"
        return None, f"{damaged} — ranking with the hand-tuned weights; refit: aisle rank fit"


def _useful_turns(data: TrainingSet) -> tuple[np.ndarray, np.ndarray, list[int]]:
    keep = np.zeros(len(data.rows), dtype=bool)
    groups: list[int] = []
    start = 0
    for size in data.groups:
        if data.labels[start:start + size].max(initial=0) > 0:
            keep[start:start + size] = True
            groups.append(size)
        start += size
    return data.rows[keep], data.labels[keep], groups
