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
