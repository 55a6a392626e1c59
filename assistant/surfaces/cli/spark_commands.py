"""The `--engine spark` paths of `aisle cf fit` and `aisle index build`: the same model folder and index
build as the single-machine path, with the log reading, weighting and fitting (or the embedding) in Spark."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.core.config import Settings
from assistant.surfaces.cli.common import field_map, store_segment_rules

ENGINE_HELP = ("Where the job runs: local (one process, the default) or spark (Spark, on --master; needs "
               "pip install 'aisle[spark]' and Java).")
MASTER_HELP = "Spark master URL for --engine spark: local[*] (every core here), local[2], spark://host:7077, ..."


def spark_cf_fit(settings: Settings, events: tuple[Path, ...], customers: tuple[Path, ...],
                 maps: tuple[str, ...], model_name: str | None, master: str, with_feedback: bool):
    """Fit `model_name` (als or item_item; default als) with Spark and publish it where `aisle serve`
    looks; returns (model, the log's report)."""
    from assistant.behaviour.spark_events import read_events_spark
    from assistant.behaviour.spark_fit import SPARK_MODELS, fit_and_save
    from assistant.core.spark import spark_session
    from assistant.ingest.customers import read_customers
    from assistant.privacy.keys import forgotten, pseudonymizer
    from assistant.service.served_model import cf_model_dir

    name = "als" if model_name in (None, "auto") else model_name
    if name not in SPARK_MODELS:
        raise click.UsageError(f"--engine spark fits --model {' or '.join(SPARK_MODELS)}, not {name}")
    pseudonymize, gone = pseudonymizer(settings.state_dir), forgotten(settings.state_dir)
    segments: dict[str, str] = {}
    if customers:
        profiles, _ = read_customers(customers, pseudonymize, forgotten=gone, limits=settings.limits,
                                     rules=store_segment_rules(settings))
        segments = {c: p.segment for c, p in profiles.items()}
    spark = spark_session(master)
    read = read_events_spark(spark, events, pseudonymize, field_map(maps), gone)
    click.echo(read.report.format(limit=20))
    frame = read.frame
    feedback = _feedback_rows(settings, gone) if with_feedback else []
    if feedback:
        frame = frame.unionByName(spark.createDataFrame(feedback, list(frame.columns)))
        click.echo(f"{len(feedback)} feedback events from the chat added")
    model = fit_and_save(frame, cf_model_dir(settings), name, segments, forgotten=gone)
    return model, read.report


def _feedback_rows(settings: Settings, gone: set[str]) -> list[tuple]:
    """The chat's feedback as event rows (as the single-machine path adds them), when there is any."""
    from assistant.service.assistant import open_shopper_data, shopper_data_path
    if not shopper_data_path(settings).is_file():
        return []
    return [tuple(row) for row in open_shopper_data(settings).as_events() if row[0] not in gone]


def spark_index_build(settings: Settings, files: tuple[Path, ...], mapping: dict[str, str], master: str,
                      partitions: int | None, progress=None):
    """Read the catalog, embed it with Spark on `master` and publish the build as `aisle index build` does;
    returns its BuildSummary."""
    from assistant.core.spark import spark_session
    from assistant.index.spark_build import SparkIndexJob
    from assistant.ingest.catalog import read_catalog
    from assistant.service.publishing import publish_products

    products, report = read_catalog(files, {**settings.column_map, **mapping}, settings.limits,
                                    settings.catalog_encoding)
    job = SparkIndexJob(spark_session(master), settings.index_dir, partitions, settings.batch_size)
    try:
        return publish_products(settings, products, report, progress, embedder_for=job.embedder_for,
                                index_builder=job.index_builder)
    finally:
        job.close()
