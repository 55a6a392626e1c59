"""`aisle why` and `aisle forget`: staff tasks (why asks the running server's staff API)."""

from __future__ import annotations

import json

import click

from assistant.surfaces.cli.common import settings_for


@click.command()
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
    trace = staff_request(server, path, token, query={"turn_id": turn, "product_id": product})
    click.echo(json.dumps(trace, indent=2, ensure_ascii=False))


@click.command()
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

    assistant = Assistant(settings_for(ctx))
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
        staff_request(server, "/api/forget", token, {"customer": customer})
        click.echo(f"{server}: cleared from the running server's memory")


def staff_request(server: str, path: str, token: str | None, body: dict | None = None,
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
