"""The grounding check: `check_reason` rejects a sentence that states what the product data does not.

A number that is not the product's (price, sizes, rating, review count) or the request's (budget, age), a
colour, brand, material or audience the product does not have, another shown product's title, a link,
instruction-like text, contact details, an echo of the prompt, or the wrong language.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

from assistant.core.text import count_cjk
from assistant.ingest.catalog import Product
from assistant.reasons.claims import (calls_it_a_brand, calls_it_an_age, echoes, misspelt_brand, mixed_language,
                                      names_no_fact, own_text, unfounded_feature, wrong_age, wrong_gender,
                                      wrong_size, wrong_type)
from assistant.reasons.money import wrong_money
from assistant.reasons.lexicon import (AUDIENCE_ALLOWED, AUDIENCE_WORDS, COLOR_NEAR, MATERIALS_EN, MATERIALS_ZH,
                                       OPEN_AUDIENCES, ZH_MATERIAL_FALSE, lexicon, word_patterns)
from assistant.reasons.wording import cut_off, misspelt_word, only_its_name, repeats
from assistant.understand import Request
from assistant.understand.store import StoreProfile

MAX_WORDS = 40
MAX_CJK_CHARS = 80
MIN_WORDS = 4
MIN_CJK_CHARS = 6
SMALL_NUMBERS = frozenset(range(0, 3))  # "0 fuss", "1 of our picks", "2 colours" are ordinals, not claims

_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?")
URL_RE = re.compile(r"https?://|\bwww\.|\b[\w.+-]+@[\w-]+\.[\w.]+|\b[\w-]+\.(?:com|net|org|io|info|biz|example|cn|"
                     r"xyz|ru|co|ly|me)\b|\]\(|<a\s|href", re.IGNORECASE)
INSTRUCTION_RE = re.compile(
    r"\bignor(?:e|es|ed|ing)\b|\binstructions?\b|\bsystem\b|\bprompts?\b|\bas an ai\b|\blanguage model\b|"
    r"\bdisregard|\bjailbreak|\bassistant\s*:|\buser\s*:|\banswer\s*:|<\|?im_(?:start|end)|\[/?inst\]|"
    r"忽略|指令|系统|提示词|无视", re.IGNORECASE)
_ECHO_RE = re.compile(r"\b(?:product|name|brand|price|pack size|other features|features)\s*:\s|(?:名称|品牌|价格|包装规格|其他特点)[:：]|\b(?:a )?name, brand\b|\bbrand, price\b|\bprice, pack size\b|\blisted facts\b|\bthe facts\b|\bproduct facts\b|shoppers?'?s?'? (?:request|wants|wrote)\s*[:：«]|\byou wants?\s*[:：]|product data|the answer is|\bone sentence\b|^#|\*\*|请只|产品数据|购物者的请求",
                      re.IGNORECASE)
# A reason is about the product, never about the shopper's contact details (scrubbed to [email], [phone], …
# before the prompt, but a small model still echoed "邮箱" from "邮箱 [email]").
_CONTACT_RE = re.compile(r"\[(?:email|phone|card|id|address)\]|\be-?mail|\bphone number|\bcard number|"
                         r"\bhome address|\b(?:call|text|e-?mail|ring|reach|contact|message)\s+me\b|"
                         r"邮箱|邮件|电话号码|手机号|卡号|身份证|地址|联系我|打给我", re.IGNORECASE)
_FORBIDDEN = ((URL_RE, "contains a link or address"), (INSTRUCTION_RE, "instruction-like text"),
              (_CONTACT_RE, "mentions contact details"), (_ECHO_RE, "echoes the prompt"))
YES_NO = {"yes", "no", "是", "否", "是的", "不是", "对", "不"}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“(])|(?<=[。！？])")


_RATING_CLAIM = re.compile(r"(?:\brat(?:ing|ed)(?: of| at)?|评分(?:为|是)?|评价(?:为|是)?)\s*(\d+(?:\.\d+)?)(?![\d%])",
                           re.IGNORECASE)
_PRICE_CLAIM = re.compile(r"(?:价格(?:为|是)?|售价(?:为|是)?|只需|仅需|仅售|\bcosts?\b|\bpriced at\b|\bprice (?:is|of)\b|"
                          r"\bonly\b)\s*(?:US)?\$?\s*(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)", re.IGNORECASE)


# "价格在100美元" (the price is $100) is a price claim; "价格在100美元以内" (within $100) speaks of the budget.
_PRICE_AT = re.compile(r"价格在\s*(?:US)?\$?\s*(\d+(?:\.\d+)?)([^\d，。,;；]{0,4})")
_WITHIN = ("以内", "以下", "之内", "内", "左右")


def _numbers_in(text: str) -> set[float]:
    return {float(m.replace(",", "")) for m in _NUMBER_RE.findall(text)}


def _allowed_numbers(product: Product, request: Request) -> set[float]:
    allowed = set(float(n) for n in SMALL_NUMBERS)
    # The price as written or rounded up ("under $25" for $24.99), never rounded down; budgets as given.
    allowed |= {round(product.price, 2), float(math.ceil(product.price))}
    for value in (request.price_max, request.price_min, request.price_target):
        if value is not None:
            allowed |= {round(value, 2), float(round(value))}
    if product.rating is not None:
        allowed |= {round(product.rating, 1), round(product.rating, 2), 5.0, float(round(product.rating))}
        allowed.add(float(product.rating_count))
    if request.age_years is not None:
        allowed.add(float(request.age_years))
    allowed |= _numbers_in(product.size.replace("|", " ").replace("-", " "))
    allowed |= _numbers_in(product.title + " " + product.description + " " + " ".join(product.tags))
    allowed |= _numbers_in(" ".join(request.sizes).replace("-", " "))
    allowed |= _numbers_in(request.text)
    return allowed


def _count_sentences(text: str) -> int:
    parts = [p for p in SENTENCE_END.split(text.strip()) if p.strip(" .!?。！？")]
    return max(len(parts), 1)


def _distinctive_runs(title: str, own: str) -> list[str]:
    """The other product's title, and its three-word runs that the product's own text does not contain
    (its words compared without punctuation: "coffee w s" is this product's own "Coffee W/ S")."""
    name = title.split(" - ")[0].strip().lower()
    runs = [title.lower(), name] if len(name) >= 6 else [title.lower()]
    words = re.findall(r"[\w'&]+", name)
    own_words = " ".join(re.findall(r"[\w'&]+", own))
    runs += [" ".join(words[i:i + 3]) for i in range(len(words) - 2)]
    return [r for r in dict.fromkeys(runs) if r and r not in own and r not in own_words]



def check_reason(text: str, product: Product, request: Request, others: Sequence[Product] = (),
                 store: StoreProfile | None = None) -> str | None:
    """None when `text` is a grounded one-line reason for `product`; else the first failure, in words."""
    stripped = (text or "").strip()
    if not stripped:
        return "empty text"
    lower = stripped.lower()
    if lower.strip(" .!?。！？,，\"'") in YES_NO:
        return f"a bare answer {stripped!r}, not a reason"
    for pattern, what in _FORBIDDEN:
        found = pattern.search(stripped)
        if found:
            return f"{what} ({found.group(0)!r})"
    if stripped.endswith(("?", "？")):
        return "a question, not a reason"

    cjk = count_cjk(stripped)
    latin_words = re.findall(r"[A-Za-z][A-Za-z'-]*", stripped)
    if re.search("[\u3040-\u30ff\uac00-\ud7af]", stripped):  # kana or hangul: Japanese or Korean
        return "wrong language: Japanese or Korean script"
    if request.language == "zh":
        if cjk == 0:
            return "wrong language: a Chinese request needs a Chinese sentence"
        if len(latin_words) > cjk:
            return "wrong language: mostly Latin text for a Chinese request"
    else:
        if cjk > 0 and cjk >= len(latin_words):
            return "wrong language: an English request needs an English sentence"
    if (cjk < MIN_CJK_CHARS) if request.language == "zh" else (len(latin_words) < MIN_WORDS):
        return "too short to be a reason"
    if cjk > MAX_CJK_CHARS:
        return f"too long: {cjk} Chinese characters (at most {MAX_CJK_CHARS})"
    words = len(latin_words) + len(re.findall(r"\d+(?:[.,]\d+)*", stripped))
    if words > MAX_WORDS:
        return f"too long: {words} words (at most {MAX_WORDS})"
    if _count_sentences(stripped) > 1:
        return "more than one sentence"

    own = own_text(product)
    allowed = _allowed_numbers(product, request)
    for match in _NUMBER_RE.finditer(stripped):
        value = float(match.group(0).replace(",", ""))
        if not any(abs(value - a) < 0.005 for a in allowed):
            return f"number {match.group(0)} is not among the product's or the request's numbers"

    prices = {round(product.price, 2), float(math.ceil(product.price))}
    claims = list(_PRICE_CLAIM.finditer(stripped))
    claims += [m for m in _PRICE_AT.finditer(stripped) if not any(w in m.group(2) for w in _WITHIN)]
    for match in claims:  # "costs $40" must be this product's price, not the budget
        value = float(match.group(1).replace(",", ""))
        if not any(abs(value - p) < 0.005 for p in prices):
            return f"says the price is {match.group(1)} but it is {product.price:.2f}"
    for match in _RATING_CLAIM.finditer(stripped):  # "a rating of 4." for a product rated 4.3
        value = float(match.group(1))
        if product.rating is None or abs(value - round(product.rating, 1)) > 0.05:
            return f"says the rating is {match.group(1)} but it is {product.rating if product.rating is not None else 'none'}"
    lex = lexicon()
    patterns = word_patterns()
    product_color = product.color.lower()
    color_text = lower
    for phrase in lex.color_ignore:
        color_text = color_text.replace(phrase, " ")
    for match in patterns["color"].finditer(color_text):
        word = match.group(0)
        canonical = lex.colors.get(re.sub(r"[\s-]+", " ", word.lower()), lex.colors.get(word.lower()))
        if canonical is None or canonical == product_color or word.lower() in own:
            continue
        if canonical in COLOR_NEAR.get(product_color, ()):
            continue
        return f"colour {word!r} is not the product's colour ({product.color or 'none'})"

    brands = list(lex.brands) + [o.brand for o in others if o.brand]
    for brand in dict.fromkeys(brands):
        if not brand or brand.lower() == product.brand.lower() or brand.lower() in own:
            continue
        variants = {brand, brand.replace("&", "and"), brand.replace(" & ", "&")}
        if any(re.search(rf"(?<![\w]){re.escape(v)}(?![\w])", stripped) for v in variants):
            return f"brand {brand!r} is not the product's brand ({product.brand or 'none'})"

    for match in patterns["material_en"].finditer(lower):
        word = match.group(0).lower()
        root = MATERIALS_EN.get(re.sub(r"[\s-]+", " ", word), word)
        if root not in own and word not in own:
            return f"material {word!r} is not in the product's description"
    zh_text = ZH_MATERIAL_FALSE.sub(" ", stripped)
    for match in patterns["material_zh"].finditer(zh_text):
        word = match.group(0)
        if MATERIALS_ZH[word] not in own:
            return f"material {word!r} is not in the product's description"

    fits = set(AUDIENCE_ALLOWED.get(product.audience.lower(), AUDIENCE_ALLOWED[""]))
    fits.add(product.audience.lower())
    if product.audience.lower() in OPEN_AUDIENCES and request.audience:
        fits.add(request.audience)
    for match in patterns["audience"].finditer(lower):
        word = match.group(0).lower()
        group = AUDIENCE_WORDS.get(re.sub(r"[\s-]+", " ", word), AUDIENCE_WORDS.get(word))
        if group is None or group in fits or re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", own):
            continue
        if word in request.text.lower():  # the shopper's own word for who it is for ("宝宝" for a 3-year-old)
            continue
        return f"audience {match.group(0)!r} does not fit the product's audience ({product.audience or 'none'})"

    for other in others:
        if other.id == product.id or other.title.lower() == product.title.lower():
            continue  # the same name twice in a store (five "Kids Cereal, 32 oz") is not another product
        for run in _distinctive_runs(other.title, own):
            if run in lower:
                return f"mentions another product ({other.title!r})"
    for failure in (cut_off(stripped), repeats(stripped, product), echoes(stripped, product, request),
                    mixed_language(stripped, product, request),
                    wrong_money(stripped, product, request, store), unfounded_feature(stripped, product),
                    wrong_gender(stripped, product), wrong_size(stripped, product), wrong_age(stripped, product, request),
                    misspelt_brand(stripped, product, store), misspelt_word(stripped, product),
                    wrong_type(stripped, product, store),
                    calls_it_a_brand(stripped, product), calls_it_an_age(stripped), only_its_name(stripped, product),
                    names_no_fact(stripped, product, store, request)):
        if failure is not None:
            return failure
    return None
