"""The `aisle` click group class: Aisle's own errors are caught here, once, for every command."""

from __future__ import annotations

from typing import Any

import click

from assistant.core.errors import AisleError


def own_errors() -> tuple[type[Exception], ...]:
    """The classes of Aisle's own errors: `AisleError`, plus those not yet derived from it.

    Imported only once an error is raised, so `aisle --help` stays fast.
    """
    # Transitional: these classes are being made subclasses of AisleError; until then they are named here.
    from assistant.behaviour.collaborative import ModelFitError
    from assistant.index.embedding import EmbedderUnavailable
    from assistant.index.store import IndexError_
    from assistant.rank.segments import SegmentError

    return AisleError, IndexError_, EmbedderUnavailable, SegmentError, ModelFitError


class AisleGroup(click.Group):
    """A click group that shows any of Aisle's own errors as `Error: <message>` with exit status 1 (the
    failure code), instead of a traceback; other exceptions pass through untouched."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as err:
            if isinstance(err, own_errors()):
                raise click.ClickException(str(err)) from None
            raise
