"""The facade: the one place that wires the pipeline stages together.

`ui.py`, `cli.py` (and later `api.py`) call only this module.
"""

from __future__ import annotations

import hmac
import sqlite3
import sys
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np

from assistant.ingest.catalog import CatalogReport, Product, catalog_hash, read_catalog
from assistant.core.config import FusionSettings, Settings, load_settings
from assistant.index.embedding import Embedder, backend_for_model, make_embedder
from assistant.index import (BuildSummary, Progress, ProductIndex, build_index, load_serving_index,
                             published_path, read_manifest)
from assistant.privacy.pii import scrub, without_labels
from assistant.privacy.keys import DataKeyError

if TYPE_CHECKING:  # heavy or optional stages, imported where used
    from assistant.behaviour.collaborative import CFModel
    from assistant.understand.dialogue import Conversation, Request
    from assistant.rank.hybrid import RankResult
    from assistant.service.shopper_data import ShopperData

MAX_QUERY_CHARS = 2_000
MAX_MESSAGE_CHARS = 4_000  # as the API allows; also bounds the cost of PII scrubbing
SEGMENT_CONTEXT_WEIGHT = 0.25  # how much the segment's description steers content search
LIKE_WEIGHT = 0.6  # how much "something like the second one" steers content search
CF_POOL = 200
TRACE_LIMIT = 500  # recent turns kept for staff "why" questions
CONVERSATION_LIMIT = 1_000  # open chat conversations kept in memory
# What a damaged, locked or full shopper-data store, or a wrong data key, raises.
STORE_ERRORS = (sqlite3.Error, OSError, DataKeyError)


class StoreUnavailable(RuntimeError):
    """Feedback could not be stored (the shopper-data store is damaged, locked, full, or the key is wrong)."""


@dataclass(frozen=True)
class SearchHit:
    """One content-search result."""

    rank: int
    product: Product
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "score": round(self.score, 4), "product": self.product.to_dict()}


class Assistant:
    """Serves one published index; a failed rebuild leaves the index it serves untouched."""

    def __init__(self, settings: Settings | None = None) -> None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")  # see assistant/__init__.py: BLAS threads fight torch's
        self.settings = settings or load_settings()
        self._index: ProductIndex | None = None
        self._served_for: Path | None = None  # the published build the served index was loaded for
        self.index_warning: str | None = None
        self._lock = threading.Lock()
        self._features: tuple[Path, Any] | None = None
        self._cf: CFModel | None = None
        self._cf_loaded = False  # whether `_cf` is what loading gave (None: no usable model)
        self.cf_warning: str | None = None  # the behavioural model's files are damaged (trace and health)
        self._cf_lock = threading.Lock()  # one load of the CF model at a time; never held during a refit
        self._refit_lock = threading.Lock()
        self._refit_thread: threading.Thread | None = None
        self._refit_wanted = False
        self.cf_refits = 0  # background refits finished (after a forget)
        self._checked_at = 0.0  # when the published files were last re-checked (time.monotonic)
        self._check_lock = threading.Lock()
        self._segments: dict | None = None
        self._turns: OrderedDict[str, TurnRecord] = OrderedDict()
        self._lm: Any = None
        self._lm_error: str | None = None
        self._conversations: OrderedDict[str, "Conversation"] = OrderedDict()
        self._shopper_data: Any = None
        self._store_warning: str | None = None

    # ------------------------------------------------------------------ index

    @property
    def index(self) -> ProductIndex:
        """The published index, loaded once and reloaded when a newer build is published. A damaged
        published build is detected by its checksums and the previous good build serves instead
        (`index_warning` says so)."""
        with self._lock:
            current = published_path(self.settings.index_dir, self.settings.index_name)
            if self._index is None or (current is not None and current != self._served_for):
                self._index, self.index_warning = load_serving_index(self.settings.index_dir,
                                                                     self.settings.index_name)
                self._served_for = current
                if self.index_warning:
                    print(f"warning: {self.index_warning}", file=sys.stderr)
            return self._index

    def query_embedder(self) -> Embedder:
        """The embedder that built the served index (a query must be embedded by the same model)."""
        return make_embedder(backend_for_model(self.index.model_id), threads=self.settings.threads)

    def rebuild_index(self, paths: Iterable[str | Path], mapping: Mapping[str, str] | None = None,
                      progress: Progress | None = None) -> BuildSummary:
        """Read catalog files, embed what changed and publish a new build of the configured index."""
        products, report = read_catalog(paths, {**self.settings.column_map, **(mapping or {})},
                                        self.settings.limits)
        return self.publish_products(products, report, progress)

    def publish_products(self, products: list[Product], report: CatalogReport,
                         progress: Progress | None = None) -> BuildSummary:
        """Embed what changed among already-validated products and publish a new build."""
        embedder = make_embedder(self.settings.embedder, threads=self.settings.threads)
        return build_index(products, report, embedder, self.settings.index_dir, self.settings.index_name,
                           ann_threshold=self.settings.ann_threshold, batch_size=self.settings.batch_size,
                           keep_builds=self.settings.keep_builds, progress=progress,
                           threads=self.settings.threads)

    def available_indexes(self) -> list[str]:
        """Names of the published indexes under the index folder."""
        from assistant.index import list_indexes
        return list_indexes(self.settings.index_dir)

    def switch_index(self, name: str) -> None:
        """Serve another published index (its behavioural model too, when it has one)."""
        from dataclasses import replace

        from assistant.index import load_index
        index = load_index(self.settings.index_dir, name)  # refuse a missing or damaged index
        with self._lock:
            self.settings = replace(self.settings, index_name=name)
            self._index, self._features, self._cf, self._cf_loaded = index, None, None, False
            self._served_for, self.index_warning = index.path, None

    def rollback_index(self) -> str:
        """Serve the previous build of the configured index again; returns its build id."""
        from assistant.index import rollback
        return rollback(self.settings.index_dir, self.settings.index_name).name

    def index_info(self) -> dict[str, Any]:
        """The served index's manifest."""
        folder = published_path(self.settings.index_dir, self.settings.index_name)
        if folder is None:
            self.index  # raises IndexNotFound with a helpful message
        return read_manifest(folder)

    def index_is_current(self, products: list[Product]) -> bool:
        """True when the published index holds exactly these products, built by the configured embedder."""
        folder = published_path(self.settings.index_dir, self.settings.index_name)
        if folder is None:
            return False
        manifest = read_manifest(folder)
        try:
            same_embedder = backend_for_model(manifest["embedder"]["model_id"]) == self.settings.embedder
        except (KeyError, ValueError):
            return False
        return same_embedder and manifest.get("catalog_hash") == catalog_hash(products)

    # ------------------------------------------------------------------ search

    def search(self, query: str, k: int = 10) -> list[SearchHit]:
        """Plain content search: the k products whose text is nearest to the query."""
        text = " ".join(str(query or "").split())[:MAX_QUERY_CHARS]
        if not text:
            return []
        k = max(1, min(int(k), 100))
        vector = self.query_embedder().embed_query(text)
        results = self.index.search_vector(vector, k)
        return [SearchHit(rank, product, score) for rank, (product, score) in enumerate(results, start=1)]

    # ------------------------------------------------------------------ recommend

    @property
    def segments(self) -> dict:
        """Segment profiles from the configured segments file."""
        if self._segments is None:
            from assistant.rank.segments import load_segments
            self._segments = load_segments(self.settings.segments_file)
        return self._segments

    def features(self, index: ProductIndex | None = None):
        """Per-product ranking features of an index (default: the served one), computed once per build."""
        from assistant.rank.attributes import ProductFeatures

        index = index or self.index
        if self._features is None or self._features[0] != index.path:
            self._features = (index.path, ProductFeatures.build(index.products))
        return self._features[1]

    @property
    def cf_model(self) -> "CFModel | None":
        """The behavioural model for the served index, or None when the store has no interaction data or its
        saved model is damaged with no earlier good version (`cf_warning` says so; shoppers are still served)."""
        if not self._cf_loaded:
            with self._cf_lock:
                if not self._cf_loaded:
                    self._cf, self.cf_warning = self._load_cf()
                    self._cf_loaded = True
        return self._cf

    @property
    def cf_version(self) -> str | None:
        """The saved version of the CF model in memory (None when none is loaded); never loads one."""
        return self._cf.version or None if self._cf_loaded and self._cf is not None else None

    def _load_cf(self) -> "tuple[CFModel | None, str | None]":
        from assistant.behaviour.collaborative import list_versions, load_serving_cf_model

        folder = cf_model_dir(self.settings)
        demo = self.settings.index_name == "demo"
        if not (folder.is_symlink() or folder.exists() or list_versions(folder)):
            return (fit_demo_cf(self.settings) if demo else None), None
        model, warning = load_serving_cf_model(folder)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        if demo and (model is None or not self._forgotten().isdisjoint(model.trained.users)):
            self.refit_cf_in_background()  # damaged, or saved before a forget: refit; meanwhile serve this
        return model, warning

    def refit_cf_in_background(self) -> None:
        """Refit the demo store's model off the request path, once however many ask (a request made while
        a refit runs is served by one more refit after it). The model in memory keeps serving; the new one
        is published (CFModel.save) and then swapped in."""
        with self._refit_lock:
            self._refit_wanted = True
            if self._refit_thread is None:
                self._refit_thread = threading.Thread(target=self._refit_loop, name="cf-refit", daemon=True)
                self._refit_thread.start()

    def _refit_loop(self) -> None:
        while True:
            with self._refit_lock:
                if not self._refit_wanted:
                    self._refit_thread = None
                    return
                self._refit_wanted = False
            try:
                model = fit_demo_cf(self.settings)
            except Exception as err:  # the model in memory keeps serving
                self.cf_warning = f"refitting the CF model failed ({type(err).__name__}: {err})"
                print(f"warning: {self.cf_warning}", file=sys.stderr)
                continue
            with self._cf_lock:
                self._cf, self.cf_warning, self._cf_loaded = model, None, True
            self.cf_refits += 1

    def wait_for_cf_refit(self, timeout: float | None = None) -> bool:
        """Wait for a background refit to finish; False when one is still running after `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._refit_lock:
                thread = self._refit_thread
            if thread is None:
                return True
            thread.join(None if deadline is None else max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                return False

    def check_published(self, every: float | None = None) -> list[str]:
        """Re-check the checksums of the published index build and CF model against their manifests (the
        server does it on a schedule, and /api/health when the last check is older than `every` seconds).
        Damage is kept in `index_warning` / `cf_warning`; a damaged served index is replaced by the previous
        good build when there is one. Returns the current warnings."""
        from assistant.behaviour.collaborative import ModelFitError, check_cf_model
        from assistant.index import IndexCorrupt, check_build

        if (every is not None and time.monotonic() - self._checked_at < every) or \
                not self._check_lock.acquire(blocking=False):
            return self.warnings()
        try:
            folder = published_path(self.settings.index_dir, self.settings.index_name)
            if folder is not None and self._index is not None and folder == self._served_for:
                try:
                    check_build(folder)
                except IndexCorrupt as err:
                    if self._index.path == folder:  # still serving the build whose files are damaged
                        try:
                            index, warning = load_serving_index(self.settings.index_dir, self.settings.index_name)
                        except IndexCorrupt:
                            index, warning = self._index, (f"{err} — no earlier good build: the copy loaded in "
                                                           f"memory keeps serving; rebuild the index")
                        with self._lock:
                            if self._served_for == folder:
                                self._index, changed = index, warning != self.index_warning
                                self.index_warning = warning
                        if changed:
                            print(f"warning: {warning}", file=sys.stderr)
            cf_folder = cf_model_dir(self.settings)
            if self._cf_loaded and self._cf is not None and (cf_folder.is_symlink() or cf_folder.exists()):
                try:
                    check_cf_model(cf_folder)
                except ModelFitError as err:
                    warning = f"{err} — the model loaded in memory keeps serving; refit: aisle cf fit"
                    if warning != self.cf_warning:
                        self.cf_warning = warning
                        print(f"warning: {warning}", file=sys.stderr)
            self._checked_at = time.monotonic()
        finally:
            self._check_lock.release()
        return self.warnings()

    def warnings(self) -> list[str]:
        """What is damaged in what this assistant serves (empty when all is well)."""
        return [w for w in (self.index_warning, self.cf_warning) if w]

    def check_published_on_a_schedule(self) -> threading.Thread:
        """A daemon thread that runs `check_published` every `verify_seconds` (started by `aisle serve`)."""
        def loop() -> None:
            while True:
                time.sleep(max(self.settings.verify_seconds, 0.5))
                try:
                    self.check_published()
                except Exception as err:  # a check must never stop the checks
                    print(f"warning: checking the published files failed: {err}", file=sys.stderr)

        thread = threading.Thread(target=loop, name="check-published", daemon=True)
        thread.start()
        return thread

    def content_scores(self, index: ProductIndex, request: "Request", segment_description: str,
                       like_id: str | None) -> np.ndarray:
        """Cosine similarity of every product to the request (need + segment context + liked product)."""
        embedder = self.query_embedder()
        need = request.need or " ".join(request.categories) or segment_description or request.text
        query = embedder.embed_query(need[:MAX_QUERY_CHARS] or "popular products")
        if segment_description and request.need:
            query = query + SEGMENT_CONTEXT_WEIGHT * embedder.embed_query(segment_description)
        position = index.position_of(like_id) if like_id else None
        if position is not None:
            query = (1 - LIKE_WEIGHT) * query / np.linalg.norm(query) + LIKE_WEIGHT * index.vectors[position]
        query = (query / max(np.linalg.norm(query), 1e-12)).astype(np.float32)
        return index.vectors @ query

    def language_model(self) -> Any:
        """The configured LLM, loaded once; None (with the reason kept for traces) when it is off or broken."""
        if self.settings.llm_model == "none":
            self._lm_error = "the LLM stage is turned off (llm_model = none)"
            return None
        if self._lm is None and self._lm_error is None:
            from assistant.llm import ModelUnavailable, make_language_model
            try:
                self._lm = make_language_model(self.settings.llm_model, threads=self.settings.threads,
                                               quantize=self.settings.llm_int8)
            except (ModelUnavailable, ValueError) as err:
                self._lm_error = f"language model unavailable: {err}"
        return self._lm

    def recommend(self, message: str, conversation: "Conversation | None" = None, segment: str | None = None,
                  customer: str | None = None, k: int = 5, fusion: "FusionSettings | None" = None,
                  use_llm: bool | None = None, reasons: bool = False, exclude: Iterable[str] = ()) -> Recommendation:
        """Parse the message into the conversation, rank the catalog for it, rerank the top with the LLM,
        and record the trace. `reasons=True` also writes the one-line reasons (else call `explain`).

        `fusion` overrides the configured score fusion and `use_llm` the LLM rerank (evaluation compares)."""
        from assistant.understand.dialogue import Conversation
        from assistant.rank.hybrid import rank
        from assistant.rank.segments import resolve_segment

        conversation = conversation if conversation is not None else Conversation()
        # Personal data never enters the conversation state, so no trace, log or prompt can hold it.
        shown_message = scrub(str(message or "")[:MAX_MESSAGE_CHARS])
        turn = conversation.add(without_labels(shown_message))
        request = conversation.state
        k = max(1, min(int(k), 50))
        cf = self.cf_model
        pseudonym = self._pseudonym(customer) if customer else None
        if pseudonym is not None and pseudonym in self._forgotten():
            pseudonym = None  # a forgotten customer is served as an anonymous shopper
        profile_segment = None
        if cf is not None and pseudonym in cf.trained.user_index:
            profile_segment = cf.trained.segments[cf.trained.user_index[pseudonym]] or None
        chosen, source = resolve_segment(self.segments, segment, profile_segment, request.segment_hint,
                                         request.segment_confidence)
        like_id = conversation.like_product_id()
        index = self.index  # one build for the whole turn, even if a rebuild publishes meanwhile
        content = self.content_scores(index, request, chosen.description, like_id)
        cf_scores: dict[str, float] = {}
        brand_affinity: dict[str, float] = {}
        if cf is not None:
            history = [like_id] if like_id else []
            cf_scores = dict(cf.recommend(history, k=CF_POOL, customer=pseudonym,
                                          segment=chosen.key if chosen.key != "general" else None))
            brand_affinity = self._brand_affinity(index, cf, pseudonym)
        lm = self.language_model() if (use_llm if use_llm is not None else self.settings.llm_weight > 0) else None
        pool_k = max(k, self.settings.rerank_top_n) if lm is not None else k
        result = rank(index.products, self.features(index), index.vectors, request, chosen, content,
                      cf_scores, fusion or self.settings.fusion, pool_k, conversation.excluded_ids() | set(exclude),
                      brand_affinity, popularity=cf.trained.item_popularity() if cf is not None else None)
        stages = {}
        if self.cf_warning:
            stages["behavioural model"] = self.cf_warning
        if lm is not None and result.candidates:
            from assistant.llm.rerank import rerank
            try:
                outcome = rerank(lm, request, chosen.name, result.candidates, self.settings.rerank_top_n,
                                 self.settings.llm_weight, conversation_history(conversation))
                result.candidates = outcome.candidates
                stages["llm rerank"] = (f"{lm.model_id}: {len(outcome.llm_scores)} candidates scored in "
                                        f"{outcome.seconds:.2f} s, weight {self.settings.llm_weight}")
            except Exception as err:  # the answer must not depend on the LLM stage working
                stages["llm rerank"] = f"skipped: {type(err).__name__}: {err}"
        else:
            stages["llm rerank"] = "skipped: " + (self._lm_error if lm is None and self._lm_error else
                                                  f"rerank weight is {self.settings.llm_weight} "
                                                  "(the LLM did not improve NDCG@5 on the labelled set)")
        result.candidates = result.candidates[:k]
        if cf is not None:
            history = [like_id] if like_id else self._history_ids(cf, pseudonym)
            titles = {pid: index.products[i].title for pid in history
                      if (i := index.position_of(pid)) is not None}
            for candidate in result.candidates:
                if candidate.breakdown["cf_score"] > 0 and history:
                    evidence = cf.evidence(history, candidate.product.id)
                    candidate.breakdown["cf_evidence"] = evidence.text(titles)
        conversation.record_shown(turn.turn_id, [(c.product.id, c.product.price) for c in result.candidates])
        turn_id = uuid.uuid4().hex[:12]
        record = TurnRecord(turn_id, shown_message, request, chosen.key, source, result, stages, pseudonym)
        self._remember(record)
        recommendation = Recommendation(turn_id, request, chosen.key, source, result.candidates, result.filter_counts)
        if reasons:
            self.explain(turn_id)
        return recommendation

    def explain(self, turn_id: str) -> dict[str, str]:
        """One-line reasons for a turn's shown products ({product id: reason}), LLM-written where they
        pass the grounding check, else built from the score breakdown; recorded in the trace."""
        from assistant.reasons.explain import explain

        record = self.turn(turn_id)
        candidates = record.result.candidates
        if candidates and "reason" in candidates[0].breakdown:
            return {c.product.id: c.breakdown["reason"] for c in candidates}
        lm = self.language_model()
        started = time.perf_counter()
        reasons = explain(lm, record.request, candidates, self.settings.reason_tokens)
        for candidate, reason in zip(candidates, reasons):
            candidate.breakdown["reason"] = reason.text
            candidate.breakdown["reason_source"] = reason.source
            candidate.breakdown["reason_check"] = reason.check
        written = sum(r.source == "llm" for r in reasons)
        record.stages["reasons"] = (f"{written} of {len(reasons)} written by the LLM and grounded, "
                                    f"{len(reasons) - written} from templates, {time.perf_counter() - started:.2f} s"
                                    + ("" if lm is not None else f" ({self._lm_error})"))
        return {c.product.id: c.breakdown["reason"] for c in candidates}

    # ------------------------------------------------------------------ chat sessions and feedback

    def chat(self, message: str, conversation_id: str | None = None, segment: str | None = None,
             customer: str | None = None, k: int = 5, reasons: bool = False) -> tuple[str, Recommendation]:
        """One chat turn in a server-side conversation (created when `conversation_id` is None or unknown).
        Products the shopper turned down in this conversation are never shown again."""
        from assistant.understand.dialogue import Conversation

        with self._lock:
            if conversation_id not in self._conversations:
                conversation_id = uuid.uuid4().hex[:16]
                self._conversations[conversation_id] = Conversation()
                while len(self._conversations) > CONVERSATION_LIMIT:
                    self._conversations.popitem(last=False)
            self._conversations.move_to_end(conversation_id)
            conversation = self._conversations[conversation_id]
        # The shopper's answer never depends on the shopper-data store: a damaged file, a wrong data key
        # or a full disk is reported in the trace and on stderr, and the chat goes on without it.
        declined, problem = set(), None
        try:
            declined = self.shopper_data.declined(conversation_id)
        except STORE_ERRORS as err:
            problem = self._store_problem(err)
        rec = self.recommend(message, conversation, segment=segment, customer=customer, k=k, reasons=reasons,
                             exclude=declined)
        record = self._turns.get(rec.turn_id)
        if record is not None:
            record.conversation_id = conversation_id
            if record.customer and record.customer in self._forgotten():
                record.customer = None  # forgotten while this turn was being answered
            try:
                if problem is None:
                    self.shopper_data.log_turn(record.customer or "", conversation_id, rec.turn_id, rec.segment,
                                               [c.product.id for c in rec.items], record.message)
            except STORE_ERRORS as err:
                problem = self._store_problem(err)
            if problem:
                record.stages["shopper data"] = f"unavailable, turn not logged: {problem}"
        return conversation_id, rec

    def _store_problem(self, err: Exception) -> str:
        text = f"{type(err).__name__}: {err}"
        if text != self._store_warning:
            self._store_warning = text
            print(f"warning: the shopper-data store ({shopper_data_path(self.settings)}) is unavailable: {text}",
                  file=sys.stderr)
        return text

    def reset_conversation(self, conversation_id: str | None) -> None:
        """Forget a conversation's state ("start over")."""
        with self._lock:
            self._conversations.pop(conversation_id or "", None)

    @property
    def shopper_data(self) -> "ShopperData":
        """Feedback and turn logs, encrypted, under the state folder."""
        with self._lock:
            if self._shopper_data is None:
                self._shopper_data = open_shopper_data(self.settings)
            return self._shopper_data

    def record_feedback(self, conversation_id: str, turn_id: str, product_id: str, kind: str) -> None:
        """Store thumbs up / down / bought for a product shown in that turn of that conversation (so no
        made-up event reaches `aisle cf fit`); the customer is the turn's own, never one the caller names.
        A thumbs down hides the product for the rest of the conversation."""
        record = self._turns.get(turn_id)
        if record is None or not conversation_id or record.conversation_id != conversation_id:
            raise KeyError(f"no turn {turn_id!r} in conversation {conversation_id!r}")
        if product_id not in {c.product.id for c in record.result.candidates}:
            raise ValueError(f"product {product_id!r} was not shown in turn {turn_id!r}")
        pseudonym = record.customer or ""
        try:
            self.shopper_data.add_feedback("" if pseudonym in self._forgotten() else pseudonym, conversation_id,
                                           turn_id, product_id, kind, record.message)
        except STORE_ERRORS as err:
            raise StoreUnavailable(f"feedback could not be stored: {self._store_problem(err)}") from None

    def forget_customer(self, customer: str) -> dict[str, int]:
        """Erase a customer: their feedback and turn logs are deleted, their in-memory traces and
        conversations dropped, their pseudonym listed so every later read of the interaction logs (and so
        the next CF fit) leaves their events out; until then their saved profile is no longer used. The demo
        store's model is refitted without them once, in a background thread, while the current one serves.
        Returns what was removed."""
        from assistant.privacy.keys import remember_forgotten

        pseudonym = self._pseudonym(customer)
        remember_forgotten(self.settings.state_dir, pseudonym)
        removed = self.shopper_data.forget(pseudonym)
        with self._lock:
            mine = [t for t, record in self._turns.items() if record.customer == pseudonym]
            for turn_id in mine:
                self._conversations.pop(self._turns.pop(turn_id).conversation_id, None)
        removed["traces"] = len(mine)
        if self.settings.index_name == "demo" and (cf_model_dir(self.settings) / "manifest.json").is_file():
            self.refit_cf_in_background()  # without them; the current model serves meanwhile (see recommend)
            removed["cf_model_refit"] = 1
        return removed

    def _forgotten(self) -> set[str]:
        from assistant.privacy.keys import forgotten
        return forgotten(self.settings.state_dir)

    def staff_allowed(self, token: str | None) -> bool:
        """Constant-time check of a staff token; with no token configured, staff access is off."""
        return token_matches(self.settings.staff_token, token)

    def storefront_allowed(self, token: str | None) -> bool:
        """Whether a caller is the store's backend, trusted to name the signed-in customer."""
        return token_matches(self.settings.storefront_token, token)

    def recent_turns(self, limit: int = 30) -> list[TurnRecord]:
        """The latest recorded turns, newest first."""
        with self._lock:
            return list(self._turns.values())[-limit:][::-1]

    def _pseudonym(self, customer: str) -> str:
        from assistant.privacy.keys import pseudonymizer
        return pseudonymizer(self.settings.state_dir)(customer)

    @staticmethod
    def _history_ids(cf: "CFModel", pseudonym: str | None) -> list[str]:
        data = cf.trained
        if pseudonym not in data.user_index:
            return []
        row = data.profile[data.user_index[pseudonym]]
        order = np.argsort(-row.data)[:20]
        return [data.items[row.indices[i]] for i in order]

    @staticmethod
    def _brand_affinity(index: ProductIndex, cf: "CFModel", pseudonym: str | None) -> dict[str, float]:
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

    def _remember(self, record: TurnRecord) -> None:
        with self._lock:
            self._turns[record.turn_id] = record
            while len(self._turns) > TRACE_LIMIT:
                self._turns.popitem(last=False)

    def why(self, turn_id: str, product_id: str) -> dict[str, Any]:
        """The full trace of why a shown product was recommended in a turn."""
        record = self.turn(turn_id)
        for candidate in record.result.candidates:
            if candidate.product.id == product_id:
                return {**self._trace_head(record), "product_id": product_id, "title": candidate.product.title,
                        "shown": True, "rank": candidate.rank, "score": round(candidate.score, 4),
                        "matched_words": matched_words(record.request, candidate.product),
                        "breakdown": candidate.breakdown}
        raise KeyError(f"product {product_id!r} was not shown in turn {turn_id}; ask why_not instead")

    def why_not(self, turn_id: str, product_id: str) -> dict[str, Any]:
        """Which stage kept a product out of a turn's answer, and why."""
        record = self.turn(turn_id)
        result = record.result
        head = {**self._trace_head(record), "product_id": product_id}
        position = self.index.position_of(product_id)
        if position is None:
            return {**head, "shown": False, "stage": "catalog", "why": "no product with this id in the served index"}
        product = self.index.products[position]
        head["title"] = product.title
        shown = [c.product.id for c in result.candidates]
        if product_id in shown:
            return {**head, "shown": True, "stage": "shown", "why": f"it was shown at rank {shown.index(product_id) + 1}"}
        if product_id in result.blocked:
            stage, _, reason = result.blocked[product_id].partition(": ")
            return {**head, "shown": False, "stage": f"hard filter ({stage})", "why": reason}
        if product_id in result.pool_details:
            details = result.pool_details[product_id]
            cutoff = result.candidates[-1].score if result.candidates else 0.0
            fused_rank = details["rank_before_diversity"]
            why = (f"ranked {fused_rank} of {len(result.pool)} candidates with score {details['fused']:.3f}; "
                   f"the last shown item scored {cutoff:.3f}")
            if "popularity_cap" in details:
                return {**head, "shown": False, "stage": "popularity cap", "why": details["popularity_cap"],
                        "breakdown": details}
            if fused_rank <= result.k:
                why = f"ranked {fused_rank} before the diversity step, which preferred a less similar product"
            return {**head, "shown": False, "stage": "ranking" if fused_rank > result.k else "diversity",
                    "why": why, "breakdown": details}
        similarity = float(result.content_scores[position])
        allowed_better = int(np.sum(result.content_scores > similarity))
        return {**head, "shown": False, "stage": "candidate retrieval",
                "why": (f"not among the candidates: content similarity {similarity:.3f} ranks about "
                        f"{allowed_better + 1} in the catalog, and neither the behavioural model nor the "
                        f"segment's priors proposed it")}

    def _trace_head(self, record: TurnRecord) -> dict[str, Any]:
        result = record.result
        return {"turn_id": record.turn_id, "message": record.message, "request": record.request.to_dict(),
                "segment": record.segment, "segment_source": record.segment_source,
                "filters": result.filter_counts, "allowed_after_filters": result.allowed,
                "candidates_considered": len(result.pool), "fusion": vars(result.fusion),
                "stages": record.stages}

    def turn(self, turn_id: str) -> TurnRecord:
        """A recent turn's record; KeyError names the turn when it is unknown or expired."""
        try:
            return self._turns[turn_id]
        except KeyError:
            raise KeyError(f"no recent turn {turn_id!r} (only the last {TRACE_LIMIT} turns are kept)") from None


@dataclass
class TurnRecord:
    """What one recommendation turn did, kept for staff traces."""

    turn_id: str
    message: str
    request: "Request"
    segment: str
    segment_source: str
    result: "RankResult"
    stages: dict[str, str] = field(default_factory=dict)  # stage -> note (e.g. "llm: skipped ...")
    customer: str | None = None  # pseudonym
    conversation_id: str = ""


@dataclass
class Recommendation:
    """The answer to one shopper message."""

    turn_id: str
    request: "Request"
    segment: str
    segment_source: str
    items: list[Any]  # hybrid.Candidate, best first
    filter_counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"turn_id": self.turn_id, "segment": self.segment, "segment_source": self.segment_source,
                "request": self.request.to_dict(), "filters": self.filter_counts,
                "items": [{"rank": c.rank, "score": round(c.score, 4), "product": c.product.to_dict(),
                           "breakdown": c.breakdown} for c in self.items]}


def token_matches(configured: str, given: str | None) -> bool:
    """Constant-time comparison; an empty configured token matches nothing."""
    if not configured or not isinstance(given, str):
        return False
    # "surrogatepass": a lone surrogate (valid JSON, "\ud800") is a wrong token, not an encoding error
    return hmac.compare_digest(configured.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass"))


def conversation_history(conversation: "Conversation", turns: int = 3) -> str:
    """The shopper's earlier messages in this conversation (context for the LLM judge), newest last."""
    earlier = [t.message for t in conversation.turns[:-1]][-turns:]
    return " / ".join(earlier)


def matched_words(request: "Request", product: Product) -> list[str]:
    """Words of the shopper's need that the product's text contains (for the trace)."""
    text = " ".join([product.title, product.category, " ".join(product.tags), product.description]).lower()
    words = [w for w in request.need.lower().split() if len(w) > 2]
    return [w for w in dict.fromkeys(words) if w in text]


def cf_model_dir(settings: Settings) -> Path:
    """Where the behavioural model of the configured index lives."""
    return Path(settings.index_dir) / ".cf" / settings.index_name


def fit_demo_cf(settings: Settings) -> "CFModel":
    """Fit the configured CF model on the demo store's logs and save it beside the demo index."""
    from assistant.behaviour.collaborative import build_interactions, make_cf_model
    from assistant.ingest.customers import read_customers, read_events
    from assistant.demo import customers_path, events_path
    from assistant.privacy.keys import forgotten, pseudonymizer

    pseudonymize = pseudonymizer(settings.state_dir)
    gone = forgotten(settings.state_dir)
    log = read_events([events_path()], pseudonymize, forgotten=gone)
    profiles, _ = read_customers([customers_path()], pseudonymize, forgotten=gone)
    data = build_interactions(log, {c: p.segment for c, p in profiles.items()})
    model = make_cf_model(settings.cf_model).fit(data)
    model.save(cf_model_dir(settings), forgotten=gone)
    return model


def shopper_data_path(settings: Settings) -> Path:
    """Where the encrypted feedback and turn logs live."""
    from assistant.service.shopper_data import FILE_NAME
    return Path(settings.state_dir) / FILE_NAME


def open_shopper_data(settings: Settings) -> "ShopperData":
    """The installation's encrypted store of feedback and turn logs."""
    from assistant.privacy.keys import data_cipher
    from assistant.service.shopper_data import ShopperData
    store = ShopperData(shopper_data_path(settings), data_cipher(settings.state_dir),
                        log_messages=settings.log_messages, retention_days=settings.retention_days)
    plain = Path(settings.state_dir) / "feedback.sqlite"  # written unencrypted by versions before 0.2
    if plain.is_file():
        store.import_plain_feedback(plain)
        store.expire()
    return store


def ensure_demo_index(settings: Settings, progress: Progress | None = None) -> BuildSummary | None:
    """Build (or refresh) the demo store's index unless the published one already matches it."""
    from assistant.demo import catalog_path

    assistant = Assistant(settings)
    products, report = read_catalog([catalog_path()])
    if assistant.index_is_current(products):
        return None
    return assistant.publish_products(products, report, progress)
