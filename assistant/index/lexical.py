"""A BM25 lexical index over the catalog's own words, built with bm25s and saved as plain arrays.

`LexicalIndex.build(texts)` tokenises each product's text (`lexical_text`: title, brand, category, tags,
then description), lets bm25s (Lucene BM25, k1 1.5, b 0.75) precompute every (product, term) score as a
sparse column-per-term matrix, and keeps that matrix; `scores(query)` sums the columns of the query's terms
(one float per product, 0 where no term matches; well under a millisecond for 12,000 products). bm25s is
imported only to build. `save` writes `lexical.json` (vocabulary, parameters) and `lexical.npz` (the
matrix) with durable writes; `load` reads them with `allow_pickle=False`. Nothing is pickled.

Tokens: lower-cased runs of letters and digits (Unicode-aware: "café", "4k"); a run of Chinese / Japanese /
Korean characters gives each character and each adjacent pair ("防水外套" → 防 水 外 套 防水 水外 外套), so
a Chinese word matches without a segmenter. English stop words (bm25s's list) are left out of the index.
No stemming: bm25s offers it only through PyStemmer, which Aisle does not install.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from assistant.core.durable import write_durably

if TYPE_CHECKING:
    from assistant.ingest.catalog import Product

LEXICAL_JSON = "lexical.json"
LEXICAL_ARRAYS = "lexical.npz"
LEXICAL_FILES = (LEXICAL_JSON, LEXICAL_ARRAYS)
BACKEND = "bm25s"
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_IS_CJK = re.compile(f"[{_CJK}]")


def tokenize(text: str) -> list[str]:
    """The terms of a text, in order: lower-cased words, and CJK characters and character pairs."""
    terms: list[str] = []
    for run in _TOKEN.findall(str(text or "").lower()):
        if _IS_CJK.match(run):
            terms.extend(run)
            terms.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            terms.append(run)
    return terms


def lexical_text(product: "Product") -> str:
    """The text a product is indexed by: title, brand, category, tags, then description."""
    return " . ".join(part for part in (product.title, product.brand, product.category, " ".join(product.tags),
                                        product.description) if part)


@dataclass(frozen=True)
class LexicalIndex:
    """BM25 scores of every catalog term in every product (a CSC matrix: one column per term)."""

    terms: tuple[str, ...]  # the vocabulary, in column order
    data: np.ndarray  # float32 BM25 score of each (product, term) pair, column by column
    rows: np.ndarray  # int32 product position of each entry of `data`
    starts: np.ndarray  # int64, len(terms) + 1: column t is data[starts[t]:starts[t + 1]]
    count: int  # products
    params: dict = field(default_factory=dict)  # BM25 parameters and the bm25s version that built it
    _ids: dict[str, int] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._ids.update({term: i for i, term in enumerate(self.terms)})

    def __len__(self) -> int:
        return self.count

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        """Index one text per product (see `lexical_text`)."""
        try:
            import bm25s
            from bm25s.stopwords import STOPWORDS_EN
        except ImportError:
            raise ImportError("bm25s is not available - install bm25s to build the lexical index") from None
        stop = frozenset(STOPWORDS_EN)
        corpus = [[t for t in tokenize(text) if t not in stop] for text in texts]
        params = {"method": "lucene", "k1": 1.5, "b": 0.75, "bm25s": bm25s.__version__}
        if not any(corpus):  # nothing to index: every product scores 0 for every query
            return cls((), np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64), len(texts), params)
        model = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
        scores, vocab = model.build_index_from_tokens(corpus, show_progress=False)
        terms = tuple(sorted(vocab, key=vocab.__getitem__))
        return cls(terms, np.asarray(scores["data"], np.float32), np.asarray(scores["indices"], np.int32),
                   np.asarray(scores["indptr"], np.int64), len(texts), params)

    @classmethod
    def of_products(cls, products: Iterable["Product"]) -> "LexicalIndex":
        """Index a catalog's products by their `lexical_text`."""
        return cls.build([lexical_text(p) for p in products])

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every term of the catalog (lower-case words, CJK characters and pairs)."""
        return frozenset(self._ids)

    def knows(self, token: str) -> bool:
        """True when `token` (any case) is a term of the catalog; a dictionary look-up."""
        return str(token).lower() in self._ids

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every product for `query` (float32, 0 where no query term occurs)."""
        ids = sorted({self._ids[t] for t in tokenize(query) if t in self._ids})
        if not ids:
            return np.zeros(self.count, np.float32)
        picked = np.concatenate([np.arange(self.starts[i], self.starts[i + 1]) for i in ids])
        return np.bincount(self.rows[picked], weights=self.data[picked], minlength=self.count).astype(np.float32)

    def manifest_entry(self) -> dict:
        """What the build manifest records about this index."""
        return {"backend": BACKEND, "version": self.params.get("bm25s", ""), "terms": len(self.terms)}

    def save(self, folder: Path) -> list[str]:
        """Write the index into `folder` (durably); returns the file names written."""
        meta = {"count": self.count, "params": self.params, "terms": list(self.terms)}
        write_durably(Path(folder) / LEXICAL_JSON, json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        buffer = io.BytesIO()
        np.savez(buffer, data=self.data, rows=self.rows, starts=self.starts)
        write_durably(Path(folder) / LEXICAL_ARRAYS, buffer.getvalue())
        return list(LEXICAL_FILES)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        """Read an index written by `save`. Raises ValueError (or OSError) when its files do not agree."""
        meta = json.loads((Path(folder) / LEXICAL_JSON).read_text(encoding="utf-8"))
        try:
            with np.load(Path(folder) / LEXICAL_ARRAYS, allow_pickle=False) as arrays:
                data, rows, starts = arrays["data"], arrays["rows"], arrays["starts"]
        except (zipfile.BadZipFile, KeyError) as err:
            raise ValueError(f"unreadable {LEXICAL_ARRAYS} ({err})") from None
        terms, count = tuple(meta["terms"]), int(meta["count"])
        if len(starts) != len(terms) + 1 or len(data) != len(rows) or int(starts[-1]) != len(data):
            raise ValueError("lexical index arrays do not match its vocabulary")
        if len(rows) and (rows.min() < 0 or rows.max() >= count):
            raise ValueError("lexical index names a product outside the catalog")
        return cls(terms, data.astype(np.float32), rows.astype(np.int32), starts.astype(np.int64), count,
                   dict(meta.get("params", {})))
