"""What a careful reader catches in a reason that names no wrong number: the finer checks of `check_reason`.

Each function returns None when the sentence is fine, else the failure in words. Store-specific words come
from the served catalog's `StoreProfile` (its category cues give the type nouns, its brands the brands, its
currency the currency); the word lists here are language, not any store's vocabulary: feature claims,
gender words, currency markers, first-person words and the function words a cut sentence ends on.
"""

from __future__ import annotations

import functools
import re

from assistant.core.text import has_cjk
from assistant.ingest.catalog import Product
from assistant.reasons.claim_words import FEATURE_ROOTS, FEATURE_WORDS_EN, FEATURE_WORDS_ZH
from assistant.reasons.money import budget_stated
from assistant.understand import Request, load_vocabulary
from assistant.understand.store import StoreProfile

SENTENCE_ENDS = (".", "!", "。", "！")
# A sentence cut by the token limit ends on one of these ("for men under", "its main material is T").
DANGLING_EN = frozenset(
    "a an the and or but for with of to in on at by from under over below above than as is are its it's "
    "your their this that these those which who while because so very more most less about into like "
    "such each every both either up".split())
DANGLING_ZH = ("的", "和", "与", "及", "或", "为", "在", "是", "有", "让", "给", "对", "把", "比", "从", "以", "而", "且")
STOPWORDS = frozenset(
    "a an the and or but for with of to in on at by from under over is are it its this that your you their "
    "our great good perfect ideal choice option pick product item one new best nice".split())

# "Fits all sizes" is true only of a one-size product.
ALL_SIZES = re.compile(r"\b(?:fits?|for|suits?) (?:all|any|every) sizes?\b|\bone size fits all\b|\bany size\b|"
                       r"\ball sizes\b|各种尺寸|各种尺码|所有尺码|所有尺寸|任何尺寸|均码|各种身材", re.IGNORECASE)
ONE_SIZE = re.compile(r"one size|\bos\b|均码", re.IGNORECASE)

BOY_WORDS = re.compile(r"\b(?:boys?|boy's|boys'|sons?)\b|男孩|男童|儿子|男宝", re.IGNORECASE)
GIRL_WORDS = re.compile(r"\b(?:girls?|girl's|girls'|daughters?)\b|女孩|女童|女儿|女宝", re.IGNORECASE)
MEN_WORDS = re.compile(r"\b(?:men|men's|man|male|gentlemen|husband|dad|father)\b|男士|男性|男式|男款|男装", re.IGNORECASE)
WOMEN_WORDS = re.compile(r"\b(?:women|women's|woman|female|ladies|lady|wife|mom|mother)\b|女士|女性|女式|女款|女装",
                         re.IGNORECASE)

FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|my|me|mine|myself)\b|我(?!们)")
COMMANDS = re.compile(r"\brequest of\b|\border for\b|\b(?:does not|doesn't|do not|isn't|is not) (?:fit|suit|match)|"
                      r"不适合|不符合|\bmeets all\b|\ball (?:the|your) (?:criteria|requirements)\b|符合所有|"
                      r"\bshow (?:me|us)\b|\bshow more\b|\bmore options\b|\bsomething else\b|\bmake it\b|"
                      r"\brequest for\b|\byour request (?:is|of)\b|给我看|再来|换一个|其他的|请求是", re.IGNORECASE)
PRICE_AS_SUBJECT = re.compile(r"^(?:under|below|less than|within|around|about)\s+\S+\s+(?:is|are|makes?|fits?)\b",
                              re.IGNORECASE)


def own_text(product: Product) -> str:
    """Everything the product says about itself, lower-cased (a word found here is grounded)."""
    return " ".join([product.title, product.category, product.brand, product.color, product.audience,
                     " ".join(product.tags), product.description, product.size.replace("|", " ")]).lower()


def _singular(word: str) -> str:
    word = word.lower().strip("'")
    for end, repl in (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("sses", "ss"), ("oes", "o"), ("s", "")):
        if word.endswith(end) and len(word) > len(end) + 2 and not word.endswith("ss"):
            return word[: -len(end)] + repl
    return word


def _own_words(product: Product) -> set[str]:
    return {_singular(w) for w in re.findall(r"[a-z][a-z'-]*", own_text(product)) for w in [w, *w.split("-")]}


def echoes(text: str, product: Product, request: Request) -> str | None:
    """The request or a command restated as if it were the product, or the shopper's own first person."""
    found = FIRST_PERSON.search(text)
    if found:
        return f"echoes the request: speaks as the shopper ({found.group(0)!r})"
    found = COMMANDS.search(text) or PRICE_AS_SUBJECT.search(text)
    if found:
        return f"echoes the request or a command ({found.group(0)!r})"
    asked = (request.text or "").lower()
    if not asked:
        return None
    own = own_text(product)
    words, asked_words = re.findall(r"[\w$.'-]+", text.lower()), re.findall(r"[\w$.'-]+", asked)
    for size in range(len(asked_words), 3, -1):
        for i in range(len(asked_words) - size + 1):
            run = " ".join(asked_words[i:i + size])
            if run in " ".join(words) and run not in own:
                return f"echoes the request ({run!r})"
    cjk_asked = "".join(ch if has_cjk(ch) else " " for ch in asked)
    for piece in cjk_asked.split():
        for size in range(len(piece), 5, -1):
            for i in range(len(piece) - size + 1):
                if piece[i:i + size] in text and piece[i:i + size] not in own:
                    return f"echoes the request ({piece[i:i + size]!r})"
    return None


GENERIC_TYPES = frozenset(
    "accessory aid all age apparel appliance audio baby bag balance bank bar basket bath bedding bridge building "
    "camping can card care center children' clothing collection comfort cooking craft cut dining dry easter "
    "educational electronic escape fashion feeding fiction fitness food forest fresh frozen game gaming garden "
    "gardening gear good grocery hiking island item key kid kit kitchen leisure life light lighting living mind "
    "misc miscellaneou mix mobility moon need nonfiction nutrition other outdoor packaged planning play print "
    "processed produce product refrigerated restaurant retail running safety seasonal serve service set shop "
    "shoppe specialty stable station storage strength suit supply sweet travel treatment vision walk water "
    "wearable wildlife".split())


@functools.lru_cache(maxsize=8)
def _type_words(cues: tuple[str, ...]) -> frozenset[str]:
    from assistant.reasons.lexicon import AUDIENCE_WORDS
    heads = {_singular(cue.split()[-1]) for cue in cues if cue.split()}
    audience = {_singular(w) for w in AUDIENCE_WORDS} | set(AUDIENCE_WORDS)
    return frozenset(h for h in heads if len(h) >= 3 and h.isalpha() and h not in GENERIC_TYPES
                     and h not in STOPWORDS and h not in audience)


# Chinese type characters a reason uses on their own ("女装靴"), beside the glossary's words ("靴子").
ZH_TYPE_CHARS = {"靴": "boots", "裙": "dress"}


@functools.lru_cache(maxsize=1)
def _zh_glosses() -> tuple[tuple[str, str], ...]:
    gloss = {**ZH_TYPE_CHARS, **load_vocabulary(("en", "zh")).gloss}
    return tuple(sorted(((zh, en) for zh, en in gloss.items() if has_cjk(zh) and en), key=lambda p: -len(p[0])))


def _compound_of(word: str, own: set[str]) -> bool:
    """"raincoat" for a rain jacket: the type word starts or ends with one of the product's own words."""
    return any(len(w) >= 4 and w != word and (word.startswith(w) or word.endswith(w)) for w in own)


def wrong_type(text: str, product: Product, store: StoreProfile | None) -> str | None:
    """A product-type word of the store that is not this product's own ("boots" for ballet flats)."""
    if store is None or not store.category_cues:
        return None
    types = _type_words(tuple(store.category_cues))
    own = _own_words(product)
    for word in re.findall(r"[A-Za-z][A-Za-z-]*", text):
        for part in [word, *word.split("-")] if "-" in word else [word]:
            single = _singular(part)
            if single in types and single not in own and not _compound_of(single, own):
                return f"calls it a {part.lower()!r}, not the product's type ({product.category or product.title})"
    rest = text
    for zh, en in _zh_glosses():
        if zh not in rest:
            continue
        rest = rest.replace(zh, " ")
        head = _singular(en.split()[-1])
        if head in types and head not in own and not _compound_of(head, own):
            return f"calls it {zh!r} ({en}), not the product's type ({product.category or product.title})"
    return None


def _supported(claim: str, own: str) -> bool:
    """Whether a product's own text (`own_text`) makes a feature claim: one of the claim's roots is in it."""
    return any(root in own for root in FEATURE_ROOTS[claim])


# Compounds a small model praises with (high-stocked, well-regulated, well-name): claims unless the product's
# own text has the same compound.
PRAISE_PREFIXES = ("high", "well")
PRAISE_COMPOUND = re.compile(rf"\b(?:{'|'.join(PRAISE_PREFIXES)})-[a-z]+")


def unfounded_feature(text: str, product: Product) -> str | None:
    """A feature claim (warm, waterproof, heat-resistant, fits all sizes...) the product's data does not make."""
    own = own_text(product)
    found = ALL_SIZES.search(text)
    if found and not ONE_SIZE.search(product.size + " " + own):
        return f"claims {found.group(0)!r} but the product comes in {product.size.replace('|', ', ') or 'no stated sizes'}"
    lower = text.lower()
    for phrase in sorted(FEATURE_WORDS_EN, key=len, reverse=True):
        if re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", lower):
            claim = FEATURE_WORDS_EN[phrase]
            if not _supported(claim, own):
                return f"claims {phrase!r}, which the product data does not say"
            lower = lower.replace(phrase, " ")
    for word, claim in FEATURE_WORDS_ZH.items():
        if word in text and not _supported(claim, own):
            return f"claims {word!r} ({claim}), which the product data does not say"
    for found in PRAISE_COMPOUND.finditer(lower):  # "high-stocked", "well-regulated": praise no list foresaw
        if found.group(0) not in own:
            return f"claims {found.group(0)!r}, which the product data does not say"
    return None


# Prompt words a small model repeats as if they were the product's ("meets all the listed facts").
PROMPT_WORDS = ("listed", "facts")
# Words that open a claim no product data backs: the packaged Qwen wrote 以其…而著名 / 著称 ("famous for its…")
# for 23 of the demo store's 35 rejected Chinese reasons, and with 著名 / 著称 forbidden it still wrote
# 以其…著著 / 著眼 / 著色. Without the opening it lists the features plainly.
CLAIM_OPENINGS = ("以其",)
# The product called a brand ("it is a waterproof kids' raincoat, which is a brand that offers a red colour"):
# garbled, whatever the brand. "It is a store brand" and "a brand-name cereal" are fine English.
BRAND_AS_PRODUCT = re.compile(r"\b(?:it|which|that|they) (?:is|are) an? brand(?: name)?\b(?![-\w])", re.IGNORECASE)
BRAND_AS_PRODUCT_PHRASES = ("which is a brand", "it is a brand name", "is a brand that", "which is a brand name")


def unsupported_claims(product: Product) -> list[str]:
    """The feature words (English and Chinese) `unfounded_feature` would reject for this product, the
    prompt's own words and the openings of claims: what reason decoding forbids, so the model writes a fact
    instead of a claim."""
    own = own_text(product)
    claims = [phrase for phrase, claim in FEATURE_WORDS_EN.items() if not _supported(claim, own)]
    claims += [word for word, claim in FEATURE_WORDS_ZH.items() if not _supported(claim, own)]
    praise = [f"{p}-" for p in PRAISE_PREFIXES if f"{p}-" not in own]  # " high" then "-": any high-… compound
    return (claims + [w for w in PROMPT_WORDS if w not in own] + list(CLAIM_OPENINGS) + list(BRAND_AS_PRODUCT_PHRASES)
            + praise)


# "a premium brand", "a 24 oz beeralemalt brand", "a brand of beer": what the words around "brand" call it.
_BRAND_PHRASE = re.compile(r"\b(?:an?|the|its)\s+((?:[\w'’.]+[\s-]+){0,3}?)brand\b(?:\s+of\b)?", re.IGNORECASE)


def calls_it_a_brand(text: str, product: Product) -> str | None:
    """A sentence that calls the product itself a brand, or its brand the one it is for ("a good pick for
    Starling Toys, which offers…"), or names a brand the product's data does not give it ("a premium brand"
    for a sauce whose line is called Premium; "a store brand" only where its tags say so)."""
    found = BRAND_AS_PRODUCT.search(text)
    if found is None and product.brand:
        found = re.search(rf"\b(?:pick|choice) for (?:the )?{re.escape(product.brand)}(?![\w'’])", text, re.IGNORECASE)
    if found is None:
        own = {product.brand.lower(), *(t.lower() for t in product.tags)}
        for phrase in _BRAND_PHRASE.finditer(text):
            said = re.sub(r"[\s-]+", " ", phrase.group(1)).strip().lower()
            if phrase.group(0).lower().endswith(" of") or (said and f"{said} brand" not in own and said not in own):
                found = phrase
                break
    return f"calls the product a brand ({found.group(0)!r})" if found else None


_PRODUCT_AS_AGE = re.compile(r"\b(?:which|that|it|they) (?:is|are) an? \d+[\s-]*years?[\s-]*olds?\b"
                             r"(?![\s-]*(?:boys?|girls?|sons?|daughters?|child|children|kids?)\b|'s)", re.IGNORECASE)


def calls_it_an_age(text: str) -> str | None:
    """The product called the shopper's child: "…kids' rain jacket, which is a 6-year-old."."""
    found = _PRODUCT_AS_AGE.search(text)
    return f"calls the product an age ({found.group(0)!r})" if found else None


def wrong_gender(text: str, product: Product) -> str | None:
    """A boy's or girl's, man's or woman's word for a product the data gives to the other one."""
    own = own_text(product) + " " + product.audience.lower()
    for words, other, unlike in ((BOY_WORDS, GIRL_WORDS, BOY_WORDS), (GIRL_WORDS, BOY_WORDS, GIRL_WORDS),
                                 (MEN_WORDS, WOMEN_WORDS, MEN_WORDS), (WOMEN_WORDS, MEN_WORDS, WOMEN_WORDS)):
        found = words.search(text)
        if found and other.search(own) and not unlike.search(own) and "unisex" not in own:
            return f"says {found.group(0)!r} for a product the data gives to the other sex"
    return None


AGE = re.compile(r"(?<![\d-])(\d+)[\s-]*(?:years?[\s-]*old|year-olds?|yo\b)|(?<![\d-])(\d+)\s*岁", re.IGNORECASE)


def wrong_age(text: str, product: Product, request: Request) -> str | None:
    """An age the shopper did not give ("suitable for a 5-year-old" after "under $5")."""
    for match in AGE.finditer(text):
        age = int(match.group(1) or match.group(2))
        if age != request.age_years and f"{age} year" not in own_text(product) and f"{age}+" not in own_text(product):
            return f"says it is for a {age}-year-old, an age the shopper did not give"
    return None


def wrong_size(text: str, product: Product) -> str | None:
    """A size the product is not offered in ("size XL", "M码")."""
    offered = {s.strip().lower() for s in product.sizes} | {s.strip().lower() for s in product.size.split("|")}
    for match in re.finditer(r"\bsizes?\s+([A-Za-z0-9][A-Za-z0-9/.]*(?:-[A-Za-z0-9/.]+)?)|([A-Za-z0-9][A-Za-z0-9/.-]*)\s*码", text):
        raw = (match.group(1) or match.group(2)).rstrip(".")
        size = raw.lower()
        if size in offered or not (re.search(r"\d", raw) or re.fullmatch(r"[A-Z]{1,4}", raw)):
            continue  # "size fits all", "sizes for everyone": not a size
        if re.fullmatch(r"\d+(?:\.\d+)?", size) and any(size in re.findall(r"\d+(?:\.\d+)?", s) for s in offered):
            continue
        return f"size {size!r} is not offered ({product.size.replace('|', ', ') or 'no sizes'})"
    return None


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def misspelt_brand(text: str, product: Product, store: StoreProfile | None) -> str | None:
    """The product's brand not written exactly ("Zenk" for Zenko), another brand of the store, or a word
    called a brand that is not the product's ("the Navy brand")."""
    brand = product.brand.strip()
    called = re.search(r"\b(?:the|a|an|from)\s+([A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*)?)\s+brand\b", text)
    if called and called.group(1).lower() != brand.lower() and called.group(1).lower() not in ("national", "private", "store"):
        return f"calls {called.group(1)!r} a brand; the product's brand is {brand or 'not given'}"
    if brand and brand.lower() not in ("national", "private"):
        for found in re.finditer(rf"(?<![\w]){re.escape(brand)}(?![\w])", text, re.IGNORECASE):
            if found.group(0) != brand and found.group(0) != brand.upper():  # "greenthumb" for Greenthumb
                return f"brand written {found.group(0)!r}, not exactly {brand!r}"
        for part in brand.split():
            if len(part) < 4 or part in text:
                continue
            for word in re.findall(r"[A-Z][\w&'-]*", text):
                near = word.lower() != part.lower() and (part.lower().startswith(word.lower()) and len(word) >= 3
                                                        or edit_distance(word.lower(), part.lower()) <= 2)
                if near and not re.search(rf"(?<![a-z]){re.escape(word.lower())}(?![a-z])", own_text(product)):
                    return f"brand written {word!r}, not exactly {brand!r}"
    if store is not None:
        own = own_text(product)
        for other in store.brands:
            if other.lower() == brand.lower() or other.lower() in own or len(other) < 3:
                continue
            if re.search(rf"(?<![\w]){re.escape(other)}(?![\w])", text):
                return f"brand {other!r} is not the product's brand ({brand or 'none'})"
    return None


def mixed_language(text: str, product: Product, request: Request) -> str | None:
    """English words in a Chinese reason that are not the product's own name, brand, features or sizes
    ("适合 seniors", "雨 jacket")."""
    if request.language != "zh":
        return None
    own = " ".join([product.title, product.brand, " ".join(product.tags), product.size.replace("|", " ")]).lower()
    for word in re.findall(r"[A-Za-z][A-Za-z'-]*", text):
        if len(word) > 1 and not re.search(rf"(?<![a-z]){re.escape(word.lower())}(?![a-z])", own):
            return f"mixed language: English word {word!r} in a Chinese reason"
    return None


def names_no_fact(text: str, product: Product, store: StoreProfile | None = None,
                  request: Request | None = None) -> str | None:
    """A reason that could be said of any product ("it meets your needs"): no price (or its fit to the budget
    the shopper stated), rating, colour, size, brand or feature of this product's own. A brand or tag much of
    the store shares (`StoreProfile.common`: "National", "national brand") does not single a product out,
    unless the shopper asked for it ("store brand please"). Nor do the words of the product's own name: every
    reason names the product, and "Chicken breast bone in is a good pick because it is a bone in chicken
    breast" says nothing more."""
    lower = text.lower()
    own_numbers = {f"{product.price:.2f}", str(int(product.price) + (product.price % 1 > 0))}
    if product.rating is not None:
        own_numbers |= {f"{product.rating:.1f}", str(product.rating_count)}
    if (request is not None and request.price_max is not None and product.price <= request.price_max
            and budget_stated(request) and ("budget" in lower or "预算" in text)):  # "within your $5 budget", "在5美元预算内"
        own_numbers |= {f"{request.price_max:.2f}", f"{request.price_max:g}"}
    if any(re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", text) for n in own_numbers):
        return None
    from assistant.reasons.lexicon import COLOR_ZH, MATERIALS_ZH
    color = product.color.lower()
    if color and (re.search(rf"\b{re.escape(color)}\b", lower) or (COLOR_ZH.get(color) or "\0") in text):
        return None

    def common(attribute: str, value: str) -> bool:
        asked = request is not None and value.lower() in request.text.lower()
        return store is not None and store.is_common(attribute, value) and not asked

    if product.brand and product.brand.lower() in lower and not common("brand", product.brand):
        return None
    # Latin boundaries: a size runs into Chinese text with no space ("6.4 oz的包装").
    if any(s and re.search(rf"(?<![A-Za-z0-9-]){re.escape(s.lower())}(?![A-Za-z0-9-])", lower) for s in product.sizes):
        return None
    own = own_text(product)
    for tag in product.tags:
        if not common("tag", tag) and any(len(w) >= 4 and w not in STOPWORDS and re.search(rf"\b{re.escape(w)}", lower)
               for w in re.findall(r"[a-z]+", tag.lower())):
            return None
    for word, claim in FEATURE_WORDS_ZH.items():
        if word in text and any(root in own for root in FEATURE_ROOTS[claim]):
            return None
    if any(word in text and root in own for word, root in MATERIALS_ZH.items()):
        return None
    return "generic: names no fact of this product (price, feature, colour, size, brand, rating)"
