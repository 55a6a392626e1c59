"""The Staff tab: recent turns by conversation (searchable), products chosen by title, "why" and "why not" as a
sentence first with the numeric trace folded below, shoppers' feedback with product titles, and the
merchandising rules editor (pin / boost / block, audited). Every handler needs the staff token; all catalog
and shopper text is escaped before it reaches the page."""

from __future__ import annotations

import functools
import html
import json
from typing import Any, Callable, TypeVar

from assistant.service.assistant import Assistant
from assistant.service.staff_view import clock, product_choices, turn_choices
from assistant.surfaces.web.text import markdown_literal

REFUSED = "A valid staff token is required."
ACTIONS = [("Pin first", "pin"), ("Boost / bury", "boost"), ("Block", "block")]

Handler = TypeVar("Handler", bound=Callable[..., Any])


def staff_only(assistant: Assistant, refused: Callable[[], Any]) -> Callable[[Handler], Handler]:
    """Guard a staff or admin handler whose first argument is the staff token: without a valid token it
    answers `refused()` instead. `functools.wraps` keeps the handler's signature, which Gradio reads."""
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def guarded(token: str, *args: Any, **kwargs: Any) -> Any:
            if not assistant.staff_allowed(token):
                return refused()
            return handler(token, *args, **kwargs)
        return guarded  # type: ignore[return-value]
    return decorate


def chosen_product(assistant: Assistant, typed: str, picked: str | None, shown: list[str]) -> tuple[str | None, str]:
    """(product id, "") from the picked match, an exact id, or a title that only one product holds; else
    (None, what to do): staff are never given a silent first match."""
    if picked:
        return picked, ""
    text = (typed or "").strip()
    if not text:
        return None, "Type a product id or part of its title, then choose it from the matches."
    if assistant.index.position_of(text) is not None:
        return text, ""
    found = product_choices(assistant.index, text, shown)
    if len(found) == 1:
        return found[0][1], ""
    if not found:
        return None, f"No product's id or title holds “{text}”."
    return None, f"{len(found)} products match “{text}”: choose one from the matches."


def rules_table(assistant: Assistant) -> str:
    """The rules in force and the latest changes, as escaped HTML."""
    book = assistant.rules
    rows = "".join(f"<tr><td>{html.escape(r.id)}</td><td>{html.escape(r.label())}</td></tr>" for r in book.rules())
    changes = "".join(f"<li>{html.escape(e.get('time', ''))} · {html.escape(e.get('actor', ''))} · "
                      f"{html.escape(e.get('change', ''))} {html.escape(str(e.get('rule', {}).get('id', '')))}</li>"
                      for e in reversed(book.history(10)))
    warning = f"<p><b>{html.escape(book.warning)}</b></p>" if book.warning else ""
    return (f"{warning}<table><tr><th>rule</th><th>what it does</th></tr>{rows or '<tr><td colspan=2>no rules'}"
            f"</table><p>Latest changes:</p><ul>{changes or '<li>none</li>'}</ul>")


def build_staff(assistant: Assistant) -> None:
    """The Staff tab's components and handlers (inside a `gr.Tab`)."""
    import gradio as gr

    def shown_ids(turn_id: str | None) -> list[str]:
        record = assistant.traces.find(turn_id or "") if turn_id else None
        return [c.product.id for c in record.result.candidates] if record else []

    @staff_only(assistant, lambda: (gr.update(choices=[]), "<p>A valid staff token is required.</p>"))
    def staff_turns(token: str, search: str = ""):
        choices = turn_choices(assistant.recent_turns(200), search or "")
        rows = []
        for f in assistant.shopper_data.recent(20):
            position = assistant.index.position_of(f.product)
            title = assistant.index.products[position].title if position is not None else ""
            rows.append(f"<tr><td>{html.escape(clock(f.created))}</td><td>{html.escape(f.kind)}</td>"
                        f"<td>{html.escape(title or f.product)}</td><td>{html.escape(f.turn)}</td></tr>")
        return (gr.update(choices=choices, value=choices[0][1] if choices else None),
                "<table><tr><th>when</th><th>feedback</th><th>product</th><th>turn</th></tr>"
                + "".join(rows) + "</table>")

    @staff_only(assistant, lambda: gr.update(choices=[]))
    def staff_matches(token: str, typed: str, turn_id: str | None):
        found = product_choices(assistant.index, typed or "", shown_ids(turn_id))
        return gr.update(choices=found, value=found[0][1] if len(found) == 1 else None)

    def refused_why() -> tuple[str, str]:
        error = ("a valid staff token is required" if assistant.settings.staff_token
                 else "the staff view is off: no staff token is configured")
        return markdown_literal(error), json.dumps({"error": error})

    @staff_only(assistant, refused_why)
    def staff_why(token: str, turn: str | None, typed: str, picked: str | None, mode: str) -> tuple[str, str]:
        product_id, problem = chosen_product(assistant, typed, picked, shown_ids(turn))
        if product_id is None:
            return markdown_literal(problem), json.dumps({"error": problem})
        try:
            trace = (assistant.why if mode == "why" else assistant.why_not)((turn or "").strip(), product_id)
        except KeyError as err:
            if mode != "why":
                return markdown_literal(str(err).strip("'\"")), json.dumps({"error": str(err)})
            trace = assistant.why_not((turn or "").strip(), product_id)  # not shown: say why not
        return markdown_literal(trace.get("summary", "")), json.dumps(trace, indent=2, ensure_ascii=False, default=str)

    @staff_only(assistant, lambda: (REFUSED, ""))
    def add_rule(token: str, action: str, typed: str, picked: str | None, turn: str | None, brand: str, query: str,
                 category: str, segment: str | None, boost: float, note: str) -> tuple[str, str]:
        from assistant.rank.rules import MerchRule, RuleError

        product = ""
        if not (brand or "").strip():
            product, problem = chosen_product(assistant, typed, picked, shown_ids(turn))
            if product is None:
                return markdown_literal(problem + " (or give a brand)"), rules_table(assistant)
        try:
            rule = assistant.rules.add(MerchRule.from_dict({
                "id": assistant.rules.new_id(), "action": action or "", "product": product, "brand": brand or "",
                "query": query or "", "category": category or "", "segment": segment or "",
                "boost": float(boost or 0.0) if action == "boost" else 0.0, "note": note or ""}), "web (staff token)")
        except RuleError as err:
            return markdown_literal(str(err)), rules_table(assistant)
        return markdown_literal(f"Added {rule.label()}. It applies from the next answer."), rules_table(assistant)

    @staff_only(assistant, lambda: (REFUSED, ""))
    def remove_rule(token: str, rule_id: str) -> tuple[str, str]:
        try:
            rule = assistant.rules.remove((rule_id or "").strip(), "web (staff token)")
        except KeyError:
            return markdown_literal(f"No rule “{rule_id}”."), rules_table(assistant)
        return markdown_literal(f"Removed {rule.label()}."), rules_table(assistant)

    @staff_only(assistant, lambda: "")
    def show_rules(token: str) -> str:
        return rules_table(assistant)

    if not assistant.settings.staff_token:
        gr.Markdown("The staff view is off: set `AISLE_STAFF_TOKEN` to turn it on.")
    token = gr.Textbox(label="Staff token", type="password", elem_id="aisle-staff-token")
    with gr.Row():
        search = gr.Textbox(label="Find turns (words, a product, a turn or conversation id)", scale=3,
                            elem_id="aisle-staff-search")
        load_turns = gr.Button("Show recent turns", scale=1, elem_id="aisle-staff-load")
    turn = gr.Dropdown([], label="Conversation ▸ turn (latest first)", allow_custom_value=True,
                       elem_id="aisle-staff-turn")
    with gr.Row():
        product = gr.Textbox(label="Product: type an id or part of its title", scale=2, elem_id="aisle-staff-product")
        matches = gr.Dropdown([], label="Matching products (the turn's shown ones first)", scale=3,
                              elem_id="aisle-staff-matches")
    with gr.Row():
        why_button = gr.Button("Why was it shown?", elem_id="aisle-staff-why")
        why_not_button = gr.Button("Why not shown?", elem_id="aisle-staff-why-not")
    summary = gr.Markdown(elem_id="aisle-staff-summary")
    with gr.Accordion("Full trace (scores, pools, filters)", open=False):
        trace = gr.Textbox(label="Trace (JSON)", lines=24, max_lines=60, elem_id="aisle-staff-trace")
    feedback_table = gr.HTML()
    with gr.Accordion("Merchandising rules: pin, boost or block", open=False, elem_id="aisle-rules"):
        gr.Markdown("A rule targets the product chosen above, or a brand; it holds always, or only when the "
                    "shopper's words contain the phrase, the request names the category, or for one segment. "
                    "A pinned product goes first only when it meets every constraint of the request.")
        with gr.Row():
            action = gr.Dropdown(ACTIONS, value="pin", label="Action", elem_id="aisle-rule-action")
            brand = gr.Textbox(label="…or a brand", elem_id="aisle-rule-brand")
            boost = gr.Number(0.3, label="Boost (-1 … 1, for boost)", minimum=-1, maximum=1, step=0.1)
        with gr.Row():
            query = gr.Textbox(label="When the shopper says", elem_id="aisle-rule-query")
            category = gr.Textbox(label="When the category is")
            segment = gr.Dropdown([("any", "")] + [(s.name, key) for key, s in assistant.segments.items()], value="",
                                  label="For segment")
        note = gr.Textbox(label="Why (shown in the trace)", elem_id="aisle-rule-note")
        with gr.Row():
            add_button = gr.Button("Add rule", variant="primary", elem_id="aisle-rule-add")
            rule_id = gr.Textbox(label="Rule id to remove", elem_id="aisle-rule-id")
            remove_button = gr.Button("Remove rule", variant="stop", elem_id="aisle-rule-remove")
        rule_status = gr.Markdown(elem_id="aisle-rule-status")
        rules_html = gr.HTML(elem_id="aisle-rules-table")
    load_turns.click(staff_turns, [token, search], [turn, feedback_table])
    search.submit(staff_turns, [token, search], [turn, feedback_table])
    load_turns.click(show_rules, [token], rules_html)
    product.change(staff_matches, [token, product, turn], matches)
    turn.change(staff_matches, [token, product, turn], matches)
    why_button.click(lambda t, tu, p, m: staff_why(t, tu, p, m, "why"), [token, turn, product, matches],
                     [summary, trace])
    why_not_button.click(lambda t, tu, p, m: staff_why(t, tu, p, m, "why_not"), [token, turn, product, matches],
                         [summary, trace])
    add_button.click(add_rule, [token, action, product, matches, turn, brand, query, category, segment, boost, note],
                     [rule_status, rules_html])
    remove_button.click(remove_rule, [token, rule_id], [rule_status, rules_html])
