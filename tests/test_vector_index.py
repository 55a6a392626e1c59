"""The FAISS vector index: known answers, save/load, and HNSW recall against exact search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.index.vector_index import (FaissIndex, build_vector_index, choose_kind, load_vector_index,
                                    recall_at_k)


def unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def clustered_vectors(count: int, dim: int = 64, clusters: int = 200, seed: int = 0) -> np.ndarray:
    """Unit vectors around random centres: closer to real embeddings than uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    return unit(centres[rng.integers(0, clusters, count)] + 0.35 * rng.normal(size=(count, dim)))


def test_flat_index_finds_the_known_nearest() -> None:
    vectors = unit(np.eye(4) + 0.01)
    index = build_vector_index(vectors, "flat")
    scores, positions = index.search(unit([[0, 0, 1, 0.1]]), 2)
    assert positions[0][0] == 2
    assert scores[0][0] > scores[0][1]


def test_k_larger_than_index_is_clamped() -> None:
    index = build_vector_index(unit(np.eye(3)), "flat")
    _, positions = index.search(unit([[1, 0, 0]]), 10)
    assert positions.shape == (1, 3)
    assert sorted(positions[0].tolist()) == [0, 1, 2]


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_save_then_load_gives_the_same_answers(tmp_path: Path, kind: str) -> None:
    vectors = clustered_vectors(500)
    index = build_vector_index(vectors, kind)
    assert index.save(tmp_path) == [FaissIndex.FILE]
    loaded = load_vector_index(tmp_path, kind)
    queries = vectors[:20]
    assert len(loaded) == 500
    np.testing.assert_array_equal(index.search(queries, 10)[1], loaded.search(queries, 10)[1])


def test_hnsw_recall_at_10_against_exact_search() -> None:
    vectors = clustered_vectors(20_000, dim=64)
    queries = clustered_vectors(300, dim=64, seed=1)
    exact = build_vector_index(vectors, "flat").search(queries, 10)[1]
    approx = build_vector_index(vectors, "hnsw").search(queries, 10)[1]
    recall = recall_at_k(approx, exact)
    print(f"HNSW recall@10 vs exact on 20,000 vectors: {recall:.3f}")
    assert recall >= 0.95


def test_kind_is_chosen_by_size() -> None:
    assert choose_kind(1_000, threshold=50_000) == "flat"
    assert choose_kind(50_001, threshold=50_000) == "hnsw"


def test_recall_helper_known_answer() -> None:
    assert recall_at_k(np.array([[1, 2, 3, 4]]), np.array([[1, 2, 5, 6]])) == 0.5


def test_unknown_kind_and_backend_are_named() -> None:
    with pytest.raises(ValueError, match="ivf"):
        build_vector_index(unit(np.eye(2)), "ivf")
    with pytest.raises(ValueError, match="annoy"):
        build_vector_index(unit(np.eye(2)), "flat", backend="annoy")
