"""One shopper turn, end to end: parse the message into the conversation → retrieve candidates (content,
CF, segment priors) → hybrid rank → LLM rerank → CF evidence → the turn's trace record; reasons on demand.

`TurnPipeline` is the only copy of this path: `Assistant.recommend`, the fairness and request evaluations
and the benchmarks all run turns through it, with their collaborators passed in."""

from __future__ import annotations

import functools
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping, Sequence

import numpy as np

from assistant.core.config import FusionSettings
from assistant.index.embedding import Embedder, english_words
from assistant.index import ProductIndex
from assistant.privacy.pii import scrub, without_labels
from assistant.rank.attributes import ProductFeatures
from assistant.rank.breakdown import ReasonNote
from assistant.rank.content import fuse_content, lexical_scores
from assistant.rank.hybrid import Candidate, RankContext, RankResult, rank
from assistant.core.text import count_cjk, word_forms
from assistant.rank.rules import MerchRule, rules_for, rules_note
from assistant.rank.relax import STRONG_SIMILARITY, relevance_floor, states_a_need
from assistant.rank.scoring import Scorer, TurnSignals
from assistant.service.cross_lingual import STRONG_SIMILARITY as CROSS_STRONG
from assistant.service.cross_lingual import query_embedder as cross_lingual_query_embedder
from assistant.service.answers import clarifying_question, suggestions, summary
from assistant.rank.segments import Segment, resolve_segment
from assistant.service.traces import TurnRecord
from assistant.understand import Conversation, Request, Vocabulary
from assistant.understand.grounding import ground
from assistant.understand.spelling import correct_spelling, spelling_variants
from assistant.understand.screening import constraint_fields, is_unrecognised, is_vague, unsold_head_noun
from assistant.understand.store import StoreProfile, build_profile, store_vocabulary

if TYPE_CHECKING:
    from assistant.behaviour import CFModel

MAX_QUERY_CHARS = 2_000
MAX_MESSAGE_CHARS = 4_000  # as the API allows; also bounds the cost of PII scrubbing
SEGMENT_CONTEXT_WEIGHT = 0.25  # how much the segment's description steers content search
LIKE_WEIGHT = 0.6  # how much "something like the second one" steers content search
CF_POOL = 200
MULTILINGUAL_MODELS = ("use-",)  # embedders that read Chinese: a Chinese need is embedded as written


@functools.lru_cache(maxsize=8)
def _gloss_longest_first(vocab: Vocabulary) -> tuple[str, ...]:
    """The glossary's Chinese phrases, longest first (sorted once per vocabulary, not per turn)."""
    return tuple(sorted(vocab.gloss, key=len, reverse=True))


def search_words(request: Request) -> str:
    """The words BM25 looks for: the need (English gloss) and the shopper's own Chinese words."""
    return " ".join(x for x in (request.need or " ".join(request.categories), request.need_original) if x)[:MAX_QUERY_CHARS]


@dataclass
class Recommendation:
    """The answer to one shopper message."""

    turn_id: str
    request: Request
    segment: str
    segment_source: str
    items: list[Candidate]  # best first: the exact matches, then the marked alternatives
    filter_counts: dict[str, int]
    matched: int = 0  # how many of `items` meet every constraint
    relaxed: list[str] = field(default_factory=list)  # what the alternatives do not meet, each once
    clarify: str | None = None  # a question for the shopper (nothing recognisable, or a vague need)
    suggestions: list[str] = field(default_factory=list)  # things to suggest with the question

    def to_dict(self) -> dict[str, Any]:
        return {"turn_id": self.turn_id, "segment": self.segment, "segment_source": self.segment_source,
                "request": self.request.to_dict(), "filters": self.filter_counts,
                "matched": self.matched, "relaxed": list(self.relaxed), "clarify": self.clarify,
                "suggestions": list(self.suggestions), "summary": summary(self),
                "items": [{"rank": c.rank, "score": round(c.score, 4), "product": c.product.to_dict(),
                           "match": not c.breakdown.relaxes, "relaxes": list(c.breakdown.relaxes),
                           "breakdown": c.breakdown.to_dict()} for c in self.items]}

    @classmethod
    def of(cls, record: TurnRecord) -> "Recommendation":
        result = record.result
        return cls(record.turn_id, record.request, record.segment, record.segment_source, result.candidates,
                   result.filter_counts, min(result.matched, len(result.candidates)), result.relaxed,
                   record.clarify, list(record.suggestions))


@dataclass(frozen=True)
class LLMStage:
    """The language model a turn may use, and what to say in the trace when there is none."""

    model: Any = None  # assistant.llm.model.LanguageModel, or None
    rerank_top_n: int = 8
    weight: float = 0.0
    off_reason: str = ""  # why `model` is None when it is turned off or failed to load


def conversation_history(conversation: Conversation, turns: int = 3) -> str:
    """The shopper's earlier messages in this conversation (context for the LLM judge), newest last."""
    earlier = [t.message for t in conversation.turns[:-1]][-turns:]
    return " / ".join(earlier)


def history_ids(cf: "CFModel", pseudonym: str | None) -> list[str]:
    """A known customer's 20 strongest items in their CF profile."""
    data = cf.trained
    if pseudonym not in data.user_index:
        return []
    row = data.profile[data.user_index[pseudonym]]
    order = np.argsort(-row.data)[:20]
    return [data.items[row.indices[i]] for i in order]


def brand_affinity(index: ProductIndex, cf: "CFModel", pseudonym: str | None) -> dict[str, float]:
    """Share of a known customer's interaction weight per brand (0..1)."""
    data = cf.trained
    if pseudonym not in data.user_index:
        return {}
    row = data.matrix[data.user_index[pseudonym]]
    brands: dict[str, float] = {}
    for item, weight in zip(row.indices, row.data):
        position = index.position_of(data.items[item])
        product = index.products[position] if position is not None else None
        if product is not None and product.brand:
            brands[product.brand] = brands.get(product.brand, 0.0) + float(weight)
    total = sum(brands.values()) or 1.0
    return {b: w / total for b, w in brands.items()}


class TurnPipeline:
    """The turn path over one index build, one CF model (or none) and one LLM stage."""

    def __init__(self, index: ProductIndex, features: ProductFeatures, segments: Mapping[str, Segment],
                 embedder: Embedder, cf: "CFModel | None" = None, fusion: FusionSettings = FusionSettings(),
                 llm: LLMStage = LLMStage(), notes: Mapping[str, str] | None = None,
                 profile: StoreProfile | None = None, cross_lingual: np.ndarray | None = None,
                 preference: Scorer | None = None, rules: Sequence[MerchRule] = ()) -> None:
        self.index, self.features, self.segments, self.embedder = index, features, segments, embedder
        self.preference = preference  # the learned preference model's scorer, used while `fusion.preference`
        self.cross_lingual = cross_lingual  # multilingual vectors of the products (service/cross_lingual.py)
        self.profile = profile or build_profile(index.products)
        self.cf, self.fusion, self.llm = cf, fusion, llm
        self.notes = dict(notes or {})  # stage notes every trace carries (e.g. a damaged CF model)
        self.rules = tuple(rules)  # staff's merchandising rules (rank/rules.py); each turn applies those that hold

    def untranslated(self, request: Request) -> bool:
        """A need in words the parser's glossary left untranslated (two Chinese characters or more), for a
        store with multilingual vectors: searched as written, by those."""
        if self.cross_lingual is None or not request.need_original:
            return False
        vocab = store_vocabulary(self.profile)
        left = request.need_original
        for phrase in _gloss_longest_first(vocab):
            left = left.replace(phrase, "")
        if vocab.dictionary is not None:
            return not vocab.dictionary.covers(left)
        return count_cjk(left) >= 2

    def dense_scores(self, request: Request, segment_description: str, like_id: str | None) -> np.ndarray:
        """Cosine similarity of every product to the request (need + segment context + liked product); a need
        the glossary left untranslated is embedded as written, against the multilingual vectors."""
        if like_id is None and self.untranslated(request):
            return self.cross_lingual @ cross_lingual_query_embedder().embed_query(request.need_original)
        embedder, index = self.embedder, self.index
        need = request.need or " ".join(request.categories) or segment_description or request.text
        if request.need_original and embedder.model_id.startswith(MULTILINGUAL_MODELS):
            need = request.need_original  # a model that reads Chinese gets the shopper's own words
        query = embedder.embed_query(need[:MAX_QUERY_CHARS] or "popular products")
        if segment_description and request.need:
            query = query + SEGMENT_CONTEXT_WEIGHT * embedder.embed_query(segment_description)
        position = index.position_of(like_id) if like_id else None
        if position is not None:
            query = (1 - LIKE_WEIGHT) * query / np.linalg.norm(query) + LIKE_WEIGHT * index.vectors[position]
        query = (query / max(np.linalg.norm(query), 1e-12)).astype(np.float32)
        return index.vectors @ query

    def content_scores(self, request: Request, segment_description: str, like_id: str | None,
                       fusion: FusionSettings | None = None) -> np.ndarray:
        """Every product's content score for the request: its `dense_scores` fused with the BM25 score of
        the need (`FusionSettings.lexical`)."""
        return self._content_parts(request, segment_description, like_id, fusion)[2]

    def _content_parts(self, request: Request, segment_description: str, like_id: str | None,
                       fusion: FusionSettings | None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(dense similarity, BM25 scores or None, their fusion) of every product for the request."""
        fusion = fusion or self.fusion
        dense = self.dense_scores(request, segment_description, like_id)
        lexical = lexical_scores(self.index.lexical, self.lexical_words(request))
        return dense, lexical, fuse_content(dense, lexical, fusion.lexical, fusion.lexical_fusion)

    def lexical_words(self, request: Request) -> str:
        """The BM25 query: `search_words` plus the store's own spellings of them ("pajamas" finds pyjamas)."""
        words = search_words(request)
        extra = [v for w in re.findall(r"[a-z]+", words.lower())
                 for v in (*word_forms(w), *spelling_variants(w, self.profile))]
        return " ".join([words, *dict.fromkeys(extra)])

    def words_of_the_store(self, request: Request) -> bool:
        """Whether the need is said in the store's words: it was grounded in a category, or every word of it
        is in some product's text. Only then do words shared with the catalog stand for a weak similarity:
        "running shoes" shares "shoe" with a grocery's "Shoe Care" laces, which are no running shoes. (A
        Chinese catalog is searched by the shopper's own words, not the English gloss this checks.)"""
        lexical = self.index.lexical
        if request.categories or lexical is None or "zh" in self.profile.languages:
            return True
        return all(any(lexical.knows(form) for form in word_forms(word))
                   for word in re.findall(r"[a-z]+", request.need.lower()))

    def unreadable(self, request: Request) -> bool:
        """A Chinese need with no English gloss, to a store whose products and embedder are English only."""
        return bool(request.need_original and not request.need and not request.categories
                    and "zh" not in self.profile.languages and self.cross_lingual is None
                    and not self.embedder.model_id.startswith(MULTILINGUAL_MODELS))

    def profile_segment(self, pseudonym: str | None) -> str | None:
        """The segment a known customer's profile names (None for anyone else)."""
        cf = self.cf
        if cf is None or pseudonym not in cf.trained.user_index:
            return None
        return cf.trained.segments[cf.trained.user_index[pseudonym]] or None

    def rank_request(self, request: Request, segment: Segment, pseudonym: str | None = None,
                     like_id: str | None = None, k: int = 5, fusion: FusionSettings | None = None,
                     exclude: Collection[str] = (), content: np.ndarray | None = None) -> RankResult:
        """Candidates from content, CF and the segment's priors, ranked by the hybrid (no LLM). `content`:
        this request's `content_scores`, when the caller already has them (many shoppers, one request)."""
        floor, dense, lexical = None, None, None
        if content is None:
            dense, lexical, content = self._content_parts(request, segment.description, like_id, fusion)
            # A vague need gets broad picks, related or not; "like the second one" is about that product.
            if not is_vague(request, request.text) and like_id is None:
                strong = CROSS_STRONG if self.untranslated(request) else STRONG_SIMILARITY
                found = lexical is None or (bool(lexical.max(initial=0) > 0) and self.words_of_the_store(request))
                floor = relevance_floor(dense, request, found, strong=strong)
            if self.unreadable(request):
                floor = float("inf")  # nothing can be said to match words the index cannot read
        cf_scores: dict[str, float] = {}
        affinity: dict[str, float] = {}
        cf = self.cf
        if cf is not None:
            history = [like_id] if like_id else []
            cf_scores = dict(cf.recommend(history, k=CF_POOL, customer=pseudonym,
                                          segment=segment.key if segment.key != "general" else None))
            affinity = brand_affinity(self.index, cf, pseudonym)
            exclude = {*exclude, *already_had(cf, pseudonym)}
        fusion = fusion or self.fusion
        context = RankContext(self.index.products, self.features, self.index.vectors, content, cf_scores,
                              affinity, cf.trained.item_popularity() if cf is not None else None,
                              frozenset(exclude), floor, dense, lexical,
                              self.preference if fusion.preference else None, self.signals(request, pseudonym),
                              self.turn_rules(request, segment))
        return rank(context, request, segment, fusion, k)

    def turn_rules(self, request: Request, segment: Segment) -> tuple[MerchRule, ...]:
        """The merchandising rules whose conditions hold for this request and segment."""
        words = " ".join(x for x in (request.text, request.need, request.need_original) if x)
        return rules_for(self.rules, words, request.categories, segment.key)

    def signals(self, request: Request, pseudonym: str | None) -> TurnSignals:
        """How specific a request is and how much history the shopper has (the preference model reads them)."""
        cf = self.cf
        history = 0
        if cf is not None and pseudonym in cf.trained.user_index:
            history = int(cf.trained.profile[cf.trained.user_index[pseudonym]].nnz)
        return TurnSignals(not states_a_need(request) or is_vague(request, request.text),
                           len(request.need.split()), len(constraint_fields(request)), history)

    def run(self, message: str, conversation: Conversation, segment: str | None = None,
            pseudonym: str | None = None, k: int = 5, fusion: FusionSettings | None = None,
            exclude: Collection[str] = ()) -> TurnRecord:
        """Answer one message of a conversation; returns the turn's record (its trace)."""
        # Personal data never enters the conversation state, so no trace, log or prompt can hold it.
        shown_message = scrub(str(message or "")[:MAX_MESSAGE_CHARS])
        vocab = store_vocabulary(self.profile)
        words = english_words()
        corrected, typos = correct_spelling(without_labels(shown_message), self.profile, words)
        turn = conversation.add(corrected, vocab, lambda r: is_unrecognised(r, self.profile, words))
        request = ground(conversation.state, self.profile, vocab)
        if self.unreadable(request):
            request = replace(request, grounding=(*request.grounding, f"本店商品资料为英文，无法搜索“{request.need_original}”，"
                                                  "请换个说法或用英文"))
        k = max(1, min(int(k), 50))
        chosen, source = resolve_segment(dict(self.segments), segment, self.profile_segment(pseudonym),
                                         request.segment_hint, request.segment_confidence)
        if turn.unrecognised or not (request.need or request.need_original or constraint_fields(request)):
            # Nothing to go on: ask, and show nothing rather than five confident guesses.
            question = clarifying_question(replace(request, language=turn.parsed.language), self.profile, False)
            empty = RankResult([], {}, {}, 0, [], {}, chosen.key, fusion or self.fusion,
                               np.full(len(self.index.products), -np.inf, dtype=np.float32), k, 0)
            conversation.record_shown(turn.turn_id, [])
            return TurnRecord(uuid.uuid4().hex[:12], shown_message, request, chosen.key, source, empty,
                              {**self.notes, "understanding": "no recognisable need: asked a clarifying question"},
                              pseudonym, clarify=question, suggestions=suggestions(self.profile))
        like_id = conversation.like_product_id()
        lm = self.llm.model
        pool_k = max(k, self.llm.rerank_top_n) if lm is not None else k
        result = self.rank_request(request, chosen, pseudonym, like_id, pool_k, fusion,
                                   conversation.excluded_ids() | set(exclude))
        stages = dict(self.notes)
        stages["ranking"] = result.scoring
        if self.rules:
            stages["merchandising"] = rules_note(self.turn_rules(request, chosen), result)
        if typos:
            stages["spelling"] = ", ".join(f"{typed} → {word}" for typed, word in typos.items())
        missing = unsold_head_noun(request, self.profile)
        if missing and result.matched:
            # "coffee grinder" where the store sells coffee makers but no grinder: related, not a match.
            label = f"不是{missing}" if request.language == "zh" else f"not a {missing}"
            for candidate in result.candidates[:result.matched]:
                candidate.breakdown.relaxes = [label, *candidate.breakdown.relaxes]
            result.matched = 0
            stages["understanding"] = f"no product of this store is called '{missing}': shown as alternatives"
        stages["llm rerank"] = self._rerank(result, request, chosen, conversation)
        result.candidates = result.candidates[:k]
        self._add_cf_evidence(result, like_id, pseudonym)
        conversation.record_shown(turn.turn_id, [(c.product.id, c.product.price) for c in result.candidates])
        record = TurnRecord(uuid.uuid4().hex[:12], shown_message, request, chosen.key, source, result, stages,
                            pseudonym)
        if is_vague(request, turn.message):
            record.clarify = clarifying_question(request, self.profile, True)
        return record

    def _rerank(self, result: RankResult, request: Request, segment: Segment, conversation: Conversation) -> str:
        lm = self.llm.model
        if lm is None or not result.candidates:
            return "skipped: " + (self.llm.off_reason or f"rerank weight is {self.llm.weight} "
                                  "(the LLM did not improve NDCG@5 on the labelled set)")
        from assistant.llm.rerank import rerank
        try:
            outcome = rerank(lm, request, segment.name, result.candidates, self.llm.rerank_top_n, self.llm.weight,
                             conversation_history(conversation))
        except Exception as err:  # the answer must not depend on the LLM stage working
            return f"skipped: {type(err).__name__}: {err}"
        result.candidates = outcome.candidates
        return (f"{lm.model_id}: {len(outcome.llm_scores)} candidates scored in {outcome.seconds:.2f} s, "
                f"weight {self.llm.weight}")

    def _add_cf_evidence(self, result: RankResult, like_id: str | None, pseudonym: str | None) -> None:
        cf, index = self.cf, self.index
        if cf is None:
            return
        history = [like_id] if like_id else history_ids(cf, pseudonym)
        if not history:
            return
        titles = {pid: index.products[i].title for pid in history if (i := index.position_of(pid)) is not None}
        for candidate in result.candidates:
            if candidate.breakdown.cf_score > 0:
                candidate.breakdown.cf_evidence = cf.evidence(history, candidate.product.id).text(titles)


def written_reasons(record: TurnRecord) -> dict[str, str] | None:
    """The turn's reasons ({product id: reason}) when they have been written, else None."""
    candidates = record.result.candidates
    if candidates and candidates[0].breakdown.reason is not None:
        return {c.product.id: c.breakdown.reason.text for c in candidates}
    return None


def write_reasons(record: TurnRecord, lm: Any, max_new_tokens: int, lm_note: str = "", store: Any = None,
                  on_reason: Callable[[Any], None] | None = None) -> dict[str, str]:
    """One-line reasons for a turn's shown products ({product id: reason}), LLM-written where they pass the
    grounding check, else built from the score breakdown; kept in the breakdowns and noted in the trace.
    Written once per turn. `on_reason(reason)` gets each `Reason` as soon as it is ready (alternatives'
    first: they need no model), for a caller that shows them one by one."""
    from assistant.reasons import explain

    candidates = record.result.candidates
    written = written_reasons(record)
    if written is not None:
        return written
    started = time.perf_counter()
    matches = [c for c in candidates if not c.breakdown.relaxes]
    # An alternative's sentence says first what it does not meet; it is built from its own facts, never
    # left to the LLM (which would call it a fit for what it is not).
    alternatives = [c for c in candidates if c.breakdown.relaxes]
    written_by = {}
    zh = record.request.language == "zh"
    for c, reason in zip(alternatives, explain(None, record.request, alternatives, store=store)):
        lead = ("不完全符合：" + "；".join(c.breakdown.relaxes) + "。") if zh else \
            ("Not an exact match: " + "; ".join(c.breakdown.relaxes) + ". ")
        written_by[c.product.id] = replace(reason, text=lead + reason.text, check="alternative: " + reason.check)
        if on_reason is not None:
            on_reason(written_by[c.product.id])
    written_by.update({r.product_id: r for r in explain(lm, record.request, matches, max_new_tokens, store=store,
                                                        on_reason=on_reason)})
    reasons = [written_by[c.product.id] for c in candidates]
    for candidate, reason in zip(candidates, reasons):
        candidate.breakdown.reason = ReasonNote(reason.text, reason.source, reason.check)
    by_llm = sum(r.source == "llm" for r in reasons)
    record.stages["reasons"] = (f"{by_llm} of {len(reasons)} written by the LLM and grounded, "
                                f"{len(reasons) - by_llm} from templates, {time.perf_counter() - started:.2f} s"
                                + ("" if lm is not None else f" ({lm_note})"))
    return {c.product.id: c.breakdown.reason.text for c in candidates}


def already_had(cf: "CFModel", pseudonym: str | None) -> set[str]:
    """What a known shopper has already seen, bought or rated: never recommended to them again, except in a
    store where buying again is normal (groceries: `Interactions.repurchase_normal`)."""
    data = cf.trained
    user = data.user_index.get(pseudonym, -1) if pseudonym else -1
    if user < 0 or data.repurchase_normal:
        return set()
    return {data.items[i] for i in data.seen[user].indices}
