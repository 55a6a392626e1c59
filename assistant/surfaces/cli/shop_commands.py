"""`aisle search`, `aisle recommend` and `aisle chat`: what a shopper would ask, from the terminal."""

from __future__ import annotations

import json

import click

from assistant.core.money import format_price
from assistant.service.answers import summary
from assistant.surfaces.cli.common import settings_for


@click.command()
@click.argument("query")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 100), help="How many results.")
@click.option("--index", "name", default=None, help="Index name (default: the configured one).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, k: int, name: str | None, as_json: bool) -> None:
    """Content search: products whose text is nearest to QUERY."""
    from assistant.service.assistant import Assistant

    assistant = Assistant(settings_for(ctx, index_name=name))
    hits = assistant.search(query, k)
    currency = assistant.store_profile().currency if hits else ""
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo("no results")
    for hit in hits:
        p = hit.product
        details = ", ".join(x for x in (p.category, p.brand, p.color, p.audience) if x)
        click.echo(f"{hit.rank:>2}. {p.title} — {format_price(p.price, currency)} [{p.id}] ({details}) "
                   f"score {hit.score:.3f}")


def print_recommendation(rec, as_json: bool) -> None:
    """One recommendation as JSON or as numbered lines, each product with its reason."""
    if as_json:
        click.echo(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False))
        return
    removed = ", ".join(f"{name} -{count}" for name, count in rec.filter_counts.items() if count)
    click.echo(f"[turn {rec.turn_id} · segment {rec.segment} ({rec.segment_source})"
               f"{' · filters: ' + removed if removed else ''}]")
    click.echo(summary(rec))
    for c in rec.items:
        p = c.product
        details = ", ".join(x for x in (p.brand, p.color, p.size.replace("|", "/")) if x)
        reason = c.breakdown.reason.text if c.breakdown.reason else ""
        relaxes = f"\n   not an exact match: {'; '.join(c.breakdown.relaxes)}" if c.breakdown.relaxes else ""
        click.echo(f"{c.rank}. {p.title} — {format_price(p.price, rec.request.currency)} [{p.id}] ({details})"
                   + relaxes + (f"\n   {reason}" if reason else ""))


@click.command()
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

    settings = ctx.obj if use_llm is not False else settings_for(ctx, llm_model="none")
    rec = Assistant(settings).recommend(message, segment=segment, customer=customer, k=k, reasons=True)
    print_recommendation(rec, as_json)


@click.command()
@click.option("--segment", default=None, help="Shopper segment (default: inferred).")
@click.option("--customer", default=None, help="Customer id for history and segment.")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="Products per answer.")
@click.pass_context
def chat(ctx: click.Context, segment: str | None, customer: str | None, k: int) -> None:
    """A multi-turn chat in the terminal. Refine with "make it blue", "cheaper", "show me more";
    type "why N" to see why item N was recommended, "quit" to leave."""
    from assistant.service.assistant import Assistant
    from assistant.understand import Conversation

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
        last = assistant.recommend(message, conversation, segment=segment, customer=customer, k=k, reasons=True)
        print_recommendation(last, as_json=False)
