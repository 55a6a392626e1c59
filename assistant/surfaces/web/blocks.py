"""The Gradio Blocks app: a shopper chat with product cards, a staff "why" view and an admin rebuild page.

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
from assistant.service.assistant import Assistant, StoreUnavailable
from assistant.surfaces.web.cards import CARD_JS, render_cards, reply_text
from assistant.surfaces.web.text import markdown_literal, store_profile_text

EXAMPLES = ["waterproof jacket for my 6 year old under $40", "reading glasses for grandpa",
            "wireless headphones for the gym", "给我6岁的儿子买一件40美元以下的防水外套", "a birthday gift for a 5 year old"]
AUTO_SEGMENT = "let Aisle infer"
HISTORY_TURNS = 50  # chat turns kept on screen (the conversation itself lives in the Assistant)
REFUSED = "A valid staff token is required."
FEEDBACK_THANKS = {"up": "Thanks! 👍 noted.", "down": "Got it — we won't show that one again in this chat.",
                   "bought": "Great choice! 🛍️ noted."}

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

    segments = [AUTO_SEGMENT] + sorted(assistant.segments)

    def send(message: str, state: dict, segment: str):
        # The history lives in the server-side state, never taken back from the browser: a client-sent
        # chat history could name server files as Gradio file items.
        state = dict(state or {})
        history = list(state.get("history", []))
        text = str(message or "").strip()
        if not text:
            yield history, state, gr.update(), gr.update(), ""
            return
        try:
            conversation_id, rec = assistant.chat(text, state.get("conversation"),
                                                  None if segment == AUTO_SEGMENT else segment)
        except Exception as err:  # never crash the chat: say what happened
            history += [{"role": "user", "content": text},
                        {"role": "assistant", "content": f"Sorry, something went wrong: {err}"}]
            state["history"] = history[-2 * HISTORY_TURNS:]
            yield history, state, gr.update(), gr.update(), ""
            return
        history += [{"role": "user", "content": text}, {"role": "assistant", "content": reply_text(rec)}]
        state.update(conversation=conversation_id, turn=rec.turn_id, items=[i.product.id for i in rec.items],
                     history=history[-2 * HISTORY_TURNS:])
        choices = [f"{i.rank}. {i.product.title} [{i.product.id}]" for i in rec.items]
        yield (history, state, render_cards(rec.items, None, rec.turn_id, conversation_id, rec.request.currency),
               gr.update(choices=choices, value=None), "")
        try:
            reasons = assistant.explain(rec.turn_id)
        except Exception as err:
            reasons = {i.product.id: f"(no reason: {err})" for i in rec.items}
        yield history, state, render_cards(rec.items, reasons, rec.turn_id, conversation_id, rec.request.currency), gr.update(), ""

    def record(conversation_id: str, turn_id: str, product_id: str, kind: str) -> str:
        """Store one feedback through the assistant's checks; the shopper's answer either way."""
        try:
            assistant.record_feedback(conversation_id, turn_id, product_id, kind)
        except (KeyError, ValueError, StoreUnavailable) as err:
            return f"Could not record that: {err}"
        return FEEDBACK_THANKS[kind]

    def card_feedback(payload: str) -> str:
        """Called from a card's button in the browser with JSON [kind, product id, turn id, conversation id]."""
        try:
            kind, product_id, turn_id, conversation_id = (str(v) for v in json.loads(payload))
        except (ValueError, TypeError) as err:
            return f"Could not record that: {err}"
        return record(conversation_id[:64], turn_id[:64], product_id[:128], kind)

    def give_feedback(kind: str, choice: str | None, state: dict) -> str:
        if not choice or not state or not state.get("turn"):
            return "Pick a product above first."
        product_id = choice.rsplit("[", 1)[-1].rstrip("]")
        return record(state.get("conversation", ""), state["turn"], product_id, kind)

    def start_over(state: dict):
        assistant.reset_conversation((state or {}).get("conversation"))
        return [], {}, "", gr.update(choices=[], value=None), ""

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
        gr.Markdown("# 🛒 Aisle\nTell me what you're looking for — in English or 中文. Refine with "
                    "“make it blue”, “cheaper”, “show me more”, “something like the second one”.")
        with gr.Tab("Shop"):
            state = gr.State({})
            with gr.Row():
                segment = gr.Dropdown(segments, value=AUTO_SEGMENT, label="Shopping for", scale=1,
                                      elem_id="aisle-segment")
            chatbot = gr.Chatbot(label="Chat", height=300, elem_id="aisle-chat")
            with gr.Row():
                message = gr.Textbox(placeholder="e.g. a waterproof jacket for my 6-year-old under $40",
                                     show_label=False, scale=5, elem_id="aisle-message")
                send_button = gr.Button("Send", variant="primary", scale=1, elem_id="aisle-send")
            gr.Examples(EXAMPLES, inputs=message)
            cards = gr.HTML(elem_id="aisle-cards", js_on_load=CARD_JS, server_functions=[card_feedback])
            with gr.Row():
                picked = gr.Dropdown([], label="Tell us about a product", scale=3, elem_id="aisle-picked")
                up = gr.Button("👍", scale=1, elem_id="aisle-up")
                down = gr.Button("👎", scale=1, elem_id="aisle-down")
                bought = gr.Button("Bought it", scale=1, elem_id="aisle-bought")
            feedback_note = gr.Markdown(elem_id="aisle-feedback-note")
            reset = gr.Button("Start over", elem_id="aisle-reset")
            outputs = [chatbot, state, cards, picked, message]
            send_button.click(send, [message, state, segment], outputs)
            message.submit(send, [message, state, segment], outputs)
            up.click(lambda c, s: give_feedback("up", c, s), [picked, state], feedback_note)
            down.click(lambda c, s: give_feedback("down", c, s), [picked, state], feedback_note)
            bought.click(lambda c, s: give_feedback("bought", c, s), [picked, state], feedback_note)
            reset.click(start_over, [state], [chatbot, state, cards, picked, feedback_note])
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
