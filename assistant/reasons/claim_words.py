"""The feature and praise words a reason may say only when the product's own text backs them.

Language, not any store's vocabulary: each claim with the roots looked for in the product's text, and the
English and Chinese words that make the claim.
"""

from __future__ import annotations

# Feature claims a reason may make only when the product's own text says so: claim -> roots looked for.
FEATURE_ROOTS: dict[str, tuple[str, ...]] = {
    "waterproof": ("waterproof", "rain"), "water-resistant": ("water-resistant", "waterproof", "water resistant"),
    "windproof": ("windproof", "wind"), "warm": ("warm", "insulat", "fleece", "thermal", "down", "wool", "sherpa",
                                               "puffer", "lined", "heat"),
    "insulated": ("insulat",), "heat-resistant": ("heat",), "breathable": ("breathab", "mesh"),
    "lightweight": ("lightweight", "light"), "durable": ("durab", "sturdy", "heavy-duty"),
    "non-slip": ("non-slip", "slip", "grip"), "sustainable": ("sustainab", "recycl", "organic", "eco"),
    "eco-friendly": ("eco", "recycl", "organic", "sustainab"), "recycled": ("recycl",), "organic": ("organic",),
    "hypoallergenic": ("hypoallergenic",), "machine-washable": ("machine", "washable"), "wireless": ("wireless",),
    "rechargeable": ("recharg",), "adjustable": ("adjust",), "foldable": ("fold",), "quick-dry": ("quick-dry", "dry"),
    "noise-cancelling": ("noise",), "gluten-free": ("gluten",), "sugar-free": ("sugar",), "low-fat": ("fat",),
    "vegan": ("vegan",), "natural": ("natural",), "healthy": ("health", "organic", "natural", "light", "diet"),
    "nutritious": ("nutri", "vitamin", "protein"), "fresh": ("fresh", "produce"), "quiet": ("quiet", "silent", "noise"),
    "soft": ("soft", "plush", "fleece", "cotton"), "popular": ("popular", "bestsell", "best-sell", "favourite", "favorite"),
    "high-quality": ("quality", "premium"), "premium": ("premium",), "delicious": ("delicious", "tasty"),
    "tasty": ("tasty", "delicious"), "flavorful": ("flavorful", "flavourful"), "authentic": ("authentic",),
    "special": ("special",), "best-selling": ("bestsell", "best-sell", "best sell"),
    "well-known": ("well-known", "renowned", "famous"), "reputable": ("reputab", "trusted"),
    "known for": ("known for",), "versatile": ("versatil",), "comfortable": ("comfort", "cushion", "soft", "padded"),
    # Praise a small model writes when a product's data gives it little to say (read on grocery reasons).
    "high-end": ("high-end", "luxury", "premium"), "finest": ("finest", "premium"), "luxury": ("luxury",),
    "well-regarded": ("well-regarded", "renowned", "acclaimed"), "reputation": ("reputation", "renowned"),
    "widely": ("popular", "bestsell", "best-sell"), "classic": ("classic",), "staple": ("staple",),
    "well-made": ("well-made", "quality", "premium"), "excellent": ("excellent",), "great value": ("value", "economy"),
    "value for money": ("value", "economy"), "enjoyed by": ("popular", "favourite", "favorite"),
    "loved by": ("popular", "favourite", "favorite"), "worldwide": ("world", "international", "global"),
    "beneficial": ("health", "vitamin", "nutri"), "trusted": ("trusted",), "favorite": ("favorite", "favourite"),
    "high-tech": ("high-tech", "smart", "digital"), "high-priced": ("luxury", "premium"),
    "high-calorie": ("calorie",), "well-designed": ("well-designed",), "unique": ("unique",),
    # Read in the hand-read sample of 2026-12-03.
    "high-performance": ("performance",), "sleek": ("sleek",), "stylish": ("stylish", "trendy", "style", "fashion"),
    "common feature": ("common feature",),  # "fast charging, which is a common feature for this type of device"
    # Read in the hand-read sample of 2026-12-04.
    "reliable": ("reliab", "trusted"), "standout": ("standout",),
    "red wine": ("red",), "white wine": ("white",),  # 红酒 for a wine the data gives no colour
    "wireless charging": ("wireless charg", "qi"),  # 无线充电 for a wireless, rechargeable controller
}
FEATURE_WORDS_EN: dict[str, str] = {
    **{k: k for k in FEATURE_ROOTS}, "water resistant": "water-resistant", "keeps you warm": "warm",
    "keep you warm": "warm", "warmth": "warm", "cozy": "warm", "cosy": "warm", "heat resistant": "heat-resistant",
    "heatproof": "heat-resistant", "light-weight": "lightweight", "slip-resistant": "non-slip", "anti-slip": "non-slip",
    "eco friendly": "eco-friendly", "environmentally friendly": "eco-friendly", "machine washable": "machine-washable",
    "noise cancelling": "noise-cancelling", "noise-canceling": "noise-cancelling", "gluten free": "gluten-free",
    "sugar free": "sugar-free", "low fat": "low-fat", "quick dry": "quick-dry", "quick-drying": "quick-dry",
    "high quality": "high-quality", "high price": "high-priced", "high prices": "high-priced", "flavourful": "flavorful", "best selling": "best-selling", "bestselling": "best-selling",
    "favorites": "favorite", "favourites": "favorite", "favourite": "favorite", "reliability": "reliable",
    "stand-out": "standout", "stands out": "standout",
}
FEATURE_WORDS_ZH: dict[str, str] = {
    "保暖": "warm", "温暖": "warm", "暖和": "warm", "防水": "waterproof", "防泼水": "water-resistant",
    "防风": "windproof", "耐高温": "heat-resistant", "耐热": "heat-resistant", "隔热": "heat-resistant",
    "透气": "breathable", "轻便": "lightweight", "轻巧": "lightweight", "轻盈": "lightweight", "耐用": "durable",
    "结实": "durable", "防滑": "non-slip", "环保": "eco-friendly", "可持续": "sustainable", "有机": "organic",
    "低致敏": "hypoallergenic", "可机洗": "machine-washable", "无线": "wireless", "可充电": "rechargeable",
    "可调节": "adjustable", "可折叠": "foldable", "速干": "quick-dry", "降噪": "noise-cancelling", "无麸质": "gluten-free",
    "无糖": "sugar-free", "低脂": "low-fat", "纯天然": "natural", "天然": "natural", "健康": "healthy", "营养": "nutritious",
    "新鲜": "fresh", "保温": "insulated", "高品质": "high-quality", "优质": "high-quality", "美味": "delicious",
    "热门": "popular", "畅销": "best-selling", "受欢迎": "popular", "闻名": "well-known", "著名": "well-known",
    "知名": "well-known", "出名": "well-known", "著称": "well-known", "高端": "high-end", "高档": "high-end", "奢华": "luxury",
    "安静": "quiet", "静音": "quiet", "柔软": "soft", "舒适": "comfortable",
    # Read in the hand-read samples of 2026-12-04.
    "红酒": "red wine", "红葡萄酒": "red wine", "白葡萄酒": "white wine", "非常推荐": "popular", "强烈推荐": "popular",
    "广受好评": "popular", "备受好评": "popular", "深受": "popular", "性价比": "value for money",
    "物美价廉": "value for money", "超值": "great value", "无线充电": "wireless charging",
}
