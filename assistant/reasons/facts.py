"""The facts a reason may use: what of this product matched this request, worded once for the prompt.

`matched_facts` picks, from the product's own fields and the ranking's score breakdown, what a shop
assistant would say: the product's name and type as the catalog has them, the price against a stated
budget, the colour and size asked for (or the size for the child's age), the features the request named
first, the rating, and what similar shoppers bought. The LLM is asked to write from these facts only,
instead of from the whole product card (which it echoed, cut and embellished).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from assistant.ingest.catalog import Product
from assistant.llm.prompts import quote
from assistant.rank.breakdown import ScoreBreakdown
from assistant.reasons.money import budget_stated
from assistant.reasons.lexicon import COLOR_ZH
from assistant.core.text import has_cjk
from assistant.reasons.templates import (AUDIENCE_ZH, CATEGORY_ZH, TAG_ZH, _age_size, _money, _noun_en, grocery_name,
                                         pack_size)
from assistant.understand import Request, load_vocabulary
from assistant.understand.store import StoreProfile


@dataclass(frozen=True)
class Fact:
    """One fact: its kind ("name", "price", "feature", ...) and its words, ready for a prompt."""

    kind: str
    text: str


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


@functools.lru_cache(maxsize=1)
def _zh_words() -> dict[str, str]:
    """English type word -> its first Chinese word in the parser's glossary ("jacket" -> "外套")."""
    out: dict[str, str] = {}
    for zh, en in load_vocabulary(("en", "zh")).gloss.items():
        if has_cjk(zh) and en:
            out.setdefault(en.lower(), zh)
    return out


def zh_name(product: Product, request: Request) -> str:
    """The product's type in Chinese for a Chinese reason: the glossary's word for the title's last words
    ("Kids' Rain Jacket" -> 雨衣 or 外套), else the shopper's own Chinese word for a need the title holds, else
    the category's, else the English name."""
    words = re.findall(r"[a-z]+", product.title.split(" - ")[0].lower())
    table = _zh_words()
    for size in (3, 2, 1):
        for end in range(len(words), size - 1, -1):
            phrase = " ".join(words[end - size:end])
            for key in (phrase, phrase.rstrip("s"), phrase + "s"):
                if key in table:
                    return table[key]
    # The shopper's own word for what they asked (冷冻披萨 for "Frozen Pizza — Pizza/Economy", never "这款frozen
    # pizza"), when the title holds the need's English reading: its one word, or two of its senses' words
    # ("chicken", "breast" of "fowl chicken breast meat" for 鸡胸肉; a Cornish hen under "Fowl" holds one).
    need_words = {w.rstrip("s") for w in re.findall(r"[a-z]+", request.need.lower()) if len(w) > 2}
    held = len(need_words & {w.rstrip("s") for w in words})
    own = request.need_original
    if need_words and held >= min(2, len(need_words)) and own and len(own) <= 8 and re.fullmatch(r"[\u4e00-\u9fff]+", own):
        return own
    leaf = (product.category_path[-1] if product.category_path else "").lower()
    return CATEGORY_ZH.get(leaf) or _noun_en(product, request)


def _name_en(product: Product, request: Request) -> str:
    """The product's own name: "peanut butter" from "Pnt Btr/Jelly/Jams — Peanut Butter, 18 oz" (a grocery
    title names its category first), else the template's noun."""
    name = grocery_name(product.title)
    return name.lower() if name else _noun_en(product, request)


def matched_facts(product: Product, request: Request, breakdown: ScoreBreakdown | None = None,
                  store: StoreProfile | None = None) -> list[Fact]:
    """The facts of `product` worth saying for `request`, most relevant first (at most eight). For a Chinese
    request the type, colour, features and audience are given in Chinese where the glossary has them (given
    English, the model wrote half-English sentences: "这款雨 jacket"). In English, a brand much of the `store`
    shares ("National" on most of a grocery's lines) is left out unless the shopper named it: it tells
    nothing, and given it the model wrote "made from chocolate, which is a national brand". (A Chinese
    reason keeps it: without it the model wrote "这款饼干是饼干。", with it "这款薯片是National品牌，价格1.67美元".)"""
    zh = request.language == "zh"
    facts = [Fact("name", f"«{quote(zh_name(product, request) if zh else _name_en(product, request), 80)}»")]
    shared = (store is not None and not zh and store.is_common("brand", product.brand)
              and product.brand.lower() not in {b.lower() for b in request.brands})
    if product.brand and not shared:
        facts.append(Fact("brand", f"«{quote(product.brand, 40)}»"))
    price = _money(product.price, request.currency, "zh" if zh else "en")
    if request.price_max is not None and product.price <= request.price_max and budget_stated(request):
        budget = _money(request.price_max, request.currency, "zh" if zh else "en")
        facts.append(Fact("price", f"{price}，在您{budget}的预算内" if zh else f"{price}, within the shopper's {budget} budget"))
    else:
        facts.append(Fact("price", price))
    if pack := pack_size(product):
        facts.append(Fact("pack size", f"«{quote(pack, 30)}»"))
    wanted = _words(" ".join([request.text, request.need]))
    matched = [t for t in product.tags if _words(t) & wanted]
    # A tag that only repeats the brand ("national brand" for National) made the model say it twice.
    brand = _words(product.brand)
    others = [t for t in product.tags if t not in matched and not (brand and brand & _words(t))]
    if zh:  # only the features the glossary can say in Chinese
        matched = [TAG_ZH[t.lower()] for t in matched if t.lower() in TAG_ZH]
        others = [TAG_ZH[t.lower()] for t in others if t.lower() in TAG_ZH]
    if matched:
        facts.append(Fact("features the shopper asked for", f"«{quote(', '.join(matched[:3]), 100)}»"))
    if others:
        facts.append(Fact("other features", f"«{quote(', '.join(others[:2]), 80)}»"))
    if product.color:
        asked = product.color.lower() in (set(request.color_values) or {c.lower() for c in request.colors})
        colour = (COLOR_ZH.get(product.color.lower(), product.color) if zh else product.color.lower())
        facts.append(Fact("colour", f"«{quote(colour, 30)}»" + (" (the colour the shopper asked for)" if asked else "")))
    wanted_sizes = {s.upper() for s in request.sizes}
    size = next((s for s in product.sizes if s.upper() in wanted_sizes), None)
    if size:
        facts.append(Fact("size", f"«{quote(size, 20)}» (the size the shopper asked for)"))
    elif (age_size := _age_size(product, request)) is not None:
        facts.append(Fact("size", f"«{quote(age_size, 20)}» fits a {request.age_years}-year-old" if not zh else
                          f"«{quote(age_size, 20)}»码适合{request.age_years}岁"))
    if product.audience and product.audience not in ("unisex", "adults"):
        audience = AUDIENCE_ZH.get(product.audience, product.audience) if zh else product.audience
        facts.append(Fact("for", f"«{quote(audience, 20)}»"))
    if product.rating is not None and product.rating_count >= 5:
        facts.append(Fact("rating", f"评分{product.rating:.1f}（{product.rating_count}条评价）" if zh else
                          f"{product.rating:.1f} of 5 from {product.rating_count} reviews"))
    if breakdown is not None and breakdown.cf_evidence:
        facts.append(Fact("similar shoppers", f"«{quote(breakdown.cf_evidence, 100)}»"))
    return facts[:8]


def facts_text(facts: list[Fact]) -> str:
    """The facts as one prompt line: "name «rain jacket»; price $24.99, within ...; ..."."""
    return "; ".join(f"{f.kind}: {f.text}" for f in facts)


# The words an English reason may use besides its facts and the product's name: what a shop assistant needs
# to join facts into a sentence. Decoding is held to these (`reason_vocabulary`), so a model that has little
# to say cannot fill the gap with praise ("well-established", "rich in nutrients") no word list foresaw.
# Not "which", "that", "product", "choice", "offers", "made", "cost", "-" or colour and rating words: held
# rows have no colour or rating, and with them the model padded its sentence ("a store brand, which is a
# product that is a choice", "made from chocolate", "a tropical color", "it is a cost- and- size").
JOINING_WORDS = """the this these it its it's they them their is are a an good pick because of for from with and
or in at by to as on costs priced price within your budget comes come pack packs size sizes similar shoppers
bought also who fits fit brand has have year old years kids 's . , ' $ ( ) / & %""".split()


# Facts that give a small model something of the product's own to say. Without any (a grocery line: a name,
# a brand type, a price, a pack size) it filled the gap with praise; with them, holding it to a vocabulary
# only garbled good sentences ("non-slip" came out as "a non-5"), so those rows decode freely. Who a product
# is for ("kids" on a cereal) and a tag much of the store shares ("store brand") are no such fact: with them
# alone the model still wrote "known to be high in fiber" and "a high-volume, affordable product".
TELLING_FACTS = ("features the shopper asked for", "other features", "colour", "size", "rating")
_FEATURE_FACTS = ("features the shopper asked for", "other features")


def _tells(fact: Fact, product: Product, store: StoreProfile | None) -> bool:
    if fact.kind not in TELLING_FACTS:
        return False
    if fact.kind not in _FEATURE_FACTS or store is None:
        return True
    told = fact.text.lower()
    return any(not store.is_common("tag", tag) and (tag.lower() in told or TAG_ZH.get(tag.lower(), "\0") in told)
               for tag in product.tags)


# The same for a Chinese reason: what joins a name, a price, a budget, a brand and a pack size into a sentence.
JOINING_WORDS_ZH = """这款 这 款 是 的 一款 售价 价格 仅 只要 只需 在 您 你 预算 以内 之内 内 符合 适合 品牌 包装
规格 装 为 和 与 也 且 美元 元 购买 选择 顾客 买过 常买 同类 购物者 大包装 小包装 份 。 ， 、 ：""".split()


def reason_vocabulary(facts: list[Fact], product: Product, language: str = "en",
                      store: StoreProfile | None = None) -> list[str] | None:
    """The words a reason for `product` may be written in when its facts say little of it (none of
    TELLING_FACTS, or only tags the `store` says much of it shares): the facts' words and numbers, the
    product's title, brand and tags, and JOINING_WORDS (JOINING_WORDS_ZH, and each Chinese character and pair
    of the facts, for a Chinese reason). None (decode freely) when they say enough."""
    if any(_tells(f, product, store) for f in facts):
        return None
    # The facts' words, not their labels: allowed "name", the model called products "a name".
    told = " ".join(f.text for f in facts)
    if language == "zh":  # the facts' own words only: the title's English ("pack", "fruit") made mixed sentences
        runs = re.findall(r"[\u4e00-\u9fff]+", told)
        pieces = {run[i:i + n] for run in runs for n in (1, 2) for i in range(len(run) - n + 1)}
        words = set(re.findall(r"[A-Za-z]+|\d+|[^\sA-Za-z\d\u4e00-\u9fff]", told))
        return sorted(set(JOINING_WORDS_ZH) | words | set(runs) | pieces)
    text = " ".join([told, product.title, product.brand, " ".join(product.tags)])
    return sorted(set(JOINING_WORDS) | set(re.findall(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]", text)))
