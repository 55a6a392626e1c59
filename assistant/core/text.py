"""Character classes shared by the stages that read or write shopper-facing text (English and Chinese)."""

from __future__ import annotations

import re

#: CJK ideographs (extension A, unified, compatibility), for use inside a regex character class.
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK}]")
LATIN_RE = re.compile("[A-Za-z]")
SPACES_RE = re.compile(r"\s+")


def has_cjk(text: str) -> bool:
    """True when `text` holds at least one CJK ideograph."""
    return bool(CJK_RE.search(text))


def count_cjk(text: str) -> int:
    """How many CJK ideographs `text` holds."""
    return len(CJK_RE.findall(text))
