"""Interaction logs read by Spark (`--engine spark`): CSV / TSV / JSONL / Parquet files of any size become one
DataFrame of checked, pseudonymised, de-duplicated events, with the same row checks as the single-machine
reader (`ingest.customers.parse_event_row`, run in each executor) and a report of what was rejected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Collection, Iterable, Iterator, Mapping

from assistant.ingest.columns import required_columns
from assistant.ingest.customers import EVENT_COLUMNS, Pseudonymize, parse_event_row
from assistant.ingest.tabular import LoadReport, Rejection

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

REQUIRED = ("customer_id", "product_id", "event", "timestamp")
FIELDS = ("customer_id", "product_id", "event", "timestamp", "value")
PARSED_SCHEMA = ("customer string, product string, event string, timestamp double, value double, "
                 "error string, source string")
LISTED_REJECTIONS = 100  # rejected rows listed one by one in the report; all are counted


@dataclass
class SparkEvents:
    """Checked events (customer, product, event, timestamp, value) as a DataFrame, and what reading did."""

    frame: "DataFrame"
    report: LoadReport


def _read_file(spark: "SparkSession", path: Path) -> "DataFrame":
    """One file as a DataFrame of text columns (Parquet columns cast to text: every row is checked alike)."""
    from pyspark.sql import functions as F

    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        frame = spark.read.parquet(str(path))
    elif name.endswith((".jsonl", ".json", ".ndjson")):
        frame = spark.read.json(str(path))
    else:
        sep = "\t" if name.endswith(".tsv") else ","
        frame = spark.read.option("header", True).option("sep", sep).option("escape", '"').csv(str(path))
    return frame.select(*[F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns])


def _parse_batches(pseudonymize: Pseudonymize):
    """The executor side: every row through `parse_event_row`; a bad row keeps its reason in `error`."""

    def parse(batches: Iterator["pd.DataFrame"]) -> Iterator["pd.DataFrame"]:
        import math

        import pandas as pd

        identity = {f: f for f in FIELDS}
        for batch in batches:
            out = {k: [] for k in ("customer", "product", "event", "timestamp", "value", "error")}
            for row in batch.to_dict("records"):
                try:
                    parsed, error = parse_event_row(row, identity, pseudonymize), None
                except ValueError as err:
                    parsed, error = ("", "", "", math.nan, math.nan), str(err)
                for key, value in zip(out, (*parsed, error)):
                    out[key].append(value)
            yield pd.DataFrame({**out, "source": batch["source"].tolist()})

    return parse


def read_events_spark(spark: "SparkSession", paths: Iterable[str | Path], pseudonymize: Pseudonymize,
                      mapping: Mapping[str, str] | None = None, forgotten: Collection[str] = ()) -> SparkEvents:
    """Read interaction logs with Spark. Every good row loads; bad rows are counted and the first
    `LISTED_REJECTIONS` listed (file and reason: Spark reads rows without their line numbers, so the line is
    0), duplicates (same customer, product, event and time) are dropped and counted, and events of
    `forgotten` pseudonyms are left out. The checked events are cached (memory, then disk).
    Raises DataFileError when a file lacks a required column."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    report = LoadReport(noun="events")
    frames = []
    for path in map(Path, paths):
        raw = _read_file(spark, path)
        columns = required_columns(path, raw.columns, EVENT_COLUMNS, mapping, REQUIRED, True, "customer_id=UserID")
        frames.append(raw.select(*[(F.col(f"`{columns[f]}`") if f in columns else F.lit(None).cast("string"))
                                   .alias(f) for f in FIELDS], F.lit(path.name).alias("source")))
        report.files.append(str(path))
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame)
    parsed = raw.mapInPandas(_parse_batches(pseudonymize), PARSED_SCHEMA)
    parsed = parsed.persist(StorageLevel.MEMORY_AND_DISK)
    gone = sorted(set(forgotten))
    is_gone = F.col("customer").isin(gone) if gone else F.lit(False)
    counts = parsed.agg(F.count(F.lit(1)).alias("rows"), F.count("error").alias("bad"),
                        F.sum((F.col("error").isNull() & is_gone).cast("long")).alias("gone")).first()
    for row in parsed.filter(F.col("error").isNotNull()).select("source", "error").limit(LISTED_REJECTIONS).collect():
        report.rejections.append(Rejection(row["source"], 0, row["error"]))
    good = parsed.filter(F.col("error").isNull() & ~is_gone)
    unique = good.dropDuplicates(["customer", "product", "event", "timestamp"]).select(
        "customer", "product", "event", "timestamp", "value").persist(StorageLevel.MEMORY_AND_DISK)
    loaded = unique.count()
    duplicates = int(counts["rows"] - counts["bad"] - (counts["gone"] or 0) - loaded)
    report.rows_read, report.loaded = int(counts["rows"]), int(loaded)
    if duplicates:
        report.rejections.append(Rejection("(all files)", 0, f"{duplicates} duplicate events (same customer, "
                                                             "product, event and time) dropped"))
    if counts["bad"] > LISTED_REJECTIONS:
        report.notes.append(f"{counts['bad']} rows rejected in all; the first {LISTED_REJECTIONS} are listed")
    if counts["gone"]:
        report.notes.append(f"{counts['gone']} events of forgotten customers left out")
    parsed.unpersist()
    return SparkEvents(unique, report)
