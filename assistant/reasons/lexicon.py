"""The words a reason may name only when the product has them: colours, brands, materials, audiences.

Colours and brands come from the parser's vocabulary (`assistant/understand/vocab/`); materials and audience
words are listed here. `word_patterns` compiles them once.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Sequence

from assistant.core.text import has_cjk
from assistant.understand import load_vocabulary


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
ZH_MATERIAL_FALSE = re.compile(r"钢琴|钢笔|铁路|地铁|铜锣|竹蜻蜓")

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
OPEN_AUDIENCES = {"unisex", "adults", ""}

COLOR_ZH = {"black": "黑色", "white": "白色", "navy": "藏青色", "blue": "蓝色", "red": "红色", "green": "绿色",
            "yellow": "黄色", "pink": "粉色", "purple": "紫色", "grey": "灰色", "beige": "米色", "brown": "棕色",
            "orange": "橙色", "teal": "青色"}
# Colours close enough that naming one for the other is not a false claim.
COLOR_NEAR = {"navy": {"blue"}, "teal": {"blue", "green"}}


@dataclass(frozen=True)
class Lexicon:
    """The vocabulary words the check looks for."""

    colors: dict[str, str]  # colour word (lower) -> canonical colour
    color_ignore: tuple[str, ...]
    brands: tuple[str, ...]  # brand names as written


@functools.lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Colours (English and Chinese) and brands of the parser's vocabulary (cached)."""
    vocab = load_vocabulary(("en", "zh"))
    colors = {word: str(canonical).lower() for word, canonical in vocab.colors.items()}
    for canonical in list(set(colors.values())):
        colors.setdefault(canonical, canonical)
    colors.update({zh: en for en, zh in COLOR_ZH.items()})
    return Lexicon(colors, vocab.color_ignore, vocab.brand_names)


def _word_pattern(words: Sequence[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Longest-first alternation; Latin words need word boundaries, CJK words match anywhere."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?")
        parts.append(escaped if has_cjk(word) else rf"(?<![\w'])(?:{escaped})(?![\w])")
    return re.compile("|".join(parts) or "(?!)", flags)


@functools.lru_cache(maxsize=1)
def word_patterns() -> dict[str, re.Pattern[str]]:
    """Compiled patterns: "color", "material_en", "material_zh", "audience" (cached)."""
    lex = lexicon()
    return {
        "color": _word_pattern(list(lex.colors)),
        "material_en": _word_pattern(list(MATERIALS_EN)),
        "material_zh": _word_pattern(list(MATERIALS_ZH)),
        "audience": _word_pattern(list(AUDIENCE_WORDS)),
    }
