"""`aisle rank fit` and `aisle rank eval`: the learned preference model that ranks the chat's candidates."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.surfaces.cli.common import read_logs, settings_for

STORE_CHOICE = click.Choice(["demo", "completejourney"])


@click.group("rank")
def rank_group() -> None:
    """The learned preference model (LightGBM lambdarank) that ranks a turn's candidates.

    Without one the hand-tuned weights of [fusion] rank them; with one fitted for the served index it is used
    while the `fusion.preference` setting is on (default). docs/ranking.md, "Learned preference model".
    """


def _store_data(ctx: click.Context, store: str, events: tuple[Path, ...], customers: tuple[Path, ...],
                maps: tuple[str, ...], name: str | None, source: Path | None, quiet: bool):
    """(settings, interaction log, segments) of the store: the demo store's files, the Complete Journey
    purchases (its index prepared on first use), or the given logs for the index `name`."""
    from assistant.core.progress import ProgressBar
    from assistant.service.assistant import ensure_demo_index

    if store == "completejourney":
        from assistant.evaluation.stores import completejourney_log, prepare_completejourney
        from assistant.surfaces.cli.store_commands import completejourney_source

        folder = completejourney_source(source)
        with ProgressBar("building the completejourney index", disable=quiet) as progress:
            prepared = prepare_completejourney(settings_for(ctx), folder, progress=progress)
        from assistant.index import load_index
        products = {p.id for p in load_index(prepared.settings.index_dir, prepared.settings.index_name).products}
        log, segments = completejourney_log(prepared.settings, folder, products)
        return prepared.settings, log, segments
    settings = settings_for(ctx, index_name=name)
    if not events:
        from assistant.demo import customers_path, events_path
        events, customers = (events_path(),), customers or (customers_path(),)
        if settings.index_name == "demo":
            with ProgressBar("building the demo index (once)", disable=quiet) as progress:
                ensure_demo_index(settings, progress)
    log, segments = read_logs(settings, events, customers, maps)
    return settings, log, segments


def _data_options(command):
    options = [
        click.option("--store", type=STORE_CHOICE, default="demo", show_default=True,
                     help="The demo store (its generated logs), or the Complete Journey grocery (its purchases; "
                          "index `completejourney`, prepared on first use)."),
        click.option("--interactions", "events", multiple=True,
                     type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Another store's interaction log file(s) (with --index). Repeatable."),
        click.option("--customers", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="Customer profile file(s) with segments."),
        click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN", help="Map an event field to a column."),
        click.option("--index", "name", default=None, help="Index the model is for (default: the configured one)."),
        click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Complete Journey folder (default: $AISLE_COMPLETEJOURNEY, else ../shared/data/completejourney)."),
        click.option("--shoppers", default=600, show_default=True, type=click.IntRange(10), metavar="N",
                     help="Shoppers whose training turns are built (evenly spaced; 4 turns each)."),
        click.option("--cf-model", default=None, help="CF model the training turns are ranked with (default: cf_model)."),
        click.option("--quiet", is_flag=True, help="No progress bars."),
        click.option("--json", "as_json", is_flag=True, help="Print the results as JSON."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@rank_group.command("fit")
@_data_options
@click.option("--rounds", default=None, type=click.IntRange(1, 5000), help="Boosting rounds (default 150).")
@click.pass_context
def rank_fit(ctx: click.Context, store: str, events: tuple[Path, ...], customers: tuple[Path, ...],
             maps: tuple[str, ...], name: str | None, source: Path | None, shoppers: int, cf_model: str | None,
             quiet: bool, as_json: bool, rounds: int | None) -> None:
    """Fit the preference model on the store's logged interactions and publish it beside the index.

    Training turns come from each sampled shopper's *previous* new product (leave-last-out applied twice, so
    the leave-last-out targets that `aisle rank eval` and `aisle eval cf` measure are never seen): an empty
    turn, a vague message, the product's category words as the shopper, and the same words anonymously,
    each ranked through the served pipeline; the product is the target, its category's products related.

    Examples: aisle rank fit;  aisle rank fit --store completejourney --shoppers 800
    """
    from assistant.evaluation.preference import fit_preference
    from assistant.rank.lambdarank import ROUNDS
    from assistant.service.assistant import Assistant, preference_model_dir

    settings, log, segments = _store_data(ctx, store, events, customers, maps, name, source, quiet)
    assistant = Assistant(settings.with_overrides(llm_model="none"))
    model, _ = fit_preference(assistant, log, segments, shoppers, rounds or ROUNDS, cf_model, progress=not quiet)
    folder = model.save(preference_model_dir(settings))
    if as_json:
        click.echo(json.dumps({"folder": str(folder), "version": model.version, "training": model.manifest["training"],
                               "importance": model.importance()}, indent=2))
        return
    training = model.manifest["training"]
    click.echo(f"preference model {model.version} for index {settings.index_name}: {training['turns_used']} turns "
               f"({training['rows_used']} candidate rows) from {training['shoppers']} shoppers; turns built in "
               f"{training['turns_seconds']} s, fitted in {training['fit_seconds']} s; saved to {folder}")
    click.echo("most used features (gain): " + ", ".join(f"{k} {v:.0f}" for k, v in list(model.importance().items())[:8]))


@rank_group.command("eval")
@_data_options
@click.option("--vague-shoppers", default=500, show_default=True, type=click.IntRange(10), metavar="N",
              help="Held-out known shoppers ranked for a vague turn.")
@click.option("--message", "messages", multiple=True, default=("",), show_default=False, metavar="TEXT",
              help="What the vague shoppers type (repeatable; default: nothing, an empty request).")
@click.pass_context
def rank_eval(ctx: click.Context, store: str, events: tuple[Path, ...], customers: tuple[Path, ...],
              maps: tuple[str, ...], name: str | None, source: Path | None, shoppers: int, cf_model: str | None,
              quiet: bool, as_json: bool, vague_shoppers: int, messages: tuple[str, ...]) -> None:
    """Fit a preference model on the earlier split and measure both of its targets in one run.

    Known shoppers with a vague turn: held-out NDCG@10 for CF-only, the hybrid and hybrid+preference (the
    leave-last-out targets, CF fitted on the events before them). Labelled requests of the store: NDCG@5 of
    the hybrid and of hybrid+preference. Nothing is published.

    Example: aisle rank eval --message "" --message "something nice"
    """
    from assistant.evaluation.preference import evaluate_preference
    from assistant.evaluation.stores import store_cases
    from assistant.service.assistant import Assistant

    settings, log, segments = _store_data(ctx, store, events, customers, maps, name, source, quiet)
    assistant = Assistant(settings.with_overrides(llm_model="none"))
    cases = store_cases(store) if not events else []
    report = evaluate_preference(assistant, log, segments, cases, store, vague_shoppers, shoppers, messages,
                                 cf_model, progress=not quiet)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.format())
