"""The Gradio Blocks app: the shopper's chat with product cards (shop.py), the staff "why" view and
merchandising rules (staff.py) and the operator's catalog desk (admin.py).

All catalog and shopper text is HTML-escaped before it reaches the page: it is untrusted data. The staff
and admin tabs need the staff token; with none configured they are off.
"""

from __future__ import annotations

from assistant.service.assistant import Assistant
from assistant.surfaces.web.admin import build_admin
from assistant.surfaces.web.shop import build_shop
from assistant.surfaces.web.staff import build_staff


def build_app(assistant: Assistant):
    """The Gradio Blocks app over one Assistant."""
    import gradio as gr

    # delete_cache: Gradio's uploads older than an hour are removed every 10 minutes (and all at restart).
    with gr.Blocks(title="Aisle — shopping assistant", delete_cache=(600, 3600)) as app:
        with gr.Tab("Shop · 购物"):  # the shopper's face is bilingual from its first word
            build_shop(assistant)
        with gr.Tab("Staff", elem_id="aisle-staff-tab"):
            build_staff(assistant)
        with gr.Tab("Admin"):
            build_admin(assistant)
    return app
