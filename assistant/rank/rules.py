"""Merchandising rules: staff pin, boost or block a product or a brand, always or only for a query phrase, a
category or a segment. Ranking applies the rules that hold for a turn (`rules_for`); every one that changed
the answer is named in the product's breakdown (pin, boost) or its why-not (block).

- **block**: a hard filter that is never relaxed (the product is not shown, not even as an alternative);
- **boost**: `boost` is added to the product's fused score (negative buries it) before diversity;
- **pin**: the product goes first (several pins: in rule order), provided it meets every hard constraint of
  the request (a pinned jacket over the shopper's budget is not shown as a match: honest answers first).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable, Mapping, Sequence

from assistant.ingest.catalog import Product

ACTIONS = ("pin", "boost", "block")
MAX_BOOST = 1.0  # fused scores lie in about 0..1: a boost of 1 lifts anything above an unboosted product
RULE_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class RuleError(ValueError):
    """A merchandising rule that cannot be applied (its message says which field and why)."""


@dataclass(frozen=True)
class MerchRule:
    """One rule. Target: `product` (an id) or `brand` (case-insensitive). When: every condition given
    holds (`query`: the shopper's words contain the phrase; `category`: the request names the category;
    `segment`: the turn's segment key); no condition means every turn."""

    id: str
    action: str
    product: str = ""
    brand: str = ""
    query: str = ""
    category: str = ""
    segment: str = ""
    boost: float = 0.0
    note: str = ""  # staff's own words on why (shown in the trace)

    def problems(self) -> list[str]:
        """What is wrong with the rule (empty when it can be applied)."""
        out = []
        if not RULE_ID.match(self.id):
            out.append(f"id {self.id!r}: 1-40 letters, digits, '-' or '_'")
        if self.action not in ACTIONS:
            out.append(f"action {self.action!r}: one of {', '.join(ACTIONS)}")
        if bool(self.product) == bool(self.brand):
            out.append("target: give exactly one of product or brand")
        if self.action == "pin" and not self.product:
            out.append("pin: pins a product (a brand cannot go first)")
        if self.action == "boost" and not (0 < abs(self.boost) <= MAX_BOOST):
            out.append(f"boost {self.boost!r}: between -{MAX_BOOST:g} and {MAX_BOOST:g}, not 0")
        for name in ("product", "brand", "query", "category", "segment", "note"):
            if len(getattr(self, name)) > 200:
                out.append(f"{name}: at most 200 characters")
        return out

    def holds_for(self, words: str, categories: Sequence[str], segment: str) -> bool:
        """Whether the rule's conditions hold for a turn (`words`: the shopper's message and need)."""
        if self.query and not _contains_phrase(words, self.query):
            return False
        if self.category and not any(self.category.lower() in c.lower() for c in categories) \
                and not _contains_phrase(words, self.category):
            return False
        return not self.segment or self.segment == segment

    def targets(self, product: Product) -> bool:
        if self.product:
            return product.id == self.product
        return bool(product.brand) and product.brand.lower() == self.brand.lower()

    def label(self) -> str:
        """How the trace names the rule: 'pin rule r1 (query "rain jacket"): staff note'."""
        when = [f'{name} "{getattr(self, name)}"' for name in ("query", "category", "segment") if getattr(self, name)]
        target = f"product {self.product}" if self.product else f"brand {self.brand}"
        amount = f" {self.boost:+g}" if self.action == "boost" else ""
        text = f"{self.action}{amount} rule {self.id} ({target}{'; ' + ', '.join(when) if when else ''})"
        return text + (f": {self.note}" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", 0.0) or k in ("id", "action")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MerchRule":
        """A rule from JSON; unknown fields, wrong types and invalid rules raise `RuleError`."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise RuleError(f"unknown rule fields: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name == "boost":
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise RuleError("boost: a number")
                values[name] = float(value)
            elif not isinstance(value, str):
                raise RuleError(f"{name}: text")
            else:
                values[name] = value.strip()
        if "id" not in values or "action" not in values:
            raise RuleError("a rule needs an id and an action")
        rule = cls(**values)
        problems = rule.problems()
        if problems:
            raise RuleError(f"rule {rule.id}: " + "; ".join(problems))
        return rule


def _contains_phrase(text: str, phrase: str) -> bool:
    """`phrase` in `text` on word boundaries, ignoring case (Chinese phrases: as a substring)."""
    phrase = phrase.strip().lower()
    if not phrase:
        return True
    if any(ord(ch) > 0x2E80 for ch in phrase):
        return phrase in text.lower()
    return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text.lower()) is not None


def rules_for(rules: Iterable[MerchRule], words: str, categories: Sequence[str], segment: str) -> tuple[MerchRule, ...]:
    """The rules whose conditions hold for one turn, in their order."""
    return tuple(r for r in rules if r.holds_for(words, categories, segment))


def blocking_rule(product: Product, rules: Sequence[MerchRule]) -> MerchRule | None:
    """The first block rule that targets `product`, if any."""
    return next((r for r in rules if r.action == "block" and r.targets(product)), None)


def boosts(products_by_id: Mapping[str, Product], rules: Sequence[MerchRule]) -> dict[str, list[MerchRule]]:
    """Product id -> the boost rules that target it, for the given (pooled) products."""
    out: dict[str, list[MerchRule]] = {}
    for rule in (r for r in rules if r.action == "boost"):
        for pid, product in products_by_id.items():
            if rule.targets(product):
                out.setdefault(pid, []).append(rule)
    return out


def pins(rules: Sequence[MerchRule]) -> list[MerchRule]:
    """The pin rules, first pinned first, one per product."""
    seen: set[str] = set()
    out = []
    for rule in (r for r in rules if r.action == "pin"):
        if rule.product not in seen:
            seen.add(rule.product)
            out.append(rule)
    return out


def unblocked(products: Sequence[Product], rules: Sequence[MerchRule]) -> list[bool] | None:
    """Per product: not targeted by any block rule (None when no rule blocks anything)."""
    blocks = [r for r in rules if r.action == "block"]
    if not blocks:
        return None
    return [not any(r.targets(p) for r in blocks) for p in products]


def pin_first(chosen: Sequence[str], pinned: Sequence[str], k: int) -> list[str]:
    """`chosen` with the `pinned` product ids (those of `pins` that meet every hard constraint) moved to the
    front, in rule order, cut to k."""
    return [*pinned, *(pid for pid in chosen if pid not in pinned)][:k]


def rules_note(rules: Sequence[MerchRule], result: Any) -> str:
    """The trace's line on what each rule that held did to a ranked result (`hybrid.RankResult`)."""
    if not rules:
        return "no rule holds for this turn"
    shown = {c.product.id: c for c in result.candidates}
    parts = []
    for rule in rules:
        if rule.action == "block":
            parts.append(f"{rule.label()}: held for this turn")
        elif rule.action == "pin":
            if rule.product in shown and rule.label() in shown[rule.product].breakdown.rules:
                parts.append(f"{rule.label()}: shown first")
            else:
                why = result.blocked.get(rule.product, "not in this catalog or not shown")
                parts.append(f"{rule.label()}: not applied ({why})")
        else:
            hit = [pid for pid, c in shown.items() if rule.label() in c.breakdown.rules]
            parts.append(f"{rule.label()}: " + (f"lifted {', '.join(hit)}" if hit else "no boosted product shown"))
    removed = result.filter_counts.get("merchandising rule", 0)
    return "; ".join(parts) + (f"; {removed} products blocked" if removed else "")
