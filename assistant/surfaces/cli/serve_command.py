"""`aisle serve`: the web app and the JSON API on one server."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.surfaces.cli.common import settings_for


@click.command()
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Catalog file(s) to index and serve (default: the built-in demo store). Repeatable.")
@click.option("--index", "name", default=None, help="Index name to serve (default: the configured one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7860, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx: click.Context, catalogs: tuple[Path, ...], name: str | None, host: str, port: int) -> None:
    """Serve the web app (the built-in demo store unless --catalog or --index is given)."""
    from assistant.surfaces.server import serve as serve_app

    serve_app(settings_for(ctx, index_name=name), catalogs=list(catalogs), host=host, port=port)
