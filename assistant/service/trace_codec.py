"""A turn's staff trace (`TurnRecord`) as plain JSON and back, for a trace store that replicas share.

Nothing is pickled: every field is written by name, arrays as base64 of zlib-compressed float32 bytes.
Shown products are written whole (a replica reading the trace may serve a later build); the pooled
products' breakdowns and the content scores are kept by product id and catalog position of the build
that answered (`why_not` on another replica reads them against its own served build, the same one when
replicas serve one published index).
"""

from __future__ import annotations

import base64
import dataclasses
import zlib
from typing import Any

import numpy as np

from assistant.core.config import FusionSettings
from assistant.ingest.catalog import Product
from assistant.rank.attributes import AttributeScore
from assistant.rank.breakdown import PreferenceNote, ReasonNote, RerankScore, ScoreBreakdown
from assistant.rank.hybrid import Candidate, RankResult
from assistant.service.traces import TurnRecord
from assistant.understand import Request

FORMAT = 1  # bumped when the JSON shape changes; a trace of another format is not read


def encode_record(record: TurnRecord) -> dict[str, Any]:
    """The JSON-ready form of a turn record."""
    result = record.result
    return {
        "format": FORMAT, "turn_id": record.turn_id, "message": record.message,
        "request": record.request.to_dict(), "segment": record.segment, "segment_source": record.segment_source,
        "stages": dict(record.stages), "customer": record.customer, "conversation_id": record.conversation_id,
        "clarify": record.clarify, "suggestions": list(record.suggestions), "created": record.created,
        "result": {
            "candidates": [{"product": _product(c.product), "score": c.score, "rank": c.rank,
                            "breakdown": dataclasses.asdict(c.breakdown)} for c in result.candidates],
            "filter_counts": dict(result.filter_counts), "blocked": dict(result.blocked.items()),
            "allowed": int(result.allowed), "pool": [[pid, float(score)] for pid, score in result.pool],
            "pool_details": {pid: dataclasses.asdict(b) for pid, b in result.pool_details.items()},
            "segment": result.segment, "fusion": dataclasses.asdict(result.fusion),
            "content_scores": _array(result.content_scores), "k": result.k, "matched": result.matched,
            "relevance_floor": result.relevance_floor, "scoring": result.scoring}}


def decode_record(data: dict[str, Any]) -> TurnRecord:
    """The turn record an `encode_record` wrote; ValueError for another format."""
    if data.get("format") != FORMAT:
        raise ValueError(f"turn trace format {data.get('format')!r} is not {FORMAT}")
    r = data["result"]
    candidates = [Candidate(Product(**{**c["product"], "tags": tuple(c["product"]["tags"])}), c["score"], c["rank"],
                            _breakdown(c["breakdown"])) for c in r["candidates"]]
    result = RankResult(candidates, r["filter_counts"], r["blocked"], r["allowed"],
                        [(pid, score) for pid, score in r["pool"]],
                        {pid: _breakdown(b) for pid, b in r["pool_details"].items()}, r["segment"],
                        FusionSettings(**r["fusion"]), _from_array(r["content_scores"]), r["k"], r["matched"],
                        r["relevance_floor"], r["scoring"])
    return TurnRecord(data["turn_id"], data["message"], Request.from_dict(data["request"]), data["segment"],
                      data["segment_source"], result, data["stages"], data["customer"], data["conversation_id"],
                      data["clarify"], data["suggestions"], data.get("created", 0.0))


def _product(product: Product) -> dict[str, Any]:
    out = {f.name: getattr(product, f.name) for f in dataclasses.fields(product)}
    return {**out, "tags": list(product.tags), "attributes": dict(product.attributes)}


def _breakdown(data: dict[str, Any]) -> ScoreBreakdown:
    attributes = AttributeScore(data["attributes"]["total"],
                                {k: (w, f) for k, (w, f) in data["attributes"]["terms"].items()})
    return ScoreBreakdown(
        data["sources"], data["content_similarity"], data["content"], data["cf_score"], data["cf"], attributes,
        data["fused"], data["rank_before_diversity"], data["cf_evidence"], data["popularity_cap"],
        _rerank_score(data["rerank"]), data["rank_after_rerank"],
        ReasonNote(**data["reason"]) if data["reason"] is not None else None, list(data["relaxes"]),
        PreferenceNote(**data["preference"]) if data["preference"] is not None else None, list(data.get("rules", [])))


def _rerank_score(data: dict[str, Any] | None) -> RerankScore | None:
    if data is None:
        return None
    standing = data.get("standing", data.get("hybrid_normalised"))  # traces written before the rename
    return RerankScore(data["llm_yes"], standing, data["final"])


def _array(values: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.asarray(values, dtype="<f4").tobytes(), 6)).decode("ascii")


def _from_array(text: str) -> np.ndarray:
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<f4").astype(np.float64)
