"""The `aisle` command. Heavy libraries load inside the commands, so `aisle --help` stays fast.

Exit codes: 0 done; 1 failed (nothing published, the previous index keeps serving); 2 usage error;
3 index built and published, but some catalog rows were rejected (see the report).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from assistant.core.config import Settings, load_settings

EXIT_FAILED = 1
EXIT_SOME_REJECTED = 3


def _parse_maps(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise click.BadParameter(f"{pair!r} is not FIELD=COLUMN (e.g. title=ProductName)", param_hint="--map")
        mapping[field.strip()] = column.strip()
    return mapping


def _read_logs(settings: Settings, events, customers, maps: tuple[str, ...]):
    """Interaction logs and customer segments, customer ids pseudonymised on reading; forgotten customers
    (`aisle forget`) are left out."""
    from assistant.ingest.customers import read_customers, read_events
    from assistant.privacy.keys import forgotten, pseudonymizer

    pseudonymize = pseudonymizer(settings.state_dir)
    gone = forgotten(settings.state_dir)
    log = read_events(events, pseudonymize, _parse_maps(maps), gone, settings.limits)
    segments: dict[str, str] = {}
    if customers:
        profiles, _ = read_customers(customers, pseudonymize, forgotten=gone, limits=settings.limits)
        segments = {c: p.segment for c, p in profiles.items()}
    return log, segments


def _settings(ctx: click.Context, **overrides: object) -> Settings:
    settings: Settings = ctx.obj
    return settings.with_overrides(**overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Settings file (default: ./aisle.toml, or $AISLE_CONFIG).")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding built indexes (default: ./index, or $AISLE_INDEX_DIR).")
@click.version_option(package_name="aisle")
@click.pass_context
def main(ctx: click.Context, config: Path | None, index_dir: Path | None) -> None:
    """Aisle: an offline shopping assistant over your store's catalog.

    Start with `aisle index build catalog.csv`, then `aisle search "kids rain jacket"`.
    """
    try:
        ctx.obj = load_settings(config).with_overrides(index_dir=index_dir)
    except (OSError, ValueError) as err:
        raise click.ClickException(str(err)) from None


# ---------------------------------------------------------------------------- index


@main.group()
def index() -> None:
    """Build, inspect and roll back product indexes."""


@index.command("build")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Index name (default: 'demo', or index_name in aisle.toml).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Map a canonical field to a column of the file, e.g. --map title=ProductName. Repeatable.")
@click.option("--embedder", type=click.Choice(["minilm", "use", "hashing"]), default=None,
              help="Embedding model: minilm (English, default), use (multilingual), hashing (no model; tests).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the full validation report (every rejected row) to this JSON file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def index_build(ctx: click.Context, files: tuple[Path, ...], name: str | None, maps: tuple[str, ...],
                embedder: str | None, report_path: Path | None, quiet: bool) -> None:
    """Build an index from catalog FILES (CSV, TSV, JSONL, Parquet; optionally .gz).

    Only products whose text changed since the published build are re-embedded. Bad rows are
    reported with file, line and reason; the good rows still load.

    Exit status: 0 built; 3 built, some rows rejected; 1 failed (the previous index keeps serving).
    """
    from tqdm import tqdm

    from assistant.service.assistant import Assistant
    from assistant.ingest.catalog import CatalogError
    from assistant.index.embedding import EmbedderUnavailable
    from assistant.index import IndexError_

    settings = _settings(ctx, index_name=name, embedder=embedder)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
            bar = tqdm(total=total, desc="embedding", unit="product", file=sys.stderr, disable=total == 0)
        bar.update(done - bar.n)

    try:
        summary = Assistant(settings).rebuild_index(files, mapping=_parse_maps(maps), progress=progress)
    except (CatalogError, EmbedderUnavailable, IndexError_, ValueError, OSError) as err:
        click.echo(f"Error: {err}", err=True)
        click.echo("Nothing was published; the previous index (if any) keeps serving.", err=True)
        ctx.exit(EXIT_FAILED)
    finally:
        if bar is not None:
            bar.close()
    click.echo(summary.report.format(limit=20))
    click.echo(summary.format())
    if report_path is not None:
        report_path.write_text(json.dumps(summary.report.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        click.echo(f"full report written to {report_path}")
    ctx.exit(EXIT_SOME_REJECTED if summary.rejected else 0)


@index.command("info")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the whole manifest as JSON.")
@click.pass_context
def index_info(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """Show what an index holds (default: the configured index)."""
    from assistant.service.assistant import Assistant
    from assistant.index import IndexError_

    try:
        manifest = Assistant(_settings(ctx, index_name=name)).index_info()
    except IndexError_ as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps(manifest, indent=2))
        return
    counts = manifest["counts"]
    lines = [
        f"name:        {manifest['name']}",
        f"build:       {manifest['build_id']} (built {manifest['built_at']} in {manifest['build_seconds']} s)",
        f"products:    {manifest['product_count']}",
        f"embedder:    {manifest['embedder']['model_id']} ({manifest['embedder']['dim']}-d)",
        f"index:       faiss {manifest['vector_index']['kind']}",
        f"catalog:     {', '.join(manifest['source_files'])}",
        f"hash:        {manifest['catalog_hash'][:16]}",
        f"last build:  {counts['loaded']} loaded, {counts['rejected']} rejected, "
        f"{counts['re_embedded']} re-embedded, {counts['reused']} reused, {counts['deleted']} dropped",
    ]
    click.echo("\n".join(lines))


@index.command("list")
@click.pass_context
def index_list(ctx: click.Context) -> None:
    """List the published indexes."""
    from assistant.index import list_indexes

    names = list_indexes(ctx.obj.index_dir)
    click.echo("\n".join(names) if names else f"no index under {ctx.obj.index_dir}")


@index.command("rollback")
@click.argument("name", required=False)
@click.pass_context
def index_rollback(ctx: click.Context, name: str | None) -> None:
    """Serve the build before the current one again."""
    from assistant.index import IndexError_, rollback

    settings = _settings(ctx, index_name=name)
    try:
        build = rollback(settings.index_dir, settings.index_name)
    except IndexError_ as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"index '{settings.index_name}' now serves build {build.name}")


# ---------------------------------------------------------------------------- search


@main.command()
@click.argument("query")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 100), help="How many results.")
@click.option("--index", "name", default=None, help="Index name (default: the configured one).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, k: int, name: str | None, as_json: bool) -> None:
    """Content search: products whose text is nearest to QUERY."""
    from assistant.service.assistant import Assistant
    from assistant.index.embedding import EmbedderUnavailable
    from assistant.index import IndexError_

    try:
        hits = Assistant(_settings(ctx, index_name=name)).search(query, k)
    except (IndexError_, EmbedderUnavailable) as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo("no results")
    for hit in hits:
        p = hit.product
        details = ", ".join(x for x in (p.category, p.brand, p.color, p.audience) if x)
        click.echo(f"{hit.rank:>2}. {p.title} — ${p.price:,.2f} [{p.id}] ({details}) score {hit.score:.3f}")


# ---------------------------------------------------------------------------- recommend / chat


def _print_recommendation(rec, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False))
        return
    removed = ", ".join(f"{name} -{count}" for name, count in rec.filter_counts.items() if count)
    click.echo(f"[turn {rec.turn_id} · segment {rec.segment} ({rec.segment_source})"
               f"{' · filters: ' + removed if removed else ''}]")
    if not rec.items:
        click.echo("Nothing in the catalog meets all of that. Try relaxing a constraint (e.g. 'forget the budget').")
    for c in rec.items:
        p = c.product
        details = ", ".join(x for x in (p.brand, p.color, p.size.replace("|", "/")) if x)
        reason = c.breakdown.reason.text if c.breakdown.reason else ""
        click.echo(f"{c.rank}. {p.title} — ${p.price:,.2f} [{p.id}] ({details})" + (f"\n   {reason}" if reason else ""))


@main.command()
@click.argument("message")
@click.option("--segment", default=None, help="Shopper segment (default: from the customer profile or the message).")
@click.option("--customer", default=None, help="Customer id (pseudonymised before use) for history and segment.")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="How many products.")
@click.option("--llm/--no-llm", "use_llm", default=None,
              help="Rerank and explain with the language model (default: on unless llm_model = none).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer with its score breakdown as JSON.")
@click.pass_context
def recommend(ctx: click.Context, message: str, segment: str | None, customer: str | None, k: int,
              use_llm: bool | None, as_json: bool) -> None:
    """Recommend products for one shopper MESSAGE (English or Chinese), each with a one-line reason."""
    from assistant.service.assistant import Assistant
    from assistant.index import IndexError_
    from assistant.rank.segments import SegmentError

    try:
        settings = ctx.obj if use_llm is not False else _settings(ctx, llm_model="none")
        rec = Assistant(settings).recommend(message, segment=segment, customer=customer, k=k, reasons=True)
    except (IndexError_, SegmentError) as err:
        raise click.ClickException(str(err)) from None
    _print_recommendation(rec, as_json)


@main.command()
@click.option("--segment", default=None, help="Shopper segment (default: inferred).")
@click.option("--customer", default=None, help="Customer id for history and segment.")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="Products per answer.")
@click.pass_context
def chat(ctx: click.Context, segment: str | None, customer: str | None, k: int) -> None:
    """A multi-turn chat in the terminal. Refine with "make it blue", "cheaper", "show me more";
    type "why N" to see why item N was recommended, "quit" to leave."""
    from assistant.service.assistant import Assistant
    from assistant.understand.dialogue import Conversation
    from assistant.index import IndexError_
    from assistant.rank.segments import SegmentError

    assistant = Assistant(ctx.obj)
    conversation = Conversation()
    last = None
    click.echo("Aisle chat — describe what you are looking for (quit to leave).")
    while True:
        try:
            message = click.prompt("you", prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            break
        if message.strip().lower() in ("quit", "exit", "bye"):
            break
        if last is not None and message.strip().lower().startswith("why "):
            rank_text = message.strip()[4:].strip()
            if rank_text.isdigit() and 1 <= int(rank_text) <= len(last.items):
                product = last.items[int(rank_text) - 1].product
                click.echo(json.dumps(assistant.why(last.turn_id, product.id), indent=2, ensure_ascii=False))
                continue
        if not message.strip():
            continue
        try:
            last = assistant.recommend(message, conversation, segment=segment, customer=customer, k=k, reasons=True)
        except (IndexError_, SegmentError) as err:
            raise click.ClickException(str(err)) from None
        _print_recommendation(last, as_json=False)


@main.command()
@click.argument("turn")
@click.argument("product")
@click.option("--server", default="http://127.0.0.1:7860", show_default=True,
              help="The running Aisle server (turn traces live in the serving process).")
@click.option("--token", envvar="AISLE_STAFF_TOKEN", default=None, help="Staff token (default: $AISLE_STAFF_TOKEN).")
@click.option("--not-shown", "not_shown", is_flag=True, help="Ask why PRODUCT was not shown (why-not).")
def why(turn: str, product: str, server: str, token: str | None, not_shown: bool) -> None:
    """The full trace of why PRODUCT was recommended in TURN (or, with --not-shown, why it was not).

    Asks the running server's staff API (GET /api/why or /api/why-not) with the staff token.
    """
    path = "/api/why-not" if not_shown else "/api/why"
    trace = _staff_request(server, path, token, query={"turn_id": turn, "product_id": product})
    click.echo(json.dumps(trace, indent=2, ensure_ascii=False))


@main.command()
@click.argument("customer")
@click.option("--server", default=None, metavar="URL",
              help="Also clear a running server's memory of the customer (needs the staff token).")
@click.option("--token", envvar="AISLE_STAFF_TOKEN", default=None, help="Staff token (default: $AISLE_STAFF_TOKEN).")
@click.pass_context
def forget(ctx: click.Context, customer: str, server: str | None, token: str | None) -> None:
    """Erase CUSTOMER (their id as in the store's logs, or its pseudonym).

    Deletes their feedback and turn logs, lists their pseudonym so every later read of the interaction
    logs leaves their events out — the next `aisle cf fit` forgets them (the demo store's model is refitted
    now) — and stops using their saved profile right away. Run `aisle cf fit` to retrain a store's model.
    """
    from assistant.service.assistant import STORE_ERRORS, Assistant, cf_model_dir

    assistant = Assistant(_settings(ctx))
    try:
        removed = assistant.forget_customer(customer)
    except STORE_ERRORS as err:
        raise click.ClickException(f"their events are left out of later CF fits, but their stored feedback and "
                                   f"turn logs could not be deleted: {err}") from None
    click.echo(f"forgotten: {removed['feedback']} feedback rows and {removed['turn']} turn logs deleted; "
               "their events are left out of every later CF fit")
    if removed.get("cf_model_refit"):
        assistant.wait_for_cf_refit()
        click.echo("the demo store's CF model was refitted without them")
    elif (cf_dir := cf_model_dir(assistant.settings)).is_dir():
        click.echo(f"the saved CF model ({cf_dir}) still holds their history until the next "
                   "`aisle cf fit`; their profile is no longer used meanwhile")
    if server:
        _staff_request(server, "/api/forget", token, {"customer": customer})
        click.echo(f"{server}: cleared from the running server's memory")


def _staff_request(server: str, path: str, token: str | None, body: dict | None = None,
                   query: dict | None = None) -> dict:
    """Call a running server's staff API; errors become clean click errors."""
    import urllib.error
    import urllib.parse
    import urllib.request

    if not token:
        raise click.ClickException("a staff token is required: pass --token or set AISLE_STAFF_TOKEN")
    url = f"{server.rstrip('/')}{path}" + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = {"X-Staff-Token": token}
    data = None
    if body is not None:
        data, headers["content-type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        raise click.ClickException(f"{err.code}: {json.loads(err.read() or b'{}').get('detail', err.reason)}") from None
    except (urllib.error.URLError, OSError) as err:
        raise click.ClickException(f"cannot reach {server}: {err}") from None


# ---------------------------------------------------------------------------- cf


@main.group("cf")
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
    from assistant.behaviour import ModelFitError, build_interactions, make_cf_model
    from assistant.ingest.tabular import DataFileError

    settings = _settings(ctx, index_name=name, cf_model=model_name)
    try:
        log, segments = _read_logs(settings, events, customers, maps)
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
    except (DataFileError, ModelFitError, ValueError, *STORE_ERRORS) as err:
        raise click.ClickException(str(err)) from None
    from assistant.privacy.keys import forgotten as forgotten_pseudonyms
    folder = model.save(cf_model_dir(settings), forgotten=forgotten_pseudonyms(settings.state_dir))
    click.echo(f"{settings.cf_model} model fitted in {model.fit_seconds:.1f} s on {len(model.data.users)} shoppers "
               f"and {len(model.data.items)} products; saved to {folder}")
    ctx.exit(EXIT_SOME_REJECTED if log.report.rejected else 0)


# ---------------------------------------------------------------------------- eval


@main.group("eval")
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
    from assistant.behaviour import ModelFitError, cf_model_names
    from assistant.evaluation.metrics import evaluate_cf, format_table
    from assistant.ingest.tabular import DataFileError

    settings: Settings = ctx.obj
    if not events:
        from assistant.demo import customers_path, events_path
        events, customers = (events_path(),), customers or (customers_path(),)
    names = [m.strip() for m in (models or ",".join(cf_model_names())).split(",") if m.strip()]
    unknown = [m for m in names if m not in cf_model_names()]
    if unknown:
        raise click.BadParameter(f"unknown model(s) {', '.join(unknown)}", param_hint="--models")
    try:
        log, segments = _read_logs(settings, events, customers, maps)
        if log.report.rejected:
            click.echo(log.report.format(limit=10), err=True)
        results = evaluate_cf(log, segments, names, k)
    except (DataFileError, ModelFitError) as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps({"k": k, "events": len(log), "results": [r.to_dict() for r in results]}, indent=2))
        return
    click.echo(f"{len(log)} events; temporal leave-last-out, K={k}")
    click.echo(format_table(results, k))


@eval_group.command("requests")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Labelled requests (JSONL; default: the demo store's set shipped with Aisle).")
@click.option("--index", "name", default=None, help="Index to evaluate (default: the configured one).")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="Cut-off for the metrics.")
@click.option("--llm", "with_llm", is_flag=True, help="Also run the hybrid with the LLM rerank (slow).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def eval_requests(ctx: click.Context, path: Path | None, name: str | None, k: int, with_llm: bool,
                  as_json: bool) -> None:
    """Content-only, CF-only and hybrid ranking side by side on labelled shopper requests.

    Prints hard-constraint satisfaction, NDCG@K, precision@K, segment fit and parse accuracy.
    """
    from assistant.service.assistant import Assistant
    from assistant.evaluation.metrics import (default_requests_path, evaluate_requests, format_request_table,
                                              load_request_cases, ranking_modes)
    from assistant.index import IndexError_

    path = path or default_requests_path()
    if not path.is_file():
        raise click.ClickException(f"no labelled request file at {path}; pass --file")
    assistant = Assistant(_settings(ctx, index_name=name))
    cases = load_request_cases(path)
    try:
        results = [evaluate_requests(assistant, cases, fusion, mode, k)
                   for mode, fusion in ranking_modes(assistant.settings.fusion).items()]
        if with_llm:
            results.append(evaluate_requests(assistant, cases, assistant.settings.fusion, "hybrid + LLM", k,
                                             use_llm=True))
    except IndexError_ as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps({"k": k, "file": str(path), "results": [r.to_dict() for r in results]}, indent=2))
        return
    click.echo(format_request_table(results, k))


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
    from assistant.behaviour import ModelFitError
    from assistant.evaluation.metrics import default_requests_path, load_request_cases
    from assistant.evaluation.fairness import evaluate_fairness
    from assistant.index import IndexError_, published_path
    from assistant.ingest.tabular import DataFileError

    settings = _settings(ctx, index_name=name)
    if not events:
        from assistant.demo import customers_path, events_path
        events, customers = (events_path(),), customers or (customers_path(),)
    cases = []
    if not no_requests:
        path = path or default_requests_path()
        if not path.is_file():
            raise click.ClickException(f"no labelled request file at {path}; pass --file or --no-requests")
        cases = load_request_cases(path)
    try:
        if settings.index_name == "demo" and published_path(settings.index_dir, "demo") is None:
            from tqdm import tqdm
            with tqdm(desc="building the demo index (once)", unit="product", file=sys.stderr,
                      disable=quiet) as bar:
                ensure_demo_index(settings, lambda done, total: bar.update(done - bar.n) if bar.total == total
                                  else bar.reset(total))
        log, segments = _read_logs(settings, events, customers, maps)
        if log.report.rejected:
            click.echo(log.report.format(limit=10), err=True)
        report = evaluate_fairness(Assistant(settings), log, segments, cases, k, request_k, list(caps),
                                   hybrid_shoppers, progress=not quiet)
    except (DataFileError, ModelFitError, IndexError_) as err:
        raise click.ClickException(str(err)) from None
    plots = report.plot(out)
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "plots": [str(p) for p in plots]}, indent=2))
        return
    click.echo(report.format())
    click.echo(f"\nplots: {', '.join(str(p) for p in plots)}")


# ---------------------------------------------------------------------------- serve


@main.command()
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Catalog file(s) to index and serve (default: the built-in demo store). Repeatable.")
@click.option("--index", "name", default=None, help="Index name to serve (default: the configured one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7860, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx: click.Context, catalogs: tuple[Path, ...], name: str | None, host: str, port: int) -> None:
    """Serve the web app (the built-in demo store unless --catalog or --index is given)."""
    from assistant.surfaces.web import serve as serve_app

    serve_app(_settings(ctx, index_name=name), catalogs=list(catalogs), host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    main()
