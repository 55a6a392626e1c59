"""Collaborative filtering behind one interface (`CFModel`); `make_cf_model(name)` is the one factory.

Models: ``user_user`` (the product's source formula), ``item_item`` (cosine), ``als`` and ``bpr``
(matrix factorisation through the `implicit` library), ``ease`` (closed-form item model), ``blend``
(EASE + item-item + segment popularity) and ``popularity`` (recency-weighted, per segment).

A model saves to a directory: `manifest.json`, id lists as JSON, arrays with `np.savez` (loaded with
`allow_pickle=False`). Nothing is pickled. A save is published like an index build (assistant/index/builds.py):
`<folder>` is a symlink to `.builds/<folder name>/<version>` beside it, written as `<version>.tmp`, durably,
every file's sha256 in the manifest, renamed when complete and swapped in atomically; the previous version
is kept. `load_serving_cf_model` checks the checksums and falls back to that previous version (or to no
model) with a warning when the published files are damaged or half-written.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import time
import zipfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.ingest.customers import InteractionLog

EVENT_WEIGHTS = {"view": 1.0, "click": 2.0, "cart": 4.0, "purchase": 8.0, "rating": 0.0}
POPULARITY_HALF_LIFE_DAYS = 30.0
# A shopper's profile weighs each interaction by its age relative to that shopper's latest one: what they
# looked at lately says most about what they want next (on the demo store this doubled NDCG@10 of the
# item models against whole-history profiles; see docs/collaborative.md).
PROFILE_HALF_LIFE_DAYS = 3.0
DAY = 86_400.0
FORMAT_VERSION = 1


def rating_weight(stars: np.ndarray) -> np.ndarray:
    """A rating's weight: 5 -> 6, 4 -> 4, 3 -> 2, 2 or less -> 0 (the purchase itself still counts)."""
    return np.maximum(np.asarray(stars, dtype=np.float64) - 2.0, 0.0) * 2.0


class ModelFitError(Exception):
    """A model cannot be fitted on the given interactions (empty, or too small for the method)."""


class ModelCorrupt(ModelFitError):
    """A saved model's files are missing, do not match their checksums, or cannot be read."""


# ---------------------------------------------------------------------------- the matrix


@dataclass
class Interactions:
    """Customer × product weights built from an interaction log."""

    matrix: sp.csr_matrix  # summed event weights, optionally time-decayed: what models learn from
    recency: sp.csr_matrix  # the same weights decayed with POPULARITY_HALF_LIFE_DAYS (for popularity)
    profile: sp.csr_matrix  # decayed relative to each shopper's latest event: what a shopper is scored from
    users: list[str]
    items: list[str]
    segments: list[str]  # per user, "" when unknown
    user_index: dict[str, int] = field(init=False, repr=False)
    item_index: dict[str, int] = field(init=False, repr=False)

    _popularity: dict[str, int] | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self.user_index = {u: i for i, u in enumerate(self.users)}
        self.item_index = {p: i for i, p in enumerate(self.items)}

    def item_popularity(self) -> dict[str, int]:
        """Shoppers with a positive-weight interaction, per product (computed once). This is the
        popularity that `FusionSettings.max_popular_share` caps and `aisle eval fairness` groups by."""
        if self._popularity is None:
            counts = np.diff(self.matrix.tocsc().indptr)
            self._popularity = {item: int(n) for item, n in zip(self.items, counts)}
        return self._popularity

    def history_row(self, history: Mapping[str, float] | Iterable[str]) -> sp.csr_matrix:
        """A 1 × items row from {product: weight}, or from a list of products the shopper chose (each
        weighted as a purchase); unknown ids are skipped."""
        weights = history if isinstance(history, Mapping) else {p: EVENT_WEIGHTS["purchase"] for p in history}
        pairs = [(self.item_index[p], float(w)) for p, w in weights.items() if p in self.item_index and w > 0]
        cols = [c for c, _ in pairs]
        data = [w for _, w in pairs]
        return sp.csr_matrix((data, ([0] * len(cols), cols)), shape=(1, len(self.items)), dtype=np.float32)


def build_interactions(log: InteractionLog, segments: Mapping[str, str] | None = None,
                       weights: Mapping[str, float] | None = None, half_life_days: float | None = None,
                       now: float | None = None,
                       profile_half_life_days: float | None = PROFILE_HALF_LIFE_DAYS) -> Interactions:
    """Sum event weights per (customer, product); optional exponential time decay of the training
    weights (`half_life_days`, relative to `now`) and of each shopper's profile (relative to their
    latest event)."""
    weights = {**EVENT_WEIGHTS, **(weights or {})}
    if len(log) == 0:
        raise ModelFitError("no interactions to fit on")
    users, user_codes = np.unique(log.customers, return_inverse=True)
    items, item_codes = np.unique(log.products, return_inverse=True)
    base = np.array([weights.get(e, 0.0) for e in log.events], dtype=np.float64)
    is_rating = log.events == "rating"
    base[is_rating] = rating_weight(log.values[is_rating])
    now = float(log.timestamps.max()) if now is None else now
    age_days = np.maximum(now - log.timestamps, 0.0) / DAY
    latest = np.full(len(users), -np.inf)
    np.maximum.at(latest, user_codes, log.timestamps)
    age_in_profile = (latest[user_codes] - log.timestamps) / DAY

    def matrix(ages: np.ndarray | None, decay_days: float | None) -> sp.csr_matrix:
        data = base if decay_days is None else base * np.power(0.5, ages / decay_days)
        m = sp.csr_matrix((data, (user_codes, item_codes)), shape=(len(users), len(items)), dtype=np.float64)
        m.eliminate_zeros()
        return m.astype(np.float32)

    segments = segments or {}
    return Interactions(matrix(age_days, half_life_days), matrix(age_days, POPULARITY_HALF_LIFE_DAYS),
                        matrix(age_in_profile, profile_half_life_days), users.tolist(), items.tolist(),
                        [segments.get(u, "") for u in users.tolist()])


def _log_weights(m: sp.csr_matrix) -> sp.csr_matrix:
    out = m.copy()
    out.data = np.log1p(out.data)
    return out


def _normalise_rows(dense: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return dense / np.maximum(norms, 1e-12)


# ---------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class Evidence:
    """Why CF suggests `item` for a history, in numbers (and words via `text`)."""

    item: str
    shoppers: int  # shoppers who interacted with the item and with at least one item of the history
    item_shoppers: int  # shoppers who interacted with the item at all
    co_items: tuple[tuple[str, int], ...]  # history items most often together with it: (id, shoppers)
    score: float

    def text(self, titles: Mapping[str, str] | None = None) -> str:
        """E.g. "14 shoppers whose baskets overlap yours chose it; often together with X (9) and Y (5)"."""
        titles = titles or {}
        if not self.shoppers:
            if self.item_shoppers:
                return f"popular: chosen by {self.item_shoppers} shoppers"
            return "no behavioural evidence yet"
        named = [f"{titles.get(i, i)} ({n})" for i, n in self.co_items]
        together = f"; often together with {' and '.join(named)}" if named else ""
        return f"{self.shoppers} shoppers whose baskets overlap yours chose it{together}"


# ---------------------------------------------------------------------------- the interface


class CFModel(ABC):
    """A collaborative-filtering model. Subclasses implement `_fit`, `_scores` and their params."""

    name: str = ""

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.data: Interactions | None = None
        self.fit_seconds = 0.0
        self.version = ""  # the saved version it was loaded from or published as

    # -- subclass hooks
    @abstractmethod
    def _fit(self, data: Interactions) -> None:
        """Learn from `data` (already stored as self.data)."""

    @abstractmethod
    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        """Dense (len(rows), items) scores for history rows; users[i] is the training row index or -1,
        segments[i] the shopper's segment ("" when unknown)."""

    def _arrays(self) -> dict[str, np.ndarray]:
        """Learned arrays to save (names -> arrays)."""
        return {}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Inverse of `_arrays`."""

    # -- public API
    def fit(self, data: Interactions) -> "CFModel":
        """Fit on an interaction matrix; returns self."""
        if data.matrix.nnz == 0:
            raise ModelFitError("the interaction matrix is empty")
        started = time.perf_counter()
        self.data = data
        self._fit(data)
        self.fit_seconds = time.perf_counter() - started
        return self

    @property
    def trained(self) -> Interactions:
        """The interactions the model was fitted on (or loaded with); raises before fit()."""
        if self.data is None:
            raise ModelFitError(f"{self.name}: call fit() or load() first")
        return self.data

    def score_rows(self, rows: sp.csr_matrix, users: np.ndarray | None = None,
                   segments: Sequence[str] | None = None, batch: int = 512) -> np.ndarray:
        """Scores for many history rows at once (used by evaluation), popularity breaking ties."""
        data = self.trained
        users = np.full(rows.shape[0], -1) if users is None else np.asarray(users)
        if segments is None:
            segments = [data.segments[u] if u >= 0 else "" for u in users]
        out = np.empty((rows.shape[0], len(data.items)), dtype=np.float32)
        for start in range(0, rows.shape[0], batch):
            stop = start + batch
            out[start:stop] = self._scores(rows[start:stop], users[start:stop], segments[start:stop])
        return out + 1e-6 * self._tie_breaker()

    def _tie_breaker(self) -> np.ndarray:
        if not hasattr(self, "_popularity_prior"):
            pop = np.asarray(self.trained.recency.sum(axis=0)).ravel()
            self._popularity_prior = (pop / max(pop.max(), 1e-12)).astype(np.float32)
        return self._popularity_prior

    def recommend(self, history: Mapping[str, float] | Iterable[str] = (), k: int = 10,
                  exclude: Iterable[str] = (), customer: str | None = None,
                  segment: str | None = None) -> list[tuple[str, float]]:
        """Top-k (product id, score) for a history, never returning an excluded or already-seen product.

        A known `customer` (pseudonym) uses their training row when no history is given.
        """
        data = self.trained
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        user = data.user_index.get(customer, -1) if customer else -1
        row = data.history_row(history)
        if row.nnz == 0 and user >= 0:
            row = data.profile[user]
        segment = segment or (data.segments[user] if user >= 0 else "")
        scores = self.score_rows(row, np.array([user]), [segment])[0]
        banned = set(row.indices.tolist()) | {data.item_index[p] for p in exclude if p in data.item_index}
        if banned:
            scores[list(banned)] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        return [(data.items[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    @property
    def _binary(self) -> sp.csc_matrix:
        """Who interacted with what (0/1), by product column; computed once."""
        if getattr(self, "_binary_cache", None) is None:
            self._binary_cache = (self.trained.matrix > 0).astype(np.float32).tocsc()
        return self._binary_cache

    def similar_items(self, item: str, k: int = 10) -> list[tuple[str, float]]:
        """Products most often chosen by the same shoppers (cosine over customers)."""
        data = self.trained
        if item not in data.item_index:
            return []
        binary = self._binary
        column = binary[:, data.item_index[item]]
        overlap = np.asarray((binary.T @ column).todense()).ravel()
        counts = np.asarray(binary.sum(axis=0)).ravel()
        cosine = overlap / np.sqrt(np.maximum(counts * counts[data.item_index[item]], 1e-12))
        cosine[data.item_index[item]] = -np.inf
        top = np.argsort(-cosine, kind="stable")[:k]
        return [(data.items[i], float(cosine[i])) for i in top if cosine[i] > 0]

    def evidence(self, history: Mapping[str, float] | Iterable[str], item: str, top: int = 2) -> Evidence:
        """Behavioural evidence for suggesting `item` after `history`."""
        data = self.trained
        if item not in data.item_index:
            return Evidence(item, 0, 0, (), 0.0)
        binary = self._binary
        item_users = binary[:, data.item_index[item]].toarray().ravel() > 0
        row = data.history_row(history)
        history_items = [i for i in row.indices.tolist() if i != data.item_index[item]]
        overlap_users = np.zeros(len(data.users), dtype=bool)
        co: list[tuple[str, int]] = []
        for i in history_items:
            users_i = binary[:, i].toarray().ravel() > 0
            overlap_users |= users_i
            together = int(np.sum(users_i & item_users))
            if together:
                co.append((data.items[i], together))
        co.sort(key=lambda pair: (-pair[1], pair[0]))
        score = float(self.score_rows(row)[0][data.item_index[item]]) if history_items else 0.0
        return Evidence(item, int(np.sum(overlap_users & item_users)), int(item_users.sum()), tuple(co[:top]), score)

    # -- persistence
    def save(self, folder: str | Path, keep: int = 2, forgotten: Iterable[str] = ()) -> Path:
        """Publish the model at `folder` (see the module docstring); returns `folder`. `keep` versions stay
        on disk (the older ones are fallbacks), except versions that hold a `forgotten` pseudonym."""
        from assistant.core.durable import checksums, fsync_dir, write_durably
        from assistant.index import BUILDS, prune, publish

        data = self.trained
        folder = Path(folder)
        builds = folder.parent / BUILDS / folder.name
        builds.mkdir(parents=True, exist_ok=True)
        version = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)
        tmp, final = builds / f"{version}.tmp", builds / version
        with _SaveLock(builds):
            for stale in builds.glob("*.tmp"):  # left by a save that was killed
                shutil.rmtree(stale, ignore_errors=True)
            try:
                tmp.mkdir()
                write_durably(tmp / "ids.json", json.dumps({"users": data.users, "items": data.items,
                                                            "segments": data.segments}).encode("utf-8"))
                write_durably(tmp / "matrix.npz", _npz({**_csr_parts("matrix", data.matrix),
                                                        **_csr_parts("recency", data.recency),
                                                        **_csr_parts("profile", data.profile)}))
                write_durably(tmp / "arrays.npz", _npz(self._arrays()))
                manifest = {"format_version": FORMAT_VERSION, "model": self.name, "params": self.params,
                            "version": version, "users": len(data.users), "items": len(data.items),
                            "interactions": int(data.matrix.nnz), "fit_seconds": round(self.fit_seconds, 3),
                            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "files": checksums(tmp, MODEL_FILES)}
                write_durably(tmp / "manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))
                fsync_dir(tmp)
                os.rename(tmp, final)
                fsync_dir(builds)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            if folder.is_dir() and not folder.is_symlink():  # a model saved before versions: keep it
                if any(folder.iterdir()):
                    os.rename(folder, builds / "00000000T000000000000Z-unversioned")
                else:
                    folder.rmdir()
            publish(folder.parent, folder.name, final)
            self.version = version
            gone = set(forgotten)
            for old in list_versions(folder) if gone else []:
                if old != final and _holds_any(old, gone):  # no fallback may still hold a forgotten shopper
                    doomed = old.with_name(old.name + ".tmp")
                    os.rename(old, doomed)
                    shutil.rmtree(doomed, ignore_errors=True)
            prune(folder.parent, folder.name, keep)
        return folder


MODEL_FILES = ("ids.json", "matrix.npz", "arrays.npz")


class _SaveLock:
    """One publish of a model folder at a time (waits for the other; the fit itself is not locked)."""

    def __init__(self, builds: Path) -> None:
        self._handle = open(builds / ".lock", "w")

    def __enter__(self) -> "_SaveLock":
        import fcntl
        fcntl.flock(self._handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()  # releases the lock


def _npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    """What `np.savez` writes (no pickles: object arrays are refused), as bytes for a durable write."""
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return buffer.getvalue()


def _holds_any(version: Path, pseudonyms: set[str]) -> bool:
    try:
        users = json.loads((version / "ids.json").read_text(encoding="utf-8"))["users"]
    except (OSError, ValueError, KeyError):
        return True  # unreadable: do not keep it as a fallback either
    return not pseudonyms.isdisjoint(users)


def list_versions(folder: str | Path) -> list[Path]:
    """Completed saved versions of the model published at `folder`, oldest first."""
    from assistant.index import list_builds
    folder = Path(folder)
    return list_builds(folder.parent, folder.name)


def _csr_parts(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {f"{prefix}_data": m.data, f"{prefix}_indices": m.indices, f"{prefix}_indptr": m.indptr,
            f"{prefix}_shape": np.array(m.shape)}


def _csr_from(parts: Mapping[str, np.ndarray], prefix: str) -> sp.csr_matrix:
    return sp.csr_matrix((parts[f"{prefix}_data"], parts[f"{prefix}_indices"], parts[f"{prefix}_indptr"]),
                         shape=tuple(parts[f"{prefix}_shape"]))


def check_cf_model(folder: str | Path) -> dict[str, Any]:
    """The manifest of a saved model (the published version when `folder` is its link), after checking
    every file against its checksums, without loading it. Raises ModelCorrupt."""
    folder = Path(folder).resolve()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelCorrupt(f"CF model {folder}: unreadable manifest.json ({err})") from None
    if not isinstance(manifest, dict):
        raise ModelCorrupt(f"CF model {folder}: unreadable manifest.json")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelCorrupt(f"CF model {folder}: format {manifest.get('format_version')!r} is not {FORMAT_VERSION}")
    from assistant.core.durable import checksum_problem
    problem = checksum_problem(folder, manifest.get("files", {}))  # none listed: saved before checksums
    if problem:
        raise ModelCorrupt(f"CF model {folder}: {problem}")
    return manifest


def load_cf_model(folder: str | Path) -> CFModel:
    """Load a model saved with `CFModel.save`, checking its checksums. Raises ModelCorrupt."""
    folder = Path(folder).resolve()  # one version throughout, even if a save publishes meanwhile
    manifest = check_cf_model(folder)
    try:
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        with np.load(folder / "matrix.npz", allow_pickle=False) as parts:
            data = Interactions(_csr_from(parts, "matrix"), _csr_from(parts, "recency"),
                                _csr_from(parts, "profile"), ids["users"], ids["items"], ids["segments"])
        model = make_cf_model(manifest["model"], **manifest["params"])
        model.data = data
        model.fit_seconds = manifest.get("fit_seconds", 0.0)
        with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
            model._restore({k: arrays[k] for k in arrays.files})
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as err:
        raise ModelCorrupt(f"CF model {folder}: cannot read its files ({type(err).__name__}: {err})") from None
    model.version = manifest.get("version", "")
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


# ---------------------------------------------------------------------------- models


class SegmentPopularity(CFModel):
    """Recency-weighted popularity within the shopper's segment, blended with overall popularity."""

    name = "popularity"

    def _fit(self, data: Interactions) -> None:
        overall = np.asarray(data.recency.sum(axis=0)).ravel()
        self.overall = overall / max(overall.max(), 1e-12)
        segments = np.array(data.segments)
        self.by_segment: dict[str, np.ndarray] = {}  # each normalised to max 1
        for segment in sorted(set(data.segments) - {""}):
            pop = np.asarray(data.recency[segments == segment].sum(axis=0)).ravel()
            self.by_segment[segment] = pop / max(pop.max(), 1e-12)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        return np.stack([self.segment_scores(segment) for segment in segments]) if len(segments) else \
            np.zeros((0, len(self.overall)), dtype=np.float32)

    def segment_scores(self, segment: str) -> np.ndarray:
        """Popularity within `segment` (80%) and overall (20%); overall alone for an unknown segment."""
        if segment in self.by_segment:
            return 0.8 * self.by_segment[segment] + 0.2 * self.overall
        return self.overall.copy()

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"overall": self.overall, **{f"segment:{s}": v for s, v in self.by_segment.items()}}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.overall = arrays["overall"]
        self.by_segment = {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith("segment:")}


class UserUserCF(CFModel):
    """User-user CF with the product's source formula:

        Sim(u, v) = Σᵢ I(uᵢ = vᵢ = liked) / sqrt(Σᵢ uᵢ² · Σᵢ vᵢ²)

    uᵢ is u's interaction weight with item i; "liked" means a weight of at least `like_threshold`
    (a cart, a purchase or a good rating). Scores are Σ over the top-N neighbours of Sim(u, v) · vᵢ.
    """

    name = "user_user"

    def __init__(self, neighbours: int = 50, like_threshold: float = 4.0) -> None:
        super().__init__(neighbours=neighbours, like_threshold=like_threshold)

    def _fit(self, data: Interactions) -> None:
        self._prepare(data)

    def _prepare(self, data: Interactions) -> None:
        self.liked = (data.matrix >= self.params["like_threshold"]).astype(np.float32).tocsr()
        self.norms = np.sqrt(np.asarray(data.matrix.multiply(data.matrix).sum(axis=1)).ravel())

    def similarity(self, rows: sp.csr_matrix) -> np.ndarray:
        """Sim(row, v) for every training user v: (len(rows), users)."""
        liked = (rows >= self.params["like_threshold"]).astype(np.float32)
        overlap = np.asarray((liked @ self.liked.T).todense())
        row_norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
        return overlap / np.maximum(row_norms[:, None] * self.norms[None, :], 1e-12)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        sims = self.similarity(rows)
        for r, user in enumerate(users):
            if user >= 0:
                sims[r, user] = 0.0  # a shopper is not their own neighbour
        n = min(self.params["neighbours"], sims.shape[1])
        if n < sims.shape[1]:
            cut = np.argpartition(-sims, n - 1, axis=1)[:, n:]
            np.put_along_axis(sims, cut, 0.0, axis=1)
        return np.asarray((self.trained.matrix.T @ sims.T).T, dtype=np.float32)

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self._prepare(self.trained)


def _top_k_per_column(m: sp.csc_matrix, k: int) -> sp.csc_matrix:
    """Keep the k largest entries of every column of a sparse matrix."""
    data, indices, indptr = [], [], [0]
    for j in range(m.shape[1]):
        start, stop = m.indptr[j], m.indptr[j + 1]
        values, rows = m.data[start:stop], m.indices[start:stop]
        if len(values) > k:
            keep = np.argpartition(-values, k - 1)[:k]
            values, rows = values[keep], rows[keep]
        data.append(values)
        indices.append(rows)
        indptr.append(indptr[-1] + len(values))
    return sp.csc_matrix((np.concatenate(data) if data else [], np.concatenate(indices) if indices else [], indptr),
                         shape=m.shape)


class ItemItemCF(CFModel):
    """Item-item cosine similarity over log-weighted interactions, top-N neighbours per item."""

    name = "item_item"

    def __init__(self, neighbours: int = 100) -> None:
        super().__init__(neighbours=neighbours)

    def _fit(self, data: Interactions) -> None:
        x = _log_weights(data.matrix).tocsc()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        xn = (x @ sp.diags(1.0 / np.maximum(norms, 1e-12))).astype(np.float32)
        sim = (xn.T @ xn).tocsc()  # sparse: on long-tailed data most item pairs never co-occur
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        self.similarity = _top_k_per_column(sim, self.params["neighbours"]).tocsr()

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        return np.asarray((_log_weights(rows) @ self.similarity).todense())

    def _arrays(self) -> dict[str, np.ndarray]:
        return _csr_parts("similarity", self.similarity)

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.similarity = _csr_from(arrays, "similarity")


class EASE(CFModel):
    """Embarrassingly Shallow Autoencoder (Steck, 2019): B = I - P / diag(P), P = (XᵀX + λI)⁻¹.

    Closed form, one matrix inverse. Items beyond the `max_items` most popular are left out of the
    model (they get no EASE score) so memory stays bounded on large catalogs.
    """

    name = "ease"

    def __init__(self, l2: float = 300.0, max_items: int = 8_000) -> None:
        super().__init__(l2=l2, max_items=max_items)

    def _fit(self, data: Interactions) -> None:
        x = _log_weights(data.matrix)
        counts = np.asarray((x > 0).sum(axis=0)).ravel()
        keep = np.sort(np.argsort(-counts, kind="stable")[: self.params["max_items"]])
        xk = x[:, keep]
        gram = (xk.T @ xk).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.params["l2"]
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)[None, :]
        np.fill_diagonal(b, 0.0)
        self.kept = keep
        self.weights = b.astype(np.float32)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        out = np.zeros((rows.shape[0], len(self.trained.items)), dtype=np.float32)
        out[:, self.kept] = np.asarray(_log_weights(rows)[:, self.kept] @ self.weights)
        return out

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"kept": self.kept, "weights": self.weights}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.kept, self.weights = arrays["kept"], arrays["weights"]


class ImplicitMF(CFModel):
    """Matrix factorisation through the `implicit` library (ALS or BPR), CPU."""

    # Defaults from a grid on the demo store (factors 64/128, regularization 0.05/1/5, alpha 2/10/40):
    # NDCG@10 0.089 here against 0.090 for the grid's best, and stable on tiny data.
    def __init__(self, factors: int = 64, iterations: int = 15, regularization: float = 5.0,
                 alpha: float = 2.0, learning_rate: float = 0.05, seed: int = 7) -> None:
        super().__init__(factors=factors, iterations=iterations, regularization=regularization, alpha=alpha,
                         learning_rate=learning_rate, seed=seed)

    def _make(self):
        raise NotImplementedError

    def _fit(self, data: Interactions) -> None:
        from threadpoolctl import threadpool_limits

        model = self._make()
        confidence = _log_weights(data.matrix) * self.params["alpha"]
        with threadpool_limits(1, "blas"):
            model.fit(confidence.tocsr().astype(np.float32), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)

    def _fold_in(self, rows: sp.csr_matrix) -> np.ndarray:
        """User vectors for new histories: regularised least squares against the item factors."""
        y = self.item_factors
        gram = y.T @ y
        reg = self.params["regularization"] * np.eye(y.shape[1], dtype=np.float32)
        confidence = _log_weights(rows) * self.params["alpha"]
        out = np.zeros((rows.shape[0], y.shape[1]), dtype=np.float32)
        for r in range(rows.shape[0]):
            cols = confidence[r].indices
            if len(cols) == 0:
                continue
            c = confidence[r].data
            yi = y[cols]
            # implicit treats a stored value as the confidence c (preference 1): the user's normal equations
            # are (YᵀY + Yᵀ(C - I)Y + λI) x = Yᵀ C p.
            a = gram + (yi.T * (c - 1.0)) @ yi + reg
            out[r] = np.linalg.solve(a, yi.T @ c)
        return out

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        vectors = self._fold_in(rows)
        known = users >= 0
        if known.any():
            vectors[known] = self.user_factors[users[known]]
        return vectors @ self.item_factors.T

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.user_factors, self.item_factors = arrays["user_factors"], arrays["item_factors"]


class ALS(ImplicitMF):
    """implicit's AlternatingLeastSquares."""

    name = "als"

    def _make(self):
        from implicit.cpu.als import AlternatingLeastSquares
        return AlternatingLeastSquares(factors=self.params["factors"], regularization=self.params["regularization"],
                                       iterations=self.params["iterations"], random_state=self.params["seed"],
                                       num_threads=2)


class BPR(ImplicitMF):
    """implicit's BayesianPersonalizedRanking."""

    name = "bpr"

    def __init__(self, factors: int = 64, iterations: int = 300, regularization: float = 0.01,
                 alpha: float = 1.0, learning_rate: float = 0.05, seed: int = 7) -> None:
        super().__init__(factors, iterations, regularization, alpha, learning_rate, seed)

    def _make(self):
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        return BayesianPersonalizedRanking(factors=self.params["factors"], learning_rate=self.params["learning_rate"],
                                           regularization=self.params["regularization"],
                                           iterations=self.params["iterations"], random_state=self.params["seed"],
                                           num_threads=2)

    def _fold_in(self, rows: sp.csr_matrix) -> np.ndarray:
        """BPR has no closed-form user solve: a new history is the mean of its items' factors."""
        weights = _log_weights(rows)
        sums = np.asarray(weights.sum(axis=1)).ravel()
        return np.asarray(weights @ self.item_factors) / np.maximum(sums, 1e-12)[:, None]


class Blend(CFModel):
    """EASE + item-item + segment popularity, each min-max normalised per shopper, weighted."""

    name = "blend"

    def __init__(self, ease: float = 1.0, item_item: float = 0.3, popularity: float = 0.1,
                 l2: float = 300.0) -> None:
        super().__init__(ease=ease, item_item=item_item, popularity=popularity, l2=l2)
        self.parts: dict[str, CFModel] = {"ease": EASE(l2=l2), "item_item": ItemItemCF(),
                                          "popularity": SegmentPopularity()}

    def _fit(self, data: Interactions) -> None:
        for part in self.parts.values():
            part.fit(data)

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        total = np.zeros((rows.shape[0], len(self.trained.items)), dtype=np.float32)
        for name, part in self.parts.items():
            s = part._scores(rows, users, segments)
            low, high = s.min(axis=1, keepdims=True), s.max(axis=1, keepdims=True)
            total += self.params[name] * (s - low) / np.maximum(high - low, 1e-12)
        return total

    def _arrays(self) -> dict[str, np.ndarray]:
        return {f"{name}/{k}": v for name, part in self.parts.items() for k, v in part._arrays().items()}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        for name, part in self.parts.items():
            part.data = self.data
            part._restore({k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(name + "/")})


_MODELS: dict[str, Callable[..., CFModel]] = {
    "popularity": SegmentPopularity,
    "user_user": UserUserCF,
    "item_item": ItemItemCF,
    "als": ALS,
    "bpr": BPR,
    "ease": EASE,
    "blend": Blend,
}


def cf_model_names() -> list[str]:
    """Names accepted by `make_cf_model`."""
    return list(_MODELS)


def make_cf_model(name: str, **params: Any) -> CFModel:
    """The one factory: a CF model by its config name."""
    if name not in _MODELS:
        raise ValueError(f"unknown CF model {name!r}; choose one of {', '.join(_MODELS)}")
    return _MODELS[name](**params)


def inherit_scores(scores: Mapping[str, float], neighbours: Mapping[str, Sequence[tuple[str, float]]]
                   ) -> dict[str, float]:
    """Cold start for new products: a product with no interactions gets the similarity-weighted mean
    of its content neighbours' CF scores. `neighbours[new] = [(known product, content similarity), ...]`."""
    inherited = {}
    for product, near in neighbours.items():
        pairs = [(scores[p], max(sim, 0.0)) for p, sim in near if p in scores]
        total = sum(w for _, w in pairs)
        if total > 0:
            inherited[product] = sum(s * w for s, w in pairs) / total
    return inherited
