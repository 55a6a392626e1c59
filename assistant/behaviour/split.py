"""Temporal leave-last-out: the split every CF figure and every model choice is measured on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.ingest.customers import InteractionLog


@dataclass
class Split:
    """A temporal leave-last-out split: training events and one held-out product per evaluated shopper."""

    train: InteractionLog
    targets: dict[str, str]  # customer -> held-out product


def leave_last_out(log: InteractionLog, min_items: int = 2) -> Split:
    """For every shopper with at least `min_items` distinct products, hold out the product they came to
    last (by first contact; ties by row order) and every event on it; everything else is training data."""
    if len(log) == 0:
        return Split(log, {})
    order = np.lexsort((log.timestamps, log.customers))  # stable: equal times keep the rows' order
    customers, users = np.unique(log.customers, return_inverse=True)
    products, items = np.unique(log.products, return_inverse=True)
    pair = users.astype(np.int64) * len(products) + items
    _, first = np.unique(pair[order], return_index=True)  # each (shopper, product)'s first contact
    rows = order[first]
    distinct = np.bincount(users[rows], minlength=len(customers))
    last = rows[np.lexsort((rows, log.timestamps[rows], users[rows]))]  # per shopper: latest first contact last
    ends = np.r_[np.flatnonzero(np.diff(users[last])), len(last) - 1]
    chosen = last[ends]
    chosen = chosen[distinct[users[chosen]] >= min_items]
    held = np.isin(pair, pair[chosen])
    targets = {str(log.customers[r]): str(log.products[r]) for r in chosen}
    return Split(log.subset(~held), targets)
