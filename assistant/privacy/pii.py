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
_LABEL = re.compile(r"\[(?:" + "|".join(LABELS) + r")\]")

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")  # RFC 5322 dot-atom local parts
# 13-19 digits, optionally grouped by spaces or dashes (a CVV or expiry may follow: see _card).
_CARD = re.compile(r"(?<![\d+-])\d(?:[ -]{0,2}\d){12,22}(?![\d-])")
# Chinese resident id: 6-digit region, 8-digit birth date, 3 digits, check digit (0-9 or X).
_CN_ID = re.compile(r"(?<!\d)\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dXx])")
_PHONES = [
    # Chinese mobile: 1[3-9]x xxxx xxxx, optionally +86.
    re.compile(r"(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)"),
    # Chinese landline: (0xx) / 0xx- then 7-8 digits, possibly split ("021-6123 4567").
    re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3}-)[ ]?\d{3,4}[ -]?\d{4}(?!\d)"),
    # International: +CC and 2-6 groups of 1-4 digits ("+44 20 7946 0958", "+33 1 42 68 53 00").
    re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?!\d)"),
    # North American: (415) 555-0132, 415-555-0132, 415.555.0132, 415 555 0132, 4155550132.
    re.compile(r"(?<![\w(])(?:\(\d{3}\)[ .-]?|\d{3}[.-])\d{3}[ .-]\d{4}(?!\d)"),
    re.compile(r"(?<![\d.,$€£¥])\d{3} \d{3} \d{4}(?!\d)"),
    re.compile(r"(?<![\w.,$€£¥-])[2-9]\d{2}[2-9]\d{6}(?![\w.,-])"),
    # UK and other trunk-prefix numbers: 020 7946 0958, 07700 900123, 07700900123, 010 12345678.
    re.compile(r"(?<![\w.,$€£¥-])0\d{2,4}[ ]?\d{3,4}[ ]?\d{3,4}(?![\w.,-])"),
]
# Street words that end an address on their own ("12 north elm road"), and only after capitalised names.
_STREET_WORDS = r"street|avenue|road|boulevard|lane|terrace|highway|parkway|crescent|alley"
_NAMED_STREET_WORDS = (rf"(?i:{_STREET_WORDS}|drive|court|place|square|close|way|loop|row|gardens|hill|mews|walk)"
                       r"|St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Hwy|Pkwy|Sq")
# Words that never name a street: function words and the units of a shopping request ("28 inch road bike").
_NOT_A_NAME = (r"(?i:for|the|a|an|to|on|in|of|my|our|your|and|or|with|at|by|from|off|this|that|is|are|inch|inches"
               r"|in\.|cm|mm|m|km|mile|miles|ft|foot|feet|gb|tb|mb|speed|piece|pieces|pack|packs|pair|pairs|wheel"
               r"|wheels|seater|person|large|small|medium|big|little|red|blue|green|black|white|kids?)\s")
_UNIT = r"(?:,?\s*(?i:apt|apartment|unit|suite|flat|fl|floor|#)\.?\s*#?\w{1,6})?"
_LEADING_UNIT = r"(?:(?i:flat|apt|apartment|unit|suite)\.?\s*\w{1,5},?\s+)?"
# An optional town then a UK postcode or a US state and ZIP ("…, London SW1A 2AA", "…, New York, NY 10118").
_POSTCODE = (r"(?:(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)?"
             r"(?:,?\s+[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\b))?")
# A Chinese place-name character: not an administrative suffix (so a run of 市区县… splits one way only,
# never exponentially many) and not a verb or particle that leads into an address ("寄到…").
_HAN = r"(?:(?![寄送到至往在是的发省市区县镇乡])[\u4e00-\u9fff])"
_NUMERAL = r"[\d一二三四五六七八九十百零]"
_ADDRESSES = [
    # "221B Baker Street", "1600 Pennsylvania Avenue NW", "Flat 3, 12 High St", "15 Abbey Way":
    # a house number, up to four capitalised name words, a street word or abbreviation.
    re.compile(rf"{_LEADING_UNIT}(?<!\w)\d{{1,6}}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){{1,4}}(?:{_NAMED_STREET_WORDS})\b"
               rf"\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?{_UNIT}{_POSTCODE}"),
    # "12 north elm road, apt 5": lower-case names only before a full street word that ends the phrase.
    re.compile(rf"{_LEADING_UNIT}(?<!\w)\d{{1,6}}[A-Za-z]?\s+(?:(?!{_NOT_A_NAME})[A-Za-z][\w'.-]*\s+){{1,4}}"
               rf"(?i:{_STREET_WORDS})\b\.?(?=\s*(?:[,;.!?]|$)){_UNIT}"),
    re.compile(r"(?i)\bP\.?\s?O\.?\s?Box\s+\d{1,8}\b"),
    # Chinese: optional province / city / district, a road named by 2+ characters, a number with 号 (not
    # 号线 "metro line", 号电池 "battery size"), optional building, unit and room.
    re.compile(rf"(?:{_HAN}{{1,8}}(?:省|自治区|市|区|县|镇|乡)){{0,4}}{_HAN}(?:{_HAN}|\d){{1,9}}"
               rf"(?:路|街|大道|大街|巷|胡同)\s*{_NUMERAL}+\s*号(?!线|电池|球|码)"
               rf"(?:\s*{_NUMERAL}+\s*(?:号楼|栋|幢|座|楼|单元|层|室|号))*(?:\s*\d+(?!\d))?"),
    re.compile(rf"(?:{_HAN}{{1,8}}(?:省|自治区|市|区|县|镇|乡)){{0,4}}{_HAN}{{1,10}}(?:小区|花园|公寓|大厦|新村|园|苑|广场)"
               rf"(?:{_HAN}{{1,4}}区)?\s*{_NUMERAL}+\s*(?:号楼|栋|幢|座)(?:\s*{_NUMERAL}+\s*(?:单元|层|楼|室|号))*(?:\s*\d+(?!\d))?"),
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
    """A run of digits that starts with a card number (Luhn-checked, 13-19 digits) becomes [card]; what
    follows it (a CVV, an expiry) is kept as it was."""
    text = match.group()
    ends = [i + 1 for i, ch in enumerate(text) if ch.isdigit()]  # end of the n-th digit
    digits = "".join(ch for ch in text if ch.isdigit())
    for length in (16, 15, 19, 18, 17, 14, 13):
        if len(digits) >= length and _luhn_ok(digits[:length]):
            return "[card]" + text[ends[length - 1]:]
    return text


def _phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[phone]" if 7 <= len(digits) <= 15 else match.group()


def _replace_all(text: str, patterns: list[re.Pattern], replace: Callable[[re.Match], str] | str) -> str:
    for pattern in patterns:
        text = pattern.sub(replace, text)
    return text


def scrub(text: str, labels: bool = True) -> str:
    """`text` with personal data replaced by bracketed labels ([email], [card], [id], [phone], [address]),
    or, with `labels=False`, removed (for text that is parsed, so a label never becomes a search word)."""
    text = str(text or "")
    if not any(ch.isdigit() or ch == "@" for ch in text):
        return text  # every pattern needs a digit or an @: the common case costs one scan
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub(_card, text)
    text = _CN_ID.sub("[id]", text)
    text = _replace_all(text, _ADDRESSES, "[address]")
    text = _replace_all(text, _PHONES, _phone)
    return text if labels else without_labels(text)


def without_labels(text: str) -> str:
    """Scrubbed text with its [labels] removed (for text that is parsed: a label is not a search word)."""
    return _LABEL.sub(" ", text)


def found(text: str) -> set[str]:
    """The kinds of personal data `scrub` would remove from `text` (for reports and tests)."""
    cleaned = scrub(text)
    return {label for label in LABELS if f"[{label}]" in cleaned and f"[{label}]" not in str(text or "")}
