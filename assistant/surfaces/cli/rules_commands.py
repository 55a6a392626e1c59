"""`aisle rules`: staff's merchandising rules (pin, boost or block a product or brand), kept in the state
folder's rules.json; a running server applies a change on its next turn. Every change is audited."""

from __future__ import annotations

import getpass
import json

import click

from assistant.surfaces.cli.common import settings_for


def _book(ctx: click.Context):
    from assistant.service.merchandising import RuleBook
    return RuleBook(settings_for(ctx).state_dir / "rules.json")


def _actor() -> str:
    try:
        return f"cli ({getpass.getuser()})"
    except (KeyError, OSError):
        return "cli"


@click.group("rules")
def rules_group() -> None:
    """Pin, boost or block products and brands for a query phrase, a category or a segment."""


@rules_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="The rules (and the latest audit entries) as JSON.")
@click.pass_context
def list_rules(ctx: click.Context, as_json: bool) -> None:
    """The rules in force, in the order they apply."""
    book = _book(ctx)
    rules = book.rules()
    if as_json:
        click.echo(json.dumps({"rules": [r.to_dict() for r in rules], "history": book.history(20)},
                              indent=2, ensure_ascii=False))
        return
    if book.warning:
        click.echo(f"warning: {book.warning}", err=True)
    for rule in rules:
        click.echo(rule.label())
    if not rules:
        click.echo(f"no rules ({book.path})")


@rules_group.command("add")
@click.argument("action", type=click.Choice(["pin", "boost", "block"]))
@click.option("--product", default="", help="The product id the rule is about.")
@click.option("--brand", default="", help="Or the brand (case-insensitive; not for pin).")
@click.option("--query", default="", help="Only when the shopper's words contain this phrase.")
@click.option("--category", default="", help="Only when the request names this category.")
@click.option("--segment", default="", help="Only for this segment key (e.g. retirees).")
@click.option("--boost", "amount", type=float, default=0.0, help="For boost: added to the fused score, -1..1.")
@click.option("--note", default="", help="Why (shown in the trace).")
@click.option("--id", "rule_id", default="", help="The rule's id (default: the next free r1, r2, ...).")
@click.pass_context
def add_rule(ctx: click.Context, action: str, product: str, brand: str, query: str, category: str, segment: str,
             amount: float, note: str, rule_id: str) -> None:
    """Add a rule: ACTION is pin (show the product first), boost (lift or, negative, bury) or block (never show)."""
    from assistant.rank.rules import MerchRule, RuleError

    book = _book(ctx)
    try:
        rule = book.add(MerchRule.from_dict({
            "id": rule_id or book.new_id(), "action": action, "product": product, "brand": brand, "query": query,
            "category": category, "segment": segment, "boost": amount, "note": note}), _actor())
    except RuleError as err:
        raise click.UsageError(str(err)) from None
    click.echo(f"added {rule.label()}")


@rules_group.command("remove")
@click.argument("rule_id")
@click.pass_context
def remove_rule(ctx: click.Context, rule_id: str) -> None:
    """Remove the rule RULE_ID."""
    try:
        rule = _book(ctx).remove(rule_id, _actor())
    except KeyError:
        raise click.ClickException(f"no rule {rule_id!r}") from None
    click.echo(f"removed {rule.label()}")
