"""The store's own data chooses its CF model: every family over a small grid, the time decays, and blends
of the best of each, scored on a temporal leave-last-out validation split of the store's log.

`select_model(log, segments)` holds out each shopper's latest new product of `log`, fits every candidate on
the rest and keeps the best NDCG@k (ties: the simpler candidate, listed first). `fit_choice` then fits the
choice on the whole log. Everything is deterministic: the same log gives the same choice and, fitted, the
same model files.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from assistant.core.scores import min_max_rows
from assistant.behaviour.errors import ModelFitError
from assistant.behaviour.factory import make_cf_model
from assistant.behaviour.interactions import (POPULARITY_HALF_LIFE_SHARE, PROFILE_HALF_LIFE_DAYS, Interactions,
                                              build_interactions)
from assistant.behaviour.model import CFModel
from assistant.behaviour.split import leave_last_out
from assistant.ingest.customers import InteractionLog

Progress = Callable[[int, int, str], None]  # (candidates done, candidates in all, the one being fitted)

# Each family's grid (the first entry is its default). Small on purpose: a choice made on one validation
# split over many candidates flatters itself; `aisle eval cf` measures the choice on a later, untouched split.
GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "item_item": [{"neighbours": 100}, {"neighbours": 300}],
    "ease": [{"l2": 300.0}, {"l2": 50.0}, {"l2": 1500.0}],
    "als": [{"factors": f, "regularization": r, "alpha": a} for f, r, a in product((64, 16), (5.0, 0.5), (2.0, 10.0))],
    "bpr": [{"factors": 64, "learning_rate": lr, "regularization": 0.01} for lr in (0.05, 0.01)],
    "sequence": [{"smoothing": 1.0}, {"smoothing": 10.0}],
}
# Families whose scores come from the shopper's profile (the others score a known shopper from learned
# factors or their segment): for these the profile's half-life is part of the choice.
PROFILE_FAMILIES = ("user_user", "item_item", "ease", "sequence")
PROFILE_HALF_LIVES: tuple[float | None, ...] = (PROFILE_HALF_LIFE_DAYS, 1.0, None)
POPULARITY_SHARES: tuple[float | None, ...] = (POPULARITY_HALF_LIFE_SHARE, 1 / 4, None)
# Blends tried: every combination of these weights (two parts or more) over the best model of each family.
BLEND_WEIGHTS = {"ease": (0.0, 1.0), "sequence": (0.0, 0.5, 1.0), "item_item": (0.0, 0.5), "als": (0.0, 0.5),
                 "popularity": (0.0, 0.1, 0.5, 2.0)}
FAMILIES = ("popularity", "item_item", "ease", "als", "bpr", "sequence", "blend")
# Validation shoppers scored per candidate, at most (evenly spaced): bounds time and memory on big logs.
MAX_VALIDATION_USERS = 3000
# Above this many events the choice is made on a sample of whole shoppers holding about this many (the
# choice is then fitted on the whole log): a 10^7-event log is chosen on 10^6 in minutes, not hours.
MAX_SELECTION_EVENTS = 1_000_000


@dataclass(frozen=True)
class ModelChoice:
    """A CF model with its hyperparameters and the time decays of the data it learns and scores from."""

    model: str
    params: dict = field(default_factory=dict)
    profile_half_life_days: float | None = PROFILE_HALF_LIFE_DAYS
    popularity_half_life_share: float | None = POPULARITY_HALF_LIFE_SHARE

    def label(self) -> str:
        """E.g. "ease l2=300 · profile 3 d" or "blend ease 1 + popularity 0.1 · profile whole history"."""
        if self.model == "blend":
            parts = " + ".join(f"{name} {w:g}" for name, w in self.params["weights"].items())
            text = f"blend {parts}"
        else:
            text = " ".join([self.model, *(f"{k}={v:g}" for k, v in self.params.items())])
        if self.model in PROFILE_FAMILIES or self.model == "blend":
            days = self.profile_half_life_days
            text += " · profile " + ("whole history" if days is None else f"{days:g} d")
        if self.model == "popularity" or (self.model == "blend" and "popularity" in self.params["weights"]):
            share = self.popularity_half_life_share
            text += " · popularity " + ("plain counts" if share is None else f"half-life {share:.3g} of the log")
        return text

    def to_dict(self) -> dict:
        return {"model": self.model, "params": self.params, "profile_half_life_days": self.profile_half_life_days,
                "popularity_half_life_share": self.popularity_half_life_share}

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> "ModelChoice":
        return cls(str(row["model"]), dict(row.get("params") or {}), row.get("profile_half_life_days"),
                   row.get("popularity_half_life_share"))


@dataclass(frozen=True)
class Trial:
    """One candidate's validation figures."""

    choice: ModelChoice
    ndcg: float
    se: float  # standard error of the mean over validation shoppers
    seconds: float  # fit time (0 for a blend of already fitted parts)


@dataclass
class Selection:
    """What `select_model` tried, and what it chose."""

    chosen: ModelChoice
    trials: list[Trial]
    users: int  # validation shoppers
    k: int
    events: int  # events of the validation training split
    sampled: bool = False  # chosen on a sample of the log's shoppers (see MAX_SELECTION_EVENTS)

    def best(self, family: str) -> Trial | None:
        """The best trial of one family (None when it was not tried)."""
        trials = [t for t in self.trials if t.choice.model == family]
        return max(trials, key=lambda t: t.ndcg) if trials else None

    def to_dict(self) -> dict:
        return {"chosen": self.chosen.to_dict(), "label": self.chosen.label(), "k": self.k,
                "validation_shoppers": self.users, "validation_events": self.events, "sampled": self.sampled,
                "best_per_family": {f: {"label": t.choice.label(), "ndcg": round(t.ndcg, 4), "se": round(t.se, 4)}
                                    for f in FAMILIES if (t := self.best(f))},
                "trials": len(self.trials)}

    def format(self) -> str:
        """The best of each family and the choice, as lines for the CLI."""
        chosen = next(t for t in self.trials if t.choice == self.chosen)
        return (describe_selection(self.to_dict())
                + f"\nChosen: {self.chosen.label()} (validation NDCG@{self.k} {chosen.ndcg:.4f})")


def describe_selection(summary: Mapping[str, Any]) -> str:
    """What a selection tried, from its `Selection.to_dict()` (as saved in a model's manifest): a heading and
    the best of each family, NDCG ± standard error, the chosen one marked →."""
    sample = ", on a sample of the log's shoppers" if summary.get("sampled") else ""
    lines = [f"Chosen on a temporal validation split ({summary['validation_shoppers']} shoppers' latest new "
             f"product held out, {summary['trials']} candidates{sample}), NDCG@{summary['k']} ± standard error:"]
    for family in FAMILIES:
        best = summary["best_per_family"].get(family)
        if best:
            mark = "→" if best["label"] == summary["label"] else " "
            lines.append(f" {mark} {best['ndcg']:.4f} ± {best['se']:.4f}  {best['label']}")
    return "\n".join(lines)


def validation_users(data: Interactions, targets: Mapping[str, str], limit: int | None = None) -> list[str]:
    """Shoppers whose held-out product is known to the training data (others cannot be scored); at most
    `limit`, evenly spaced over them in the log's order (deterministic)."""
    users = [u for u in targets if u in data.user_index and targets[u] in data.item_index]
    if limit is not None and len(users) > limit:
        users = [users[int(i)] for i in np.linspace(0, len(users) - 1, limit)]
    return users


def ranked_ndcg(scores: np.ndarray, seen, targets: np.ndarray, k: int) -> np.ndarray:
    """NDCG@k of each row's target column, with the row's `seen` columns (a sparse 0/1 matrix) left out."""
    scores = scores.copy()
    scores[seen.nonzero()] = -np.inf
    hit = scores[np.arange(len(targets)), targets]
    rank = (scores > hit[:, None]).sum(axis=1) + 1
    return np.where(rank <= k, 1.0 / np.log2(rank + 1), 0.0)


def ndcg_vector(model: CFModel, data: Interactions, targets: Mapping[str, str], users: Sequence[str],
                profile=None, k: int = 10) -> np.ndarray:
    """NDCG@k of each shopper's held-out product (in `users` order), scored from `profile` (default: the
    data's), every product the shopper has seen left out."""
    profile = data.profile if profile is None else profile
    out = np.zeros(len(users))
    for start, rows, columns in _batches(users, data, targets):
        scores = model.score_rows(profile[rows], rows)
        out[start:start + len(rows)] = ranked_ndcg(scores, data.seen[rows], columns, k)
    return out


def _batches(users: Sequence[str], data: Interactions, targets: Mapping[str, str], size: int = 256
             ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(offset, training rows, target columns) of `users` in batches."""
    rows = np.array([data.user_index[u] for u in users], dtype=np.int64)
    columns = np.array([data.item_index[targets[u]] for u in users], dtype=np.int64)
    for start in range(0, len(users), size):
        yield start, rows[start:start + size], columns[start:start + size]


def standard_error(values: np.ndarray) -> float:
    """Standard error of the mean (0 for fewer than two values)."""
    return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0


def shopper_sample(log: InteractionLog, max_events: int) -> InteractionLog:
    """`log` itself when it holds at most `max_events` events, else the events of a deterministic sample of
    whole shoppers (by a hash of their id) holding about that many."""
    if len(log) <= max_events:
        return log
    import zlib
    customers, codes = np.unique(log.customers, return_inverse=True)
    buckets = np.array([zlib.crc32(str(c).encode("utf-8")) % 10_000 for c in customers])
    keep = buckets < max(1, int(10_000 * max_events / len(log)))
    return log.subset(keep[codes])


def _variants(log: InteractionLog, segments: Mapping[str, str] | None) -> tuple[
        dict[float | None, Interactions], dict[float | None, Interactions]]:
    """The training data once per profile half-life and once per popularity share (only decays differ)."""
    profiles = {hl: build_interactions(log, segments, profile_half_life_days=hl) for hl in PROFILE_HALF_LIVES}
    base = profiles[PROFILE_HALF_LIFE_DAYS]
    pops = {share: build_interactions(log, segments, popularity_half_life_share=share)
            if share != POPULARITY_HALF_LIFE_SHARE else base for share in POPULARITY_SHARES}
    return profiles, pops


def select_model(log: InteractionLog, segments: Mapping[str, str] | None = None, k: int = 10,
                 families: Sequence[str] = FAMILIES, progress: Progress | None = None,
                 max_events: int = MAX_SELECTION_EVENTS) -> Selection:
    """Try every family in `families` (grids above; "blend" combines the best of each part family) on a
    temporal leave-last-out split of `log` (of a sample of its shoppers when it holds more than
    `max_events` events), and choose the best NDCG@k. Raises ModelFitError when the log leaves no shopper
    to validate on."""
    sample = shopper_sample(log, max_events)
    split = leave_last_out(sample)
    profiles, pops = _variants(split.train, segments)
    base = profiles[PROFILE_HALF_LIFE_DAYS]
    users = validation_users(base, split.targets, MAX_VALIDATION_USERS)
    if not users:
        raise ModelFitError("too little data to choose a model: no shopper has a held-out product that others "
                            "also had (need shoppers with at least two products)")
    note = progress or (lambda done, total, what: None)
    trials: list[Trial] = []
    fitted: dict[str, tuple[CFModel, Trial]] = {}  # family -> its best fitted model (the blend's parts)
    steps = [(family, params) for family in families if family != "blend" for params in GRIDS.get(family, [{}])]
    total = len(steps) + ("blend" in families)
    for done, (family, params) in enumerate(steps):
        note(done, total, " ".join([family, *(f"{k}={v:g}" for k, v in params.items())]))
        if family == "popularity":
            for share in POPULARITY_SHARES:
                model = make_cf_model(family, **params).fit(pops[share])
                trials.append(_trial(ModelChoice(family, params, None, share), model, base, split.targets, users,
                                     base.profile, k))
                _keep(fitted, family, model, trials[-1])
            continue
        started = time.perf_counter()
        model = make_cf_model(family, **params).fit(base)
        seconds = time.perf_counter() - started
        for hl in PROFILE_HALF_LIVES if family in PROFILE_FAMILIES else (PROFILE_HALF_LIFE_DAYS,):
            trials.append(_trial(ModelChoice(family, params, hl), model, base, split.targets, users,
                                 profiles[hl].profile, k, seconds))
            _keep(fitted, family, model, trials[-1])
    if "blend" in families:
        note(len(steps), total, "blends of the best of each")
        trials.extend(_blend_trials(fitted, base, profiles, split.targets, users, k))
    note(total, total, "done")
    chosen = max(trials, key=lambda t: t.ndcg).choice  # max keeps the first of equals: the simpler one
    return Selection(chosen, trials, len(users), k, len(split.train), len(sample) < len(log))


def _trial(choice: ModelChoice, model: CFModel, data: Interactions, targets: Mapping[str, str],
           users: Sequence[str], profile, k: int, seconds: float | None = None) -> Trial:
    values = ndcg_vector(model, data, targets, users, profile, k)
    return Trial(choice, float(values.mean()), standard_error(values),
                 model.fit_seconds if seconds is None else seconds)


def _keep(fitted: dict[str, tuple[CFModel, Trial]], family: str, model: CFModel, trial: Trial) -> None:
    if family not in fitted or trial.ndcg > fitted[family][1].ndcg:
        fitted[family] = (model, trial)


def _blend_trials(fitted: Mapping[str, tuple[CFModel, Trial]], data: Interactions,
                  profiles: Mapping[float | None, Interactions], targets: Mapping[str, str], users: Sequence[str],
                  k: int) -> list[Trial]:
    """Blends of the best fitted model of each part family, every weight combination with two or more parts,
    for each profile half-life; scored from the parts' raw scores (no refit), one batch of shoppers at a time."""
    names = [n for n in BLEND_WEIGHTS if n in fitted]
    combos = [dict(c) for c in ({n: w for n, w in zip(names, ws) if w > 0}
                                for ws in product(*(BLEND_WEIGHTS[n] for n in names))) if len(c) >= 2]
    if not combos:
        return []
    pop_share = fitted["popularity"][1].choice.popularity_half_life_share if "popularity" in fitted else None
    tie = 1e-6 * fitted[names[0]][0]._tie_breaker()
    trials = []
    for hl in PROFILE_HALF_LIVES:
        profile = profiles[hl].profile
        values = np.zeros((len(combos), len(users)))
        for start, rows, columns in _batches(users, data, targets):
            segments = [data.segments[r] for r in rows]
            parts = {n: min_max_rows(fitted[n][0]._scores(profile[rows], rows, segments)) for n in names}
            seen = data.seen[rows]
            for c, weights in enumerate(combos):
                scores = sum(w * parts[n] for n, w in weights.items()) + tie
                values[c, start:start + len(rows)] = ranked_ndcg(scores, seen, columns, k)
        for weights, row in zip(combos, values):
            params = {"weights": weights, "parts": {n: fitted[n][1].choice.params for n in weights}}
            trials.append(Trial(ModelChoice("blend", params, hl, pop_share), float(row.mean()),
                                standard_error(row), 0.0))
    return trials


def fit_choice(log: InteractionLog, choice: ModelChoice, segments: Mapping[str, str] | None = None) -> CFModel:
    """Fit a chosen model on `log` with its time decays."""
    data = build_interactions(log, segments, profile_half_life_days=choice.profile_half_life_days,
                              popularity_half_life_share=choice.popularity_half_life_share)
    return make_cf_model(choice.model, **choice.params).fit(data)


def choice_of(model: CFModel) -> ModelChoice:
    """The choice a fitted (or loaded) model embodies: its name, params and the decays of its data."""
    meta = model.trained.meta
    return ModelChoice(model.name, dict(model.params), meta.get("profile_half_life_days", PROFILE_HALF_LIFE_DAYS),
                       meta.get("popularity_half_life_share", POPULARITY_HALF_LIFE_SHARE))


def fit_store_model(log: InteractionLog, segments: Mapping[str, str] | None = None, setting: str = "auto",
                    previous: ModelChoice | None = None, progress: Progress | None = None
                    ) -> tuple[CFModel, str]:
    """The store's CF model fitted on its whole log, and a line saying what it is. `setting` is the
    `cf_model` setting: "auto" chooses on the store's data (`select_model`; the model keeps the selection in
    `model.selection`), or reuses `previous` when given (a refit of the same store, e.g. after a forget);
    a model name fits that model with its defaults."""
    if setting != "auto":
        model = fit_choice(log, ModelChoice(setting), segments)
        return model, f"{setting} (set by cf_model)"
    if previous is not None:
        return fit_choice(log, previous, segments), f"{previous.label()} (chosen earlier on this store's data)"
    try:
        selection = select_model(log, segments, progress=progress)
    except ModelFitError as err:
        return fit_choice(log, ModelChoice("blend"), segments), f"blend, the default ({err})"
    model = fit_choice(log, selection.chosen, segments)
    model.selection = selection.to_dict()
    return model, f"{selection.chosen.label()} (chosen on this store's data)"
