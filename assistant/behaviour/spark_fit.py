"""`aisle cf fit --engine spark`: the interaction matrices, Spark MLlib ALS (implicit preferences) and the
item-item cosine model computed by Spark, saved as the same model folder the single-machine path writes
(`CFModel.save`: manifest, checksums, ids.json, matrix.npz, arrays.npz), so serving loads it unchanged.

Spark does the work that grows with the log: checking, weighting, decaying and summing the events into one
cell per (shopper, product), the repurchase share, the factorisation and the item × item co-occurrences.
The driver then holds the summed cells (the matrices the served model keeps in memory anyway) and the
learned arrays. Event weights, rating weights and decays are those of `behaviour.interactions`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np
import scipy.sparse as sp

from assistant.behaviour.errors import ModelFitError
from assistant.behaviour.factory import make_cf_model
from assistant.behaviour.interactions import (DAY, EVENT_WEIGHTS, POPULARITY_HALF_LIFE_SHARE,
                                              PROFILE_HALF_LIFE_DAYS, Interactions, rating_weight)
from assistant.behaviour.model import CFModel

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SPARK_MODELS = ("als", "item_item")
# Spark's ALS scales its regularisation by each shopper's (and product's) count of interactions, where
# `implicit` does not: 0.1 here against implicit's 5 (measured on the demo store's hold-out: docs/scale.md).
SPARK_ALS_REG = 0.1


@dataclass
class SparkCells:
    """The summed (shopper, product) cells on the driver, with their shoppers and products in code order."""

    interactions: Interactions
    cells: "DataFrame"  # u, i (codes), m, r, p (summed weights), cached in Spark for the model fits


def _codes(frame: "DataFrame", column: str, code: str) -> tuple["DataFrame", list[str], object]:
    """Distinct values of `column` numbered in sorted order (Spark's string order is code-point order, as
    numpy's `np.unique` sorts), as a DataFrame (column, code), the list of values and the cached numbering
    (computed once for both; unpersist it once the DataFrame has been used)."""
    from pyspark.sql import Row

    ordered = frame.select(column).distinct().orderBy(column).rdd.map(lambda r: r[0]).zipWithIndex().cache()
    table = ordered.map(lambda pair: Row(**{column: pair[0], code: int(pair[1])})).toDF(f"{column} string, {code} long")
    return table, [r[0] for r in ordered.collect()], ordered


def spark_interactions(events: "DataFrame", segments: Mapping[str, str] | None = None,
                       profile_half_life_days: float | None = PROFILE_HALF_LIFE_DAYS,
                       popularity_half_life_share: float | None = POPULARITY_HALF_LIFE_SHARE) -> SparkCells:
    """What `build_interactions` gives for the same log (without the transitions, which only the sequence
    model uses), computed by Spark; raises ModelFitError on an empty log."""
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("double")
    def stars_weight(stars):  # the single-machine rating weight, in the executors
        import pandas as pd
        return pd.Series(rating_weight(stars.to_numpy(dtype=np.float64)))

    span = events.agg(F.min("timestamp").alias("first"), F.max("timestamp").alias("last")).first()
    if span["last"] is None:
        raise ModelFitError("no interactions to fit on")
    now, span_days = float(span["last"]), max((float(span["last"]) - float(span["first"])) / DAY, 1.0)
    weights = F.create_map(*[F.lit(x) for pair in EVENT_WEIGHTS.items() for x in pair])
    base = F.when(F.col("event") == "rating", stars_weight(F.col("value"))).otherwise(
        F.coalesce(weights[F.col("event")], F.lit(0.0)))

    def decayed(age, days: float | None):
        return F.col("base") if days is None else F.col("base") * F.pow(F.lit(2.0), -F.least(age / days, F.lit(100.0)))

    popularity_days = None if popularity_half_life_share is None else span_days * popularity_half_life_share
    latest = F.max("timestamp").over(Window.partitionBy("customer"))
    weighted = (events.withColumn("base", base)
                .withColumn("latest", latest)
                .withColumn("r", decayed(F.greatest(F.lit(now) - F.col("timestamp"), F.lit(0.0)) / DAY, popularity_days))
                .withColumn("p", decayed((F.col("latest") - F.col("timestamp")) / DAY, profile_half_life_days)))
    summed = weighted.groupBy("customer", "product").agg(F.sum("base").alias("m"), F.sum("r").alias("r"),
                                                         F.sum("p").alias("p"))
    summed = summed.persist(StorageLevel.MEMORY_AND_DISK)  # read three times: two numberings and the join
    users, user_list, user_codes = _codes(summed, "customer", "u")
    items, item_list, item_codes = _codes(summed, "product", "i")
    cells = summed.join(users, "customer").join(items, "product").select("u", "i", "m", "r", "p").cache()
    table = cells.toPandas()
    for done in (summed, user_codes, item_codes):
        done.unpersist()
    shape = (len(user_list), len(item_list))
    rows, cols = table["u"].to_numpy(np.int64), table["i"].to_numpy(np.int64)

    def matrix(column: str) -> sp.csr_matrix:
        m = sp.csr_matrix((table[column].to_numpy(np.float64), (rows, cols)), shape=shape, dtype=np.float64)
        m.eliminate_zeros()
        return m.astype(np.float32)

    seen = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
    segments = segments or {}
    meta = {"span_days": round(span_days, 3), "half_life_days": None,
            "profile_half_life_days": profile_half_life_days,
            "popularity_half_life_share": popularity_half_life_share,
            "repurchase_share": round(_repurchase_share(events), 4), "engine": "spark"}
    data = Interactions(matrix("m"), matrix("r"), matrix("p"), user_list, item_list,
                        [segments.get(u, "") for u in user_list], seen.tocsr(), meta)
    return SparkCells(data, cells)


def _repurchase_share(events: "DataFrame") -> float:
    """`interactions.repurchase_share` in Spark SQL: of the shoppers with two or more purchases, the share
    who bought some product more than once."""
    from pyspark.sql import functions as F

    pairs = events.filter(F.col("event") == "purchase").groupBy("customer", "product").count()
    shoppers = pairs.groupBy("customer").agg(F.sum("count").alias("n"), F.max("count").alias("most"))
    row = shoppers.filter(F.col("n") >= 2).agg(F.avg((F.col("most") > 1).cast("double")).alias("share")).first()
    return float(row["share"] or 0.0)


def spark_als(cells: SparkCells, factors: int = 64, iterations: int = 15, reg: float = SPARK_ALS_REG,
              alpha: float = 2.0, seed: int = 7, blocks: int | None = None) -> dict[str, np.ndarray]:
    """Spark MLlib ALS with implicit preferences on log(1 + weight) (the confidence `implicit` is given,
    without its alpha: Spark's is 1 + alpha · r); user and item factors in code order (zeros for a code
    without a positive cell). Shoppers and products are split into `blocks` blocks each (default: the
    session's parallelism, one per core: MLlib's fixed 10 made local[2] run 10 × 10 small tasks a step,
    3-6x slower on the test log)."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    ratings = cells.cells.filter(F.col("m") > 0).select(F.col("u").cast("int"), F.col("i").cast("int"),
                                                         F.log1p("m").cast("float").alias("rating"))
    blocks = max(1, blocks or ratings.sparkSession.sparkContext.defaultParallelism)
    model = ALS(rank=factors, maxIter=iterations, regParam=reg, alpha=alpha, implicitPrefs=True, seed=seed,
                numUserBlocks=blocks, numItemBlocks=blocks, userCol="u", itemCol="i", ratingCol="rating",
                coldStartStrategy="drop").fit(ratings)
    data = cells.interactions

    def dense(frame, count: int) -> np.ndarray:
        out = np.zeros((count, factors), dtype=np.float32)
        table = frame.toPandas()
        if len(table):
            out[table["id"].to_numpy()] = np.stack(table["features"].to_numpy()).astype(np.float32)
        return out

    return {"user_factors": dense(model.userFactors, len(data.users)),
            "item_factors": dense(model.itemFactors, len(data.items))}


def spark_item_item(cells: SparkCells, neighbours: int = 100) -> dict[str, np.ndarray]:
    """Item-item cosine over log(1 + weight) in Spark SQL, the `neighbours` most similar rows kept per
    column (ties broken by row code); the `similarity` CSR parts `ItemItemCF` saves."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    x = cells.cells.filter(F.col("m") > 0).select("u", "i", F.log1p("m").alias("x"))
    norms = x.groupBy("i").agg(F.sqrt(F.sum(F.col("x") * F.col("x"))).alias("norm"))
    xn = x.join(norms, "i").select("u", "i", (F.col("x") / F.greatest("norm", F.lit(1e-12))).alias("w"))
    a, b = xn.alias("a"), xn.alias("b")
    pairs = (a.join(b, (F.col("a.u") == F.col("b.u")) & (F.col("a.i") != F.col("b.i")))
             .groupBy(F.col("a.i").alias("row"), F.col("b.i").alias("col"))
             .agg(F.sum(F.col("a.w") * F.col("b.w")).alias("sim")))
    rank = F.row_number().over(Window.partitionBy("col").orderBy(F.desc("sim"), F.asc("row")))
    kept = pairs.withColumn("rank", rank).filter(F.col("rank") <= neighbours).select("row", "col", "sim").toPandas()
    n = len(cells.interactions.items)
    similarity = sp.csr_matrix((kept["sim"].to_numpy(np.float32), (kept["row"].to_numpy(np.int64),
                                                                     kept["col"].to_numpy(np.int64))),
                               shape=(n, n), dtype=np.float32)
    similarity.eliminate_zeros()
    from assistant.behaviour.matrices import csr_parts
    return csr_parts("similarity", similarity)


def fit_spark_model(events: "DataFrame", name: str = "als", segments: Mapping[str, str] | None = None,
                    als_reg: float = SPARK_ALS_REG, params: Mapping[str, Any] | None = None) -> CFModel:
    """A fitted CF model of family `name` ("als" or "item_item", with the single-machine defaults, or
    `params` in their place as `make_cf_model` takes them), its learned arrays computed by Spark: the same
    object `fit_store_model` returns, ready to `save`."""
    if name not in SPARK_MODELS:
        raise ValueError(f"--engine spark fits {' or '.join(SPARK_MODELS)}, not {name!r}")
    started = time.perf_counter()
    cells = spark_interactions(events, segments)
    model = make_cf_model(name, **dict(params or {}))
    if name == "als":
        p = model.params
        arrays = spark_als(cells, p["factors"], p["iterations"], als_reg, p["alpha"], p["seed"])
        cells.interactions.meta["spark_als"] = {"regParam": als_reg, "implicitPrefs": True}
    else:
        arrays = spark_item_item(cells, model.params["neighbours"])
    model.data = cells.interactions
    model._restore(arrays)  # as loading a saved model does (behaviour.loading)
    model.fit_seconds = time.perf_counter() - started
    cells.cells.unpersist()
    return model


def fit_and_save(events: "DataFrame", folder: str | Path, name: str = "als",
                 segments: Mapping[str, str] | None = None, forgotten: Iterable[str] = ()) -> CFModel:
    """`fit_spark_model`, published at `folder` as `CFModel.save` publishes (versions, checksums)."""
    model = fit_spark_model(events, name, segments)
    model.save(folder, forgotten=forgotten)
    return model
