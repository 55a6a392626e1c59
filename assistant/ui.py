"""The Gradio web app. For now: content search over the served index, shown as product cards.

All product text is HTML-escaped before it reaches the page: catalog content is untrusted data.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

from .assistant import Assistant, SearchHit, ensure_demo_index
from .config import Settings

CSS = """
.aisle-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px;}
.aisle-card {border: 1px solid #d0d7de; border-radius: 10px; padding: 12px; background: #fff; color: #111;}
.aisle-card h4 {margin: 0 0 6px 0; font-size: 1rem;}
.aisle-price {font-weight: 700; font-size: 1.05rem;}
.aisle-meta {color: #555; font-size: 0.85rem; margin: 4px 0;}
.aisle-desc {font-size: 0.85rem; margin-top: 6px;}
"""

EXAMPLES = ["kids rain jacket", "reading glasses for grandpa", "wireless headphones for the gym",
            "non-slip shoes for seniors", "birthday gift for a 4 year old"]


def render_cards(hits: list[SearchHit]) -> str:
    """Product cards as HTML, every catalog value escaped."""
    if not hits:
        return "<p>No matching products. Try other words.</p>"
    cards = []
    for hit in hits:
        p = hit.product
        esc = html.escape
        meta = " · ".join(esc(x) for x in (p.category, p.brand, p.color, p.size.replace("|", " / ")) if x)
        rating = f"★ {p.rating:.1f} ({p.rating_count})" if p.rating is not None else ""
        stock = "" if p.in_stock else " · <em>out of stock</em>"
        description = esc(p.description[:220] + ("…" if len(p.description) > 220 else ""))
        cards.append(
            f'<div class="aisle-card" data-product-id="{esc(p.id)}">'
            f"<h4>{esc(p.title)}</h4>"
            f'<div class="aisle-price">${p.price:,.2f}</div>'
            f'<div class="aisle-meta">{meta}</div>'
            f'<div class="aisle-meta">{rating}{stock}</div>'
            f'<div class="aisle-desc">{description}</div></div>'
        )
    return f'<div class="aisle-cards">{"".join(cards)}</div>'


def build_app(assistant: Assistant):
    """The Gradio Blocks app over one Assistant."""
    import gradio as gr

    def run_search(query: str, k: float) -> str:
        try:
            return render_cards(assistant.search(query, int(k)))
        except Exception as err:  # never crash the page on odd input; say what happened
            return f"<p>Search failed: {html.escape(str(err))}</p>"

    with gr.Blocks(title="Aisle — shopping assistant") as app:
        gr.Markdown("# Aisle\nDescribe what you are looking for; Aisle searches the store's catalog.")
        with gr.Row():
            query = gr.Textbox(label="What are you looking for?", placeholder="e.g. a waterproof jacket for my "
                               "6-year-old", scale=4, elem_id="aisle-query")
            k = gr.Slider(1, 20, value=6, step=1, label="Results", scale=1)
        button = gr.Button("Search", variant="primary", elem_id="aisle-search")
        gr.Examples(EXAMPLES, inputs=query)
        results = gr.HTML(elem_id="aisle-results")
        button.click(run_search, [query, k], results)
        query.submit(run_search, [query, k], results)
    return app


def serve(settings: Settings, catalogs: list[Path] | None = None, host: str = "127.0.0.1",
          port: int = 7860) -> None:
    """Index the given catalogs (or the demo store) if needed, then serve the app."""
    from tqdm import tqdm

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
    assistant = Assistant(settings)
    print(f"serving index '{settings.index_name}' ({len(assistant.index.products)} products)")
    assistant.query_embedder()  # load the model before the first shopper waits for it
    app = build_app(assistant)
    print(f"Aisle is running: open http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}")
    app.launch(server_name=host, server_port=port, css=CSS, show_error=False)
