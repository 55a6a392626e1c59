"""The Gradio web app: a shopper chat with product cards, a staff "why" view and an admin rebuild page.

All catalog and shopper text is HTML-escaped before it reaches the page: it is untrusted data. The staff
and admin tabs need the staff token; with none configured they are off.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

from assistant.service.assistant import Assistant, StoreUnavailable, ensure_demo_index
from assistant.core.config import Settings

CSS = """
.aisle-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px;}
.aisle-card {border: 1px solid #d0d7de; border-radius: 10px; padding: 12px; background: #fff; color: #111;}
.aisle-card h4 {margin: 0 0 6px 0; font-size: 1rem;}
.aisle-rank {display: inline-block; background: #0b5; color: #fff; border-radius: 50%; width: 1.5em;
             text-align: center; margin-right: 4px; font-size: 0.8rem;}
.aisle-price {font-weight: 700; font-size: 1.05rem;}
.aisle-meta {color: #555; font-size: 0.85rem; margin: 4px 0;}
.aisle-reason {font-size: 0.9rem; margin-top: 8px; font-style: italic;}
.aisle-pending {color: #888;}
.aisle-actions {margin-top: 8px; display: flex; gap: 6px; align-items: center; flex-wrap: wrap;}
.aisle-actions button {border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; padding: 2px 8px;
                       cursor: pointer;}
.aisle-fb {font-size: 0.8rem; color: #0a6;}
@media (max-width: 480px) { .aisle-cards {grid-template-columns: 1fr;} }
"""

# Card buttons call the `card_feedback` server function; its answer is shown on the card.
CARD_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('[data-feedback]');
  if (!button) return;
  const card = button.closest('.aisle-card');
  const note = card.querySelector('.aisle-fb');
  const what = [button.dataset.feedback, card.dataset.productId, card.dataset.turn, card.dataset.conversation];
  server.card_feedback(JSON.stringify(what)).then((message) => { note.textContent = message; });
});
"""

EXAMPLES = ["waterproof jacket for my 6 year old under $40", "reading glasses for grandpa",
            "wireless headphones for the gym", "给我6岁的儿子买一件40美元以下的防水外套", "a birthday gift for a 5 year old"]
AUTO_SEGMENT = "let Aisle infer"
HISTORY_TURNS = 50  # chat turns kept on screen (the conversation itself lives in the Assistant)
FEEDBACK_THANKS = {"up": "Thanks! 👍 noted.", "down": "Got it — we won't show that one again in this chat.",
                   "bought": "Great choice! 🛍️ noted."}


def render_cards(items: list, reasons: dict[str, str] | None = None, turn_id: str = "",
                 conversation_id: str = "") -> str:
    """Product cards as HTML, every catalog value escaped; reasons when known, else a placeholder; each card
    with thumbs up / down and "bought it" buttons (handled by CARD_JS)."""
    if not items:
        return "<p>Nothing in the catalog meets all of that. Try relaxing something, e.g. “forget the budget”.</p>"
    esc = html.escape
    cards = []
    for item in items:
        p = item.product
        meta = " · ".join(esc(x) for x in (p.brand, p.color, p.size.replace("|", " / ")) if x)
        rating = f"★ {p.rating:.1f} ({p.rating_count})" if p.rating is not None else ""
        stock = "" if p.in_stock else " · <em>out of stock</em>"
        image = (f'<img src="{esc(p.image_url)}" alt="" style="max-width:100%;border-radius:6px">'
                 if p.image_url.startswith(("http://", "https://")) else "")
        reason = (reasons or {}).get(p.id)
        reason_html = (f'<div class="aisle-reason">{esc(reason)}</div>' if reason
                       else '<div class="aisle-reason aisle-pending">Writing why this fits…</div>')
        actions = ('<div class="aisle-actions"><button data-feedback="up" title="Good pick">👍</button>'
                   '<button data-feedback="down" title="Not for me">👎</button>'
                   '<button data-feedback="bought">Bought it</button><span class="aisle-fb"></span></div>')
        cards.append(f'<div class="aisle-card" data-product-id="{esc(p.id)}" data-turn="{esc(turn_id)}" '
                     f'data-conversation="{esc(conversation_id)}">{image}'
                     f'<h4><span class="aisle-rank">{item.rank}</span>{esc(p.title)}</h4>'
                     f'<div class="aisle-price">${p.price:,.2f}</div>'
                     f'<div class="aisle-meta">{meta}</div><div class="aisle-meta">{rating}{stock}</div>'
                     f'<div class="aisle-meta">{esc(p.id)}</div>{reason_html}{actions}</div>')
    return f'<div class="aisle-cards">{"".join(cards)}</div>'


def reply_text(rec) -> str:
    """The assistant's chat line for a recommendation."""
    if not rec.items:
        return "I couldn't find anything that meets all of that. Try relaxing a constraint."
    removed = sum(rec.filter_counts.values())
    zh = rec.request.language == "zh"
    if zh:
        return f"为您找到 {len(rec.items)} 件商品" + (f"（已排除 {removed} 件不符合条件的商品）。" if removed else "。")
    return f"Here are {len(rec.items)} picks" + (f" ({removed} products didn't meet your constraints)." if removed
                                                  else ".")


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
        yield (history, state, render_cards(rec.items, None, rec.turn_id, conversation_id),
               gr.update(choices=choices, value=None), "")
        try:
            reasons = assistant.explain(rec.turn_id)
        except Exception as err:
            reasons = {i.product.id: f"(no reason: {err})" for i in rec.items}
        yield history, state, render_cards(rec.items, reasons, rec.turn_id, conversation_id), gr.update(), ""

    def card_feedback(payload: str) -> str:
        """Called from a card's button in the browser with JSON [kind, product id, turn id, conversation id]."""
        try:
            kind, product_id, turn_id, conversation_id = (str(v) for v in json.loads(payload))
            assistant.record_feedback(conversation_id[:64], turn_id[:64], product_id[:128], kind)
        except (KeyError, ValueError, TypeError, StoreUnavailable) as err:
            return f"Could not record that: {err}"
        return FEEDBACK_THANKS[kind]

    def give_feedback(kind: str, choice: str | None, state: dict) -> str:
        if not choice or not state or not state.get("turn"):
            return "Pick a product above first."
        product_id = choice.rsplit("[", 1)[-1].rstrip("]")
        try:
            assistant.record_feedback(state["conversation"], state["turn"], product_id, kind)
        except (KeyError, ValueError, StoreUnavailable) as err:
            return f"Could not record that: {err}"
        return FEEDBACK_THANKS[kind]

    def start_over(state: dict):
        assistant.reset_conversation((state or {}).get("conversation"))
        return [], {}, "", gr.update(choices=[], value=None), ""

    def staff_why(token: str, turn: str, product: str, mode: str) -> str:
        if not assistant.staff_allowed(token):
            return json.dumps({"error": "a valid staff token is required" if assistant.settings.staff_token
                               else "the staff view is off: no staff token is configured"})
        product_id = resolve_product(assistant, product)
        try:
            trace = (assistant.why if mode == "why" else assistant.why_not)(turn.strip(), product_id)
        except KeyError as err:
            if mode == "why":
                trace = assistant.why_not(turn.strip(), product_id)
            else:
                trace = {"error": str(err)}
        return json.dumps(trace, indent=2, ensure_ascii=False, default=str)

    def staff_turns(token: str):
        if not assistant.staff_allowed(token):
            return gr.update(choices=[]), "<p>A valid staff token is required.</p>"
        turns = assistant.recent_turns(30)
        choices = [(f"{t.turn_id} — {t.message[:60]}", t.turn_id) for t in turns]
        feedback = assistant.shopper_data.recent(20)
        rows = "".join(f"<tr><td>{html.escape(f.kind)}</td><td>{html.escape(f.product)}</td>"
                       f"<td>{html.escape(f.turn)}</td></tr>" for f in feedback)
        return (gr.update(choices=choices, value=choices[0][1] if choices else None),
                f"<table><tr><th>feedback</th><th>product</th><th>turn</th></tr>{rows}</table>")

    def admin_rebuild(token: str, files, mapping_text: str, progress=gr.Progress()):
        if not assistant.staff_allowed(token):
            return "A valid staff token is required.", ""
        if not files:
            return "Upload one or more catalog files first.", ""
        try:
            mapping = parse_mapping(mapping_text)
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

    def admin_status(token: str) -> str:
        if not assistant.staff_allowed(token):
            return "A valid staff token is required."
        info = assistant.index_info()
        counts = info["counts"]
        return (f"**Index `{info['name']}`** — build `{info['build_id']}` ({info['built_at']}), "
                f"{info['product_count']} products, {info['embedder']['model_id']}, faiss {info['vector_index']['kind']}; "
                f"last build: {counts['loaded']} loaded, {counts['rejected']} rejected, {counts['re_embedded']} "
                f"re-embedded, {counts['reused']} reused.")

    def admin_indexes(token: str):
        if not assistant.staff_allowed(token):
            return gr.update(choices=[])
        return gr.update(choices=assistant.available_indexes(), value=assistant.settings.index_name)

    def admin_switch(token: str, name: str | None) -> str:
        if not assistant.staff_allowed(token):
            return "A valid staff token is required."
        try:
            assistant.switch_index(name or "")
        except Exception as err:
            return markdown_literal(f"Cannot switch: {err}")
        return markdown_literal(f"Now serving index {name}.")

    def admin_rollback(token: str) -> str:
        if not assistant.staff_allowed(token):
            return "A valid staff token is required."
        try:
            build = assistant.rollback_index()
        except Exception as err:
            return markdown_literal(f"Cannot roll back: {err}")
        return f"Now serving the previous build `{build}`."

    def admin_forget(token: str, customer: str) -> str:
        if not assistant.staff_allowed(token):
            return "A valid staff token is required."
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


MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def markdown_literal(text: str) -> str:
    """`text` shown as itself in a gr.Markdown: HTML escaped, Markdown syntax backslash-escaped, so a file's
    header or an error message can never become a link, an image or a tag."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", "  \n")


def parse_mapping(text: str) -> dict[str, str]:
    """"title=ProductName, price=Price (INR)" -> {"title": "ProductName", "price": "Price (INR)"}."""
    mapping = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ValueError(f"{part.strip()!r} is not FIELD=COLUMN (e.g. title=ProductName)")
        mapping[field.strip()] = column.strip()
    return mapping


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


def serve(settings: Settings, catalogs: list[Path] | None = None, host: str = "127.0.0.1",
          port: int = 7860) -> None:
    """Index the given catalogs (or the demo store) if needed, then serve the app and the API."""
    import uvicorn
    from tqdm import tqdm

    from assistant.surfaces.api import create_app

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="embedding catalog", unit="product", file=sys.stderr)
        bar.update(done - bar.n)

    if catalogs:
        summary = Assistant(settings).rebuild_index(catalogs, progress=progress)
        print(summary.report.format(limit=10))
        print(summary.format())
    elif settings.index_name == "demo":
        summary = ensure_demo_index(settings, progress=progress)
        if summary is not None:
            print(summary.format())
    if bar is not None:
        bar.close()
    from assistant.privacy.keys import DataKeyError, data_cipher, pseudonymizer
    try:  # a bad key should stop the start, not fail shoppers' requests one by one
        pseudonymizer(settings.state_dir)
        data_cipher(settings.state_dir)
    except (ValueError, DataKeyError) as err:
        raise SystemExit(f"error: {err}") from None
    assistant = Assistant(settings)
    print(f"serving index '{settings.index_name}' ({len(assistant.index.products)} products)")
    assistant.query_embedder()  # load the models before the first shopper waits for them
    assistant.cf_model
    assistant.check_published_on_a_schedule()  # damaged index or model files show in /api/health
    if assistant.language_model() is None:
        print(f"note: answering without the LLM stage ({assistant._lm_error})")
    app = create_app(assistant)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    print(f"Aisle is running: open http://{shown}:{port}  (API docs: http://{shown}:{port}/docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
