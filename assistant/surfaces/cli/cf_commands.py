"""`aisle cf fit` and `aisle cf recommend`: the behavioural model of a store, chosen on its own log, and batch
recommendations from it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.core.config import CF_MODELS, Settings
from assistant.core.progress import ProgressBar
from assistant.service.served_model import cf_model_dir
from assistant.core.spark import DEFAULT_MASTER, ENGINES
from assistant.surfaces.cli.common import EXIT_SOME_REJECTED, read_logs, settings_for
from assistant.surfaces.cli.spark_commands import ENGINE_HELP, MASTER_HELP


@click.group("cf")
def cf_group() -> None:
    """Fit the behavioural (collaborative-filtering) model of an index."""


@cf_group.command("fit")
@click.option("--interactions", "events", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Interaction log file(s).")
@click.option("--customers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Customer profile file(s) with segments.")
@click.option("--name", default=None, help="Index the model belongs to (default: the configured one).")
@click.option("--model", "model_name", type=click.Choice(CF_MODELS), default=None,
              help="CF model (default: the cf_model setting, 'auto': chosen on a validation split of this log).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN", help="Map an event field to a column.")
@click.option("--feedback/--no-feedback", "with_feedback", default=True, show_default=True,
              help="Add shoppers' feedback from the chat (thumbs up as clicks, 'bought it' as purchases).")
@click.option("--infer-segments", "infer", is_flag=True,
              help="Give shoppers without a segment the one their baskets suggest (needs the built index: "
                   "product categories; measured by `aisle eval segments`).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="With --infer-segments: leave a shopper without a segment below this confidence.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True, help=ENGINE_HELP)
@click.option("--master", default=DEFAULT_MASTER, show_default=True, help=MASTER_HELP)
@click.pass_context
def cf_fit(ctx: click.Context, events: tuple[Path, ...], customers: tuple[Path, ...], name: str | None,
           model_name: str | None, maps: tuple[str, ...], with_feedback: bool, infer: bool, min_confidence: float,
           quiet: bool, engine: str, master: str) -> None:
    """Fit and save the CF model from interaction logs (customer ids are pseudonymised on reading).

    With the default model 'auto', every model family (popularity, item-item, EASE, implicit's ALS and BPR,
    blends of them) is tried over a small grid of its settings and time decays on a temporal validation split
    of this log — each shopper's latest new product held out — and the best NDCG@10 is fitted on the whole
    log. The choice and the figures behind it are printed and saved in the model's manifest. The same log
    gives the same model, file for file.

    With --engine spark, Spark reads, weighs and fits the log (CSV, TSV, JSONL or Parquet, any size) and
    the same model folder is saved: --model als (the default: Spark MLlib ALS, implicit preferences) or
    item_item (co-occurrences in Spark SQL). 'auto' selection runs on the single-machine engine only, as do
    --infer-segments and the other model families.

    Example: aisle cf fit --interactions events.csv --customers customers.csv
    """
    if engine == "spark":
        if infer:
            raise click.UsageError("--infer-segments runs on the single-machine engine only (--engine local)")
        from assistant.surfaces.cli.spark_commands import spark_cf_fit
        settings = settings_for(ctx, index_name=name)
        model, report = spark_cf_fit(settings, events, customers, maps, model_name, master, with_feedback)
        click.echo(f"{model.name} (Spark, {master}): fitted in {model.fit_seconds:.1f} s on {len(model.data.users)} "
                   f"shoppers and {len(model.data.items)} products; saved to {cf_model_dir(settings)}")
        ctx.exit(EXIT_SOME_REJECTED if report.rejected else 0)
    settings = settings_for(ctx, index_name=name, cf_model=model_name)
    log, segments = _logs_with_feedback(ctx, settings, events, customers, maps, with_feedback)
    if infer:
        segments = _inferred_segments(settings, log, segments, min_confidence)
    model, chosen = _fit_store_model(log, segments, settings, quiet)
    from assistant.privacy.keys import forgotten as forgotten_pseudonyms
    folder = model.save(cf_model_dir(settings), forgotten=forgotten_pseudonyms(settings.state_dir))
    click.echo(f"{chosen}: fitted in {model.fit_seconds:.1f} s on {len(model.data.users)} shoppers and "
               f"{len(model.data.items)} products; saved to {folder}")
    ctx.exit(EXIT_SOME_REJECTED if log.report.rejected else 0)


def _logs_with_feedback(ctx: click.Context, settings: Settings, events: tuple[Path, ...],
                        customers: tuple[Path, ...], maps: tuple[str, ...], with_feedback: bool):
    """The logs (their report printed), plus the chat's feedback events when asked and present."""
    from assistant.service.assistant import STORE_ERRORS, open_shopper_data
    from assistant.service.shopper_data import has_shopper_data
    try:
        log, segments = read_logs(settings, events, customers, maps)
        click.echo(log.report.format(limit=20))
        if with_feedback and has_shopper_data(settings):
            from assistant.ingest.customers import InteractionLog
            from assistant.service.shared_state import forgotten_customers
            gone = forgotten_customers(settings)
            rows = [row for row in open_shopper_data(settings).as_events() if row[0] not in gone]
            if rows:
                log = log.extended(InteractionLog.from_rows(rows))
                click.echo(f"{len(rows)} feedback events from the chat added")
    except (ValueError, *STORE_ERRORS) as err:  # not Aisle's own errors (those `main` shows)
        raise click.ClickException(str(err)) from None
    return log, segments


def _inferred_segments(settings: Settings, log, segments: dict[str, str], min_confidence: float) -> dict[str, str]:
    """The known segments plus those inferred from baskets for shoppers without one."""
    if not any(segments.values()):
        raise click.UsageError("--infer-segments learns from shoppers whose segment is known: give --customers")
    from assistant.behaviour.segment_inference import fill_segments
    from assistant.index import load_index
    products = load_index(Path(settings.index_dir), settings.index_name).products
    filled = fill_segments(log, segments, {p.id: p.category for p in products},
                           {p.id: p.price for p in products if p.price}, min_confidence)
    click.echo(filled.note())
    return filled.segments


def _fit_store_model(log, segments, settings: Settings, quiet: bool, err: bool = False):
    """`fit_store_model` with a progress bar (none when `quiet`), then what the selection tried and chose
    (on standard error when `err`, and then not at all when `quiet`)."""
    from assistant.behaviour.selection import describe_selection, fit_store_model
    try:
        with ProgressBar("choosing the CF model", unit="candidate", disable=quiet) as progress:
            model, chosen = fit_store_model(log, segments, settings.cf_model, progress=progress)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if model.selection and not (err and quiet):
        click.echo(describe_selection(model.selection), err=err)
    return model, chosen


@cf_group.command("recommend")
@click.option("--interactions", "events", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Interaction log file(s).")
@click.option("--customers", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Customer file(s): the customers to recommend for (their segments are used too).")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000), help="Products per customer.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN", help="Map an event field to a column.")
@click.option("--model", "model_name", type=click.Choice(CF_MODELS), default=None,
              help="CF model (default: the cf_model setting, 'auto', chosen as `aisle cf fit` chooses).")
@click.option("--load", "load_from", type=click.Path(exists=True, path_type=Path), default=None,
              help="Use this saved model folder (from `aisle cf fit`) instead of fitting on the logs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: customer_id, items, scores.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write the lists to this file (default: standard output).")
@click.option("--quiet", is_flag=True, help="No progress bar, no report.")
@click.pass_context
def cf_recommend(ctx: click.Context, events: tuple[Path, ...], customers: tuple[Path, ...], k: int,
                 maps: tuple[str, ...], model_name: str | None, load_from: Path | None, as_json: bool,
                 out: Path | None, quiet: bool) -> None:
    """Batch recommendations: the top k products for every listed customer, one line per customer.

    Fits the store's default model exactly as `aisle cf fit` chooses it (or loads one with --load) and
    leaves out, for each customer, every product they already have in the logs (viewed, bought, rated). A
    customer with no history gets their segment's (else the store's) most popular products. Lines are
    `customer_id<TAB>product,product,...` or, with --json, {"customer_id", "items", "scores"}; customer ids are
    written as given in the customer file.

    Example: aisle cf recommend --interactions events.csv --customers customers.csv -k 10 --out recs.tsv
    """
    from assistant.privacy.keys import pseudonymizer

    settings = settings_for(ctx, cf_model=model_name)
    log, segments = read_logs(settings, events, customers, maps)
    if not quiet:
        click.echo(log.report.format(limit=20), err=True)
    if load_from is not None:
        from assistant.behaviour import load_cf_model
        model = load_cf_model(load_from)
    else:
        model, chosen = _fit_store_model(log, segments, settings, quiet, err=True)
        if not quiet:
            click.echo(f"{chosen}: fitted in {model.fit_seconds:.1f} s", err=True)
    pseudonymize = pseudonymizer(settings.state_dir)
    raw_ids = _customer_ids(customers, settings)
    lines = []
    for raw in raw_ids:
        pseudonym = pseudonymize(raw)
        segment = segments.get(pseudonym) or None
        top = model.recommend(customer=pseudonym, segment=segment, k=k)
        if as_json:
            lines.append(json.dumps({"customer_id": raw, "items": [p for p, _ in top],
                                     "scores": [round(s, 6) for _, s in top]}, ensure_ascii=False))
        else:
            lines.append(f"{raw}\t{','.join(p for p, _ in top)}")
    text = "\n".join(lines) + ("\n" if lines else "")
    if out is None:
        click.echo(text, nl=False)
    else:
        from assistant.core.durable import write_durably
        write_durably(out, text.encode("utf-8"))
        if not quiet:
            click.echo(f"{len(lines)} customers' top {k} written to {out}", err=True)


def _customer_ids(paths: tuple[Path, ...], settings: Settings) -> list[str]:
    """The raw customer ids of customer files, in file order, each once."""
    from assistant.ingest.customers import read_customers
    profiles, _ = read_customers(paths, lambda raw: raw, limits=settings.limits)  # keyed by the raw id
    return list(profiles)
