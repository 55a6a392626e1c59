"""The `aisle` click group class: Aisle's own errors are caught here, once, for every command."""

from __future__ import annotations

from typing import Any

import click

from assistant.core.errors import AisleError


class AisleGroup(click.Group):
    """A click group that shows any of Aisle's own errors as `Error: <message>` with exit status 1 (the
    failure code), instead of a traceback; other exceptions pass through untouched."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AisleError as err:
            raise click.ClickException(str(err)) from None
