"""`aisle eval prepare-completejourney` and where `aisle eval requests` finds the Complete Journey data."""

from __future__ import annotations

import os
from pathlib import Path

import click

COMPLETEJOURNEY_ENV = "AISLE_COMPLETEJOURNEY"
COMPLETEJOURNEY_GUESS = Path("../shared/data/completejourney")


def completejourney_source(source: Path | None) -> Path:
    """--source, else $AISLE_COMPLETEJOURNEY, else ../shared/data/completejourney when it exists."""
    found = source or (Path(os.environ[COMPLETEJOURNEY_ENV]) if os.environ.get(COMPLETEJOURNEY_ENV) else None)
    found = found or (COMPLETEJOURNEY_GUESS if COMPLETEJOURNEY_GUESS.is_dir() else None)
    if found is None or not found.is_dir():
        raise click.BadParameter(f"no Complete Journey folder{f' at {found}' if found else ''}; pass --source DIR "
                                 f"or set ${COMPLETEJOURNEY_ENV}", param_hint="--source")
    return found


@click.command("prepare-completejourney")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder with products.csv, events.csv and customers.csv (default: $AISLE_COMPLETEJOURNEY, "
                   "else ../shared/data/completejourney).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write catalog.csv to.")
def prepare_completejourney(source: Path | None, out: Path) -> None:
    """Turn the Complete Journey grocery data into an Aisle catalog (OUT/catalog.csv).

    Title "<Category> — <Type>, <size>", category "<Department> > <Category>", brand Private / National,
    price = the median unit price (value / quantity) of the product's purchases; products never bought at a
    positive price are left out. events.csv and customers.csv are usable as they are, e.g.
    `aisle eval cf --interactions SOURCE/events.csv --customers SOURCE/customers.csv`.

    Example: aisle eval prepare-completejourney --source ../shared/data/completejourney --out cj
    """
    from assistant.evaluation.completejourney import derive_catalog, write_catalog

    source = completejourney_source(source)
    catalog = derive_catalog(source)
    path = write_catalog(catalog, out / "catalog.csv")
    click.echo(catalog.summary())
    click.echo(f"wrote {path}; index it with `aisle index build {path} --name completejourney`")
