"""A segment for shoppers without one, guessed from their baskets.

Each shopper's basket profile is the share of their (event-weighted, `EVENT_WEIGHTS`) interactions in every
category of the catalog, at every level of its path ("Grocery", "Grocery > Baby Foods"), square-rooted, plus
the weighted mean log price of what they touched and log(1 + interactions). Categories shopped by fewer
than `min_shoppers` shoppers are left out. A multinomial logistic regression with class-balanced weights
and an L2 penalty is fitted (scipy's L-BFGS from zeros: deterministic) on the shoppers whose segment is
known and predicts the others; the confidence is the predicted probability of the chosen segment. The
penalty is chosen from L2_GRID by macro-F1 (ties: log loss) in a seeded stratified 3-fold split of
those shoppers alone.

The segments and categories come from the store's data; nothing is saved (so nothing is pickled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from assistant.behaviour.errors import ModelFitError
from assistant.behaviour.interactions import EVENT_WEIGHTS
from assistant.ingest.customers import InteractionLog

PRICE_FEATURE, ACTIVITY_FEATURE = "price level (mean log price)", "activity (log interactions)"
L2_GRID = (1.0, 10.0, 100.0, 1000.0)  # penalties `choose_l2` tries
INNER_FOLDS = 3


@dataclass(frozen=True)
class InferredSegment:
    """The segment guessed for one shopper and the model's probability of it."""

    segment: str
    confidence: float


@dataclass(frozen=True)
class BasketProfiles:
    """One row of features per shopper (see the module docstring), in `customers` order."""

    customers: tuple[str, ...]
    features: np.ndarray  # float64, (len(customers), len(names))
    names: tuple[str, ...]

    def rows(self, customers: Sequence[str]) -> np.ndarray:
        """The feature rows of `customers` (each must have a profile)."""
        where = {c: i for i, c in enumerate(self.customers)}
        return self.features[[where[c] for c in customers]]


def category_levels(category: str) -> list[str]:
    """"A > B > C" → ["A", "A > B", "A > B > C"] (empty parts dropped)."""
    parts = [p.strip() for p in category.split(">") if p.strip()]
    return [" > ".join(parts[:i]) for i in range(1, len(parts) + 1)]


def basket_profiles(log: InteractionLog, product_categories: Mapping[str, str],
                    product_prices: Mapping[str, float] | None = None, min_shoppers: int = 5,
                    weights: Mapping[str, float] | None = None) -> BasketProfiles:
    """The basket profile of every shopper in `log` with at least one weighted interaction."""
    weights = {**EVENT_WEIGHTS, **(weights or {})}
    event_weight = np.array([weights.get(str(e), 0.0) for e in log.events], dtype=np.float64)
    keep = event_weight > 0
    customers, codes = np.unique(log.customers[keep].astype(str), return_inverse=True)
    products, event_weight = log.products[keep].astype(str), event_weight[keep]
    n = len(customers)
    if n == 0:
        raise ModelFitError("no weighted interactions to build basket profiles from")
    total = np.bincount(codes, weights=event_weight, minlength=n)

    levels_of = {p: category_levels(product_categories.get(p, "")) for p in np.unique(products)}
    names = sorted({level for levels in levels_of.values() for level in levels})
    column = {name: j for j, name in enumerate(names)}
    shares = np.zeros((n, len(names)))
    for code, product, weight in zip(codes, products, event_weight):
        for level in levels_of[product]:
            shares[code, column[level]] += weight
    shoppers = (shares > 0).sum(axis=0)
    kept = shoppers >= min_shoppers
    shares = np.sqrt(shares[:, kept] / total[:, None])
    names = [name for name, k in zip(names, kept) if k]

    prices = product_prices or {}
    log_price = np.array([np.log(prices[p]) if prices.get(p, 0) > 0 else np.nan for p in products])
    priced = ~np.isnan(log_price)
    price_weight = np.bincount(codes[priced], weights=event_weight[priced], minlength=n)
    price_sum = np.bincount(codes[priced], weights=(event_weight * np.nan_to_num(log_price))[priced], minlength=n)
    overall = price_sum.sum() / price_weight.sum() if price_weight.sum() > 0 else 0.0
    level = np.where(price_weight > 0, price_sum / np.maximum(price_weight, 1e-12), overall)
    activity = np.log1p(np.bincount(codes, minlength=n).astype(np.float64))
    features = np.column_stack([shares, level, activity])
    return BasketProfiles(tuple(customers.tolist()), features, (*names, PRICE_FEATURE, ACTIVITY_FEATURE))


@dataclass(frozen=True)
class SegmentClassifier:
    """A fitted multinomial logistic regression over standardised basket features."""

    segments: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (features, segments)
    intercept: np.ndarray  # (segments,)
    l2: float  # the penalty it was fitted with

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(segment | features), one row per shopper, columns in `segments` order."""
        return _softmax(((features - self.mean) / self.scale) @ self.coef + self.intercept)

    def predict(self, features: np.ndarray) -> list[InferredSegment]:
        """The most probable segment of each row (ties: the first segment in sorted order) and its probability."""
        p = self.probabilities(features)
        best = p.argmax(axis=1)
        return [InferredSegment(self.segments[j], float(p[i, j])) for i, j in enumerate(best)]


def stratified_folds(labels: Sequence[str], folds: int, seed: int) -> list[np.ndarray]:
    """Test indices of each fold: every segment's members shuffled (seeded) and dealt round the folds."""
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels, dtype=str)
    fold_of = np.empty(len(labels), dtype=np.int64)
    start = 0
    for segment in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == segment))
        fold_of[members] = (np.arange(len(members)) + start) % folds
        start += len(members)  # the next segment starts where this one stopped, so folds stay even
    return [np.flatnonzero(fold_of == f) for f in range(folds)]


def macro_f1(truth: Sequence[str], guess: Sequence[str], segments: Sequence[str]) -> float:
    """The mean over `segments` of each one's F1 (0 where it has no true positive)."""
    truth, guess = np.asarray(truth), np.asarray(guess)
    scores = []
    for s in segments:
        tp = int(np.sum((truth == s) & (guess == s)))
        denominator = int(np.sum(truth == s)) + int(np.sum(guess == s))
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def choose_l2(features: np.ndarray, labels: Sequence[str], grid: Sequence[float] = L2_GRID,
              folds: int = INNER_FOLDS, seed: int = 0) -> float:
    """The penalty of `grid` with the best mean macro-F1 over a stratified split of the labelled rows; ties
    go to the lower mean log loss of the true segments (the better-calibrated confidences)."""
    labels = np.asarray(labels, dtype=str)
    segments = sorted(set(labels.tolist()))
    splits = stratified_folds(labels, folds, seed)
    scored = []
    for l2 in grid:
        f1s, losses = [], []
        for test in splits:
            train = np.setdiff1d(np.arange(len(labels)), test)
            model = fit_segment_classifier(features[train], labels[train].tolist(), l2)
            p = model.probabilities(features[test])
            f1s.append(macro_f1(labels[test], [model.segments[j] for j in p.argmax(axis=1)], segments))
            truth = [model.segments.index(s) if s in model.segments else -1 for s in labels[test]]
            losses.append(-np.mean([np.log(max(p[i, j], 1e-12)) if j >= 0 else np.log(1e-12)
                                    for i, j in enumerate(truth)]))
        scored.append((round(float(np.mean(f1s)), 9), -float(np.mean(losses)), l2))
    return max(scored)[2]


def fit_segment_classifier(features: np.ndarray, labels: Sequence[str], l2: float | None = None,
                           max_iterations: int = 500) -> SegmentClassifier:
    """Fit on labelled rows: class-balanced log loss + l2 · ||coef||² / 2 (the intercept is not penalised),
    averaged over the rows; `l2` None: chosen by `choose_l2`. Needs at least two segments."""
    from scipy.optimize import minimize

    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError(f"features ({features.shape}) and labels ({len(labels)}) must have one row per shopper")
    segments, y = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    if len(segments) < 2:
        raise ModelFitError(f"segment inference needs shoppers of at least two known segments, got "
                            f"{', '.join(segments) or 'none'}")
    if l2 is None:
        l2 = choose_l2(features, labels)
    if l2 <= 0:
        raise ValueError(f"l2 must be positive, got {l2}")
    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale < 1e-12] = 1.0
    x = (features - mean) / scale
    n, d, k = len(x), x.shape[1], len(segments)
    counts = np.bincount(y, minlength=k)
    row_weight = (n / (k * counts))[y] / n
    onehot = np.eye(k)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d * k].reshape(d, k), theta[d * k:]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -(row_weight * (onehot * log_p).sum(axis=1)).sum() + 0.5 * l2 * (w * w).sum() / n
        residual = (np.exp(log_p) - onehot) * row_weight[:, None]
        grad_w = x.T @ residual + l2 * w / n
        return float(value), np.concatenate([grad_w.ravel(), residual.sum(axis=0)])

    found = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                     options={"maxiter": max_iterations})
    return SegmentClassifier(tuple(segments.tolist()), mean, scale, found.x[:d * k].reshape(d, k), found.x[d * k:],
                             float(l2))


def infer_segments(log: InteractionLog, product_categories: Mapping[str, str], known_segments: Mapping[str, str],
                   product_prices: Mapping[str, float] | None = None, l2: float | None = None,
                   min_shoppers: int = 5) -> dict[str, InferredSegment]:
    """{shopper: InferredSegment} for every shopper in `log` without a known segment (a missing or "" one),
    from a classifier fitted on the baskets of those with one."""
    profiles = basket_profiles(log, product_categories, product_prices, min_shoppers)
    known = [c for c in profiles.customers if known_segments.get(c)]
    unknown = [c for c in profiles.customers if not known_segments.get(c)]
    if not unknown:
        return {}
    model = fit_segment_classifier(profiles.rows(known), [known_segments[c] for c in known], l2)
    return dict(zip(unknown, model.predict(profiles.rows(unknown))))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class FilledSegments:
    """Known segments with inferred ones added for shoppers without one (those at `min_confidence` or above)."""

    segments: dict[str, str]
    inferred: int  # shoppers given an inferred segment
    left_out: int  # shoppers whose inferred segment was below min_confidence (left without one)
    min_confidence: float

    def note(self) -> str:
        """One line for a command's output."""
        kept = f" ({self.left_out} below confidence {self.min_confidence:g} left without)" if self.left_out else ""
        return f"{self.inferred} shoppers without a segment given one inferred from their baskets{kept}"


def fill_segments(log: InteractionLog, known_segments: Mapping[str, str], product_categories: Mapping[str, str],
                  product_prices: Mapping[str, float] | None = None, min_confidence: float = 0.0) -> FilledSegments:
    """`known_segments` plus an inferred segment for every shopper of `log` without one whose inferred
    confidence is at least `min_confidence` (what `build_interactions` takes as its segments)."""
    inferred = infer_segments(log, product_categories, known_segments, product_prices)
    kept = {c: r.segment for c, r in inferred.items() if r.confidence >= min_confidence}
    return FilledSegments({**known_segments, **kept}, len(kept), len(inferred) - len(kept), min_confidence)
