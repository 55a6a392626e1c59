"""Template reasons: a short sentence (English or Chinese) built only from the product's own fields."""

from __future__ import annotations

import dataclasses
import re
from typing import Callable

from assistant.core.money import format_amount
from assistant.core.text import has_cjk
from assistant.ingest.catalog import Product
from assistant.rank.attributes import fits_age, size_system
from assistant.rank.breakdown import ScoreBreakdown
from assistant.reasons.check import INSTRUCTION_RE, URL_RE, YES_NO, check_reason
from assistant.reasons.money import budget_stated
from assistant.reasons.lexicon import COLOR_ZH, word_patterns
from assistant.understand import Request

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

_SAFE_PIECE = re.compile(r"^[\w' &,.-]+$")


def _safe(piece: str, product: Product, request: Request) -> bool:
    """A piece of product data fit to go into a template sentence (short, plain, no instruction or link)."""
    return bool(piece) and len(piece) <= 60 and bool(_SAFE_PIECE.match(piece)) and not URL_RE.search(piece) \
        and not INSTRUCTION_RE.search(piece) and piece.lower().strip() not in YES_NO


def grocery_name(title: str) -> str:
    """The product's own name in a grocery title that names its category first: "Salad Lettuce" from
    "Salads/Dips — Salad: Lettuce" and "Peanut Butter" from "Pnt Btr/Jelly/Jams — Peanut Butter, 18 oz".
    "" for a title without the category first, and for a one-word name, which is mostly a grade ("Eggs —
    Large", "Beef — Lean"): given "large" as the name of eggs, the model wrote "The large store is…"."""
    if " — " not in title:
        return ""
    name = re.sub(r"\s+", " ", re.sub(r"[/:]", " ", title.split(" — ", 1)[1].split(",")[0])).strip()
    return name if 2 <= len(name.split()) <= 6 else ""


def _noun_en(product: Product, request: Request) -> str:
    """'rain jacket'-like noun phrase from the title (brand and '- Colour' removed; a grocery title's own name,
    not its category: "Salads/Dips" made a lettuce salad "Dips"), else the category leaf."""
    name = grocery_name(product.title) or product.title.split(" - ")[0].strip()
    if product.brand and name.lower().startswith(product.brand.lower() + " "):
        name = name[len(product.brand) + 1:]
    if _safe(name, product, request) and 1 <= len(name.split()) <= 7 and not name.lower().startswith("the "):
        if product.category_path and product.category_path[0].lower() == "books":
            return name  # a book's title keeps its capitals
        return " ".join(w if w[:2].isupper() else w.lower() for w in name.split())
    leaf = product.category_path[-1] if product.category_path else ""
    return leaf.lower() if _safe(leaf, product, request) else "product"


def pack_size(product: Product) -> str:
    """What one item holds ("16 oz", "63 loads"), when its size says so and offers no choice of sizes; else ""."""
    sizes = product.sizes
    return product.size if sizes and all(size_system(s) == "pack" for s in sizes) else ""


def _money(value: float, currency: str, language: str) -> str:
    """A price or budget in the store's currency: "$40", "₹1,500" (English); "40美元", "300元" (Chinese)."""
    amount = f"{value:.2f}" if value != int(value) else f"{int(value)}"  # Chinese prices carry no separators
    if language == "zh" and (currency or "USD") in _ZH_CURRENCY:
        return amount + _ZH_CURRENCY[currency or "USD"]
    return format_amount(value, currency)


_ZH_CURRENCY = {"USD": "美元", "CNY": "元", "INR": "卢比", "EUR": "欧元", "GBP": "英镑", "JPY": "日元", "HKD": "港元"}


def _terms(breakdown: ScoreBreakdown | None) -> dict[str, float]:
    return breakdown.term_contributions() if breakdown is not None else {}


def _age_size(product: Product, request: Request) -> str | None:
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
    return (f"这款商品售价{_money(product.price, request.currency, 'zh')}。" if language == "zh" else
            f"This product is priced at {_money(product.price, request.currency, 'en')}.")  # 4+ words: a reason


def _clauses(product: Product, request: Request, breakdown: ScoreBreakdown | None) -> list[tuple[float, str, str]]:
    """(importance, kind, detail) of what is worth saying, most important first."""
    terms = _terms(breakdown)
    found: list[tuple[float, str, str]] = []
    if request.price_max is not None and product.price <= request.price_max and budget_stated(request):
        found.append((terms.get("price_fit", 0.5) + 0.5, "budget", str(request.price_max)))
    elif request.price_target is not None and budget_stated(request):
        found.append((terms.get("price_fit", 0.3) + 0.3, "target", str(request.price_target)))
    elif request.cheap:
        found.append((terms.get("price_fit", 0.3) + 0.2, "cheap", ""))
    wanted_sizes = {s.upper() for s in request.sizes}
    size = next((s for s in product.sizes if s.upper() in wanted_sizes), None)
    if size and _safe(size, product, request):
        found.append((terms.get("size_match", 0.5) + 0.4, "size", size))
    elif (age_size := _age_size(product, request)) and _safe(age_size, product, request):
        found.append((terms.get("size_match", 0.5) + 0.4, "age_size", age_size))
    tags = [t for t in product.tags if _safe(t, product, request)]
    tags.sort(key=lambda t: bool(word_patterns()["material_en"].search(t)))  # features before materials
    if tags:
        found.append((terms.get("valued_tags", 0.1) + 0.15, "tags", "|".join(tags[:2])))
    if product.rating is not None and product.rating >= 4.0 and product.rating_count >= 5:
        found.append((terms.get("rating", 0.2) + 0.1, "rating", ""))
    found.sort(key=lambda c: -c[0])
    return found[:3]


# How each kind of clause reads: {d} is its detail, {money} the budget worded in the price's currency and
# language ("$40", "¥300", "40美元", "300元"), {tags} the worded tags.
_CLAUSE_EN = {"budget": "within your {d} budget", "target": "close to your {d} target",
              "cheap": "one of the lower-priced choices", "size": "available in size {d}",
              "age_size": "with a {d} size for your {age}-year-old", "tags": "{tags}",
              "rating": "rated {rating:.1f} by {count:,} shoppers"}
_CLAUSE_ZH = {"budget": "在您的{money}预算内", "target": "接近您期望的{money}", "cheap": "价格实惠",
              "size": "有{d}码", "age_size": "有适合{age}岁孩子的{d}码", "tags": "{tags}",
              "rating": "评分{rating:.1f}（{count}条评价）"}


def _phrases(wording: dict[str, str], word_tags: Callable[[list[str]], str], product: Product, request: Request,
             breakdown: ScoreBreakdown | None) -> list[str]:
    """The clauses of `_clauses` in words; a clause that words to nothing (no tag translates) is left out."""
    parts = []
    language = "zh" if wording is _CLAUSE_ZH else "en"
    for _, kind, detail in _clauses(product, request, breakdown):
        money = _money(float(detail), request.currency, language) if kind in ("budget", "target") else ""
        phrase = wording[kind].format(d=money if kind in ("budget", "target") else detail, money=money,
                                      age=request.age_years, rating=product.rating, count=product.rating_count,
                                      tags=word_tags(detail.split("|")) if kind == "tags" else "")
        if phrase:
            parts.append(phrase)
    return parts


def _template_en(product: Product, request: Request, breakdown: ScoreBreakdown | None) -> str:
    noun = _noun_en(product, request)
    audience = AUDIENCE_EN.get(product.audience, "")
    if audience and not word_patterns()["audience"].search(noun):
        noun = f"{audience} {noun}"
    color = product.color.lower() if _safe(product.color, product, request) else ""
    asked_color = color and color in (set(request.color_values) or {c.lower() for c in request.colors})
    head = noun[0].upper() + noun[1:]
    if product.brand and _safe(product.brand, product, request) and product.brand.lower() not in noun.lower():
        head = f"{head} from {product.brand}"
    pack = pack_size(product)
    if pack and _safe(pack, product, request):
        head += f", {pack},"
    head += f" for {_money(product.price, request.currency, 'en')}"  # before the colour: never "asked for for $40"
    if color:
        head += f", in the {color} you asked for" if asked_color else f" in {color}"
    parts = _phrases(_CLAUSE_EN, lambda tags: " and ".join(tags), product, request, breakdown)
    return head + (" — " + ", ".join(parts) if parts else "") + "."


def _template_zh(product: Product, request: Request, breakdown: ScoreBreakdown | None) -> str:
    leaf = (product.category_path[-1] if product.category_path else "").lower()
    noun = CATEGORY_ZH.get(leaf, "商品")
    if noun == "商品" and has_cjk(leaf) and _safe(leaf, product, request) and len(leaf) <= 8:
        noun = leaf  # a Chinese store's own category ("运动鞋")
    color = COLOR_ZH.get(product.color.lower(), "") or (product.color if has_cjk(product.color) else "")
    audience = AUDIENCE_ZH.get(product.audience, "") or (product.audience if has_cjk(product.audience) else "")
    if noun.startswith(audience):
        audience = ""
    brand = product.brand if product.brand and _safe(product.brand, product, request) else ""
    pack = pack_size(product)
    pack = pack if pack and _safe(pack, product, request) else ""
    head = (f"这款{brand + ' ' if brand else ''}{color}{audience}{noun}{f'（{pack}）' if pack else ''}"
            f"售价{_money(product.price, request.currency, 'zh')}")
    parts = _phrases(_CLAUSE_ZH, lambda tags: "、".join(TAG_ZH[t.lower()] for t in tags if t.lower() in TAG_ZH),
                     product, request, breakdown)
    if color and product.color.lower() in (set(request.color_values) or {c.lower() for c in request.colors}):
        parts.insert(0, "正是您要的颜色")
    return head + ("，" + "，".join(parts) if parts else "") + "。"
