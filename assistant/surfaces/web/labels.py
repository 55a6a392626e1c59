"""The shop's words on screen, in the shopper's language (English / 中文): buttons, labels, hints and the
lines around the cards. `words(language)` gives one language's table; a missing language falls back to English."""

from __future__ import annotations

LANGUAGES = {"en": "English", "zh": "中文"}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "# 🛒 Aisle\nTell me what you're looking for — in English or 中文. Refine with a suggestion below "
                 "the answer, or “make it blue”, “cheaper”, “compare 1 and 3”.",
        "segment": "Shopping for", "auto_segment": "Let Aisle work it out",
        "placeholder": "e.g. a waterproof jacket for my 6-year-old under $40", "send": "Send",
        "reset": "Start over", "language": "Language", "suggestions": "Try next",
        "empty": "Type what you're looking for first — for example “a teddy bear for my niece”.",
        "error": "Sorry, something went wrong: {error}",
        "nothing": "Nothing in the catalog meets all of that. Try relaxing something, e.g. “forget the budget”.",
        "pending": "Writing why this fits…", "no_reason": "(no reason: {error})",
        "not_exact": "Not an exact match: {what}", "out_of_stock": "out of stock",
        "up": "Good pick", "down": "Not for me", "bought": "Bought it", "compare": "Compare",
        "compare_hint": "Pick one more to compare",
        "understood": "Understood", "matched": "{matched} of {shown} meet everything",
        "all_matched": "all {shown} meet everything", "relaxed": "Relaxed",
        "compare_reply": "Here are {which} side by side.", "compare_none": "Ask for products first, then compare them.",
        "and": " and ", "thanks_up": "Thanks! 👍 noted.",
        "thanks_down": "Got it — we won't show that one again in this chat.", "thanks_bought": "Great choice! 🛍️ noted.",
        "feedback_failed": "Could not record that: {error}",
    },
    "zh": {
        "intro": "# 🛒 Aisle\n告诉我您想买什么——中文或英文都可以。可以点答案下方的建议，或者说“要蓝色的”、“更便宜的”、"
                 "“比较1和3”。",
        "segment": "给谁买", "auto_segment": "由 Aisle 判断",
        "placeholder": "例如：给我6岁的儿子买一件40美元以下的防水外套", "send": "发送",
        "reset": "重新开始", "language": "语言", "suggestions": "试试",
        "empty": "请先输入您想找的商品，比如“给侄女买个泰迪熊”。",
        "error": "抱歉，出了点问题：{error}",
        "nothing": "目录里没有完全符合的商品。可以放宽一些条件，比如“不限预算”。",
        "pending": "正在写推荐理由…", "no_reason": "（无推荐理由：{error}）",
        "not_exact": "不完全符合：{what}", "out_of_stock": "缺货",
        "up": "推荐得好", "down": "不适合我", "bought": "已购买", "compare": "比较",
        "compare_hint": "再选一件来比较",
        "understood": "理解为", "matched": "{shown} 件中 {matched} 件完全符合", "all_matched": "{shown} 件全部符合",
        "relaxed": "放宽了", "compare_reply": "第{which}款对比如下。", "compare_none": "请先搜索商品，再来比较。",
        "and": "和", "thanks_up": "谢谢！👍 已记下。", "thanks_down": "好的——本次对话不再推荐这件。",
        "thanks_bought": "好选择！🛍️ 已记下。", "feedback_failed": "没能记录：{error}",
    },
}


def words(language: str | None) -> dict[str, str]:
    """The shop's words in `language` ("en" or "zh"; anything else: English)."""
    return WORDS.get(language or "en", WORDS["en"])


def language_of(label_or_code: str | None) -> str:
    """"en" or "zh" from a language code or its name as the picker shows it."""
    for code, name in LANGUAGES.items():
        if label_or_code in (code, name):
            return code
    return "en"
