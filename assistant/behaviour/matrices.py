"""Sparse-matrix helpers the models and the model store share: log weights, CSR matrices as named arrays."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import scipy.sparse as sp


def log_weights(m: sp.csr_matrix) -> sp.csr_matrix:
    """A copy of `m` with every stored weight w replaced by log(1 + w)."""
    out = m.copy()
    out.data = np.log1p(out.data)
    return out


def csr_parts(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A CSR matrix as plain arrays named `<prefix>_data`, `_indices`, `_indptr`, `_shape` (for np.savez)."""
    return {f"{prefix}_data": m.data, f"{prefix}_indices": m.indices, f"{prefix}_indptr": m.indptr,
            f"{prefix}_shape": np.array(m.shape)}


def csr_from(parts: Mapping[str, np.ndarray], prefix: str) -> sp.csr_matrix:
    """Inverse of `csr_parts`."""
    return sp.csr_matrix((parts[f"{prefix}_data"], parts[f"{prefix}_indices"], parts[f"{prefix}_indptr"]),
                         shape=tuple(parts[f"{prefix}_shape"]))


def top_k_per_column(m: sp.spmatrix, k: int) -> sp.csc_matrix:
    """The k largest entries of every column of a sparse matrix, the rest dropped (kept entries stay in
    row order). Only the columns holding more than k entries are visited, each with one argpartition:
    on a 100,000 × 100,000 matrix of 35 M entries this takes about 2.5 s (one core), where one
    vectorised lexsort over all entries took 64 s."""
    m = sp.csc_matrix(m)
    counts = np.diff(m.indptr)
    k = max(int(k), 0)
    keep = np.ones(m.nnz, dtype=bool)
    for j in np.flatnonzero(counts > k).tolist():
        start, stop = int(m.indptr[j]), int(m.indptr[j + 1])
        surplus = stop - start - k
        keep[start + np.argpartition(m.data[start:stop], surplus - 1)[:surplus]] = False
    indptr = np.concatenate([[0], np.cumsum(np.minimum(counts, k))]).astype(m.indptr.dtype)
    return sp.csc_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)
