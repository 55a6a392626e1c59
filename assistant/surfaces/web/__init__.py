"""The Gradio web app: `build_app(assistant)` (blocks.py), the Shop tab (shop.py) and its HTML helpers
(cards.py, labels.py, text.py).

`surfaces/server.py` mounts it on the API's FastAPI app; this package imports neither.
"""

from assistant.surfaces.web.blocks import build_app, resolve_product, staff_only
from assistant.surfaces.web.cards import CSS, render_cards, render_comparison, reply_text
from assistant.surfaces.web.text import markdown_literal

__all__ = ["CSS", "build_app", "markdown_literal", "render_cards", "render_comparison", "reply_text",
           "resolve_product", "staff_only"]
