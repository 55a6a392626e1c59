"""The typed record of why a product scored what it did: written by ranking, the LLM rerank and the reasons
stage, read by traces, the API, the CLI and the web app through one `to_dict`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.rank.attributes import AttributeScore


@dataclass
class RerankScore:
    """What the LLM rerank made of a candidate: P(Yes), its standing in the ranked (diversified) order (1 first,
    0 last) and their blend."""

    llm_yes: float
    standing: float
    final: float


@dataclass(frozen=True)
class ReasonNote:
    """The one-line reason shown with a product, who wrote it, and how the grounding check went."""

    text: str
    source: str  # "llm" or "template"
    check: str  # "passed", or why the LLM's sentence was refused


@dataclass(frozen=True)
class PreferenceNote:
    """What the learned preference model made of a candidate: its raw score, the hand-tuned sum it replaced,
    the features it read and each one's contribution (LightGBM `pred_contrib`; they and `base` sum to `raw`)."""

    model: str  # the saved model's version
    raw: float
    hybrid: float
    features: dict[str, float | None]  # None: unknown (NaN) for this candidate
    contributions: dict[str, float]
    base: float  # the model's expected score (the bias column)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "score": self.raw, "hand_tuned": self.hybrid, "base": self.base,
                "features": dict(self.features), "contributions": dict(self.contributions)}


@dataclass
class ScoreBreakdown:
    """Every score that placed one pooled product, source by source (values rounded as shown to staff)."""

    sources: list[str]  # the candidate pools it came from: content, cf, segment prior
    content_similarity: float  # cosine similarity to the query (nan when not computed)
    content: float  # min-max normalised over the pool
    cf_score: float
    cf: float
    attributes: AttributeScore
    fused: float
    rank_before_diversity: int
    cf_evidence: str = ""  # the shopper's own items that make the CF model propose it
    popularity_cap: str = ""  # set when the popularity cap held it back
    rerank: RerankScore | None = None  # only the top N the LLM judged
    rank_after_rerank: int | None = None  # every candidate of a reranked list
    reason: ReasonNote | None = None
    relaxes: list[str] = field(default_factory=list)  # an alternative: the constraints it does not meet
    preference: PreferenceNote | None = None  # ranked by the learned preference model (its best scored only)
    rules: list[str] = field(default_factory=list)  # the merchandising rules that moved it (rank/rules.py)

    @classmethod
    def unscored(cls) -> "ScoreBreakdown":
        """The breakdown of a product that was placed without scores (a hand-made list)."""
        return cls([], float("nan"), 0.0, 0.0, 0.0, AttributeScore(0.0, {}), 0.0, 0)

    def term_contributions(self) -> dict[str, float]:
        """Attribute term -> weight · value, as the trace shows it."""
        return {name: round(weight * value, 4) for name, (weight, value) in self.attributes.terms.items()}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of traces and `--json` output (unset later-stage fields are left out)."""
        out: dict[str, Any] = {
            "sources": list(self.sources), "content_similarity": self.content_similarity, "content": self.content,
            "cf_score": self.cf_score, "cf": self.cf, "cf_evidence": self.cf_evidence,
            "attributes": self.attributes.to_dict(), "fused": self.fused,
            "rank_before_diversity": self.rank_before_diversity}
        if self.relaxes:
            out["relaxes"] = list(self.relaxes)
        if self.rules:
            out["rules"] = list(self.rules)
        if self.popularity_cap:
            out["popularity_cap"] = self.popularity_cap
        if self.preference is not None:
            out["preference"] = self.preference.to_dict()
        if self.rerank is not None:
            out.update(llm_yes=self.rerank.llm_yes, standing=self.rerank.standing,
                       final=self.rerank.final)
        if self.rank_after_rerank is not None:
            out["rank_after_rerank"] = self.rank_after_rerank
        if self.reason is not None:
            out.update(reason=self.reason.text, reason_source=self.reason.source, reason_check=self.reason.check)
        return out
