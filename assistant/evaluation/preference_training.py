"""Training data for the learned preference model, from a store's own interaction log (docs/ranking.md,
"Learned preference model"). The same code for every store:

1. Temporal split, one step earlier than the evaluation: `leave_last_out` gives the held-out targets that
   `evaluation/preference.py` (and `aisle eval cf`) measure on — never used here; `leave_last_out` of the
   remaining events gives each shopper's *previous* new product, the training target, and the events
   before it, which fit the CF model the training turns are ranked with.
2. For every sampled shopper, turns ranked through the served pipeline (`TurnPipeline.rank_request`, the
   turn's pool exactly as a shopper would get it, products they already have excluded):
   - "no words": an empty request (a known shopper who types nothing specific);
   - "vague": a vague message (`VAGUE_MESSAGES`) parsed as the chat parses it;
   - "category": the target's category path as words ("kids outerwear"), parsed, as the shopper;
   - "category, anonymous": the same words from a shopper the store does not know (no history).
3. Labels: the target 2; in a category turn, other products of the target's category 1; else 0. The rows
   are `rank.preference.feature_matrix` of each pool, recorded as the pipeline scores it.

The labelled evaluation requests (evaluation/data/*.jsonl) are never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import numpy as np

from assistant.behaviour import CFModel, Interactions
from assistant.core.config import FusionSettings
from assistant.core.progress import progress_bar
from assistant.evaluation.metrics import Split, leave_last_out
from assistant.ingest.customers import InteractionLog
from assistant.rank.lambdarank import TrainingSet
from assistant.rank.preference import FEATURES, feature_matrix
from assistant.rank.scoring import Pool, Scored, Scorer, WeightedSum
from assistant.rank.segments import GENERAL, Segment
from assistant.understand import Conversation, Request
from assistant.understand.grounding import ground
from assistant.understand.store import store_vocabulary

if TYPE_CHECKING:
    from assistant.service.assistant import Assistant
    from assistant.service.turn import TurnPipeline

VAGUE_MESSAGES = ("something nice", "any ideas?", "surprise me with a gift")
TURN_KINDS = ("no words", "vague", "category", "category, anonymous")
TARGET, RELATED = 2, 1


class Recorder(Scorer):
    """The hand-tuned scorer, keeping the feature rows of the last pool it scored (training reads them)."""

    name = WeightedSum.name

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.rows = np.zeros((0, len(FEATURES)), dtype=np.float32)

    def score(self, pool: Pool, fusion: FusionSettings) -> Scored:
        scored = WeightedSum().score(pool, fusion)
        self.ids, self.rows = list(pool.ids), feature_matrix(pool, scored.scores)
        return scored


def category_words(category: str) -> str:
    """A category path as a shopper might type it: "Home & Kitchen > Kitchen Aids" -> "home kitchen kitchen aids"."""
    return " ".join(re.findall(r"[^\W_]+(?:'[^\W_]+)?", category.lower()))


def parse(pipeline: "TurnPipeline", message: str) -> Request:
    """`message` parsed and grounded in the store as a chat turn is."""
    vocab = store_vocabulary(pipeline.profile)
    conversation = Conversation()
    conversation.add(message, vocab)
    return ground(conversation.state, pipeline.profile, vocab)


def warm(pipeline: "TurnPipeline", requests: Iterable[Request], segments: Iterable[Segment]) -> None:
    """Embed the needs and segment descriptions the turns will search for, in batches, before ranking."""
    pipeline.embedder.warm_queries([*(r.need or " ".join(r.categories) for r in requests),
                                    *(s.description for s in segments), GENERAL.description])


def sampled(users: Sequence[str], shoppers: int | None) -> list[str]:
    """`shoppers` evenly spaced users (all when None or fewer)."""
    users = list(users)
    if shoppers is not None and len(users) > shoppers:
        users = [users[int(i)] for i in np.linspace(0, len(users) - 1, shoppers)]
    return users


def training_split(log: InteractionLog) -> Split:
    """Events before each shopper's previous new product, and that product (see the module docstring)."""
    return leave_last_out(leave_last_out(log).train)


@dataclass
class PreparedTraining:
    """The training split, its interactions and the CF model fitted on them."""

    split: Split
    data: Interactions
    cf: CFModel


def prepare_training(log: InteractionLog, segments: Mapping[str, str], cf_model: str,
                     previous: CFModel | None = None) -> PreparedTraining:
    """Split `log` one step before the evaluation and fit the store's CF model on the events before the
    targets (`cf_model` as the setting: "auto" keeps the choice of the `previous`, served, model)."""
    split = training_split(log)
    cf = store_cf(split.train, segments, cf_model, previous)
    return PreparedTraining(split, cf.trained, cf)


def store_cf(log: InteractionLog, segments: Mapping[str, str], cf_model: str, previous: CFModel | None) -> CFModel:
    """The store's CF model, as `aisle cf fit` fits it, on `log` (the served model's choice when it has one)."""
    from assistant.behaviour.selection import choice_of, fit_store_model
    return fit_store_model(log, segments, cf_model, choice_of(previous) if previous is not None else None)[0]


def build_training_set(assistant: "Assistant", prepared: PreparedTraining, shoppers: int | None = 600,
                       kinds: Sequence[str] = TURN_KINDS, progress: bool = False) -> TrainingSet:
    """Rank every sampled shopper's training turns and record each pool's features and labels."""
    unknown = set(kinds) - set(TURN_KINDS)
    if unknown:
        raise ValueError(f"unknown turn kind(s) {sorted(unknown)}; known: {', '.join(TURN_KINDS)}")
    data, targets = prepared.data, prepared.split.targets
    pipeline = assistant.turn_pipeline(cf=prepared.cf)
    recorder = Recorder()
    pipeline.preference = recorder
    fusion = replace(assistant.settings.fusion, preference=True, max_popular_share=None)
    index = pipeline.index
    category = {p.id: p.category for p in index.products}
    users = sampled([u for u in targets if u in data.user_index and targets[u] in category], shoppers)
    vague = [parse(pipeline, m) for m in VAGUE_MESSAGES]
    requests = {words: parse(pipeline, words) for words in {category_words(category[targets[u]]) for u in users}}
    warm(pipeline, [*vague, *requests.values()], assistant.segments.values())
    rows, labels, groups = [], [], []
    counts = {kind: 0 for kind in kinds}
    for number, user in enumerate(progress_bar(users, progress, "preference training turns", "shopper")):
        row = data.user_index[user]
        segment: Segment = assistant.segments.get(data.segments[row], GENERAL)
        seen = {data.items[i] for i in data.seen[row].indices}
        target = targets[user]
        words = category_words(category[target])
        for kind in kinds:
            request = {"no words": Request(), "vague": vague[number % len(vague)]}.get(kind, requests[words])
            shopper = None if kind.endswith("anonymous") else user
            pipeline.rank_request(request, segment, shopper, k=10, fusion=fusion,
                                  exclude=seen if shopper else ())
            grade = np.array([TARGET if pid == target else RELATED if kind.startswith("category") and
                              category.get(pid) == category[target] else 0 for pid in recorder.ids])
            if grade.max(initial=0) < TARGET:
                continue  # the target is not in this pool: nothing to learn from the turn
            rows.append(recorder.rows)
            labels.append(grade)
            groups.append(len(grade))
            counts[kind] += 1
    figures = {"shoppers": len(users), "turns": counts, "rows": int(sum(groups)), "training_events": len(prepared.split.train),
               "cf_model": prepared.cf.name, "target": "each shopper's previous new product (leave-last-out twice)",
               "labels": {"target": TARGET, "same category (category turns)": RELATED, "other": 0}}
    if not groups:
        return TrainingSet(np.zeros((0, len(FEATURES)), dtype=np.float32), np.zeros(0), [], FEATURES, figures)
    return TrainingSet(np.vstack(rows), np.concatenate(labels), groups, FEATURES, figures)
