"""How a reason is written, whatever it claims: cut mid-phrase, repeating itself, a word misspelt, Chinese
run together into no sentence, or the product's name and nothing more. (What it claims is claims.py.)"""

from __future__ import annotations

import re

from assistant.core.text import has_cjk
from assistant.ingest.catalog import Product
from assistant.reasons.claim_words import FEATURE_WORDS_EN
from assistant.reasons.claims import DANGLING_EN, DANGLING_ZH, SENTENCE_ENDS, STOPWORDS, edit_distance, own_text

# Praise a small model leaves hanging after an article when its budget runs out ("…, making it a fun.").
DANGLING_ADJECTIVES = frozenset(
    "fun great good perfect ideal nice useful practical convenient affordable excellent safe smart cute "
    "healthy reliable versatile stylish comfortable wonderful fantastic solid top handy".split())


def cut_off(text: str) -> str | None:
    """A sentence cut mid-phrase: no sentence end, or one right after a dangling word."""
    body = text.rstrip(" \"'”’)）」")
    if not body.endswith(SENTENCE_ENDS):
        return "cut mid-phrase: no sentence end"
    body = body.rstrip(".!。！ ")
    if has_cjk(body[-1:]) and body.endswith(DANGLING_ZH):
        return f"cut mid-phrase: ends on {body[-1]!r}"
    last = re.findall(r"[A-Za-z][A-Za-z'-]*|\S", body)
    if last and (last[-1].lower() in DANGLING_EN or re.search(r"(?:^|\s)[A-Z]$", body)):
        return f"cut mid-phrase: ends on {last[-1]!r}"
    if re.search(r"[,;:，；：、—–-]$", body) or re.search(r"[$₹€£¥]$", body):
        return "cut mid-phrase: ends on punctuation"
    # "…for kids with a lightweight." / "…fits the features of the machine-washable.": an article and a
    # feature word, no noun.
    bare = re.search(r"\b(?:a|an|the)\s+([a-z][a-z-]*)$", body, re.IGNORECASE)
    if bare and (bare.group(1).lower() in FEATURE_WORDS_EN or bare.group(1).lower() in DANGLING_ADJECTIVES):
        return f"cut mid-phrase: ends on {bare.group(1)!r} with no noun"
    return None


def repeats(text: str, product: Product | None = None) -> str | None:
    """A phrase said twice running ("黑色黑色"), or a word or phrase said again and again (the product's own
    name, which may repeat a word — "Cookies — Cookies: Gourmet", "Moonbeam Baby ... Baby Stroller" — is
    taken out first)."""
    raw = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]*", text)]
    title = " ".join(re.findall(r"[a-z][a-z'-]*", product.title.lower())) if product is not None else ""
    for a, b in zip(raw, raw[1:]):  # "The Solstice Solstice sneakers": before the name is taken out
        if a == b and f" {a} {a} " not in f" {title} ":
            return f"repeats {a!r}"
    if product is not None:
        for name in sorted({product.title, product.title.split(" - ")[0], product.brand} - {""}, key=len, reverse=True):
            text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
    cjk = "".join(ch for ch in text if has_cjk(ch))
    doubled = re.search(r"(.{2,8}?)\1", cjk)
    if doubled:
        return f"repeats {doubled.group(1)!r}"
    grams = [cjk[i:i + 2] for i in range(len(cjk) - 1)]
    for gram in set(grams):
        if grams.count(gram) >= 3:
            return f"repeats {gram!r} {grams.count(gram)} times"
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]*", text)]
    for a, b in zip(words, words[1:]):
        if a == b:
            return f"repeats {a!r}"
    content = [w for w in words if w not in STOPWORDS and len(w) > 2]
    for word in set(content):
        if content.count(word) >= 3:
            return f"repeats {word!r} {content.count(word)} times"
    trigrams = [" ".join(words[i:i + 3]) for i in range(len(words) - 2)]
    for gram in set(trigrams):
        if trigrams.count(gram) >= 2:
            return f"repeats {gram!r}"
    return None


# Chinese a small model garbles when it runs facts together ("在5美元预算内是价格的1.49美元", "可以持续航").
GARBLED_ZH = ("是价格的", "持续航")


def _collapsed(word: str) -> str:
    """A spelling with doubled letters, hyphens and a plural s taken out ("noise-cancelling" ~ "noise-canceling")."""
    return re.sub(r"(.)\1", r"\1", word.replace("-", "")).rstrip("s")


def misspelt_word(text: str, product: Product) -> str | None:
    """A feature compound of the product written wrongly ("noise-cancing" for noise-cancelling), or Chinese
    run together into no sentence."""
    for garbled in GARBLED_ZH:
        if garbled in text:
            return f"garbled: {garbled!r}"
    own = set(re.findall(r"[a-z]+(?:-[a-z]+)+", own_text(product)))
    for word in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)+", text):
        word = word.lower()
        if word in own:
            continue
        for right in own:
            if _collapsed(word) != _collapsed(right) and edit_distance(word, right) <= 3 and word[:4] == right[:4]:
                return f"misspells {right!r} as {word!r}"
    return None


_NAME_FILLER = frozenset("the a an this these its".split())


def only_its_name(text: str, product: Product) -> str | None:
    """An English "reason" that is the product's name and nothing else ("The greenthumb lightweight garden
    kneeler.")."""
    if has_cjk(text):
        return None
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _NAME_FILLER]
    name = set(re.findall(r"[a-z0-9]+", f"{product.title} {product.brand}".lower()))
    if words and all(w in name for w in words):
        return "only the product's name, no reason"
    return None
