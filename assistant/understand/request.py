"""What a shopper asked for (`Request`), one exchange of a conversation (`Turn`), and the parser's limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_CHARS = 2_000  # longer messages are cut to this many characters
LANGUAGES = ("en", "zh")
MAX_PRICE = 10_000_000.0  # larger amounts are not budgets
CHEAPER_FACTOR = 0.8
# The canonical audiences (a catalog's own values are mapped onto them, see understand/store.py):
# baby; kids, and within it boys and girls; adults, and within it women and men; seniors; unisex.
CHILD_AUDIENCES = ("kids", "boys", "girls", "baby")  # "cheaper": new price_max = 0.8 × the current one (or the median shown price)


@dataclass(frozen=True)
class Request:
    """What a shopper asked for, as parsed from one message (or merged over a conversation).

    Hard constraints (filters): price_min / price_max, colors, sizes, exclude_brands, exclude_colors,
    exclude_terms, in_stock_only, audience (when explicit). Soft preferences: need text, brands,
    categories, price_target, cheap, age_years, segment_hint.
    """

    text: str = ""  # the message as received (cleaned, truncated)
    need: str = ""  # the free-text need with constraint phrases removed, e.g. "waterproof jacket"
    language: str = "en"  # "en" or "zh"
    price_min: float | None = None
    price_max: float | None = None
    price_target: float | None = None  # "around $50"
    cheap: bool = False  # "cheap", "affordable", "便宜": prefer low prices (soft)
    colors: tuple[str, ...] = ()  # canonical catalog colours; navy is its own colour ("dark blue" → navy)
    exclude_colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()  # canonical catalog sizes, e.g. ("M",), ("6-7Y",), ("9",)
    age_years: int | None = None  # a child's age when the message names one (0 for babies in months)
    audience: str | None = None  # baby, kids, boys, girls, adults, women, men, seniors (see CHILD_AUDIENCES)
    categories: tuple[str, ...] = ()  # category cues: a top level, a full path or a leaf ("Outerwear")
    brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    exclude_terms: tuple[str, ...] = ()  # "no wool", "without leather"
    in_stock_only: bool = False
    segment_hint: str | None = None  # young_adults, parents_young_kids, retirees, ...
    segment_confidence: float = 0.0  # 0..1
    # Conversation operations found in the message (applied by Conversation, not by the ranker):
    cheaper: bool = False  # "cheaper", "less expensive", "便宜一点"
    more: bool = False  # "show me more", "其他的"
    like_position: int | None = None  # "something like the second one" -> 2; "the last one" -> -1
    clear: tuple[str, ...] = ()  # fields to forget: "price", "colors", "sizes", "brands", "all"
    need_original: str = ""  # the untranslated need of a Chinese message, e.g. "防水外套"
    # Set by grounding the request in the served catalog (understand/grounding.py), not by the parser:
    color_values: tuple[str, ...] = ()  # the catalog's colour values (lower-case) that `colors` accept
    exclude_color_values: tuple[str, ...] = ()  # ... and those `exclude_colors` remove
    currency: str = ""  # the store's currency (ISO code); "" = USD
    grounding: tuple[str, ...] = ()  # what the catalog could not support as asked, in plain words

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict without empty values (what staff see); an age of 0 is kept."""
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            empty = value is None or value is False or (isinstance(value, (tuple, str)) and not value)
            if (empty or (name == "segment_confidence" and not value)) and name != "language":
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Request":
        """The request a `to_dict` wrote (lists become tuples again); unknown keys are a ValueError."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"request: unknown fields {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass
class Turn:
    """One exchange: the parsed message, the merged state after it, and what was shown."""

    turn_id: str
    message: str
    parsed: Request
    state: Request
    shown: list[str] = field(default_factory=list)  # product ids, in the order shown
    shown_prices: list[float] = field(default_factory=list)  # their prices, same order
    unrecognised: bool = False  # the message held no need the store could serve (it changed nothing)

    def to_dict(self) -> dict[str, Any]:
        return {"turn_id": self.turn_id, "message": self.message, "parsed": self.parsed.to_dict(),
                "state": self.state.to_dict(), "shown": list(self.shown)}

    def to_state(self) -> dict[str, Any]:
        """Everything of the turn, JSON-ready (`from_state` reads it back): `to_dict` plus prices and marks."""
        return {**self.to_dict(), "shown_prices": list(self.shown_prices), "unrecognised": self.unrecognised}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> "Turn":
        return cls(data["turn_id"], data["message"], Request.from_dict(data["parsed"]),
                   Request.from_dict(data["state"]), list(data["shown"]), [float(p) for p in data["shown_prices"]],
                   bool(data["unrecognised"]))

