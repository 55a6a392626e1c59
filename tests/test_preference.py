"""The learned preference model: its features on a tiny known case, fit → save → load → the same scores,
determinism, the fallback to the hand-tuned weights when the model is missing, damaged or fails, and the
staff trace of its contributions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from assistant.core.config import FusionSettings
from assistant.ingest.catalog import Product
from assistant.rank.attributes import AttributeScore, ProductFeatures
from assistant.rank.hybrid import RankContext, rank
from assistant.rank.lambdarank import (MODEL_FILE, LambdaRankModel, PreferenceModelError, TrainingSet,
                                       load_serving_model)
from assistant.rank.preference import FEATURES, LearnedPreference, feature_matrix
from assistant.rank.scoring import Pool, TurnSignals, WeightedSum
from assistant.rank.segments import ATTRIBUTE_TERMS, GENERAL
from assistant.understand import Request

pytest.importorskip("lightgbm")


def attribute(total: float, **values: float) -> AttributeScore:
    return AttributeScore(total, {t: (1.0, values.get(t, 0.0)) for t in ATTRIBUTE_TERMS})


def tiny_pool() -> Pool:
    """Three candidates: a proposed by CF first, b by CF second and by the segment prior, c by content only."""
    return Pool(["a", "b", "c"], np.array([2, 0, 1]),
                {"content": {"a": 0.2, "b": 0.6, "c": 1.0}, "cf": {"a": 4.0, "b": 2.0, "c": 0.0},
                 "attributes": {"a": 0.5, "b": 0.25, "c": 0.0}},
                {"a": attribute(0.5, rating=0.75), "b": attribute(0.25, category_match=1.0), "c": attribute(0.0)},
                ["a", "b"], frozenset({"b"}), dense=np.array([0.6, 0.9, 0.3]), lexical=np.array([2.0, 0.0, 4.0]),
                popularity={"a": math.e - 1, "b": 0}, signals=TurnSignals(True, 0, 1, 12))


def column(rows: np.ndarray, name: str) -> list[float]:
    return [None if np.isnan(v) else round(float(v), 4) for v in rows[:, FEATURES.index(name)]]


def test_features_of_a_tiny_known_pool() -> None:
    rows = feature_matrix(tiny_pool(), {"a": 0.7, "b": 0.5, "c": 0.1})
    assert rows.shape == (3, len(FEATURES)) and rows.dtype == np.float32
    assert column(rows, "vague") == [1, 1, 1] and column(rows, "history") == [12, 12, 12]
    assert column(rows, "constraints") == [1, 1, 1] and column(rows, "need_words") == [0, 0, 0]
    assert column(rows, "hybrid") == [0.7, 0.5, 0.1]
    assert column(rows, "dense") == [0.3, 0.6, 0.9]  # catalog positions 2, 0, 1
    assert column(rows, "dense_gap") == [0.6, 0.3, 0.0]
    assert column(rows, "lexical") == [1.0, 0.5, 0.0]  # BM25 over the catalog's best (4.0)
    assert column(rows, "content") == [0.0, 0.5, 1.0] and column(rows, "cf") == [1.0, 0.5, 0.0]
    assert column(rows, "cf_rank") == [1.0, round(math.log2(3), 4), None]  # not proposed by CF: unknown
    assert column(rows, "from_cf") == [1, 1, 0] and column(rows, "from_prior") == [0, 1, 0]
    assert column(rows, "popularity") == [1.0, 0.0, 0.0]
    assert column(rows, "attributes") == [0.5, 0.25, 0.0]
    assert column(rows, "rating") == [0.75, 0, 0] and column(rows, "category_match") == [0, 1, 0]


def known_answer_set(turns: int = 60, seed: int = 0) -> TrainingSet:
    """Turns of 8 candidates whose relevant one (label 2) has the highest `cf` feature; the rest is noise."""
    rng = np.random.default_rng(seed)
    rows = rng.random((turns * 8, len(FEATURES))).astype(np.float32)
    labels = np.zeros(turns * 8)
    for t in range(turns):
        labels[t * 8 + int(np.argmax(rows[t * 8:(t + 1) * 8, FEATURES.index("cf")]))] = 2
    return TrainingSet(rows, labels, [8] * turns, FEATURES)


@pytest.fixture(scope="module")
def model() -> LambdaRankModel:
    return LambdaRankModel.fit(known_answer_set(), rounds=20, params={"min_data_in_leaf": 5})


def test_the_model_learns_a_known_answer(model: LambdaRankModel) -> None:
    test = known_answer_set(20, seed=1)
    scores = model.predict(test.rows).reshape(20, 8)
    truth = test.labels.reshape(20, 8).argmax(axis=1)
    assert float(np.mean(scores.argmax(axis=1) == truth)) >= 0.8  # chance: 1 in 8
    assert next(iter(model.importance())) == "cf"


def test_save_load_gives_the_same_scores_and_two_fits_the_same_file(model: LambdaRankModel, tmp_path: Path) -> None:
    folder = model.save(tmp_path / ".preference" / "shop")
    assert folder.is_symlink() and (folder / "manifest.json").is_file()
    loaded = LambdaRankModel.load(folder, FEATURES)
    rows = known_answer_set(5, seed=2).rows
    assert np.array_equal(loaded.predict(rows), model.predict(rows))
    assert loaded.manifest["features"] == list(FEATURES) and loaded.version == model.version
    again = LambdaRankModel.fit(known_answer_set(), rounds=20, params={"min_data_in_leaf": 5})
    assert again.model_text() == (folder / MODEL_FILE).read_text(encoding="utf-8")


def test_contributions_sum_to_the_score(model: LambdaRankModel) -> None:
    rows = known_answer_set(2, seed=3).rows
    assert np.allclose(model.contributions(rows).sum(axis=1), model.predict(rows), atol=1e-6)


def test_a_model_boosted_from_the_hand_tuned_score_keeps_it_in_scores_and_contributions(tmp_path: Path) -> None:
    data = known_answer_set()
    boosted = LambdaRankModel.fit(data, rounds=5, params={"min_data_in_leaf": 5}, start=("hybrid", 5.0))
    plain = LambdaRankModel.fit(data, rounds=5, params={"min_data_in_leaf": 5})
    rows = known_answer_set(2, seed=4).rows
    assert not np.allclose(boosted.predict(rows), plain.predict(rows))
    assert np.allclose(boosted.contributions(rows).sum(axis=1), boosted.predict(rows), atol=1e-6)
    loaded = LambdaRankModel.load(boosted.save(tmp_path / "m"), FEATURES)
    assert loaded.manifest["start"] == {"feature": "hybrid", "scale": 5.0}
    assert np.array_equal(loaded.predict(rows), boosted.predict(rows))


def test_a_missing_or_damaged_model_falls_back(model: LambdaRankModel, tmp_path: Path) -> None:
    folder = tmp_path / ".preference" / "shop"
    assert load_serving_model(folder, FEATURES) == (None, None)  # never fitted: no warning
    model.save(folder)
    (folder.resolve() / MODEL_FILE).write_text("tree\n", encoding="utf-8")
    served, warning = load_serving_model(folder, FEATURES)
    assert served is None and "checksum" in warning and "hand-tuned" in warning
    with pytest.raises(PreferenceModelError, match="unreadable manifest"):
        LambdaRankModel.load(tmp_path / "nothing", FEATURES)


def test_a_model_for_other_features_is_refused(model: LambdaRankModel, tmp_path: Path) -> None:
    model.save(tmp_path / "m")
    with pytest.raises(PreferenceModelError, match="fitted on features"):
        LambdaRankModel.load(tmp_path / "m", FEATURES[:-1])
    other = LambdaRankModel(model.booster, {**model.manifest, "features": list(FEATURES[:-1])})
    with pytest.raises(ValueError, match="aisle rank fit"):
        LearnedPreference(other)


PRODUCTS = [Product(f"p{i}", f"Rain jacket {i}", 10.0 + i, category="Kids > Outerwear") for i in range(6)]


def context(scorer=None) -> RankContext:
    return RankContext(PRODUCTS, ProductFeatures.build(PRODUCTS), np.eye(6, dtype=np.float32),
                       np.linspace(0.9, 0.4, 6).astype(np.float32), {"p5": 3.0, "p4": 2.0, "p3": 1.0},
                       scorer=scorer, signals=TurnSignals(True, 0, 0, 10))


def test_rank_with_the_learned_model_traces_features_and_contributions(model: LambdaRankModel) -> None:
    fusion = FusionSettings(diversity=0.0)
    hand = rank(context(), Request(), GENERAL, fusion, k=3)
    learned = rank(context(LearnedPreference(model)), Request(), GENERAL, fusion, k=3)
    assert hand.scoring == WeightedSum.name and learned.scoring.startswith("learned preference model")
    assert [c.product.id for c in learned.candidates] == ["p5", "p4", "p3"]  # the model follows `cf`
    note = learned.candidates[0].breakdown.preference
    assert note is not None and note.model == model.version
    assert sum(note.contributions.values()) + note.base == pytest.approx(note.raw, abs=1e-3)
    shown = learned.candidates[0].breakdown.to_dict()["preference"]
    assert shown["features"]["history"] == 10 and set(shown["contributions"]) == set(FEATURES)
    assert hand.candidates[0].breakdown.preference is None


class Broken:
    """A ranking model whose scoring fails (a model file LightGBM cannot use after loading)."""

    version, feature_names = "broken", FEATURES

    def predict(self, rows: np.ndarray) -> np.ndarray:
        raise RuntimeError("cannot score")

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        raise RuntimeError("cannot score")


def test_a_failing_model_ranks_with_the_hand_tuned_weights() -> None:
    fusion = FusionSettings()
    hand = rank(context(), Request(), GENERAL, fusion, k=3)
    fell_back = rank(context(LearnedPreference(Broken())), Request(), GENERAL, fusion, k=3)
    assert [c.product.id for c in fell_back.candidates] == [c.product.id for c in hand.candidates]
    assert "failed (RuntimeError: cannot score)" in fell_back.scoring and "hand-tuned" in fell_back.scoring


# ---------------------------------------------------------------------------- served by the assistant


def test_the_assistant_ranks_with_a_fitted_model_and_falls_back_without_one(model: LambdaRankModel, settings) -> None:
    from dataclasses import replace

    from assistant.service.assistant import Assistant, preference_model_dir
    from conftest import shop_over

    shop = shop_over(settings, 12)
    assert shop.preference.version is None
    record = shop.traces.get(shop.recommend("rain jacket").turn_id)
    assert record.stages["ranking"] == WeightedSum.name and "preference model" not in record.stages

    model.save(preference_model_dir(shop.settings))
    served = Assistant(shop.settings)
    record = served.traces.get(served.recommend("rain jacket").turn_id)
    assert served.preference.version == model.version
    assert record.stages["ranking"] == f"learned preference model {model.version}"
    assert record.result.candidates[0].breakdown.preference.model == model.version
    off = served.recommend("rain jacket", fusion=replace(served.settings.fusion, preference=False))
    assert served.traces.get(off.turn_id).stages["ranking"] == WeightedSum.name

    (preference_model_dir(shop.settings).resolve() / MODEL_FILE).write_text("damaged\n", encoding="utf-8")
    damaged = Assistant(shop.settings)
    record = damaged.traces.get(damaged.recommend("rain jacket").turn_id)
    assert record.stages["ranking"] == WeightedSum.name
    assert "checksum" in record.stages["preference model"] and damaged.warnings()


def test_aisle_rank_commands_explain_themselves() -> None:
    from click.testing import CliRunner

    from assistant.surfaces.cli import main

    runner = CliRunner()
    assert {"fit", "eval"} <= set(runner.invoke(main, ["rank", "--help"]).output.split())
    fit = runner.invoke(main, ["rank", "fit", "--help"])
    words = " ".join(fit.output.split())
    assert fit.exit_code == 0 and "applied twice" in words and "--shoppers" in words
    assert "hybrid+preference" in " ".join(runner.invoke(main, ["rank", "eval", "--help"]).output.split())
