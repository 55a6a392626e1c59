"""One-line reasons for shown products: an LLM sentence when it is grounded, else a template sentence.

`explain` asks the language model for one sentence per candidate (one batched `generate` call), then
`check_reason` rejects any sentence that states something the product data does not: a number that is not the
product's (price, sizes, rating, review count) or the request's (budget, age), a colour, brand, material or
audience the product does not have, another shown product's title, a link, instruction-like text, or the wrong
language. A rejected (or missing) sentence is replaced by `template_reason`, which is built only from the
product's own fields and the score breakdown and always passes the check.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

from assistant.ingest.catalog import Product
from assistant.understand.dialogue import Request
from assistant.llm.prompts import load_template, quote, quote_shopper
from assistant.llm.rerank import product_card
from assistant.rank.breakdown import ScoreBreakdown

MAX_WORDS = 40
ZH_OPENING = "这款"  # the start of the model's reply to a Chinese request (kept in the reason)
MAX_CJK_CHARS = 80
# The description is cut shorter for reasons than for the judge: prompt tokens are most of a reason's
# cost on 2 cores (5 products × ~150 tokens of prefill), and the other fields carry the facts.
REASON_DESCRIPTION_CHARS = 120
SMALL_NUMBERS = frozenset(range(0, 3))  # "0 fuss", "1 of our picks", "2 colours" are ordinals, not claims

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_LATIN_RE = re.compile("[A-Za-z]")
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?")
_URL_RE = re.compile(r"https?://|\bwww\.|\b[\w.+-]+@[\w-]+\.[\w.]+|\b[\w-]+\.(?:com|net|org|io|info|biz|example|cn|"
                     r"xyz|ru|co|ly|me)\b|\]\(|<a\s|href", re.IGNORECASE)
_INSTRUCTION_RE = re.compile(
    r"\bignor(?:e|es|ed|ing)\b|\binstructions?\b|\bsystem\b|\bprompts?\b|\bas an ai\b|\blanguage model\b|"
    r"\bdisregard|\bjailbreak|\bassistant\s*:|\buser\s*:|\banswer\s*:|<\|?im_(?:start|end)|\[/?inst\]|"
    r"忽略|指令|系统|提示词|无视", re.IGNORECASE)
_ECHO_RE = re.compile(r"shoppers?'?s?'? request\s*[:：«]|product data|the answer is|\bone sentence\b|^#|\*\*|请只|产品数据|购物者的请求",
                      re.IGNORECASE)
# A reason is about the product, never about the shopper's contact details (scrubbed to [email], [phone], …
# before the prompt, but a small model still echoed "邮箱" from "邮箱 [email]").
_CONTACT_RE = re.compile(r"\[(?:email|phone|card|id|address)\]|\be-?mail|\bphone number|\bcard number|"
                         r"\bhome address|\b(?:call|text|e-?mail|ring|reach|contact|message)\s+me\b|"
                         r"邮箱|邮件|电话号码|手机号|卡号|身份证|地址|联系我|打给我", re.IGNORECASE)
MIN_WORDS = 4
MIN_CJK_CHARS = 6
_YES_NO = {"yes", "no", "是", "否", "是的", "不是", "对", "不"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“(])|(?<=[。！？])")

# Materials a reason may name only when the product's own text names them (English roots; Chinese words map
# to the English root looked up in the product text).
MATERIALS_EN: dict[str, str] = {
    "wool": "wool", "woolen": "wool", "woollen": "wool", "merino": "merino", "cashmere": "cashmere",
    "leather": "leather", "suede": "suede", "cotton": "cotton", "silk": "silk", "plastic": "plastic",
    "steel": "steel", "aluminum": "alumin", "aluminium": "alumin", "bamboo": "bamboo", "polyester": "polyester",
    "nylon": "nylon", "fleece": "fleece", "denim": "denim", "linen": "linen", "rubber": "rubber",
    "glass": "glass", "wood": "wood", "wooden": "wood", "silicone": "silicone", "canvas": "canvas",
    "ceramic": "ceramic", "porcelain": "porcelain", "metal": "metal", "iron": "iron", "copper": "copper",
    "brass": "brass", "titanium": "titanium", "latex": "latex", "vinyl": "vinyl", "pvc": "pvc",
    "acrylic": "acrylic", "spandex": "spandex", "velvet": "velvet", "cardboard": "cardboard", "foam": "foam",
    "down": "down feather", "feather": "feather", "fur": "fur", "cork": "cork", "marble": "marble",
    "stone": "stone", "carbon fiber": "carbon", "carbon fibre": "carbon",
}
MATERIALS_ZH: dict[str, str] = {
    "羊毛": "wool", "羊绒": "cashmere", "毛料": "wool", "皮革": "leather", "真皮": "leather", "皮质": "leather",
    "人造革": "leather", "麂皮": "suede", "纯棉": "cotton", "全棉": "cotton", "棉": "cotton", "真丝": "silk",
    "丝绸": "silk", "蚕丝": "silk", "塑料": "plastic", "塑胶": "plastic", "不锈钢": "steel", "钢": "steel",
    "铝": "alumin", "竹": "bamboo", "涤纶": "polyester", "聚酯": "polyester", "尼龙": "nylon", "抓绒": "fleece",
    "摇粒绒": "fleece", "牛仔布": "denim", "丹宁": "denim", "亚麻": "linen", "橡胶": "rubber", "玻璃": "glass",
    "木质": "wood", "木制": "wood", "实木": "wood", "木头": "wood", "木材": "wood", "硅胶": "silicone",
    "帆布": "canvas", "陶瓷": "ceramic", "金属": "metal", "铁": "iron", "铜": "copper", "钛": "titanium",
    "乳胶": "latex", "羽绒": "down", "皮草": "fur", "纸板": "cardboard", "泡沫": "foam",
}
# Chinese characters that only look like a material inside these words (钢琴 piano, 铁路 railway ...).
_ZH_MATERIAL_FALSE = re.compile(r"钢琴|钢笔|铁路|地铁|铜锣|竹蜻蜓")

# Audience words -> audience group.
AUDIENCE_WORDS: dict[str, str] = {
    "kid": "kids", "kids": "kids", "kid's": "kids", "kids'": "kids", "child": "kids", "children": "kids",
    "children's": "kids", "childs": "kids", "boy": "kids", "boys": "kids", "girl": "kids", "girls": "kids",
    "youth": "kids", "teen": "kids", "teens": "kids", "teenager": "kids", "preschooler": "kids", "toddler": "kids", "toddlers": "kids", "son": "kids",
    "daughter": "kids", "grandson": "kids", "granddaughter": "kids", "女儿": "kids", "儿子": "kids",
    "baby": "baby", "babies": "baby", "baby's": "baby", "infant": "baby", "infants": "baby", "newborn": "baby",
    "newborns": "baby",
    "women": "women", "women's": "women", "woman": "women", "womens": "women", "ladies": "women",
    "lady": "women", "ladies'": "women",
    "men": "men", "men's": "men", "man": "men", "mens": "men", "gentlemen": "men", "gentleman": "men",
    "senior": "seniors", "seniors": "seniors", "elderly": "seniors", "older adults": "seniors",
    "retirees": "seniors", "pensioners": "seniors",
    "adult": "adults", "adults": "adults", "grown-ups": "adults",
    "儿童": "kids", "孩子": "kids", "小孩": "kids", "小朋友": "kids", "男孩": "kids", "女孩": "kids", "童装": "kids",
    "幼儿": "kids", "青少年": "kids",
    "婴儿": "baby", "宝宝": "baby", "新生儿": "baby", "婴幼儿": "baby",
    "女士": "women", "女性": "women", "女式": "women", "女款": "women", "女装": "women",
    "男士": "men", "男性": "men", "男式": "men", "男款": "men", "男装": "men",
    "老人": "seniors", "老年人": "seniors", "长辈": "seniors", "老年": "seniors", "长者": "seniors",
    "成人": "adults", "成年人": "adults",
}
# Which audience words fit a product's audience ("" = not stated).
AUDIENCE_ALLOWED: dict[str, frozenset[str]] = {
    "kids": frozenset({"kids"}),
    "baby": frozenset({"baby"}),  # "toddler" is a kids word: a baby product for a toddler needs its own text
    "women": frozenset({"women", "adults"}),
    "men": frozenset({"men", "adults"}),
    "seniors": frozenset({"seniors", "adults"}),
    "adults": frozenset({"adults", "men", "women", "seniors"}),
    "unisex": frozenset({"adults", "men", "women", "seniors"}),
    "": frozenset({"adults", "men", "women", "seniors"}),
}
# A product for everyone also fits the audience the shopper asked for (the ranker let it through).
_OPEN_AUDIENCES = {"unisex", "adults", ""}

COLOR_ZH = {"black": "黑色", "white": "白色", "navy": "藏青色", "blue": "蓝色", "red": "红色", "green": "绿色",
            "yellow": "黄色", "pink": "粉色", "purple": "紫色", "grey": "灰色", "beige": "米色", "brown": "棕色",
            "orange": "橙色", "teal": "青色"}
# Colours close enough that naming one for the other is not a false claim.
_COLOR_NEAR = {"navy": {"blue"}, "teal": {"blue", "green"}}
AUDIENCE_EN = {"kids": "kids'", "baby": "baby", "women": "women's", "men": "men's", "seniors": "seniors'"}
AUDIENCE_ZH = {"kids": "儿童", "baby": "婴儿", "women": "女士", "men": "男士", "seniors": "老人"}
CATEGORY_ZH = {
    "outerwear": "外套", "tops": "上衣", "shoes": "鞋", "bottoms": "裤装", "accessories": "配饰", "hiking": "徒步用品",
    "audio": "音频设备", "computers": "电脑产品", "clothing": "服装", "appliances": "家电", "phones": "手机产品",
    "gear": "装备", "strength": "力量训练器材", "camping": "露营用品", "tools": "工具", "puzzles & games": "益智游戏",
    "mobility aids": "助行用品", "outdoor play": "户外玩具", "building": "积木玩具", "bedding": "床上用品",
    "gaming": "游戏设备", "feeding": "喂养用品", "children's": "童书", "tablets": "平板电脑", "yoga": "瑜伽用品",
    "vision": "视力辅助用品", "large print": "大字版图书", "apparel": "运动服装", "wearables": "可穿戴设备",
    "cookware": "炊具", "fiction": "小说", "dresses": "连衣裙", "sleepwear": "睡衣", "watering": "浇水工具",
    "arts & crafts": "手工用品", "kids' dining": "儿童餐具", "educational": "益智玩具", "nursery": "婴儿房用品",
    "cycling": "骑行用品", "streetwear": "潮流服饰", "monitoring": "监护设备", "planters": "花盆",
    "bathroom safety": "浴室安全用品", "lighting": "灯具", "outdoor living": "户外家居用品", "kitchen aids": "厨房辅助用品",
    "comfort": "舒适用品", "storage": "收纳用品", "running": "跑步用品", "rain gear": "雨具", "nonfiction": "非虚构图书",
    "cardio": "有氧器材", "plush": "毛绒玩具", "footwear": "鞋", "wildlife": "野生动物用品", "baby": "婴儿用品",
    "cooking": "烹饪用品", "safety": "安全用品", "daily living": "生活辅助用品", "travel": "旅行用品", "bath": "沐浴用品",
    "kids' gardening": "儿童园艺用品", "planting": "种植用品", "picnic": "野餐用品", "hearing": "听力辅助用品",
    "balance": "平衡训练用品",
}
TAG_ZH = {
    "lightweight": "轻便", "durable": "耐用", "machine-washable": "可机洗", "waterproof": "防水", "breathable": "透气",
    "soft": "柔软", "non-slip": "防滑", "adjustable": "可调节", "wireless": "无线", "easy-grip": "易握",
    "water-resistant": "防泼水", "compact": "小巧", "stretch": "有弹性", "foldable": "可折叠", "insulated": "保暖",
    "hooded": "带兜帽", "rechargeable": "可充电", "educational": "寓教于乐", "easy-clean": "易清洁", "reflective": "反光",
    "long battery life": "续航长", "packable": "便于收纳", "cushioned": "有缓冲", "portable": "便携",
    "ergonomic": "符合人体工学", "easy-on": "易穿脱", "padded": "有衬垫", "stackable": "可叠放", "warm": "温暖",
    "hypoallergenic": "低致敏", "quick-dry": "速干", "weatherproof": "耐候", "eco-friendly": "环保",
    "easy-to-use": "简单易用", "leak-proof": "防漏", "noise-cancelling": "降噪", "wrinkle-resistant": "抗皱",
    "bpa-free": "不含BPA", "dishwasher-safe": "可用洗碗机清洗", "trendy": "时尚", "large-print": "大字印刷",
    "illustrated": "有插图",
}


@dataclass
class Reason:
    """Why one product is shown: the sentence, who wrote it, and what the grounding check said."""

    product_id: str
    text: str
    source: str  # "llm" or "template"
    check: str  # "passed", why the LLM sentence was rejected, or "llm unavailable: ..."


# ---------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class _Lexicon:
    colors: dict[str, str]  # colour word (lower) -> canonical colour
    color_ignore: tuple[str, ...]
    brands: tuple[str, ...]  # brand names as written


@functools.lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    colors: dict[str, str] = {}
    ignore: list[str] = []
    brands: list[str] = []
    for lang in ("en", "zh"):
        with resources.files("assistant.understand.vocab").joinpath(f"{lang}.toml").open("rb") as fh:
            data = tomllib.load(fh)
        colors.update({str(k).lower(): str(v).lower() for k, v in data.get("colors", {}).items()})
        ignore += [str(t).lower() for t in data.get("color_ignore", {}).get("terms", [])]
        table = data.get("brands", {})
        brands += [str(b) for b in table.get("catalog", []) + table.get("other", [])]
    for canonical in list(set(colors.values())):
        colors.setdefault(canonical, canonical)
    colors.update({zh: en for en, zh in COLOR_ZH.items()})
    return _Lexicon(colors, tuple(ignore), tuple(dict.fromkeys(brands)))


def _word_pattern(words: Sequence[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Longest-first alternation; Latin words need word boundaries, CJK words match anywhere."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?")
        parts.append(escaped if _CJK_RE.search(word) else rf"(?<![\w'])(?:{escaped})(?![\w])")
    return re.compile("|".join(parts) or "(?!)", flags)


@functools.lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    lex = _lexicon()
    return {
        "color": _word_pattern(list(lex.colors)),
        "material_en": _word_pattern(list(MATERIALS_EN)),
        "material_zh": _word_pattern(list(MATERIALS_ZH)),
        "audience": _word_pattern(list(AUDIENCE_WORDS)),
    }


# ---------------------------------------------------------------------------- grounding facts


def _own_text(product: Product) -> str:
    """Everything the product says about itself, lower-cased (a word found here is grounded)."""
    return " ".join([product.title, product.category, product.brand, product.color, product.audience,
                     " ".join(product.tags), product.description, product.size.replace("|", " ")]).lower()


_PRICE_CLAIM = re.compile(r"(?:价格(?:为|是)?|售价(?:为|是)?|只需|仅需|仅售|\bcosts?\b|\bpriced at\b|\bprice (?:is|of)\b|"
                          r"\bonly\b)\s*(?:US)?\$?\s*(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)", re.IGNORECASE)


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


def _is_cjk_heavy(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def _count_sentences(text: str) -> int:
    parts = [p for p in _SENTENCE_END.split(text.strip()) if p.strip(" .!?。！？")]
    return max(len(parts), 1)


def _distinctive_runs(title: str, own: str) -> list[str]:
    """The other product's title, and its three-word runs that the product's own text does not contain."""
    name = title.split(" - ")[0].strip().lower()
    runs = [title.lower(), name] if len(name) >= 6 else [title.lower()]
    words = re.findall(r"[\w'&]+", name)
    for i in range(len(words) - 2):
        run = " ".join(words[i:i + 3])
        if run not in own:
            runs.append(run)
    return [r for r in dict.fromkeys(runs) if r and r not in own]


# ---------------------------------------------------------------------------- the check


def check_reason(text: str, product: Product, request: Request, others: Sequence[Product] = ()) -> str | None:
    """None when `text` is a grounded one-line reason for `product`; else the first failure, in words."""
    stripped = (text or "").strip()
    if not stripped:
        return "empty text"
    lower = stripped.lower()
    if lower.strip(" .!?。！？,，\"'") in _YES_NO:
        return f"a bare answer {stripped!r}, not a reason"
    url = _URL_RE.search(stripped)
    if url:
        return f"contains a link or address ({url.group(0)!r})"
    instruction = _INSTRUCTION_RE.search(stripped)
    if instruction:
        return f"instruction-like text ({instruction.group(0)!r})"

    contact = _CONTACT_RE.search(stripped)
    if contact:
        return f"mentions contact details ({contact.group(0)!r})"
    echo = _ECHO_RE.search(stripped)
    if echo:
        return f"echoes the prompt ({echo.group(0)!r})"
    if stripped.endswith(("?", "？")):
        return "a question, not a reason"

    cjk = len(_CJK_RE.findall(stripped))
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

    own = _own_text(product)
    allowed = _allowed_numbers(product, request)
    for match in _NUMBER_RE.finditer(stripped):
        value = float(match.group(0).replace(",", ""))
        if not any(abs(value - a) < 0.005 for a in allowed):
            return f"number {match.group(0)} is not among the product's or the request's numbers"

    prices = {round(product.price, 2), float(math.ceil(product.price))}
    for match in _PRICE_CLAIM.finditer(stripped):  # "costs $40" must be this product's price, not the budget
        value = float(match.group(1).replace(",", ""))
        if not any(abs(value - p) < 0.005 for p in prices):
            return f"says the price is {match.group(1)} but it is {product.price:.2f}"
    lex = _lexicon()
    patterns = _patterns()
    product_color = product.color.lower()
    color_text = lower
    for phrase in lex.color_ignore:
        color_text = color_text.replace(phrase, " ")
    for match in patterns["color"].finditer(color_text):
        word = match.group(0)
        canonical = lex.colors.get(re.sub(r"[\s-]+", " ", word.lower()), lex.colors.get(word.lower()))
        if canonical is None or canonical == product_color or word.lower() in own:
            continue
        if canonical in _COLOR_NEAR.get(product_color, ()):
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
    zh_text = _ZH_MATERIAL_FALSE.sub(" ", stripped)
    for match in patterns["material_zh"].finditer(zh_text):
        word = match.group(0)
        if MATERIALS_ZH[word] not in own:
            return f"material {word!r} is not in the product's description"

    fits = set(AUDIENCE_ALLOWED.get(product.audience.lower(), AUDIENCE_ALLOWED[""]))
    fits.add(product.audience.lower())
    if product.audience.lower() in _OPEN_AUDIENCES and request.audience:
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
        if other.id == product.id:
            continue
        for run in _distinctive_runs(other.title, own):
            if run in lower:
                return f"mentions another product ({other.title!r})"
    return None


# ---------------------------------------------------------------------------- template reasons


_SAFE_PIECE = re.compile(r"^[\w' &,.-]+$")


def _safe(piece: str, product: Product, request: Request) -> bool:
    """A piece of product data fit to go into a template sentence (short, plain, no instruction or link)."""
    return bool(piece) and len(piece) <= 60 and bool(_SAFE_PIECE.match(piece)) and not _URL_RE.search(piece) \
        and not _INSTRUCTION_RE.search(piece) and piece.lower().strip() not in _YES_NO


def _noun_en(product: Product, request: Request) -> str:
    """'rain jacket'-like noun phrase from the title (brand and '- Colour' removed), else the category leaf."""
    name = product.title.split(" - ")[0].strip()
    if product.brand and name.lower().startswith(product.brand.lower() + " "):
        name = name[len(product.brand) + 1:]
    if _safe(name, product, request) and 1 <= len(name.split()) <= 7 and not name.lower().startswith("the "):
        if product.category_path and product.category_path[0].lower() == "books":
            return name  # a book's title keeps its capitals
        return " ".join(w if w[:2].isupper() else w.lower() for w in name.split())
    leaf = product.category_path[-1] if product.category_path else ""
    return leaf.lower() if _safe(leaf, product, request) else "product"


def _price(value: float) -> str:
    return f"${value:,.2f}" if value != int(value) else f"${int(value):,}"


def _terms(breakdown: ScoreBreakdown | None) -> dict[str, float]:
    return breakdown.term_contributions() if breakdown is not None else {}


def _age_size(product: Product, request: Request) -> str | None:
    from assistant.rank.attributes import fits_age
    if request.age_years is None:
        return None
    return next((s for s in product.sizes if fits_age(s, request.age_years)), None)


def template_reason(product: Product, request: Request, breakdown: ScoreBreakdown | None = None,
                    language: str = "en") -> str:
    """A short sentence built only from the product's fields and the score breakdown; always grounded."""
    text = _template_zh(product, request, breakdown) if language == "zh" else _template_en(product, request, breakdown)
    probe = dataclasses.replace(request, language="zh" if language == "zh" else "en")
    if check_reason(text, product, probe) is None:
        return text
    return (f"这款商品售价{_price(product.price)}。" if language == "zh" else
            f"This product costs {_price(product.price)}.")


def _clauses(product: Product, request: Request, breakdown: ScoreBreakdown | None) -> list[tuple[float, str, str]]:
    """(importance, kind, detail) of what is worth saying, most important first."""
    terms = _terms(breakdown)
    found: list[tuple[float, str, str]] = []
    if request.price_max is not None and product.price <= request.price_max:
        found.append((terms.get("price_fit", 0.5) + 0.5, "budget", _price(request.price_max)))
    elif request.price_target is not None:
        found.append((terms.get("price_fit", 0.3) + 0.3, "target", _price(request.price_target)))
    elif request.cheap:
        found.append((terms.get("price_fit", 0.3) + 0.2, "cheap", ""))
    wanted_sizes = {s.upper() for s in request.sizes}
    size = next((s for s in product.sizes if s.upper() in wanted_sizes), None)
    if size and _safe(size, product, request):
        found.append((terms.get("size_match", 0.5) + 0.4, "size", size))
    elif (age_size := _age_size(product, request)) and _safe(age_size, product, request):
        found.append((terms.get("size_match", 0.5) + 0.4, "age_size", age_size))
    tags = [t for t in product.tags if _safe(t, product, request)]
    tags.sort(key=lambda t: bool(_patterns()["material_en"].search(t)))  # features before materials
    if tags:
        found.append((terms.get("valued_tags", 0.1) + 0.15, "tags", "|".join(tags[:2])))
    if product.rating is not None and product.rating >= 4.0 and product.rating_count >= 5:
        found.append((terms.get("rating", 0.2) + 0.1, "rating", ""))
    found.sort(key=lambda c: -c[0])
    return found[:3]


def _template_en(product: Product, request: Request, breakdown: ScoreBreakdown | None) -> str:
    noun = _noun_en(product, request)
    audience = AUDIENCE_EN.get(product.audience, "")
    if audience and not _patterns()["audience"].search(noun):
        noun = f"{audience} {noun}"
    color = product.color.lower() if _safe(product.color, product, request) else ""
    asked_color = color and color in {c.lower() for c in request.colors}
    head = noun[0].upper() + noun[1:]
    if product.brand and _safe(product.brand, product, request) and product.brand.lower() not in noun.lower():
        head = f"{head} from {product.brand}"
    if color:
        head += f" in the {color} you asked for" if asked_color else f" in {color}"
    head += f" for {_price(product.price)}"
    parts = []
    for _, kind, detail in _clauses(product, request, breakdown):
        if kind == "budget":
            parts.append(f"within your {detail} budget")
        elif kind == "target":
            parts.append(f"close to your {detail} target")
        elif kind == "cheap":
            parts.append("one of the lower-priced choices")
        elif kind == "size":
            parts.append(f"available in size {detail}")
        elif kind == "age_size":
            parts.append(f"with a {detail} size for your {request.age_years}-year-old")
        elif kind == "tags":
            parts.append(" and ".join(detail.split("|")))
        elif kind == "rating":
            parts.append(f"rated {product.rating:.1f} by {product.rating_count:,} shoppers")
    return head + (" — " + ", ".join(parts) if parts else "") + "."


def _template_zh(product: Product, request: Request, breakdown: ScoreBreakdown | None) -> str:
    leaf = (product.category_path[-1] if product.category_path else "").lower()
    noun = CATEGORY_ZH.get(leaf, "商品")
    color = COLOR_ZH.get(product.color.lower(), "")
    audience = AUDIENCE_ZH.get(product.audience, "")
    if noun.startswith(audience):
        audience = ""
    brand = product.brand if product.brand and _safe(product.brand, product, request) else ""
    head = f"这款{brand + ' ' if brand else ''}{color}{audience}{noun}售价{_price(product.price)}"
    parts = []
    for _, kind, detail in _clauses(product, request, breakdown):
        if kind == "budget":
            parts.append(f"在您的{detail.lstrip('$')}美元预算内")
        elif kind == "target":
            parts.append(f"接近您期望的{detail.lstrip('$')}美元")
        elif kind == "cheap":
            parts.append("价格实惠")
        elif kind == "size":
            parts.append(f"有{detail}码")
        elif kind == "age_size":
            parts.append(f"有适合{request.age_years}岁孩子的{detail}码")
        elif kind == "tags":
            words = [TAG_ZH[t.lower()] for t in detail.split("|") if t.lower() in TAG_ZH]
            if words:
                parts.append("、".join(words))
        elif kind == "rating":
            parts.append(f"评分{product.rating:.1f}（{product.rating_count}条评价）")
    if color and product.color.lower() in {c.lower() for c in request.colors}:
        parts.insert(0, "正是您要的颜色")
    return head + ("，" + "，".join(parts) if parts else "") + "。"


# ---------------------------------------------------------------------------- LLM reasons


def reason_prompts(lm, request: Request, products: Sequence[Product]) -> list[str]:
    """One chat prompt per product from prompts/reason.txt."""
    template = load_template("reason")
    instruction = "请只用简体中文回答。" if request.language == "zh" else "Answer in English."
    shared = {"language_instruction": instruction, "request": quote_shopper(request.text or request.need, 400)}

    def render(section: str, **values: str) -> str:
        # Each section takes the variables it names (a missing one still raises PromptError).
        wanted = template.variables(section)
        return template.render(section, **{k: v for k, v in {**shared, **values}.items() if k in wanted})

    system = render("system")
    # A small model answers a Chinese request in English unless its reply already starts in Chinese.
    opening = ZH_OPENING if request.language == "zh" else ""
    return [lm.chat_prompt(system, render("user", product=product_card(p, REASON_DESCRIPTION_CHARS))) + opening for p in products]


def shared_prefix(prompts: Sequence[str]) -> str:
    """The longest common start of the prompts, cut after the last line break inside it (so no token is
    split between the shared part and a row's own part)."""
    if len(prompts) < 2:
        return ""
    common = os.path.commonprefix(list(prompts))
    return common[: common.rfind("\n") + 1]


def clean_generation(text: str) -> str:
    """The first sentence of a generation: quotes and whitespace stripped, cut at the first line break."""
    text = (text or "").strip().strip("\"'“”‘’«»「」").strip()
    text = text.split("\n", 1)[0].strip()
    parts = [p for p in _SENTENCE_END.split(text) if p.strip()]
    first = parts[0].strip() if parts else ""
    return speak_to_shopper(first.strip("\"'“”‘’«»「」").strip())


_THIRD_PERSON = [(re.compile(p, re.IGNORECASE), r) for p, r in (
    (r"\bthe shoppers?'s? (request|needs?|requirements?)\b", r"your \1"),
    (r"\bthe shoppers?'s\b", "your"), (r"\bthe shopper\b", "you"),
    (r"购物者的(请求|需求|要求)", r"您的\1"), (r"购物者", "您"),
)]


def speak_to_shopper(text: str) -> str:
    """Small models write "suits the shopper's request": say "your request" to the shopper instead."""
    for pattern, replacement in _THIRD_PERSON:
        text = pattern.sub(replacement, text)
    return text


def explain(lm, request: Request, candidates: Sequence, max_new_tokens: int = 40) -> list[Reason]:
    """A reason per candidate (`hybrid.Candidate`): the LLM's when grounded, else the template's. Never raises
    because of the model: a missing or failing model gives template reasons for all."""
    candidates = list(candidates)
    language = "zh" if request.language == "zh" else "en"
    products = [c.product for c in candidates]

    def fallback(candidate, check: str) -> Reason:
        return Reason(candidate.product.id, template_reason(candidate.product, request, candidate.breakdown,
                                                           language), "template", check)

    if not candidates:
        return []
    if lm is None:
        return [fallback(c, "llm unavailable: no language model") for c in candidates]
    try:
        prompts = reason_prompts(lm, request, products)
        prefix = shared_prefix(prompts)  # instructions and request: encoded once for every product
        outputs = lm.generate([p[len(prefix):] for p in prompts], max_new_tokens, prefix=prefix)
        if len(outputs) != len(candidates):
            raise RuntimeError(f"generate returned {len(outputs)} texts for {len(candidates)} prompts")
    except Exception as err:  # noqa: BLE001 — any model failure means template reasons, never an error
        return [fallback(c, f"llm unavailable: {type(err).__name__}: {err}") for c in candidates]
    reasons = []
    opening = ZH_OPENING if language == "zh" else ""
    for candidate, raw in zip(candidates, outputs):
        text = clean_generation(opening + raw) if raw.strip() else ""
        others = [p for p in products if p.id != candidate.product.id]
        failure = check_reason(text, candidate.product, request, others)
        if failure is None:
            reasons.append(Reason(candidate.product.id, text, "llm", "passed"))
        else:
            reasons.append(fallback(candidate, failure))
    return reasons
