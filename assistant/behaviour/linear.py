"""EASE, the closed-form linear item model: exact (dense) on small catalogs, sparse on large ones."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.interactions import Interactions
from assistant.behaviour.matrices import csr_from, csr_parts, log_weights, top_k_per_column
from assistant.behaviour.model import CFModel

# Up to this many products EASE is solved exactly, with one dense inverse; above it, column by column on
# each product's most similar products (`sparse_ease`). Measured (docs/collaborative.md, "Scale"; 2 shared
# cores, 24 GiB, one BLAS thread), the dense fit takes 3.6 s and 0.26 GiB at 4,000 products, 29 s and
# 1.0 GiB at 8,000, 79 s and 2.3 GiB at 12,000: time grows with products³ and memory with products², so
# past about 10,000 products it is no longer practical (100,000 would need 150 GiB and hours).
DENSE_MAX_ITEMS = 10_000
# Neighbours per product in the sparse path. On the demo store (temporal leave-last-out) NDCG@10 is
# 0.1671 with 50, 0.1690 with 100 and with 200, against 0.1662 for the exact EASE.
NEIGHBOURS = 100


def gram(x: sp.csr_matrix) -> sp.csr_matrix:
    """XᵀX (products × products), sparse, in float64, indices sorted."""
    g = (x.T @ x).tocsr().astype(np.float64)
    g.sum_duplicates()
    return g


def dense_ease(x: sp.csr_matrix, l2: float) -> np.ndarray:
    """The exact EASE weights B = I − P / diag(P), P = (XᵀX + λI)⁻¹ (dense, float32, zero diagonal),
    through one Cholesky factorisation (half the work of a general inverse)."""
    from scipy.linalg import lapack

    p = gram(x).toarray()
    p[np.diag_indices_from(p)] += l2
    p, info = lapack.dpotrf(p, lower=False, overwrite_a=True, clean=True)
    if info == 0:
        p, info = lapack.dpotri(p, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"XᵀX + λI is not positive definite (LAPACK info {info})")
    p += np.triu(p, 1).T  # dpotri fills the upper triangle only
    diagonal = np.diag(p).copy()
    p /= -diagonal[None, :]
    np.fill_diagonal(p, 0.0)
    return p.astype(np.float32, order="C")  # LAPACK hands back Fortran order; scoring wants rows


def sparse_ease(x: sp.csr_matrix, l2: float, neighbours: int, batch: int = 512) -> sp.csr_matrix:
    """Sparse approximate EASE: column j of B is the ridge regression of product j on its `neighbours`
    most similar products N (cosine of co-occurrence), b = (G[N, N] + λI)⁻¹ G[N, j] with G = XᵀX: the
    exact EASE column restricted to that support (EASE regresses on every other product). Returns B as
    CSR (products × products, float32), at most `neighbours` entries per column.

    Time and memory grow with products × neighbours² and products × neighbours (not products³ and
    products²): one small dense solve per product, in batches of `batch`, G[N, N] looked up in the
    sparse G by a search over its sorted (row, column) keys."""
    n = x.shape[1]
    g = gram(x)
    diagonal = g.diagonal()
    stride = n + 1  # key = row * stride + column; column n pads a short support and is never found
    keys = np.repeat(np.arange(n, dtype=np.int64) * stride, np.diff(g.indptr)) + g.indices
    scale = 1.0 / np.sqrt(np.maximum(diagonal, 1e-12))
    cosine = (sp.diags(scale) @ g @ sp.diags(scale)).tocsc()
    cosine.setdiag(0.0)
    cosine.eliminate_zeros()
    top = top_k_per_column(cosine, neighbours)  # rows ascending within each column
    del cosine
    counts = np.diff(top.indptr)
    k = int(counts.max(initial=0))
    if k == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    support = np.full((n, k), n, dtype=np.int64)  # support[j]: column j's rows, ascending, padded with n
    support[np.repeat(np.arange(n), counts), np.arange(top.nnz) - np.repeat(top.indptr[:-1], counts)] = top.indices
    del top
    values = np.append(g.data, 0.0)  # values[len(keys)]: "not stored"

    def lookup(query: np.ndarray) -> np.ndarray:
        """G at (row, column) keys; each item's keys ascend, which keeps numpy's search cache-friendly."""
        found = np.searchsorted(keys, query.ravel())
        hit = keys[np.minimum(found, len(keys) - 1)] == query.ravel()
        return values[np.where(hit, found, len(keys))].reshape(query.shape)

    upper_a, upper_b = np.triu_indices(k, 1)
    flat_upper = upper_a * k + upper_b
    ridge = np.append(diagonal + l2, 1.0)  # a padded slot solves to 0
    weights = np.zeros((n, k), dtype=np.float32)
    for start in range(0, n, batch):
        s = support[start:start + batch]
        a = np.zeros((len(s), k * k))
        a[:, flat_upper] = lookup(s[:, upper_a] * stride + s[:, upper_b])
        a = a.reshape(len(s), k, k)
        a += a.transpose(0, 2, 1)
        a[:, np.arange(k), np.arange(k)] = ridge[s]
        rhs = lookup(s * stride + np.arange(start, start + len(s))[:, None])  # G[N, j] = G[j, N]ᵀ
        weights[start:start + len(s)] = np.linalg.solve(a, rhs[..., None])[..., 0]
    keep = support.ravel() < n
    b = sp.coo_matrix((weights.ravel()[keep], (support.ravel()[keep], np.repeat(np.arange(n), k)[keep])),
                      shape=(n, n))
    return b.tocsr()


class EASE(CFModel):
    """Embarrassingly Shallow Autoencoder (Steck, 2019): B = I − P / diag(P), P = (XᵀX + λI)⁻¹.

    Every product is in the model. Up to `dense_max_items` products B is the exact closed form (one
    dense inverse); above, `sparse_ease` (each product regressed on its `neighbours` most similar
    products), whose time grows with products × neighbours² and memory with XᵀX's entries, instead of
    products³ and products².
    """

    name = "ease"

    def __init__(self, l2: float = 300.0, dense_max_items: int = DENSE_MAX_ITEMS,
                 neighbours: int = NEIGHBOURS) -> None:
        super().__init__(l2=l2, dense_max_items=dense_max_items, neighbours=neighbours)

    def _fit(self, data: Interactions) -> None:
        x = log_weights(data.matrix)
        if len(data.items) <= self.params["dense_max_items"]:
            self.weights: np.ndarray | sp.csr_matrix = dense_ease(x, self.params["l2"])
        else:
            self.weights = sparse_ease(x, self.params["l2"], self.params["neighbours"])

    def _scores(self, rows: sp.csr_matrix, users: np.ndarray, segments: Sequence[str]) -> np.ndarray:
        scores = log_weights(rows) @ self.weights
        return np.asarray(scores.toarray() if sp.issparse(scores) else scores, dtype=np.float32)

    def _arrays(self) -> dict[str, np.ndarray]:
        if sp.issparse(self.weights):
            return csr_parts("weights", self.weights)
        return {"weights": self.weights}

    def _restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.weights = np.ascontiguousarray(arrays["weights"]) if "weights" in arrays else csr_from(arrays, "weights")
