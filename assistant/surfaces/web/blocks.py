"""The Gradio Blocks app: a shopper chat with product cards (shop.py), a staff "why" view and an admin rebuild page.

All catalog and shopper text is HTML-escaped before it reaches the page: it is untrusted data. The staff
and admin tabs need the staff token; with none configured they are off.
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path
from typing import Any, Callable, TypeVar

from assistant.ingest.mapping import parse_field_map
from assistant.service.assistant import Assistant
from assistant.surfaces.web.shop import build_shop
from assistant.surfaces.web.text import markdown_literal, store_profile_text

REFUSED = "A valid staff token is required."

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


def build_app(assistant: Assistant):
    """The Gradio Blocks app over one Assistant."""
    import gradio as gr

    def why_refused() -> str:
        return json.dumps({"error": "a valid staff token is required" if assistant.settings.staff_token
                           else "the staff view is off: no staff token is configured"})

    @staff_only(assistant, why_refused)
    def staff_why(token: str, turn: str, product: str, mode: str) -> str:
        product_id = resolve_product(assistant, product)
        try:
            trace = (assistant.why if mode == "why" else assistant.why_not)(turn.strip(), product_id)
        except KeyError as err:
            if mode == "why":
                trace = assistant.why_not(turn.strip(), product_id)
            else:
                trace = {"error": str(err)}
        return json.dumps(trace, indent=2, ensure_ascii=False, default=str)

    @staff_only(assistant, lambda: (gr.update(choices=[]), "<p>A valid staff token is required.</p>"))
    def staff_turns(token: str):
        turns = assistant.recent_turns(30)
        choices = [(f"{t.turn_id} — {t.message[:60]}", t.turn_id) for t in turns]
        feedback = assistant.shopper_data.recent(20)
        rows = "".join(f"<tr><td>{html.escape(f.kind)}</td><td>{html.escape(f.product)}</td>"
                       f"<td>{html.escape(f.turn)}</td></tr>" for f in feedback)
        return (gr.update(choices=choices, value=choices[0][1] if choices else None),
                f"<table><tr><th>feedback</th><th>product</th><th>turn</th></tr>{rows}</table>")

    @staff_only(assistant, lambda: (REFUSED, ""))
    def admin_rebuild(token: str, files, mapping_text: str, progress=gr.Progress()):
        if not files:
            return "Upload one or more catalog files first.", ""
        try:
            mapping = parse_field_map(mapping_text or "")
        except ValueError as err:
            return markdown_literal(str(err)), ""
        paths = [Path(f if isinstance(f, str) else f.name) for f in (files if isinstance(files, list) else [files])]

        def report(done: int, total: int) -> None:
            progress((done, total) if total else (0, 1), desc="embedding changed products")
        try:
            summary = assistant.rebuild_index(paths, mapping=mapping, progress=report)
        except Exception as err:
            return markdown_literal(f"Rebuild failed: {err}. The previous index keeps serving."), ""
        finally:
            for path in paths:  # Gradio's copy of the upload: nothing of a catalog stays in its folder
                path.unlink(missing_ok=True)
        rows = "".join(f"<tr><td>{html.escape(r.file)}</td><td>{r.line}</td><td>{html.escape(r.reason)}</td></tr>"
                       for r in summary.report.rejections[:200])
        table = f"<table><tr><th>file</th><th>line</th><th>reason</th></tr>{rows}</table>" if rows else ""
        return markdown_literal(summary.format()), table

    @staff_only(assistant, lambda: REFUSED)
    def admin_status(token: str) -> str:
        info = assistant.index_info()
        counts = info["counts"]
        return (f"**Index `{info['name']}`** — build `{info['build_id']}` ({info['built_at']}), "
                f"{info['product_count']} products, {info['embedder']['model_id']}, faiss {info['vector_index']['kind']}; "
                f"last build: {counts['loaded']} loaded, {counts['rejected']} rejected, {counts['re_embedded']} "
                f"re-embedded, {counts['reused']} reused." + store_profile_text(assistant.store_profile()))

    @staff_only(assistant, lambda: gr.update(choices=[]))
    def admin_indexes(token: str):
        return gr.update(choices=assistant.available_indexes(), value=assistant.settings.index_name)

    @staff_only(assistant, lambda: REFUSED)
    def admin_switch(token: str, name: str | None) -> str:
        try:
            assistant.switch_index(name or "")
        except Exception as err:
            return markdown_literal(f"Cannot switch: {err}")
        return markdown_literal(f"Now serving index {name}.")

    @staff_only(assistant, lambda: REFUSED)
    def admin_rollback(token: str) -> str:
        try:
            build = assistant.rollback_index()
        except Exception as err:
            return markdown_literal(f"Cannot roll back: {err}")
        return f"Now serving the previous build `{build}`."

    @staff_only(assistant, lambda: REFUSED)
    def admin_forget(token: str, customer: str) -> str:
        if not (customer or "").strip():
            return "Enter the customer's id as it appears in the store's logs."
        removed = assistant.forget_customer(customer.strip())
        return (f"Forgotten: {removed['feedback']} feedback rows, {removed['turn']} turn logs and "
                f"{removed['traces']} in-memory traces deleted; their events are left out of every later CF fit.")

    # delete_cache: Gradio's uploads older than an hour are removed every 10 minutes (and all at restart).
    with gr.Blocks(title="Aisle — shopping assistant", delete_cache=(600, 3600)) as app:
        with gr.Tab("Shop"):
            build_shop(assistant)
        with gr.Tab("Staff", elem_id="aisle-staff-tab"):
            if not assistant.settings.staff_token:
                gr.Markdown("The staff view is off: set `AISLE_STAFF_TOKEN` to turn it on.")
            token = gr.Textbox(label="Staff token", type="password", elem_id="aisle-staff-token")
            load_turns = gr.Button("Show recent turns", elem_id="aisle-staff-load")
            turn = gr.Dropdown([], label="Conversation turn", allow_custom_value=True, elem_id="aisle-staff-turn")
            product = gr.Textbox(label="Product id or title", elem_id="aisle-staff-product")
            with gr.Row():
                why_button = gr.Button("Why was it shown?", elem_id="aisle-staff-why")
                why_not_button = gr.Button("Why not shown?", elem_id="aisle-staff-why-not")
            trace = gr.Textbox(label="Trace (JSON)", lines=24, max_lines=60, elem_id="aisle-staff-trace")
            feedback_table = gr.HTML()
            load_turns.click(staff_turns, [token], [turn, feedback_table])
            why_button.click(lambda t, tu, p: staff_why(t, tu or "", p, "why"), [token, turn, product], trace)
            why_not_button.click(lambda t, tu, p: staff_why(t, tu or "", p, "why_not"), [token, turn, product],
                                 trace)
        with gr.Tab("Admin"):
            admin_token = gr.Textbox(label="Staff token", type="password", elem_id="aisle-admin-token")
            uploads = gr.File(label="Catalog files (CSV / JSONL / Parquet)", file_count="multiple")
            mapping_box = gr.Textbox(label="Column mapping (optional)",
                                     placeholder='title=ProductName, price=Price (INR), id=SKU')
            rebuild_button = gr.Button("Rebuild index")
            rebuild_status = gr.Markdown()
            rebuild_report = gr.HTML()
            with gr.Row():
                stats_button = gr.Button("Index statistics")
                rollback_button = gr.Button("Roll back to the previous build")
            with gr.Row():
                index_choice = gr.Dropdown([], label="Published indexes", allow_custom_value=True)
                list_button = gr.Button("List indexes")
                switch_button = gr.Button("Serve this index")
            with gr.Row():
                forget_box = gr.Textbox(label="Forget a customer (id as in the store's logs)", scale=3,
                                        elem_id="aisle-forget-customer")
                forget_button = gr.Button("Forget", scale=1, variant="stop", elem_id="aisle-forget")
            forget_status = gr.Markdown(elem_id="aisle-forget-status")
            forget_button.click(admin_forget, [admin_token, forget_box], forget_status)
            rebuild_button.click(admin_rebuild, [admin_token, uploads, mapping_box], [rebuild_status, rebuild_report])
            list_button.click(admin_indexes, [admin_token], index_choice)
            switch_button.click(admin_switch, [admin_token, index_choice], rebuild_status)
            stats_button.click(admin_status, [admin_token], rebuild_status)
            rollback_button.click(admin_rollback, [admin_token], rebuild_status)
    return app


def resolve_product(assistant: Assistant, text: str) -> str:
    """A product id from an id or (part of) a title typed by staff."""
    text = (text or "").strip()
    if assistant.index.position_of(text) is not None:
        return text
    if "[" in text and text.endswith("]"):
        return text.rsplit("[", 1)[-1].rstrip("]")
    lowered = text.lower()
    for product in assistant.index.products:
        if lowered and lowered in product.title.lower():
            return product.id
    return text
