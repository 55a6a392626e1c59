"""`aisle eval ...`: measure the behavioural model, the labelled requests and fairness offline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from assistant.core.config import Settings
from assistant.core.progress import ProgressBar
from assistant.surfaces.cli.common import read_logs, settings_for

logger = logging.getLogger(__name__)  # not `log`: that names the interaction logs below


@click.group("eval")
def eval_group() -> None:
    """Measure recommendation quality offline."""


@eval_group.command("cf")
@click.option("--store", type=click.Choice(["demo", "completejourney", "all"]), default=None,
              help="Whose log: the demo store's, the Complete Journey grocery's, or both, one after the other "
                   "(default: demo, or the files given with --interactions).")
@click.option("--interactions", "events", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Interaction log file(s): CSV / JSONL / Parquet. Repeatable.")
@click.option("--customers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Customer profile file(s) with segments (the demo store's with --store demo).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Map an event field (customer_id, product_id, event, timestamp, value) to a column.")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Complete Journey folder (default: $AISLE_COMPLETEJOURNEY, else ../shared/data/completejourney).")
@click.option("--models", default=None, help="Comma-separated model families (default: all). "
              "Known: popularity, item_item, ease, als, bpr, blend.")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 100), help="Cut-off for the metrics.")
@click.option("--vague-shoppers", default=0, show_default=True, type=click.IntRange(0), metavar="N",
              help="Also rank N held-out known shoppers who type nothing specific through the whole chat "
                   "pipeline: CF-only / hybrid / hybrid+preference (fits a preference model on an earlier "
                   "split; needs the store's index: built on first use). 0: skip.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def eval_cf(ctx: click.Context, store: str | None, events: tuple[Path, ...], customers: tuple[Path, ...],
            maps: tuple[str, ...], source: Path | None, models: str | None, k: int, vague_shoppers: int,
            as_json: bool, quiet: bool) -> None:
    """The store's default CF model against tuned peers on a temporal leave-last-out split.

    Every shopper's latest new product is the test target. On the rest of the log each family (popularity,
    item-kNN, EASE, implicit's ALS and BPR, blends) is tuned on a second, earlier split exactly as `aisle cf
    fit` tunes it, and the default is what `aisle cf fit` would choose; each is then refitted and ranked on the
    test targets. Prints validation and test NDCG@K with standard errors, Recall@K, MRR, coverage, fit time,
    the default against the best tuned peer (ALS, BPR, EASE, item-kNN) as a ratio and a paired difference
    ± its standard error, and how normal buying again is in the store.

    Example: aisle eval cf --store all
    """
    from assistant.behaviour.selection import FAMILIES
    from assistant.evaluation.cf_comparison import compare_cf, format_comparison

    settings: Settings = ctx.obj
    names = [m.strip() for m in (models or ",".join(FAMILIES)).split(",") if m.strip()]
    unknown = [m for m in names if m not in FAMILIES]
    if unknown:
        raise click.BadParameter(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(FAMILIES)}",
                                 param_hint="--models")
    if store and events:
        raise click.BadParameter("give either --store or --interactions", param_hint="--store")
    if vague_shoppers and events:
        raise click.BadParameter("needs a store with an index: use --store", param_hint="--vague-shoppers")
    runs = []
    if events:
        runs.append(("your log", lambda: read_logs(settings, events, customers, maps)))
    else:
        wanted = ["demo", "completejourney"] if store == "all" else [store or "demo"]
        if "completejourney" in wanted:
            from assistant.surfaces.cli.store_commands import completejourney_source
            source = completejourney_source(source)  # a missing folder is an error before any work
        for one in wanted:
            runs.append((one, lambda one=one: _store_log(settings, one, customers, source)))
    comparisons, vague = [], {}
    for n, (label, read) in enumerate(runs):
        log, segments = read()
        if log.report.rejected:
            logger.info(log.report.format(limit=10))
        with ProgressBar(f"eval cf: {label}", unit="candidate", disable=quiet) as progress:
            comparisons.append(compare_cf(log, segments, k, names, label, progress))
        if vague_shoppers:
            vague[label] = _vague_shoppers(ctx, label, log, segments, vague_shoppers, k, source, quiet)
        if not as_json:  # each store's table as soon as it is measured
            click.echo(("\n" if n else "") + format_comparison(comparisons[-1]))
            if label in vague:
                click.echo(vague[label].row())
    if as_json:
        stores = [{**c.to_dict(), **({"vague_shoppers": vague[c.store].to_dict()} if c.store in vague else {})}
                  for c in comparisons]
        click.echo(json.dumps({"k": k, "stores": stores}, indent=2))


def _vague_shoppers(ctx: click.Context, store: str, log, segments, shoppers: int, k: int, source: Path | None,
                    quiet: bool):
    """Held-out known shoppers with no words, through the chat pipeline, mode by mode (a `VagueShoppers`)."""
    from assistant.evaluation.preference import evaluate_vague_shoppers
    from assistant.service.assistant import Assistant, ensure_demo_index

    settings = settings_for(ctx, llm_model="none")
    if store == "demo":
        ensure_demo_index(settings.with_overrides(index_name="demo"))
        settings = settings.with_overrides(index_name="demo")
    else:
        from assistant.evaluation.stores import prepare_completejourney
        with ProgressBar("building the completejourney index", disable=quiet) as progress:
            settings = prepare_completejourney(settings, source, progress=progress).settings
    return evaluate_vague_shoppers(Assistant(settings), log, segments, shoppers=shoppers, k=k, progress=not quiet)


def _store_log(settings: Settings, store: str, customers: tuple[Path, ...], source: Path | None):
    """A named store's interaction log and segments."""
    if store == "demo":
        from assistant.demo import customers_path, events_path
        return read_logs(settings, (events_path(),), customers or (customers_path(),), ())
    from assistant.evaluation.stores import completejourney_log
    return completejourney_log(settings, source)


@eval_group.command("requests")
@click.option("--store", type=click.Choice(["demo", "completejourney", "all"]), default="demo", show_default=True,
              help="Which store's labelled requests: the demo store (tuned on), the Complete Journey grocery "
                   "(a real store: measured, no weight chosen on it alone; see docs/ranking.md), or both side by side.")
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
