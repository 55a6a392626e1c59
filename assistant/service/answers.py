"""The words of an answer, in the shopper's language: what was understood, how many products matched, what
the alternatives relax, and the clarifying question when the message said nothing the store could serve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.core.money import format_amount
from assistant.understand import Request
from assistant.understand.store import StoreProfile

if TYPE_CHECKING:
    from assistant.service.turn import Recommendation

# The parser's audiences in Chinese words (the request keeps the canonical English ones).
AUDIENCES_ZH = {"baby": "宝宝", "kids": "儿童", "boys": "男孩", "girls": "女孩", "adults": "成人", "women": "女士",
                "men": "男士", "seniors": "老人", "unisex": "男女通用"}
RELAXED_SHOWN = 3  # what the alternatives do not meet, named in the reply (the cards name each)


@dataclass(frozen=True)
class Headline:
    """An answer in one line of data: what was understood, how many products meet all of it, and what the
    shown alternatives do not meet (each once), in the shopper's language."""

    understood: str
    matched: int
    shown: int
    relaxed: tuple[str, ...] = ()
    language: str = "en"

    def to_dict(self) -> dict:
        return {"understood": self.understood, "matched": self.matched, "shown": self.shown,
                "relaxed": list(self.relaxed), "language": self.language}


def headline(rec: "Recommendation") -> Headline:
    """The answer's `Headline`."""
    return Headline(understood(rec.request), rec.matched, len(rec.items), relaxed_constraints(rec.relaxed),
                    "zh" if rec.request.language == "zh" else "en")


def relaxed_constraints(relaxed: "list[str] | tuple[str, ...]") -> tuple[str, ...]:
    """What the alternatives relax, once per constraint: a card's label names the product's own value first
    ("$37.99, over your $15", "navy, not blue"; rank.hybrid.constraint_checks), so the part after it is the
    constraint ("over your $15", "not blue"); a label without that value ("no size M") is kept whole."""
    out: dict[str, None] = {}
    for label in relaxed:
        for separator in (", ", "，"):
            if separator in label:
                label = label.split(separator, 1)[1]
                break
        out.setdefault(label.strip(), None)
    return tuple(out)


def relaxed_text(relaxed: "list[str] | tuple[str, ...]", zh: bool) -> str:
    """The first RELAXED_SHOWN things relaxed, joined ("…" when there are more)."""
    text = ("；" if zh else "; ").join(relaxed[:RELAXED_SHOWN])
    return text + ("…" if len(relaxed) > RELAXED_SHOWN else "")


def suggestions(profile: StoreProfile, count: int = 3) -> list[str]:
    """A few things the store sells, to suggest: its biggest category leaves."""
    leaves: dict[str, None] = {}
    for path in profile.categories:
        leaf = path.split(">")[-1].strip()
        if leaf:
            leaves.setdefault(leaf, None)
        if len(leaves) == count:
            break
    return list(leaves)


def clarifying_question(request: Request, profile: StoreProfile, vague: bool) -> str:
    """The question for a message with no recognisable need (or, `vague`, a need that names no product)."""
    examples = suggestions(profile)
    if request.language == "zh":
        if vague:
            return "想缩小范围的话：是给谁买的？预算大概多少？"
        return "没看懂您想找什么。请告诉我商品类型、给谁用、预算多少？" + (
            f"比如：{'、'.join(examples)}。" if examples else "")
    if vague:
        return "To narrow these down: who is it for, and what budget do you have in mind?"
    listed = ", ".join(examples[:-1]) + f" or {examples[-1]}" if len(examples) > 1 else "".join(examples)
    return ("I couldn't tell what you're looking for. What kind of product, who is it for, and is there a "
            "budget?" + (f" For example: {listed}." if listed else ""))


def understood(request: Request) -> str:
    """What the request asks for, in a few words ("waterproof jacket · kids · under $40")."""
    zh = request.language == "zh"
    parts = [request.need_original if zh and request.need_original else request.need]
    if request.audience:
        parts.append(AUDIENCES_ZH.get(request.audience, request.audience) if zh else request.audience)
    if request.colors:
        parts.append(("/".join(request.colors)))
    if request.sizes:
        parts.append(("尺码 " if zh else "size ") + "/".join(request.sizes))
    if request.age_years is not None:
        parts.append(f"{request.age_years}岁" if zh else f"age {request.age_years}")
    money = lambda v: format_amount(v, request.currency)  # noqa: E731
    if request.price_max is not None:
        parts.append(f"{money(request.price_max)}以内" if zh else f"under {money(request.price_max)}")
    if request.price_min is not None:
        parts.append(f"{money(request.price_min)}以上" if zh else f"over {money(request.price_min)}")
    for brand in request.exclude_brands:
        parts.append(f"不要{brand}" if zh else f"not {brand}")
    for color in request.exclude_colors:
        parts.append(f"不要{color}" if zh else f"not {color}")
    return " · ".join(p for p in parts if p)


def summary(rec: "Recommendation") -> str:
    """The chat line of an answer: the clarifying question, or what was understood and how it was met."""
    zh = rec.request.language == "zh"
    if rec.clarify and not rec.items:
        return rec.clarify
    asked = understood(rec.request)
    alternatives = len(rec.items) - rec.matched
    if zh:
        head = f"为您找到 {rec.matched} 件符合条件的商品" if rec.matched else "没有完全符合条件的商品"
        if alternatives:
            head += f"；另有 {alternatives} 件最接近的，已标出不符合之处" + (
                f"（{relaxed_text(relaxed_constraints(rec.relaxed), True)}）" if rec.relaxed else "")
        line = head + (f"（{asked}）" if asked else "") + "。"
    else:
        if rec.matched and not alternatives:
            line = f"Here are {rec.matched} picks" + (f" for {asked}" if asked else "") + "."
        elif rec.matched:
            line = (f"Only {rec.matched} product{'s match' if rec.matched > 1 else ' matches'} everything"
                    + (f" ({asked})" if asked else "") + f"; {alternatives} closest alternative"
                    f"{'s' if alternatives > 1 else ''} follow, each marked with what it does not meet"
                    + (f": {relaxed_text(relaxed_constraints(rec.relaxed), False)}." if rec.relaxed else "."))
        elif alternatives:
            line = ("No exact match" + (f" for {asked}" if asked else "") + ". The closest alternatives, each "
                    "marked with what it does not meet" + (
                        f": {relaxed_text(relaxed_constraints(rec.relaxed), False)}." if rec.relaxed else "."))
        else:
            line = "No exact match" + (f" for {asked}" if asked else "") + ", and nothing close enough to show."
    notes = list(rec.request.grounding)
    if notes:
        line += (" 注：" if zh else " Note: ") + "; ".join(notes) + ("。" if zh else ".")
    if rec.clarify:
        line += " " + rec.clarify
    return line
