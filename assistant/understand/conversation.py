"""`Conversation`: the turns of one shopper's conversation merged into explicit state (see `merge_requests`)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from assistant.understand.parser import parse_message, unique
from assistant.understand.request import CHEAPER_FACTOR, CHILD_AUDIENCES, Request, Turn
from assistant.understand.vocabulary import Vocabulary

_TOPIC_FIELDS = ("need", "need_original", "categories", "colors", "exclude_colors", "sizes", "brands",
                 "exclude_brands", "exclude_terms")


def starts_new_topic(state: Request, parsed: Request) -> bool:
    """True when `parsed` names a product category that the current state is not about.

    A message with no recognised category (or no need at all) refines the current topic; a need whose
    categories overlap the state's stays on topic.
    """
    if not (parsed.need or parsed.need_original) or not parsed.categories:
        return False
    if not (state.need or state.need_original or state.categories):
        return False
    return not set(parsed.categories) & set(state.categories)


def merge_requests(state: Request, parsed: Request, shown_prices: Iterable[float] = ()) -> Request:
    """The conversation state after `parsed`, given the state before it.

    Rules, in order:
    1. "start over" (clear "all") resets the state to empty before anything else.
    2. Other clears forget fields: price (min, max, target, cheap), colors (and exclude_colors), sizes,
       brands (and exclude_brands).
    3. Topic: a new need naming a different category (see `starts_new_topic`) resets need, categories,
       colours, sizes, brands and exclusions; budget, audience, age, segment and in-stock are kept. A new need
       in the same category replaces need and categories. A need with no category is added to the current
       need ("something warmer" → "rain jacket warmer").
    4. Every field the message sets overrides the state (colours, sizes, brands replace; "make it blue"
       replaces colours); excluded colours/brands/terms accumulate; a colour or brand named again is taken
       off its exclusion list and vice versa. A new non-child audience without an age drops the age.
    5. "cheaper" without an explicit budget sets price_max = 0.8 × (the price of the product it points at:
       "like the second one but cheaper"; else the current price_max, else the median price of the products
       shown last, else price_target); with none of those it sets cheap. A switch between a child's and an
       adult's audience drops the sizes ("for my daughter instead").
    6. The operation fields (cheaper, more, like_position, clear), text and language are the latest message's.
    """
    if "all" in parsed.clear:
        state = Request()
    clears = set(parsed.clear)
    if "price" in clears:
        state = replace(state, price_min=None, price_max=None, price_target=None, cheap=False)
    if "colors" in clears:
        state = replace(state, colors=(), exclude_colors=())
    if "sizes" in clears:
        state = replace(state, sizes=())
    if "brands" in clears:
        state = replace(state, brands=(), exclude_brands=())

    s: dict[str, Any] = {}
    if parsed.need or parsed.need_original:
        if starts_new_topic(state, parsed):
            state = replace(state, **{name: Request.__dataclass_fields__[name].default for name in _TOPIC_FIELDS})
        if parsed.categories or not (state.need or state.need_original):
            s.update(need=parsed.need, need_original=parsed.need_original,
                     categories=parsed.categories or state.categories)
        else:
            s["need"] = " ".join(dict.fromkeys((state.need + " " + parsed.need).split()))
            s["need_original"] = (state.need_original + parsed.need_original).strip()

    for name in ("price_min", "price_max", "price_target", "age_years", "audience", "segment_hint"):
        if getattr(parsed, name) is not None:
            s[name] = getattr(parsed, name)
    if parsed.segment_hint:
        s["segment_confidence"] = parsed.segment_confidence
    if parsed.audience and parsed.audience not in CHILD_AUDIENCES and parsed.age_years is None:
        s["age_years"] = None
    if parsed.audience and state.audience and not parsed.sizes and \
            (parsed.audience in CHILD_AUDIENCES) != (state.audience in CHILD_AUDIENCES):
        s["sizes"] = ()  # "for my daughter instead": an adult's size does not fit a child (nor the reverse)
    if parsed.price_max is not None and parsed.price_min is None and (state.price_min or 0) > parsed.price_max:
        s["price_min"] = None
    if parsed.price_min is not None and parsed.price_max is None and state.price_max is not None \
            and state.price_max < parsed.price_min:
        s["price_max"] = None
    s["cheap"] = state.cheap or parsed.cheap
    s["in_stock_only"] = state.in_stock_only or parsed.in_stock_only
    for keep, drop in (("colors", "exclude_colors"), ("brands", "exclude_brands")):
        positive = getattr(parsed, keep) or getattr(state, keep)
        negative = unique(getattr(state, drop) + getattr(parsed, drop))
        negative = tuple(x for x in negative if x not in getattr(parsed, keep))
        s[keep] = tuple(x for x in positive if x not in getattr(parsed, drop))
        s[drop] = negative
    if parsed.sizes:
        s["sizes"] = parsed.sizes
    s["exclude_terms"] = unique(state.exclude_terms + parsed.exclude_terms)
    s.update(text=parsed.text, language=parsed.language, cheaper=parsed.cheaper, more=parsed.more,
             like_position=parsed.like_position, clear=parsed.clear)
    merged = replace(state, **s)

    if parsed.cheaper and parsed.price_max is None:
        prices = [float(x) for x in shown_prices if x is not None and math.isfinite(float(x))]
        base = merged.price_max or (statistics.median(prices) if prices else None) or merged.price_target
        position = parsed.like_position
        if position and prices and -len(prices) <= (position - 1 if position > 0 else position) < len(prices):
            base = prices[position - 1 if position > 0 else position]  # "like the second one but cheaper"
        if base:
            new_max = round(base * CHEAPER_FACTOR, 2)
            merged = replace(merged, price_max=new_max,
                             price_min=None if (merged.price_min or 0) >= new_max else merged.price_min,
                             price_target=None if (merged.price_target or 0) > new_max else merged.price_target)
        else:
            merged = replace(merged, cheap=True)
    return merged


class Conversation:
    """The turns of one shopper's conversation and the merged state (explicit data, shown to staff)."""

    def __init__(self, vocab: Vocabulary | None = None):
        self.turns: list[Turn] = []
        self.state = Request()
        self._vocab = vocab
        self._topic_start = 0  # index of the first turn of the current topic

    def add(self, message: str, vocab: Vocabulary | None = None,
            screen: Callable[[Request], bool] | None = None) -> Turn:
        """Parse `message` (with `vocab`, e.g. the served store's, else the conversation's own), merge it into
        the state and record it as a new turn (ids t1, t2, ...). When `screen` says the parsed message holds
        no recognisable need, it changes nothing in the state (the turn is marked `unrecognised`)."""
        parsed = parse_message(message, vocab or self._vocab)
        unrecognised = screen is not None and screen(parsed)
        if unrecognised:
            parsed = Request(text=parsed.text, language=parsed.language)
        prices = next((t.shown_prices for t in reversed(self.turns) if t.shown_prices), [])
        if "all" in parsed.clear or starts_new_topic(self.state, parsed):
            self._topic_start = len(self.turns)
        self.state = merge_requests(self.state, parsed, prices)
        turn = Turn(turn_id=f"t{len(self.turns) + 1}", message=parsed.text, parsed=parsed, state=self.state,
                    unrecognised=unrecognised)
        self.turns.append(turn)
        return turn

    def record_shown(self, turn_id: str, shown: list[tuple[str, float]]) -> None:
        """Record the products shown for a turn: (product id, price) in the order shown."""
        turn = next((t for t in self.turns if t.turn_id == turn_id), None)
        if turn is None:
            raise KeyError(f"turn_id: no turn {turn_id!r} (have {[t.turn_id for t in self.turns]})")
        try:
            pairs = [(str(pid), float(price)) for pid, price in shown]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"shown: expected (product id, price) pairs, got {shown!r:.200}") from exc
        turn.shown = [pid for pid, _ in pairs]
        turn.shown_prices = [price for _, price in pairs]

    def excluded_ids(self) -> set[str]:
        """Everything shown earlier in the current topic when the latest message asked for more; else empty."""
        if not self.turns or not self.turns[-1].parsed.more:
            return set()
        return {pid for turn in self.turns[self._topic_start:-1] for pid in turn.shown}

    def like_product_id(self) -> str | None:
        """The product the latest message points at ("like the second one"), from the last shown list."""
        if not self.turns or self.turns[-1].parsed.like_position is None:
            return None
        position = self.turns[-1].parsed.like_position
        shown = next((t.shown for t in reversed(self.turns[:-1]) if t.shown), [])
        index = position - 1 if position > 0 else len(shown) + position
        return shown[index] if 0 <= index < len(shown) else None

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.to_dict(), "turns": [t.to_dict() for t in self.turns],
                "excluded_ids": sorted(self.excluded_ids()), "like_product_id": self.like_product_id()}

    def to_state(self) -> dict[str, Any]:
        """The whole conversation as plain JSON (for a store that replicas share; `from_state` reads it)."""
        return {"state": self.state.to_dict(), "turns": [t.to_state() for t in self.turns],
                "topic_start": self._topic_start}

    @classmethod
    def from_state(cls, data: dict[str, Any], vocab: Vocabulary | None = None) -> "Conversation":
        """The conversation a `to_state` wrote."""
        conversation = cls(vocab)
        conversation.turns = [Turn.from_state(t) for t in data["turns"]]
        conversation.state = Request.from_dict(data["state"])
        conversation._topic_start = int(data["topic_start"])
        return conversation
