"""PII scrubbing of shopper text before it is logged or shown to staff or an LLM.

`scrub` replaces e-mail addresses, phone numbers (international, North American, Chinese mobile and
landline), payment card numbers (Luhn-checked), Chinese resident id numbers and street addresses
(English "12 Baker Street", "PO Box 7"; Chinese "北京市朝阳区建国路88号3栋1201室") with a bracketed
label such as "[email]". What a shopper wants (sizes, prices, ages, colours, product codes) is kept:
a number only counts as a phone when it has phone length and shape, a card only when the Luhn check
passes.
"""

from __future__ import annotations

import re
from typing import Callable

LABELS = ("email", "card", "id", "phone", "address")

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")  # RFC 5322 dot-atom local parts
# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD = re.compile(r"(?<![\d+-])\d(?:[ -]?\d){12,18}(?![\d-])")
# Chinese resident id: 6-digit region, 8-digit birth date, 3 digits, check digit (0-9 or X).
_CN_ID = re.compile(r"(?<!\d)\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dXx])")
_PHONES = [
    # Chinese mobile: 1[3-9]x xxxx xxxx, optionally +86.
    re.compile(r"(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)"),
    # Chinese landline: 0xx(x)-xxxxxxx(x), optionally in brackets.
    re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3}-)[ ]?\d{7,8}(?!\d)"),
    # International / North American: +CC ... or (xxx) xxx-xxxx or xxx-xxx-xxxx / xxx.xxx.xxxx.
    re.compile(r"(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?!\d)"),
    re.compile(r"(?<![\w(])(?:\(\d{3}\)[ .-]?|\d{3}[.-])\d{3}[ .-]\d{4}(?!\d)"),
    re.compile(r"(?<!\d)\d{3} \d{3} \d{4}(?!\d)"),
]
_STREET_WORDS = (r"street|avenue|road|boulevard|lane|drive|court|place|terrace|highway|parkway|square|crescent"
                 r"|close|alley")
_STREET_ABBREVIATIONS = r"St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Hwy|Pkwy|Sq"
_FUNCTION_WORD = r"(?i:for|the|a|an|to|on|in|of|my|our|your|and|or|with|at|by|from|off|this|that|is|are)\s"
_UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|flat|fl|floor|#)\.?\s*#?\w{1,6})?"
# A Chinese place-name character: not one of the verbs and particles that lead into an address ("寄到…").
_HAN = r"(?:(?![寄送到至往在是的发])[\u4e00-\u9fff])"
_ADDRESSES = [
    # "221B Baker Street", "12 north elm road, apt 5": a house number, up to four name words, a street word.
    re.compile(rf"(?<!\w)\d{{1,6}}[A-Za-z]?\s+(?:(?!{_FUNCTION_WORD})[A-Za-z][\w'.-]*\s+){{1,4}}(?i:{_STREET_WORDS})\b\.?{_UNIT}",),
    # "12 Elm St", "5 Main Ave." — abbreviations only after capitalised names (so "2 kids dr" is left alone).
    re.compile(rf"(?<!\w)\d{{1,6}}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){{1,4}}(?:{_STREET_ABBREVIATIONS})\b\.?{_UNIT}"),
    re.compile(r"(?i)\bP\.?\s?O\.?\s?Box\s+\d{1,8}\b"),
    # Chinese: optional province / city / district, a road, a number with 号, optional building and room.
    re.compile(rf"(?:{_HAN}{{1,8}}?(?:省|自治区|市|区|县|镇|乡))*(?:{_HAN}|\d){{1,10}}?"
               r"(?:路|街|大道|大街|巷|弄|胡同|里)\s*[\d一二三四五六七八九十百零]+\s*号"
               r"(?:\s*[\d一二三四五六七八九十]+\s*(?:号楼|栋|幢|座|楼|单元|层|室|号))*"),
    re.compile(rf"{_HAN}{{1,10}}(?:小区|花园|公寓|大厦|新村)\s*[\d一二三四五六七八九十]+\s*(?:号楼|栋|幢|座)"
               r"(?:\s*[\d一二三四五六七八九十]+\s*(?:单元|层|楼|室|号))*"),
]


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group()


def _phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[phone]" if 7 <= len(digits) <= 15 else match.group()


def _replace_all(text: str, patterns: list[re.Pattern], replace: Callable[[re.Match], str] | str) -> str:
    for pattern in patterns:
        text = pattern.sub(replace, text)
    return text


def scrub(text: str) -> str:
    """`text` with personal data replaced by bracketed labels ([email], [card], [id], [phone], [address])."""
    text = str(text or "")
    if not any(ch.isdigit() or ch == "@" for ch in text):
        return text  # every pattern needs a digit or an @: the common case costs one scan
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(_card, text)
    text = _CN_ID.sub("[id]", text)
    text = _replace_all(text, _ADDRESSES, "[address]")
    return _replace_all(text, _PHONES, _phone)


def found(text: str) -> set[str]:
    """The kinds of personal data `scrub` would remove from `text` (for reports and tests)."""
    cleaned = scrub(text)
    return {label for label in LABELS if f"[{label}]" in cleaned and f"[{label}]" not in str(text or "")}
