"""Customer segments from `segments.toml`: description, price sensitivity, audiences, valued tags,
attribute weights and category priors. A store edits the file; no code change is needed."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assistant.core.errors import AisleError
from assistant.core.resources import package_path

DEFAULT_FILE = package_path("assistant.rank", "segments.toml")
ATTRIBUTE_TERMS = ("price_fit", "audience_match", "color_match", "size_match", "brand_affinity", "rating",
                   "valued_tags", "category_prior", "category_match")


class SegmentError(AisleError, ValueError):
    """A segments file is malformed, or a segment name is unknown."""


@dataclass(frozen=True)
class Segment:
    """One customer segment's profile."""

    key: str
    name: str
    description: str
    price_sensitivity: float = 0.5
    audiences: dict[str, float] = field(default_factory=dict)
    valued_tags: tuple[str, ...] = ()
    weights: dict[str, float] = field(default_factory=dict)
    category_priors: dict[str, float] = field(default_factory=dict)

    def category_prior(self, category: str) -> float:
        """The prior of a category path: the full path if listed, else its top level, else 0.2."""
        if category in self.category_priors:
            return self.category_priors[category]
        top = category.split(">")[0].strip()
        return self.category_priors.get(top, 0.2)


#: The profile used when no segment is known: neutral weights, no priors.
GENERAL = Segment("general", "General shopper", "", 0.4, {}, (),
                  {"price_fit": 0.5, "audience_match": 1.0, "color_match": 1.0, "size_match": 1.0,
                   "brand_affinity": 0.5, "rating": 0.6, "valued_tags": 0.0, "category_prior": 0.0,
                   "category_match": 1.0}, {})


def _number(value: object, where: str, low: float = 0.0, high: float = 10.0) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= float(value) <= high:
        raise SegmentError(f"{where} must be a number in {low:g}..{high:g}, got {value!r}")
    return float(value)


def load_segments(path: str | Path | None = None) -> dict[str, Segment]:
    """Read and validate a segments file (default: the one shipped with Aisle)."""
    path = Path(path or DEFAULT_FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SegmentError(f"{path}: {err}") from None
    segments = {}
    for key, raw in (data.get("segments") or {}).items():
        where = f"{path.name}: segments.{key}"
        unknown = set(raw.get("weights", {})) - set(ATTRIBUTE_TERMS)
        if unknown:
            raise SegmentError(f"{where}.weights: unknown term(s) {', '.join(sorted(unknown))}; "
                               f"terms are {', '.join(ATTRIBUTE_TERMS)}")
        segments[key] = Segment(
            key=key, name=str(raw.get("name", key)), description=str(raw.get("description", "")),
            price_sensitivity=_number(raw.get("price_sensitivity", 0.5), f"{where}.price_sensitivity", 0, 1),
            audiences={k: _number(v, f"{where}.audiences.{k}", 0, 1) for k, v in raw.get("audiences", {}).items()},
            valued_tags=tuple(str(t).lower() for t in raw.get("valued_tags", [])),
            weights={k: _number(raw.get("weights", {}).get(k, 0.0), f"{where}.weights.{k}") for k in ATTRIBUTE_TERMS},
            category_priors={k: _number(v, f"{where}.category_priors.{k}", 0, 1)
                             for k, v in raw.get("category_priors", {}).items()},
        )
    if not segments:
        raise SegmentError(f"{path}: no [segments.NAME] tables")
    return segments


def resolve_segment(segments: dict[str, Segment], from_ui: str | None = None, from_profile: str | None = None,
                    hint: str | None = None, hint_confidence: float = 0.0,
                    min_confidence: float = 0.5) -> tuple[Segment, str]:
    """The segment to rank for, and where it came from: the UI's choice, then the customer profile, then
    the parser's hint (when confident enough), else the general profile."""
    for value, source in ((from_ui, "ui"), (from_profile, "profile")):
        if value:
            if value not in segments:
                raise SegmentError(f"unknown segment {value!r}; known: {', '.join(segments)}")
            return segments[value], source
    if hint in segments and hint_confidence >= min_confidence:
        return segments[hint], "message"
    return GENERAL, "none"
