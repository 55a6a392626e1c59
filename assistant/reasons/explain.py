"""One-line reasons for shown products: an LLM sentence when it is grounded, else a template sentence.

`explain` asks the language model for one sentence per candidate (one batched `generate` call), then
`check_reason` (reasons/check.py) rejects any sentence that states something the product data does not. A
sentence rejected for one wrong fact it wrote (a colour, number, type word or name) is written once more with
that fact forbidden; a sentence rejected again (or missing) is replaced by `template_reason` (reasons/templates.py),
which is built only from the product's own fields and the score breakdown and always passes the check.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from assistant.ingest.catalog import Product
from assistant.llm.prompts import load_template, quote_shopper
from assistant.llm.rerank import product_card
from assistant.core.text import has_cjk
from assistant.reasons.check import SENTENCE_END, check_reason
from assistant.reasons.claims import unsupported_claims
from assistant.reasons.facts import Fact, facts_text, matched_facts, reason_vocabulary
from assistant.reasons.templates import template_reason
from assistant.reasons.wording import cut_off
from assistant.understand import Request
from assistant.understand.store import StoreProfile

ZH_OPENING = "这款"  # the start of the model's reply to a Chinese request (kept in the reason)
# The description is cut shorter for reasons than for the judge: prompt tokens are most of a reason's
# cost on 2 cores (5 products × ~150 tokens of prefill), and the other fields carry the facts.
REASON_DESCRIPTION_CHARS = 120
# Seconds the first reason of a streamed answer may take (#16: visible within 1.5 s of the cards, check and
# hand-over included); about 26 tokens of the packaged Qwen int8 on 2 cores.
FIRST_REASON_SECONDS = 1.25


@dataclass
class Reason:
    """Why one product is shown: the sentence, who wrote it, and what the grounding check said."""

    product_id: str
    text: str
    source: str  # "llm" or "template"
    check: str  # "passed", why the LLM sentence was rejected, or "llm unavailable: ..."
    draft: str = field(default="", compare=False)  # the LLM's sentence as checked, kept when rejected


_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")
_NUMBER_FAILURE = re.compile(r"^(?:number|amount) '?([\d.,]+)'?|^says the price is ([\d.,]+)")
# Failures that are one wrong fact: forbidding it, the model wrote the right one in 5 of 6 demo rows. An echo
# or a repetition forbidden made it write a garbled sentence (6 of 10), so those get the template.
_ONE_WRONG_FACT = ("number", "amount", "says the price", "colour", "material", "audience", "brand", "calls",
                   "claims", "size", "mentions another product", "mixed language", "currency", "mentions a budget",
                   "says ")


def offending_span(draft: str, failure: str) -> str | None:
    """The wrong fact of a rejected draft that its failure names (the quoted word, or the number), to forbid
    when the sentence is written again; None when the failure is not one wrong fact or it is not in the draft."""
    if not draft or not failure.startswith(_ONE_WRONG_FACT):
        return None
    number = _NUMBER_FAILURE.search(failure)
    spans = [g for m in ([number] if number else _QUOTED.finditer(failure)) for g in m.groups() if g]
    return next((span for span in spans if span.strip() and span.lower() in draft.lower()), None)


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


def facts_prompts(lm, request: Request, facts: Sequence[list[Fact]]) -> list[str]:
    """One chat prompt per candidate from prompts/reason_facts.txt, given each candidate's facts that matched
    the request (`matched_facts`) instead of the whole product card. (A worked example was tried: the 0.5B
    model copied its facts, "quiet" and "$50 budget", into other products' reasons.)"""
    template = load_template("reason_facts")
    zh = request.language == "zh"
    instruction = "请只用简体中文回答一句话。" if zh else "Answer in English, in one sentence."
    system = template.render("system", language_instruction=instruction)
    opening = ZH_OPENING if zh else ""
    # The request itself is left out: the facts already say what matched it, and a small model given the
    # shopper's words restated them as the product ("Waterproof jacket for my 6-year-old ... fits").
    return [lm.chat_prompt(system, template.render("user", facts=facts_text(f), language_instruction=instruction))
            + opening for f in facts]


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
    end = "。" if has_cjk(text) else "."
    for candidate in shorter_clauses(text.rstrip("。.!！")):
        if check_reason(candidate + end, product, request, others, store=store) is None:
            return candidate + end, None, failure
    return text, failure, ""


def shorter_clauses(text: str) -> Iterator[str]:
    """Ever shorter starts of `text`, each cut back at its last clause break (end punctuation not added)."""
    candidate = text
    while breaks := [m.start() for m in _CLAUSE_BREAK.finditer(candidate)]:
        candidate = candidate[:breaks[-1]].rstrip(" ,;，；、—–")
        yield candidate


def complete_sentence(text: str) -> str:
    """`text` when it ends a sentence; else cut back to its last complete clause with a full stop added
    ("…, and is waterproof, so rain st" → "…, and is waterproof."); "" when no clause is left that ends well
    (the check then rejects it and a template sentence is shown)."""
    text = text.strip()
    if not text or cut_off(text) is None:
        return text
    zh = has_cjk(text)
    end = "。" if zh else "."
    for candidate in shorter_clauses(text):
        if len(candidate) < (6 if zh else 12):
            return text
        if cut_off(candidate + end) is None:
            return candidate + end
    return text


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


def sentence_written(text: str) -> bool:
    """True once a generation holds a whole first sentence (a sentence end and the next sentence's start, or
    a line break after some words): `clean_generation` keeps only that, so decoding further is wasted."""
    body = text.lstrip()
    return bool(SENTENCE_END.search(body)) or "\n" in body.rstrip("\n")


def explain(lm, request: Request, candidates: Sequence, max_new_tokens: int = 40, store: StoreProfile | None = None,
            style: str = "facts", on_reason: Callable[[Reason], None] | None = None) -> list[Reason]:
    """A reason per candidate (`hybrid.Candidate`): the LLM's when grounded, else the template's. Never raises
    because of the model: a missing or failing model gives template reasons for all.

    With `on_reason`, each reason is passed to it as soon as it is checked: the first candidate's is written
    alone (so it is ready in the time of one sentence), then the others in one batch, each handed over as it
    ends. Without it all are written in one batch, which takes less time for all of them together."""
    candidates = list(candidates)
    language = "zh" if request.language == "zh" else "en"
    products = [c.product for c in candidates]
    opening = ZH_OPENING if language == "zh" else ""
    reasons: dict[int, Reason] = {}

    def fallback(candidate, check: str, draft: str = "") -> Reason:
        return Reason(candidate.product.id, template_reason(candidate.product, request, candidate.breakdown,
                                                           language), "template", check, draft)

    retry: dict[int, tuple[str, str, str]] = {}  # position -> (span to forbid, first draft, its failure)

    def settle(position: int, raw: str, may_retry: bool = True) -> None:
        if position in reasons or (may_retry and position in retry):
            return
        candidate = candidates[position]
        text = clean_generation(opening + raw) if raw.strip() else ""
        others = [p for p in products if p.id != candidate.product.id]
        shown, failure, cut = grounded_sentence(text, candidate.product, request, others, store)
        span = offending_span(text, failure) if failure is not None and may_retry else None
        if span is not None:
            retry[position] = (span, text, failure)  # written again after this batch, with `span` forbidden
            return
        first = f"; first attempt: {retry[position][2]}" if position in retry else ""
        passed = f"passed after cutting a clause ({cut})" if cut else "passed"
        reasons[position] = (Reason(candidate.product.id, shown, "llm", passed + first, text)
                             if failure is None else fallback(candidate, failure + first, text))
        if on_reason is not None:
            on_reason(reasons[position])

    def fill_with_templates(check: str) -> None:
        for position, candidate in enumerate(candidates):
            if position not in reasons:
                # A row waiting for its second attempt keeps its first failure: that is why it is a template.
                reasons[position] = (fallback(candidate, retry[position][2], retry[position][1]) if position in retry
                                     else fallback(candidate, check))
                if on_reason is not None:
                    on_reason(reasons[position])

    if not candidates:
        return []
    if lm is None:
        fill_with_templates("llm unavailable: no language model")
        return [reasons[i] for i in range(len(candidates))]
    try:
        facts = [matched_facts(c.product, request, c.breakdown, store) for c in candidates] if style == "facts" else []
        prompts = facts_prompts(lm, request, facts) if facts else reason_prompts(lm, request, products)
        prefix = shared_prefix(prompts)  # instructions and request: encoded once for every product
        rows = [p[len(prefix):] for p in prompts]
        streamed = on_reason is not None and len(rows) > 1
        groups = [[0], list(range(1, len(rows)))] if streamed else [list(range(len(rows)))]
        # Decoding may not write a claim the check would reject, and a reason whose facts say little is held
        # to their words and a few joining words (reasons/facts.py): the model writes a fact instead.
        banned = [unsupported_claims(p) for p in products]
        allowed = [reason_vocabulary(f, p, language, store) for f, p in zip(facts, products)] if facts else None

        def write(group: list[int], stop: Callable[[str], bool], extra: dict[int, str], may_retry: bool) -> None:
            outputs = lm.generate([rows[i] for i in group], max_new_tokens, prefix=prefix, stop=stop,
                                  on_done=lambda row, text: settle(group[row], text, may_retry),
                                  banned=[banned[i] + ([extra[i]] if i in extra else []) for i in group],
                                  allowed=[allowed[i] for i in group] if allowed else None)
            if len(outputs) != len(group):
                raise RuntimeError(f"generate returned {len(outputs)} texts for {len(group)} prompts")
            for position, raw in zip(group, outputs):
                settle(position, raw, may_retry)

        for group in groups:
            if streamed and group == groups[0]:
                # The first reason has a deadline and no second attempt: what is written by then is cut back
                # to its last complete clause (or the template stands in), so the shopper sees a reason within
                # FIRST_REASON_SECONDS.
                deadline = time.monotonic() + FIRST_REASON_SECONDS
                write(group, lambda text: sentence_written(text) or time.monotonic() > deadline, {}, False)
            else:
                write(group, sentence_written, {}, True)
        if retry:  # the rejected rows once more, together, each with the span it was rejected for forbidden
            write(sorted(retry), sentence_written, {i: span for i, (span, _, _) in retry.items()}, False)
    except Exception as err:  # noqa: BLE001 — any model failure means template reasons, never an error
        fill_with_templates(f"llm unavailable: {type(err).__name__}: {err}")
    return [reasons[i] for i in range(len(candidates))]
