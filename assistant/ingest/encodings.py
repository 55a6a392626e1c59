"""Telling a data file's text encoding when it is not UTF-8: detection with charset-normalizer on a sample,
accepted only when it is confident, else a clear rejection that says how to fix the file.

Thresholds were set on real samples (Chinese product titles in GBK / GB18030 / Big5, Japanese in Shift-JIS,
French and German in cp1252 / Latin-1, files mixing two encodings, random bytes): see docs/catalog.md,
"Text encodings". A detection is accepted when charset-normalizer names an encoding, its "chaos" (the share
of the decoded text that looks like mojibake) is at most MAX_CHAOS, and the encoding is not a BOM-less
UTF-16/32 guess. The caller then decodes the whole file strictly with it, so a later part in another
encoding is still caught.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

DETECT_BYTES = 1 << 20  # the sample that detection reads: the first MiB (plus the part where UTF-8 failed)
# Highest charset-normalizer chaos accepted. Measured: clean files 0.000-0.010 (Big5 0.079, its tables
# hold fewer common titles); GBK+Shift-JIS in one file 0.075 as GB18030 (caught only per block, below).
MAX_CHAOS = 0.12
# Highest chaos of any one block of the decoded sample (about BLOCK_CHARS characters, cut at line ends):
# Japanese rows read as GB18030 scored 0.20 in a block while the whole file averaged 0.075; blocks of clean
# Chinese (GB18030, Big5), Japanese and French / German text scored at most 0.07.
MAX_BLOCK_CHAOS = 0.15
BLOCK_CHARS = 300
# Encodings a lone guess may not be: any even-length bytes "decode" as BOM-less UTF-16/32.
NEVER_GUESSED = ("utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be")
# Western single-byte code pages: when the text reads the same in Windows-1252 (the reader's fallback
# before detection), Windows-1252 is kept rather than cp1250 / cp1257 guessed from a few accents.
PREFERRED = "cp1252"
PREFERRED_SLACK = 0.02  # cp1252 is kept when its chaos is within this of the best guess

NAMES = {"utf_8": "UTF-8", "utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf_16": "UTF-16", "utf-16": "UTF-16",
         "cp1252": "Windows-1252", "latin_1": "Latin-1", "iso8859_1": "Latin-1", "gb18030": "GB18030",
         "gbk": "GBK", "gb2312": "GB2312", "big5": "Big5", "big5hkscs": "Big5-HKSCS", "cp950": "Big5 (cp950)",
         "cp932": "Shift-JIS (cp932)", "shift_jis": "Shift-JIS", "euc_jp": "EUC-JP", "euc_kr": "EUC-KR",
         "cp949": "EUC-KR (cp949)", "cp1250": "Windows-1250", "cp1251": "Windows-1251", "koi8_r": "KOI8-R"}
TRIED = "UTF-8, UTF-16 (by byte-order mark), then detection among GB18030/GBK, Big5, Shift-JIS, EUC-KR, " \
        "Windows-1252/Latin-1 and other code pages"
FIX = ("Save the file as UTF-8, or name its encoding: aisle index build --encoding gb18030 FILE, or "
       "catalog_encoding = \"gb18030\" in aisle.toml (any Python codec name)")


@dataclass(frozen=True)
class Detection:
    """What detection made of a sample: the codec (None when not confident) and why, in words."""

    encoding: str | None
    detail: str


def display_name(codec: str) -> str:
    """"GB18030", "Windows-1252", "Shift-JIS (cp932)" for a Python codec name."""
    name = codecs.lookup(codec).name
    return NAMES.get(name, NAMES.get(codec.lower(), name.upper()))


def check_codec(name: str) -> str:
    """The Python codec `name` stands for; ValueError naming it when Python has no such codec."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(f"unknown text encoding {name!r}: use \"auto\" or a Python codec name such as utf-8, "
                         "gb18030, big5, shift_jis, cp1252, latin-1") from None


def detect(sample: bytes) -> Detection:
    """The encoding of `sample` (bytes that are not UTF-8), when charset-normalizer is confident."""
    try:
        from charset_normalizer import from_bytes
        from charset_normalizer.md import mess_ratio
        from charset_normalizer.utils import is_multi_byte_encoding
    except ImportError as err:  # pragma: no cover - a core dependency
        raise ImportError("detecting a text encoding needs charset-normalizer: "
                          "pip install charset-normalizer==3.5.3") from err
    matches = [m for m in from_bytes(sample) if m.encoding not in NEVER_GUESSED]
    if not matches:
        return Detection(None, "no encoding decodes it as text")
    best = min(matches, key=lambda m: m.chaos)
    if best.chaos > MAX_CHAOS:
        return Detection(None, f"the best guess, {display_name(best.encoding)}, reads as "
                               f"{best.chaos:.0%} garbled text")
    chosen = best.encoding
    if chosen != PREFERRED and not is_multi_byte_encoding(chosen):
        try:
            western = sample.decode(PREFERRED)
        except UnicodeDecodeError:
            western = None
        if western is not None and mess_ratio(western) <= best.chaos + PREFERRED_SLACK:
            chosen = PREFERRED
    text = sample.decode(chosen, errors="replace")
    worst = max((mess_ratio(block) for block in _blocks(text)), default=0.0)
    if worst > MAX_BLOCK_CHAOS:
        return Detection(None, f"read as {display_name(chosen)}, part of it is {worst:.0%} garbled text "
                               "(a file mixing two encodings?)")
    return Detection(chosen, f"read as {display_name(chosen)} (detected)")


def _blocks(text: str) -> list[str]:
    """`text` in pieces of about BLOCK_CHARS characters, cut at line ends."""
    blocks, start = [], 0
    while start < len(text):
        end = text.find("\n", start + BLOCK_CHARS)
        end = len(text) if end < 0 else end + 1
        if len(text) - end < BLOCK_CHARS // 2:  # a short tail joins this block (few characters are noisy)
            end = len(text)
        blocks.append(text[start:end])
        start = end
    return blocks
