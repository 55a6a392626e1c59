"""What each turn did, kept for staff: the bounded store of recent turns and the "why" / "why not" traces."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from assistant.index import ProductIndex
from assistant.ingest.catalog import Product
from assistant.rank.hybrid import RankResult
from assistant.service.why_text import why_not_sentence, why_sentence
from assistant.understand import Request

TRACE_LIMIT = 500  # recent turns kept for staff "why" questions


@dataclass
class TurnRecord:
    """What one recommendation turn did, kept for staff traces."""

    turn_id: str
    message: str
    request: Request
    segment: str
    segment_source: str
    result: RankResult
    stages: dict[str, str] = field(default_factory=dict)  # stage -> note (e.g. "llm: skipped ...")
    customer: str | None = None  # pseudonym
    conversation_id: str = ""
    clarify: str | None = None  # the question asked (no recognisable need, or a vague one)
    suggestions: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)  # when the turn was answered (Unix seconds)


class TraceStore(ABC):
    """Where turn records live for staff: in this process (`TurnTraces`) or in a store that serving replicas
    share (shared_state.py). A record changed after `add` (its conversation, its reasons) is added again."""

    limit: int

    @abstractmethod
    def add(self, record: TurnRecord) -> None:
        """Keep a turn's record (again, replacing the kept one, when it changed)."""

    @abstractmethod
    def find(self, turn_id: str) -> TurnRecord | None:
        """A recent turn's record, None when it is unknown or expired."""

    @abstractmethod
    def recent(self, limit: int = 30) -> list[TurnRecord]:
        """The latest recorded turns, newest first."""

    @abstractmethod
    def drop_customer(self, customer: str) -> list[TurnRecord]:
        """Remove every turn of one customer pseudonym; returns the removed ones."""

    def get(self, turn_id: str) -> TurnRecord:
        """A recent turn's record; KeyError names the turn when it is unknown or expired."""
        record = self.find(turn_id)
        if record is None:
            raise KeyError(f"no recent turn {turn_id!r} (only the last {self.limit} turns are kept)")
        return record


class TurnTraces(TraceStore):
    """The last `limit` turns in memory, oldest dropped first; safe to use from many threads."""

    def __init__(self, limit: int = TRACE_LIMIT) -> None:
        self.limit = limit
        self._turns: OrderedDict[str, TurnRecord] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, record: TurnRecord) -> None:
        with self._lock:
            self._turns[record.turn_id] = record
            while len(self._turns) > self.limit:
                self._turns.popitem(last=False)

    def find(self, turn_id: str) -> TurnRecord | None:
        return self._turns.get(turn_id)

    def recent(self, limit: int = 30) -> list[TurnRecord]:
        with self._lock:
            return list(self._turns.values())[-limit:][::-1]

    def drop(self, keep: Callable[[TurnRecord], bool]) -> list[TurnRecord]:
        """Remove every turn `keep` says no to; returns the removed ones."""
        with self._lock:
            gone = [record for record in self._turns.values() if not keep(record)]
            for record in gone:
                del self._turns[record.turn_id]
        return gone

    def drop_customer(self, customer: str) -> list[TurnRecord]:
        return self.drop(lambda record: record.customer != customer)


def matched_words(request: Request, product: Product) -> list[str]:
    """Words of the shopper's need that the product's text contains (for the trace)."""
    text = " ".join([product.title, product.category, " ".join(product.tags), product.description]).lower()
    words = [w for w in request.need.lower().split() if len(w) > 2]
    return [w for w in dict.fromkeys(words) if w in text]


def trace_head(record: TurnRecord) -> dict[str, Any]:
    """What every trace of a turn starts with: the message, the parsed request, segment, filters, stages."""
    result = record.result
    return {"turn_id": record.turn_id, "message": record.message, "request": record.request.to_dict(),
            "segment": record.segment, "segment_source": record.segment_source,
            "filters": result.filter_counts, "allowed_after_filters": result.allowed,
            "candidates_considered": len(result.pool), "fusion": vars(result.fusion),
            "stages": record.stages}


def why(record: TurnRecord, product_id: str) -> dict[str, Any]:
    """The full trace of why a shown product was recommended in a turn."""
    for candidate in record.result.candidates:
        if candidate.product.id == product_id:
            words = matched_words(record.request, candidate.product)
            summary = why_sentence(candidate.rank, candidate.product, candidate.breakdown, record.request, words,
                                   record.segment)
            return {"summary": summary, **trace_head(record), "product_id": product_id, "title": candidate.product.title,
                    "shown": True, "rank": candidate.rank, "score": round(candidate.score, 4),
                    "matched_words": words,
                    "breakdown": candidate.breakdown.to_dict()}
    raise KeyError(f"product {product_id!r} was not shown in turn {record.turn_id}; ask why_not instead")


def why_not(record: TurnRecord, index: ProductIndex, product_id: str) -> dict[str, Any]:
    """Which stage kept a product out of a turn's answer, and why: one sentence first, then the trace."""
    answer = _why_not(record, index, product_id)
    return {"summary": why_not_sentence(answer["stage"], answer["why"]), **answer}


def _why_not(record: TurnRecord, index: ProductIndex, product_id: str) -> dict[str, Any]:
    result = record.result
    head = {**trace_head(record), "product_id": product_id}
    position = index.position_of(product_id)
    if position is None:
        return {**head, "shown": False, "stage": "catalog", "why": "no product with this id in the served index"}
    product = index.products[position]
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
        fused_rank = details.rank_before_diversity
        why_text = (f"ranked {fused_rank} of {len(result.pool)} candidates with score {details.fused:.3f}; "
                    f"the last shown item scored {cutoff:.3f}")
        if details.popularity_cap:
            return {**head, "shown": False, "stage": "popularity cap", "why": details.popularity_cap,
                    "breakdown": details.to_dict()}
        if fused_rank <= result.k:
            why_text = f"ranked {fused_rank} before the diversity step, which preferred a less similar product"
        return {**head, "shown": False, "stage": "ranking" if fused_rank > result.k else "diversity",
                "why": why_text, "breakdown": details.to_dict()}
    similarity = float(result.content_scores[position])
    allowed_better = int(np.sum(result.content_scores > similarity))
    return {**head, "shown": False, "stage": "candidate retrieval",
            "why": (f"not among the candidates: content score {similarity:.3f} ranks about "
                    f"{allowed_better + 1} in the catalog, and neither the behavioural model nor the "
                    f"segment's priors proposed it")}
