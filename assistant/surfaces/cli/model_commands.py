"""`aisle cf fit` and `aisle eval ...`: fit the behavioural model, measure quality and fairness offline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from assistant.core.config import Settings
from assistant.core.progress import ProgressBar
from assistant.surfaces.cli.common import EXIT_SOME_REJECTED, read_logs, settings_for

logger = logging.getLogger(__name__)  # not `log`: that names the interaction logs below


@click.group("cf")
def cf_group() -> None:
    """Fit the behavioural (collaborative-filtering) model of an index."""


@cf_group.command("fit")
@click.option("--interactions", "events", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Interaction log file(s).")
@click.option("--customers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Customer profile file(s) with segments.")
@click.option("--name", default=None, help="Index the model belongs to (default: the configured one).")
@click.option("--model", "model_name", default=None, help="CF model (default: cf_model setting, 'blend').")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN", help="Map an event field to a column.")
@click.option("--feedback/--no-feedback", "with_feedback", default=True, show_default=True,
              help="Add shoppers' feedback from the chat (thumbs up as clicks, 'bought it' as purchases).")
@click.pass_context
def cf_fit(ctx: click.Context, events: tuple[Path, ...], customers: tuple[Path, ...], name: str | None,
           model_name: str | None, maps: tuple[str, ...], with_feedback: bool) -> None:
    """Fit and save the CF model from interaction logs (customer ids are pseudonymised on reading)."""
    from assistant.service.assistant import STORE_ERRORS, cf_model_dir, open_shopper_data, shopper_data_path
    from assistant.behaviour import build_interactions, make_cf_model

    settings = settings_for(ctx, index_name=name, cf_model=model_name)
    try:
        log, segments = read_logs(settings, events, customers, maps)
        click.echo(log.report.format(limit=20))
        if with_feedback and shopper_data_path(settings).is_file():
            from assistant.ingest.customers import InteractionLog
            from assistant.privacy.keys import forgotten
            gone = forgotten(settings.state_dir)
            rows = [row for row in open_shopper_data(settings).as_events() if row[0] not in gone]
            if rows:
                log = log.extended(InteractionLog.from_rows(rows))
                click.echo(f"{len(rows)} feedback events from the chat added")
        model = make_cf_model(settings.cf_model).fit(build_interactions(log, segments))
    except (ValueError, *STORE_ERRORS) as err:  # not Aisle's own errors (those `main` shows)
        raise click.ClickException(str(err)) from None
    from assistant.privacy.keys import forgotten as forgotten_pseudonyms
    folder = model.save(cf_model_dir(settings), forgotten=forgotten_pseudonyms(settings.state_dir))
    click.echo(f"{settings.cf_model} model fitted in {model.fit_seconds:.1f} s on {len(model.data.users)} shoppers "
               f"and {len(model.data.items)} products; saved to {folder}")
    ctx.exit(EXIT_SOME_REJECTED if log.report.rejected else 0)


@click.group("eval")
def eval_group() -> None:
    """Measure recommendation quality offline."""


@eval_group.command("cf")
@click.option("--interactions", "events", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Interaction log file(s): CSV / JSONL / Parquet (default: the demo store's). Repeatable.")
@click.option("--customers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Customer profile file(s) with segments (default: the demo store's when no log is given).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Map an event field (customer_id, product_id, event, timestamp, value) to a column.")
@click.option("--models", default=None, help="Comma-separated models (default: all). "
              "Known: popularity, user_user, item_item, als, bpr, ease, blend.")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 100), help="Cut-off for the metrics.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def eval_cf(ctx: click.Context, events: tuple[Path, ...], customers: tuple[Path, ...], maps: tuple[str, ...],
            models: str | None, k: int, as_json: bool) -> None:
    """Compare CF models on a temporal leave-last-out split (every shopper's latest new product held out).

    Prints Recall@K, NDCG@K, MRR, catalog coverage, fit time and NDCG@K per segment, one model per line.
    """
    from assistant.behaviour import cf_model_names
    from assistant.evaluation.metrics import evaluate_cf, format_table

    settings: Settings = ctx.obj
    if not events:
        from assistant.demo import customers_path, events_path
        events, customers = (events_path(),), customers or (customers_path(),)
    names = [m.strip() for m in (models or ",".join(cf_model_names())).split(",") if m.strip()]
    unknown = [m for m in names if m not in cf_model_names()]
    if unknown:
        raise click.BadParameter(f"unknown model(s) {', '.join(unknown)}", param_hint="--models")
    log, segments = read_logs(settings, events, customers, maps)
    if log.report.rejected:
        logger.info(log.report.format(limit=10))
    results = evaluate_cf(log, segments, names, k)
    if as_json:
        click.echo(json.dumps({"k": k, "events": len(log), "results": [r.to_dict() for r in results]}, indent=2))
        return
    click.echo(f"{len(log)} events; temporal leave-last-out, K={k}")
    click.echo(format_table(results, k))


@eval_group.command("requests")
@click.option("--store", type=click.Choice(["demo", "completejourney", "all"]), default="demo", show_default=True,
              help="Which store's labelled requests: the demo store (tuned on), the Complete Journey grocery "
                   "(measured, never tuned on), or both side by side.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Labelled requests (JSONL; default: the set shipped with Aisle for the store). One store only.")
@click.option("--index", "name", default=None, help="Demo store: index to evaluate (default: the configured one).")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Complete Journey folder (default: $AISLE_COMPLETEJOURNEY, else ../shared/data/completejourney).")
@click.option("--sample", type=click.IntRange(100), default=None, metavar="N",
              help="Complete Journey: index at most N products (the dialogues' categories first, then the most "
                   "bought) instead of all ~20,800 (a first full build takes about 5 minutes).")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="Cut-off for the metrics.")
@click.option("--llm", "with_llm", is_flag=True, help="Also run the hybrid with the LLM rerank (slow).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def eval_requests(ctx: click.Context, store: str, path: Path | None, name: str | None, source: Path | None,
                  sample: int | None, k: int, with_llm: bool, as_json: bool, quiet: bool) -> None:
    """Content-only, CF-only and hybrid ranking side by side on labelled shopper requests.

    Prints hard-constraint satisfaction, NDCG@K, precision@K, segment fit, parse accuracy and, for requests
    nothing in the catalog meets, whether the answer said so. The Complete Journey store is prepared on first
    use: catalog derived into <state_dir>/completejourney/, index `completejourney` built (with a progress
    bar; reused while the derived catalog is unchanged) and a CF model fitted on its purchases.

    Example: aisle eval requests --store all
    """
    from assistant.evaluation.stores import (PreparedStore, evaluate_store, format_stores, prepare_completejourney,
                                             store_cases)
    from assistant.surfaces.cli.store_commands import completejourney_source

    stores = ["demo", "completejourney"] if store == "all" else [store]
    if path is not None and len(stores) > 1:
        raise click.BadParameter("--file names one store's requests; pick --store demo or completejourney",
                                 param_hint="--file")
    results = []
    for one in stores:
        cases = store_cases(one, path)
        if one == "demo":
            prepared = PreparedStore(one, settings_for(ctx, index_name=name), 0)
        else:
            with ProgressBar("building the completejourney index", disable=quiet) as progress:
                prepared = prepare_completejourney(settings_for(ctx), completejourney_source(source), sample,
                                                   cases, progress)
        results.append(evaluate_store(prepared, cases, k, with_llm))
    if as_json:
        click.echo(json.dumps({"k": k, "stores": [r.to_dict() for r in results]}, indent=2))
        return
    click.echo(format_stores(results, k))


@eval_group.command("fairness")
@click.option("--interactions", "events", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Interaction log file(s) (default: the demo store's). Repeatable.")
@click.option("--customers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Customer profile file(s) with segments (default: the demo store's when no log is given).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN", help="Map an event field to a column.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Labelled requests (JSONL; default: the demo store's set shipped with Aisle).")
@click.option("--no-requests", is_flag=True, help="Leave out the labelled requests (held-out data only).")
@click.option("--index", "name", default=None,
              help="Index whose catalog is measured (default: the configured one; the demo index is built "
                   "if it is missing).")
@click.option("-k", "--k", "k", default=10, show_default=True, type=click.IntRange(1, 100),
              help="Cut-off for held-out NDCG and length of the held-out shoppers' CF lists.")
@click.option("--request-k", default=5, show_default=True, type=click.IntRange(1, 50),
              help="Cut-off for the labelled requests (the length of the answers shoppers see).")
@click.option("--cap", "caps", multiple=True, type=click.FloatRange(0, 1), metavar="SHARE",
              help="Also measure with at most ceil(SHARE x k) top-decile products in each list. Repeatable.")
@click.option("--hybrid-shoppers", default=0, show_default=True, type=click.IntRange(0), metavar="N",
              help="Also rank N held-out shoppers with the full hybrid as if they typed nothing "
                   "(about 10 ms each; 0 = skip).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("fairness-report"),
              show_default=True, help="Folder for the PNG plots.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def eval_fairness(ctx: click.Context, events: tuple[Path, ...], customers: tuple[Path, ...], maps: tuple[str, ...],
                  path: Path | None, no_requests: bool, name: str | None, k: int, request_k: int,
                  caps: tuple[float, ...], hybrid_shoppers: int, out: Path, as_json: bool, quiet: bool) -> None:
    """Fairness across segments, brands, price tiers and popularity (docs/fairness.md).

    Prints NDCG per customer segment (held-out shoppers: CF blend and the hybrid; labelled requests:
    the hybrid) with the gap between the best and worst segment, and the exposure of the products shown
    (1/log2(rank+1)) by popularity decile, price tier and brand, with its Gini. Each --cap is measured
    beside the uncapped ranking, so its NDCG cost is visible. Writes four PNG plots to --out.

    Example: aisle eval fairness --cap 0.2 --cap 0.4
    """
    from assistant.service.assistant import Assistant, ensure_demo_index
    from assistant.evaluation.metrics import default_requests_path, load_request_cases
    from assistant.evaluation.fairness import evaluate_fairness
    from assistant.index import published_path

    settings = settings_for(ctx, index_name=name)
    if not events:
        from assistant.demo import customers_path, events_path
        events, customers = (events_path(),), customers or (customers_path(),)
    cases = []
    if not no_requests:
        path = path or default_requests_path()
        if not path.is_file():
            raise click.ClickException(f"no labelled request file at {path}; pass --file or --no-requests")
        cases = load_request_cases(path)
    if settings.index_name == "demo" and published_path(settings.index_dir, "demo") is None:
        with ProgressBar("building the demo index (once)", disable=quiet) as progress:
            ensure_demo_index(settings, progress)
    log, segments = read_logs(settings, events, customers, maps)
    if log.report.rejected:
        logger.info(log.report.format(limit=10))
    report = evaluate_fairness(Assistant(settings), log, segments, cases, k, request_k, list(caps),
                               hybrid_shoppers, progress=not quiet)
    plots = report.plot(out)
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "plots": [str(p) for p in plots]}, indent=2))
        return
    click.echo(report.format())
    click.echo(f"\nplots: {', '.join(str(p) for p in plots)}")
