"""`aisle eval segments`: how well segments guessed from baskets recover the known ones."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.surfaces.cli.common import settings_for, store_segment_rules

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("segments")
@click.option("--store", type=click.Choice(["demo", "completejourney", "all"]), default="demo", show_default=True,
              help="Store to measure: the demo store, the Complete Journey grocery, or both.")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Complete Journey folder (default: $AISLE_COMPLETEJOURNEY, else ../shared/data/completejourney).")
@click.option("--interactions", "events", multiple=True, type=FILE,
              help="Measure your own store instead: its interaction log file(s) (with --customers and --catalog).")
@click.option("--customers", multiple=True, type=FILE,
              help="Your store's customer file(s): a segment column, or the segment_rules_file setting's rules.")
@click.option("--catalog", multiple=True, type=FILE, help="Your store's catalog file(s) (categories, prices).")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20), help="Stratified folds.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the folds and the chance baseline.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def eval_segments(ctx: click.Context, store: str, source: Path | None, events: tuple[Path, ...],
                  customers: tuple[Path, ...], catalog: tuple[Path, ...], folds: int, seed: int,
                  as_json: bool) -> None:
    """Guess shoppers' segments from their baskets and compare with the known ones.

    Stratified k-fold over the shoppers with a known segment (the demo store's segment column; Complete
    Journey's households with demographics, placed by its rules): accuracy and macro-F1 of the inferred
    segments (mean ± standard error across folds) beside a majority-class and a chance baseline.

    Example: aisle eval segments --store completejourney
    """
    from assistant.evaluation.segment_recovery import (completejourney_inputs, demo_inputs, format_recovery,
                                                       measure_store, store_inputs)
    from assistant.privacy.keys import pseudonymizer
    from assistant.surfaces.cli.store_commands import completejourney_source

    settings = settings_for(ctx)
    pseudonymize = pseudonymizer(settings.state_dir)
    if events or customers or catalog:
        if not (events and customers and catalog):
            raise click.UsageError("measuring your own store needs --interactions, --customers and --catalog")
        from assistant.ingest.catalog import read_catalog
        products, _ = read_catalog(list(catalog), limits=settings.limits)
        inputs = {"files": store_inputs(events, customers, {p.id: p.category for p in products},
                                        {p.id: p.price for p in products if p.price}, pseudonymize,
                                        store_segment_rules(settings), settings.limits)}
    else:
        stores = ["demo", "completejourney"] if store == "all" else [store]
        inputs = {s: demo_inputs(pseudonymize) if s == "demo"
                  else completejourney_inputs(completejourney_source(source), pseudonymize) for s in stores}
    try:
        results = [measure_store(name, data, folds, seed) for name, data in inputs.items()]
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    click.echo(json.dumps([r.to_dict() for r in results], indent=2) if as_json else format_recovery(results))
