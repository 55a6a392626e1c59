"""What the `aisle` commands share: exit codes, settings from the context, --map parsing, log reading."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from assistant.core.config import Settings
from assistant.ingest.mapping import parse_field_map

if TYPE_CHECKING:
    from assistant.ingest.segment_rules import SegmentRules

EXIT_FAILED = 1
EXIT_SOME_REJECTED = 3


def settings_for(ctx: click.Context, **overrides: object) -> Settings:
    """The settings `main` loaded, with the command's options (None leaves a setting as it is)."""
    settings: Settings = ctx.obj
    return settings.with_overrides(**overrides)


def field_map(pairs: tuple[str, ...]) -> dict[str, str]:
    """`--map FIELD=COLUMN` options as a mapping; a bad one is a usage error (exit 2)."""
    try:
        return parse_field_map(pairs)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--map") from None


def store_segment_rules(settings: Settings) -> "SegmentRules | None":
    """The store's segment rules (the `segment_rules_file` setting), checked against its segments; None
    when it sets none (the customer file's segment column is used)."""
    if settings.segment_rules_file is None:
        return None
    from assistant.ingest.segment_rules import load_segment_rules
    from assistant.rank.segments import load_segments
    return load_segment_rules(settings.segment_rules_file, known=load_segments(settings.segments_file))


def read_logs(settings: Settings, events: tuple[Path, ...], customers: tuple[Path, ...], maps: tuple[str, ...]):
    """Interaction logs and customer segments (by the store's segment rules when it has them), customer ids
    pseudonymised on reading; forgotten customers (`aisle forget`) are left out."""
    from assistant.ingest.customers import read_customers, read_events
    from assistant.privacy.keys import forgotten, pseudonymizer

    pseudonymize = pseudonymizer(settings.state_dir)
    gone = forgotten(settings.state_dir)
    log = read_events(events, pseudonymize, field_map(maps), gone, settings.limits)
    segments: dict[str, str] = {}
    if customers:
        profiles, _ = read_customers(customers, pseudonymize, forgotten=gone, limits=settings.limits,
                                     rules=store_segment_rules(settings))
        segments = {c: p.segment for c, p in profiles.items()}
    return log, segments
