"""The `aisle` command. Heavy libraries load inside the commands, so `aisle --help` stays fast.

Exit codes: 0 done; 1 failed (nothing published, the previous index keeps serving); 2 usage error;
3 index built and published, but some catalog rows were rejected (see the report).

The commands live in index_commands, shop_commands, staff_commands, cf_commands, model_commands,
store_commands, segment_commands, rank_commands, rules_commands and serve_command;
Aisle's own errors are shown once, by the group (group.py), as `Error: <message>` with exit status 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from assistant.core.config import load_settings
from assistant.surfaces.cli.common import EXIT_FAILED, EXIT_SOME_REJECTED
from assistant.surfaces.cli.group import AisleGroup
from assistant.surfaces.cli.index_commands import index
from assistant.surfaces.cli.cf_commands import cf_group
from assistant.surfaces.cli.model_commands import eval_group
from assistant.surfaces.cli.rank_commands import rank_group
from assistant.surfaces.cli.segment_commands import eval_segments
from assistant.surfaces.cli.rules_commands import rules_group
from assistant.surfaces.cli.serve_command import serve
from assistant.surfaces.cli.shop_commands import chat, recommend, search
from assistant.surfaces.cli.staff_commands import forget, why
from assistant.surfaces.cli.store_commands import prepare_completejourney
from assistant.surfaces.logs import configure_logging

__all__ = ["EXIT_FAILED", "EXIT_SOME_REJECTED", "main"]


@click.group(cls=AisleGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    configure_logging()
    try:
        ctx.obj = load_settings(config).with_overrides(index_dir=index_dir)
    except (OSError, ValueError) as err:
        raise click.ClickException(str(err)) from None


eval_group.add_command(prepare_completejourney)
eval_group.add_command(eval_segments)
for command in (index, search, recommend, chat, why, forget, rules_group, cf_group, rank_group, eval_group, serve):
    main.add_command(command)
