"""The facade: the one place that wires the pipeline stages together.

The web app, the API and the CLI call only this module. It delegates the served index (`ServedIndex`),
the behavioural model (`ServedModel`), what turns share with later turns (`SessionState`: conversations,
traces and forgotten customers, in this process or in a database replicas share) and the turn itself
(`TurnPipeline`); what is left here is who may do what, and privacy.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from assistant.core.config import FusionSettings, Settings, load_settings
from assistant.index.embedding import Embedder, backend_for_model, make_embedder
from assistant.index import BuildSummary, Progress, ProductIndex
from assistant.ingest.catalog import read_catalog
from assistant.rank.attributes import ProductFeatures
from assistant.rank.content import search_content
from assistant.service.publishing import ensure_demo_index, publish_products
from assistant.service.served_index import SearchHit, ServedIndex
from assistant.service.served_model import ServedModel, cf_model_dir, fit_demo_cf
from assistant.service.served_preference import ServedPreference, preference_model_dir
from assistant.service.shared_state import session_state
from assistant.service.shopper_data import (STORE_ERRORS, ShopperData, StoreUnavailable, describe_store,
                                            open_shopper_data, shopper_data_path)
from assistant.service.merchandising import RuleBook
from assistant.service.traces import TRACE_LIMIT, TurnRecord, why, why_not
from assistant.service.tokens import token_matches
from assistant.service.turn import (CF_POOL, MAX_QUERY_CHARS, LLMStage, Recommendation, TurnPipeline,
                                    write_reasons, written_reasons)

if TYPE_CHECKING:
    from assistant.behaviour import CFModel
    from assistant.understand import Conversation
    from assistant.understand.store import StoreProfile

__all__ = ["Assistant", "SearchHit", "StoreUnavailable", "STORE_ERRORS", "Recommendation", "TurnRecord",
           "CF_POOL", "TRACE_LIMIT", "token_matches", "cf_model_dir", "fit_demo_cf", "shopper_data_path",
           "open_shopper_data", "ensure_demo_index", "preference_model_dir"]

log = logging.getLogger(__name__)


class Assistant:
    """Serves one published index; a failed rebuild leaves the index it serves untouched."""

    def __init__(self, settings: Settings | None = None) -> None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")  # see assistant/__init__.py: BLAS threads fight torch's
        self.settings = settings or load_settings()
        self._served = ServedIndex(self.settings.index_dir, self.settings.index_name,
                                   currency=self.settings.currency)
        self._model = ServedModel(self.settings, self._forgotten)
        self.preference = ServedPreference(self.settings)  # the learned ranking model, when one is fitted
        self.rules = RuleBook(self.settings.state_dir / "rules.json")  # staff's merchandising rules
        state = session_state(self.settings)
        self.traces, self.conversations, self._forgotten_list = state.traces, state.conversations, state.forgotten
        self._switch_lock = threading.Lock()  # one switch of the served index at a time
        self._checked_at = 0.0  # when the published files were last re-checked (time.monotonic)
        self._check_lock = threading.Lock()
        self._segments: dict | None = None
        self._lm: Any = None
        self._lm_error: str | None = None
        self._shopper_data: ShopperData | None = None
        self._store_lock = threading.Lock()
        self._store_warning: str | None = None

    # ------------------------------------------------------------------ index

    @property
    def index(self) -> ProductIndex:
        """The published index (see `ServedIndex.index`)."""
        return self._served.index

    @property
    def index_warning(self) -> str | None:
        """Set while an earlier build serves because the published one is damaged."""
        return self._served.warning

    def query_embedder(self) -> Embedder:
        """The embedder that built the served index (a query must be embedded by the same model)."""
        return make_embedder(backend_for_model(self.index.model_id), threads=self.settings.threads)

    def rebuild_index(self, paths: Iterable[str | Path], mapping: Mapping[str, str] | None = None,
                      progress: Progress | None = None, name: str | None = None,
                      currency: str | None = None) -> BuildSummary:
        """Read catalog files, embed what changed and publish a new build of the configured index, or of the
        index `name` beside it (served only after `switch_index(name)`), its prices in `currency` if given."""
        settings = self.settings.with_overrides(index_name=name, currency=currency)
        products, report = read_catalog(paths, {**settings.column_map, **(mapping or {})}, settings.limits,
                                        settings.catalog_encoding)
        return publish_products(settings, products, report, progress)

    def available_indexes(self) -> list[str]:
        """Names of the published indexes under the index folder."""
        from assistant.index import list_indexes
        return list_indexes(self.settings.index_dir)

    def switch_index(self, name: str) -> None:
        """Serve another published index (its behavioural model too, when it has one)."""
        from assistant.index import load_index
        index = load_index(self.settings.index_dir, name)  # refuse a missing or damaged index
        with self._switch_lock:
            settings = replace(self.settings, index_name=name)
            self.settings, self._served = settings, ServedIndex(settings.index_dir, name, index, settings.currency)
            self._model, self.preference = ServedModel(settings, self._forgotten), ServedPreference(settings)

    def rollback_index(self) -> str:
        """Serve the previous build of the configured index again; returns its build id."""
        from assistant.index import rollback
        return rollback(self.settings.index_dir, self.settings.index_name).name

    def index_info(self) -> dict[str, Any]:
        """The served index's manifest."""
        return self._served.manifest()

    def search(self, query: str, k: int = 10) -> list[SearchHit]:
        """Plain content search: the k products with the best content score (dense + BM25, as in a turn)."""
        text = " ".join(str(query or "").split())[:MAX_QUERY_CHARS]
        if not text:
            return []
        vector = self.query_embedder().embed_query(text)
        results = search_content(self.index, vector, text, self.settings.fusion, max(1, min(int(k), 100)))
        return [SearchHit(rank, product, score) for rank, (product, score) in enumerate(results, start=1)]

    # ------------------------------------------------------------------ behavioural model and checks

    @property
    def cf_model(self) -> "CFModel | None":
        """The behavioural model for the served index (see `ServedModel`)."""
        return self._model.model

    @property
    def cf_warning(self) -> str | None:
        return self._model.warning

    @property
    def cf_version(self) -> str | None:
        """The saved version of the CF model in memory (None when none is loaded); never loads one."""
        return self._model.version

    @property
    def cf_refits(self) -> int:
        """Background refits finished (after a forget)."""
        return self._model.refits

    def refit_cf_in_background(self) -> None:
        """Refit the demo store's model off the request path (see `ServedModel.refit_in_background`)."""
        self._model.refit_in_background()

    def wait_for_cf_refit(self, timeout: float | None = None) -> bool:
        """Wait for a background refit to finish; False when one is still running after `timeout` s."""
        return self._model.wait_for_refit(timeout)

    def check_published(self, every: float | None = None) -> list[str]:
        """Re-check the checksums of the published index build and CF model against their manifests (the
        server does it on a schedule, and /api/health when the last check is older than `every` seconds).
        Damage is kept in `index_warning` / `cf_warning`; a damaged served index is replaced by the previous
        good build when there is one. Returns the current warnings."""
        if (every is not None and time.monotonic() - self._checked_at < every) or \
                not self._check_lock.acquire(blocking=False):
            return self.warnings()
        try:
            self._served.check()
            self._model.check()
            self.preference.check()
            self._checked_at = time.monotonic()
        finally:
            self._check_lock.release()
        return self.warnings()

    def warnings(self) -> list[str]:
        """What is damaged in what this assistant serves (empty when all is well)."""
        return [w for w in (self.index_warning, self.cf_warning, self.preference.warning, self.rules.warning) if w]

    def check_published_on_a_schedule(self) -> threading.Thread:
        """A daemon thread that runs `check_published` every `verify_seconds` (started by `aisle serve`)."""
        def loop() -> None:
            while True:
                time.sleep(max(self.settings.verify_seconds, 0.5))
                try:
                    self.check_published()
                except Exception as err:  # a check must never stop the checks
                    log.warning("checking the published files failed: %s", err)

        thread = threading.Thread(target=loop, name="check-published", daemon=True)
        thread.start()
        return thread

    # ------------------------------------------------------------------ recommend

    @property
    def segments(self) -> dict:
        """Segment profiles from the configured segments file."""
        if self._segments is None:
            from assistant.rank.segments import load_segments
            self._segments = load_segments(self.settings.segments_file)
        return self._segments

    def store_profile(self, index: ProductIndex | None = None) -> "StoreProfile":
        """What the served catalog (or `index`'s) holds: colour families, brands, audiences, currency..."""
        return self._served.profile(index)

    def features(self, index: ProductIndex | None = None) -> ProductFeatures:
        """Per-product ranking features of an index (default: the served one), computed once per build."""
        return self._served.features(index)

    def language_model(self) -> Any:
        """The configured LLM, loaded once; None (with the reason kept for traces) when it is off or broken."""
        if self._lm is not None:
            return self._lm
        if self.settings.llm_model == "none":
            self._lm_error = "the LLM stage is turned off (llm_model = none)"
            return None
        if self._lm_error is None:
            from assistant.llm.model import ModelUnavailable, make_language_model
            try:
                self._lm = make_language_model(self.settings.llm_model, threads=self.settings.threads,
                                               quantize=self.settings.llm_int8)
            except (ModelUnavailable, ValueError) as err:
                self._lm_error = f"language model unavailable: {err}"
        return self._lm

    @property
    def language_model_problem(self) -> str | None:
        """Why `language_model()` gave None (turned off, or failed to load); None when it did not."""
        return self._lm_error

    def use_language_model(self, lm: Any) -> None:
        """Serve with this language model instead of loading the configured one (an embedding host's own)."""
        self._lm, self._lm_error = lm, None

    def turn_pipeline(self, cf: "CFModel | None" = None, use_llm: bool = False,
                      index: ProductIndex | None = None) -> TurnPipeline:
        """The turn path over the served index (or `index`) with the served CF model (or `cf`)."""
        index = index or self.index
        lm = self.language_model() if use_llm else None
        preference = self.preference.scorer  # used by a turn while `fusion.preference` is on
        notes = {stage: w for stage, w in (("behavioural model", self.cf_warning),
                                           ("preference model", self.preference.warning)) if w}
        llm = LLMStage(lm, self.settings.rerank_top_n, self.settings.llm_weight,
                       self._lm_error if lm is None and self._lm_error else "")
        return TurnPipeline(index, self.features(index), self.segments, self.query_embedder(),
                            cf if cf is not None else self.cf_model, self.settings.fusion, llm, notes,
                            self.store_profile(index), self._served.cross_lingual(index), preference,
                            self.rules.rules())

    def recommend(self, message: str, conversation: "Conversation | None" = None, segment: str | None = None,
                  customer: str | None = None, k: int = 5, fusion: "FusionSettings | None" = None,
                  use_llm: bool | None = None, reasons: bool = False, exclude: Iterable[str] = ()) -> Recommendation:
        """Parse the message into the conversation, rank the catalog for it, rerank the top with the LLM,
        and record the trace. `reasons=True` also writes the one-line reasons (else call `explain`).

        `fusion` overrides the configured score fusion and `use_llm` the LLM rerank (evaluation compares)."""
        record = self._answer(message, conversation, segment, customer, k, fusion, use_llm, exclude)
        self.traces.add(record)
        if reasons:
            self._explain(record)
        return Recommendation.of(record)

    def _answer(self, message: str, conversation: "Conversation | None", segment: str | None,
                customer: str | None, k: int, fusion: "FusionSettings | None", use_llm: bool | None,
                exclude: Iterable[str]) -> TurnRecord:
        from assistant.understand import Conversation
        pseudonym = self._pseudonym(customer) if customer else None
        if pseudonym is not None and pseudonym in self._forgotten():
            pseudonym = None  # a forgotten customer is served as an anonymous shopper
        wants_llm = use_llm if use_llm is not None else self.settings.llm_weight > 0
        index = self.index  # one build for the whole turn, even if a rebuild publishes meanwhile
        return self.turn_pipeline(self.cf_model, wants_llm, index).run(
            message, conversation if conversation is not None else Conversation(), segment, pseudonym, k, fusion,
            exclude)

    def explain(self, turn_id: str, on_reason: Callable[[Any], None] | None = None) -> dict[str, str]:
        """One-line reasons for a turn's shown products ({product id: reason}), LLM-written where they pass the
        grounding check, else from the score breakdown; in the trace. `on_reason` gets each as it is written."""
        return self._explain(self.turn(turn_id), on_reason)

    def _explain(self, record: TurnRecord, on_reason: Callable[[Any], None] | None = None) -> dict[str, str]:
        if (written := written_reasons(record)) is None:  # reasons already written need no language model
            written = write_reasons(record, self.language_model(), self.settings.reason_tokens, self._lm_error or "",
                                    self.store_profile(), on_reason)
            self._try(self.traces.add, record)  # kept again with its reasons
        return written

    # ------------------------------------------------------------------ chat sessions, feedback, staff
    def chat(self, message: str, conversation_id: str | None = None, segment: str | None = None,
             customer: str | None = None, k: int = 5, reasons: bool = False) -> tuple[str, Recommendation]:
        """One chat turn in a server-side conversation (created when `conversation_id` is None or unknown).
        Products the shopper turned down in this conversation are never shown again."""
        # The shopper's answer never depends on the shopper-data store or the shared conversation store: a
        # damaged file, a wrong data key, a full disk or a database that is down is reported in the trace and
        # in the log, and the chat goes on without it (a conversation that cannot be read starts afresh).
        from assistant.service.sessions import new_conversation_id
        from assistant.understand import Conversation
        opened, problem = self._try(self.conversations.open, conversation_id)
        conversation_id, conversation = opened or (conversation_id or new_conversation_id(), Conversation())
        declined, problem = self._try(lambda: self.shopper_data.declined(conversation_id)) if problem is None \
            else (None, problem)
        record = self._answer(message, conversation, segment, customer, k, None, None, declined or set())
        record.conversation_id = conversation_id
        self._try(self.traces.add, record)  # a trace that cannot be kept only leaves staff without it
        if forgotten_meanwhile := bool(record.customer) and record.customer in self._forgotten():
            record.customer = None  # forgotten while this turn was being answered (checked after it was kept)
        problem = self._try(self.conversations.save, conversation_id, conversation, record.customer or "")[1] or problem
        if problem is None:
            problem = self._try(lambda: self.shopper_data.log_turn(
                record.customer or "", conversation_id, record.turn_id, record.segment,
                [c.product.id for c in record.result.candidates], record.message))[1]
        if problem:
            record.stages["shopper data"] = f"unavailable, turn not logged: {problem}"
        if problem or forgotten_meanwhile:
            self._try(self.traces.add, record)  # kept again with the note, or without the customer
        if reasons:
            self._explain(record)
        return conversation_id, Recommendation.of(record)

    def _try(self, action: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
        """(action(*args), None), or (None, what went wrong) when a store it needs is unavailable."""
        try:
            return action(*args), None
        except STORE_ERRORS as err:
            return None, self._store_problem(err)

    def _store_problem(self, err: Exception) -> str:
        text = f"{type(err).__name__}: {err}"
        if text != self._store_warning:
            self._store_warning = text
            log.warning("the shopper-data store (%s) is unavailable: %s", describe_store(self.settings), text)
        return text

    def reset_conversation(self, conversation_id: str | None) -> None:
        """Forget a conversation's state ("start over")."""
        self.conversations.close(conversation_id)

    @property
    def shopper_data(self) -> ShopperData:
        """Feedback and turn logs, encrypted, under the state folder (opened on first use)."""
        with self._store_lock:
            if self._shopper_data is None:
                self._shopper_data = open_shopper_data(self.settings)
            return self._shopper_data

    def close_shopper_data(self) -> None:
        """Close the shopper-data store; the next use opens it again (after a key change or repair)."""
        with self._store_lock:
            store, self._shopper_data = self._shopper_data, None
        if store is not None:
            store.close()

    def record_feedback(self, conversation_id: str, turn_id: str, product_id: str, kind: str) -> None:
        """Store thumbs up / down / bought for a product shown in that turn of that conversation (so no
        made-up event reaches `aisle cf fit`); the customer is the turn's own, never one the caller names.
        A thumbs down hides the product for the rest of the conversation."""
        record = self.traces.find(turn_id)
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
        pseudonym = self._pseudonym(customer)
        self._forgotten_list.add(pseudonym)
        removed = self.shopper_data.forget(pseudonym)
        mine = self.traces.drop_customer(pseudonym)
        for record in mine:
            self.conversations.close(record.conversation_id)
        removed["traces"] = len(mine)
        if self.settings.index_name == "demo" and (cf_model_dir(self.settings) / "manifest.json").is_file():
            self.refit_cf_in_background()  # without them; the current model serves meanwhile (see recommend)
            removed["cf_model_refit"] = 1
        return removed

    def _forgotten(self) -> set[str]:
        return self._forgotten_list.all()

    def _pseudonym(self, customer: str) -> str:
        from assistant.privacy.keys import pseudonymizer
        return pseudonymizer(self.settings.state_dir)(customer)

    def staff_allowed(self, token: str | None) -> bool:
        """Constant-time check of a staff token; with no token configured, staff access is off."""
        return token_matches(self.settings.staff_token, token)

    def storefront_allowed(self, token: str | None) -> bool:
        """Whether a caller is the store's backend, trusted to name the signed-in customer."""
        return token_matches(self.settings.storefront_token, token)

    def recent_turns(self, limit: int = 30) -> list[TurnRecord]:
        """The latest recorded turns, newest first."""
        return self.traces.recent(limit)

    def turn(self, turn_id: str) -> TurnRecord:
        """A recent turn's record; KeyError names the turn when it is unknown or expired."""
        return self.traces.get(turn_id)

    def why(self, turn_id: str, product_id: str) -> dict[str, Any]:
        """The full trace of why a shown product was recommended in a turn."""
        return why(self.turn(turn_id), product_id)

    def why_not(self, turn_id: str, product_id: str) -> dict[str, Any]:
        """Which stage kept a product out of a turn's answer, and why."""
        return why_not(self.turn(turn_id), self.index, product_id)
