"""The Gradio web app: `build_app(assistant)` (blocks.py), the Shop tab (shop.py) and its HTML helpers
(cards.py, labels.py, text.py), the Staff tab (staff.py) and the Admin tab (admin.py).

`surfaces/server.py` mounts it on the API's FastAPI app; this package imports neither.
"""

from assistant.surfaces.web.blocks import build_app
from assistant.surfaces.web.staff import chosen_product, staff_only
from assistant.surfaces.web.cards import CSS, render_cards, render_comparison, reply_text
from assistant.surfaces.web.text import markdown_literal

__all__ = ["CSS", "build_app", "markdown_literal", "render_cards", "render_comparison", "reply_text",
           "chosen_product", "staff_only"]
