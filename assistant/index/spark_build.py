"""`aisle index build --engine spark`: the catalog embedded in partitions by Spark (the same packaged embedder
loaded once in each executor), the vectors written as Parquet shards, and the FAISS index trained on a
sample and filled shard by shard; then the usual build (`build_index`: products, vectors, lexical index,
manifest, checksums) is written and published atomically, so serving loads it unchanged."""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np

from assistant.index.embedding import Embedder, make_embedder

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

    from assistant.index.vector_index import VectorIndex

TRAIN_SAMPLE = 100_000  # vectors a trained index (IVF-PQ) learns its quantisers from


@functools.lru_cache(maxsize=4)
def executor_embedder(backend: str) -> Embedder:
    """The packaged embedder of `backend`, loaded once per executor process (one thread each: Spark runs
    one task per core)."""
    return make_embedder(backend, threads=1)


class ShardEmbedder(Embedder):
    """The vectors Spark computed, looked up by text: what `build_index` embeds with after a Spark run
    (model id and dimension are those of the model the executors ran)."""

    def __init__(self, model_id: str, dim: int, vectors: dict[str, np.ndarray]) -> None:
        self.model_id, self.dim, self._vectors = model_id, dim, vectors

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            raise KeyError(f"{len(missing)} text(s) were not embedded by the Spark job, e.g. {missing[0][:60]!r}")
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)


@dataclass
class SparkVectors:
    """What the Spark embedding wrote: the lookup embedder and the size of each shard, in shard order."""

    embedder: ShardEmbedder
    shard_rows: list[int]


def _embed_partitions(backend: str, batch_size: int):
    """The executor side: embed each batch of texts with the packaged model (loaded once per process)."""

    def embed(batches: Iterator["pd.DataFrame"]) -> Iterator["pd.DataFrame"]:
        import pandas as pd

        from assistant.index.spark_build import executor_embedder  # by reference: this process's cache
        embedder = executor_embedder(backend)
        for batch in batches:
            vectors = embedder.embed(batch["text"].tolist(), batch_size)
            yield pd.DataFrame({"text": batch["text"], "vector": list(vectors), "model_id": embedder.model_id})

    return embed


def spark_vectors(spark: "SparkSession", texts: Sequence[str], backend: str, shards: Path,
                  partitions: int | None = None, batch_size: int = 64) -> SparkVectors:
    """Embed the distinct `texts` in `partitions` Spark partitions (default: twice the default parallelism),
    write them as Parquet shards under `shards`, and read the shards back one at a time."""
    import pyarrow.parquet as pq

    distinct = list(dict.fromkeys(texts))
    partitions = partitions or 2 * spark.sparkContext.defaultParallelism
    frame = spark.createDataFrame([(t,) for t in distinct], "text string").repartition(max(1, partitions))
    embedded = frame.mapInPandas(_embed_partitions(backend, batch_size),
                                 "text string, vector array<float>, model_id string")
    embedded.write.mode("overwrite").parquet(str(shards))
    vectors: dict[str, np.ndarray] = {}
    rows, model_id = [], ""
    for shard in sorted(shards.glob("*.parquet")):
        table = pq.read_table(shard)
        if not table.num_rows:
            continue
        block = np.asarray(table.column("vector").combine_chunks().flatten(), dtype=np.float32)
        block = block.reshape(table.num_rows, -1)
        vectors.update(zip(table.column("text").to_pylist(), block))
        model_id = table.column("model_id")[0].as_py()
        rows.append(table.num_rows)
    if len(vectors) != len(distinct):
        raise RuntimeError(f"the Spark job embedded {len(vectors)} of {len(distinct)} texts")
    dim = next(iter(vectors.values())).shape[0] if vectors else 0
    return SparkVectors(ShardEmbedder(model_id, dim, vectors), rows)


def shard_filled_builder(shard_rows: Sequence[int], sample: int = TRAIN_SAMPLE,
                         seed: int = 0) -> Callable[..., "VectorIndex"]:
    """An `index_builder` for `build_index`: the index of the configured kind, trained on a seeded sample
    of at most `sample` vectors and filled in shard-sized slices, through vector_index's build-in-steps
    API (`new_index`, `train`, `add`)."""
    from assistant.index.vector_index import add, new_index, train

    def build(vectors: np.ndarray, kind: str, threads: int | None = None) -> "VectorIndex":
        index = new_index(kind, vectors.shape[1], len(vectors))
        pick = np.random.default_rng(seed).choice(len(vectors), min(sample, len(vectors)), replace=False)
        train(index, vectors[np.sort(pick)])
        start = 0
        for rows in [*shard_rows, max(len(vectors) - sum(shard_rows), 0)]:
            if rows:
                add(index, vectors[start:start + rows])
                start += rows
        return index

    return build


class SparkIndexJob:
    """One `--engine spark` build: embeds through Spark into shards under the index folder (removed after)."""

    def __init__(self, spark: "SparkSession", index_dir: Path, partitions: int | None = None,
                 batch_size: int = 64) -> None:
        self.spark, self.index_dir, self.partitions, self.batch_size = spark, Path(index_dir), partitions, batch_size
        self.shard_rows: list[int] = []
        self._folder: Path | None = None

    def embedder_for(self, backend: str, products: Sequence) -> Embedder:
        """`publish_products`'s `embedder_for`: the products' texts embedded by Spark."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(prefix=".spark-shards-", dir=self.index_dir))
        result = spark_vectors(self.spark, [p.embedding_text() for p in products], backend,
                               self._folder / "vectors", self.partitions, self.batch_size)
        self.shard_rows = result.shard_rows
        return result.embedder

    def index_builder(self, vectors: np.ndarray, kind: str, threads: int | None = None) -> "VectorIndex":
        """`build_index`'s `index_builder`: trained on a sample, filled shard by shard."""
        return shard_filled_builder(self.shard_rows)(vectors, kind, threads=threads)

    def close(self) -> None:
        """Remove the shards."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
