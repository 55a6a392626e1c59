"""One-line reasons for shown products: an LLM sentence when it is grounded, else a template sentence.

`explain` asks the language model for one sentence per candidate (one batched `generate` call), then
`check_reason` (reasons/check.py) rejects any sentence that states something the product data does not. A
rejected (or missing) sentence is replaced by `template_reason` (reasons/templates.py), which is built only
from the product's own fields and the score breakdown and always passes the check.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Sequence

from assistant.ingest.catalog import Product
from assistant.llm.prompts import load_template, quote_shopper
from assistant.llm.rerank import product_card
from assistant.core.text import has_cjk
from assistant.reasons.check import SENTENCE_END, check_reason
from assistant.reasons.claims import cut_off
from assistant.reasons.facts import facts_text, matched_facts
from assistant.reasons.templates import template_reason
from assistant.understand import Request
from assistant.understand.store import StoreProfile

ZH_OPENING = "这款"  # the start of the model's reply to a Chinese request (kept in the reason)
# The description is cut shorter for reasons than for the judge: prompt tokens are most of a reason's
# cost on 2 cores (5 products × ~150 tokens of prefill), and the other fields carry the facts.
REASON_DESCRIPTION_CHARS = 120


@dataclass
class Reason:
    """Why one product is shown: the sentence, who wrote it, and what the grounding check said."""

    product_id: str
    text: str
    source: str  # "llm" or "template"
    check: str  # "passed", why the LLM sentence was rejected, or "llm unavailable: ..."
    draft: str = field(default="", compare=False)  # the LLM's sentence as checked, kept when rejected


def reason_prompts(lm, request: Request, products: Sequence[Product]) -> list[str]:
    """One chat prompt per product from prompts/reason.txt."""
    template = load_template("reason")
    instruction = "请只用简体中文回答。" if request.language == "zh" else "Answer in English."
    shared = {"language_instruction": instruction, "request": quote_shopper(request.text or request.need, 400)}

    def render(section: str, **values: str) -> str:
        # Each section takes the variables it names (a missing one still raises PromptError).
        wanted = template.variables(section)
        return template.render(section, **{k: v for k, v in {**shared, **values}.items() if k in wanted})

    system = render("system")
    # A small model answers a Chinese request in English unless its reply already starts in Chinese.
    opening = ZH_OPENING if request.language == "zh" else ""
    return [lm.chat_prompt(system, render("user", product=product_card(p, REASON_DESCRIPTION_CHARS, request.currency))) + opening for p in products]


def facts_prompts(lm, request: Request, candidates: Sequence) -> list[str]:
    """One chat prompt per candidate from prompts/reason_facts.txt: the facts of the product that matched the
    request (reasons/facts.py) instead of the whole product card. (A worked example was tried: the 0.5B
    model copied its facts, "quiet" and "$50 budget", into other products' reasons.)"""
    template = load_template("reason_facts")
    zh = request.language == "zh"
    instruction = "请只用简体中文回答一句话。" if zh else "Answer in English, in one sentence."
    system = template.render("system", language_instruction=instruction)
    opening = ZH_OPENING if zh else ""
    # The request itself is left out: the facts already say what matched it, and a small model given the
    # shopper's words restated them as the product ("Waterproof jacket for my 6-year-old ... fits").
    return [lm.chat_prompt(system, template.render(
        "user", facts=facts_text(matched_facts(c.product, request, c.breakdown)),
        language_instruction=instruction)) + opening for c in candidates]


def shared_prefix(prompts: Sequence[str]) -> str:
    """The longest common start of the prompts, cut after the last line break inside it (so no token is
    split between the shared part and a row's own part), leaving every row at least its last line."""
    if len(prompts) < 2:
        return ""
    # Never a whole prompt: identical prompts (five identical store-brand products) would leave every row
    # empty, and generate refuses that (all five got template reasons).
    common = os.path.commonprefix(list(prompts))[: min(len(p) for p in prompts) - 1]
    return common[: common.rfind("\n") + 1]


def clean_generation(text: str) -> str:
    """The first sentence of a generation: quotes and whitespace stripped, cut at the first line break, a
    "Sentence:" label dropped, and a sentence the token limit cut short cut back to its last complete clause."""
    text = (text or "").strip().strip("\"'“”‘’«»「」").strip()
    text = text.split("\n", 1)[0].strip()
    text = _LABEL.sub("", text).strip().strip("\"'“”‘’«»「」").strip()
    parts = [p for p in SENTENCE_END.split(text) if p.strip()]
    first = parts[0].strip() if parts else ""
    return complete_sentence(speak_to_shopper(first.strip("\"'“”‘’«»「」").strip()))


_LABEL = re.compile(r"^(?:sentence|answer|reason|句子|回答|理由)\s*[:：]\s*", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;，；]|\s[—–]\s|\s(?:and|but|while|so)\s")


def grounded_sentence(text: str, product: Product, request: Request, others: Sequence[Product] = (),
                      store: StoreProfile | None = None) -> tuple[str, str | None, str]:
    """(sentence, failure, note): `text` when it passes `check_reason`; else its longest start ending at a
    clause break that passes ("…, making it a popular choice for young adults." → "…."), with the first
    failure kept as the note; else `text` with its failure. Cutting only ever removes claims."""
    failure = check_reason(text, product, request, others, store=store)
    if failure is None or not text:
        return text, failure, ""
    zh = has_cjk(text)
    candidate = text.rstrip("。.!！")
    while True:
        breaks = [m.start() for m in _CLAUSE_BREAK.finditer(candidate)]
        if not breaks:
            return text, failure, ""
        candidate = candidate[:breaks[-1]].rstrip(" ,;，；、—–")
        shorter = candidate + ("。" if zh else ".")
        if check_reason(shorter, product, request, others, store=store) is None:
            return shorter, None, failure


def complete_sentence(text: str) -> str:
    """`text` when it ends a sentence; else cut back to its last complete clause with a full stop added
    ("…, and is waterproof, so rain st" → "…, and is waterproof."); "" when no clause is left that ends well
    (the check then rejects it and a template sentence is shown)."""
    text = text.strip()
    if not text or cut_off(text) is None:
        return text
    zh = has_cjk(text)
    end = "。" if zh else "."
    candidate = text
    while True:
        breaks = [m.start() for m in _CLAUSE_BREAK.finditer(candidate)]
        if not breaks:
            return text
        candidate = candidate[:breaks[-1]].rstrip(" ,;，；、—–")
        if len(candidate) < (6 if zh else 12):
            return text
        if cut_off(candidate + end) is None:
            return candidate + end


_THIRD_PERSON = [(re.compile(p, re.IGNORECASE), r) for p, r in (
    (r"\bthe shoppers?'s? (request|needs?|requirements?)\b", r"your \1"),
    (r"\bthe shoppers?'s\b", "your"), (r"\bthe shopper\b", "you"),
    (r"购物者的(请求|需求|要求)", r"您的\1"), (r"购物者", "您"),
)]


def speak_to_shopper(text: str) -> str:
    """Small models write "suits the shopper's request": say "your request" to the shopper instead."""
    for pattern, replacement in _THIRD_PERSON:
        text = pattern.sub(replacement, text)
    return text


def explain(lm, request: Request, candidates: Sequence, max_new_tokens: int = 40, store: StoreProfile | None = None,
            style: str = "facts") -> list[Reason]:
    """A reason per candidate (`hybrid.Candidate`): the LLM's when grounded, else the template's. Never raises
    because of the model: a missing or failing model gives template reasons for all."""
    candidates = list(candidates)
    language = "zh" if request.language == "zh" else "en"
    products = [c.product for c in candidates]

    def fallback(candidate, check: str, draft: str = "") -> Reason:
        return Reason(candidate.product.id, template_reason(candidate.product, request, candidate.breakdown,
                                                           language), "template", check, draft)

    if not candidates:
        return []
    if lm is None:
        return [fallback(c, "llm unavailable: no language model") for c in candidates]
    try:
        prompts = facts_prompts(lm, request, candidates) if style == "facts" else reason_prompts(lm, request, products)
        prefix = shared_prefix(prompts)  # instructions and request: encoded once for every product
        outputs = lm.generate([p[len(prefix):] for p in prompts], max_new_tokens, prefix=prefix)
        if len(outputs) != len(candidates):
            raise RuntimeError(f"generate returned {len(outputs)} texts for {len(candidates)} prompts")
    except Exception as err:  # noqa: BLE001 — any model failure means template reasons, never an error
        return [fallback(c, f"llm unavailable: {type(err).__name__}: {err}") for c in candidates]
    reasons = []
    opening = ZH_OPENING if language == "zh" else ""
    for candidate, raw in zip(candidates, outputs):
        text = clean_generation(opening + raw) if raw.strip() else ""
        others = [p for p in products if p.id != candidate.product.id]
        shown, failure, cut = grounded_sentence(text, candidate.product, request, others, store)
        if failure is None:
            reasons.append(Reason(candidate.product.id, shown, "llm",
                                  f"passed after cutting a clause ({cut})" if cut else "passed", text))
        else:
            reasons.append(fallback(candidate, failure, text))
    return reasons
