"""End to end on the real demo store: a small preference model fitted on its generated logs lifts the
held-out NDCG@10 of known shoppers who type nothing specific (the hand-tuned hybrid all but ignores their
history; docs/ranking.md, "Learned preference model")."""

from __future__ import annotations

import pytest

pytest.importorskip("lightgbm")


def test_a_small_preference_model_lifts_vague_known_shoppers(demo_assistant) -> None:
    from assistant.demo import customers_path, events_path
    from assistant.evaluation.preference import evaluate_vague_shoppers, fit_preference
    from assistant.surfaces.cli.common import read_logs

    log, segments = read_logs(demo_assistant.settings, (events_path(),), (customers_path(),), ())
    model, data = fit_preference(demo_assistant, log, segments, shoppers=60, rounds=60,
                                 kinds=("no words", "category"))
    assert data.figures["turns"]["no words"] > 30 and model.feature_names == data.feature_names
    result = evaluate_vague_shoppers(demo_assistant, log, segments, model, shoppers=80)
    cf_only, hybrid, learned = (result.ndcg[m] for m in ("CF-only", "hybrid", "hybrid+preference"))
    assert cf_only > 0.1 and hybrid < 0.05  # the gap the model is for
    # A 60-shopper fit is cheap but not stable: on this machine learned NDCG@10 ranges 0.06-0.20 as the
    # training sample moves, and another CPU's float rounding moved it to 0.096 (hybrid 0.034). The claim
    # checked is the lift, not its size: several more held-out targets found in the top 10 than the hybrid.
    assert learned > 2 * hybrid and learned - hybrid > 0.04
