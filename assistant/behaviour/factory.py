"""The one factory: a CF model by its config name (`make_cf_model`), and the names it accepts."""

from __future__ import annotations

from typing import Any, Callable

from assistant.behaviour.blend import Blend
from assistant.behaviour.factorisation import ALS, BPR
from assistant.behaviour.linear import EASE
from assistant.behaviour.model import CFModel
from assistant.behaviour.neighbours import ItemItemCF, UserUserCF
from assistant.behaviour.popularity import SegmentPopularity
from assistant.behaviour.sequence import NextItem

_MODELS: dict[str, Callable[..., CFModel]] = {
    "popularity": SegmentPopularity,
    "user_user": UserUserCF,
    "item_item": ItemItemCF,
    "als": ALS,
    "bpr": BPR,
    "ease": EASE,
    "sequence": NextItem,
    "blend": lambda **params: Blend(**params, make_part=make_cf_model),
}


def cf_model_names() -> list[str]:
    """Names accepted by `make_cf_model`."""
    return list(_MODELS)


def make_cf_model(name: str, **params: Any) -> CFModel:
    """The one factory: a CF model by its config name."""
    if name not in _MODELS:
        raise ValueError(f"unknown CF model {name!r}; choose one of {', '.join(_MODELS)}")
    return _MODELS[name](**params)
