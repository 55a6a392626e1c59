"""`aisle index ...`: build, inspect, list and roll back product indexes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.core.progress import ProgressBar
from assistant.core.spark import DEFAULT_MASTER, ENGINES
from assistant.surfaces.cli.common import EXIT_FAILED, EXIT_SOME_REJECTED, field_map, settings_for
from assistant.surfaces.cli.spark_commands import ENGINE_HELP, MASTER_HELP


@click.group()
def index() -> None:
    """Build, inspect and roll back product indexes."""


@index.command("build")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="Index name (default: 'demo', or index_name in aisle.toml).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Map a canonical field to a column of the file, e.g. --map title=ProductName. Repeatable.")
@click.option("--embedder", type=click.Choice(["auto", "minilm", "use", "hashing"]), default=None,
              help="Embedding model: auto (default: use when most titles are Chinese (CJK), else "
                   "minilm), minilm (English), use (multilingual), hashing (no model; tests).")
@click.option("--encoding", default=None, metavar="CODEC",
              help="Text encoding of the catalog files: auto (default: UTF-8, UTF-16 by BOM, else detected when "
                   "confident), or a codec such as gb18030, big5, shift_jis, cp1252.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the full validation report (every rejected row) to this JSON file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True, help=ENGINE_HELP)
@click.option("--master", default=DEFAULT_MASTER, show_default=True, help=MASTER_HELP)
@click.option("--partitions", type=click.IntRange(1), default=None,
              help="With --engine spark: partitions (vector shards) to embed in (default: 2 per core).")
@click.pass_context
def index_build(ctx: click.Context, files: tuple[Path, ...], name: str | None, maps: tuple[str, ...],
                embedder: str | None, encoding: str | None, report_path: Path | None, quiet: bool,
                engine: str, master: str, partitions: int | None) -> None:
    """Build an index from catalog FILES (CSV, TSV, JSONL, Parquet; optionally .gz).

    Only products whose text changed since the published build are re-embedded. Bad rows are
    reported with file, line and reason; the good rows still load. With --engine spark the catalog is
    embedded by Spark in partitions (the same model in each executor; every product, unchanged ones too),
    the vector index trained on a sample and filled shard by shard; the build published is the same.

    Exit status: 0 built; 3 built, some rows rejected; 1 failed (the previous index keeps serving).
    """
    from assistant.service.assistant import Assistant
    from assistant.ingest.catalog import CatalogError
    from assistant.index.embedding import EmbedderUnavailable
    from assistant.index import IndexError_

    from assistant.ingest.encodings import check_codec

    if encoding is not None and encoding != "auto":
        try:
            check_codec(encoding)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--encoding") from None
    settings = settings_for(ctx, index_name=name, embedder=embedder, catalog_encoding=encoding)
    mapping = field_map(maps)
    # Not left to `main`: a failed build also says that the previous index keeps serving.
    try:
        with ProgressBar("embedding", disable=quiet) as progress:
            if engine == "spark":
                from assistant.surfaces.cli.spark_commands import spark_index_build
                summary = spark_index_build(settings, files, mapping, master, partitions, progress)
            else:
                summary = Assistant(settings).rebuild_index(files, mapping=mapping, progress=progress)
    except (CatalogError, EmbedderUnavailable, IndexError_, ValueError, OSError) as err:
        click.echo(f"Error: {err}", err=True)
        click.echo("Nothing was published; the previous index (if any) keeps serving.", err=True)
        ctx.exit(EXIT_FAILED)
    click.echo(summary.report.format(limit=20))
    click.echo(summary.format())
    if report_path is not None:
        report_path.write_text(json.dumps(summary.report.to_dict(), indent=1, ensure_ascii=False), encoding="utf-8")
        click.echo(f"full report written to {report_path}")
    ctx.exit(EXIT_SOME_REJECTED if summary.rejected else 0)


@index.command("info")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the whole manifest and store profile as JSON.")
@click.option("--quality", is_flag=True, help="Also show the catalog-quality report (missing fields, duplicates, "
              "very short or very long descriptions).")
@click.pass_context
def index_info(ctx: click.Context, name: str | None, as_json: bool, quality: bool) -> None:
    """Show what an index holds (default: the configured index): its build, and the store profile built with
    it (colour families, brands, audiences, sizes, categories, currency, languages, how well each field is
    filled)."""
    from assistant.service.assistant import Assistant

    assistant = Assistant(settings_for(ctx, index_name=name))
    manifest = assistant.index_info()
    profile = assistant.store_profile()
    if as_json:
        click.echo(json.dumps({**manifest, "profile": profile.summary(), "quality": profile.quality},
                              indent=2, ensure_ascii=False))
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
        "store profile:",
    ]
    for key, value in profile.summary().items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "(none)"
        lines.append(f"  {key}: {value}")
    if quality:
        lines.append("catalog quality:")
        lines += [f"  {key}: {value}" for key, value in profile.quality.items()]
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
    from assistant.index import rollback

    settings = settings_for(ctx, index_name=name)
    build = rollback(settings.index_dir, settings.index_name)
    click.echo(f"index '{settings.index_name}' now serves build {build.name}")


@index.command("preview")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN", help="Map a field to a column, as for build.")
@click.option("--rows", type=click.IntRange(0, 50), default=5, show_default=True, help="First rows to show.")
@click.option("--json", "as_json", is_flag=True, help="Everything as JSON.")
@click.pass_context
def index_preview(ctx: click.Context, file: Path, maps: tuple[str, ...], rows: int, as_json: bool) -> None:
    """Before a build: FILE's columns with their detected type and fill, the field each maps to, the currency
    and which fields stay empty (reads the first 200 rows only)."""
    from assistant.ingest.preview import preview_catalog
    from assistant.ingest.tabular import DataFileError

    settings = settings_for(ctx)
    try:
        found = preview_catalog(file, {**settings.column_map, **field_map(maps)}, rows=rows, limits=settings.limits,
                                encoding=settings.catalog_encoding)
    except DataFileError as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{file} ({found.format}, {found.sampled} rows sampled)")
    for column in found.columns:
        target = f"-> {column.field}" if column.field else "(not used)"
        click.echo(f"  {column.name:<24} {column.kind:<9} {column.filled:>5.0%} filled  {target:<16} "
                   f"e.g. {', '.join(column.examples)[:60]}")
    click.echo(f"currency: {found.currency or 'not named (the store setting, else USD)'}")
    if found.missing_required:
        click.echo(f"MISSING required: {', '.join(found.missing_required)} (map them with --map FIELD=COLUMN)")
    if found.empty_fields:
        click.echo(f"empty after mapping: {', '.join(found.empty_fields)}")
    for note in found.notes[:5]:
        click.echo(f"note: {note}")
